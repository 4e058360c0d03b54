//! The grader's harness: inputs, the reference, simulated processes, and
//! the per-test stats line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use labrpc::task::{self, JoinHandle};
use labrpc::{NodeId, node};
use mapreduce::files::sorted_output;
use mapreduce::sequential::{sequential, sorted_lines};
use mapreduce::worker::WorkerReport;
use mapreduce::{App, Ctx, Env, JobSpec, JobStats, MrError, WorkerId, sim};

/// The seven bundled texts, sorted: one map task each. The paths are
/// relative (`data/pg-*.txt`; cargo runs tests in the package's directory)
/// so that the map filenames, hence the outputs and the RPC sizes, are the
/// same wherever the repository is checked out.
pub fn inputs() -> Vec<String> {
    let data = Path::new("data");
    let mut files: Vec<String> = std::fs::read_dir(data)
        .unwrap_or_else(|e| {
            panic!(
                "cannot list {}/data ({e}); run the tests through cargo",
                std::env::current_dir().unwrap().display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert_eq!(files.len(), 7, "expected the 7 texts in data/");
    files
}

/// The job over the bundled texts, 10 reduce tasks, 10 s timeout.
pub fn spec() -> JobSpec {
    JobSpec::new(inputs()).expect("the bundled texts are readable")
}

/// An environment for apps that use none of it (the reference of wc,
/// indexer, nocrash), outside any simulation.
struct NoEnv;

impl Env for NoEnv {
    fn me(&self) -> WorkerId {
        0
    }
    fn is_alive(&self, _: WorkerId) -> bool {
        unreachable!("the reference apps do not probe workers")
    }
    fn now(&self) -> Duration {
        unreachable!("the reference apps do not read the clock")
    }
    fn sleep(&self, _: Duration) -> futures::future::LocalBoxFuture<'static, ()> {
        unreachable!("the reference apps do not sleep")
    }
    fn crash(&self) -> futures::future::LocalBoxFuture<'static, ()> {
        unreachable!("the reference apps do not crash")
    }
    fn random_below(&self, _: u64) -> u64 {
        unreachable!("the reference apps draw no random numbers")
    }
}

/// The sorted, non-empty output lines of the sequential reference of `A`
/// over `inputs`. Computed outside the simulation, once per test.
pub fn reference<A: App + Default>(inputs: &[String]) -> Vec<String> {
    let dir = std::env::temp_dir();
    let ctx = Ctx::new(&NoEnv, &dir);
    let out = futures::executor::block_on(sequential(&A::default(), &ctx, inputs))
        .expect("the reference runs");
    sorted_lines(&out)
}

/// A fresh directory for one run (removed when dropped).
pub fn job_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("mr-test-")
        .tempdir()
        .expect("cannot create a temporary directory")
}

/// `sort mr-out* | grep .` in `dir`.
pub fn output(dir: &Path) -> Vec<String> {
    sorted_output(dir).expect("outputs are readable")
}

/// Starts `mrcoordinator` on a new node.
pub fn start_coordinator(spec: JobSpec) -> JoinHandle<JobStats> {
    let n = node::create("coordinator");
    task::spawn_on(n, sim::coordinator(spec))
}

/// A simulated worker process: its node and the handle of its run.
pub type Worker = (NodeId, JoinHandle<Result<WorkerReport, MrError>>);

/// Starts `mrworker` of `A` on a new node named `name`.
pub fn start_worker<A: App + Default + 'static>(name: &str, dir: &Path) -> Worker {
    let n = node::create(name);
    (n, restart_worker::<A>(n, dir))
}

/// Starts a fresh `mrworker` of `A` on `node` (restarting it if crashed).
pub fn restart_worker<A: App + Default + 'static>(
    n: NodeId,
    dir: &Path,
) -> JoinHandle<Result<WorkerReport, MrError>> {
    node::restart(n);
    task::spawn_on(n, sim::worker::<A>(dir.to_path_buf()))
}

/// Waits for a worker that must exit on its own (not crash, no error).
pub async fn exited(w: Worker) -> WorkerReport {
    let (n, handle) = w;
    match handle.await {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => panic!("worker {n} failed: {e}"),
        Err(_) => panic!("worker {n} crashed"),
    }
}

/// Fails with the first difference between two sorted outputs.
pub fn assert_same_output(test: &str, got: &[String], want: &[String]) {
    if got == want {
        return;
    }
    let i = got.iter().zip(want).position(|(g, w)| g != w);
    let at = i.unwrap_or(got.len().min(want.len()));
    panic!(
        "{test}: output differs from the reference: {} lines vs {} expected; first difference \
         at sorted line {at}: got {:?}, expected {:?}",
        got.len(),
        want.len(),
        got.get(at),
        want.get(at)
    );
}

/// Prints the test's stats line: virtual seconds, workers, RPCs, bytes,
/// tasks assigned and re-executed, wall milliseconds of this run.
pub fn print_stats(test: &str, workers: usize, stats: &JobStats, wall: Duration) {
    let net = labrpc::network();
    println!(
        "  ... {test}: {:.1} s virtual, {workers} workers, {} rpcs, {} bytes, {} tasks \
         ({} assignments, {} re-executions), {} ms wall",
        labrpc::time::Instant::now().as_nanos() as f64 / 1e9,
        net.total_rpcs(),
        net.total_bytes(),
        stats.n_map + stats.n_reduce,
        stats.assigned,
        stats.reexecutions,
        wall.as_millis()
    );
}

/// A wall-clock stopwatch for the stats line; it never influences a run.
pub struct WallClock(std::time::Instant);

impl WallClock {
    #[allow(clippy::disallowed_methods)] // printed only: never read by simulated code
    pub fn start() -> WallClock {
        WallClock(std::time::Instant::now())
    }

    pub fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// The paths of `dir` whose names start with `prefix`, sorted.
pub fn files_with_prefix(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    mapreduce::files::list_dir(dir)
        .expect("listable")
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .map(|n| dir.join(n))
        .collect()
}
