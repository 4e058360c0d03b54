//! The coordinator's task-assignment state machine: which task to hand to
//! a worker that asks, and when the job is done.
//!
//! It is pure: no I/O, no clock of its own (the caller passes `now`), no
//! RPC. The simulation ([`crate::sim`]) and the real runner
//! ([`crate::real`]) both drive this same code through
//! [`crate::job::JobTracker`].
//!
//! The rules (6.824 Lab 1):
//! - one map task per input file, `n_reduce` reduce tasks;
//! - no reduce task is handed out before every map task is done (a reduce
//!   task reads the output of all of them);
//! - a task handed out and not reported done within the job's task timeout
//!   (10 s) is handed out again, to whoever asks next; never earlier, since
//!   the job-count test catches needless re-execution;
//! - a worker that asks when nothing can be handed out is told to wait,
//!   and to exit once every reduce task is done.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::job::JobSpec;

/// A task of the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TaskId {
    /// Map task X: the X-th input.
    Map(usize),
    /// Reduce task Y: keys with `ihash(key) % n_reduce == Y`.
    Reduce(usize),
}

/// The coordinator's answer to a worker asking for work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Assignment {
    /// Run map task `task` on `file`; partition its output into `n_reduce`
    /// files `mr-<task>-<Y>`.
    Map {
        /// The map task number X.
        task: usize,
        /// The input's path, as given to the job.
        file: String,
        /// Number of reduce tasks.
        n_reduce: usize,
    },
    /// Run reduce task `task` over `mr-<X>-<task>` for every X in
    /// `0..n_map`; write `mr-out-<task>`.
    Reduce {
        /// The reduce task number Y.
        task: usize,
        /// Number of map tasks.
        n_map: usize,
    },
    /// Nothing to do now; ask again later.
    Wait,
    /// The job is done: exit.
    Exit,
}

impl Assignment {
    /// The task handed out, if any.
    pub fn task(&self) -> Option<TaskId> {
        match self {
            Assignment::Map { task, .. } => Some(TaskId::Map(*task)),
            Assignment::Reduce { task, .. } => Some(TaskId::Reduce(*task)),
            Assignment::Wait | Assignment::Exit => None,
        }
    }
}

/// The coordinator's state: which tasks are idle, running (since when) or
/// done.
pub struct Coordinator {
    // SOLUTION BEGIN
    inputs: Vec<String>,
    n_reduce: usize,
    timeout: Duration,
    /// Invariant: `maps.len() == inputs.len()`.
    maps: Vec<Slot>,
    /// Invariant: `reduces.len() == n_reduce`, and no slot leaves `Idle`
    /// before every map slot is `Done`.
    reduces: Vec<Slot>,
    // SOLUTION END
    // HANDOUT: // Your state here: the tasks, and when each was handed out.
}

// SOLUTION BEGIN
/// One task's progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Idle,
    /// Handed out at `since` (time since the job started).
    Running {
        since: Duration,
    },
    Done,
}

impl Slot {
    /// Claims the slot at `now` if it is idle or its holder timed out.
    fn claim(&mut self, now: Duration, timeout: Duration) -> bool {
        let free = match *self {
            Slot::Idle => true,
            Slot::Running { since } => now.saturating_sub(since) >= timeout,
            Slot::Done => false,
        };
        if free {
            *self = Slot::Running { since: now };
        }
        free
    }
}

fn claim_first(slots: &mut [Slot], now: Duration, timeout: Duration) -> Option<usize> {
    slots.iter_mut().position(|s| s.claim(now, timeout))
}

fn all_done(slots: &[Slot]) -> bool {
    slots.iter().all(|s| *s == Slot::Done)
}
// SOLUTION END
// HANDOUT: // Your helper types and functions here.

impl Coordinator {
    /// A coordinator for `spec` with no task handed out yet.
    pub fn new(spec: &JobSpec) -> Coordinator {
        // SOLUTION BEGIN
        Coordinator {
            inputs: spec.inputs().to_vec(),
            n_reduce: spec.n_reduce(),
            timeout: spec.task_timeout(),
            maps: vec![Slot::Idle; spec.n_map()],
            reduces: vec![Slot::Idle; spec.n_reduce()],
        }
        // SOLUTION END
        // HANDOUT: let _ = spec;
        // HANDOUT: labrpc::not_implemented!("MapReduce (coordinator): Coordinator::new")
    }

    /// What the worker asking at `now` (time since the job started, never
    /// decreasing) should do. Hands out an idle or timed-out task if the
    /// rules allow one, else `Wait`, or `Exit` once the job is done.
    pub fn assign(&mut self, now: Duration) -> Assignment {
        // SOLUTION BEGIN
        if let Some(task) = claim_first(&mut self.maps, now, self.timeout) {
            return Assignment::Map {
                task,
                file: self.inputs[task].clone(),
                n_reduce: self.n_reduce,
            };
        }
        if !all_done(&self.maps) {
            return Assignment::Wait;
        }
        if let Some(task) = claim_first(&mut self.reduces, now, self.timeout) {
            return Assignment::Reduce {
                task,
                n_map: self.maps.len(),
            };
        }
        if self.done() {
            Assignment::Exit
        } else {
            Assignment::Wait
        }
        // SOLUTION END
        // HANDOUT: let _ = (self, now);
        // HANDOUT: labrpc::not_implemented!("MapReduce (coordinator): Coordinator::assign")
    }

    /// A worker reports `task` done: its output files are in place. Late
    /// reports (after a re-issue) and repeated ones are harmless.
    pub fn complete(&mut self, task: TaskId) {
        // SOLUTION BEGIN
        let slot = match task {
            TaskId::Map(i) => self.maps.get_mut(i),
            TaskId::Reduce(i) => self.reduces.get_mut(i),
        };
        if let Some(slot) = slot {
            *slot = Slot::Done;
        }
        // SOLUTION END
        // HANDOUT: let _ = (self, task);
        // HANDOUT: labrpc::not_implemented!("MapReduce (coordinator): Coordinator::complete")
    }

    /// Whether every reduce task is done (and so the whole job).
    pub fn done(&self) -> bool {
        // SOLUTION BEGIN
        all_done(&self.reduces)
        // SOLUTION END
        // HANDOUT: let _ = self;
        // HANDOUT: labrpc::not_implemented!("MapReduce (coordinator): Coordinator::done")
    }
}
