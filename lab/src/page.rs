//! What the page of a run shows beside the space-time diagram
//! ([`crate::picture`]): node state over time, the log in columns, the KV
//! history and its violation, and the messages' content.
//!
//! Everything comes from the trace (the harness's `state` observations,
//! the `kv_call`/`kv_return`/`kv_violation` events of a KV history, the
//! `args`/`reply` payloads of messages) and from the run's output (its log
//! lines, as `labrpc::logging::LogLine` writes them). Each is a compact
//! array of arrays in the page's data, times in virtual nanoseconds.

use std::collections::BTreeMap;

use labrpc::logging::LogLine;
use labrpc::trace::{Fields, Payload};
use serde::Serialize;

use crate::trace::{Event, Kind};

/// At most this many log rows go into a page (the first ones; a note says
/// so): about 10 MB of page.
pub const LOG_MAX: usize = 60_000;

/// The longest text of a log row kept in a page.
const LOG_TEXT_MAX: usize = 240;

/// The longest message content (JSON text) kept in a page.
const PAYLOAD_TEXT_MAX: usize = 400;

/// `[node, t, fields]`: a harness's observation of a node (the fields that
/// changed).
pub type State = (u32, u64, Fields);

/// `[t, node, level, topic, text]`; level 1 error .. 5 trace, 6 a lab
/// event of the trace, 7 a fault (crash, restart, partition, failure).
pub type LogRow = (u64, u32, u8, String, String);

/// `[op, client, t_call, t_return (-1: never), input, output, node]`.
pub type KvOp = (u64, i64, u64, i64, String, String, u32);

/// A violation the checker found: the operations it is about, and all of
/// its partition's.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Violation {
    pub label: String,
    pub ops: Vec<u64>,
    pub partition: Vec<u64>,
    pub why: String,
}

/// The extra data of a page.
#[derive(Serialize, Debug, Default)]
pub struct Extras {
    pub states: Vec<State>,
    pub logs: Vec<LogRow>,
    pub log_note: Option<String>,
    pub kv: Vec<KvOp>,
    pub violations: Vec<Violation>,
    /// `rpc -> [args, reply]` (JSON text, cut).
    pub payloads: BTreeMap<u64, (String, String)>,
}

/// The extras of `events` and the run's `output` (its log lines; empty
/// when there is none).
pub fn extras(events: &[&Event], output: &str, window: (u64, u64)) -> Extras {
    let (logs, log_note) = log_rows(events, output, window);
    let (kv, violations) = kv_history(events);
    Extras {
        states: states(events),
        logs,
        log_note,
        kv,
        violations,
        payloads: payloads(events),
    }
}

fn states(events: &[&Event]) -> Vec<State> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            Kind::State { fields } => Some((e.node.0, e.time, fields.clone())),
            _ => None,
        })
        .collect()
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn payload_text(p: &Payload) -> String {
    p.0.as_ref()
        .map_or_else(String::new, |v| cut(&v.to_string(), PAYLOAD_TEXT_MAX))
}

fn payloads(events: &[&Event]) -> BTreeMap<u64, (String, String)> {
    let mut out: BTreeMap<u64, (String, String)> = BTreeMap::new();
    for e in events {
        match &e.kind {
            Kind::Send { rpc, args, .. } if !args.is_none() => {
                out.entry(*rpc).or_default().0 = payload_text(args);
            }
            Kind::Reply { rpc, reply, .. } if !reply.is_none() => {
                out.entry(*rpc).or_default().1 = payload_text(reply);
            }
            _ => {}
        }
    }
    out
}

/// A trace event as a log row, for those the log shows: lab events (but a
/// KV history's) and faults.
fn event_row(e: &Event) -> Option<LogRow> {
    let (level, topic, text) = match &e.kind {
        Kind::Lab { topic, .. } if topic.starts_with("kv_") => return None,
        Kind::Lab { topic, fields } => (6, topic.to_string(), fields.to_string()),
        Kind::Crash => (7, "crash".into(), "crashed".into()),
        Kind::Restart => (7, "restart".into(), "restarted".into()),
        Kind::Partition { .. } | Kind::Heal | Kind::Config { .. } => {
            (7, e.kind.name().into(), crate::logs::describe_text(e))
        }
        Kind::Failure { message } => (7, "failure".into(), message.clone()),
        _ => return None,
    };
    Some((e.time, e.node.0, level, topic, text))
}

fn log_row(line: &str) -> Option<LogRow> {
    let l = LogLine::parse(line)?;
    if l.target == "event" {
        // A lab event, logged: the trace has it (as an event row).
        return None;
    }
    let topic = l.target.rsplit("::").next().unwrap_or(l.target).to_string();
    Some((
        l.time.as_nanos(),
        l.node.0,
        l.level as u8,
        topic,
        cut(l.message, LOG_TEXT_MAX),
    ))
}

/// The log lines of `output` and the trace's events worth a row, in time
/// order (a stable sort: each node's lines keep their order).
fn log_rows(events: &[&Event], output: &str, window: (u64, u64)) -> (Vec<LogRow>, Option<String>) {
    let mut rows: Vec<LogRow> = output
        .lines()
        .filter_map(log_row)
        .filter(|r| r.0 >= window.0 && r.0 <= window.1)
        .collect();
    rows.extend(events.iter().filter_map(|e| event_row(e)));
    rows.sort_by_key(|r| r.0);
    let total = rows.len();
    let note = (total > LOG_MAX).then(|| {
        format!(
            "The log has {total} rows: only the first {LOG_MAX} are in this page (up to {}); \
             `lab logs` prints them all, and --from/--to draws another window.",
            crate::trace::fmt_time(rows[LOG_MAX - 1].0)
        )
    });
    rows.truncate(LOG_MAX);
    (rows, note)
}

fn text_of(fields: &Fields, name: &str) -> String {
    fields.get(name).map_or_else(String::new, |v| v.to_string())
}

/// The operations of a KV history (`kv_call`/`kv_return` events) and the
/// checker's violations (`kv_violation`).
fn kv_history(events: &[&Event]) -> (Vec<KvOp>, Vec<Violation>) {
    let mut ops: BTreeMap<u64, KvOp> = BTreeMap::new();
    let mut violations = Vec::new();
    let ids = |text: String| -> Vec<u64> {
        text.split_whitespace()
            .filter_map(|o| o.parse().ok())
            .collect()
    };
    for e in events {
        let Kind::Lab { topic, fields } = &e.kind else {
            continue;
        };
        let op = fields.int("op").unwrap_or(-1) as u64;
        match &**topic {
            "kv_call" => {
                let client = fields.int("client").unwrap_or(-1);
                let input = text_of(fields, "input");
                ops.insert(op, (op, client, e.time, -1, input, String::new(), e.node.0));
            }
            "kv_return" => {
                if let Some(o) = ops.get_mut(&op) {
                    o.3 = e.time as i64;
                    o.5 = text_of(fields, "output");
                }
            }
            "kv_violation" => violations.push(Violation {
                label: text_of(fields, "label"),
                ops: ids(text_of(fields, "ops")),
                partition: ids(text_of(fields, "partition")),
                why: text_of(fields, "why"),
            }),
            _ => {}
        }
    }
    (ops.into_values().collect(), violations)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(time: u64, node: u32, json: &str) -> Event {
        crate::trace::parse_line(&format!(
            r#"{{"seq":0,"time":{time},"node":{node},{json}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn kv_operations_and_their_violation_come_from_the_trace() {
        let events = [
            ev(
                10,
                0,
                r#""kind":"lab","topic":"kv_call","fields":{"op":0,"client":1,"input":"put x"}"#,
            ),
            ev(
                20,
                0,
                r#""kind":"lab","topic":"kv_return","fields":{"op":0,"output":"Done"}"#,
            ),
            ev(
                30,
                0,
                r#""kind":"lab","topic":"kv_call","fields":{"op":1,"client":2,"input":"get x"}"#,
            ),
            ev(
                40,
                0,
                r#""kind":"lab","topic":"kv_violation","fields":{"label":"key x","ops":"1","partition":"0 1","why":"stale"}"#,
            ),
            ev(50, 2, r#""kind":"state","fields":{"term":3,"leader":true}"#),
        ];
        let refs: Vec<&Event> = events.iter().collect();
        let log = "   0.000015s n1   raft-0     DEBUG raft::vote: hello\nplain\n";
        let x = extras(&refs, log, (0, 1_000_000));
        assert_eq!(x.kv.len(), 2);
        assert_eq!(x.kv[0].3, 20);
        assert_eq!(x.kv[1].3, -1, "never returned");
        assert_eq!(x.violations[0].ops, vec![1]);
        assert_eq!(x.violations[0].partition, vec![0, 1]);
        assert_eq!(x.states.len(), 1);
        assert_eq!(x.logs.len(), 1, "one log line; kv events are not log rows");
        assert_eq!(x.logs[0].3, "vote");
    }
}
