//! `log` output that says when (virtual time) and where (node).
//!
//! [`init`] installs an `env_logger` configured by `RUST_LOG` (nothing is
//! logged without it). Inside a simulation every line starts with the
//! virtual time and the node, e.g.
//! `   1.204113s n2   raft-1     DEBUG raft::vote: granted vote to 0 in term 3`.
//! Output goes through the test harness's capture, so a passing test stays
//! quiet and a failing one shows its log.
//!
//! That line's format is defined once, here, by [`LogLine`]: the logger
//! writes it with [`LogLine`]'s `Display` and `lab logs` reads it with
//! [`LogLine::parse`].

use std::fmt;
use std::io::Write;

use crate::node::NodeId;
use crate::runtime;
use crate::time::Instant;

/// One log line written inside a simulation:
/// `{time:>12} {node:<4} {name:<10} {level:<5} {target}: {message}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// Virtual time of the record.
    pub time: Instant,
    /// The node whose code logged it.
    pub node: NodeId,
    /// The node's name; `None` (unknown) is written `?`.
    pub name: Option<&'a str>,
    /// The record's level.
    pub level: log::Level,
    /// The record's target, e.g. `raft::vote`.
    pub target: &'a str,
    /// The message (one line of it, when read).
    pub message: &'a str,
}

impl fmt::Display for LogLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>12} {:<4} {:<10} {:<5} {}: {}",
            self.time.to_string(),
            self.node.to_string(),
            self.name.unwrap_or("?"),
            self.level,
            self.target,
            self.message
        )
    }
}

/// Splits off the first whitespace-delimited token: (token, rest).
fn token(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

impl<'a> LogLine<'a> {
    /// Reads a line as the logger writes it; `None` if it is not one (test
    /// output, a trace event, a line logged outside a simulation). A name
    /// may hold spaces (up to four words).
    pub fn parse(line: &'a str) -> Option<LogLine<'a>> {
        let (time, rest) = token(line)?;
        let time: Instant = time.parse().ok()?;
        let (node, mut rest) = token(rest)?;
        let node = NodeId(node.strip_prefix('n')?.parse().ok()?);
        // `rest` is always a suffix of `line`: where it starts in `line`.
        let at = |suffix: &str| line.len() - suffix.len();
        // The name runs from its first word to its last (`start..end`).
        let mut name: Option<(usize, usize)> = None;
        let mut words = 0;
        let level = loop {
            let (t, r) = token(rest)?;
            rest = r;
            if let Some(level) = log::Level::iter().find(|l| l.as_str() == t) {
                break level;
            }
            words += 1;
            if words > 4 {
                return None;
            }
            let end = at(r);
            name = Some((name.map_or(end - t.len(), |(start, _)| start), end));
        };
        let (target, message) = rest.trim_start().split_once(": ")?;
        Some(LogLine {
            time,
            node,
            name: name.map(|(a, b)| &line[a..b]).filter(|n| *n != "?"),
            level,
            target,
            message,
        })
    }
}

/// Installs the logger once per process; later calls do nothing.
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(install);
}

fn install() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off"))
        .is_test(true)
        .format(|buf, record| match runtime::try_current() {
            Some(sim) => {
                let node = sim.current_node.get();
                let name = sim.nodes.try_borrow().ok().and_then(|n| n.name(node));
                let message = record.args().to_string();
                let line = LogLine {
                    time: Instant::from_nanos(sim.now.get()),
                    node,
                    name: name.as_deref(),
                    level: record.level(),
                    target: record.target(),
                    message: &message,
                };
                writeln!(buf, "{line}")
            }
            None => writeln!(
                buf,
                "{:<5} {}: {}",
                record.level(),
                record.target(),
                record.args()
            ),
        })
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_times_read_back_as_printed() {
        for nanos in [
            0,
            1_000,
            999_999_000,
            1_204_113_000,
            12_000_345_000,
            7_000 * 1_000_000_000,
        ] {
            let t = Instant::from_nanos(nanos);
            assert_eq!(t.to_string().parse::<Instant>(), Ok(t));
        }
        assert_eq!(
            Instant::from_nanos(12_000_345_000).to_string(),
            "12.000345s"
        );
        assert_eq!(
            "1.5s".parse::<Instant>(),
            Ok(Instant::from_nanos(1_500_000_000))
        );
        assert_eq!(
            " 3s ".parse::<Instant>(),
            Ok(Instant::from_nanos(3_000_000_000))
        );
        for bad in [
            "",
            "s",
            "1.5",
            ".5s",
            "-1s",
            "1e3s",
            "1.0000000001s",
            "NaNs",
            "1.2.3s",
            "99999999999999999999s",
        ] {
            assert!(bad.parse::<Instant>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn log_lines_read_back_as_written() {
        let lines = [
            LogLine {
                time: Instant::from_nanos(1_204_113_000),
                node: NodeId(2),
                name: Some("raft-1"),
                level: log::Level::Debug,
                target: "raft::vote",
                message: "granted vote to 0 in term 3",
            },
            LogLine {
                time: Instant::from_nanos(0),
                node: NodeId(12345),
                name: None,
                level: log::Level::Warn,
                target: "event",
                message: "[leader] term 4: a: b",
            },
            LogLine {
                time: Instant::from_nanos(123_456_789_000_000),
                node: NodeId(0),
                name: Some("shard  group 1"),
                level: log::Level::Trace,
                target: "shardkv",
                message: "",
            },
        ];
        for l in &lines {
            let text = l.to_string();
            assert_eq!(LogLine::parse(&text).as_ref(), Some(l), "{text:?}");
        }
        assert_eq!(
            lines[0].to_string(),
            "   1.204113s n2   raft-1     DEBUG raft::vote: granted vote to 0 in term 3"
        );
    }

    #[test]
    fn other_lines_are_not_log_lines() {
        for line in [
            "",
            "test basic ... ok",
            "DEBUG raft: outside a simulation",
            "   1.0s x1 a DEBUG t: m",
            "   1.0s n1 a b c d e DEBUG t: m",
            "   1.0s n1 a debug t: m",
            "   1.0s n1 a DEBUG no colon",
            r#"{"seq":1,"time":5,"node":1,"kind":"crash"}"#,
        ] {
            assert_eq!(LogLine::parse(line), None, "{line:?}");
        }
    }
}
