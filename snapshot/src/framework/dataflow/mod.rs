//! The dataflow of parts B and C: sources that can be replayed from an
//! offset, keyed word-count operators in parallel instances, optionally
//! keyed windowed-sum instances after them, one sink
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

/// The job's RPC services (their `METHODS` name what a scenario may
/// drop or delay).
pub mod services {
    pub use super::coordinator::coord;
    pub use super::output::output;
    pub use super::task::{control, stream};
}

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

/// One key's open window in a windowed-sum instance: the window's index
/// (0, 1, 2, ... for the key's records `0..W`, `W..2W`, ...), and the
/// records and the sum of their values so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenWindow {
    /// Which window of the key.
    pub index: u64,
    /// Records in it so far (fewer than the window's size).
    pub records: u64,
    /// The sum of their values.
    pub sum: u64,
}

/// A windowed-sum instance's state: every key's open window.
pub type Windows = BTreeMap<String, OpenWindow>;

/// The key of the record a windowed-sum instance emits when window
/// `index` of `key` closes: `"{key}@{index}"`.
pub fn window_key(key: &str, index: u64) -> String {
    format!("{key}@{index}")
}

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
    /// Windowed-sum instance `q`, summing the counts of partition `q`'s
    /// keys by tumbling windows (jobs with a window stage).
    Window(usize),
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
