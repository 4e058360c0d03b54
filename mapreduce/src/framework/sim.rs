//! The job on the labrpc simulator: the coordinator is a node hosting an
//! RPC server, each worker is a node, time is virtual.
//!
//! Guarantees:
//! - [`coordinator`] serves the job as the server [`COORDINATOR`] on the
//!   current node and returns once the job is done, one
//!   [`EXIT_GRACE`] after (as 6.824's `mrcoordinator`: it checks
//!   `Done()` every [`DONE_POLL`], then lingers so that workers can learn
//!   the job is over); it then deletes its server, so that workers still
//!   calling see [`crate::rpc::CoordinatorGone`].
//! - [`worker`] runs a worker of an app on the current node; the worker id
//!   apps see is the node's id. The app's `crash` crash-stops that node
//!   ([`labrpc::node::crash`]): its tasks stop at once and its in-flight
//!   files stay as they were. A restarted node gets a fresh worker.
//! - Everything is deterministic for a seed: virtual time, seeded random
//!   draws, sorted directory listings; files are real, in the directory the
//!   caller gives.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use futures::future::LocalBoxFuture;
use labrpc::{NodeId, Server, node, time};

use crate::app::{App, Ctx, Env, WorkerId};
use crate::coordinator::Assignment;
use crate::error::MrError;
use crate::job::{JobSpec, JobStats, JobTracker};
use crate::rpc::{CoordinatorGone, CoordinatorLink, GetTaskArgs, TaskDoneArgs};
use crate::worker::{WorkerReport, run_worker};

labrpc::service! {
    /// The coordinator's RPC service.
    pub service mr {
        /// A worker asks for work.
        fn get_task(GetTaskArgs) -> Assignment;
        /// A worker reports a task finished.
        fn task_done(TaskDoneArgs) -> ();
    }
}

/// The coordinator's server name on the simulated network.
pub const COORDINATOR: &str = "mr-coordinator";

/// How often the coordinator checks whether the job is done.
pub const DONE_POLL: Duration = Duration::from_secs(1);

/// How long the coordinator stays up after the job is done.
pub const EXIT_GRACE: Duration = Duration::from_secs(1);

struct CoordinatorServer {
    tracker: RefCell<JobTracker>,
    start: time::Instant,
}

impl mr::Service for CoordinatorServer {
    async fn get_task(&self, args: GetTaskArgs) -> Assignment {
        let a = self.tracker.borrow_mut().assign(self.start.elapsed());
        if let Some(task) = a.task() {
            labrpc::trace::event_with(
                "mr",
                [
                    ("assign", format!("{task:?}").into()),
                    ("worker", args.worker.into()),
                ],
            );
        }
        a
    }

    async fn task_done(&self, args: TaskDoneArgs) {
        labrpc::trace::event_with(
            "mr",
            [
                ("finished", format!("{:?}", args.task).into()),
                ("worker", args.worker.into()),
            ],
        );
        self.tracker.borrow_mut().complete(args.task);
    }
}

/// Serves `spec` from the current node until the job is done; returns the
/// coordinator's statistics. See the module docs.
pub async fn coordinator(spec: JobSpec) -> JobStats {
    let server = Rc::new(CoordinatorServer {
        tracker: RefCell::new(JobTracker::new(&spec)),
        start: time::Instant::now(),
    });
    let net = labrpc::network();
    net.add_server(
        COORDINATOR,
        node::current(),
        Server::new().add_service(mr::service(server.clone())),
    );
    while !server.tracker.borrow().done() {
        time::sleep(DONE_POLL).await;
    }
    time::sleep(EXIT_GRACE).await;
    net.delete_server(COORDINATOR);
    server.tracker.borrow().stats().clone()
}

/// Runs a worker of `A` on the current node, with files in `dir`, until
/// the job is done or the coordinator is gone.
///
/// # Errors
/// As [`run_worker`].
pub async fn worker<A: App + Default>(dir: PathBuf) -> Result<WorkerReport, MrError> {
    let me = node::current();
    let env = SimEnv { node: me };
    let link = SimLink {
        client: mr::Client::new(labrpc::network().end_to(me, COORDINATOR)),
    };
    let app = A::default();
    run_worker(&app, &Ctx::new(&env, &dir), &link).await
}

/// A worker's world in the simulation: its node, virtual time, the seeded
/// RNG.
pub struct SimEnv {
    node: NodeId,
}

impl SimEnv {
    /// The environment of a worker on `node`.
    pub fn new(node: NodeId) -> SimEnv {
        SimEnv { node }
    }
}

impl Env for SimEnv {
    fn me(&self) -> WorkerId {
        WorkerId::from(self.node.0)
    }

    fn is_alive(&self, worker: WorkerId) -> bool {
        u32::try_from(worker).is_ok_and(|id| node::is_alive(NodeId(id)))
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(time::Instant::now().as_nanos())
    }

    fn sleep(&self, d: Duration) -> LocalBoxFuture<'static, ()> {
        Box::pin(time::sleep(d))
    }

    fn crash(&self) -> LocalBoxFuture<'static, ()> {
        // Crashing drops every task of the node, including the one running
        // this code; it is dropped for good at its next await, which is
        // this pending future's.
        node::crash(self.node);
        Box::pin(std::future::pending())
    }

    fn random_below(&self, n: u64) -> u64 {
        labrpc::rand::gen_range(0..n)
    }
}

struct SimLink {
    client: mr::Client,
}

impl CoordinatorLink for SimLink {
    async fn get_task(&self, args: &GetTaskArgs) -> Result<Assignment, CoordinatorGone> {
        self.client
            .get_task(args)
            .await
            .map_err(|_| CoordinatorGone)
    }

    async fn task_done(&self, args: &TaskDoneArgs) -> Result<(), CoordinatorGone> {
        self.client
            .task_done(args)
            .await
            .map_err(|_| CoordinatorGone)
    }
}
