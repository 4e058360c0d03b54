//! The stats line of one test.
//!
//! A passing test prints, in one write (so that two tests running at once
//! never interleave their lines):
//!
//! ```text
//! Test (3A): initial election ...
//!   ... Passed --   3.1  3     58     14000     0   (12 ms wall)
//! labstats {"virtual_s":3.1,"peers":3,"rpcs":58,"bytes":14000,"ops":0,"wall_ms":12.5}
//! ```
//!
//! The numbers of the second line are 6.824's: virtual seconds, peers,
//! RPCs, bytes sent, and operations (commands committed or client
//! operations, as the lab counts them). The third line carries the same
//! numbers as JSON for `lab grade`; every field is optional when parsed.
//! [`StatsLine`] is that line's one definition: the graders write it and
//! `lab grade` reads it with the same type.

use labrpc::network;
use labrpc::time::Instant;
use serde::{Deserialize, Serialize};

/// The prefix of the machine-readable line.
pub const STATS_PREFIX: &str = "labstats ";

/// The numbers of one test, as the `labstats` line carries them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsLine {
    /// Virtual seconds the test took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_s: Option<f64>,
    /// Servers in the test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peers: Option<u64>,
    /// RPCs sent during the test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpcs: Option<u64>,
    /// Bytes sent during the test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Commands committed or client operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<u64>,
    /// Wall milliseconds of the test body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_ms: Option<f64>,
}

impl StatsLine {
    /// The line, without a trailing newline.
    pub fn to_line(&self) -> String {
        let json = serde_json::to_string(self).expect("stats always serialize");
        format!("{STATS_PREFIX}{json}")
    }

    /// Reads one line: `labstats {json}`, at column 0 or after libtest's
    /// `test NAME ... `. `None` if the line is not a stats line.
    pub fn parse(line: &str) -> Option<StatsLine> {
        let start = line.find(STATS_PREFIX)?;
        let before = &line[..start];
        if !(before.is_empty() || before.ends_with(' ')) {
            return None;
        }
        serde_json::from_str(line[start + STATS_PREFIX.len()..].trim()).ok()
    }

    /// The last stats line in a test's output, if any.
    pub fn find_last(output: &str) -> Option<StatsLine> {
        output.lines().rev().find_map(StatsLine::parse)
    }

    /// Every stats line in a test's output, in order (one per run when a
    /// process runs several seeds).
    pub fn find_all(output: &str) -> Vec<StatsLine> {
        output.lines().filter_map(StatsLine::parse).collect()
    }
}

/// One test's numbers, measured from [`Stats::begin`] to [`Stats::end`].
///
/// Must be used inside a simulation (it reads virtual time and the
/// simulation's network counters).
pub struct Stats {
    header: String,
    peers: usize,
    t0: Instant,
    wall0: std::time::Instant,
    rpcs0: u64,
    bytes0: u64,
}

impl Stats {
    /// Starts measuring a test described by `header` (6.824's
    /// "Test (3A): initial election") with `peers` servers.
    #[allow(clippy::disallowed_methods)] // wall time only for the stats line
    pub fn begin(header: impl Into<String>, peers: usize) -> Stats {
        let net = network();
        Stats {
            header: header.into(),
            peers,
            t0: Instant::now(),
            wall0: std::time::Instant::now(),
            rpcs0: net.total_rpcs(),
            bytes0: net.total_bytes(),
        }
    }

    /// The test's header.
    pub fn header(&self) -> &str {
        &self.header
    }

    /// The numbers so far, with `ops` operations.
    pub fn line(&self, ops: u64) -> StatsLine {
        let net = network();
        StatsLine {
            virtual_s: Some(self.t0.elapsed().as_secs_f64()),
            peers: Some(self.peers as u64),
            rpcs: Some(net.total_rpcs() - self.rpcs0),
            bytes: Some(net.total_bytes() - self.bytes0),
            ops: Some(ops),
            wall_ms: Some(self.wall0.elapsed().as_secs_f64() * 1000.0),
        }
    }

    /// Prints the header, 6.824's "Passed" line and the `labstats` line,
    /// in one write.
    pub fn end(&self, ops: u64) {
        let s = self.line(ops);
        let text = format!(
            "{} ...\n  ... Passed --  {:4.1}  {}  {:5}  {:9}  {:4}   ({:.0} ms wall)\n{}\n",
            self.header,
            s.virtual_s.unwrap_or_default(),
            self.peers,
            s.rpcs.unwrap_or_default(),
            s.bytes.unwrap_or_default(),
            ops,
            s.wall_ms.unwrap_or_default(),
            s.to_line(),
        );
        print!("{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_round_trips() {
        let s = StatsLine {
            virtual_s: Some(3.25),
            peers: Some(3),
            rpcs: Some(58),
            bytes: Some(14000),
            ops: Some(0),
            wall_ms: Some(12.5),
        };
        let line = s.to_line();
        assert_eq!(
            line,
            "labstats {\"virtual_s\":3.25,\"peers\":3,\"rpcs\":58,\"bytes\":14000,\"ops\":0,\"wall_ms\":12.5}"
        );
        assert_eq!(StatsLine::parse(&line), Some(s.clone()));
        assert_eq!(StatsLine::parse(&format!("test a_3a ... {line}")), Some(s));
    }

    #[test]
    fn parsing_is_lenient_about_fields_and_strict_about_the_prefix() {
        let out = "labstats {\"virtual_s\":1.0}\nnoise\nlabstats {\"rpcs\":7,\"x\":1}\n";
        assert_eq!(
            StatsLine::find_last(out),
            Some(StatsLine {
                rpcs: Some(7),
                ..StatsLine::default()
            })
        );
        assert_eq!(StatsLine::parse("labstats not json"), None);
        assert_eq!(StatsLine::parse("xlabstats {}"), None);
        assert_eq!(StatsLine::find_last("nothing here"), None);
        assert_eq!(StatsLine::find_all(out).len(), 2);
    }

    #[test]
    fn stats_measure_the_simulation() {
        labrpc::Builder::new().seed(1).run(|| async {
            let stats = Stats::begin("Test (X): nothing", 0);
            labrpc::time::sleep(std::time::Duration::from_millis(1500)).await;
            let line = stats.line(4);
            assert_eq!(line.virtual_s, Some(1.5));
            assert_eq!(
                (line.rpcs, line.bytes, line.ops),
                (Some(0), Some(0), Some(4))
            );
            stats.end(4);
        });
    }
}
