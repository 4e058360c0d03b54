//! What clerks, controllers and shard groups say to each other, and what
//! a shard group submits through `rsm` (given code; do not edit: the
//! grader talks to your servers with these types).
//!
//! Each shard group server is one labrpc server offering the service
//! [`shardgrp`] beside Raft's.

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use labrpc::ClientEnd;
use serde::{Deserialize, Serialize};

use super::shardcfg::{Num, ShardId};

/// How many times a key has been written; 0 for a key that does not exist.
pub type Version = u64;

/// A shard's keys: key -> (value, version).
pub type ShardData = BTreeMap<String, (String, Version)>;

/// Makes a client end to the labrpc server named `server` (a name listed
/// in a [`super::shardcfg::ShardConfig`]), from the caller's client node.
pub type MakeEnd = Rc<dyn Fn(&str) -> ClientEnd>;

/// Why a Get or Put did not do what was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvError {
    /// The key does not exist: a Get of it, or a Put of it at a version
    /// above 0.
    NoKey,
    /// The key exists at another version: the Put was not applied.
    Version,
    /// Only a clerk returns this, never a server: a Put was sent more than
    /// once and a later attempt got [`KvError::Version`]; an earlier
    /// attempt may have been applied, or not.
    Maybe,
    /// Only a server returns this: it is not the leader of its group (or
    /// lost leadership before the request was executed).
    WrongLeader,
    /// The group does not serve the key's shard (now): ask the controller
    /// for the current configuration.
    WrongGroup,
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KvError::NoKey => "ErrNoKey",
            KvError::Version => "ErrVersion",
            KvError::Maybe => "ErrMaybe",
            KvError::WrongLeader => "ErrWrongLeader",
            KvError::WrongGroup => "ErrWrongGroup",
        })
    }
}

impl std::error::Error for KvError {}

/// Why a Freeze, Install or Delete was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ShardError {
    /// This server is not the leader of its group: try another.
    WrongLeader,
    /// The group has seen a later configuration number for this shard: the
    /// request comes from a superseded controller and was not executed.
    Stale,
    /// Only a clerk returns this, never a server: no server of the group
    /// answered for a whole round (the group may be down). The request may
    /// or may not have been executed.
    Unreachable,
}

impl fmt::Display for ShardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ShardError::WrongLeader => "ErrWrongLeader",
            ShardError::Stale => "ErrStale",
            ShardError::Unreachable => "ErrUnreachable",
        })
    }
}

impl std::error::Error for ShardError {}

/// A Get request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetArgs {
    /// The key to read.
    pub key: String,
}

/// A Get reply: the key's value and version, or [`KvError::NoKey`] (or
/// [`KvError::WrongGroup`], [`KvError::WrongLeader`]).
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
/// [`KvError::NoKey`] (or [`KvError::WrongGroup`], [`KvError::WrongLeader`]).
pub type PutReply = Result<(), KvError>;

/// Stop serving `shard` and hand over its keys (configuration `num`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreezeArgs {
    /// The shard to freeze.
    pub shard: ShardId,
    /// The number of the configuration the shard is moving to.
    pub num: Num,
}

/// The shard's keys (a copy), or why not.
pub type FreezeReply = Result<ShardData, ShardError>;

/// Start serving `shard` with these keys (configuration `num`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallArgs {
    /// The shard to install.
    pub shard: ShardId,
    /// The number of the configuration the shard is moving to.
    pub num: Num,
    /// The shard's keys, as the old owner's Freeze returned them.
    pub data: ShardData,
}

/// `Ok(())` if installed (or already installed at `num`), or why not.
pub type InstallReply = Result<(), ShardError>;

/// Forget a frozen `shard` (configuration `num`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteArgs {
    /// The shard to delete.
    pub shard: ShardId,
    /// The number of the configuration the shard moved to.
    pub num: Num,
}

/// `Ok(())` if deleted (or nothing to delete), or why not.
pub type DeleteReply = Result<(), ShardError>;

/// A request a shard group server submits through `rsm`: what goes in the
/// Raft log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Req {
    /// A clerk's Get.
    Get(GetArgs),
    /// A clerk's Put.
    Put(PutArgs),
    /// A controller's FreezeShard.
    Freeze(FreezeArgs),
    /// A controller's InstallShard.
    Install(InstallArgs),
    /// A controller's DeleteShard.
    Delete(DeleteArgs),
}

/// What executing a [`Req`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rep {
    /// A Get's reply.
    Get(GetReply),
    /// A Put's reply.
    Put(PutReply),
    /// A FreezeShard's reply.
    Freeze(FreezeReply),
    /// An InstallShard's or DeleteShard's reply.
    Done(Result<(), ShardError>),
}

labrpc::service! {
    /// A shard group's service.
    pub service shardgrp {
        /// Reads a key of a shard the group serves, linearizably.
        fn get(GetArgs) -> GetReply;
        /// Writes a key of a shard the group serves if its version matches.
        fn put(PutArgs) -> PutReply;
        /// Stops serving a shard and returns its keys.
        fn freeze_shard(FreezeArgs) -> FreezeReply;
        /// Starts serving a shard with the keys given.
        fn install_shard(InstallArgs) -> InstallReply;
        /// Forgets a frozen shard.
        fn delete_shard(DeleteArgs) -> DeleteReply;
    }
}
