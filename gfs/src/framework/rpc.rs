//! What the master, the chunkservers and the clients say to each other.
//!
//! The master is the labrpc server `master` offering the service
//! [`master`]; chunkserver `i` is the server `cs-i` offering
//! [`chunkserver`]. Do not edit: the grader talks to your servers with
//! these types.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A chunk's globally unique name, chosen by the master.
pub type ChunkHandle = u64;
/// A chunk's version: the master raises it each time it grants a new
/// lease, so a replica that missed a lease is stale.
pub type ChunkVersion = u64;

/// The labrpc name of the master.
pub const MASTER: &str = "master";

/// The labrpc name of chunkserver `i`.
pub fn chunkserver_name(i: usize) -> String {
    format!("cs-{i}")
}

/// Why an operation did not do what was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GfsError {
    /// No such file (or, at a chunkserver, no such chunk).
    NotFound,
    /// The file already exists.
    Exists,
    /// The file has no chunk at that index (a read past its end).
    NoChunk,
    /// The chunkserver does not hold a valid lease on the chunk.
    NotPrimary,
    /// The replica's version of the chunk is not the one asked for.
    StaleVersion,
    /// The record does not fit in the rest of the chunk: the chunk was
    /// padded, append to the next one.
    ChunkFull,
    /// The data of the mutation was not pushed to this chunkserver.
    DataMissing,
    /// Beyond the end of a chunk, or a record larger than
    /// [`crate::MAX_RECORD`].
    OutOfRange,
    /// Not now (a lease is being granted, or may still be held by an
    /// unreachable primary): try again.
    Retry,
    /// No live replica, or the mutation failed for
    /// [`crate::MUTATION_TIMEOUT`].
    Unavailable,
}

impl fmt::Display for GfsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for GfsError {}

/// Names a buffer of data a client pushed to the chunkservers: the client's
/// id and a number the client never reuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DataId {
    /// The client.
    pub client: u64,
    /// Its counter.
    pub seq: u64,
}

/// A file's path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathArgs {
    /// The path (any string; there are no directories).
    pub path: String,
}

/// Every path that starts with `prefix`, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListArgs {
    /// The prefix ("" lists every file).
    pub prefix: String,
}

/// Which chunk of a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindChunkArgs {
    /// The file.
    pub path: String,
    /// The chunk's index in the file (byte offset / [`crate::CHUNK_SIZE`]).
    pub index: u64,
    /// Allocate the chunk (and any before it) if the file is shorter.
    pub create: bool,
}

/// Where a chunk lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkLocations {
    /// The chunk.
    pub handle: ChunkHandle,
    /// Its current version.
    pub version: ChunkVersion,
    /// The live chunkservers holding it at that version.
    pub replicas: Vec<String>,
}

/// Who may order mutations of a chunk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseInfo {
    /// The chunk.
    pub handle: ChunkHandle,
    /// Its version under this lease.
    pub version: ChunkVersion,
    /// The chunkserver holding the lease.
    pub primary: String,
    /// The other replicas.
    pub secondaries: Vec<String>,
}

/// A chunkserver's report: every chunk it stores, with its version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatArgs {
    /// The chunkserver's labrpc name.
    pub server: String,
    /// (handle, version) of every stored chunk.
    pub chunks: Vec<(ChunkHandle, ChunkVersion)>,
}

/// The master's answer to a heartbeat.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatReply {
    /// Garbage: delete each chunk whose stored version is at most the one
    /// given (chunks of deleted files, stale replicas).
    pub delete: Vec<(ChunkHandle, ChunkVersion)>,
}

labrpc::service! {
    /// The master: the namespace, the chunks' versions and locations, the
    /// leases.
    pub service master {
        /// Creates an empty file.
        fn create(PathArgs) -> Result<(), GfsError>;
        /// Deletes a file; its chunks become garbage.
        fn delete(PathArgs) -> Result<(), GfsError>;
        /// The paths with a prefix, in order.
        fn list(ListArgs) -> Vec<String>;
        /// How many chunks a file has.
        fn chunk_count(PathArgs) -> Result<u64, GfsError>;
        /// A chunk's handle, version and live up-to-date replicas.
        fn find_chunk(FindChunkArgs) -> Result<ChunkLocations, GfsError>;
        /// The chunk's primary and secondaries, granting a lease if none is held.
        fn find_lease(ChunkHandle) -> Result<LeaseInfo, GfsError>;
        /// A chunkserver's report.
        fn heartbeat(HeartbeatArgs) -> HeartbeatReply;
    }
}

/// A new empty chunk at version 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateChunkArgs {
    /// The chunk.
    pub handle: ChunkHandle,
}

/// The master's news of a new lease: every replica takes the new version;
/// the primary holds the lease for `lease_ms` from the moment it receives
/// this.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLeaseArgs {
    /// The chunk.
    pub handle: ChunkHandle,
    /// Its new version.
    pub version: ChunkVersion,
    /// The chunkserver granted the lease.
    pub primary: String,
    /// The other replicas.
    pub secondaries: Vec<String>,
    /// How long the lease lasts, in virtual milliseconds.
    pub lease_ms: u64,
}

/// Data for a later mutation, kept in the chunkserver's memory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushArgs {
    /// Its name.
    pub id: DataId,
    /// The bytes.
    pub data: Vec<u8>,
}

/// Part of a chunk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadArgs {
    /// The chunk.
    pub handle: ChunkHandle,
    /// The version the master reported; an older replica refuses.
    pub version: ChunkVersion,
    /// Where in the chunk.
    pub offset: u64,
    /// At most this many bytes (fewer at the end of the chunk's data).
    pub len: u64,
}

/// A write, sent to the primary once the data is pushed to every replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteArgs {
    /// The chunk.
    pub handle: ChunkHandle,
    /// Where in the chunk.
    pub offset: u64,
    /// The pushed data.
    pub data: DataId,
}

/// A record append, sent to the primary once the (framed) record is pushed
/// to every replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendArgs {
    /// The chunk (the file's last).
    pub handle: ChunkHandle,
    /// The pushed record.
    pub data: DataId,
}

/// One mutation, as the primary orders it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mutation {
    /// Write pushed data at an offset.
    Write {
        /// Where in the chunk.
        offset: u64,
        /// The pushed data.
        data: DataId,
    },
    /// Fill the chunk with zeros to [`crate::CHUNK_SIZE`].
    Pad,
}

/// The primary's order to a secondary: apply mutation number `serial`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyArgs {
    /// The chunk.
    pub handle: ChunkHandle,
    /// The version under the primary's lease.
    pub version: ChunkVersion,
    /// The mutation's place in the primary's order.
    pub serial: u64,
    /// What to do.
    pub mutation: Mutation,
}

/// The master's order to clone a chunk from another chunkserver.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyArgs {
    /// The chunk.
    pub handle: ChunkHandle,
    /// Its current version.
    pub version: ChunkVersion,
    /// A chunkserver holding it at that version.
    pub from: String,
}

labrpc::service! {
    /// A chunkserver.
    pub service chunkserver {
        /// Creates an empty chunk (from the master).
        fn create_chunk(CreateChunkArgs) -> Result<(), GfsError>;
        /// A new lease and version (from the master).
        fn new_lease(NewLeaseArgs) -> Result<(), GfsError>;
        /// Buffers data for a mutation (from a client).
        fn push_data(PushArgs) -> ();
        /// Reads part of a chunk (from a client).
        fn read(ReadArgs) -> Result<Vec<u8>, GfsError>;
        /// Orders and applies a write, as primary (from a client).
        fn write(WriteArgs) -> Result<(), GfsError>;
        /// Orders and applies a record append, as primary (from a client):
        /// the record's offset in the chunk.
        fn append(AppendArgs) -> Result<u64, GfsError>;
        /// Applies the primary's mutation, as secondary.
        fn apply(ApplyArgs) -> Result<(), GfsError>;
        /// Clones a chunk from another chunkserver (from the master).
        fn copy_chunk(CopyArgs) -> Result<(), GfsError>;
        /// The whole chunk and its version (from a chunkserver cloning it).
        fn fetch_chunk(ChunkHandle) -> Result<(ChunkVersion, Vec<u8>), GfsError>;
    }
}
