//! A job: its validated description, and the bookkeeping around the
//! coordinator that both worlds share.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::coordinator::{Assignment, Coordinator, TaskId};
use crate::error::MrError;

/// 6.824's number of reduce tasks.
pub const DEFAULT_N_REDUCE: usize = 10;

/// 6.824's rule: a task not reported done within this long is given to
/// another worker.
pub const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(10);

/// A job's inputs and shape.
///
/// Invariant: at least one input, every input was a readable regular file
/// when the spec was made, `n_reduce >= 1`.
#[derive(Clone, Debug)]
pub struct JobSpec {
    inputs: Vec<String>,
    n_reduce: usize,
    task_timeout: Duration,
}

impl JobSpec {
    /// A job of one map task per input (paths as given; map sees them so)
    /// and [`DEFAULT_N_REDUCE`] reduce tasks.
    ///
    /// # Errors
    /// [`MrError::NoInputs`] for an empty list, [`MrError::UnreadableInput`]
    /// naming the first input that cannot be opened for reading or is not
    /// a regular file.
    pub fn new(inputs: Vec<String>) -> Result<JobSpec, MrError> {
        if inputs.is_empty() {
            return Err(MrError::NoInputs);
        }
        for path in &inputs {
            let unreadable = |source| MrError::UnreadableInput {
                path: path.clone(),
                source,
            };
            let file = std::fs::File::open(path).map_err(unreadable)?;
            let meta = file.metadata().map_err(unreadable)?;
            if !meta.is_file() {
                return Err(unreadable(std::io::Error::other(
                    "not a regular file (a directory?)",
                )));
            }
        }
        Ok(JobSpec {
            inputs,
            n_reduce: DEFAULT_N_REDUCE,
            task_timeout: DEFAULT_TASK_TIMEOUT,
        })
    }

    /// The same job with `n` reduce tasks.
    ///
    /// # Errors
    /// [`MrError::NoReduceTasks`] if `n` is zero.
    pub fn with_n_reduce(mut self, n: usize) -> Result<JobSpec, MrError> {
        if n == 0 {
            return Err(MrError::NoReduceTasks);
        }
        self.n_reduce = n;
        Ok(self)
    }

    /// The same job with another re-issue timeout (6.824: 10 s).
    pub fn with_task_timeout(mut self, timeout: Duration) -> JobSpec {
        self.task_timeout = timeout;
        self
    }

    /// The input paths, one map task each, in task order.
    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// Number of map tasks.
    pub fn n_map(&self) -> usize {
        self.inputs.len()
    }

    /// Number of reduce tasks.
    pub fn n_reduce(&self) -> usize {
        self.n_reduce
    }

    /// How long a task may run before it is given to another worker.
    pub fn task_timeout(&self) -> Duration {
        self.task_timeout
    }
}

/// What a coordinator did over a job.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobStats {
    /// Map tasks in the job.
    pub n_map: usize,
    /// Reduce tasks in the job.
    pub n_reduce: usize,
    /// Task assignments handed out (at least `n_map + n_reduce` when done).
    pub assigned: u64,
    /// Assignments of a task that had been assigned before: re-executions
    /// after a timeout.
    pub reexecutions: u64,
    /// Distinct map tasks reported done.
    pub maps_done: usize,
    /// Distinct reduce tasks reported done.
    pub reduces_done: usize,
    /// Reports of a task that was already done (a late or re-executed
    /// worker).
    pub duplicate_reports: u64,
}

/// The [`Coordinator`] plus the statistics both worlds report. Every
/// assignment and report goes through here.
pub struct JobTracker {
    coordinator: Coordinator,
    times_assigned: BTreeMap<TaskId, u64>,
    completed: BTreeSet<TaskId>,
    stats: JobStats,
}

impl JobTracker {
    /// A tracker of a fresh coordinator for `spec`.
    pub fn new(spec: &JobSpec) -> JobTracker {
        JobTracker {
            coordinator: Coordinator::new(spec),
            times_assigned: BTreeMap::new(),
            completed: BTreeSet::new(),
            stats: JobStats {
                n_map: spec.n_map(),
                n_reduce: spec.n_reduce(),
                ..JobStats::default()
            },
        }
    }

    /// The coordinator's answer to a worker asking for work at `now`.
    pub fn assign(&mut self, now: Duration) -> Assignment {
        let a = self.coordinator.assign(now);
        if let Some(task) = a.task() {
            self.stats.assigned += 1;
            let n = self.times_assigned.entry(task).or_insert(0);
            if *n > 0 {
                self.stats.reexecutions += 1;
            }
            *n += 1;
        }
        a
    }

    /// A worker reports `task` finished (its files are in place). Reports
    /// of unknown tasks are ignored.
    pub fn complete(&mut self, task: TaskId) {
        let known = match task {
            TaskId::Map(i) => i < self.stats.n_map,
            TaskId::Reduce(i) => i < self.stats.n_reduce,
        };
        if !known {
            return;
        }
        if self.completed.insert(task) {
            match task {
                TaskId::Map(_) => self.stats.maps_done += 1,
                TaskId::Reduce(_) => self.stats.reduces_done += 1,
            }
        } else {
            self.stats.duplicate_reports += 1;
        }
        self.coordinator.complete(task);
    }

    /// Whether every reduce task is done.
    pub fn done(&self) -> bool {
        self.coordinator.done()
    }

    /// The statistics so far.
    pub fn stats(&self) -> &JobStats {
        &self.stats
    }
}
