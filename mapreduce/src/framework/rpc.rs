//! The messages between workers and the coordinator, the same in both
//! worlds: encoded by labcodec on the simulated network, moved through
//! channels in the real runner.

use serde::{Deserialize, Serialize};

use crate::app::WorkerId;
use crate::coordinator::TaskId;

/// A worker asks for work; the reply is a
/// [`crate::coordinator::Assignment`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetTaskArgs {
    /// Who asks (for the coordinator's log and trace).
    pub worker: WorkerId,
}

/// A worker reports a task finished: every file it writes is in place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDoneArgs {
    /// Who reports.
    pub worker: WorkerId,
    /// The finished task.
    pub task: TaskId,
}

/// The coordinator cannot be reached: it exited (the job is done) or
/// crashed. A worker that sees this exits, as in 6.824.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoordinatorGone;

/// How a worker talks to its coordinator.
///
/// Implemented over labrpc in [`crate::sim`] and over channels in
/// [`crate::real`]. A call returns the coordinator's reply or
/// [`CoordinatorGone`].
#[allow(async_fn_in_trait)]
pub trait CoordinatorLink {
    /// Asks for work.
    async fn get_task(
        &self,
        args: &GetTaskArgs,
    ) -> Result<crate::coordinator::Assignment, CoordinatorGone>;
    /// Reports a finished task.
    async fn task_done(&self, args: &TaskDoneArgs) -> Result<(), CoordinatorGone>;
}
