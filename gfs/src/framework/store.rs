//! A chunkserver's disk: its chunks, each with a version and its bytes.
//!
//! The store outlives the chunkserver: the grader keeps it across a crash
//! and hands it to the restarted chunkserver, as a disk survives a reboot
//! (what a chunkserver keeps only in memory does not). The grader also
//! reads it to see what every replica holds.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::framework::CHUNK_SIZE;
use crate::framework::rpc::{ChunkHandle, ChunkVersion, GfsError};

/// One stored chunk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chunk {
    /// The version the chunkserver last recorded for it.
    pub version: ChunkVersion,
    /// Its bytes: as long as the furthest byte written (at most
    /// [`CHUNK_SIZE`]); never-written bytes before that are zeros.
    pub data: Vec<u8>,
}

/// The chunks of one chunkserver.
#[derive(Debug, Default)]
pub struct ChunkStore {
    chunks: RefCell<BTreeMap<ChunkHandle, Chunk>>,
}

impl ChunkStore {
    /// An empty disk.
    pub fn new() -> Rc<ChunkStore> {
        Rc::new(ChunkStore::default())
    }

    /// Creates an empty chunk at `version`; false (and no change) if the
    /// chunk exists.
    pub fn create(&self, handle: ChunkHandle, version: ChunkVersion) -> bool {
        let mut chunks = self.chunks.borrow_mut();
        if chunks.contains_key(&handle) {
            return false;
        }
        chunks.insert(
            handle,
            Chunk {
                version,
                data: Vec::new(),
            },
        );
        true
    }

    /// The stored version of a chunk.
    pub fn version(&self, handle: ChunkHandle) -> Option<ChunkVersion> {
        self.chunks.borrow().get(&handle).map(|c| c.version)
    }

    /// Records a new version; `NotFound` if there is no such chunk.
    pub fn set_version(&self, handle: ChunkHandle, version: ChunkVersion) -> Result<(), GfsError> {
        let mut chunks = self.chunks.borrow_mut();
        let chunk = chunks.get_mut(&handle).ok_or(GfsError::NotFound)?;
        chunk.version = version;
        Ok(())
    }

    /// Bytes stored in a chunk (the furthest byte written).
    pub fn len(&self, handle: ChunkHandle) -> Option<u64> {
        self.chunks
            .borrow()
            .get(&handle)
            .map(|c| c.data.len() as u64)
    }

    /// Up to `len` bytes from `offset` (fewer at the end of the data).
    pub fn read(&self, handle: ChunkHandle, offset: u64, len: u64) -> Result<Vec<u8>, GfsError> {
        let chunks = self.chunks.borrow();
        let chunk = chunks.get(&handle).ok_or(GfsError::NotFound)?;
        let start = (offset as usize).min(chunk.data.len());
        let end = (offset.saturating_add(len) as usize).min(chunk.data.len());
        Ok(chunk.data[start..end].to_vec())
    }

    /// Writes `data` at `offset`, filling any gap before it with zeros;
    /// `OutOfRange` (and no change) past [`CHUNK_SIZE`].
    pub fn write(&self, handle: ChunkHandle, offset: u64, data: &[u8]) -> Result<(), GfsError> {
        let mut chunks = self.chunks.borrow_mut();
        let chunk = chunks.get_mut(&handle).ok_or(GfsError::NotFound)?;
        let end = offset + data.len() as u64;
        if end > CHUNK_SIZE {
            return Err(GfsError::OutOfRange);
        }
        let (offset, end) = (offset as usize, end as usize);
        if chunk.data.len() < end {
            chunk.data.resize(end, 0);
        }
        chunk.data[offset..end].copy_from_slice(data);
        Ok(())
    }

    /// Fills the chunk with zeros to [`CHUNK_SIZE`].
    pub fn pad(&self, handle: ChunkHandle) -> Result<(), GfsError> {
        let mut chunks = self.chunks.borrow_mut();
        let chunk = chunks.get_mut(&handle).ok_or(GfsError::NotFound)?;
        chunk.data.resize(CHUNK_SIZE as usize, 0);
        Ok(())
    }

    /// Removes a chunk (garbage collection).
    pub fn remove(&self, handle: ChunkHandle) -> Option<Chunk> {
        self.chunks.borrow_mut().remove(&handle)
    }

    /// Stores a whole chunk (a clone from another chunkserver), replacing
    /// any chunk of that handle.
    pub fn install(&self, handle: ChunkHandle, chunk: Chunk) {
        self.chunks.borrow_mut().insert(handle, chunk);
    }

    /// A copy of one chunk.
    pub fn get(&self, handle: ChunkHandle) -> Option<Chunk> {
        self.chunks.borrow().get(&handle).cloned()
    }

    /// (handle, version) of every chunk, in handle order.
    pub fn list(&self) -> Vec<(ChunkHandle, ChunkVersion)> {
        self.chunks
            .borrow()
            .iter()
            .map(|(h, c)| (*h, c.version))
            .collect()
    }
}
