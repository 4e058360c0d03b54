//! `lab grade`: every selected test on many seeds, in parallel.
//!
//! Guarantees:
//! - Seeds are `first..first+N` (default `1..=N`), the same for everyone:
//!   two graders of the same code get the same table.
//! - Every test's first seed runs first (so every test shows up early);
//!   the rest follow in batches: one test process runs several consecutive
//!   seeds with `LAB_RUNS` (`--batch`, by default sized from the first
//!   seed's wall time), which saves the few milliseconds each process costs
//!   to start. A run's result never depends on its batch: one seed, one
//!   run. A batch stops at its first failing seed; the seeds after it go
//!   back to the queue. Workers (`--jobs`) each run one process at a time.
//! - A run's wall time is the test's own `wall_ms` stat when it reports one,
//!   else its process's wall time (divided evenly within a batch).
//! - Only failing runs leave logs: the failing seed is run a second time
//!   with `RUST_LOG=<--log>` (deterministic: the same run, now with its log
//!   lines), and that output goes to `<out>/<lab>/<test>-<seed>.log`. The
//!   second run also checks that the seed reproduces the failure.
//! - A JSON summary goes to `<out>/summary.json` (or `--json`), whatever the
//!   result. Exit code 1 if any run failed, 0 otherwise.

// The tool runs outside any simulation: worker threads run test processes,
// and the wall clock times them and names the output directory.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};

use crate::bail;
use crate::error::{EXIT_FAILED, EXIT_OK, Result};
use crate::outcome::{Failure, Outcome, Status};
use crate::report::{self, RunRecord, Shard};
use crate::run::RunSpec;
use crate::workspace::{TestCase, Workspace, filter_tests};
use anyhow::Context as _;

/// Arguments of `lab grade`.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GradeArgs {
    /// `lab grade merge`: one table from the summaries of shards.
    #[command(subcommand)]
    pub command: Option<GradeCommand>,
    /// Labs to grade (workspace packages with simulated tests); default:
    /// all of them.
    pub labs: Vec<String>,
    /// Seeds per test.
    #[arg(long, short = 'n', default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: u64,
    /// The first seed; run k uses seed FIRST + k.
    #[arg(long, default_value_t = 1, value_name = "SEED")]
    pub first_seed: u64,
    /// Parallel workers (test processes at a time); default: the number of
    /// cores.
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// Only tests whose name contains FILTER (repeatable).
    #[arg(long = "test", short = 't', value_name = "FILTER")]
    pub tests: Vec<String>,
    /// Match --test filters exactly rather than as substrings.
    #[arg(long)]
    pub exact: bool,
    /// Wall-clock seconds after which one run is killed and counted as a
    /// failure.
    #[arg(long, default_value_t = 600.0, value_name = "SECS")]
    pub timeout: f64,
    /// RUST_LOG of the second run of a failing seed, whose output is kept;
    /// "off" keeps the first run's output and skips the second run.
    #[arg(long, default_value = "debug", value_name = "LEVEL")]
    pub log: String,
    /// Seeds per test process (LAB_RUNS); default: chosen per test from
    /// its first seed's wall time (about 0.5 s of work per process, at
    /// most 200 seeds). 1 runs every seed in its own process.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: Option<u64>,
    /// Run every seed twice and compare the traces (LAB_DETERMINISM=1).
    #[arg(long)]
    pub determinism: bool,
    /// Grade only shard K of N (K from 1): the seeds are cut into N runs of
    /// consecutive seeds and this grade takes the K-th, so N machines given
    /// the same --seeds and --first-seed share the work. `lab grade merge`
    /// makes one table of their summaries.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Directory for the summary and the logs of failing runs (default:
    /// lab-runs/<UTC time> under the workspace root).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where to write the JSON summary (default: <out>/summary.json).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// The workspace's Cargo.toml (default: found from the current
    /// directory, as cargo does).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Where cargo builds the tests (cargo's --target-dir; default: its
    /// own default).
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
}

/// The subcommands of `lab grade`.
#[derive(clap::Subcommand, Debug)]
pub enum GradeCommand {
    /// Merge the JSON summaries of `lab grade --shard K/N` runs (or of any
    /// grades of disjoint seeds) into one table and one summary; exits 1 if
    /// any run failed, 2 if a shard is missing or two overlap.
    Merge(crate::merge::MergeArgs),
}

/// `--shard K/N`.
fn parse_shard(text: &str) -> std::result::Result<Shard, String> {
    let bad = || format!("expected K/N with 1 <= K <= N (e.g. 2/4), got {text:?}");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (index, of) = (
        k.trim().parse::<u64>().map_err(|_| bad())?,
        n.trim().parse::<u64>().map_err(|_| bad())?,
    );
    if index == 0 || index > of {
        return Err(bad());
    }
    Ok(Shard { index, of })
}

/// The seeds of shard `index` of `of` among `count` seeds from `first`:
/// the `index`-th of `of` runs of consecutive seeds, as even as can be.
pub fn shard_seeds(first: u64, count: u64, shard: Shard) -> Vec<u64> {
    let lo = (shard.index - 1) * count / shard.of;
    let hi = shard.index * count / shard.of;
    (lo..hi).map(|k| first + k).collect()
}

/// Runs `lab grade`; returns the exit code.
pub fn grade(args: GradeArgs) -> Result<u8> {
    if let Some(GradeCommand::Merge(m)) = args.command {
        return crate::merge::merge(m);
    }
    let (summary, json_path) = run_grade(&args)?;
    report::print(&summary);
    crate::say!("summary: {}", report::short_path(&json_path).display());
    if summary.failed_runs > 0 {
        crate::say!(
            "logs of failing runs: {}",
            report::short_path(&summary.out_dir).display()
        );
        Ok(EXIT_FAILED)
    } else {
        Ok(EXIT_OK)
    }
}

/// Runs a grade and writes its JSON summary, printing nothing but cargo's
/// build progress and the progress bar; returns the summary and where it
/// was written.
pub fn run_grade(args: &GradeArgs) -> Result<(report::Summary, PathBuf)> {
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        bail!(
            "--timeout must be a positive number of seconds, got {}",
            args.timeout
        );
    }
    if args.first_seed.checked_add(args.seeds - 1).is_none() {
        bail!(
            "--first-seed {} + --seeds {} overflows a u64 seed",
            args.first_seed,
            args.seeds
        );
    }
    let mut ws = Workspace::load(args.manifest_path.as_deref())?;
    ws.target_dir.clone_from(&args.target_dir);
    let labs = ws.select(&args.labs)?;
    let all = ws.build_and_list(&labs, false)?;
    let names: Vec<String> = all
        .iter()
        .map(|t| format!("{} {}", t.lab, t.name))
        .collect();
    let tests = filter_tests(all, &args.tests, args.exact);
    if tests.is_empty() {
        let lab_names: Vec<&str> = labs.iter().map(|l| l.name.as_str()).collect();
        bail!(
            "no tests matched {} in {}; the tests are:\n  {}",
            if args.tests.is_empty() {
                "(no filter)".to_string()
            } else {
                format!("--test {}", args.tests.join(" --test "))
            },
            lab_names.join(", "),
            if names.is_empty() {
                "(none)".into()
            } else {
                names.join("\n  ")
            }
        );
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u64))
        as usize;
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None => fresh_dir(&ws.root.join("lab-runs"))?,
    };
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let json_path = args
        .json
        .clone()
        .unwrap_or_else(|| out.join("summary.json"));

    let seeds: Vec<u64> = match args.shard {
        Some(shard) if shard.of > args.seeds => bail!(
            "--shard {}/{}: {} seeds cannot be cut into {} shards; grade at least as many \
             seeds as shards",
            shard.index,
            shard.of,
            args.seeds,
            shard.of
        ),
        Some(shard) => shard_seeds(args.first_seed, args.seeds, shard),
        None => (0..args.seeds).map(|k| args.first_seed + k).collect(),
    };
    let started = Instant::now();
    let records = run_all(args, &tests, &seeds, jobs, &out);
    let wall = started.elapsed();

    let summary = report::summarize(&report::Setup {
        tests: &tests,
        seeds: &seeds,
        shard: args.shard.map(|shard| report::ShardOf {
            index: shard.index,
            of: shard.of,
            all: report::Seeds {
                first: args.first_seed,
                count: args.seeds as usize,
            },
        }),
        jobs,
        wall,
        out_dir: &out,
        records: &records,
    });
    report::write_json(&summary, &json_path)?;
    Ok((summary, json_path))
}

/// A unit of work: one process running `count` seeds of one test.
#[derive(Debug, Clone, Copy)]
struct Job {
    test: usize,
    first: u64,
    count: u64,
}

/// What a worker sends back: the runs it could attribute, and the seeds it
/// must hand back to the queue (those after a failure in a batch, or every
/// seed of a batch whose failure names no seed).
struct Done {
    records: Vec<RunRecord>,
    requeue: Vec<Job>,
    /// Wall time of the process per seed it ran (for choosing batch sizes).
    wall_per_seed: Duration,
}

/// Wall time a batch should take, when `--batch` is not given.
const BATCH_TARGET: Duration = Duration::from_millis(500);
/// Most seeds one process runs, when `--batch` is not given.
const BATCH_MAX: u64 = 200;

/// Seeds per process for the rest of a test's seeds, from how long its
/// first seed took: about [`BATCH_TARGET`] of work per process, at most
/// [`BATCH_MAX`] seeds, and never fewer batches than workers.
fn batch_size(fixed: Option<u64>, wall_per_seed: Duration, remaining: u64, jobs: usize) -> u64 {
    if let Some(k) = fixed {
        return k.max(1);
    }
    let per = wall_per_seed.as_secs_f64().max(1e-4);
    let by_time = (BATCH_TARGET.as_secs_f64() / per).floor() as u64;
    let spread = remaining.div_ceil(jobs as u64).max(1);
    by_time.clamp(1, BATCH_MAX).min(spread)
}

/// The progress bar of a grade (hidden with `--no-progress`).
fn progress_bar(hidden: bool, total: usize) -> ProgressBar {
    let bar = if hidden {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40.cyan/blue}] {pos}/{len} runs, {msg} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message("0 failed");
    bar
}

/// The jobs that run `count` seeds of `test` from `first` on, `k` seeds
/// per process.
fn batches(test: usize, first: u64, count: u64, k: u64) -> Vec<Job> {
    let mut jobs = Vec::new();
    let mut s = first;
    while s < first + count {
        let n = k.max(1).min(first + count - s);
        jobs.push(Job {
            test,
            first: s,
            count: n,
        });
        s += n;
    }
    jobs
}

/// The line printed above the bar when a run fails.
fn fail_line(t: &TestCase, record: &RunRecord) -> String {
    let why = record
        .outcome
        .failure
        .as_ref()
        .map_or("", |f| f.message.lines().next().unwrap_or(""));
    format!("FAIL {} {} seed {}: {why}", t.lab, t.name, record.seed)
}

/// Runs every (test, seed) on `jobs` workers; returns one record per run.
///
/// Every test's first seed runs first, alone in its process (seed-major
/// order, so each test gets feedback early); its wall time then sets how
/// many of the test's remaining seeds share a process.
fn run_all(
    args: &GradeArgs,
    tests: &[TestCase],
    seeds: &[u64],
    jobs: usize,
    out: &Path,
) -> Vec<RunRecord> {
    let total = tests.len() * seeds.len();
    let bar = progress_bar(args.no_progress, total);
    let (job_tx, job_rx) = crossbeam_channel::unbounded::<Job>();
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<Done>();
    let first = seeds.first().copied().unwrap_or(0);
    let rest = seeds.len() as u64 - 1;
    for test in 0..tests.len() {
        let _ = job_tx.send(Job {
            test,
            first,
            count: 1,
        });
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let mut records: Vec<RunRecord> = Vec::with_capacity(total);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(total) {
            let (job_rx, done_tx) = (job_rx.clone(), done_tx.clone());
            scope.spawn(move || {
                for job in job_rx.iter() {
                    let done = run_job(args, &tests[job.test], job, timeout, out);
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut job_tx = Some(job_tx);
        let mut failed = 0;
        while records.len() < total {
            let Ok(done) = done_rx.recv() else { break };
            if let Some(tx) = &job_tx {
                for job in &done.requeue {
                    let _ = tx.send(*job);
                }
                // A test's first seed is in: queue the rest in batches.
                for r in done.records.iter().filter(|r| r.seed == first && rest > 0) {
                    let k = batch_size(args.batch, done.wall_per_seed, rest, jobs);
                    for job in batches(r.test, first + 1, rest, k) {
                        let _ = tx.send(job);
                    }
                }
            }
            for record in done.records {
                bar.inc(1);
                if !record.outcome.passed() {
                    failed += 1;
                    bar.set_message(format!("{failed} failed"));
                    bar.println(fail_line(&tests[record.test], &record));
                }
                records.push(record);
            }
            if records.len() >= total {
                // Workers stop when the queue closes.
                job_tx = None;
            }
        }
        drop(job_tx);
    });
    bar.finish_and_clear();
    records.sort_by_key(|r| (r.seed, r.test));
    records
}

/// Runs `spec`; a process that cannot be started is a failed run.
fn run_or_fail(spec: &RunSpec<'_>) -> (Outcome, Duration, String) {
    match spec.run() {
        Ok(r) => (r.outcome, r.wall, r.output),
        Err(e) => (
            Outcome {
                status: Status::Failed,
                stats: None,
                failure: Some(Failure {
                    message: format!("{e:#}"),
                    ..Failure::default()
                }),
            },
            Duration::ZERO,
            format!("{e:#}"),
        ),
    }
}

/// Which seed of `job` failed, if one did and the output names it (a
/// process runs several seeds; labrpc's failure message names the seed).
fn failed_seed(job: Job, outcome: &Outcome) -> Option<u64> {
    let last = job.first + job.count - 1;
    match outcome.status {
        Status::Passed => None,
        _ if job.count == 1 => Some(job.first),
        _ => outcome
            .failure
            .as_ref()
            .and_then(|f| f.seed)
            .filter(|s| (job.first..=last).contains(s)),
    }
}

/// A run's own wall time: its stats line's `wall_ms`, else its share of
/// the process's.
fn own_wall(stats: &Option<crate::outcome::Stats>, per_seed: Duration) -> Duration {
    stats
        .as_ref()
        .and_then(|s| s.wall_ms)
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map_or(per_seed, |ms| Duration::from_secs_f64(ms / 1000.0))
}

/// Runs one job; attributes its outcome to seeds; keeps the log of a
/// failing seed.
fn run_job(args: &GradeArgs, test: &TestCase, job: Job, timeout: Duration, out: &Path) -> Done {
    let spec = RunSpec {
        test,
        seed: job.first,
        runs: job.count,
        log: None,
        trace: None,
        determinism: args.determinism,
        backtrace: false,
        timeout: timeout.saturating_mul(u32::try_from(job.count).unwrap_or(u32::MAX)),
        echo: false,
    };
    let (outcome, wall, output) = run_or_fail(&spec);
    let last = job.first + job.count - 1;
    let failed_seed = failed_seed(job, &outcome);
    if !outcome.passed() && failed_seed.is_none() {
        // A batch failed without naming its seed (killed, aborted): run
        // each of its seeds alone.
        return Done {
            records: Vec::new(),
            requeue: (job.first..=last)
                .map(|s| Job {
                    test: job.test,
                    first: s,
                    count: 1,
                })
                .collect(),
            wall_per_seed: wall,
        };
    }
    let ran = failed_seed.map_or(job.count, |s| s - job.first + 1);
    let passed = failed_seed.map_or(job.count, |s| s - job.first);
    let per_seed = wall / u32::try_from(ran).unwrap_or(u32::MAX).max(1);
    let stats = crate::outcome::parse_all_stats(&output);
    // One stats line per run, in seed order, if the counts agree.
    let stats_of = |k: u64| -> Option<crate::outcome::Stats> {
        let n = stats.len() as u64;
        (n == ran || n == passed)
            .then(|| stats.get(k as usize).cloned())
            .flatten()
    };
    let mut records: Vec<RunRecord> = (0..passed)
        .map(|k| RunRecord {
            test: job.test,
            seed: job.first + k,
            wall: own_wall(&stats_of(k), per_seed),
            process_wall: per_seed,
            outcome: Outcome {
                status: Status::Passed,
                stats: stats_of(k),
                failure: None,
            },
            reproduce: String::new(),
            log: None,
            reproduced: None,
        })
        .collect();
    let mut requeue = Vec::new();
    if let Some(seed) = failed_seed {
        let single = RunSpec {
            seed,
            runs: 1,
            timeout,
            ..spec.clone()
        };
        let mut outcome = outcome;
        outcome.stats = stats_of(passed);
        let mut record = keep_log(args, test, &single, job.test, outcome, &output, out);
        record.wall = own_wall(&record.outcome.stats, per_seed);
        record.process_wall = per_seed;
        records.push(record);
        if seed < last {
            requeue.push(Job {
                test: job.test,
                first: seed + 1,
                count: last - seed,
            });
        }
    }
    for r in &mut records {
        r.reproduce = RunSpec {
            seed: r.seed,
            ..spec.clone()
        }
        .reproduce();
    }
    Done {
        records,
        requeue,
        wall_per_seed: per_seed,
    }
}

/// The record of a failed run (wall times left to the caller): runs its
/// seed again alone with `RUST_LOG` (the same run, now with its log lines;
/// it also shows whether the seed reproduces the failure) and keeps that
/// output as the run's log.
fn keep_log(
    args: &GradeArgs,
    test: &TestCase,
    spec: &RunSpec<'_>,
    index: usize,
    outcome: Outcome,
    output: &str,
    out: &Path,
) -> RunRecord {
    let seed = spec.seed;
    let mut record = RunRecord {
        test: index,
        seed,
        wall: Duration::ZERO,
        process_wall: Duration::ZERO,
        outcome,
        reproduce: spec.reproduce(),
        log: None,
        reproduced: None,
    };
    let mut text = format!(
        "# lab grade: {} {} seed {}\n# reproduce: {}\n# replay:    lab replay {} {} --seed {}\n",
        test.lab, test.name, seed, record.reproduce, test.lab, test.name, seed
    );
    if args.log != "off" {
        let again = RunSpec {
            log: Some(&args.log),
            backtrace: true,
            ..spec.clone()
        };
        match again.run() {
            Ok(r) => {
                let key =
                    |o: &Outcome| o.failure.as_ref().map(|f| (f.message.clone(), f.virtual_s));
                let same = !r.outcome.passed() && key(&r.outcome) == key(&record.outcome);
                record.reproduced = Some(same);
                text.push_str(&format!(
                    "# second run with RUST_LOG={}: {}\n\n{}",
                    args.log,
                    if same {
                        "the same failure (the seed reproduces it)"
                    } else {
                        "NOT the same outcome: the run is not deterministic; the first run's \
                         output follows the second's"
                    },
                    r.output
                ));
                if !same {
                    text.push_str("\n# first run (without logs)\n\n");
                    text.push_str(output);
                }
            }
            Err(e) => {
                text.push_str(&format!("# second run could not start: {e:#}\n\n{output}"));
            }
        }
    } else {
        text.push('\n');
        text.push_str(output);
    }
    let path = out
        .join(&test.lab)
        .join(format!("{}-{seed}.log", file_safe(&test.name)));
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&path, text));
    record.log = written.ok().map(|()| path);
    record
}

/// A test name usable as a file name (`a::b` becomes `a-b`).
pub fn file_safe(name: &str) -> String {
    name.replace("::", "-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A new directory name under `parent`: the UTC time, with a suffix if two
/// grades start in the same second.
fn fresh_dir(parent: &Path) -> Result<PathBuf> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let stamp = utc_stamp(secs);
    for k in 1.. {
        let name = if k == 1 {
            stamp.clone()
        } else {
            format!("{stamp}-{k}")
        };
        let dir = parent.join(name);
        if !dir.exists() {
            return Ok(dir);
        }
    }
    bail!("cannot find a fresh directory under {}", parent.display())
}

/// `YYYYMMDD-HHMMSS` in UTC for Unix time `secs`.
fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(951_782_400), "20000229-000000");
        assert_eq!(utc_stamp(1_700_000_000), "20231114-221320");
    }

    #[test]
    fn shards_cut_the_seeds_into_runs_that_cover_them_once() {
        for (count, of) in [(10, 3), (7, 7), (100, 4), (5, 2)] {
            let all: Vec<u64> = (1..=of)
                .flat_map(|index| shard_seeds(1, count, Shard { index, of }))
                .collect();
            assert_eq!(
                all,
                (1..=count).collect::<Vec<_>>(),
                "{count} seeds, {of} shards"
            );
        }
        assert_eq!(
            shard_seeds(50, 10, Shard { index: 2, of: 3 }),
            vec![53, 54, 55]
        );
        assert!(parse_shard("0/3").is_err() && parse_shard("4/3").is_err());
        assert!(parse_shard("x").is_err() && parse_shard("1/0").is_err());
        assert_eq!(parse_shard("2/3"), Ok(Shard { index: 2, of: 3 }));
    }

    #[test]
    fn file_names() {
        assert_eq!(file_safe("a::b c/d"), "a-b_c_d");
    }
}
