//! The client library (A, B): the file operations an application calls.
//! It asks the master where chunks are and who holds their leases,
//! caches the answers, and moves data to and from the chunkservers
//! directly.

mod chunks;

use std::collections::BTreeMap;

use labrpc::ClientEnd;

use crate::framework::rpc::GfsError;
// SOLUTION BEGIN
use std::cell::{Cell, RefCell};

use crate::framework::rpc::{
    ChunkHandle, ChunkLocations, LeaseInfo, ListArgs, PathArgs, chunkserver, master,
};
use crate::framework::{CHUNK_SIZE, MAX_RECORD, record};
use chunks::Op;
// SOLUTION END
// HANDOUT:

/// A client of the file system. Every operation retries through lost
/// messages, dead chunkservers and a restarting master; a mutation gives
/// up with [`GfsError::Unavailable`] after [`crate::MUTATION_TIMEOUT`].
pub struct Client {
    // SOLUTION BEGIN
    id: u64,
    master: master::Client,
    chunkservers: BTreeMap<String, chunkserver::Client>,
    /// (path, chunk index) -> where the chunk is.
    locations: RefCell<BTreeMap<(String, u64), ChunkLocations>>,
    /// Chunk -> its lease, as the master last said.
    leases: RefCell<BTreeMap<ChunkHandle, LeaseInfo>>,
    /// Path -> the index of the chunk this client last appended to.
    last_chunk: RefCell<BTreeMap<String, u64>>,
    next_data: Cell<u64>,
    // SOLUTION END
    // HANDOUT: // Your state here (A, B).
}

impl Client {
    /// A client with a unique `id`, reaching the master through `master`
    /// and chunkserver `name` through `chunkservers[name]`.
    pub fn new(id: u64, master: ClientEnd, chunkservers: BTreeMap<String, ClientEnd>) -> Client {
        // SOLUTION BEGIN
        let chunkservers = chunkservers
            .into_iter()
            .map(|(n, e)| {
                (
                    n,
                    chunkserver::Client::new(e).with_timeout(chunks::CALL_TIMEOUT),
                )
            })
            .collect();
        Client {
            id,
            master: master::Client::new(master),
            chunkservers,
            locations: RefCell::new(BTreeMap::new()),
            leases: RefCell::new(BTreeMap::new()),
            last_chunk: RefCell::new(BTreeMap::new()),
            next_data: Cell::new(0),
        }
        // SOLUTION END
        // HANDOUT: let _ = (id, master, chunkservers);
        // HANDOUT: labrpc::not_implemented!("GFS A (Client::new)")
    }

    /// Creates an empty file; `Exists` if there is one.
    pub async fn create(&self, path: &str) -> Result<(), GfsError> {
        // SOLUTION BEGIN
        let args = PathArgs { path: path.into() };
        let args = &args;
        self.ask_master(|m| async move { m.create(args).await })
            .await
        // SOLUTION END
        // HANDOUT: let _ = path;
        // HANDOUT: labrpc::not_implemented!("GFS A (Client::create)")
    }

    /// Deletes a file; `NotFound` if there is none.
    pub async fn delete(&self, path: &str) -> Result<(), GfsError> {
        // SOLUTION BEGIN
        let args = PathArgs { path: path.into() };
        self.locations.borrow_mut().retain(|(p, _), _| p != path);
        let args = &args;
        self.ask_master(|m| async move { m.delete(args).await })
            .await
        // SOLUTION END
        // HANDOUT: let _ = path;
        // HANDOUT: labrpc::not_implemented!("GFS A (Client::delete)")
    }

    /// The paths starting with `prefix`, in order.
    pub async fn list(&self, prefix: &str) -> Vec<String> {
        // SOLUTION BEGIN
        let args = ListArgs {
            prefix: prefix.into(),
        };
        let args = &args;
        self.ask_master(|m| async move { m.list(args).await }).await
        // SOLUTION END
        // HANDOUT: let _ = prefix;
        // HANDOUT: labrpc::not_implemented!("GFS A (Client::list)")
    }

    /// Writes `data` at byte `offset` of the file, allocating chunks as
    /// needed. `Ok` once every replica of every chunk touched applied it
    /// (a write across a chunk boundary is one mutation per chunk).
    pub async fn write(&self, path: &str, offset: u64, data: &[u8]) -> Result<(), GfsError> {
        // SOLUTION BEGIN
        let mut done = 0;
        while done < data.len() {
            let at = offset + done as u64;
            let (index, within) = (at / CHUNK_SIZE, at % CHUNK_SIZE);
            let n = ((CHUNK_SIZE - within) as usize).min(data.len() - done);
            let op = Op::Write(within, &data[done..done + n]);
            self.mutate(path, index, op).await?;
            done += n;
        }
        Ok(())
        // SOLUTION END
        // HANDOUT: let _ = (path, offset, data);
        // HANDOUT: labrpc::not_implemented!("GFS A (Client::write)")
    }

    /// Up to `len` bytes from byte `offset`, read from one replica of each
    /// chunk; shorter at the end of the file's data. `NotFound` if there is
    /// no such file.
    pub async fn read(&self, path: &str, offset: u64, len: u64) -> Result<Vec<u8>, GfsError> {
        // SOLUTION BEGIN
        let mut out = Vec::new();
        while (out.len() as u64) < len {
            let at = offset + out.len() as u64;
            let (index, within) = (at / CHUNK_SIZE, at % CHUNK_SIZE);
            let want = (CHUNK_SIZE - within).min(len - out.len() as u64);
            let got = match self.read_chunk(path, index, within, want).await {
                Err(GfsError::NoChunk) => break,
                r => r?,
            };
            let short = (got.len() as u64) < want;
            out.extend_from_slice(&got);
            if short {
                break;
            }
        }
        Ok(out)
        // SOLUTION END
        // HANDOUT: let _ = (path, offset, len);
        // HANDOUT: labrpc::not_implemented!("GFS A (Client::read)")
    }

    /// Appends `record` atomically at least once, at an offset the primary
    /// chooses; its byte offset in the file. The record is framed
    /// ([`crate::framework::record`]); framed, it must fit in
    /// [`crate::MAX_RECORD`] (else `OutOfRange`).
    pub async fn append(&self, path: &str, record: &[u8]) -> Result<u64, GfsError> {
        // SOLUTION BEGIN
        let framed = record::encode(record);
        if framed.len() as u64 > MAX_RECORD {
            return Err(GfsError::OutOfRange);
        }
        let cached = self.last_chunk.borrow().get(path).copied();
        let mut index = match cached {
            Some(i) => i,
            None => self.last_index(path).await?,
        };
        loop {
            match self.mutate(path, index, Op::Append(&framed)).await {
                Ok(within) => {
                    self.last_chunk.borrow_mut().insert(path.into(), index);
                    return Ok(index * CHUNK_SIZE + within);
                }
                Err(GfsError::ChunkFull) => index += 1,
                Err(e) => return Err(e),
            }
        }
        // SOLUTION END
        // HANDOUT: let _ = (path, record);
        // HANDOUT: labrpc::not_implemented!("GFS B (Client::append)")
    }

    /// Every record appended to the file, in file order, read from one
    /// replica of each chunk: padding and the remains of failed appends
    /// skipped, a record appended more than once (a retried append) as many
    /// times as it is found.
    pub async fn read_records(&self, path: &str) -> Result<Vec<Vec<u8>>, GfsError> {
        // SOLUTION BEGIN
        let mut records = Vec::new();
        for index in 0.. {
            let data = match self.read_chunk(path, index, 0, CHUNK_SIZE).await {
                Err(GfsError::NoChunk) => break,
                r => r?,
            };
            let mut pos = 0;
            while pos < data.len() {
                match record::decode(&data, pos) {
                    Some((payload, n)) => {
                        records.push(payload.to_vec());
                        pos += n;
                    }
                    None => pos += 1,
                }
            }
        }
        Ok(records)
        // SOLUTION END
        // HANDOUT: let _ = path;
        // HANDOUT: labrpc::not_implemented!("GFS B (Client::read_records)")
    }
}
