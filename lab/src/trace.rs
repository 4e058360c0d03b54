//! Reading labrpc's event trace (JSON lines, as `LAB_TRACE` writes it).
//!
//! One event per line: `{"seq":3,"time":1200000,"node":1,"kind":"send",...}`
//! with `time` in virtual nanoseconds; the kinds and their fields are those
//! of `labrpc::trace::EventKind`. Kinds this version does not know are kept
//! as [`Kind::Other`], so a newer labrpc never breaks the tool.

use std::path::Path;

use serde::Deserialize;

use crate::bail;
use crate::error::{Result, io};

/// One event of a trace.
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    /// Virtual time, nanoseconds.
    pub time: u64,
    /// The node it happened on.
    pub node: u32,
    /// What happened.
    #[serde(flatten)]
    pub kind: Kind,
}

/// What happened (labrpc's `EventKind`).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Kind {
    /// A node was created.
    NodeCreated {
        /// Its name.
        name: String,
    },
    /// The node crashed.
    Crash,
    /// The node restarted.
    Restart,
    /// A request left its client.
    Send {
        /// The call.
        rpc: u64,
        /// The server name.
        #[serde(default)]
        server: String,
        /// The server's node.
        to: Option<u32>,
        /// `service.method`.
        method: String,
        /// Request size.
        #[serde(default)]
        bytes: u64,
    },
    /// A request reached its server.
    Deliver {
        /// The call.
        rpc: u64,
        /// The client's node.
        from: u32,
        /// `service.method`.
        #[serde(default)]
        method: String,
    },
    /// A reply reached its client.
    Reply {
        /// The call.
        rpc: u64,
        /// The server's node.
        from: u32,
        /// Reply size.
        #[serde(default)]
        bytes: u64,
    },
    /// A request or reply was lost.
    Drop {
        /// The call.
        rpc: u64,
        /// `request` or `reply`.
        leg: String,
        /// Why.
        reason: String,
    },
    /// A message was held back by a hold.
    Hold {
        /// The call.
        rpc: u64,
        /// `request` or `reply`.
        leg: String,
        /// The hold's number.
        hold: u64,
    },
    /// A held message was released.
    Release {
        /// The call.
        rpc: u64,
        /// `request` or `reply`.
        leg: String,
        /// The hold's number.
        hold: u64,
    },
    /// A duplicated request, one step of its fate.
    Duplicate {
        /// The call.
        rpc: u64,
        /// `scheduled`, `delivered`, `lost: ..`, `reply used`, `reply discarded`.
        what: String,
    },
    /// A directed link changed.
    Link {
        /// Source.
        from: u32,
        /// Destination.
        to: u32,
        /// New state.
        up: bool,
    },
    /// The network was split.
    Partition {
        /// The groups.
        groups: Vec<Vec<u32>>,
    },
    /// Every link is up again.
    Heal,
    /// A network setting changed.
    Config {
        /// The setting.
        setting: String,
    },
    /// An RPC server was added.
    ServerAdded {
        /// Its name.
        server: String,
    },
    /// An RPC server was deleted.
    ServerDeleted {
        /// Its name.
        server: String,
    },
    /// A lab event.
    Lab {
        /// Its topic.
        topic: String,
        /// Its text.
        message: String,
    },
    /// A kind this version does not know.
    #[serde(other)]
    Other,
}

impl Kind {
    /// The kind's name as in the JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::NodeCreated { .. } => "node_created",
            Kind::Crash => "crash",
            Kind::Restart => "restart",
            Kind::Send { .. } => "send",
            Kind::Deliver { .. } => "deliver",
            Kind::Reply { .. } => "reply",
            Kind::Drop { .. } => "drop",
            Kind::Hold { .. } => "hold",
            Kind::Release { .. } => "release",
            Kind::Duplicate { .. } => "duplicate",
            Kind::Link { .. } => "link",
            Kind::Partition { .. } => "partition",
            Kind::Heal => "heal",
            Kind::Config { .. } => "config",
            Kind::ServerAdded { .. } => "server_added",
            Kind::ServerDeleted { .. } => "server_deleted",
            Kind::Lab { .. } => "lab",
            Kind::Other => "other",
        }
    }
}

/// Parses one JSON line; `None` if it is not a trace event.
pub fn parse_line(line: &str) -> Option<Event> {
    let line = line.trim();
    if !line.starts_with('{') {
        return None;
    }
    serde_json::from_str(line).ok()
}

/// Reads a whole trace file. Blank lines are skipped; any other line that
/// is not an event is an error naming its line number.
pub fn read(path: &Path) -> Result<Vec<Event>> {
    let text = std::fs::read_to_string(path)
        .map_err(io(format!("cannot read the trace {}", path.display())))?;
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Event>(line) {
            Ok(e) => events.push(e),
            Err(e) => bail!(
                "{}:{}: not a trace event ({e}); a trace is the JSON lines LAB_TRACE writes",
                path.display(),
                i + 1
            ),
        }
    }
    Ok(events)
}

/// Virtual nanoseconds as labrpc prints them: `12.000345s`.
pub fn fmt_time(nanos: u64) -> String {
    format!(
        "{}.{:06}s",
        nanos / 1_000_000_000,
        (nanos % 1_000_000_000) / 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_labrpc_events_and_tolerates_new_kinds() {
        let e = parse_line(
            r#"{"seq":3,"time":1200000,"node":1,"kind":"send","rpc":1,"end":"e","server":"s","to":2,"method":"m.x","bytes":9}"#,
        )
        .unwrap();
        assert!(matches!(
            e.kind,
            Kind::Send {
                rpc: 1,
                to: Some(2),
                ..
            }
        ));
        let e =
            parse_line(r#"{"seq":4,"time":5,"node":0,"kind":"partition","groups":[[1],[2,3]]}"#)
                .unwrap();
        assert!(matches!(e.kind, Kind::Partition { ref groups } if groups.len() == 2));
        let e = parse_line(r#"{"seq":5,"time":5,"node":0,"kind":"timer_fired","x":1}"#).unwrap();
        assert!(matches!(e.kind, Kind::Other));
        let e = parse_line(
            r#"{"seq":6,"time":5,"node":2,"kind":"hold","rpc":9,"leg":"reply","hold":1}"#,
        )
        .unwrap();
        assert!(matches!(e.kind, Kind::Hold { rpc: 9, ref leg, hold: 1 } if leg == "reply"));
        let e = parse_line(
            r#"{"seq":7,"time":5,"node":2,"kind":"duplicate","rpc":9,"what":"delivered"}"#,
        )
        .unwrap();
        assert!(matches!(e.kind, Kind::Duplicate { rpc: 9, ref what } if what == "delivered"));
        assert!(parse_line("   1.0s n1 x INFO a: b").is_none());
        assert_eq!(fmt_time(12_000_345_678), "12.000345s");
    }
}
