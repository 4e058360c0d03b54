//! `lab grade`: every selected test on many seeds, in parallel.
//!
//! Guarantees:
//! - Seeds are `first..first+N` (default `1..=N`), the same for everyone:
//!   two graders of the same code get the same table.
//! - Runs are ordered seed by seed across all tests, so failures of every
//!   test show up early, and spread over `--jobs` worker threads, each
//!   running one test process at a time.
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
use crate::error::{EXIT_FAILED, EXIT_OK, Result, io};
use crate::outcome::{Failure, Outcome, Status};
use crate::report::{self, RunRecord};
use crate::run::RunSpec;
use crate::workspace::{TestCase, Workspace, filter_tests};

/// Arguments of `lab grade`.
#[derive(clap::Args, Debug)]
pub struct GradeArgs {
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
    /// Run every seed twice and compare the traces (LAB_DETERMINISM=1).
    #[arg(long)]
    pub determinism: bool,
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
}

/// Runs `lab grade`; returns the exit code.
pub fn grade(args: GradeArgs) -> Result<u8> {
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
    let ws = Workspace::load(args.manifest_path.as_deref())?;
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
    std::fs::create_dir_all(&out).map_err(io(format!("cannot create {}", out.display())))?;
    let json_path = args
        .json
        .clone()
        .unwrap_or_else(|| out.join("summary.json"));

    let seeds: Vec<u64> = (0..args.seeds).map(|k| args.first_seed + k).collect();
    let started = Instant::now();
    let records = run_all(&args, &tests, &seeds, jobs, &out);
    let wall = started.elapsed();

    let summary = report::summarize(&report::Setup {
        tests: &tests,
        seeds: &seeds,
        jobs,
        wall,
        out_dir: &out,
        records: &records,
    });
    report::print(&summary);
    report::write_json(&summary, &json_path)?;
    println!("summary: {}", json_path.display());
    if summary.failed_runs > 0 {
        println!("logs of failing runs: {}", out.display());
        Ok(EXIT_FAILED)
    } else {
        Ok(EXIT_OK)
    }
}

/// Runs every (test, seed) on `jobs` workers; returns one record per run, in
/// job order.
fn run_all(
    args: &GradeArgs,
    tests: &[TestCase],
    seeds: &[u64],
    jobs: usize,
    out: &Path,
) -> Vec<RunRecord> {
    let work: Vec<(usize, u64)> = seeds
        .iter()
        .flat_map(|&s| (0..tests.len()).map(move |t| (t, s)))
        .collect();
    let total = work.len();
    let bar = if args.no_progress {
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
    let (job_tx, job_rx) = crossbeam_channel::unbounded::<(usize, (usize, u64))>();
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<(usize, RunRecord)>();
    for job in work.iter().copied().enumerate() {
        let _ = job_tx.send(job);
    }
    drop(job_tx);
    let timeout = Duration::from_secs_f64(args.timeout);
    let mut records: Vec<Option<RunRecord>> = vec![None; total];
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(total) {
            let (job_rx, done_tx) = (job_rx.clone(), done_tx.clone());
            scope.spawn(move || {
                for (i, (t, seed)) in job_rx.iter() {
                    let record = run_one(args, &tests[t], t, seed, timeout, out);
                    if done_tx.send((i, record)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut failed = 0;
        for (i, record) in done_rx.iter() {
            bar.inc(1);
            if !record.outcome.passed() {
                failed += 1;
                bar.set_message(format!("{failed} failed"));
                let t = &tests[record.test];
                let why = record
                    .outcome
                    .failure
                    .as_ref()
                    .map_or("", |f| f.message.lines().next().unwrap_or(""));
                bar.println(format!(
                    "FAIL {} {} seed {}: {why}",
                    t.lab, t.name, record.seed
                ));
            }
            records[i] = Some(record);
        }
    });
    bar.finish_and_clear();
    records.into_iter().flatten().collect()
}

/// Runs one (test, seed); on failure, reruns it with logs and keeps them.
fn run_one(
    args: &GradeArgs,
    test: &TestCase,
    index: usize,
    seed: u64,
    timeout: Duration,
    out: &Path,
) -> RunRecord {
    let spec = RunSpec {
        test,
        seed,
        log: None,
        trace: None,
        determinism: args.determinism,
        backtrace: false,
        timeout,
        echo: false,
    };
    let (outcome, wall, output) = match spec.run() {
        Ok(r) => (r.outcome, r.wall, r.output),
        Err(e) => (
            Outcome {
                status: Status::Failed,
                stats: None,
                failure: Some(Failure {
                    message: e.message.clone(),
                    ..Failure::default()
                }),
            },
            Duration::ZERO,
            e.message,
        ),
    };
    let mut record = RunRecord {
        test: index,
        seed,
        wall,
        outcome,
        reproduce: spec.reproduce(),
        log: None,
        reproduced: None,
    };
    if record.outcome.passed() {
        return record;
    }
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
                let same = !r.outcome.passed()
                    && r.outcome
                        .failure
                        .as_ref()
                        .map(|f| (&f.message, f.virtual_s))
                        == record
                            .outcome
                            .failure
                            .as_ref()
                            .map(|f| (&f.message, f.virtual_s));
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
                    text.push_str(&output);
                }
            }
            Err(e) => {
                text.push_str(&format!("# second run could not start: {e}\n\n{output}"));
            }
        }
    } else {
        text.push('\n');
        text.push_str(&output);
    }
    let path = out
        .join(&test.lab)
        .join(format!("{}-{seed}.log", file_safe(&test.name)));
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&path, text));
    record.log = match written {
        Ok(()) => Some(path),
        Err(_) => None,
    };
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
    fn file_names() {
        assert_eq!(file_safe("a::b c/d"), "a-b_c_d");
    }
}
