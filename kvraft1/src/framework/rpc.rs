//! What clerks and servers say to each other (Lab 2's messages, plus
//! `WrongLeader`), and what servers submit through `rsm`.
//!
//! Each server is one labrpc server offering the service [`kv`]
//! (`kv.get`, `kv.put`) beside Raft's. Do not edit: the grader talks to
//! your servers with these types.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How many times a key has been written; 0 for a key that does not exist.
pub type Version = u64;

/// Why an operation did not do what was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvError {
    /// The key does not exist: a Get of it, or a Put of it at a version
    /// above 0.
    NoKey,
    /// The key exists at another version: the Put was not applied.
    Version,
    /// Only a clerk returns this, never a server: a Put was sent more than
    /// once and a later attempt got [`KvError::Version`]. An earlier
    /// attempt may have been applied, or not.
    Maybe,
    /// Only a server returns this, never a clerk: this server is not the
    /// leader (or lost leadership before the request was executed): try
    /// another.
    WrongLeader,
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KvError::NoKey => "ErrNoKey",
            KvError::Version => "ErrVersion",
            KvError::Maybe => "ErrMaybe",
            KvError::WrongLeader => "ErrWrongLeader",
        })
    }
}

impl std::error::Error for KvError {}

/// A Get request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetArgs {
    /// The key to read.
    pub key: String,
}

/// A Get reply: the key's value and version, or [`KvError::NoKey`] (or
/// [`KvError::WrongLeader`]).
pub type GetReply = Result<(String, Version), KvError>;

/// A Put request: write `value` if the key's version is `version`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutArgs {
    /// The key to write.
    pub key: String,
    /// The new value.
    pub value: String,
    /// The version the writer expects the key to have (0: absent).
    pub version: Version,
}

/// A Put reply: `Ok(())` if applied, else [`KvError::Version`],
/// [`KvError::NoKey`] (or [`KvError::WrongLeader`]).
pub type PutReply = Result<(), KvError>;

/// A request a server submits through `rsm`: what goes in the Raft log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Req {
    /// A clerk's Get.
    Get(GetArgs),
    /// A clerk's Put.
    Put(PutArgs),
}

/// What executing a [`Req`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rep {
    /// A Get's reply.
    Get(GetReply),
    /// A Put's reply.
    Put(PutReply),
}

labrpc::service! {
    /// The key/value service.
    pub service kv {
        /// Reads a key, linearizably.
        fn get(GetArgs) -> GetReply;
        /// Writes a key if its version matches, linearizably.
        fn put(PutArgs) -> PutReply;
    }
}
