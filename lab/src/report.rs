//! The grade: a table per lab, every failing seed with its command, and the
//! JSON summary for instructors' scripts.
//!
//! # The JSON summary (`summary.json`, format version 1)
//!
//! ```text
//! { "version": 1, "passed": bool, "seeds": {"first": 1, "count": 100},
//!   "shard": null | {"index": 2, "of": 4, "all": {"first": 1, "count": 400}},
//!   "merged_from": null | 4, "jobs": 2,
//!   "wall_s": 93.2, "runs": 2600, "failed_runs": 3, "busy": 0.98,
//!   "overhead_ms_mean": 2.1 | null, "out_dir": "...",
//!   "labs": [ { "lab": "raft", "tests_passed": 25, "tests": 26, "grade": "25/26",
//!               "results": [ { "test": "...", "target": "...", "runs": 100, "failures": 3,
//!                              "failing_seeds": [17, 42, 88], "wall_mean_s": .., "wall_sd_s": ..,
//!                              "virtual_mean_s": .. | null, "rpcs_mean": .. | null,
//!                              "bytes_mean": .. | null, "ops_mean": .. | null, "peers": .. | null } ] } ],
//!   "failures": [ { "lab", "test", "seed", "status": "failed" | "timed_out",
//!                   "message", "virtual_s", "node", "reproduce", "replay", "log",
//!                   "reproduced": bool | null } ] }
//! ```
//!
//! A test *passes* when it passed on every seed; a lab's grade is tests
//! passed / tests. Means are over all runs of the test (`null` when no run
//! reported the number); `busy` is the sum of run wall times over
//! `jobs × wall_s` (how much of the workers' time went to tests);
//! `overhead_ms_mean` is the mean of (run wall time − the test's own
//! `wall_ms` stat), the cost of running each seed as its own process.
//!
//! A grade of one shard (`--shard K/N`) has `seeds` = its own seeds and
//! `shard` = which shard of which seeds; `lab grade merge` writes the same
//! format for the whole, with `shard` null, `merged_from` the number of
//! summaries merged, `wall_s` the longest of theirs (they ran side by side)
//! and `jobs` the sum. Readers ignore fields they do not know.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::outcome::{Outcome, Status};
use crate::workspace::TestCase;
use anyhow::Context as _;

/// One finished run, as the grade keeps it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Index into the test list.
    pub test: usize,
    /// Its seed.
    pub seed: u64,
    /// Wall time of the test: its own `wall_ms` stat when it reports one,
    /// else `process_wall`.
    pub wall: Duration,
    /// This run's share of its process's wall time (the whole process's
    /// when it ran one seed; an even share of a batch's).
    pub process_wall: Duration,
    /// How it ended.
    pub outcome: Outcome,
    /// The command that reproduces it.
    pub reproduce: String,
    /// Where its log is kept (failing runs only).
    pub log: Option<PathBuf>,
    /// Whether a second run gave the same failure (failing runs with logs).
    pub reproduced: Option<bool>,
}

/// What [`summarize`] needs.
pub struct Setup<'a> {
    /// The graded tests.
    pub tests: &'a [TestCase],
    /// The seeds.
    pub seeds: &'a [u64],
    /// Workers.
    pub jobs: usize,
    /// Wall time of all runs.
    pub wall: Duration,
    /// Where logs and the summary go.
    pub out_dir: &'a Path,
    /// Every run.
    pub records: &'a [RunRecord],
    /// Which shard of which seeds, for `--shard`.
    pub shard: Option<ShardOf>,
}

/// `--shard K/N`: the K-th of N runs of consecutive seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, from 1.
    pub index: u64,
    /// N.
    pub of: u64,
}

/// A shard's place in the whole grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardOf {
    /// K, from 1.
    pub index: u64,
    /// N.
    pub of: u64,
    /// The seeds of the whole grade (`--first-seed`, `--seeds`).
    pub all: Seeds,
}

/// The whole grade (serialized as the JSON summary).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Format version.
    pub version: u32,
    /// Whether every run passed.
    pub passed: bool,
    /// The seeds.
    pub seeds: Seeds,
    /// Which shard of which seeds this grade ran (`--shard`).
    #[serde(default)]
    pub shard: Option<ShardOf>,
    /// How many summaries `lab grade merge` made this one of.
    #[serde(default)]
    pub merged_from: Option<usize>,
    /// Workers.
    pub jobs: usize,
    /// Wall time of all runs, in seconds.
    pub wall_s: f64,
    /// Number of runs.
    pub runs: usize,
    /// Number of failed runs.
    pub failed_runs: usize,
    /// Sum of run wall times / (jobs × wall).
    pub busy: f64,
    /// Mean wall milliseconds a run took beyond the test body's own
    /// `wall_ms` (process start, libtest, harness), over the runs whose
    /// stats line has `wall_ms`; `null` if none has.
    pub overhead_ms_mean: Option<f64>,
    /// The output directory.
    pub out_dir: PathBuf,
    /// Per lab.
    pub labs: Vec<LabSummary>,
    /// Every failed run.
    pub failures: Vec<FailureSummary>,
}

/// The seeds of a grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seeds {
    /// The first seed.
    pub first: u64,
    /// How many.
    pub count: usize,
}

/// One lab's results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabSummary {
    /// The lab.
    pub lab: String,
    /// Tests that passed on every seed.
    pub tests_passed: usize,
    /// Tests graded.
    pub tests: usize,
    /// `tests_passed/tests`.
    pub grade: String,
    /// Per test.
    pub results: Vec<TestSummary>,
}

/// One test's results over all seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestSummary {
    /// The test name.
    pub test: String,
    /// Its integration-test target.
    pub target: String,
    /// Runs.
    pub runs: usize,
    /// Failed runs.
    pub failures: usize,
    /// Seeds that failed, ascending.
    pub failing_seeds: Vec<u64>,
    /// Mean wall seconds per run (the test's own `wall_ms` when it reports
    /// it, else its share of the process's wall time).
    pub wall_mean_s: f64,
    /// Standard deviation of wall seconds.
    pub wall_sd_s: f64,
    /// Mean virtual seconds (from stats lines or failure messages).
    pub virtual_mean_s: Option<f64>,
    /// Mean RPCs (stats lines).
    pub rpcs_mean: Option<f64>,
    /// Mean bytes (stats lines).
    pub bytes_mean: Option<f64>,
    /// Mean ops (stats lines).
    pub ops_mean: Option<f64>,
    /// Peers (stats lines; the largest reported).
    pub peers: Option<u64>,
}

/// One failed run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailureSummary {
    /// The lab.
    pub lab: String,
    /// The test.
    pub test: String,
    /// The seed.
    pub seed: u64,
    /// How it ended.
    pub status: Status,
    /// The failure headline.
    pub message: String,
    /// Virtual time of the failure.
    pub virtual_s: Option<f64>,
    /// The node of the failure.
    pub node: Option<String>,
    /// The cargo command that reproduces it.
    pub reproduce: String,
    /// The `lab replay` command for its logs, trace and picture.
    pub replay: String,
    /// Its kept log.
    pub log: Option<PathBuf>,
    /// Whether a second run failed the same way.
    pub reproduced: Option<bool>,
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

fn sd(xs: &[f64]) -> f64 {
    match mean(xs) {
        Some(m) if xs.len() > 1 => {
            (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
        }
        _ => 0.0,
    }
}

/// One test's line of the table: its runs, failures, means.
fn test_summary(test: &TestCase, runs: &[&RunRecord]) -> TestSummary {
    let walls: Vec<f64> = runs.iter().map(|r| r.wall.as_secs_f64()).collect();
    let stat = |f: &dyn Fn(&Outcome) -> Option<f64>| -> Vec<f64> {
        runs.iter().filter_map(|r| f(&r.outcome)).collect()
    };
    let stats_of = |f: fn(&crate::outcome::Stats) -> Option<u64>| {
        mean(&stat(&|o| o.stats.as_ref().and_then(f).map(|v| v as f64)))
    };
    let mut failing_seeds: Vec<u64> = runs
        .iter()
        .filter(|r| !r.outcome.passed())
        .map(|r| r.seed)
        .collect();
    failing_seeds.sort_unstable();
    TestSummary {
        test: test.name.clone(),
        target: test.target.clone(),
        runs: runs.len(),
        failures: failing_seeds.len(),
        failing_seeds,
        wall_mean_s: mean(&walls).unwrap_or(0.0),
        wall_sd_s: sd(&walls),
        virtual_mean_s: mean(&stat(&|o| o.virtual_s())),
        rpcs_mean: stats_of(|s| s.rpcs),
        bytes_mean: stats_of(|s| s.bytes),
        ops_mean: stats_of(|s| s.ops),
        peers: runs
            .iter()
            .filter_map(|r| r.outcome.stats.as_ref().and_then(|s| s.peers))
            .max(),
    }
}

/// The tests' lines grouped by lab, in the order the tests came, with
/// each lab's grade.
fn lab_summaries(s: &Setup<'_>) -> Vec<LabSummary> {
    let mut labs: Vec<LabSummary> = Vec::new();
    for (i, test) in s.tests.iter().enumerate() {
        let runs: Vec<&RunRecord> = s.records.iter().filter(|r| r.test == i).collect();
        let result = test_summary(test, &runs);
        match labs.iter_mut().find(|l| l.lab == test.lab) {
            Some(l) => l.results.push(result),
            None => labs.push(LabSummary {
                lab: test.lab.clone(),
                tests_passed: 0,
                tests: 0,
                grade: String::new(),
                results: vec![result],
            }),
        }
    }
    for l in &mut labs {
        l.tests = l.results.len();
        l.tests_passed = l.results.iter().filter(|r| r.failures == 0).count();
        l.grade = format!("{}/{}", l.tests_passed, l.tests);
    }
    labs
}

/// Every failed run, by lab, test and seed.
fn failure_summaries(s: &Setup<'_>) -> Vec<FailureSummary> {
    let mut failures: Vec<FailureSummary> = s
        .records
        .iter()
        .filter(|r| !r.outcome.passed())
        .map(|r| {
            let t = &s.tests[r.test];
            let f = r.outcome.failure.clone().unwrap_or_default();
            FailureSummary {
                lab: t.lab.clone(),
                test: t.name.clone(),
                seed: r.seed,
                status: r.outcome.status,
                message: f.message,
                virtual_s: f.virtual_s,
                node: f.node,
                reproduce: f.reproduce.unwrap_or_else(|| r.reproduce.clone()),
                replay: format!("lab replay {} {} --seed {}", t.lab, t.name, r.seed),
                log: r.log.clone(),
                reproduced: r.reproduced,
            }
        })
        .collect();
    failures.sort_by(|a, b| (&a.lab, &a.test, a.seed).cmp(&(&b.lab, &b.test, b.seed)));
    failures
}

/// Aggregates the runs.
pub fn summarize(s: &Setup<'_>) -> Summary {
    let labs = lab_summaries(s);
    let failures = failure_summaries(s);
    let busy_s: f64 = s.records.iter().map(|r| r.process_wall.as_secs_f64()).sum();
    let overheads: Vec<f64> = s
        .records
        .iter()
        .filter_map(|r| {
            let own = r.outcome.stats.as_ref()?.wall_ms?;
            Some(r.process_wall.as_secs_f64() * 1000.0 - own)
        })
        .collect();
    let wall_s = s.wall.as_secs_f64();
    Summary {
        version: 1,
        passed: failures.is_empty(),
        seeds: Seeds {
            first: s.seeds.first().copied().unwrap_or(0),
            count: s.seeds.len(),
        },
        shard: s.shard.clone(),
        merged_from: None,
        jobs: s.jobs,
        wall_s,
        runs: s.records.len(),
        failed_runs: failures.len(),
        busy: if wall_s > 0.0 {
            busy_s / (wall_s * s.jobs as f64)
        } else {
            0.0
        },
        overhead_ms_mean: mean(&overheads),
        out_dir: s.out_dir.to_path_buf(),
        labs,
        failures,
    }
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "-".into(), f)
}

/// Prints the tables, the failures and the totals to stdout.
pub fn print(s: &Summary) {
    print_seeds(s);
    for lab in &s.labs {
        print_lab(lab, s.seeds.count);
    }
    if !s.failures.is_empty() {
        print_failures(&s.failures);
    }
    print_totals(s);
}

/// Which seeds a shard or a merged grade covers.
fn print_seeds(s: &Summary) {
    if let Some(sh) = &s.shard {
        crate::say!(
            "shard {}/{}: seeds {}..={} of {}..={} (lab grade merge makes one table of the shards)",
            sh.index,
            sh.of,
            s.seeds.first,
            (s.seeds.first + s.seeds.count as u64).saturating_sub(1),
            sh.all.first,
            (sh.all.first + sh.all.count as u64).saturating_sub(1)
        );
    }
    if let Some(n) = s.merged_from {
        crate::say!(
            "merged from {n} summaries: seeds {}..={}",
            s.seeds.first,
            (s.seeds.first + s.seeds.count as u64).saturating_sub(1)
        );
    }
}

/// A lab's table: a line per test.
fn print_lab(lab: &LabSummary, seeds: usize) {
    crate::say!();
    crate::say!(
        "{}: {} tests passed on all {} seeds (grade {})",
        lab.lab,
        lab.tests_passed,
        seeds,
        lab.grade
    );
    let width = lab
        .results
        .iter()
        .map(|r| r.test.len())
        .max()
        .unwrap_or(4)
        .max(4);
    crate::say!(
        "  {:<width$}  {:>5}  {:>5}  {:>22}  {:>9}  {:>8}",
        "test",
        "runs",
        "fail",
        "wall (mean ± sd)",
        "virtual",
        "RPCs"
    );
    for r in &lab.results {
        crate::say!(
            "  {:<width$}  {:>5}  {:>5}  {:>22}  {:>9}  {:>8}  {}",
            r.test,
            r.runs,
            r.failures,
            format!("{} ± {}", secs(r.wall_mean_s), secs(r.wall_sd_s)),
            opt(r.virtual_mean_s, |v| format!("{v:.1} s")),
            opt(r.rpcs_mean, |v| format!("{v:.0}")),
            if r.failures == 0 { "ok" } else { "FAILED" }
        );
    }
}

/// Every failed run: where, why, how to reproduce it, its log.
fn print_failures(failures: &[FailureSummary]) {
    crate::say!();
    crate::say!("failing seeds ({}):", failures.len());
    let mut last: Option<(&str, &str)> = None;
    for f in failures {
        if last != Some((&f.lab, &f.test)) {
            crate::say!("  {} {}", f.lab, f.test);
            last = Some((&f.lab, &f.test));
        }
        let at = match (f.virtual_s, &f.node) {
            (Some(t), Some(n)) => format!(" at {t:.6}s on {n}"),
            (Some(t), None) => format!(" at {t:.6}s"),
            _ => String::new(),
        };
        let not_det = if f.reproduced == Some(false) {
            " [did NOT fail the same way on a second run: nondeterminism?]"
        } else {
            ""
        };
        crate::say!(
            "    seed {}{at}: {}{not_det}",
            f.seed,
            f.message.lines().next().unwrap_or("")
        );
        crate::say!("      {}", f.reproduce);
        if let Some(log) = &f.log {
            crate::say!("      log: {}", short_path(log).display());
        }
    }
    crate::say!("  replay one with its logs, trace and picture: lab replay LAB TEST --seed S");
}

/// The runs, the time, the overhead and the grades.
fn print_totals(s: &Summary) {
    crate::say!();
    crate::say!(
        "{} runs ({} failed) in {:.2} s on {} workers ({:.0}% busy running tests)",
        s.runs,
        s.failed_runs,
        s.wall_s,
        s.jobs,
        s.busy * 100.0
    );
    if let Some(o) = s.overhead_ms_mean {
        crate::say!(
            "per run, beyond the test body's own wall time (process start, libtest, harness, \
             shared by a batch): {o:.2} ms on average"
        );
    }
    let grades: Vec<String> = s
        .labs
        .iter()
        .map(|l| format!("{} {}", l.lab, l.grade))
        .collect();
    crate::say!(
        "{}: {}",
        if s.passed { "PASSED" } else { "FAILED" },
        grades.join(", ")
    );
}

/// `path` relative to the current directory when it is under it (shorter
/// to read and to paste).
pub fn short_path(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}

fn secs(s: f64) -> String {
    if s < 0.01 {
        format!("{:.2} ms", s * 1000.0)
    } else if s < 1.0 {
        format!("{:.1} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

/// Writes a summary or a score file as pretty JSON to `path` (creating its
/// directory).
pub fn write_json(s: &impl Serialize, path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(s).unwrap_or_else(|_| "{}".into());
    std::fs::write(path, json + "\n").with_context(|| format!("cannot write {}", path.display()))
}
