//! `lab autograde`: grade a student's submission as course staff do.
//!
//! ```text
//! lab autograde SUBMISSION --lab raft [--seeds 10] [--results results.json]
//! ```
//!
//! Run in the course's own workspace (the reference). It assembles a fresh
//! workspace from the course's framework and graders — the same files `lab
//! handout --solution` writes — and puts into it only the student's files of
//! the lab, taken from SUBMISSION; then it grades the lab's tests on the
//! seeds asked for and writes a score file in the shape Gradescope's
//! autograder reads (`results.json`). This is 6.5840's hand-in build, which
//! restores the course's tests before grading.
//!
//! Guarantees:
//! - **The student's files** are the lab's files that hold solution blocks
//!   (the files its page calls "yours"), in the lab and in every lab it
//!   builds on (kvraft grades the student's raft), plus new `.rs` files the
//!   student added under those labs' `src/` (outside `src/framework/`).
//!   Nothing else is read from SUBMISSION: a changed grader, framework or
//!   `Cargo.toml` gains nothing (the output lists them as ignored). A
//!   student file missing from SUBMISSION is graded as the handout's stub; a
//!   symbolic link is not followed.
//! - A test scores its points only if it passes on every seed (the course's
//!   rule: a test that fails one run in ten fails). Each test's output says
//!   on how many seeds it failed, the first failure's message and the
//!   command that reproduces it in the student's own workspace.
//! - A submission that does not build scores 0 with the compiler's errors as
//!   the output; the file is written whatever happens, except when the tool
//!   itself cannot run (exit 2). Exit 0 when every test passed, 1 otherwise.

// The tool runs outside any simulation (the wall clock times the grade).
#![allow(clippy::disallowed_methods)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::bail;
use crate::error::{EXIT_FAILED, EXIT_OK, Result};
use crate::grade::GradeArgs;
use crate::handout::{self, Mode, OutFile, Source};
use crate::report::{self, Summary};
use crate::workspace::{Workspace, filter_tests};
use anyhow::Context as _;

/// Arguments of `lab autograde`.
#[derive(clap::Args, Debug)]
pub struct AutogradeArgs {
    /// The student's workspace (their copy of the handout).
    #[arg(value_name = "SUBMISSION")]
    submission: PathBuf,
    /// The lab to grade (the labs it builds on are taken from the
    /// submission too).
    #[arg(long)]
    lab: String,
    /// Only tests whose name contains FILTER (repeatable), e.g. a part: 3a.
    #[arg(long = "test", short = 't', value_name = "FILTER")]
    tests: Vec<String>,
    /// Seeds per test.
    #[arg(long, short = 'n', default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1, value_name = "SEED")]
    first_seed: u64,
    /// Parallel workers; default: the number of cores.
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u64).range(1..))]
    jobs: Option<u64>,
    /// Wall-clock seconds after which one run is killed and fails.
    #[arg(long, default_value_t = 600.0, value_name = "SECS")]
    timeout: f64,
    /// Points of each test.
    #[arg(long, default_value_t = 1.0, value_name = "POINTS")]
    points: f64,
    /// Where to write the score file.
    #[arg(long, default_value = "results.json", value_name = "FILE")]
    results: PathBuf,
    /// Where the graded workspace is assembled and built; reusing it
    /// between submissions reuses its build (default:
    /// target/autograde/LAB in the course's workspace).
    #[arg(long, value_name = "DIR")]
    work: Option<PathBuf>,
    /// Where cargo builds the graded workspace (default: WORK/target);
    /// CARGO_TARGET_DIR is not used, so the course's own build is never
    /// overwritten by a submission's.
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,
    /// The course's workspace Cargo.toml (default: found from the current
    /// directory).
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
}

/// The score file, in the shape Gradescope's autograder reads.
#[derive(Debug, Serialize, Deserialize)]
pub struct Results {
    /// Points scored.
    pub score: f64,
    /// Points possible.
    pub max_score: f64,
    /// Wall seconds of the build and the grade.
    pub execution_time: f64,
    /// What the student sees above the tests: what was graded, how.
    pub output: String,
    /// One entry per test.
    pub tests: Vec<TestResult>,
}

/// One test's score.
#[derive(Debug, Serialize, Deserialize)]
pub struct TestResult {
    /// `LAB TEST`.
    pub name: String,
    /// Points scored.
    pub score: f64,
    /// Points possible.
    pub max_score: f64,
    /// `passed` or `failed`.
    pub status: String,
    /// The seeds it failed on, the first failure and its command.
    pub output: String,
}

/// Which files of the submission were used, and which not.
#[derive(Debug, Default)]
struct Taken {
    /// The student's files, from the submission.
    used: Vec<String>,
    /// Student files the submission lacks (graded as stubs).
    missing: Vec<String>,
    /// New source files of the student's.
    added: Vec<String>,
    /// Files of the course's that the submission changed (not used).
    ignored: Vec<String>,
}

/// Runs `lab autograde`; returns the exit code.
pub fn autograde(args: AutogradeArgs) -> Result<u8> {
    let started = Instant::now();
    if !args.submission.is_dir() {
        bail!(
            "{} is not a directory: give the student's workspace (their copy of the handout)",
            args.submission.display()
        );
    }
    if !(args.points.is_finite() && args.points > 0.0) {
        bail!("--points must be a positive number, got {}", args.points);
    }
    let source = Source::load(args.manifest_path.as_deref())?;
    let labs = source.select(None, std::slice::from_ref(&args.lab))?;
    let work = args
        .work
        .clone()
        .unwrap_or_else(|| source.root.join("target").join("autograde").join(&args.lab));
    let taken = assemble(&source, &labs, &args.submission, &work)?;
    let manifest = work.join("Cargo.toml");
    let target = args
        .target_dir
        .clone()
        .unwrap_or_else(|| work.join("target"));
    let results = match build(&manifest, &target, &args.lab)? {
        Err(errors) => {
            let names = reference_tests(&args);
            build_failed(&args, &taken, &errors, &names)
        }
        Ok(()) => {
            let (summary, _) =
                crate::grade::run_grade(&grade_args(&args, &work, &manifest, &target))?;
            scored(&args, &taken, &summary)
        }
    };
    let results = Results {
        execution_time: started.elapsed().as_secs_f64(),
        ..results
    };
    report::write_json(&results, &args.results)?;
    crate::say!(
        "{}: {} of {} points; score file: {}",
        args.lab,
        results.score,
        results.max_score,
        report::short_path(&args.results).display()
    );
    let all = results.max_score > 0.0 && results.score >= results.max_score;
    Ok(if all { EXIT_OK } else { EXIT_FAILED })
}

/// Writes the course's workspace for `labs` to `work` with the student's
/// files from `submission` in place.
fn assemble(source: &Source, labs: &[String], submission: &Path, work: &Path) -> Result<Taken> {
    let solution = source.render(labs, Mode::Solution)?;
    let stubs = source.render(labs, Mode::Handout)?;
    let mut taken = Taken::default();
    let mut files: Vec<OutFile> = Vec::with_capacity(solution.len());
    for (sol, stub) in solution.into_iter().zip(stubs) {
        debug_assert_eq!(sol.path, stub.path, "both renderings list the same files");
        let rel = sol.path.to_string_lossy().replace('\\', "/");
        if sol.blocks == 0 {
            // Top-level files (the workspace manifest, the README, CI) differ
            // with the labs a handout holds: not worth a word.
            let course_code = rel.contains('/') && !rel.starts_with(".ci/");
            if course_code
                && read_regular(&submission.join(&sol.path)).is_some_and(|b| b != stub.bytes)
            {
                taken.ignored.push(rel);
            }
            files.push(stub);
            continue;
        }
        match read_regular(&submission.join(&sol.path)) {
            Some(bytes) => {
                taken.used.push(rel);
                files.push(OutFile { bytes, ..stub });
            }
            None => {
                taken.missing.push(rel);
                files.push(stub);
            }
        }
    }
    for lab in labs {
        for rel in added_sources(submission, lab, &files)? {
            if let Some(bytes) = read_regular(&submission.join(&rel)) {
                files.push(OutFile {
                    path: PathBuf::from(&rel),
                    bytes,
                    executable: false,
                    blocks: 0,
                });
                taken.added.push(rel);
            }
        }
    }
    let stamp = format!(
        "# Written by `lab autograde`; it replaces this directory's files (not target/).\nlabs = {labs:?}\n"
    );
    handout::write_tree(work, &files, true, &stamp)?;
    Ok(taken)
}

/// The bytes of a regular file (a symbolic link is not followed), if any.
fn read_regular(path: &Path) -> Option<Vec<u8>> {
    let meta = fs::symlink_metadata(path).ok()?;
    meta.file_type()
        .is_file()
        .then(|| fs::read(path).ok())
        .flatten()
}

/// `.rs` files of the submission under `LAB/src/` (not `src/framework/`)
/// that the course's workspace does not have.
fn added_sources(submission: &Path, lab: &str, files: &[OutFile]) -> Result<Vec<String>> {
    let src = submission.join(lab).join("src");
    if !src.is_dir() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    handout::source::walk(submission, &src, &mut found)?;
    let framework = format!("{lab}/src/framework/");
    Ok(found
        .into_iter()
        .filter(|rel| rel.ends_with(".rs") && !rel.starts_with(&framework))
        .filter(|rel| !files.iter().any(|f| f.path == Path::new(rel)))
        .collect())
}

/// Builds the lab's tests; `Ok(Err(messages))` when the code does not
/// compile.
fn build(manifest: &Path, target: &Path, lab: &str) -> Result<std::result::Result<(), String>> {
    crate::say!("building {lab} with the submission's files ...");
    let out = crate::workspace::cargo()
        .args(["build", "--release", "--tests", "--quiet", "-p", lab])
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target)
        .env("CARGO_TERM_COLOR", "never")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| "cannot run `cargo build`")?;
    if out.status.success() {
        return Ok(Ok(()));
    }
    let text = String::from_utf8_lossy(&out.stderr);
    // The first errors are the ones to read; a score file stays small.
    const MAX: usize = 20_000;
    let cut = text.char_indices().nth(MAX).map_or(text.len(), |(i, _)| i);
    let more = if cut < text.len() { "\n[...]" } else { "" };
    Ok(Err(format!("{}{more}", &text[..cut])))
}

fn grade_args(args: &AutogradeArgs, work: &Path, manifest: &Path, target: &Path) -> GradeArgs {
    GradeArgs {
        command: None,
        labs: vec![args.lab.clone()],
        seeds: args.seeds,
        first_seed: args.first_seed,
        jobs: args.jobs,
        tests: args.tests.clone(),
        exact: false,
        timeout: args.timeout,
        log: "off".into(),
        batch: None,
        determinism: false,
        shard: None,
        out: Some(work.join("grade")),
        json: None,
        no_progress: true,
        manifest_path: Some(manifest.to_path_buf()),
        target_dir: Some(target.to_path_buf()),
    }
}

/// What was graded, for the top of the score file.
fn header(args: &AutogradeArgs, taken: &Taken) -> String {
    let last = args.first_seed + args.seeds - 1;
    let mut out = format!(
        "{} graded with the course's framework and graders on seeds {}..={} (a test scores \
         only if it passes on every seed).\n",
        args.lab, args.first_seed, last
    );
    let list = |out: &mut String, what: &str, files: &[String]| {
        if !files.is_empty() {
            out.push_str(&format!("{what}:\n  {}\n", files.join("\n  ")));
        }
    };
    list(&mut out, "your files", &taken.used);
    list(&mut out, "added files of yours", &taken.added);
    list(
        &mut out,
        "MISSING from the submission (graded as the handout's stubs)",
        &taken.missing,
    );
    list(
        &mut out,
        "changed, but not yours (the course's copies were used)",
        &taken.ignored,
    );
    out
}

/// The lab's tests as the course's own workspace lists them (to score each
/// 0 when the submission does not build); none if that fails too.
fn reference_tests(args: &AutogradeArgs) -> Vec<String> {
    let listed = Workspace::load(args.manifest_path.as_deref()).and_then(|ws| {
        let labs = ws.select(std::slice::from_ref(&args.lab))?;
        ws.build_and_list(&labs, true)
    });
    let tests = listed.unwrap_or_default();
    filter_tests(tests, &args.tests, false)
        .into_iter()
        .map(|t| format!("{} {}", t.lab, t.name))
        .collect()
}

fn build_failed(args: &AutogradeArgs, taken: &Taken, errors: &str, tests: &[String]) -> Results {
    Results {
        score: 0.0,
        max_score: args.points * tests.len() as f64,
        execution_time: 0.0,
        output: format!(
            "{}\nTHE SUBMISSION DOES NOT BUILD: no test could run.\n\n{errors}",
            header(args, taken)
        ),
        tests: tests
            .iter()
            .map(|name| TestResult {
                name: name.clone(),
                score: 0.0,
                max_score: args.points,
                status: "failed".into(),
                output: "the submission does not build (the compiler's errors are above)".into(),
            })
            .collect(),
    }
}

fn scored(args: &AutogradeArgs, taken: &Taken, summary: &Summary) -> Results {
    let mut tests = Vec::new();
    for lab in &summary.labs {
        for r in &lab.results {
            let passed = r.failures == 0;
            let output = if passed {
                format!("passed on all {} seeds", r.runs)
            } else {
                failed_output(
                    summary,
                    &lab.lab,
                    &r.test,
                    r.failures,
                    r.runs,
                    &r.failing_seeds,
                )
            };
            tests.push(TestResult {
                name: format!("{} {}", lab.lab, r.test),
                score: if passed { args.points } else { 0.0 },
                max_score: args.points,
                status: if passed { "passed" } else { "failed" }.into(),
                output,
            });
        }
    }
    let score = tests.iter().map(|t| t.score).sum();
    let max_score = tests.iter().map(|t| t.max_score).sum();
    let grades: Vec<String> = summary
        .labs
        .iter()
        .map(|l| format!("{} {}", l.lab, l.grade))
        .collect();
    Results {
        score,
        max_score,
        execution_time: 0.0,
        output: format!(
            "{}\ntests passed: {}\n",
            header(args, taken),
            grades.join(", ")
        ),
        tests,
    }
}

fn failed_output(
    summary: &Summary,
    lab: &str,
    test: &str,
    failures: usize,
    runs: usize,
    seeds: &[u64],
) -> String {
    let shown: Vec<String> = seeds.iter().take(10).map(u64::to_string).collect();
    let more = if seeds.len() > shown.len() {
        ", ..."
    } else {
        ""
    };
    let mut out = format!(
        "FAILED on {failures} of {runs} seeds (seeds {}{more})\n",
        shown.join(", ")
    );
    if let Some(f) = summary
        .failures
        .iter()
        .find(|f| f.lab == lab && f.test == test)
    {
        out.push_str(&format!("seed {}: {}\n", f.seed, f.message));
        if let (Some(t), Some(n)) = (f.virtual_s, &f.node) {
            out.push_str(&format!("at virtual time {t:.6} s on {n}\n"));
        }
        out.push_str(&format!("reproduce in your workspace: {}\n", f.reproduce));
    }
    out
}
