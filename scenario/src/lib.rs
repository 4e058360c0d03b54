//! Scripted, deterministic partition scenarios: the instructor's tool.
//!
//! A scenario file (TOML, see `docs/scenarios.md`) names a lab and a
//! cluster, clients and their workload, a timeline of faults at virtual
//! times, and expectations. [`spec::load`] reads and checks it (every error
//! names the file, line and field); [`run::run`] runs it as one labrpc
//! simulation for a seed. The same file and seed give the same run, bit
//! for bit: the trace hash says so.
//!
//! This crate is framework, not a lab: it uses the labs' public API only
//! and carries no solution. It is instructor tooling and is not handed out
//! (it needs the raft, kvraft and shardkv1 crates, which a handout may
//! leave out).
//! `lab scenario FILE` builds and runs its binary, then draws the picture.

pub mod fuzz;
mod hooks;
pub mod labs;
pub mod monitor;
pub mod run;
pub mod shardkv1;
pub mod spec;

use std::fmt::Write as _;

use labrpc::trace::{Event, EventKind};

pub use run::{ExpectResult, Outcome, run};
pub use spec::{Lab, Scenario, SpecError, load, parse};

pub(crate) fn time(nanos: u64) -> String {
    format!("{:>8.3}s", nanos as f64 / 1e9)
}

/// What happened, one line per event worth telling: the scenario's steps,
/// leaders and step-downs, the highest commit index as it grows, crashes
/// and restarts, client operations, expectations.
pub fn timeline(s: &Scenario, events: &[Event]) -> Vec<String> {
    if s.lab == Lab::Shardkv1 {
        return shardkv1::timeline(events);
    }
    let mut out = Vec::new();
    let mut commit = 0u64;
    let names = s.lab_spec.as_ref().map(|l| l.node_names());
    let peer = |node: u32| match (node.checked_sub(1), &names) {
        (None, _) => "tester".into(),
        (Some(k), Some(names)) => names.get(k as usize).cloned().unwrap_or_default(),
        (Some(p), None) => format!("peer {p}"),
    };
    for e in events {
        let line = match &e.kind {
            EventKind::Lab { topic, fields } => {
                let int = |name| fields.int(name).unwrap_or(0);
                match topic.as_ref() {
                    "scenario" => Some(format!("▶ {fields}")),
                    "leader" => Some(format!("★ peer {} leads term {}", int("peer"), int("term"))),
                    "follower" => Some(format!(
                        "☆ peer {} steps down, term {}",
                        int("peer"),
                        int("term")
                    )),
                    "commit" => {
                        let index = int("index") as u64;
                        (index > commit).then(|| {
                            commit = index;
                            format!("  commit ..={index} (first on peer {})", int("peer"))
                        })
                    }
                    "client" => Some(format!("  {fields}")),
                    "expect" => Some(format!("? {fields}")),
                    _ => None,
                }
            }
            EventKind::Crash => Some(format!("✖ {} crashed", peer(e.node.0))),
            EventKind::Restart => Some(format!("↻ {} restarted", peer(e.node.0))),
            EventKind::Failure { message } => Some(format!("!! {message}")),
            _ => None,
        };
        if let Some(l) = line {
            out.push(format!("{} {l}", time(e.time)));
        }
    }
    let _ = s;
    out
}

/// The report of one run, as `lab scenario` prints it.
pub fn report(s: &Scenario, o: &Outcome, with_timeline: bool) -> String {
    let mut r = String::new();
    let _ = writeln!(r, "scenario: {} ({})", s.title, s.file);
    let cluster = match (&s.lab_spec, s.lab) {
        (Some(l), _) => l.summary(),
        (None, Lab::Shardkv1) => format!("{} servers", s.peers),
        (None, _) => format!("{} peers", s.peers),
    };
    let _ = writeln!(
        r,
        "  lab {}, {cluster}, {} network, seed {}, {:.3}s of virtual time",
        s.lab.name(),
        if s.reliable { "reliable" } else { "unreliable" },
        o.seed,
        s.duration.as_secs_f64()
    );
    if !s.description.is_empty() {
        let _ = writeln!(r);
        for l in wrap(&s.description, 76) {
            let _ = writeln!(r, "  {l}");
        }
    }
    if with_timeline {
        let _ = writeln!(
            r,
            "\ntimeline (★ leader, ☆ steps down, ▶ step, ? expectation):"
        );
        for l in timeline(s, &o.events) {
            let _ = writeln!(r, "{l}");
        }
    }
    let _ = writeln!(r, "\nexpectations:");
    for e in &o.results {
        let mark = match e.held {
            Some(true) => "✓",
            Some(false) => "✗",
            None => "·",
        };
        let _ = writeln!(r, "  {mark} {:>2}  line {:<3} {}", e.number, e.line, e.what);
        let _ = writeln!(
            r,
            "          {} at {:.3}s: {}",
            match e.held {
                Some(true) => "held",
                Some(false) => "FAILED",
                None => "not checked",
            },
            e.at.as_secs_f64(),
            e.why.lines().next().unwrap_or("")
        );
    }
    let failed: Vec<&ExpectResult> = o.results.iter().filter(|e| e.held == Some(false)).collect();
    for e in &failed {
        let _ = writeln!(
            r,
            "\nexpectation {} failed ({}:{}, field `{}`) at {:.3}s, seed {}:\n  {}\n  {}",
            e.number,
            s.file,
            e.line,
            e.field,
            e.at.as_secs_f64(),
            o.seed,
            e.what,
            e.why.replace('\n', "\n  ")
        );
    }
    if let Some(err) = &o.error {
        let _ = writeln!(r, "\nthe run stopped: {err}");
    }
    let _ = writeln!(
        r,
        "\n{}: {} of {} expectations held; trace hash {:016x}, {} events",
        if o.passed() { "PASSED" } else { "FAILED" },
        o.results.iter().filter(|e| e.held == Some(true)).count(),
        o.results.len(),
        o.trace_hash,
        o.events.len()
    );
    if !o.passed() {
        let _ = writeln!(r, "reproduce: lab scenario {} --seed {}", s.file, o.seed);
    }
    r
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split("\n\n") {
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + word.len() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines.push(String::new());
    }
    lines.pop();
    lines
}

/// `--seeds N`: how often each expectation held over `outcomes`.
pub fn seeds_report(s: &Scenario, outcomes: &[Outcome]) -> String {
    let mut r = String::new();
    let n = outcomes.len();
    let _ = writeln!(
        r,
        "scenario: {} ({}), {} seeds from {}",
        s.title,
        s.file,
        n,
        outcomes.first().map_or(0, |o| o.seed)
    );
    // Every lab's outcome lists each expectation, in file order.
    let listed = outcomes.first().map_or(&[][..], |o| o.results.as_slice());
    for (i, e) in listed.iter().enumerate() {
        let held = outcomes
            .iter()
            .filter(|o| o.results.get(i).is_some_and(|r| r.held == Some(true)))
            .count();
        let first_fail = outcomes
            .iter()
            .find(|o| o.results.get(i).is_some_and(|r| r.held != Some(true)))
            .map(|o| format!("; first failing seed {}", o.seed))
            .unwrap_or_default();
        let _ = writeln!(
            r,
            "  {:>3}/{n} ({:>3.0}%)  expectation {} (line {}): {}{first_fail}",
            held,
            100.0 * held as f64 / n.max(1) as f64,
            e.number,
            e.line,
            e.what
        );
    }
    let stopped: Vec<&Outcome> = outcomes.iter().filter(|o| o.error.is_some()).collect();
    if let Some(o) = stopped.first() {
        let _ = writeln!(
            r,
            "  {} runs stopped early; the first, seed {}: {}",
            stopped.len(),
            o.seed,
            o.error.as_deref().unwrap_or("")
        );
    }
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    let _ = writeln!(r, "{passed} of {n} runs met every expectation");
    r
}
