//! `lab`: grade many seeds, replay one, and see it as a picture.
//!
//! ```text
//! lab grade [LAB...] [--seeds N] [--jobs J] [--test FILTER]   many seeds, a table, a JSON summary
//! lab grade ... --shard K/N | lab grade merge SUMMARY...       a grade spread over machines
//! lab replay LAB TEST --seed S [--trace F] [--html F]         one run again: logs, trace, picture
//! lab picture TRACE [--html F]                                 the picture of a trace file
//! lab logs FILE [--topics a,b] [--exclude c]                   a trace or log, one column per node
//! lab diff A.jsonl B.jsonl                                     where two traces of a seed part
//! lab list [LAB...]                                            the labs and their tests
//! lab handout OUT [--labs a,b] [--solution] | --check DIR      the student's workspace
//! lab autograde SUBMISSION --lab LAB [--seeds N]             a student's files in the course's graders
//! lab scenario FILE [--seed S] [--seeds N] [--html F] [--trace F]   a scripted fault scenario
//! lab fuzz LAB [--seeds N] [--first-seed S] [--jobs J] [--until-covered]   swarm fault testing
//! ```
//!
//! One spelling per option: `--seed S` (`-s`) is one seed, `--seeds N`
//! (`-n`) a number of seeds, `--html FILE` the picture written, `--trace
//! FILE` the trace written, `--from`/`--to SECS` a window of virtual time,
//! `--manifest-path PATH` the workspace. Output to a closed pipe (`lab list
//! | head -1`) ends the output quietly, never in a panic.
//!
//! A *lab* is a workspace package that uses labrpc and has integration
//! tests (`tests/*.rs`); its tests are the grader. The tool builds their
//! test binaries once (`cargo test -p LAB --release --no-run`), then runs
//! each (test, seed) as its own process with `LAB_SEED` set: one seed, one
//! run, so a failing seed is a bug report that replays bit for bit.
//!
//! Exit codes: 0 all passed, 1 a run failed, 2 the tool could not do its
//! job (bad arguments, unknown lab or test, build failure, bad file).

mod autograde;
mod diff;
mod error;
mod fuzz;
mod grade;
mod handout;
mod logs;
mod merge;
mod outcome;
mod page;
mod picture;
mod replay;
mod report;
mod run;
mod scenario;
mod trace;
mod workspace;

/// Returns early with an error built by `format!`.
pub(crate) use anyhow::bail;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::Result;

/// Grade, replay and picture the distlab labs on their deterministic
/// simulator.
#[derive(Parser, Debug)]
#[command(name = "lab", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run each selected test on many seeds in parallel; print a table per
    /// lab, every failing seed with its reproduce command, keep the logs of
    /// failing runs, and write a JSON summary. Exits 1 if any run failed.
    Grade(grade::GradeArgs),
    /// Rerun one (test, seed) exactly: print its logs, write its event trace
    /// and its space-time picture. Exits 1 if the run fails.
    Replay(replay::ReplayArgs),
    /// Draw the space-time picture (self-contained HTML) of a trace file
    /// written with LAB_TRACE.
    Picture(picture::PictureArgs),
    /// Print a trace (JSON lines) or a captured log as one column per node,
    /// coloured by topic.
    Logs(logs::LogsArgs),
    /// Compare two traces of one seed: print the first event where they
    /// differ, with the events before it and its node. Exits 1 if they
    /// differ.
    Diff(diff::DiffArgs),
    /// List the labs of the workspace and, with names, their tests.
    List(ListArgs),
    /// Write the student's workspace: every solution block replaced by its
    /// stub, the labs not selected left out, a student README and CI.
    /// `--check DIR` proves no solution line is in DIR; `--solution`
    /// writes the same workspace with the reference in place.
    Handout(handout::HandoutArgs),
    /// Run a scenario file (docs/scenarios.md): a timeline of faults at
    /// virtual times and expectations, deterministic for a seed. Prints the
    /// timeline and the expectations; --html draws the picture with the
    /// steps on it (and, with clients, the history view beside it).
    /// Exits 1 if an expectation failed.
    Scenario(scenario::ScenarioArgs),
    /// Grade a student's submission as course staff do: only the lab's
    /// student files are taken from SUBMISSION and put into the course's
    /// own framework and graders; writes a score file in the shape
    /// Gradescope's autograder reads (results.json). Exits 1 unless every
    /// test passed on every seed.
    Autograde(autograde::AutogradeArgs),
    /// Swarm fault testing (docs/fuzzing.md): each seed draws which fault
    /// kinds are on and how hard, runs them with the safety monitors on,
    /// heals everything and demands progress. Prints every failing seed
    /// (shrunk into a scenario file) and the coverage table. Exits 1 if a
    /// seed failed.
    Fuzz(fuzz::FuzzArgs),
}

/// Arguments of `lab list`.
#[derive(clap::Args, Debug)]
struct ListArgs {
    /// Labs whose tests to list (builds their test binaries); none: just
    /// the labs.
    labs: Vec<String>,
    /// The workspace's Cargo.toml (default: found from the current
    /// directory, as cargo does).
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
}

fn list(args: ListArgs) -> Result<u8> {
    let ws = workspace::Workspace::load(args.manifest_path.as_deref())?;
    if args.labs.is_empty() {
        for lab in ws.labs() {
            crate::say!("{}", lab.name);
        }
        return Ok(error::EXIT_OK);
    }
    let labs = ws.select(&args.labs)?;
    let tests = ws.build_and_list(&labs, true)?;
    for t in &tests {
        crate::say!("{} {}", t.lab, t.name);
    }
    Ok(error::EXIT_OK)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Grade(a) => grade::grade(a),
        Command::Replay(a) => replay::replay(a),
        Command::Picture(a) => picture::picture_command(a),
        Command::Logs(a) => logs::logs(a),
        Command::Diff(a) => diff::diff(a),
        Command::List(a) => list(a),
        Command::Handout(a) => handout::handout(a),
        Command::Scenario(a) => scenario::scenario(a),
        Command::Autograde(a) => autograde::autograde(a),
        Command::Fuzz(a) => fuzz::fuzz(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // Never a panic, even with stderr closed.
            let _ = writeln!(std::io::stderr(), "lab: {e:#}");
            ExitCode::from(error::EXIT_USAGE)
        }
    }
}
