//! What one run's output says: passed or failed, why, and its stats.
//!
//! # The stats line
//!
//! A lab test reports its numbers (6.824's "Passed -- 3.1 3 58 14000 0") as
//! one machine-readable line on stdout, anywhere in its output (its format
//! is defined once, by `labtest::StatsLine`):
//!
//! ```text
//! labstats {"virtual_s":3.1,"peers":3,"rpcs":58,"bytes":14000,"ops":0,"wall_ms":12.5}
//! ```
//!
//! The line starts with `labstats ` (at column 0; the tool also finds it
//! after libtest's `test NAME ... `), followed by one JSON object
//! on the same line. Every field is optional; unknown fields are ignored:
//! `virtual_s` (virtual seconds the test took, a number), `peers`, `rpcs`,
//! `bytes`, `ops` (non-negative integers), `wall_ms` (wall milliseconds
//! of the test body, a number). If a test prints several, the
//! last one counts. A test without one shows "-" in the table.
//!
//! # The failure message
//!
//! labrpc's harness ends every failure with
//! `  seed: S` / `  virtual time: T` / `  node: N` / `  reproduce: CMD`
//! lines under a headline starting with `labrpc: ` (its format is defined
//! once, by `labrpc::harness::FailureMessage`); [`Outcome::parse`] reads
//! them with it, and falls back to the panic message of Rust's default
//! panic hook (`thread 'NAME' panicked at FILE:LINE:` and the message) for a test
//! that failed outside a simulation.

use std::time::Duration;

use labrpc::harness::FailureMessage;
use serde::{Deserialize, Serialize};

/// Numbers a test reports on its stats line (the line's one definition is
/// labtest's).
pub use labtest::StatsLine as Stats;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The test passed.
    Passed,
    /// The test failed (panicked, or the process died).
    Failed,
    /// The tool killed it after its wall-clock timeout.
    TimedOut,
}

/// Where and why a run failed, as its output says.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Failure {
    /// The headline (`labrpc: a task on node n1 ... panicked: boom`).
    pub message: String,
    /// The seed of the failing run, as labrpc printed it.
    pub seed: Option<u64>,
    /// Virtual time of the failure, in seconds.
    pub virtual_s: Option<f64>,
    /// The node, e.g. `n1 (worker-3)`.
    pub node: Option<String>,
    /// The reproduce command labrpc printed.
    pub reproduce: Option<String>,
}

/// What a run's output says.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// Its stats line, if any.
    pub stats: Option<Stats>,
    /// Its failure, if it failed.
    pub failure: Option<Failure>,
}

impl Outcome {
    /// Reads a finished run's output; `success` is the exit status.
    ///
    /// The exit status alone says whether the run passed: the tool runs
    /// only tests the binary listed as runnable (`--list`, without the
    /// ignored ones; see `workspace`), one `--exact` name at a time, so a
    /// run that exits 0 ran that test and it passed. The output only adds
    /// the stats line and, for a failure, where and why.
    pub fn parse(output: &str, success: bool) -> Outcome {
        let stats = parse_stats(output);
        let status = if success {
            Status::Passed
        } else {
            Status::Failed
        };
        let failure = (status == Status::Failed).then(|| parse_failure(output));
        Outcome {
            status,
            stats,
            failure,
        }
    }

    /// A run the tool killed after `timeout`.
    pub fn timed_out(output: &str, timeout: Duration) -> Outcome {
        Outcome {
            status: Status::TimedOut,
            stats: parse_stats(output),
            failure: Some(Failure {
                message: format!(
                    "killed after {} s of wall time (lab grade --timeout changes the limit)",
                    timeout.as_secs_f64()
                ),
                ..Failure::default()
            }),
        }
    }

    /// Whether the run passed.
    pub fn passed(&self) -> bool {
        self.status == Status::Passed
    }

    /// Virtual seconds: from the stats line, else from the failure message.
    pub fn virtual_s(&self) -> Option<f64> {
        self.stats
            .as_ref()
            .and_then(|s| s.virtual_s)
            .or_else(|| self.failure.as_ref().and_then(|f| f.virtual_s))
    }
}

/// The last stats line of `output`, if any parses.
pub fn parse_stats(output: &str) -> Option<Stats> {
    Stats::find_last(output)
}

/// Every stats line of `output` that parses, in order (one per run when a
/// process runs several seeds).
pub fn parse_all_stats(output: &str) -> Vec<Stats> {
    Stats::find_all(output)
}

/// The failure a labrpc failure message (e.g. a trace's `failure` event)
/// describes.
pub fn failure_in(message: &str) -> Failure {
    parse_failure(message)
}

fn parse_failure(output: &str) -> Failure {
    let lines: Vec<&str> = output.lines().collect();
    if let Some(m) = FailureMessage::find(output) {
        Failure {
            message: m.headline,
            seed: Some(m.seed),
            virtual_s: m.virtual_time.map(|t| t.as_nanos() as f64 / 1e9),
            node: m.node,
            reproduce: m.reproduce,
        }
    } else if let Some(at) = lines.iter().position(|l| l.contains("' panicked at ")) {
        Failure {
            message: lines.get(at + 1).unwrap_or(&lines[at]).to_string(),
            ..Failure::default()
        }
    } else {
        Failure {
            message: "the test process failed without a panic message (killed by a signal, \
                      or aborted)"
                .into(),
            ..Failure::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAILED: &str = "\nrunning 1 test\nthread 'flaky' panicked at lab/tests/fixture.rs:9:5:\n\
labrpc: a task on node n0 (tester) panicked: fixture: seeded failure\n  seed:         3\n  \
virtual time: 1.500000s\n  node:         n0 (tester)\n  reproduce:    LAB_SEED=3 cargo test \
-p lab --release -- flaky --exact\ntest flaky ... FAILED\n";

    #[test]
    fn reads_labrpc_failures() {
        let o = Outcome::parse(FAILED, false);
        assert_eq!(o.status, Status::Failed);
        let f = o.failure.unwrap();
        assert_eq!(
            f.message,
            "labrpc: a task on node n0 (tester) panicked: fixture: seeded failure"
        );
        assert_eq!(f.virtual_s, Some(1.5));
        assert_eq!(f.seed, Some(3));
        assert_eq!(f.node.as_deref(), Some("n0 (tester)"));
        assert_eq!(
            f.reproduce.as_deref(),
            Some("LAB_SEED=3 cargo test -p lab --release -- flaky --exact")
        );
    }

    #[test]
    fn reads_the_last_stats_line_and_tolerates_missing_fields() {
        let out = "labstats {\"virtual_s\":1.0}\nnoise\nlabstats {\"virtual_s\":2.5,\"rpcs\":7,\"x\":1}\n\
                   test t ... ok\n";
        let o = Outcome::parse(out, true);
        assert!(o.passed());
        let s = o.stats.unwrap();
        assert_eq!((s.virtual_s, s.rpcs, s.peers), (Some(2.5), Some(7), None));
        assert_eq!(parse_stats("labstats not json"), None);
        assert_eq!(parse_all_stats(out).len(), 2);
    }
}
