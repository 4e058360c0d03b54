//! `lab replay`: one (test, seed) again, with its logs, trace and picture.
//!
//! Guarantees:
//! - The run is the same process `lab grade` ran for that seed (same
//!   binary, directory and environment), plus `RUST_LOG` (`--log`) and
//!   `LAB_TRACE`; neither changes the run (labrpc keeps log lines out of
//!   the trace), so the replay is the graded run, bit for bit.
//! - Its output is printed as it happens. The trace is written to
//!   `--trace` (default `lab-runs/replay/<lab>-<test>-<seed>.jsonl` under the
//!   workspace root) and drawn to `--html` (same name, `.html`); a stale
//!   file of an earlier replay is removed first, so what is drawn is always
//!   this run.
//! - Exit code 0 if the test passed, 1 if it failed (the failure is
//!   reproduced), 2 if the tool could not run it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::bail;
use crate::error::{EXIT_FAILED, EXIT_OK, Result};
use crate::grade::file_safe;
use crate::outcome::Status;
use crate::picture::{self, Window};
use crate::report::short_path;
use crate::run::RunSpec;
use crate::trace;
use crate::workspace::{TestCase, Workspace};
use anyhow::Context as _;

/// Arguments of `lab replay`.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// The lab (workspace package).
    pub lab: String,
    /// The test's exact name (as `lab grade` prints it).
    pub test: String,
    /// The seed to replay.
    #[arg(long, short = 's')]
    pub seed: u64,
    /// Where to write the event trace (JSON lines).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Where to write the picture (self-contained HTML).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// RUST_LOG for the run ("off" for none).
    #[arg(long, default_value = "debug", value_name = "LEVEL")]
    pub log: String,
    /// The integration-test target, when two targets have a test of this
    /// name.
    #[arg(long, value_name = "TARGET")]
    pub target: Option<String>,
    /// Wall-clock seconds after which the run is killed.
    #[arg(long, default_value_t = 600.0, value_name = "SECS")]
    pub timeout: f64,
    #[command(flatten)]
    pub window: Window,
    /// The workspace's Cargo.toml (default: found from the current
    /// directory, as cargo does).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

/// Runs `lab replay`; returns the exit code.
pub fn replay(args: ReplayArgs) -> Result<u8> {
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        bail!(
            "--timeout must be a positive number of seconds, got {}",
            args.timeout
        );
    }
    let ws = Workspace::load(args.manifest_path.as_deref())?;
    let labs = ws.select(std::slice::from_ref(&args.lab))?;
    let tests = ws.build_and_list(&labs, true)?;
    let test = find_test(&tests, &args.lab, &args.test, args.target.as_deref())?;

    let (trace_path, html_path) = output_paths(&args, &ws.root, test)?;

    let spec = RunSpec {
        test,
        seed: args.seed,
        runs: 1,
        log: (args.log != "off").then_some(args.log.as_str()),
        trace: Some(&trace_path),
        determinism: false,
        backtrace: true,
        timeout: Duration::from_secs_f64(args.timeout),
        echo: true,
    };
    crate::say!(
        "lab replay: {} {} seed {} (RUST_LOG={})",
        test.lab,
        test.name,
        args.seed,
        args.log
    );
    let result = spec.run()?;
    let outcome = &result.outcome;
    crate::say!();
    say_result(&result);
    if trace_path.exists() {
        let events = trace::read(&trace_path)?;
        crate::say!(
            "trace:     {} ({} events)",
            trace_path.display(),
            events.len()
        );
        let title = format!("{} {} seed {}", test.lab, test.name, args.seed);
        let summary = picture::write(
            &html_path,
            &title,
            &events,
            &args.window,
            &picture::Run {
                failure: outcome.failure.as_ref(),
                output: &result.output,
            },
        )?;
        crate::say!(
            "page:      {} ({summary})",
            short_path(&html_path).display()
        );
    } else {
        say_no_trace(outcome.passed());
    }
    crate::say!("reproduce: {}", spec.reproduce());
    Ok(if outcome.passed() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

/// Where the trace and the page go (the trace's old copy removed, its
/// directory made).
fn output_paths(args: &ReplayArgs, root: &Path, test: &TestCase) -> Result<(PathBuf, PathBuf)> {
    let stem = format!("{}-{}-{}", test.lab, file_safe(&test.name), args.seed);
    let replay_dir = root.join("lab-runs").join("replay");
    let trace_path = absolute(
        args.trace
            .clone()
            .unwrap_or_else(|| replay_dir.join(format!("{stem}.jsonl"))),
    )?;
    let html_path = args
        .html
        .clone()
        .unwrap_or_else(|| trace_path.with_extension("html"));
    if let Some(dir) = trace_path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    match std::fs::remove_file(&trace_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => bail!("cannot remove the old trace {}: {e}", trace_path.display()),
    }
    Ok((trace_path, html_path))
}

/// The `result:` line: passed, or where and why it failed.
fn say_result(result: &crate::run::RunResult) {
    let outcome = &result.outcome;
    if outcome.status == Status::Passed {
        crate::say!(
            "result:    passed ({:.3} s wall)",
            result.wall.as_secs_f64()
        );
        return;
    }
    let f = outcome.failure.clone().unwrap_or_default();
    let at = f
        .virtual_s
        .map_or(String::new(), |t| format!(" at {t:.6}s"));
    let on = f
        .node
        .as_ref()
        .map_or(String::new(), |n| format!(" on {n}"));
    crate::say!(
        "result:    FAILED{at}{on}: {}",
        f.message.lines().next().unwrap_or("")
    );
}

/// Why there is no trace to draw.
fn say_no_trace(passed: bool) {
    if passed {
        crate::say!(
            "trace:     none (the test wrote no LAB_TRACE file: does it run through labrpc::run_test?)"
        );
    } else {
        crate::say!(
            "trace:     none: labrpc writes LAB_TRACE only for a run that finishes, and this one \
             failed; no picture"
        );
    }
}

/// The test named exactly `name` in `tests`, or a message with the closest
/// names.
fn find_test<'a>(
    tests: &'a [TestCase],
    lab: &str,
    name: &str,
    target: Option<&str>,
) -> Result<&'a TestCase> {
    let found: Vec<&TestCase> = tests
        .iter()
        .filter(|t| t.is_named(name) && target.is_none_or(|g| t.target == g))
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => {
            let mut near: Vec<&str> = tests
                .iter()
                .filter(|t| t.name.contains(name) || name.contains(t.name.as_str()))
                .map(|t| t.name.as_str())
                .collect();
            near.dedup();
            let hint = if near.is_empty() {
                format!("`lab list {lab}` lists its {} tests", tests.len())
            } else {
                near.truncate(10);
                format!("did you mean: {}", near.join(", "))
            };
            let in_target = target.map_or(String::new(), |g| format!(" (target {g})"));
            bail!("unknown test {name:?} in lab {lab}{in_target}; {hint}")
        }
        many => {
            let targets: Vec<&str> = many.iter().map(|t| t.target.as_str()).collect();
            bail!(
                "test {name:?} is in several test targets of {lab} ({}); pick one with --target",
                targets.join(", ")
            )
        }
    }
}

fn absolute(p: PathBuf) -> Result<PathBuf> {
    if p.is_absolute() {
        return Ok(p);
    }
    std::path::absolute(&p).with_context(|| format!("cannot resolve {}", Path::new(&p).display()))
}
