//! The job for real: one coordinator and N worker threads on the wall
//! clock, over the same files, apps, coordinator and worker code as the
//! simulation.
//!
//! Guarantees:
//! - The coordinator (the calling thread) drives the same
//!   [`crate::job::JobTracker`]; workers reach it through channels. A
//!   worker that asks while nothing can be handed out is parked and
//!   answered as soon as a task frees up (or times out), so no worker
//!   polls.
//! - An app's `crash` ends that worker's run (its thread unwinds with a
//!   private payload, no message printed); the thread then starts a fresh
//!   worker with a new id, as 6.824's test restarts crashed workers. A task
//!   the crashed worker held is handed out again after the task timeout.
//! - The coordinator returns as soon as the job is done; workers then
//!   learn it (`Exit`, or the channel closed) and exit.
//! - The output is the `mr-out-*` files in the job's directory; any error
//!   is an [`MrError`].

use std::collections::{BTreeSet, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use futures::future::LocalBoxFuture;

use crate::app::{App, Ctx, Env, WorkerId};
use crate::coordinator::Assignment;
use crate::error::MrError;
use crate::files::{TMP_PREFIX, list_dir};
use crate::job::{JobSpec, JobStats, JobTracker};
use crate::rpc::{CoordinatorGone, CoordinatorLink, GetTaskArgs, TaskDoneArgs};
use crate::sequential::{sequential, write_output};
use crate::worker::{WorkerReport, run_worker};

/// How often the coordinator wakes up without messages, to hand timed-out
/// tasks to parked workers.
pub const TICK: Duration = Duration::from_millis(50);

/// How to run a job.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Worker threads (at least 1).
    pub workers: usize,
    /// The job's directory (created if missing).
    pub dir: PathBuf,
}

/// What a real run did.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The coordinator's statistics.
    pub stats: JobStats,
    /// Worker threads.
    pub workers: usize,
    /// Worker runs that crashed (and were restarted).
    pub crashes: u64,
    /// Wall time from starting the workers until the job was done and
    /// every worker had exited.
    pub wall: Duration,
    /// Total size of the inputs.
    pub input_bytes: u64,
}

/// What a sequential run did.
#[derive(Clone, Debug)]
pub struct SequentialReport {
    /// Distinct keys (output lines).
    pub keys: usize,
    /// Wall time of the whole computation, output written.
    pub wall: Duration,
    /// Total size of the inputs.
    pub input_bytes: u64,
}

/// Total size in bytes of the job's inputs.
pub fn input_bytes(spec: &JobSpec) -> u64 {
    spec.inputs()
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Creates `dir` if needed and makes sure no file of an earlier job
/// (`mr-*`, `tmp-*`) is in it: with `clean`, removes them; otherwise fails
/// with [`MrError::DirtyDirectory`].
pub fn prepare_dir(dir: &Path, clean: bool) -> Result<(), MrError> {
    std::fs::create_dir_all(dir).map_err(|e| MrError::io("create directory", dir, e))?;
    for name in list_dir(dir)? {
        if name.starts_with("mr-") || name.starts_with(TMP_PREFIX) {
            if !clean {
                return Err(MrError::DirtyDirectory {
                    dir: dir.to_path_buf(),
                    file: name,
                });
            }
            let path = dir.join(&name);
            std::fs::remove_file(&path).map_err(|e| MrError::io("remove", &path, e))?;
        }
    }
    Ok(())
}

/// The panic payload of a crashing worker: unwinds its thread's worker run
/// without the panic hook's message.
struct Crashed;

/// Worker ids currently running: what `is_alive` answers from.
type Alive = Arc<Mutex<BTreeSet<WorkerId>>>;

struct RealEnv {
    me: WorkerId,
    alive: Alive,
    start: Instant,
}

impl Env for RealEnv {
    fn me(&self) -> WorkerId {
        self.me
    }

    fn is_alive(&self, worker: WorkerId) -> bool {
        self.alive
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&worker)
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    #[allow(clippy::disallowed_methods)] // real runner: a worker thread really sleeps
    fn sleep(&self, d: Duration) -> LocalBoxFuture<'static, ()> {
        Box::pin(async move { std::thread::sleep(d) })
    }

    fn crash(&self) -> LocalBoxFuture<'static, ()> {
        Box::pin(async { resume_unwind(Box::new(Crashed)) })
    }

    #[allow(clippy::disallowed_methods)] // real runner: OS-seeded dice, as 6.824's crand
    fn random_below(&self, n: u64) -> u64 {
        use rand::Rng;
        rand::rng().random_range(0..n)
    }
}

enum Request {
    /// Answered on the sender (the worker id is not needed in-process).
    GetTask(Sender<Assignment>),
    TaskDone(TaskDoneArgs),
}

struct ChannelLink {
    requests: Sender<Request>,
}

impl CoordinatorLink for ChannelLink {
    async fn get_task(&self, _args: &GetTaskArgs) -> Result<Assignment, CoordinatorGone> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.requests
            .send(Request::GetTask(reply))
            .map_err(|_| CoordinatorGone)?;
        answer.recv().map_err(|_| CoordinatorGone)
    }

    async fn task_done(&self, args: &TaskDoneArgs) -> Result<(), CoordinatorGone> {
        self.requests
            .send(Request::TaskDone(args.clone()))
            .map_err(|_| CoordinatorGone)
    }
}

/// Runs `spec` with app `A` on `config.workers` threads, files in
/// `config.dir` (which should hold no earlier job's files: see
/// [`prepare_dir`]).
///
/// # Errors
/// A worker's [`MrError`] if every worker stopped before the job was done.
///
/// # Panics
/// If an app panics (a bug in the app, not a crash).
pub fn run_job<A: App + Default>(spec: &JobSpec, config: &RunConfig) -> Result<RunReport, MrError> {
    run_job_with_progress::<A>(spec, config, |_| {})
}

/// [`run_job`], calling `progress` with the job's statistics each time the
/// coordinator looks at the job (after every message from a worker, and at
/// least every [`TICK`]), on the calling thread: the `mapreduce` command
/// (`mapreduce/cli`) draws its progress bar with it.
///
/// # Errors
/// As [`run_job`].
///
/// # Panics
/// As [`run_job`].
#[allow(clippy::disallowed_methods)] // real runner: wall clock and OS threads
pub fn run_job_with_progress<A: App + Default>(
    spec: &JobSpec,
    config: &RunConfig,
    mut progress: impl FnMut(&JobStats),
) -> Result<RunReport, MrError> {
    let workers = config.workers.max(1);
    let (requests, inbox) = crossbeam_channel::unbounded();
    let alive: Alive = Arc::default();
    let next_id = AtomicU64::new(0);
    let crashes = AtomicU64::new(0);
    let start = Instant::now();
    let (stats, results) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|i| {
                let link = ChannelLink {
                    requests: requests.clone(),
                };
                let (alive, next_id, crashes) = (alive.clone(), &next_id, &crashes);
                std::thread::Builder::new()
                    .name(format!("mr-worker-{i}"))
                    .spawn_scoped(scope, move || {
                        worker_thread::<A>(&link, &config.dir, &alive, next_id, crashes, start)
                    })
                    .expect("cannot start a worker thread")
            })
            .collect();
        drop(requests);
        let stats = coordinate(JobTracker::new(spec), &inbox, &mut progress, start);
        drop(inbox);
        let results: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        (stats, results)
    });
    let wall = start.elapsed();
    let mut first_error = None;
    for r in results {
        match r {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => first_error = first_error.or(Some(e)),
            Err(panic) => resume_unwind(panic),
        }
    }
    if stats.reduces_done < stats.n_reduce {
        return Err(first_error.unwrap_or_else(|| MrError::Incomplete {
            reason: "every worker exited".into(),
        }));
    }
    Ok(RunReport {
        stats,
        workers,
        crashes: crashes.load(Ordering::Relaxed),
        wall,
        input_bytes: input_bytes(spec),
    })
}

/// One worker thread: runs workers of `A` until one exits normally; a run
/// that crashes is replaced by a fresh worker with a new id.
fn worker_thread<A: App + Default>(
    link: &ChannelLink,
    dir: &Path,
    alive: &Alive,
    next_id: &AtomicU64,
    crashes: &AtomicU64,
    start: Instant,
) -> Result<WorkerReport, MrError> {
    loop {
        let me = next_id.fetch_add(1, Ordering::Relaxed);
        alive.lock().unwrap_or_else(|e| e.into_inner()).insert(me);
        let env = RealEnv {
            me,
            alive: alive.clone(),
            start,
        };
        let run = catch_unwind(AssertUnwindSafe(|| {
            let app = A::default();
            futures::executor::block_on(run_worker(&app, &Ctx::new(&env, dir), link))
        }));
        alive.lock().unwrap_or_else(|e| e.into_inner()).remove(&me);
        match run {
            Ok(result) => return result,
            Err(payload) if payload.is::<Crashed>() => {
                crashes.fetch_add(1, Ordering::Relaxed);
            }
            Err(payload) => resume_unwind(payload),
        }
    }
}

/// The coordinator loop: answers workers until the job is done or every
/// worker is gone; returns the statistics.
fn coordinate(
    mut tracker: JobTracker,
    inbox: &Receiver<Request>,
    progress: &mut impl FnMut(&JobStats),
    start: Instant,
) -> JobStats {
    let mut parked: VecDeque<Sender<Assignment>> = VecDeque::new();
    loop {
        while let Some(reply) = parked.front() {
            let a = tracker.assign(start.elapsed());
            if a == Assignment::Wait {
                break;
            }
            // A worker whose thread died meanwhile just misses its answer;
            // the task is handed out again after the timeout.
            let _ = reply.send(a);
            parked.pop_front();
        }
        progress(tracker.stats());
        if tracker.done() {
            return tracker.stats().clone();
        }
        match inbox.recv_timeout(TICK) {
            Ok(Request::GetTask(reply)) => parked.push_back(reply),
            Ok(Request::TaskDone(args)) => tracker.complete(args.task),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return tracker.stats().clone(),
        }
    }
}

/// Runs the sequential reference of `A` over `spec`'s inputs on this
/// thread and writes `dir/mr-out-0`.
///
/// # Errors
/// An input cannot be read, the output cannot be written, or the app
/// crashed (use `nocrash` as the reference of `crash`).
#[allow(clippy::disallowed_methods)] // real runner: wall clock
pub fn run_sequential<A: App + Default>(
    spec: &JobSpec,
    dir: &Path,
) -> Result<SequentialReport, MrError> {
    let start = Instant::now();
    let env = RealEnv {
        me: 0,
        alive: Arc::new(Mutex::new(BTreeSet::from([0]))),
        start,
    };
    let run = catch_unwind(AssertUnwindSafe(|| {
        let app = A::default();
        futures::executor::block_on(sequential(&app, &Ctx::new(&env, dir), spec.inputs()))
    }));
    let output = match run {
        Ok(output) => output?,
        Err(payload) if payload.is::<Crashed>() => {
            return Err(MrError::Incomplete {
                reason: format!("the app {} crashed the sequential run", A::NAME),
            });
        }
        Err(payload) => resume_unwind(payload),
    };
    write_output(dir, &output)?;
    Ok(SequentialReport {
        keys: output.len(),
        wall: start.elapsed(),
        input_bytes: input_bytes(spec),
    })
}
