//! The test entry: run a body as a simulation, turn every failure into a
//! message that says how to reproduce it.
//!
//! # Environment knobs
//!
//! All of them, in one place. [`run_test`] reads them; [`Builder::from_env`]
//! too. A malformed value fails the test with a message naming the knob.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `LAB_SEED` | seed of the (first) run | random, printed |
//! | `LAB_RUNS` | number of runs; run *k* uses seed `LAB_SEED + k` | 1 |
//! | `LAB_DETERMINISM` | `1`: run each seed twice and compare the traces event by event | off |
//! | `LAB_TRACE` | write each run's trace as JSON lines to this path; `{seed}` and `{test}` in it are replaced | off |
//! | `LAB_HTML` | a failing run writes its trace and its page (`lab picture`: diagram, node states, KV history, the failure) to this directory, as `<test>-<seed>.jsonl` and `.html` | off |
//! | `LAB_TRACE_VERSION` | the trace version a seed was recorded with (reproduce commands carry it): a run fails at once if this build's [`crate::trace::VERSION`] differs, since the seed would run differently | unchecked |
//! | `LAB_TIME_LIMIT` | virtual seconds a run may last before it fails | 120 (or the test's own) |
//! | `LAB_STALL_LIMIT` | wall seconds one poll of one task may block the thread | 5 |
//! | `RUST_LOG` | `log` lines (prefixed with virtual time and node), e.g. `RUST_LOG=raft=debug` | off |
//!
//! # Failures
//!
//! Each failure panics with one message that names the seed, the virtual
//! time, the node and the command that reproduces the run:
//! - a panic in any task (the task's own message is printed above it);
//! - a **deadlock**: no task ready, no timer pending, body not finished;
//! - a **livelock**: [`Builder::livelock_polls`] polls in a row without
//!   virtual time moving (a task spinning on `yield_now`);
//! - the **time limit**: virtual time would pass the limit;
//! - a **stall**: one poll blocked the thread for longer than the stall
//!   limit of wall time (a watchdog thread also prints a warning while the
//!   thread is still blocked);
//! - **nondeterminism** (`LAB_DETERMINISM=1`): the first differing event.
//!
//! The message's format is [`FailureMessage`]: written here, read back by
//! `lab grade` and `lab replay` with the same type.

// Seeds and the stall limit come from outside the simulation: the OS RNG
// for a fresh seed, the environment for knobs. Nothing here runs inside one.
#![allow(clippy::disallowed_methods)]

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::Duration;

use crate::node::NodeId;
use crate::runtime::{self, Failure, Limits, Sim};
use crate::time::Instant;
use crate::trace::Event;

/// Default virtual time limit of a run (6.824's per-test limit).
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(120);
/// Default number of polls in a row without virtual time moving that counts
/// as a livelock.
pub const DEFAULT_LIVELOCK_POLLS: u64 = 1_000_000;
/// Default wall time one poll may block the thread.
pub const DEFAULT_STALL_LIMIT: Duration = Duration::from_secs(5);

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct Report {
    /// The run's seed.
    pub seed: u64,
    /// Virtual time at the end.
    pub virtual_time: Duration,
    /// Events in the trace.
    pub events: u64,
    /// Hash of the trace (equal for equal runs).
    pub trace_hash: u64,
    /// Task polls.
    pub polls: u64,
    /// The trace, if it was recorded.
    pub trace: Option<Vec<Event>>,
}

/// Configures and runs simulations. See the module docs for the knobs.
#[derive(Debug, Clone)]
pub struct Builder {
    seed: Option<u64>,
    runs: u64,
    determinism: bool,
    trace_path: Option<String>,
    /// `LAB_HTML`: where a failing run writes its page.
    html_dir: Option<String>,
    record_trace: bool,
    time_limit: Duration,
    livelock_polls: u64,
    stall_limit: Duration,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_env<T: std::str::FromStr>(name: &str, what: &str) -> Option<T> {
    env_var(name).map(|v| {
        v.trim().parse().unwrap_or_else(|_| {
            panic!("labrpc: {name} must be {what}, got {v:?} (see labrpc::harness for the knobs)")
        })
    })
}

fn parse_secs(name: &str) -> Option<Duration> {
    parse_env::<f64>(name, "a positive number of seconds").map(|s| {
        assert!(
            s.is_finite() && s > 0.0,
            "labrpc: {name} must be a positive number of seconds, got {s}"
        );
        Duration::from_secs_f64(s)
    })
}

impl Builder {
    /// Defaults: random seed, one run, limits as the `DEFAULT_*` constants.
    pub fn new() -> Builder {
        Builder {
            seed: None,
            runs: 1,
            determinism: false,
            trace_path: None,
            html_dir: None,
            record_trace: false,
            time_limit: DEFAULT_TIME_LIMIT,
            livelock_polls: DEFAULT_LIVELOCK_POLLS,
            stall_limit: DEFAULT_STALL_LIMIT,
        }
    }

    /// Defaults overridden by the `LAB_*` environment knobs.
    ///
    /// # Panics
    /// On a malformed knob, naming it.
    pub fn from_env() -> Builder {
        Builder::new().apply_env()
    }

    /// Overrides this builder's settings with the `LAB_*` knobs that are set
    /// (the environment wins over the code, so a user can always widen a
    /// limit or pin a seed).
    pub fn apply_env(mut self) -> Builder {
        if let Some(s) = parse_env("LAB_SEED", "an unsigned 64-bit integer") {
            self.seed = Some(s);
        }
        if let Some(n) = parse_env::<u64>("LAB_RUNS", "a positive integer") {
            assert!(n > 0, "labrpc: LAB_RUNS must be a positive integer, got 0");
            self.runs = n;
        }
        if let Some(v) = env_var("LAB_DETERMINISM") {
            self.determinism = match v.trim() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                other => panic!("labrpc: LAB_DETERMINISM must be 1 or 0, got {other:?}"),
            };
        }
        if let Some(p) = env_var("LAB_TRACE") {
            self.trace_path = Some(p);
        }
        if let Some(d) = env_var("LAB_HTML") {
            self.html_dir = Some(d);
        }
        if let Some(v) = parse_env::<u32>("LAB_TRACE_VERSION", "a trace version (a number)") {
            check_trace_version(v, self.seed);
        }
        if let Some(t) = parse_secs("LAB_TIME_LIMIT") {
            self.time_limit = t;
        }
        if let Some(t) = parse_secs("LAB_STALL_LIMIT") {
            self.stall_limit = t;
        }
        self
    }

    /// Fixes the seed (of the first run).
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = Some(seed);
        self
    }

    /// Number of runs for [`Builder::run_all`]; run *k* uses seed + *k*.
    pub fn runs(mut self, runs: u64) -> Builder {
        self.runs = runs.max(1);
        self
    }

    /// Run each seed twice and compare traces ([`Builder::run_all`]).
    pub fn determinism(mut self, on: bool) -> Builder {
        self.determinism = on;
        self
    }

    /// Write each run's trace as JSON lines to `path` (`{seed}` and
    /// `{test}` are replaced), as `LAB_TRACE` does.
    pub fn trace_path(mut self, path: impl Into<String>) -> Builder {
        self.trace_path = Some(path.into());
        self
    }

    /// Keep the trace in memory and return it in the [`Report`].
    pub fn record_trace(mut self, on: bool) -> Builder {
        self.record_trace = on;
        self
    }

    /// Virtual time a run may last.
    pub fn time_limit(mut self, limit: Duration) -> Builder {
        self.time_limit = limit;
        self
    }

    /// Polls in a row without virtual time moving before a livelock is
    /// declared.
    pub fn livelock_polls(mut self, polls: u64) -> Builder {
        self.livelock_polls = polls.max(1);
        self
    }

    /// Wall time one poll may block the thread before the run fails.
    pub fn stall_limit(mut self, limit: Duration) -> Builder {
        self.stall_limit = limit;
        self
    }

    /// The seed the first run will use (drawing a random one now if unset).
    pub fn resolve_seed(&mut self) -> u64 {
        *self.seed.get_or_insert_with(::rand::random)
    }

    /// Runs `body` once, as a simulation, with this builder's seed.
    ///
    /// # Panics
    /// On any failure (see the module docs), with the reproduce message.
    pub fn run<F, Fut>(&self, body: F) -> Report
    where
        F: Fn() -> Fut,
        Fut: Future<Output = ()> + 'static,
    {
        let mut b = self.clone();
        let seed = b.resolve_seed();
        let record = b.record_trace || b.trace_path.is_some() || b.html_dir.is_some();
        let report = b.run_seed(seed, record, &body);
        b.write_trace(&report);
        report
    }

    /// Runs `body` for every configured seed (and twice each with the
    /// determinism check). Returns the reports of the (first) runs.
    ///
    /// # Panics
    /// On any failure, with the reproduce message.
    pub fn run_all<F, Fut>(&self, body: F) -> Vec<Report>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = ()> + 'static,
    {
        let mut b = self.clone();
        let random = b.seed.is_none();
        let first = b.resolve_seed();
        if random {
            println!("labrpc: seed {first} (random; set LAB_SEED={first} to replay this run)");
        }
        let mut reports = Vec::new();
        for k in 0..b.runs {
            let seed = first.wrapping_add(k);
            let record =
                b.record_trace || b.trace_path.is_some() || b.html_dir.is_some() || b.determinism;
            let report = b.run_seed(seed, record, &body);
            if b.determinism {
                let again = b.run_seed(seed, true, &body);
                b.compare(&report, &again);
            }
            b.write_trace(&report);
            // Shown by `--nocapture`: compare two builds' runs seed by seed.
            println!(
                "labrpc: seed {seed}: {} events, trace hash {:016x}, {:.3}s virtual",
                report.events,
                report.trace_hash,
                report.virtual_time.as_secs_f64()
            );
            reports.push(report);
        }
        if b.runs > 1 {
            println!(
                "labrpc: {} runs passed (seeds {first}..={})",
                b.runs,
                first.wrapping_add(b.runs - 1)
            );
        }
        reports
    }

    fn run_seed<F, Fut>(&self, seed: u64, record: bool, body: &F) -> Report
    where
        F: Fn() -> Fut,
        Fut: Future<Output = ()> + 'static,
    {
        let limits = Limits {
            time_limit_nanos: u64::try_from(self.time_limit.as_nanos()).unwrap_or(u64::MAX),
            livelock_polls: self.livelock_polls,
        };
        crate::logging::init();
        let sim = Sim::new(seed, limits, record);
        let payloads = self.trace_path.is_some() || self.record_trace || self.html_dir.is_some();
        sim.trace.borrow_mut().keep_payloads(payloads);
        sim.watch.configure(
            self.stall_limit,
            format!("seed {seed}; reproduce: {}", self.reproduce(seed)),
        );
        let outcome = runtime::enter(&sim, || {
            let result = catch_unwind(AssertUnwindSafe(|| {
                let main = crate::task::spawn_on(NodeId::TESTER, body());
                sim.run_until(|| main.is_finished())
            }));
            // Where the failure happened, before tearing down.
            let at = (sim.now.get(), sim.current_node.get());
            let teardown = catch_unwind(AssertUnwindSafe(|| sim.drop_all_tasks()));
            (result, at, teardown)
        });
        let (result, (now, node), teardown) = outcome;
        let fail = |what: String| -> ! {
            let message = self.failure_message(&sim, seed, now, node, &what);
            // A failed run's trace is the one worth looking at: write it,
            // ending with the failure itself.
            if self.trace_path.is_some() || self.html_dir.is_some() {
                let events = {
                    let mut trace = sim.trace.borrow_mut();
                    trace.push(
                        now,
                        node,
                        crate::trace::EventKind::Failure {
                            message: message.clone(),
                        },
                    );
                    trace.take_events()
                };
                if let Some(events) = events {
                    if let Err(e) = self.write_events(seed, &events) {
                        eprintln!("labrpc: cannot write the trace of the failed run: {e}");
                    }
                    if let Some(dir) = &self.html_dir {
                        let test = test_name().unwrap_or_else(|| "run".into());
                        crate::failpage::write(dir, &test.replace("::", "-"), seed, &events);
                    }
                }
            }
            panic!("{message}");
        };
        match result {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => fail(describe(&sim, &failure, node)),
            Err(payload) => {
                let msg = panic_message(&payload);
                if msg.starts_with(FailureMessage::PREFIX) && FailureMessage::find(&msg).is_some() {
                    // Already a full failure message (a nested simulation).
                    resume_unwind(payload);
                }
                if msg.starts_with(crate::handout::NOT_IMPLEMENTED) {
                    // A handout's stub: its message says it all.
                    fail(format!(
                        "{msg} (reached on node {})",
                        node_label(&sim, node)
                    ))
                }
                fail(format!(
                    "a task on node {} panicked: {msg}",
                    node_label(&sim, node)
                ))
            }
        }
        if let Err(payload) = teardown {
            fail(format!(
                "dropping the remaining tasks at the end of the run panicked: {}",
                panic_message(&payload)
            ));
        }
        let trace = sim.trace.borrow_mut().take_events();
        Report {
            seed,
            virtual_time: Duration::from_nanos(sim.now.get()),
            events: sim.trace.borrow().count(),
            trace_hash: sim.trace.borrow().hash(),
            polls: sim.polls.get(),
            trace,
        }
    }

    fn compare(&self, a: &Report, b: &Report) {
        if a.trace_hash == b.trace_hash && a.events == b.events {
            return;
        }
        let (ea, eb) = (
            a.trace.as_deref().unwrap_or_default(),
            b.trace.as_deref().unwrap_or_default(),
        );
        let detail = crate::diff::first_difference(ea, eb)
            .unwrap_or_else(|| "the traces agree event by event (only their hashes differ)".into());
        let message = FailureMessage {
            headline: format!(
                "{}nondeterminism: seed {} gave two different runs; {detail}  something \
                 inside the simulation depends on the wall clock, OS randomness, HashMap \
                 order, threads, or state kept between runs",
                FailureMessage::PREFIX,
                a.seed
            ),
            seed: a.seed,
            virtual_time: None,
            node: None,
            reproduce: Some(format!("LAB_DETERMINISM=1 {}", self.reproduce(a.seed))),
        };
        panic!("{message}");
    }

    fn write_trace(&self, report: &Report) {
        let Some(events) = &report.trace else { return };
        if let Err(e) = self.write_events(report.seed, events) {
            panic!("labrpc: {e}");
        }
    }

    /// Writes `events` to the trace path (if any); returns the error text.
    fn write_events(&self, seed: u64, events: &[Event]) -> Result<(), String> {
        let Some(path) = &self.trace_path else {
            return Ok(());
        };
        let test = test_name()
            .unwrap_or_else(|| "run".into())
            .replace("::", "-");
        let path = path
            .replace("{seed}", &seed.to_string())
            .replace("{test}", &test);
        let write = std::fs::File::create(&path).and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            crate::trace::write_json_lines(events, &mut w)?;
            std::io::Write::flush(&mut w)
        });
        match write {
            Ok(()) => {
                println!("labrpc: trace of seed {seed} written to {path}");
                Ok(())
            }
            Err(e) => Err(format!("cannot write the trace to LAB_TRACE={path}: {e}")),
        }
    }

    fn failure_message(&self, sim: &Sim, seed: u64, now: u64, node: NodeId, what: &str) -> String {
        FailureMessage {
            headline: format!("{}{what}", FailureMessage::PREFIX),
            seed,
            virtual_time: Some(Instant::from_nanos(now)),
            node: Some(node_label(sim, node)),
            reproduce: Some(self.reproduce(seed)),
        }
        .to_string()
    }

    /// The shell command that replays `seed` of the running test.
    pub fn reproduce(&self, seed: u64) -> String {
        reproduce_command(seed)
    }
}

/// The message a failed run panics with, defined once: the harness writes
/// it ([`Display`](std::fmt::Display)) and the `lab` tool reads it back
/// from a test's output ([`FailureMessage::find`]).
///
/// ```text
/// labrpc: a task on node n1 (raft-0) panicked: boom
///   seed:         3
///   virtual time: 1.500000s
///   node:         n1 (raft-0)
///   reproduce:    LAB_SEED=3 LAB_TRACE_VERSION=3 cargo test -p raft --release -- x_3a --exact
/// ```
///
/// The headline may span lines (the nondeterminism report does); the
/// `seed:` line ends it, and the other fields follow it in this order,
/// each left out when unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureMessage {
    /// What failed, starting with [`FailureMessage::PREFIX`].
    pub headline: String,
    /// The run's seed.
    pub seed: u64,
    /// Virtual time of the failure.
    pub virtual_time: Option<Instant>,
    /// The node, e.g. `n1 (raft-0)`.
    pub node: Option<String>,
    /// The shell command that replays the run.
    pub reproduce: Option<String>,
}

impl FailureMessage {
    /// How every headline starts.
    pub const PREFIX: &str = "labrpc: ";

    /// Finds the first failure message in a test's output (libtest prints
    /// the panic message on lines of its own): the first `seed:` line that
    /// holds a seed, the headline from the last line before it starting
    /// with [`FailureMessage::PREFIX`] (or the line just before it), and
    /// the fields on the lines after it.
    pub fn find(output: &str) -> Option<FailureMessage> {
        let lines: Vec<&str> = output.lines().collect();
        let (seed_at, seed) = lines.iter().enumerate().find_map(|(i, l)| {
            let seed = field(l, "seed")?.parse().ok()?;
            Some((i, seed))
        })?;
        let head = lines[..seed_at]
            .iter()
            .rposition(|l| l.starts_with(Self::PREFIX))
            .unwrap_or(seed_at.saturating_sub(1));
        let mut message = FailureMessage {
            headline: lines[head..seed_at].join("\n"),
            seed,
            virtual_time: None,
            node: None,
            reproduce: None,
        };
        for l in &lines[seed_at + 1..lines.len().min(seed_at + 6)] {
            if let Some(v) = field(l, "virtual time") {
                message.virtual_time = v.parse().ok();
            } else if let Some(v) = field(l, "node") {
                message.node = Some(v.to_string());
            } else if let Some(v) = field(l, "reproduce") {
                message.reproduce = Some(v.to_string());
            }
        }
        Some(message)
    }
}

impl std::fmt::Display for FailureMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n  seed:         {}", self.headline, self.seed)?;
        if let Some(t) = self.virtual_time {
            write!(f, "\n  virtual time: {t}")?;
        }
        if let Some(n) = &self.node {
            write!(f, "\n  node:         {n}")?;
        }
        if let Some(r) = &self.reproduce {
            write!(f, "\n  reproduce:    {r}")?;
        }
        Ok(())
    }
}

/// The value of a `  name: value` line.
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.trim_start()
        .strip_prefix(name)
        .and_then(|rest| rest.strip_prefix(':'))
        .map(str::trim)
}

/// Runs a test body as a simulation, configured by the `LAB_*` knobs (see
/// the module docs). The usual entry of every lab test:
///
/// ```
/// // In a test file: #[test] fn sleeps_in_virtual_time() { ... }
/// labrpc::run_test(|| async {
///     let t0 = labrpc::time::Instant::now();
///     labrpc::time::sleep(std::time::Duration::from_secs(60)).await;
///     assert_eq!(t0.elapsed().as_secs(), 60);
/// });
/// ```
pub fn run_test<F, Fut>(body: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    Builder::from_env().run_all(body);
}

/// Like [`run_test`], for a test that needs more than the default virtual
/// time limit (the `LAB_TIME_LIMIT` knob still wins).
pub fn run_test_with_limit<F, Fut>(time_limit: Duration, body: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    Builder::new()
        .time_limit(time_limit)
        .apply_env()
        .run_all(body);
}

fn describe(sim: &Sim, failure: &Failure, node: NodeId) -> String {
    match failure {
        Failure::Deadlock { tasks } => format!(
            "deadlock: no task is ready and no timer is pending, but the test body has not \
             finished ({tasks} tasks are waiting for something that can never happen, e.g. a \
             channel nobody sends on)"
        ),
        Failure::Livelock { polls } => format!(
            "livelock: {polls} task polls without virtual time advancing; a task on node {} \
             is probably spinning (a loop around yield_now or a ready future that never \
             sleeps); wait with labrpc::time::sleep instead",
            node_label(sim, node)
        ),
        Failure::TimeLimit { limit_nanos } => format!(
            "time limit: the test did not finish within {} of virtual time (LAB_TIME_LIMIT \
             changes the limit)",
            crate::time::Instant::from_nanos(*limit_nanos)
        ),
        Failure::Stalled { wall_ms } => format!(
            "stall: a task on node {} blocked the simulation thread for {:.1} s of wall time \
             (tasks must await, never block: no std::thread::sleep, blocking locks or \
             channels, or long loops without .await; LAB_STALL_LIMIT changes the limit)",
            node_label(sim, node),
            *wall_ms as f64 / 1000.0
        ),
    }
}

fn node_label(sim: &Sim, node: NodeId) -> String {
    match sim.nodes.try_borrow().ok().and_then(|n| n.name(node)) {
        Some(name) => format!("{node} ({name})"),
        None => node.to_string(),
    }
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a non-string panic payload)".into()
    }
}

/// The libtest name of the running test, if this thread runs one.
fn test_name() -> Option<String> {
    let t = std::thread::current();
    let name = t.name()?;
    (name != "main").then(|| name.to_string())
}

/// Fails (panics) with an explanation when a seed recorded with trace
/// version `recorded` is run on a build of another version.
fn check_trace_version(recorded: u32, seed: Option<u64>) {
    let version = crate::trace::VERSION;
    if recorded != version {
        let seed = seed.map_or_else(|| "the seed".to_string(), |s| format!("seed {s}"));
        panic!(
            "labrpc: LAB_TRACE_VERSION={recorded}, but this build is trace version {version}: \
             {seed} runs differently here than in the build that recorded it (a seed replays \
             only within one trace version). Leave out LAB_TRACE_VERSION to run {seed} on this \
             build anyway, or replay it on a build of version {recorded}."
        );
    }
}

/// The command that replays `seed` of `test` (all the package's tests
/// when `None`) of `package`, built with `profile_flag` (`" --release"`,
/// or `""` for the dev profile): what a failure prints as its reproduce
/// line, naming this build's trace version.
pub fn reproduce_command_for(
    seed: u64,
    package: &str,
    profile_flag: &str,
    test: Option<&str>,
) -> String {
    let version = crate::trace::VERSION;
    let mut cmd = format!(
        "LAB_SEED={seed} LAB_TRACE_VERSION={version} cargo test -p {package}{profile_flag}"
    );
    if let Some(test) = test {
        cmd += &format!(" -- {test} --exact");
    }
    cmd
}

fn reproduce_command(seed: u64) -> String {
    let package = std::env::var("CARGO_PKG_NAME").ok();
    // The same for every run of the process (and a few system calls).
    static PROFILE_FLAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let profile_flag = PROFILE_FLAG.get_or_init(profile_flag);
    match package {
        Some(pkg) => reproduce_command_for(seed, &pkg, profile_flag, test_name().as_deref()),
        None => {
            let args: Vec<String> = std::env::args().collect();
            let version = crate::trace::VERSION;
            format!(
                "LAB_SEED={seed} LAB_TRACE_VERSION={version} {}",
                args.join(" ")
            )
        }
    }
}

/// Cargo's flag for the profile this binary was built with (`--release`,
/// `--profile NAME`, or nothing for debug), from where it lies.
fn profile_flag() -> String {
    let profile = std::env::current_exe().ok().and_then(|exe| {
        // target/<profile>/deps/<binary>
        let deps = exe.parent()?;
        let dir = if deps.file_name()? == "deps" {
            deps.parent()?
        } else {
            deps
        };
        // Cargo marks a target directory it creates with CACHEDIR.TAG, and
        // keeps .rustc_info.json in every one it builds in (a directory
        // another tool created first, e.g. `lab autograde`'s
        // `target/autograde`, has only the latter).
        let target = dir.parent()?;
        (target.join("CACHEDIR.TAG").exists() || target.join(".rustc_info.json").exists())
            .then_some(())?;
        Some(dir.file_name()?.to_string_lossy().into_owned())
    });
    match profile.as_deref() {
        Some("debug") | None => String::new(),
        Some("release") => " --release".into(),
        Some(other) => format!(" --profile {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FailureMessage {
        FailureMessage {
            headline: "labrpc: a task on node n1 (raft-0) panicked: boom".into(),
            seed: 3,
            virtual_time: Some(Instant::from_nanos(1_500_000_000)),
            node: Some("n1 (raft-0)".into()),
            reproduce: Some("LAB_SEED=3 cargo test -p raft --release -- x_3a --exact".into()),
        }
    }

    #[test]
    fn a_seed_of_another_trace_version_is_refused_with_what_to_do() {
        check_trace_version(crate::trace::VERSION, Some(7));
        let refused = std::panic::catch_unwind(|| check_trace_version(1, Some(7)))
            .expect_err("version 1 is not this build's");
        let message = refused.downcast_ref::<String>().unwrap();
        assert!(
            message.starts_with(
                "labrpc: LAB_TRACE_VERSION=1, but this build is trace version 3: seed 7 runs \
                 differently here"
            ),
            "{message}"
        );
        assert!(message.contains("Leave out LAB_TRACE_VERSION"), "{message}");
    }

    #[test]
    fn the_reproduce_command_names_the_trace_version() {
        assert_eq!(
            reproduce_command_for(7, "raft", " --release", Some("backup_3b")),
            "LAB_SEED=7 LAB_TRACE_VERSION=3 cargo test -p raft --release -- backup_3b --exact"
        );
        assert_eq!(
            reproduce_command_for(7, "kvsrv", "", None),
            "LAB_SEED=7 LAB_TRACE_VERSION=3 cargo test -p kvsrv"
        );
    }

    #[test]
    fn failure_messages_read_back_as_written() {
        let full = sample();
        assert_eq!(
            full.to_string(),
            "labrpc: a task on node n1 (raft-0) panicked: boom\n  seed:         3\n  \
             virtual time: 1.500000s\n  node:         n1 (raft-0)\n  reproduce:    \
             LAB_SEED=3 cargo test -p raft --release -- x_3a --exact"
        );
        let two_lines = FailureMessage {
            headline: "labrpc: nondeterminism: seed 3 gave two different runs\n  run 1: x".into(),
            virtual_time: None,
            node: None,
            ..sample()
        };
        for m in [full, two_lines] {
            // As libtest prints it: after its own line, before its own.
            let output = format!(
                "running 1 test\nlabrpc: seed 3 (random)\nthread 'x' panicked at a.rs:1:2:\n{m}\n\
                 note: run with `RUST_BACKTRACE=1`\ntest x ... FAILED\n"
            );
            assert_eq!(FailureMessage::find(&output), Some(m));
        }
    }

    #[test]
    fn output_without_a_failure_message_has_none() {
        assert_eq!(FailureMessage::find(""), None);
        assert_eq!(
            FailureMessage::find("labrpc: seed 3 (random)\ntest x ... ok"),
            None
        );
        assert_eq!(FailureMessage::find("  seed: not a number"), None);
    }
}
