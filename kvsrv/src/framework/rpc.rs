//! What clerks and the server say to each other.
//!
//! The server is one labrpc server offering the service [`kv`]
//! (`kv.get`, `kv.put`). Do not edit: the grader talks to your server with
//! these types.

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
    /// Only a clerk returns this, never the server: a Put's reply was
    /// lost, and a retry of it got [`KvError::Version`]. The Put may have
    /// been applied (by the lost attempt) or not (another client changed
    /// the key first).
    Maybe,
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KvError::NoKey => "ErrNoKey",
            KvError::Version => "ErrVersion",
            KvError::Maybe => "ErrMaybe",
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

/// A Get reply: the key's value and version, or [`KvError::NoKey`].
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

/// A Put reply: `Ok(())` if applied, else [`KvError::Version`] or
/// [`KvError::NoKey`].
pub type PutReply = Result<(), KvError>;

labrpc::service! {
    /// The key/value service.
    pub service kv {
        /// Reads a key.
        fn get(GetArgs) -> GetReply;
        /// Writes a key if its version matches.
        fn put(PutArgs) -> PutReply;
    }
}
