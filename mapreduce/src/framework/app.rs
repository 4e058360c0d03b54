//! What an application is, and the world it runs in.
//!
//! An [`App`] is a type with `map(filename, contents) -> Vec<KeyValue>` and
//! `reduce(key, values) -> String`, as in 6.824's `mrapps`. Both receive a
//! [`Ctx`]: the job's directory and the few actions that differ between the
//! simulation and a real run (sleeping, crashing, the clock, which workers
//! are alive). An app that uses only the `Ctx` for those actions runs
//! unchanged in both worlds and stays deterministic in the simulation.

use std::path::Path;
use std::time::Duration;

use futures::future::LocalBoxFuture;

/// One pair emitted by `map` and grouped by key for `reduce`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyValue {
    /// The key: decides the reduce task (see [`crate::files::ihash`]).
    pub key: String,
    /// The value.
    pub value: String,
}

impl KeyValue {
    /// A pair.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// Where a map task's pairs go as the app produces them: borrowed
/// slices, copied (escaped, partitioned) at once, so that an app need not
/// allocate a `String` per pair. See [`App::map_combined`] and
/// [`crate::files::MapOutput`].
pub trait Emit {
    /// Adds the pair `key`, `value` to the map task's output.
    fn emit(&mut self, key: &str, value: &str);
}

/// Identifies a worker among the workers of one job: the simulated node's
/// id, or the real runner's worker number. 6.824's apps use the process id.
pub type WorkerId = u64;

/// The environment-specific actions of a worker (simulated or real).
///
/// Implemented by [`crate::sim`] (virtual time, nodes) and by
/// [`crate::real`] (wall clock, threads). Apps reach it through [`Ctx`].
pub trait Env {
    /// This worker's id.
    fn me(&self) -> WorkerId;
    /// Whether `worker` is running (6.824's `kill(pid, 0)`).
    fn is_alive(&self, worker: WorkerId) -> bool;
    /// Time since the start of the simulation or of the job.
    fn now(&self) -> Duration;
    /// Completes after `d`.
    fn sleep(&self, d: Duration) -> LocalBoxFuture<'static, ()>;
    /// Crash-stops this worker: no code of it runs after the returned
    /// future is first polled. The future never completes.
    fn crash(&self) -> LocalBoxFuture<'static, ()>;
    /// A uniformly random integer in `0..n` (seeded in the simulation).
    /// `n` must be positive.
    fn random_below(&self, n: u64) -> u64;
}

/// What `map` and `reduce` may use: the job's directory and the
/// [`Env`] actions. Cheap to copy.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    env: &'a dyn Env,
    dir: &'a Path,
}

impl<'a> Ctx<'a> {
    /// A context for a worker in `env` working in `dir`.
    pub fn new(env: &'a dyn Env, dir: &'a Path) -> Ctx<'a> {
        Ctx { env, dir }
    }

    /// The job's directory: intermediate and output files live here, and
    /// apps that leave marker files (mtiming, rtiming, jobcount) put them
    /// here.
    pub fn dir(&self) -> &'a Path {
        self.dir
    }

    /// This worker's id.
    pub fn me(&self) -> WorkerId {
        self.env.me()
    }

    /// Whether `worker` is running.
    pub fn is_alive(&self, worker: WorkerId) -> bool {
        self.env.is_alive(worker)
    }

    /// Time since the start of the simulation or of the job.
    pub fn now(&self) -> Duration {
        self.env.now()
    }

    /// Sleeps for `d` (virtual time in the simulation).
    pub async fn sleep(&self, d: Duration) {
        self.env.sleep(d).await
    }

    /// Crash-stops this worker; never returns.
    pub async fn crash(&self) {
        self.env.crash().await;
        unreachable!("Env::crash completed: a crashed worker must never run again");
    }

    /// A uniformly random integer in `0..n`.
    pub fn random_below(&self, n: u64) -> u64 {
        self.env.random_below(n)
    }
}

/// A MapReduce application.
///
/// Guarantees the framework gives an app: `map` is called once per attempt
/// of a map task (or [`App::map_combined`] instead, by a worker that uses
/// it), with the input's path as given to the job and its whole contents; `reduce` is called once per distinct key of a reduce task's
/// partition, in increasing key order, with that key's values in map-task
/// order (and emission order within a map task). A task may be attempted
/// more than once (after a crash or a timeout), so `map` and `reduce` must
/// be deterministic functions of their inputs for the output to be.
///
/// The futures need not be `Send`: a worker runs on one thread (a node's
/// tasks in the simulation, one OS thread in the real runner).
#[allow(async_fn_in_trait)]
pub trait App {
    /// The app's name (as on the runner's command line).
    const NAME: &'static str;

    /// Maps one input file to key/value pairs.
    async fn map(&self, ctx: &Ctx<'_>, filename: &str, contents: &str) -> Vec<KeyValue>;

    /// Reduces all values of one key to the output value.
    async fn reduce(&self, ctx: &Ctx<'_>, key: &str, values: &[String]) -> String;

    /// The map task's output with the app's combiner applied (the
    /// MapReduce paper's §4.3), handed to `out` as borrowed slices.
    ///
    /// An app that overrides it may emit fewer pairs than [`App::map`]
    /// returns (several values of one key folded into one), on this
    /// promise: `reduce` over the combined values of a key gives the same
    /// output as `reduce` over `map`'s values of that key. Word count can:
    /// it emits `(word, count)` once per distinct word and its `reduce`
    /// sums. The default emits `map`'s pairs unchanged, so an app without
    /// a combiner behaves exactly as with `map`.
    ///
    /// The sequential reference always uses `map`.
    async fn map_combined(
        &self,
        ctx: &Ctx<'_>,
        filename: &str,
        contents: &str,
        out: &mut dyn Emit,
    ) {
        for kv in self.map(ctx, filename, contents).await {
            out.emit(&kv.key, &kv.value);
        }
    }
}
