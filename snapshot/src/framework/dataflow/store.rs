//! A task's durable store: its checkpointed states by checkpoint id, in
//! its node's `Persister`.

use std::collections::BTreeMap;

use labrpc::Persister;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::framework::dataflow::CheckpointId;

/// Checkpoint id -> the encoded state a task saved for it.
type Saved = BTreeMap<CheckpointId, Vec<u8>>;

fn load(p: &Persister) -> Saved {
    let bytes = p.read_state();
    if bytes.is_empty() {
        return Saved::new();
    }
    labrpc::labcodec::decode(&bytes).expect("a task's store decodes")
}

/// Saves `state` for checkpoint `id`; the bytes it takes.
pub(crate) fn put<T: Serialize>(p: &Persister, id: CheckpointId, state: &T) -> usize {
    let mut saved = load(p);
    let bytes = labrpc::labcodec::encode(state).expect("a state encodes");
    let size = bytes.len();
    saved.insert(id, bytes);
    p.save(
        labrpc::labcodec::encode(&saved).expect("encodes"),
        Vec::new(),
    );
    size
}

/// The state saved for checkpoint `id`, if any.
pub(crate) fn get<T: DeserializeOwned>(p: &Persister, id: CheckpointId) -> Option<T> {
    load(p)
        .get(&id)
        .map(|b| labrpc::labcodec::decode(b).expect("a saved state decodes"))
}

/// Forgets the states of checkpoints before `id`.
pub(crate) fn prune_below(p: &Persister, id: CheckpointId) {
    let mut saved = load(p);
    let before = saved.len();
    saved.retain(|&k, _| k >= id);
    if saved.len() != before {
        p.save(
            labrpc::labcodec::encode(&saved).expect("encodes"),
            Vec::new(),
        );
    }
}
