//! The page of a run: one self-contained HTML file that explains it, on
//! one time axis (what `lab replay --html`, `lab picture` and `lab scenario
//! --html` write; `LAB_HTML=DIR` makes a failing test write it).
//!
//! Guarantees:
//! - **Self-contained and deterministic**: one HTML file with inline
//!   drawing code (a canvas) and the data inline as JSON; no network, no
//!   external file. The same trace and output give the same bytes.
//! - **The space-time diagram**: one lane per node (named from
//!   `node_created`, the tester is `n0`), time left to right. A request is
//!   an arrow from its `send` to its `deliver`, a reply from the delivery
//!   back to the client's `reply` (the trace does not record when a handler
//!   returned). A lost message is a red dashed arrow ending in an X at the
//!   time its loss was recorded. Crash..restart intervals are hatched
//!   grey; partitions tint each lane with its group's colour; links cut
//!   (`link` events) hatch the lane orange. Lab events are diamonds
//!   coloured by topic, and so are held, released and duplicated messages;
//!   network settings, partitions, heals and a scenario's steps are marked
//!   on the time axis; the failure is a red line and X with its message and
//!   reproduce command in the header.
//! - **Beside it, on the same axis** ([`crate::page`]): a state strip per
//!   node (the harness's `state` observations: term, leadership, applied
//!   index, snapshot), the KV history's operations as bars (the checker's
//!   violating ones red), and the log in columns per node (log lines of
//!   the run's output, lab events, faults), filtered by node, topic, level
//!   and text. A click puts the cursor (the log scrolls to it, each node's
//!   state at that instant is listed); a click on a log row moves the
//!   cursor there; a click on a message shows its method, ends, times,
//!   fate, arguments and reply.
//! - **Zoom**: drag across the diagram, the mouse wheel, buttons, a
//!   from/to form; a link may carry `#from=S&to=S`, `#cursor=S`, `#rpc=N`.
//! - **The cap**: at most [`DEFAULT_MAX_EVENTS`] trace events are drawn
//!   (`--max-events` changes it). When the trace (or the `--from`/`--to`
//!   window) has more, the first ones are drawn and a visible note says
//!   how many were left out and from which virtual time; network state
//!   (crashes, partitions) is still computed from the whole trace.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bail;
use crate::error::Result;
use crate::outcome::Failure;
use crate::trace::{self, Event, Kind, Leg, fmt_time};
use anyhow::Context as _;

/// The default cap on drawn trace events: the largest grader runs (about
/// 40,000 events) are drawn whole.
pub const DEFAULT_MAX_EVENTS: usize = 100_000;

const TEMPLATE: &str = include_str!("picture.html");

/// Arguments of `lab picture`.
#[derive(clap::Args, Debug)]
pub struct PictureArgs {
    /// A trace file (JSON lines written with LAB_TRACE).
    pub trace: PathBuf,
    /// Where to write the picture (self-contained HTML; default: the
    /// trace's path with .html).
    #[arg(long, value_name = "FILE", alias = "output", short_alias = 'o')]
    pub html: Option<PathBuf>,
    #[command(flatten)]
    pub window: Window,
}

/// Which part of a trace to draw.
#[derive(clap::Args, Debug, Clone)]
pub struct Window {
    /// Draw from this virtual time on (seconds).
    #[arg(long, value_name = "SECS")]
    pub from: Option<f64>,
    /// Draw up to this virtual time (seconds).
    #[arg(long, value_name = "SECS")]
    pub to: Option<f64>,
    /// At most this many trace events are drawn.
    #[arg(long, default_value_t = DEFAULT_MAX_EVENTS, value_name = "N")]
    pub max_events: usize,
}

/// Runs `lab picture`.
pub fn picture_command(args: PictureArgs) -> Result<u8> {
    let events = trace::read(&args.trace)?;
    let out = args
        .html
        .unwrap_or_else(|| args.trace.with_extension("html"));
    let title = args
        .trace
        .file_name()
        .map_or_else(|| "trace".into(), |n| n.to_string_lossy().into_owned());
    let summary = write(&out, &title, &events, &args.window, &Run::default())?;
    crate::say!("picture: {} ({summary})", out.display());
    Ok(crate::error::EXIT_OK)
}

/// What the tool knows of the run beside its trace.
#[derive(Default)]
pub struct Run<'a> {
    /// How it failed (else the trace's `failure` event says, if any).
    pub failure: Option<&'a Failure>,
    /// Everything it printed: its log lines go into the page.
    pub output: &'a str,
}

/// Draws `events` to `out`; returns a one-line summary of what was drawn.
pub fn write(
    out: &Path,
    title: &str,
    events: &[Event],
    window: &Window,
    run: &Run<'_>,
) -> Result<String> {
    let (html, summary) = render(title, events, window, run)?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(out, html).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(summary)
}

/// The data the page draws (times in virtual nanoseconds).
#[derive(Serialize)]
struct Data {
    title: String,
    /// The drawn window.
    t0: u64,
    t1: u64,
    /// The last event of the whole trace.
    end: u64,
    /// `[id, name]`, by id.
    lanes: Vec<(u32, String)>,
    /// `[t_send, from, to (-1: none), t_deliver (-1), t_reply (-1),
    /// lost leg (0 none, 1 request, 2 reply), t_lost (-1), method, rpc,
    /// reason, bytes]`.
    msgs: Vec<Msg>,
    /// `[node, t0, t1, kind, label, group]`, kind `crash|part|cut`; for
    /// `cut`, "group" is the share (%) of the other nodes cut off.
    bands: Vec<(u32, u64, u64, &'static str, String, usize)>,
    /// `[node, t, topic, message]`.
    marks: Vec<(u32, u64, String, String)>,
    /// `[t, kind, text]`: partitions, heals, network settings.
    global: Vec<(u64, &'static str, String)>,
    /// `[t, node (-1: unknown), message, reproduce command]`.
    failure: Option<(u64, i64, String, String)>,
    /// States, logs, KV history, message content.
    #[serde(flatten)]
    extras: crate::page::Extras,
    /// Set when events were left out.
    note: Option<String>,
    drawn: usize,
    total: usize,
}

type Msg = (u64, u32, i64, i64, i64, u8, i64, String, u64, String, u64);

fn secs_to_nanos(s: f64) -> Result<u64> {
    if !(s.is_finite() && s >= 0.0) {
        bail!("--from/--to must be non-negative seconds, got {s}");
    }
    Ok((s * 1e9).round() as u64)
}

/// Renders the page; returns it and a one-line summary.
fn render(
    title: &str,
    events: &[Event],
    window: &Window,
    run: &Run<'_>,
) -> Result<(String, String)> {
    let span = Span::of(events, window)?;
    let drawn: &[&Event] = &span.drawn;
    let lanes = lanes(events);
    let msgs = messages(drawn);
    let (bands, global) = network_state(events, span.t0, span.t1);
    let marks = drawn.iter().filter_map(|e| mark(e)).collect();
    let summary = format!(
        "{} lanes, {} messages, {} of {} events drawn{}",
        lanes.len(),
        msgs.len(),
        drawn.len(),
        events.len(),
        if span.note.is_some() { ", cut" } else { "" }
    );
    let data = Data {
        title: title.to_string(),
        t0: span.t0,
        t1: span.t1,
        end: span.end,
        lanes: lanes.into_iter().collect(),
        msgs,
        bands,
        marks,
        global,
        failure: failure_of(run.failure, events),
        note: span.note,
        drawn: drawn.len(),
        total: events.len(),
        extras: crate::page::extras(drawn, run.output, (span.t0, span.t1)),
    };
    // '<' only occurs inside JSON strings, where \u003c means the same:
    // the data can never close the <script> element.
    let json = serde_json::to_string(&data)
        .unwrap_or_else(|_| "null".into())
        .replace('<', "\\u003c");
    let html = TEMPLATE
        .replace("__TITLE__", &html_escape(title))
        .replace("/*__DATA__*/null", &json);
    Ok((html, summary))
}

/// The part of the trace a page draws.
struct Span<'e> {
    /// The events drawn: those in the window, up to the cap.
    drawn: Vec<&'e Event>,
    /// The drawn window's ends.
    t0: u64,
    t1: u64,
    /// The last event of the whole trace.
    end: u64,
    /// Why events were left out, if any were.
    note: Option<String>,
}

impl<'e> Span<'e> {
    /// The window `--from`/`--to`/`--max-events` ask for, checked.
    fn of(events: &'e [Event], window: &Window) -> Result<Span<'e>> {
        let end = events.iter().map(|e| e.time).max().unwrap_or(0);
        let from = window.from.map(secs_to_nanos).transpose()?.unwrap_or(0);
        let to = window
            .to
            .map(secs_to_nanos)
            .transpose()?
            .unwrap_or(u64::MAX);
        if from > to {
            bail!("--from must not be after --to");
        }
        if window.max_events == 0 {
            bail!("--max-events must be at least 1");
        }
        let mut drawn: Vec<&Event> = events
            .iter()
            .filter(|e| e.time >= from && e.time <= to)
            .collect();
        let in_window = drawn.len();
        drawn.truncate(window.max_events);
        let t0 = if window.from.is_some() {
            from
        } else {
            drawn.first().map_or(0, |e| e.time.min(from))
        };
        let mut t1 = match drawn.last() {
            Some(last) if drawn.len() < in_window => last.time,
            _ if window.to.is_some() => to.min(end.max(t0)),
            _ => end,
        };
        if t1 <= t0 {
            t1 = t0 + 1_000_000;
        }
        let note = (drawn.len() < in_window).then(|| {
            format!(
                "Cut: only the first {} of {} events{} are drawn (up to {}). Use --from/--to to \
                 draw another window, or --max-events to raise the cap of {}.",
                drawn.len(),
                in_window,
                if window.from.is_some() || window.to.is_some() {
                    " in the window"
                } else {
                    ""
                },
                fmt_time(t1),
                window.max_events
            )
        });
        Ok(Span {
            drawn,
            t0,
            t1,
            end,
            note,
        })
    }
}

/// Lanes: every node of the whole trace, by id, with its name.
fn lanes(events: &[Event]) -> BTreeMap<u32, String> {
    let mut lanes: BTreeMap<u32, String> = BTreeMap::new();
    lanes.insert(0, "tester".into());
    for e in events {
        lanes.entry(e.node.0).or_default();
        if let Kind::NodeCreated { name } = &e.kind {
            lanes.insert(e.node.0, name.to_string());
        }
    }
    lanes
}

/// The mark an event makes on its node's lane (`[node, t, topic,
/// message]`), if it makes one.
fn mark(e: &Event) -> Option<(u32, u64, String, String)> {
    let (topic, text) = match &e.kind {
        // Drawn on the time axis instead.
        Kind::Lab { topic, .. } if &**topic == "scenario" => return None,
        // Drawn as the KV history's bars.
        Kind::Lab { topic, .. } if topic.starts_with("kv_") => return None,
        Kind::Lab { topic, fields } => (topic.to_string(), fields.to_string()),
        Kind::Hold { rpc, leg, hold } => (
            "held".into(),
            format!("rpc {rpc}: {leg} held (hold #{hold})"),
        ),
        Kind::Release { rpc, leg, hold } => (
            "released".into(),
            format!("rpc {rpc}: {leg} released (hold #{hold})"),
        ),
        Kind::Duplicate { rpc, what } => (
            "duplicate".into(),
            format!("rpc {rpc}: duplicate request {what}"),
        ),
        Kind::Crash => ("crash".into(), "crashed".into()),
        Kind::Restart => ("restart".into(), "restarted".into()),
        Kind::ServerAdded { server } => ("server".into(), format!("server {server} added")),
        Kind::ServerDeleted { server } => ("server".into(), format!("server {server} deleted")),
        _ => return None,
    };
    Some((e.node.0, e.time, topic, text))
}

/// The failure to pin on the axis: the run's, else the trace's `failure`
/// event (its message names node, time and the reproduce command).
fn failure_of(failure: Option<&Failure>, events: &[Event]) -> Option<(u64, i64, String, String)> {
    // The trace's message is whole (the output's headline is one line).
    let traced = events.iter().rev().find_map(|e| match &e.kind {
        Kind::Failure { message } => Some(message),
        _ => None,
    });
    let from_trace;
    let f = match (failure, traced) {
        (Some(f), _) => f,
        (None, Some(message)) => {
            from_trace = crate::outcome::failure_in(message);
            &from_trace
        }
        (None, None) => return None,
    };
    let t = secs_to_nanos(f.virtual_s?).ok()?;
    let node = f
        .node
        .as_deref()
        .and_then(|n| n.strip_prefix('n'))
        .and_then(|n| n.split_whitespace().next())
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or(-1);
    let reproduce = f.reproduce.clone().unwrap_or_default();
    let message = traced.map_or_else(|| f.message.clone(), Clone::clone);
    Some((t, node, message, reproduce))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Joins send, deliver, reply and drop events of each RPC.
///
/// A request that could not even be routed (its link was down when it was
/// sent) has no destination node in its `send` event; it is drawn towards
/// the node that last hosted its server (from `server_added`).
fn messages(events: &[&Event]) -> Vec<Msg> {
    let mut by_rpc: BTreeMap<u64, Msg> = BTreeMap::new();
    let mut hosts: BTreeMap<&str, u32> = BTreeMap::new();
    for e in events {
        match &e.kind {
            Kind::ServerAdded { server } => {
                hosts.insert(server, e.node.0);
            }
            Kind::Send {
                rpc,
                to,
                method,
                bytes,
                server,
                ..
            } => {
                let to = to.map(|n| n.0).or_else(|| hosts.get(&**server).copied());
                by_rpc.insert(
                    *rpc,
                    (
                        e.time,
                        e.node.0,
                        to.map_or(-1, i64::from),
                        -1,
                        -1,
                        0,
                        -1,
                        method.to_string(),
                        *rpc,
                        String::new(),
                        *bytes as u64,
                    ),
                );
            }
            Kind::Deliver { rpc, from: _, .. } => {
                if let Some(m) = by_rpc.get_mut(rpc) {
                    m.3 = e.time as i64;
                    m.2 = i64::from(e.node.0);
                }
            }
            Kind::Reply { rpc, .. } => {
                if let Some(m) = by_rpc.get_mut(rpc) {
                    m.4 = e.time as i64;
                }
            }
            Kind::Drop { rpc, leg, reason } => {
                if let Some(m) = by_rpc.get_mut(rpc) {
                    m.5 = match leg {
                        Leg::Request => 1,
                        Leg::Reply => 2,
                    };
                    m.6 = e.time as i64;
                    m.9 = reason.to_string();
                }
            }
            _ => {}
        }
    }
    by_rpc.into_values().collect()
}

type Band = (u32, u64, u64, &'static str, String, usize);

/// Crash, partition and cut intervals per lane (clipped to `[t0, t1]`),
/// and the marks on the time axis.
fn network_state(
    events: &[Event],
    t0: u64,
    t1: u64,
) -> (Vec<Band>, Vec<(u64, &'static str, String)>) {
    let mut net = NetState {
        t0,
        t1,
        ..NetState::default()
    };
    for e in events {
        net.step(e);
    }
    let last = events.iter().map(|e| e.time).max().unwrap_or(0).max(t1);
    net.finish(last)
}

/// What the network looks like at an instant while [`network_state`]
/// walks the trace, and the bands it has closed so far.
#[derive(Default)]
struct NetState {
    t0: u64,
    t1: u64,
    bands: Vec<Band>,
    global: Vec<(u64, &'static str, String)>,
    /// node -> since when it is down.
    crashed: BTreeMap<u32, u64>,
    /// node -> (since, group, label) of the current partition.
    parted: BTreeMap<u32, (u64, usize, String)>,
    /// Directed links cut by `link` events.
    down: BTreeMap<(u32, u32), ()>,
    /// node -> (since, label, share of peers cut off in %).
    cut: BTreeMap<u32, (u64, String, usize)>,
    known: BTreeMap<u32, ()>,
}

impl NetState {
    /// Keeps `band` clipped to the window, if anything of it is left.
    fn push(&mut self, band: Band) {
        let (a, b) = (band.1.max(self.t0), band.2.min(self.t1));
        if a < b {
            self.bands.push((band.0, a, b, band.3, band.4, band.5));
        }
    }

    fn end_partitions(&mut self, now: u64) {
        for (node, (since, group, label)) in std::mem::take(&mut self.parted) {
            self.push((node, since, now, "part", label, group));
        }
    }

    fn step(&mut self, e: &Event) {
        match &e.kind {
            Kind::Crash => {
                self.crashed.entry(e.node.0).or_insert(e.time);
            }
            Kind::Restart => {
                if let Some(since) = self.crashed.remove(&e.node.0) {
                    self.push((e.node.0, since, e.time, "crash", "crashed".into(), 0));
                }
            }
            Kind::Partition { groups } => self.partition(e.time, groups),
            Kind::Heal => {
                self.end_partitions(e.time);
                self.down.clear();
                for (node, (since, label, share)) in std::mem::take(&mut self.cut) {
                    self.push((node, since, e.time, "cut", label, share));
                }
                self.global
                    .push((e.time, "heal", "heal: every link up".into()));
            }
            Kind::NodeCreated { .. } => {
                self.known.insert(e.node.0, ());
            }
            Kind::Link { from, to, up } => self.link(e.time, from.0, to.0, *up),
            Kind::Config { setting } => self.global.push((e.time, "config", setting.clone())),
            // A scenario's steps (`lab scenario`) on the time axis.
            Kind::Lab { topic, fields } if &**topic == "scenario" => {
                self.global.push((e.time, "step", fields.to_string()));
            }
            _ => {}
        }
    }

    fn partition(&mut self, now: u64, groups: &[Vec<labrpc::NodeId>]) {
        self.end_partitions(now);
        let label = groups
            .iter()
            .map(|g| {
                let names: Vec<String> = g.iter().map(ToString::to_string).collect();
                format!("{{{}}}", names.join(","))
            })
            .collect::<Vec<_>>()
            .join(" | ");
        for (gi, g) in groups.iter().enumerate() {
            for n in g {
                self.parted
                    .insert(n.0, (now, gi, format!("partition {label}")));
            }
        }
        self.global
            .push((now, "partition", format!("partition {label}")));
    }

    /// A one-way link went down or up: both ends' cut bands change.
    fn link(&mut self, now: u64, from: u32, to: u32, up: bool) {
        if up {
            self.down.remove(&(from, to));
        } else {
            self.down.insert((from, to), ());
        }
        for n in [from, to] {
            let links: Vec<String> = self
                .down
                .keys()
                .filter(|(a, b)| *a == n || *b == n)
                .map(|(a, b)| format!("n{a}→n{b}"))
                .collect();
            // How cut off: the share of the other nodes with a link down to
            // or from n (the band's shade).
            let peers = self
                .known
                .keys()
                .filter(|&&m| m != n && m != 0)
                .count()
                .max(1);
            let cut_off = self
                .known
                .keys()
                .filter(|&&m| {
                    m != n && (self.down.contains_key(&(n, m)) || self.down.contains_key(&(m, n)))
                })
                .count();
            let share = (cut_off * 100 / peers).min(100);
            let label = format!(
                "{cut_off} of {peers} peers cut off; links down: {}",
                links.join(", ")
            );
            if self.cut.get(&n).is_some_and(|c| c.1 == label) {
                continue;
            }
            if let Some((since, old, old_share)) = self.cut.remove(&n) {
                self.push((n, since, now, "cut", old, old_share));
            }
            if !links.is_empty() {
                self.cut.insert(n, (now, label, share));
            }
        }
    }

    /// Closes every band still open at `last`.
    fn finish(mut self, last: u64) -> (Vec<Band>, Vec<(u64, &'static str, String)>) {
        for (node, since) in std::mem::take(&mut self.crashed) {
            let label = "crashed (never restarted)".into();
            self.push((node, since, last, "crash", label, 0));
        }
        self.end_partitions(last);
        for (node, (since, label, share)) in std::mem::take(&mut self.cut) {
            self.push((node, since, last, "cut", label, share));
        }
        let (t0, t1) = (self.t0, self.t1);
        self.global.retain(|g| g.0 >= t0 && g.0 <= t1);
        (self.bands, self.global)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(time: u64, node: u32, json: &str) -> Event {
        trace::parse_line(&format!(
            r#"{{"seq":0,"time":{time},"node":{node},{json}}}"#
        ))
        .unwrap()
    }

    fn all() -> Window {
        Window {
            from: None,
            to: None,
            max_events: DEFAULT_MAX_EVENTS,
        }
    }

    fn sample() -> Vec<Event> {
        vec![
            ev(0, 1, r#""kind":"node_created","name":"a""#),
            ev(0, 2, r#""kind":"node_created","name":"b""#),
            ev(
                10,
                1,
                r#""kind":"send","rpc":1,"end":"e","server":"s","to":2,"method":"m.x","bytes":3"#,
            ),
            ev(20, 2, r#""kind":"deliver","rpc":1,"from":1,"method":"m.x""#),
            ev(30, 1, r#""kind":"reply","rpc":1,"from":2,"bytes":4"#),
            ev(40, 0, r#""kind":"partition","groups":[[1],[2]]"#),
            ev(
                50,
                1,
                r#""kind":"send","rpc":2,"end":"e","server":"s","to":2,"method":"m.x","bytes":3"#,
            ),
            ev(
                60,
                1,
                r#""kind":"drop","rpc":2,"leg":"request","reason":"link down""#,
            ),
            ev(70, 2, r#""kind":"crash""#),
            ev(80, 0, r#""kind":"heal""#),
            ev(90, 2, r#""kind":"restart""#),
            ev(
                95,
                1,
                r#""kind":"lab","topic":"leader","fields":{"text":"term 2 <b>"}"#,
            ),
        ]
    }

    #[test]
    fn joins_rpcs_and_shades_partitions_and_crashes() {
        let events = sample();
        let refs: Vec<&Event> = events.iter().collect();
        let msgs = messages(&refs);
        assert_eq!(msgs.len(), 2);
        assert_eq!((msgs[0].3, msgs[0].4, msgs[0].5), (20, 30, 0));
        assert_eq!(
            (msgs[1].5, msgs[1].6, msgs[1].9.as_str()),
            (1, 60, "link down")
        );
        let (bands, global) = network_state(&events, 0, 95);
        assert!(bands.contains(&(2, 70, 90, "crash", "crashed".into(), 0)));
        assert!(
            bands
                .iter()
                .any(|b| b.0 == 1 && b.1 == 40 && b.2 == 80 && b.3 == "part")
        );
        assert_eq!(global.len(), 2);
    }

    #[test]
    fn the_page_is_self_contained_deterministic_and_escaped() {
        let (a, summary) = render("t<1>", &sample(), &all(), &Run::default()).unwrap();
        let (b, _) = render("t<1>", &sample(), &all(), &Run::default()).unwrap();
        assert_eq!(a, b);
        assert!(summary.contains("2 messages"), "{summary}");
        assert!(!a.contains("term 2 <b>") && !a.contains("t<1>"));
        assert!(!a.contains("http://") && !a.contains("https://") && !a.contains("src="));
    }

    #[test]
    fn a_failure_is_marked_on_its_node() {
        let f = Failure {
            message: "labrpc: boom".into(),
            seed: None,
            virtual_s: Some(0.00000009),
            node: Some("n2 (b)".into()),
            reproduce: None,
        };
        let (html, _) = render(
            "t",
            &sample(),
            &all(),
            &Run {
                failure: Some(&f),
                output: "",
            },
        )
        .unwrap();
        assert!(
            html.contains("\"failure\":[90,2,\"labrpc: boom\",\"\"]"),
            "{html}"
        );
    }

    #[test]
    fn the_cap_cuts_with_a_note() {
        let w = Window {
            max_events: 5,
            ..all()
        };
        let (html, summary) = render("t", &sample(), &w, &Run::default()).unwrap();
        assert!(summary.ends_with(", cut"));
        assert!(html.contains("Cut: only the first 5 of 12 events"));
    }
}
