//! What clerks say to the controller and to the replica groups.
//!
//! Servers talk to each other (to hand shards over) through services of
//! your own design, which you add in your server files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Config, Gid};

/// One controller operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CtrlerOp {
    /// Adds groups (gid -> server names) and rebalances.
    Join(BTreeMap<Gid, Vec<String>>),
    /// Removes groups and hands their shards to the others.
    Leave(Vec<Gid>),
    /// Assigns one shard to one group.
    Move {
        /// The shard.
        shard: usize,
        /// Its new group.
        gid: Gid,
    },
    /// Reads configuration `num`, or the latest if `None` or too large.
    Query(Option<u64>),
}

/// A controller request: the operation and who asks, for duplicate
/// detection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtrlerArgs {
    /// The clerk's unique id.
    pub client: u64,
    /// The clerk's number for this operation, from 1; a retry carries the
    /// same number.
    pub seq: u64,
    /// What to do.
    pub op: CtrlerOp,
}

/// One key/value operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOp {
    /// Read a key ("" if missing).
    Get {
        /// The key.
        key: String,
    },
    /// Replace a key's value.
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Append to a key's value (to "" if missing).
    Append {
        /// The key.
        key: String,
        /// What to append.
        value: String,
    },
}

impl KvOp {
    /// The key the operation is about.
    pub fn key(&self) -> &str {
        match self {
            KvOp::Get { key } | KvOp::Put { key, .. } | KvOp::Append { key, .. } => key,
        }
    }
}

/// A key/value request to a replica group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvArgs {
    /// The clerk's unique id.
    pub client: u64,
    /// The clerk's number for this operation, from 1; a retry carries the
    /// same number.
    pub seq: u64,
    /// What to do.
    pub op: KvOp,
}

/// Why a server did not execute a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Error {
    /// This server is not the leader (or lost leadership before the
    /// request committed): try another server of the group.
    WrongLeader,
    /// This group does not serve the key's shard (now): ask the controller
    /// for the latest configuration.
    WrongGroup,
    /// The request did not commit in time: try again.
    Timeout,
}

/// The controller's reply: the configuration for a Query, the new one
/// otherwise.
pub type CtrlerReply = Result<Config, Error>;

/// A group's reply: the value for a Get, "" otherwise.
pub type KvReply = Result<String, Error>;

labrpc::service! {
    /// The shard controller's service.
    pub service ctrler {
        /// Executes one controller operation, exactly once, linearizably.
        fn command(CtrlerArgs) -> CtrlerReply;
    }
}

labrpc::service! {
    /// A replica group's key/value service.
    pub service shardkv {
        /// Executes one key/value operation, exactly once, linearizably,
        /// if the group serves the key's shard.
        fn command(KvArgs) -> KvReply;
    }
}
