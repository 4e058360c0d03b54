//! `lab logs`: a trace or a log as one column per node, coloured by topic
//! (the dslogs view 6.824 students build for themselves).
//!
//! Input, line by line, in any mix:
//! - trace events (JSON lines from `LAB_TRACE`): the topic is the lab
//!   event's topic, or the event kind (`send`, `deliver`, `reply`, `drop`,
//!   `crash`, `partition`, ...);
//! - log lines of a simulation (`   1.204113s n2   raft-1     DEBUG
//!   raft::vote: granted vote`): the topic is the last part of the target
//!   (`vote`), or `[topic]` of a lab event logged under target `event`;
//! - anything else (test harness output) is printed across the full width,
//!   unless a topic filter is given.
//!
//! Guarantees: columns are nodes in id order (`n0` is the tester), each
//! entry is printed in its node's column with its virtual time at the
//! left, wrapped to the column width; colours are ANSI, off when stdout is
//! not a terminal, with `--no-color`, or when `NO_COLOR` is set.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use crate::bail;
use crate::error::{EXIT_OK, Result};
use crate::trace::{self, Event, Kind, fmt_time};
use anyhow::Context as _;
use labrpc::logging::LogLine;

/// Arguments of `lab logs`.
#[derive(clap::Args, Debug)]
pub struct LogsArgs {
    /// A trace (.jsonl) or a captured log; "-" reads stdin.
    pub file: PathBuf,
    /// Only these topics (comma-separated, e.g. "vote,leader,drop").
    #[arg(long, value_delimiter = ',', value_name = "TOPICS")]
    pub topics: Vec<String>,
    /// Leave out these topics (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "TOPICS")]
    pub exclude: Vec<String>,
    /// Only these nodes (comma-separated ids or n-names, e.g. "1,2" or "n1,n2").
    #[arg(long, value_delimiter = ',', value_name = "NODES")]
    pub nodes: Vec<String>,
    /// From this virtual time on (seconds).
    #[arg(long, value_name = "SECS")]
    pub from: Option<f64>,
    /// Up to this virtual time (seconds).
    #[arg(long, value_name = "SECS")]
    pub to: Option<f64>,
    /// Total width in characters (default: the terminal's, else 160).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(40..))]
    pub width: Option<u16>,
    /// No colours.
    #[arg(long)]
    pub no_color: bool,
    /// Colours even when stdout is not a terminal.
    #[arg(long, conflicts_with = "no_color")]
    pub color: bool,
}

/// One line of input, understood.
#[derive(Debug, Clone, PartialEq)]
enum Entry {
    /// Something that happened on a node.
    Node {
        time: u64,
        node: u32,
        name: Option<String>,
        topic: String,
        text: String,
    },
    /// A line that is neither an event nor a simulation log line.
    Plain(String),
}

/// Reads a log line of a simulation (its format: `labrpc::logging::LogLine`).
fn parse_log_line(line: &str) -> Option<Entry> {
    let l = LogLine::parse(line)?;
    let (topic, text) = if l.target == "event" {
        match l.message.strip_prefix('[').and_then(|m| m.split_once("] ")) {
            Some((topic, text)) => (topic.to_string(), text.to_string()),
            None => ("event".to_string(), l.message.to_string()),
        }
    } else {
        let last = l.target.rsplit("::").next().unwrap_or(l.target);
        let text = match l.level {
            log::Level::Debug | log::Level::Info => l.message.to_string(),
            level => format!("{level} {}", l.message),
        };
        (last.to_string(), text)
    };
    Some(Entry::Node {
        time: l.time.as_nanos(),
        node: l.node.0,
        name: l.name.map(str::to_string),
        topic,
        text,
    })
}

/// A trace event as a short line of text: (topic, text, the node's name
/// if the event names it).
fn describe(e: &Event) -> (String, String, Option<String>) {
    let topic = e.kind.name().to_string();
    let text = match &e.kind {
        Kind::NodeCreated { name } => return (topic, name.to_string(), Some(name.to_string())),
        Kind::Lab { topic, fields } => return (topic.to_string(), fields.to_string(), None),
        Kind::State { fields } => fields.to_string(),
        Kind::Crash | Kind::Restart => String::new(),
        Kind::Send {
            rpc,
            to,
            method,
            bytes,
            server,
            ..
        } => {
            let to = to.map_or_else(|| format!("{server:?} (no server)"), |n| n.to_string());
            format!("→{to} {method} #{rpc} ({bytes} B)")
        }
        Kind::Deliver { rpc, from, method } => format!("←{from} {method} #{rpc}"),
        Kind::Reply {
            rpc, from, bytes, ..
        } => format!("reply #{rpc} from {from} ({bytes} B)"),
        Kind::Drop { rpc, leg, reason } => format!("✗ #{rpc} {leg}: {reason}"),
        Kind::Hold { rpc, leg, hold } => format!("⏸ #{rpc} {leg} held (hold #{hold})"),
        Kind::Release { rpc, leg, hold } => format!("▶ #{rpc} {leg} released (hold #{hold})"),
        Kind::Duplicate { rpc, what } => format!("⧉ #{rpc} duplicate {what}"),
        Kind::Link { from, to, up } => {
            format!("{from}→{to} {}", if *up { "up" } else { "DOWN" })
        }
        Kind::Partition { groups } => {
            let g: Vec<String> = groups
                .iter()
                .map(|g| {
                    let n: Vec<String> = g.iter().map(ToString::to_string).collect();
                    format!("{{{}}}", n.join(","))
                })
                .collect();
            g.join(" | ")
        }
        Kind::Heal => "every link up".into(),
        Kind::Config { setting } => setting.clone(),
        Kind::ServerAdded { server } | Kind::ServerDeleted { server } => server.to_string(),
        Kind::End { end, enabled } => {
            format!("{end} {}", if *enabled { "enabled" } else { "disabled" })
        }
        Kind::Failure { message } => message.lines().next().unwrap_or_default().to_string(),
        Kind::Unknown => "(an event kind this lab version does not know)".into(),
    };
    (topic, text, None)
}

/// A trace event as the text `lab logs` prints for it.
pub fn describe_text(e: &Event) -> String {
    describe(e).1
}

fn parse(line: &str) -> Entry {
    if let Some(e) = trace::parse_line(line) {
        let (topic, text, name) = describe(&e);
        return Entry::Node {
            time: e.time,
            node: e.node.0,
            name,
            topic,
            text,
        };
    }
    parse_log_line(line).unwrap_or_else(|| Entry::Plain(line.to_string()))
}

/// ANSI 256-colour code of a topic.
fn topic_color(topic: &str) -> u8 {
    match topic {
        "send" => 33,
        "deliver" => 39,
        "reply" => 34,
        "drop" => 196,
        "crash" | "restart" => 201,
        "partition" | "heal" | "link" => 214,
        "config" | "server_added" | "server_deleted" | "node_created" => 244,
        "leader" | "lead" => 208,
        "term" => 141,
        "vote" => 177,
        "commit" => 41,
        "apply" => 36,
        "snapshot" | "snap" => 212,
        _ => {
            const PALETTE: [u8; 10] = [75, 114, 180, 149, 110, 216, 176, 43, 222, 104];
            let h = topic
                .bytes()
                .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
            PALETTE[h as usize % PALETTE.len()]
        }
    }
}

/// Wraps `text` into lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in text.split(' ') {
        let wlen = word.chars().count();
        if len > 0 && len + 1 + wlen > width {
            lines.push(std::mem::take(&mut line));
            len = 0;
        }
        if len > 0 {
            line.push(' ');
            len += 1;
        }
        let mut chars = word.chars().peekable();
        while chars.peek().is_some() {
            if len == width {
                lines.push(std::mem::take(&mut line));
                len = 0;
            }
            line.push(chars.next().unwrap_or(' '));
            len += 1;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(width.saturating_sub(n)))
}

fn parse_node(s: &str) -> Option<u32> {
    s.trim().trim_start_matches('n').parse().ok()
}

/// Runs `lab logs`.
pub fn logs(args: LogsArgs) -> Result<u8> {
    let lines = read_lines(&args.file)?;
    let filter = Filter::from_args(&args)?;
    let entries: Vec<Entry> = lines.iter().map(|l| parse(l)).collect();
    let nodes = node_names(&entries, &filter.nodes);
    if nodes.is_empty() {
        // Nothing node-shaped: print what there is.
        for e in entries.iter().filter(|e| filter.keep(e, &nodes)) {
            if let Entry::Plain(l) = e {
                crate::say!("{l}");
            }
        }
        return Ok(EXIT_OK);
    }
    let table = Columns::new(&args, &nodes);
    let mut out = std::io::stdout().lock();
    let _ = table.header(&mut out, &nodes);
    for e in entries.iter().filter(|e| filter.keep(e, &nodes)) {
        if table.entry(&mut out, e).is_err() {
            // The reader went away (`| head`): stop quietly.
            break;
        }
    }
    Ok(EXIT_OK)
}

/// The input's lines, from a file or stdin (`-`). Bytes that are not
/// UTF-8 (a binary log) are shown replaced, either way the input comes.
fn read_lines(file: &std::path::Path) -> Result<Vec<String>> {
    let bytes = if file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .with_context(|| "cannot read stdin")?;
        bytes
    } else {
        std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    Ok(String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_string)
        .collect())
}

/// Which lines `--nodes`, `--topics`, `--exclude`, `--from` and `--to` keep.
struct Filter {
    nodes: Vec<u32>,
    from: Option<u64>,
    to: Option<u64>,
    topics: Vec<String>,
    excluded: Vec<String>,
}

impl Filter {
    fn from_args(args: &LogsArgs) -> Result<Filter> {
        let mut nodes = Vec::new();
        for n in &args.nodes {
            match parse_node(n) {
                Some(id) => nodes.push(id),
                None => bail!("--nodes takes node ids like 1 or n1, got {n:?}"),
            }
        }
        let to_nanos = |s: Option<f64>, name: &str| -> Result<Option<u64>> {
            match s {
                Some(v) if !(v.is_finite() && v >= 0.0) => {
                    bail!("--{name} must be non-negative seconds, got {v}")
                }
                Some(v) => Ok(Some((v * 1e9).round() as u64)),
                None => Ok(None),
            }
        };
        let lower = |v: &[String]| v.iter().map(|t| t.to_lowercase()).collect();
        Ok(Filter {
            nodes,
            from: to_nanos(args.from, "from")?,
            to: to_nanos(args.to, "to")?,
            topics: lower(&args.topics),
            excluded: lower(&args.exclude),
        })
    }

    /// Whether `e` is shown; `shown` are the nodes with a column.
    fn keep(&self, e: &Entry, shown: &BTreeMap<u32, String>) -> bool {
        match e {
            Entry::Plain(l) => {
                self.topics.is_empty()
                    && self.nodes.is_empty()
                    && self.from.is_none()
                    && self.to.is_none()
                    && !l.trim().is_empty()
            }
            Entry::Node {
                time, node, topic, ..
            } => {
                let t = topic.to_lowercase();
                shown.contains_key(node)
                    && (self.topics.is_empty() || self.topics.contains(&t))
                    && !self.excluded.contains(&t)
                    && self.from.is_none_or(|f| *time >= f)
                    && self.to.is_none_or(|x| *time <= x)
            }
        }
    }
}

/// Every node the log mentions, with the last name it gave (node 0 is the
/// tester), kept to `only` when it is not empty.
fn node_names(entries: &[Entry], only: &[u32]) -> BTreeMap<u32, String> {
    let mut nodes: BTreeMap<u32, String> = BTreeMap::new();
    for e in entries {
        if let Entry::Node { node, name, .. } = e {
            let slot = nodes.entry(*node).or_default();
            if let Some(n) = name {
                *slot = n.clone();
            }
        }
    }
    if let Some(name) = nodes.get_mut(&0).filter(|n| n.is_empty()) {
        *name = "tester".into();
    }
    if !only.is_empty() {
        nodes.retain(|id, _| only.contains(id));
    }
    nodes
}

/// The width of the time column.
const TIME_W: usize = 12;

/// The layout: a time column, then one column per node.
struct Columns {
    ids: Vec<u32>,
    col: usize,
    width: usize,
    color: bool,
}

impl Columns {
    fn new(args: &LogsArgs, nodes: &BTreeMap<u32, String>) -> Columns {
        let color = !args.no_color
            && (args.color
                || (std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()));
        let width = args.width.map(usize::from).unwrap_or_else(|| {
            console::Term::stdout()
                .size_checked()
                .map(|(_, w)| usize::from(w))
                .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
                .unwrap_or(160)
        });
        let ids: Vec<u32> = nodes.keys().copied().collect();
        let col = ((width.saturating_sub(TIME_W)) / ids.len().max(1)).max(12);
        Columns {
            ids,
            col,
            width,
            color,
        }
    }

    /// The nodes' names over their columns, and a rule.
    fn header(&self, out: &mut impl Write, nodes: &BTreeMap<u32, String>) -> std::io::Result<()> {
        let mut header = " ".repeat(TIME_W);
        for id in &self.ids {
            let name = &nodes[id];
            let label = if name.is_empty() {
                format!("n{id}")
            } else {
                format!("n{id} {name}")
            };
            header.push_str(&pad(
                &label.chars().take(self.col - 1).collect::<String>(),
                self.col,
            ));
        }
        let header = header.trim_end();
        if self.color {
            writeln!(out, "\x1b[1m{header}\x1b[0m")?;
        } else {
            writeln!(out, "{header}")?;
        }
        let rule = (TIME_W + self.col * self.ids.len()).min(self.width);
        writeln!(out, "{}", "-".repeat(rule))
    }

    /// One entry: a plain line as it is, a node's line in its column,
    /// wrapped to the column's width.
    fn entry(&self, out: &mut impl Write, e: &Entry) -> std::io::Result<()> {
        let (time, node, topic, text) = match e {
            Entry::Plain(l) => return writeln!(out, "{l}"),
            Entry::Node {
                time,
                node,
                topic,
                text,
                ..
            } => (time, node, topic, text),
        };
        let i = self.ids.iter().position(|n| n == node).unwrap_or(0);
        let body = format!("{} {text}", topic.to_uppercase());
        for (k, piece) in wrap(body.trim_end(), self.col - 1).into_iter().enumerate() {
            let t = if k == 0 {
                fmt_time(*time)
            } else {
                String::new()
            };
            let cell = if self.color {
                format!("\x1b[38;5;{}m{}\x1b[0m", topic_color(topic), piece)
            } else {
                piece
            };
            let line = format!("{t:>11} {}{cell}", " ".repeat(self.col * i));
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_simulation_log_lines() {
        let e = parse("   1.204113s n2   raft-1     DEBUG raft::vote: granted vote to 0 in term 3");
        assert_eq!(
            e,
            Entry::Node {
                time: 1_204_113_000,
                node: 2,
                name: Some("raft-1".into()),
                topic: "vote".into(),
                text: "granted vote to 0 in term 3".into()
            }
        );
        let e = parse("   2.000000s n1   a          DEBUG event: [leader] term 4");
        assert!(
            matches!(e, Entry::Node { ref topic, ref text, .. } if topic == "leader" && text == "term 4")
        );
        assert_eq!(
            parse("test basic ... ok"),
            Entry::Plain("test basic ... ok".into())
        );
    }

    #[test]
    fn reads_trace_events() {
        let e = parse(
            r#"{"seq":1,"time":5000,"node":1,"kind":"drop","rpc":7,"leg":"reply","reason":"unreliable"}"#,
        );
        assert!(
            matches!(e, Entry::Node { node: 1, ref topic, ref text, .. } if topic == "drop" && text.contains("#7 reply: unreliable"))
        );
    }

    proptest::proptest! {
        #[test]
        fn wrapping_keeps_every_character_within_the_width(text in "[a-z →✗]{0,80}", width in 1usize..30) {
            let lines = wrap(&text, width);
            for l in &lines {
                proptest::prop_assert!(l.chars().count() <= width, "{l:?}");
            }
            let strip = |s: &str| s.chars().filter(|c| *c != ' ').collect::<String>();
            proptest::prop_assert_eq!(strip(&lines.concat()), strip(&text));
        }

        #[test]
        fn any_line_parses_without_panicking(line in "\\PC{0,120}") {
            let _ = parse(&line);
            let _ = crate::outcome::Outcome::parse(&line, false);
        }

        #[test]
        fn log_like_lines_parse_without_panicking(
            t in "[0-9.s]{0,12}", n in "n?[0-9]{0,3}", rest in "[ A-Za-z:\\[\\]]{0,40}"
        ) {
            let _ = parse(&format!("  {t} {n} {rest}"));
        }
    }

    #[test]
    fn wraps_to_the_column() {
        assert_eq!(
            wrap("aaa bbb ccccccc", 5),
            vec!["aaa", "bbb", "ccccc", "cc"]
        );
        assert_eq!(wrap("", 5), vec![""]);
    }
}
