//! The Google File System (Ghemawat, Gobioff, Leung, SOSP 2003), scaled
//! for a simulation: one master, a handful of chunkservers holding
//! [`CHUNK_SIZE`] chunks in [`REPLICAS`] replicas, and a client library.
//!
//! # Guarantees (what the grader checks)
//!
//! - **Defined after serial writes.** Once [`Client::write`] returns `Ok`,
//!   every replica of the region holds the data, and reads return it.
//! - **Consistent after concurrent writes.** Writes to one region from
//!   many clients leave every replica with the same bytes.
//! - **Record append, atomically at least once.** When
//!   [`Client::append`] returns an offset, the framed record is there,
//!   intact, on every replica of its chunk; [`Client::read_records`]
//!   returns it (perhaps more than once) and nothing that was not appended.
//! - **No stale reads.** A replica that missed a lease (its version is
//!   older) is never handed out once the master knows, and is deleted.
//! - **Durability.** No acknowledged write or append is lost when a
//!   minority of a chunk's replicas crash, or when the master restarts.
//!
//! ```text
//! Master::new(chunkservers, persister)       -> Rc<Master>, served as master::service(m)
//! ChunkServer::new(me, store, master, peers) -> Rc<ChunkServer>, served as chunkserver::service(cs)
//! Client::new(id, master, chunkservers)
//!   create / delete / list                   the namespace
//!   write(path, offset, data) / read(path, offset, len)
//!   append(path, record) -> offset / read_records(path)
//! ```

mod chunkserver;
mod client;
pub mod framework;
mod master;

pub use chunkserver::ChunkServer;
pub use client::Client;
pub use framework::rpc::{
    ChunkHandle, ChunkLocations, ChunkVersion, FindChunkArgs, GfsError, LeaseInfo, MASTER,
    PathArgs, chunkserver_name,
};
pub use framework::{
    CHUNK_SIZE, Chunk, ChunkStore, DEAD_AFTER, HEARTBEAT_INTERVAL, LEASE_DURATION, MAX_RECORD,
    MUTATION_TIMEOUT, REPLICAS, REREPLICATION_BOUND, RETRY_INTERVAL, record,
};
pub use master::Master;
