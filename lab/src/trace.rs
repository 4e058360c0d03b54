//! Reading labrpc's event trace (JSON lines, as `LAB_TRACE` writes it).
//!
//! The schema is defined once, in `labrpc::trace`: the types labrpc
//! records and hashes are the types this tool reads back ([`Event`],
//! [`Kind`]), with their round-trip tests beside them. `lab` depends on
//! labrpc for that rather than on a separate format crate: the trace types
//! are labrpc's own (their derived `Hash` is the trace hash, their
//! `NodeId` is the simulator's), so moving them out would move half of the
//! simulator's vocabulary with them, while labrpc is a small,
//! already-built dependency of every lab the tool runs.
//!
//! One event per line: `{"seq":3,"time":1200000,"node":1,"kind":"send",...}`
//! with `time` in virtual nanoseconds. Kinds this version does not know
//! read as [`Kind::Unknown`], so a newer labrpc never breaks the tool.

use std::io::Write;
use std::path::Path;

pub use labrpc::trace::{Event, EventKind as Kind, Leg, parse_line};

use crate::bail;
use crate::error::Result;
use anyhow::Context as _;

/// Reads a whole trace file. Blank lines are skipped; any other line that
/// is not an event is an error naming its line number.
pub fn read(path: &Path) -> Result<Vec<Event>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the trace {}", path.display()))?;
    if let Some(warning) = labrpc::trace::version_warning(labrpc::trace::version_of(&text)) {
        // On stderr, so that `lab logs TRACE | ...` pipes only the logs.
        let _ = writeln!(
            std::io::stderr(),
            "lab: note: the trace {} {warning}",
            path.display()
        );
    }
    match labrpc::trace::read_json_lines(&text) {
        Ok(events) => Ok(events),
        Err(bad) => bail!(
            "{}:{}: not a trace event ({}); a trace is the JSON lines LAB_TRACE writes",
            path.display(),
            bad.line,
            bad.error
        ),
    }
}

/// Virtual nanoseconds as labrpc prints them: `12.000345s`.
pub fn fmt_time(nanos: u64) -> String {
    labrpc::time::Instant::from_nanos(nanos).to_string()
}
