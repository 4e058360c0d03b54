//! The dataflow of parts B and C: sources that can be replayed from an
//! offset, keyed word-count operators in parallel instances, one sink
//! writing to an external output, a checkpoint coordinator injecting
//! barriers, and a job manager that restarts the whole job from the latest
//! completed checkpoint when any of its nodes crashes.

mod align;
mod coordinator;
mod job;
mod output;
mod store;
mod task;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use align::Buffered;
pub use job::{Checkpoint, CheckpointInfo, Job, JobConfig};
pub use task::Ctx;

/// A checkpoint's id: 1, 2, 3, ... over the job's whole life (never
/// reused, even across restarts).
pub type CheckpointId = u64;

/// One record of the stream: a key and a value. Sources emit words with
/// value 1; an operator emits a key with its new count.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Record {
    /// The key (a word).
    pub key: String,
    /// The value.
    pub value: u64,
}

/// What flows on a dataflow channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// A record.
    Record(Record),
    /// Checkpoint `id`'s barrier: every record before it belongs to the
    /// checkpoint, every record after it to later ones.
    Barrier(CheckpointId),
}

/// An operator instance's state: the count of every key it has seen.
pub type Counts = BTreeMap<String, u64>;

/// The sink's state: output not committed yet, staged under the
/// checkpoint whose barrier closed it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkState {
    /// Checkpoint id -> the records received before its barrier and after
    /// the previous one's.
    pub pending: BTreeMap<CheckpointId, Vec<Record>>,
}

/// A task of the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TaskId {
    /// Source `s`, reading partition `s` of the input.
    Source(usize),
    /// Operator instance `p`, counting the keys of partition `p`.
    Operator(usize),
    /// The sink.
    Sink,
}

/// The operator instance a key belongs to, of `instances` (a fixed hash).
pub fn partition(key: &str, instances: usize) -> usize {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in key.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    (h % instances as u64) as usize
}
