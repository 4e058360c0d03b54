//! What the framework sees of a task's barrier alignment from outside its
//! code: the inputs whose barrier of a checkpoint the task has not saved
//! yet has passed, the records the task took from such an input before
//! saving its state (records it must have kept aside: its alignment
//! buffer), and every time it blocked an input with no barrier waiting.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::framework::dataflow::{CheckpointId, TaskId};

/// Wrong blockings kept (the first ones; the rest are only counted).
const KEEP: usize = 5;

/// The most records one task took from one input after that input's
/// barrier and before the task saved its state for the checkpoint: what
/// its alignment buffer held at its fullest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buffered {
    /// The task.
    pub task: TaskId,
    /// Its input.
    pub input: usize,
    /// The checkpoint being aligned.
    pub checkpoint: CheckpointId,
    /// Records taken from `input` after the barrier, before the snapshot.
    pub records: usize,
}

/// The job-wide log of what the watches saw.
#[derive(Default)]
pub(crate) struct AlignLog {
    pub(crate) max: Option<Buffered>,
    pub(crate) wrong: Vec<String>,
    pub(crate) wrong_count: usize,
    /// Incremental snapshots that sent keys which had not changed.
    pub(crate) wrong_deltas: Vec<String>,
}

/// One task's watch (one attempt).
pub(crate) struct AlignWatch {
    task: TaskId,
    /// The latest checkpoint the task saved.
    saved: CheckpointId,
    /// Input -> the checkpoint whose barrier passed on it, records since.
    passed: BTreeMap<usize, (CheckpointId, usize)>,
    log: Rc<RefCell<AlignLog>>,
}

impl AlignWatch {
    pub(crate) fn new(task: TaskId, log: Rc<RefCell<AlignLog>>) -> AlignWatch {
        AlignWatch {
            task,
            saved: 0,
            passed: BTreeMap::new(),
            log,
        }
    }

    /// The job-wide log.
    pub(crate) fn log(&self) -> &Rc<RefCell<AlignLog>> {
        &self.log
    }

    /// The task said whether `input` is blocked.
    pub(crate) fn blocked(&self, input: usize, blocked: bool) {
        if !blocked || self.passed.contains_key(&input) {
            return;
        }
        let mut log = self.log.borrow_mut();
        log.wrong_count += 1;
        if log.wrong.len() < KEEP {
            let pending: Vec<usize> = self.passed.keys().copied().collect();
            log.wrong.push(format!(
                "{:?} blocked its input {input}, on which no barrier is waiting (last checkpoint it saved: {}; inputs whose barrier passed: {pending:?})",
                self.task, self.saved
            ));
        }
    }

    /// The task took a record from `input`.
    pub(crate) fn record(&mut self, input: usize) {
        let Some((checkpoint, n)) = self.passed.get_mut(&input) else {
            return;
        };
        *n += 1;
        let mut log = self.log.borrow_mut();
        if log.max.as_ref().is_none_or(|m| m.records < *n) {
            log.max = Some(Buffered {
                task: self.task,
                input,
                checkpoint: *checkpoint,
                records: *n,
            });
        }
    }

    /// The task took checkpoint `id`'s barrier from `input` (before its
    /// code runs). A barrier of a later checkpoint than one being aligned
    /// abandons it; a stale one changes nothing.
    pub(crate) fn barrier(&mut self, input: usize, id: CheckpointId) {
        if id <= self.saved || self.passed.values().any(|&(c, _)| c > id) {
            return;
        }
        self.passed.retain(|_, &mut (c, _)| c >= id);
        self.passed.entry(input).or_insert((id, 0));
    }

    /// The task saved its state for checkpoint `id`.
    pub(crate) fn saved(&mut self, id: CheckpointId) {
        self.saved = self.saved.max(id);
        self.passed.retain(|_, &mut (c, _)| c > id);
    }
}
