//! The master's operation log and checkpoints (D): every change of the
//! namespace or of a chunk's version is persisted before the master acts
//! on it or answers; a restarted master replays them.
// SOLUTION BEGIN

use std::collections::BTreeMap;

use labrpc::Persister;
use serde::{Deserialize, Serialize};

use crate::framework::rpc::{ChunkHandle, ChunkVersion};
use crate::master::state::{ChunkMeta, State};

/// Log entries between checkpoints.
const CHECKPOINT_EVERY: usize = 64;

/// One persisted change.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Op {
    Create(String),
    Delete(String),
    AddChunk(String, ChunkHandle),
    SetVersion(ChunkHandle, ChunkVersion),
}

/// The persisted part of the state, as a checkpoint holds it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    files: BTreeMap<String, Vec<ChunkHandle>>,
    versions: BTreeMap<ChunkHandle, ChunkVersion>,
    next_handle: ChunkHandle,
}

/// The log since the last checkpoint, and the checkpoint's bytes.
pub(crate) struct OpLog {
    persister: Persister,
    log: Vec<Op>,
    checkpoint: Vec<u8>,
}

impl OpLog {
    /// Reads the checkpoint and replays the log into a fresh state.
    pub fn recover(persister: Persister) -> (OpLog, State) {
        let checkpoint = persister.read_snapshot();
        let mut state = State::default();
        if !checkpoint.is_empty() {
            let c: Checkpoint = labrpc::labcodec::decode(&checkpoint).expect("master checkpoint");
            state.files = c.files;
            state.next_handle = c.next_handle;
            for (h, version) in c.versions {
                let meta = ChunkMeta {
                    version,
                    ..ChunkMeta::default()
                };
                state.chunks.insert(h, meta);
            }
        }
        let log_bytes = persister.read_state();
        let log: Vec<Op> = if log_bytes.is_empty() {
            Vec::new()
        } else {
            labrpc::labcodec::decode(&log_bytes).expect("master log")
        };
        for op in &log {
            apply(&mut state, op);
        }
        let oplog = OpLog {
            persister,
            log,
            checkpoint,
        };
        (oplog, state)
    }

    /// Persists `op` (already applied to `state`), checkpointing now and
    /// then.
    pub fn append(&mut self, state: &State, op: Op) {
        self.log.push(op);
        if self.log.len() >= CHECKPOINT_EVERY {
            let c = Checkpoint {
                files: state.files.clone(),
                versions: state.chunks.iter().map(|(h, m)| (*h, m.version)).collect(),
                next_handle: state.next_handle,
            };
            self.checkpoint = labrpc::labcodec::encode(&c).expect("encode checkpoint");
            self.log.clear();
        }
        let log = labrpc::labcodec::encode(&self.log).expect("encode log");
        self.persister.save(log, self.checkpoint.clone());
    }
}

/// Replays one change.
pub(crate) fn apply(state: &mut State, op: &Op) {
    match op {
        Op::Create(path) => {
            state.files.insert(path.clone(), Vec::new());
        }
        Op::Delete(path) => {
            for h in state.files.remove(path).unwrap_or_default() {
                state.chunks.remove(&h);
            }
        }
        Op::AddChunk(path, h) => {
            state.files.entry(path.clone()).or_default().push(*h);
            state.chunks.entry(*h).or_default();
            state.next_handle = state.next_handle.max(h + 1);
        }
        Op::SetVersion(h, v) => {
            if let Some(meta) = state.chunks.get_mut(h) {
                meta.version = *v;
            }
        }
    }
}
// SOLUTION END
// HANDOUT:
