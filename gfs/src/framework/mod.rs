//! The lab's fixed parts: the constants, the messages and service
//! declarations ([`rpc`]), a chunkserver's disk ([`ChunkStore`]) and the
//! record framing of record append ([`record`]). The grader relies on them
//! as they are: do not edit.

pub mod record;
pub mod rpc;
mod store;

use std::time::Duration;

pub use store::{Chunk, ChunkStore};

/// Bytes in a chunk (the paper's 64 MB, scaled down).
pub const CHUNK_SIZE: u64 = 64 * 1024;
/// Replicas of every chunk.
pub const REPLICAS: usize = 3;
/// The largest record [`crate::Client::append`] takes, framing included: a
/// quarter of a chunk, so padding wastes at most a quarter.
pub const MAX_RECORD: u64 = CHUNK_SIZE / 4;
/// How long a lease lasts once granted (the paper's 60 s, scaled down).
pub const LEASE_DURATION: Duration = Duration::from_millis(1000);
/// How often a chunkserver reports its chunks to the master.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(100);
/// A chunkserver the master has not heard from for this long is dead.
pub const DEAD_AFTER: Duration = Duration::from_millis(1000);
/// How long a client waits after a failed attempt before the next.
pub const RETRY_INTERVAL: Duration = Duration::from_millis(50);
/// How long a client tries a mutation (write or append) before it gives up
/// and returns [`rpc::GfsError::Unavailable`].
pub const MUTATION_TIMEOUT: Duration = Duration::from_secs(5);
/// The grader's bound on re-replication: from the crash of a chunkserver
/// until every chunk it held has [`REPLICAS`] live, current replicas again
/// (when enough chunkservers live).
pub const REREPLICATION_BOUND: Duration = Duration::from_secs(4);
