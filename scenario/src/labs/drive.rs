//! The run of a scenario of these labs: the timeline at its virtual
//! times, the expectations at theirs (each looked at every [`POLL`] over
//! its window), and every step and verdict as a trace event, as in the
//! Raft labs' runs.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use labrpc::time::{Instant, sleep, sleep_until};
use labrpc::trace::event;
use labrpc::{LinkConfig, NodeId, network, node, task};

use super::{LabAction, LabCheck};
use crate::run::{ExpectResult, Found, POLL, describe};
use crate::spec::{Check, Expect, Scenario};

/// What every lab's run keeps: its nodes (by name) and what the steps did.
pub(crate) struct Core {
    /// The scenario.
    pub s: Rc<Scenario>,
    /// Every node of the run, by the name the file uses.
    pub nodes: Vec<(String, NodeId)>,
    /// Names bound by `bind` steps.
    pub names: RefCell<BTreeMap<String, Vec<usize>>>,
    /// Drop and delay rules, by method.
    pub hooks: crate::hooks::Hooks,
    /// What the run found.
    pub found: Rc<RefCell<Found>>,
    /// Set when the run stops (a step failed, or the end).
    pub stopped: Cell<bool>,
}

impl Core {
    /// Creates a node for each name, in order.
    pub fn create(names: Vec<String>) -> Vec<(String, NodeId)> {
        names
            .into_iter()
            .map(|n| {
                let id = node::create(n.clone());
                (n, id)
            })
            .collect()
    }

    /// The core of a run over `nodes` (named as the file names them), with
    /// the network set up as the file says.
    pub fn new(s: Rc<Scenario>, found: Rc<RefCell<Found>>, nodes: Vec<(String, NodeId)>) -> Core {
        let net = network();
        net.set_reliable(s.reliable);
        if let Some((lo, hi)) = s.latency {
            let ids: Vec<NodeId> = nodes.iter().map(|n| n.1).collect();
            for &a in &ids {
                for &b in ids.iter().filter(|&&b| b != a) {
                    let config = LinkConfig {
                        loss: 0.0,
                        latency: lo..=hi,
                    };
                    net.set_link(a, b, Some(config));
                }
            }
        }
        Core {
            s,
            nodes,
            names: RefCell::default(),
            hooks: crate::hooks::Hooks::default(),
            found,
            stopped: Cell::new(false),
        }
    }

    /// The node of index `i`.
    pub fn node(&self, i: usize) -> NodeId {
        self.nodes[i].1
    }

    /// `{cs0,cs2}`.
    pub fn show(&self, set: &[usize]) -> String {
        let v: Vec<&str> = set.iter().map(|&i| self.nodes[i].0.as_str()).collect();
        format!("{{{}}}", v.join(","))
    }

    /// Stops the run with an error.
    pub fn stop(&self, message: String) {
        event("scenario", format!("stopped: {message}"));
        self.stopped.set(true);
        self.found.borrow_mut().error.get_or_insert(message);
    }

    /// Sleeps until `t`; false if the run stopped meanwhile.
    pub async fn sleep_until(&self, t: Duration) -> bool {
        const SLICE: Duration = Duration::from_millis(50);
        loop {
            if self.stopped.get() {
                return false;
            }
            let n = now();
            if n >= t {
                return true;
            }
            sleep_until(at(t.min(n + SLICE))).await;
        }
    }

    /// `FILE:LINE: field `x`: why (at T, seed S)`.
    pub fn place(&self, line: usize, field: &str, why: &str) -> String {
        format!(
            "{}:{line}: field `{field}`: {why} (at {}, seed {})",
            self.s.file,
            secs(now()),
            labrpc::rand::seed()
        )
    }
}

/// How an expectation's check is looked at over its window.
pub(crate) enum Kind {
    /// It holds if it is true at some instant of the window.
    Eventually,
    /// It holds if it is true at every instant of the window.
    Always,
    /// One look, which may take the window (a fresh operation).
    Once,
}

/// A lab's run, as the driver sees it.
pub(crate) trait Cluster: 'static {
    /// The shared part.
    fn core(&self) -> &Core;
    /// The nodes a name of the lab (`primary`, `cs2`) stands for now.
    async fn resolve_name(&self, name: &str) -> Result<Vec<usize>, String>;
    /// Crashes node `i`.
    fn crash(&self, i: usize) -> Result<(), String>;
    /// Restarts node `i` (a live node is left alone).
    fn restart(&self, i: usize) -> Result<(), String>;
    /// Carries out a step of the lab's own; what it did.
    async fn lab_step(&self, a: &LabAction) -> Result<String, String>;
    /// How `c` is looked at.
    fn kind(&self, c: &LabCheck) -> Kind;
    /// Looks at `c` once: (holds, why); `Err` if a name does not resolve.
    async fn probe(&self, c: &LabCheck, within: Option<Duration>)
    -> Result<(bool, String), String>;
}

/// Runs the scenario's timeline and expectations on `w` (its clients
/// started by the lab), to the end.
pub(crate) async fn drive<W: Cluster>(w: Rc<W>, summary: String) {
    let s = w.core().s.clone();
    event(
        "scenario",
        format!("{}: lab {}, {summary}", s.title, s.lab.name()),
    );
    let mut checks = Vec::new();
    for e in s.expects.iter().filter(|e| e.at.is_some()).cloned() {
        let w = w.clone();
        checks.push(task::spawn(async move {
            sleep_until(at(e.at.unwrap_or_default())).await;
            if !w.core().stopped.get() {
                expect(&*w, &e).await;
            }
        }));
    }
    for step in &s.steps {
        if !w.core().sleep_until(step.at).await {
            return;
        }
        match super::net::step(&*w, step).await {
            Ok(what) => {
                let text = format!("step {} (line {}): {what}", step.number, step.place.line);
                event("scenario", text);
            }
            Err(why) if s.skip_unresolved => event(
                "scenario",
                format!(
                    "step {} (line {}) skipped: {why}",
                    step.number, step.place.line
                ),
            ),
            Err(why) => {
                let c = w.core();
                c.stop(c.place(step.place.line, &step.place.field, &why));
                return;
            }
        }
    }
    if !w.core().sleep_until(s.duration).await {
        return;
    }
    let at_end: Vec<Expect> = s
        .expects
        .iter()
        .filter(|e| e.at.is_none())
        .cloned()
        .collect();
    for e in at_end {
        let w = w.clone();
        checks.push(task::spawn(async move { expect(&*w, &e).await }));
    }
    for c in checks {
        let _ = c.await;
    }
    w.core().stopped.set(true);
}

/// Checks one expectation over its window and records the verdict.
async fn expect<W: Cluster>(w: &W, e: &Expect) {
    let Check::Lab(check) = &e.check else {
        unreachable!("the labs' files hold the labs' checks")
    };
    let deadline = now() + e.within.unwrap_or_default();
    let kind = w.kind(check);
    let (held, why) = loop {
        let (ok, why) = match w.probe(check, e.within).await {
            Ok(r) => r,
            Err(why) => (false, w.core().place(e.place.line, &e.place.field, &why)),
        };
        match kind {
            Kind::Once => break (ok, why),
            Kind::Always if !ok => break (false, why),
            Kind::Eventually if ok => break (true, why),
            _ if now() >= deadline => break (ok, why),
            _ => sleep(POLL).await,
        }
    };
    let what = describe(e);
    event(
        "expect",
        format!(
            "expectation {} (line {}) {}: {what} — {}",
            e.number,
            e.place.line,
            if held { "held" } else { "FAILED" },
            why.lines().next().unwrap_or("")
        ),
    );
    w.core().found.borrow_mut().results.push(ExpectResult {
        number: e.number,
        line: e.place.line,
        field: e.place.field.clone(),
        what,
        held: Some(held),
        at: now(),
        why,
    });
}

/// Virtual time since the start.
pub(crate) fn now() -> Duration {
    Duration::from_nanos(Instant::now().as_nanos())
}

/// The instant `d` after the start.
pub(crate) fn at(d: Duration) -> Instant {
    Instant::from_nanos(d.as_nanos() as u64)
}

/// `1.250s`.
pub(crate) fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}
