//! Running one (test, seed): a process of the lab's test binary.
//!
//! Guarantees:
//! - The run is exactly what `LAB_SEED=S cargo test -p LAB --release --
//!   TEST --exact` runs: the same binary, the package directory as working
//!   directory, `CARGO_PKG_NAME` and friends set (labrpc builds its
//!   `reproduce:` line from them), `LAB_SEED` set.
//! - Knobs the tool owns are never inherited from the caller: `LAB_RUNS`,
//!   `LAB_TRACE`, `RUST_LOG` and `LAB_DETERMINISM` are removed unless the
//!   run asks for them. A process may run several seeds (`LAB_RUNS`, the
//!   way labrpc runs them: seed, seed+1, ...; it stops at the first
//!   failure), which saves the ~5 ms a process costs to start. Other `LAB_*` knobs (`LAB_TIME_LIMIT`,
//!   `LAB_STALL_LIMIT`) pass through.
//! - stdout and stderr go through one pipe, so the kept output has the
//!   order a terminal would show.
//! - A run that exceeds its wall-clock timeout is killed and counts as a
//!   failure; a run never hangs the tool.

// The tool runs outside any simulation: it needs OS threads (to read a
// child's output while waiting) and the wall clock (to time runs).
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;

use crate::error::Result;
use crate::outcome::Outcome;
use crate::workspace::TestCase;
use anyhow::Context as _;

/// How to run one (test, seed).
#[derive(Debug, Clone)]
pub struct RunSpec<'a> {
    /// The test.
    pub test: &'a TestCase,
    /// `LAB_SEED`: the seed of the (first) run.
    pub seed: u64,
    /// `LAB_RUNS`: seeds run by this process, `seed..seed+runs` (labrpc
    /// stops at the first that fails).
    pub runs: u64,
    /// `RUST_LOG`, if logs are wanted.
    pub log: Option<&'a str>,
    /// `LAB_TRACE`, if the trace is wanted.
    pub trace: Option<&'a Path>,
    /// `LAB_DETERMINISM=1`: run the seed twice and compare traces.
    pub determinism: bool,
    /// Backtraces on panics (`RUST_BACKTRACE` as inherited); off, a
    /// failing run skips symbolizing one (a third of a second).
    pub backtrace: bool,
    /// Wall time after which the run is killed.
    pub timeout: Duration,
    /// Copy the output to the tool's stdout while it runs.
    pub echo: bool,
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Passed, failed, timed out (with what the output says).
    pub outcome: Outcome,
    /// Wall time from spawn to exit, as the tool saw it.
    pub wall: Duration,
    /// Everything the process printed, stdout and stderr interleaved.
    pub output: String,
}

impl RunSpec<'_> {
    /// The command line a user types to run this again.
    pub fn reproduce(&self) -> String {
        labrpc::harness::reproduce_command_for(
            self.seed,
            &self.test.lab,
            " --release",
            Some(&self.test.name),
        )
    }

    fn command(&self) -> Command {
        let t = self.test;
        let mut cmd = Command::new(&t.binary);
        cmd.args([
            t.name.as_str(),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .current_dir(&t.dir)
        .env("LAB_SEED", self.seed.to_string())
        .env("CARGO_PKG_NAME", &t.lab)
        .env("CARGO_CRATE_NAME", t.lab.replace('-', "_"))
        .env("CARGO_MANIFEST_DIR", &t.dir)
        .env("CARGO_PKG_VERSION", &t.version)
        .env_remove("LAB_RUNS")
        .env_remove("LAB_TRACE")
        .env_remove("RUST_LOG")
        .env_remove("LAB_DETERMINISM")
        .stdin(Stdio::null());
        if self.runs > 1 {
            cmd.env("LAB_RUNS", self.runs.to_string());
        } else {
            cmd.env_remove("LAB_RUNS");
        }
        if let Some(level) = self.log {
            cmd.env("RUST_LOG", level);
        }
        if let Some(trace) = self.trace {
            cmd.env("LAB_TRACE", trace);
        }
        if !self.backtrace {
            cmd.env("RUST_BACKTRACE", "0");
        }
        if self.determinism {
            cmd.env("LAB_DETERMINISM", "1");
        }
        cmd
    }

    /// Runs the test once and waits for it (at most `timeout`).
    ///
    /// Fails only if the process cannot be started; a test that fails,
    /// crashes or times out is an [`Outcome`], not an error.
    pub fn run(&self) -> Result<RunResult> {
        let (mut reader, writer) = std::io::pipe().with_context(|| "cannot create a pipe")?;
        let mut cmd = self.command();
        cmd.stdout(writer.try_clone().with_context(|| "cannot create a pipe")?)
            .stderr(writer);
        let start = Instant::now();
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot run {}", self.test.binary.display()))?;
        // The command holds the pipe's write ends: drop them, or the reader
        // never sees the end of the output.
        drop(cmd);
        let (done_tx, done_rx) = crossbeam_channel::bounded(1);
        let echo = self.echo;
        let reader_thread = std::thread::spawn(move || {
            let mut out = Vec::new();
            let mut buf = [0u8; 64 * 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if echo {
                            let mut stdout = std::io::stdout().lock();
                            let _ = stdout.write_all(&buf[..n]);
                            let _ = stdout.flush();
                        }
                        out.extend_from_slice(&buf[..n]);
                    }
                }
            }
            let _ = done_tx.send(());
            out
        });
        let timed_out = match done_rx.recv_timeout(self.timeout) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => false,
            Err(RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                true
            }
        };
        let output = reader_thread.join().unwrap_or_default();
        let status = child
            .wait()
            .with_context(|| format!("cannot wait for {}", self.test.binary.display()))?;
        let wall = start.elapsed();
        let output = String::from_utf8_lossy(&output).into_owned();
        let outcome = if timed_out {
            Outcome::timed_out(&output, self.timeout)
        } else {
            Outcome::parse(&output, status.success())
        };
        Ok(RunResult {
            outcome,
            wall,
            output,
        })
    }
}
