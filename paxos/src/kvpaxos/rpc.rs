//! What kvpaxos clerks and servers say to each other.

use serde::{Deserialize, Serialize};

/// One client operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
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

/// A request: the operation and who asks, for duplicate detection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandArgs {
    // SOLUTION BEGIN
    /// The clerk's unique id.
    pub client: u64,
    /// The clerk's number for this operation, from 1; a retry carries the
    /// same number.
    pub seq: u64,
    // SOLUTION END
    // HANDOUT: // Your fields here (KV): what lets a server recognise a retried operation.
    /// What to do.
    pub op: Op,
}

/// Why a server did not execute a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvError {
    /// The operation did not get into the log in time (no majority?):
    /// try another server.
    Timeout,
}

/// A reply: the value for a Get, "" otherwise.
pub type CommandReply = Result<String, KvError>;

labrpc::service! {
    /// The KV service.
    pub service kv {
        /// Executes one operation, exactly once, linearizably.
        fn command(CommandArgs) -> CommandReply;
    }
}
