//! Running a scenario: one simulation per seed, on the labs' public API
//! only (`Raft::{new, service, start, state}`, the apply channel,
//! `KvServer`, `Clerk`).
//!
//! Everything the run does is a trace event, so the trace hash proves two
//! runs equal and the picture shows the steps: topic `scenario` for the
//! steps, `client` for client operations, `expect` for expectations (and
//! Raft's own `leader`, `follower`, `commit`).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc;
use kvraft::{Clerk, KvServer};
use labrpc::time::{Instant, sleep, sleep_until};
use labrpc::trace::{Event, event};
use labrpc::{LinkConfig, NodeId, Server, Verdict, network, node, task};
use linearizability::{
    Annotation, CheckOptions, KvInput, KvModel, KvOutput, Operation, Verdict as Lin,
    VersionedKvInput, VersionedKvOutput, check_with,
};
use raft::rpc::raft as raft_rpc;
use raft::{ApplyMsg, Raft};

use crate::monitor::{Monitor, Seen};
use crate::spec::{Action, Check, Expect, Lab, OpKind, Peers, Role, Scenario, Step};

/// How often a windowed expectation looks.
pub const POLL: Duration = Duration::from_millis(10);
/// How long a `key` expectation's Get may take without `within`.
pub const GET_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a `progress` expectation may take without `within`.
pub const PROGRESS_WITHIN: Duration = Duration::from_secs(5);
/// Wall-clock budget of a linearizability check.
pub const LIN_TIMEOUT: Duration = Duration::from_secs(1);

/// The outcome of one expectation in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectResult {
    /// Its number in the file (from 1).
    pub number: usize,
    /// Its line.
    pub line: usize,
    /// Its field.
    pub field: String,
    /// What it expects, in words.
    pub what: String,
    /// `Some(true)` held, `Some(false)` failed, `None` not checked (the
    /// run stopped first).
    pub held: Option<bool>,
    /// Virtual time it was decided.
    pub at: Duration,
    /// Why it held or failed.
    pub why: String,
}

/// One run of a scenario.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// Every expectation, in file order.
    pub results: Vec<ExpectResult>,
    /// A step that could not be carried out, or the simulation's own
    /// failure: the run stopped there.
    pub error: Option<String>,
    /// The trace hash (equal for equal runs).
    pub trace_hash: u64,
    /// The trace.
    pub events: Vec<Event>,
    /// kvraft: the clients' history.
    pub history: Vec<Operation<KvInput, KvOutput>>,
    /// shardkv1: the clients' history (versioned Puts).
    pub versioned_history: Vec<Operation<VersionedKvInput, VersionedKvOutput>>,
    /// Steps and faults, for the history view.
    pub annotations: Vec<Annotation>,
    /// Virtual time at the end.
    pub virtual_time: Duration,
    /// The safety monitor that stopped the run, if one did.
    pub violation: Option<String>,
    /// Coverage: situation -> times reached.
    pub coverage: BTreeMap<&'static str, u64>,
}

impl Outcome {
    /// Whether every expectation held and nothing stopped the run.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.results.iter().all(|r| r.held == Some(true))
    }
}

/// Shared between the run and the caller: what the run found.
#[derive(Default)]
pub(crate) struct Found {
    pub(crate) results: Vec<ExpectResult>,
    pub(crate) error: Option<String>,
    pub(crate) violation: Option<String>,
    pub(crate) coverage: BTreeMap<&'static str, u64>,
    pub(crate) history: Vec<Operation<KvInput, KvOutput>>,
    pub(crate) versioned_history: Vec<Operation<VersionedKvInput, VersionedKvOutput>>,
    pub(crate) annotations: Vec<Annotation>,
}

/// An expectation as the outcome lists it: (number, line, field, in words).
pub(crate) type Listed = (usize, usize, String, String);

/// Runs `s` once with `seed`.
pub fn run(s: &Scenario, seed: u64) -> Outcome {
    if s.lab == Lab::Shardkv1 {
        return crate::shardkv1::run(s, seed);
    }
    if s.lab_spec.is_some() {
        return crate::labs::run(s, seed);
    }
    shell(s, seed, GET_TIMEOUT, body)
}

/// The run shell of a lab whose expectations are the scenario's: given
/// time for the scenario, its longest window and `slack`, then
/// [`simulate`].
pub(crate) fn shell<F, Fut>(s: &Scenario, seed: u64, slack: Duration, body: F) -> Outcome
where
    F: Fn(Rc<Scenario>, Rc<RefCell<Found>>) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let s = Rc::new(s.clone());
    let limit = s.duration
        + s.expects
            .iter()
            .filter_map(|e| e.within)
            .max()
            .unwrap_or_default()
        + slack
        + Duration::from_secs(30);
    let listed: Vec<Listed> = s
        .expects
        .iter()
        .map(|e| (e.number, e.place.line, e.place.field.clone(), describe(e)))
        .collect();
    simulate(seed, limit, &listed, move |found| body(s.clone(), found))
}

/// The run shell every lab shares: one simulation of `body` (given what
/// the run found, to fill) with the trace recorded, its panic caught as
/// the outcome's error, and the `listed` expectations it never reached
/// marked "not checked".
pub(crate) fn simulate<Fut>(
    seed: u64,
    limit: Duration,
    listed: &[Listed],
    body: impl Fn(Rc<RefCell<Found>>) -> Fut,
) -> Outcome
where
    Fut: Future<Output = ()> + 'static,
{
    let found: Rc<RefCell<Found>> = Rc::default();
    let builder = labrpc::Builder::new()
        .seed(seed)
        .record_trace(true)
        .time_limit(limit);
    let report = catch_unwind(AssertUnwindSafe(|| builder.run(|| body(found.clone()))));
    let mut found = std::mem::take(&mut *found.borrow_mut());
    let (trace_hash, events, virtual_time) = match report {
        Ok(r) => (r.trace_hash, r.trace.unwrap_or_default(), r.virtual_time),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the simulation failed".into());
            found.error = Some(format!("the simulation failed: {msg}"));
            (0, Vec::new(), Duration::ZERO)
        }
    };
    // Expectations never reached.
    for (number, line, field, what) in listed {
        if !found.results.iter().any(|r| r.number == *number) {
            found.results.push(ExpectResult {
                number: *number,
                line: *line,
                field: field.clone(),
                what: what.clone(),
                held: None,
                at: virtual_time,
                why: "not checked: the run stopped before".into(),
            });
        }
    }
    found.results.sort_by_key(|r| r.number);
    Outcome {
        seed,
        results: found.results,
        error: found.error,
        trace_hash,
        events,
        history: found.history,
        versioned_history: found.versioned_history,
        annotations: found.annotations,
        virtual_time,
        violation: found.violation,
        coverage: found.coverage,
    }
}

fn server_name(lab: Lab, i: usize) -> String {
    match lab {
        Lab::Raft => format!("raft-{i}"),
        Lab::Kvraft => format!("kv-{i}"),
        Lab::Shardkv1 | Lab::Gfs | Lab::Snapshot => {
            unreachable!("run by crate::shardkv1 and crate::labs")
        }
    }
}

pub(crate) fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

pub(crate) fn at(d: Duration) -> Instant {
    Instant::from_nanos(d.as_nanos() as u64)
}

pub(crate) fn now() -> Duration {
    Duration::from_nanos(Instant::now().as_nanos())
}

fn show_set(peers: &[usize]) -> String {
    let v: Vec<String> = peers.iter().map(|p| p.to_string()).collect();
    format!("{{{}}}", v.join(","))
}

/// The simulated cluster and what the scenario knows about it.
struct World {
    s: Rc<Scenario>,
    nodes: Vec<NodeId>,
    rafts: RefCell<Vec<Option<Raft>>>,
    kvs: RefCell<Vec<Option<KvServer>>>,
    /// Raft lab: per peer, index -> command it applied.
    applied: RefCell<Vec<BTreeMap<u64, Vec<u8>>>>,
    names: RefCell<BTreeMap<String, Vec<usize>>>,
    /// The groups of the partition in effect.
    partition: RefCell<Option<Vec<Vec<usize>>>>,
    hooks: crate::hooks::Hooks,
    history: labtest::KvHistory,
    annotations: RefCell<Vec<Annotation>>,
    found: Rc<RefCell<Found>>,
    stopped: Cell<bool>,
    next_checker: Cell<u64>,
    monitor: RefCell<Monitor>,
    /// Commands proposed by `progress` checks so far.
    live: Cell<u64>,
}

async fn body(s: Rc<Scenario>, found: Rc<RefCell<Found>>) {
    let net = network();
    net.set_reliable(s.reliable);
    net.set_duplication(s.duplication);
    net.set_long_delays(s.long_delays);
    net.set_long_reordering(s.long_reordering);
    let nodes: Vec<NodeId> = (0..s.peers)
        .map(|i| node::create(server_name(s.lab, i)))
        .collect();
    if let Some((lo, hi)) = s.latency {
        let mut all = nodes.clone();
        all.push(NodeId::TESTER);
        for &a in &all {
            for &b in &all {
                if a != b {
                    net.set_link(
                        a,
                        b,
                        Some(LinkConfig {
                            loss: 0.0,
                            latency: lo..=hi,
                        }),
                    );
                }
            }
        }
    }
    let w = Rc::new(World {
        nodes,
        rafts: RefCell::new(vec![None; s.peers]),
        kvs: RefCell::new(vec![None; s.peers]),
        applied: RefCell::new(vec![BTreeMap::new(); s.peers]),
        names: RefCell::default(),
        partition: RefCell::default(),
        hooks: crate::hooks::Hooks::default(),
        history: labtest::KvHistory::new(),
        annotations: RefCell::default(),
        found,
        stopped: Cell::new(false),
        next_checker: Cell::new(1000),
        monitor: RefCell::new(Monitor::new(s.peers)),
        live: Cell::new(0),
        s: s.clone(),
    });
    for i in 0..s.peers {
        w.start_peer(i);
    }
    event(
        "scenario",
        format!(
            "{}: lab {}, {} peers, {} network",
            s.title,
            s.lab.name(),
            s.peers,
            if s.reliable { "reliable" } else { "unreliable" }
        ),
    );
    let mut waits = Vec::new();
    for c in s.clients.iter().cloned() {
        let w = w.clone();
        waits.push(task::spawn(async move { w.client(c).await }));
    }
    let mut checks = Vec::new();
    for e in s.expects.iter().filter(|e| e.at.is_some()).cloned() {
        let w = w.clone();
        checks.push(task::spawn(async move {
            sleep_until(at(e.at.unwrap_or_default())).await;
            w.expect(&e).await;
        }));
    }
    {
        let w = w.clone();
        task::spawn(async move { w.watch().await }).detach();
    }
    for step in &s.steps {
        if !w.sleep_until(step.at).await {
            return;
        }
        if let Err(why) = w.step(step) {
            if s.skip_unresolved {
                event(
                    "scenario",
                    format!(
                        "step {} (line {}) skipped: {why}",
                        step.number, step.place.line
                    ),
                );
                continue;
            }
            w.stop(format!(
                "{}:{}: field `{}`: {why} (at {}, seed {})",
                s.file,
                step.place.line,
                step.place.field,
                secs(step.at),
                labrpc::rand::seed()
            ));
            return;
        }
    }
    if !w.sleep_until(s.duration).await {
        return;
    }
    for e in s.expects.iter().filter(|e| e.at.is_none()) {
        let (w, e) = (w.clone(), e.clone());
        checks.push(task::spawn(async move { w.expect(&e).await }));
    }
    for c in checks {
        let _ = c.await;
    }
    w.stopped.set(true);
    for op in w.history.history().iter().filter(|o| o.ret.is_none()) {
        event(
            "client",
            format!(
                "client {} {:?} called at {} has not returned",
                op.client,
                op.input,
                secs(Duration::from_nanos(op.call))
            ),
        );
    }
    let mut f = w.found.borrow_mut();
    f.history = w.history.history();
    f.annotations = w.annotations.borrow().clone();
    f.coverage = w.monitor.borrow().coverage();
    drop(f);
    drop(waits);
}

impl World {
    fn lab(&self) -> Lab {
        self.s.lab
    }

    fn stop(&self, message: String) {
        event("scenario", format!("stopped: {message}"));
        self.stopped.set(true);
        let mut f = self.found.borrow_mut();
        f.error.get_or_insert(message);
        f.history = self.history.history();
        f.annotations = self.annotations.borrow().clone();
        f.coverage = self.monitor.borrow().coverage();
    }

    /// Sleeps until `t` (virtual, from the start); false if the run was
    /// stopped meanwhile (a monitor found a violation).
    async fn sleep_until(&self, t: Duration) -> bool {
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

    /// A safety monitor's verdict: a violation stops the run, reported as
    /// its error (like a failed expectation), with the instant and seed.
    fn verdict(&self, r: Result<(), (&'static str, String)>) {
        if let Err((name, why)) = r
            && !self.stopped.get()
        {
            let msg = format!(
                "safety monitor `{name}` violated at {} (seed {}): {why}",
                secs(now()),
                labrpc::rand::seed()
            );
            self.found.borrow_mut().violation = Some(name.to_string());
            self.stop(msg);
        }
    }

    /// What the monitor sees of every peer now (links counted for leaders
    /// only: coverage asks whether a leader is cut off).
    fn seen(&self) -> Vec<Seen> {
        let net = network();
        let states = self.states();
        (0..self.s.peers)
            .map(|i| Seen {
                state: states[i],
                reach: if states[i].is_some_and(|s| s.1) {
                    (0..self.s.peers)
                        .filter(|&j| j != i && net.link_up(self.nodes[i], self.nodes[j]))
                        .count()
                } else {
                    0
                },
            })
            .collect()
    }

    /// The monitor's poll loop, for the whole run.
    ///
    /// Leaders are made by votes: for [`DENSE`] after any RequestVote
    /// message (request or reply, as it is sent) it polls every [`POLL`],
    /// otherwise every tenth time (a quiet cluster costs little).
    ///
    /// [`DENSE`]: crate::monitor::DENSE
    /// [`POLL`]: crate::monitor::POLL
    async fn watch(self: Rc<Self>) {
        use crate::monitor::{DENSE, POLL};
        if !self.s.monitors {
            return;
        }
        let votes = Rc::new(Cell::new(Duration::ZERO));
        {
            let votes = votes.clone();
            network().add_hook(move |msg| {
                if msg.method == raft::rpc::raft::method::request_vote {
                    votes.set(now());
                }
                Verdict::Deliver
            });
        }
        let mut tick = 0u64;
        while !self.stopped.get() {
            if tick.is_multiple_of(10) || now() <= votes.get() + DENSE {
                let seen = self.seen();
                let r = self.monitor.borrow_mut().poll(&seen);
                self.verdict(r);
            }
            tick += 1;
            sleep(POLL).await;
        }
    }

    /// Peer `i` applied a command.
    fn on_apply(&self, i: usize, index: u64, term: u64, command: &[u8]) {
        self.applied.borrow_mut()[i].insert(index, command.to_vec());
        if !self.s.monitors {
            return;
        }
        // Every live peer's term, for leader completeness: only needed
        // when the index is applied for the first time.
        let terms: Vec<Option<u64>> = if self.monitor.borrow().knows(index) {
            Vec::new()
        } else {
            self.states().iter().map(|s| s.map(|s| s.0)).collect()
        };
        let r = self
            .monitor
            .borrow_mut()
            .applied(i, index, term, command, &terms);
        self.verdict(r);
    }

    /// `start` on peer `i`: what it returned, checked by the monitor.
    fn start_on(&self, i: usize, command: &[u8]) -> Option<(u64, u64)> {
        let raft = self.rafts.borrow()[i].clone()?;
        let r = node::enter(self.nodes[i], || raft.start(command.to_vec()));
        if let Some((index, term)) = r
            && self.s.monitors
        {
            let v = self.monitor.borrow_mut().started(i, index, term, command);
            self.verdict(v);
        }
        r
    }

    /// Every peer's observable state, one line each (for a stuck run).
    fn observable(&self) -> String {
        let net = network();
        let states = self.states();
        let m = self.monitor.borrow();
        let lines: Vec<String> = states
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let reach = (0..self.s.peers)
                    .filter(|&j| j != i && net.link_up(self.nodes[i], self.nodes[j]))
                    .count();
                let state = match s {
                    None => "crashed".to_string(),
                    Some((t, l)) => {
                        format!("term {t}, {}", if *l { "leader" } else { "not leader" })
                    }
                };
                let applied = if self.lab() == Lab::Raft {
                    format!(", applied ..={}", m.last_applied(i))
                } else {
                    String::new()
                };
                format!(
                    "  peer {i}: {state}{applied}, links up to {}/{} peers",
                    reach,
                    self.s.peers - 1
                )
            })
            .collect();
        lines.join("\n")
    }

    fn note(&self, tag: &str, text: impl Into<String>) {
        self.annotations
            .borrow_mut()
            .push(Annotation::point(Instant::now().as_nanos(), text).tag(tag));
    }

    /// Starts (or restarts) peer `i` from its persister.
    fn start_peer(self: &Rc<Self>, i: usize) {
        let n = self.s.peers;
        let net = network();
        let me = self.nodes[i];
        let peers: Vec<raft_rpc::Client> = (0..n)
            .map(|j| raft_rpc::Client::new(net.end_to(me, &server_name(self.lab(), j))))
            .collect();
        let persister = node::persister(me);
        match self.lab() {
            Lab::Raft => {
                let (tx, mut rx) = mpsc::unbounded();
                let raft = node::enter(me, || Raft::new(peers, i, persister, tx));
                let w = self.clone();
                task::spawn_on(me, async move {
                    while let Some(m) = rx.next().await {
                        if let ApplyMsg::Command {
                            index,
                            term,
                            command,
                        } = m
                        {
                            w.on_apply(i, index, term, &command);
                        }
                    }
                })
                .detach();
                net.add_server(
                    server_name(self.lab(), i),
                    me,
                    Server::new().add_service(raft.service()),
                );
                self.rafts.borrow_mut()[i] = Some(raft);
            }
            Lab::Kvraft => {
                let kv = node::enter(me, || KvServer::start(peers, i, persister, None));
                net.add_server(server_name(self.lab(), i), me, kv.server());
                self.rafts.borrow_mut()[i] = Some(kv.raft().clone());
                self.kvs.borrow_mut()[i] = Some(kv);
            }
            Lab::Shardkv1 | Lab::Gfs | Lab::Snapshot => {
                unreachable!("run by crate::shardkv1 and crate::labs")
            }
        }
    }

    fn crash_peer(&self, i: usize) {
        let leads = self.states()[i].is_some_and(|s| s.1);
        self.monitor.borrow_mut().crashed(i, leads);
        node::crash(self.nodes[i]);
        self.rafts.borrow_mut()[i] = None;
        self.kvs.borrow_mut()[i] = None;
    }

    /// (term, leads) of each live peer.
    fn states(&self) -> Vec<Option<(u64, bool)>> {
        let rafts = self.rafts.borrow();
        rafts
            .iter()
            .enumerate()
            .map(|(i, r)| r.as_ref().map(|r| node::enter(self.nodes[i], || r.state())))
            .collect()
    }

    fn leader(&self) -> Option<(usize, u64)> {
        self.states()
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.and_then(|(t, l)| l.then_some((i, t))))
            .max_by_key(|&(i, t)| (t, std::cmp::Reverse(i)))
    }

    /// The peers `p` names now; `rest` is what "rest" stands for.
    fn resolve(&self, p: &Peers, rest: &[usize]) -> Result<Vec<usize>, String> {
        let n = self.s.peers;
        let mut out: Vec<usize> = Vec::new();
        for r in &p.roles {
            let set: Vec<usize> = match r {
                Role::Peer(i) => vec![*i],
                Role::All => (0..n).collect(),
                Role::Rest => rest.to_vec(),
                Role::Leader => match self.leader() {
                    Some((i, _)) => vec![i],
                    None => {
                        return Err(format!(
                            "role \"leader\" does not resolve: no live peer believes it leads now \
                             (terms {})",
                            self.terms()
                        ));
                    }
                },
                Role::Follower(k) => {
                    let states = self.states();
                    let leader = self.leader().map(|(i, _)| i);
                    let start = leader.map_or(0, |l| l + 1);
                    let live: Vec<usize> = (0..n)
                        .map(|d| (start + d) % n)
                        .filter(|&i| Some(i) != leader && states[i].is_some())
                        .collect();
                    match live.get(k - 1) {
                        Some(&i) => vec![i],
                        None => {
                            return Err(format!(
                                "role \"{r}\" does not resolve: only {} live peers besides the \
                                 leader",
                                live.len()
                            ));
                        }
                    }
                }
                Role::Minority | Role::Majority => {
                    let part = self.partition.borrow().clone().ok_or_else(|| {
                        format!("role \"{r}\" does not resolve: no partition is in effect")
                    })?;
                    let major = part.iter().find(|g| g.len() * 2 > n).cloned();
                    let Some(major) = major else {
                        return Err(format!(
                            "role \"{r}\" does not resolve: no group of the partition {} holds \
                             a majority of {n}",
                            part.iter()
                                .map(|g| show_set(g))
                                .collect::<Vec<_>>()
                                .join(" | ")
                        ));
                    };
                    if *r == Role::Majority {
                        major
                    } else {
                        (0..n).filter(|i| !major.contains(i)).collect()
                    }
                }
                Role::Name(name) => self.names.borrow().get(name).cloned().ok_or_else(|| {
                    format!("name \"{name}\" is not bound yet: its `bind` step comes later")
                })?,
                Role::Lab(name) => {
                    return Err(format!("{name:?} is not a peer of {}", self.lab().name()));
                }
            };
            for i in set {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
        }
        if out.is_empty() {
            return Err(format!("{p} names no peer now"));
        }
        Ok(out)
    }

    fn terms(&self) -> String {
        let v: Vec<String> = self
            .states()
            .iter()
            .map(|s| match s {
                Some((t, true)) => format!("{t}*"),
                Some((t, false)) => t.to_string(),
                None => "-".into(),
            })
            .collect();
        format!("[{}]", v.join(" "))
    }

    /// Carries out one step; the reason if it cannot.
    fn step(self: &Rc<Self>, step: &Step) -> Result<(), String> {
        let net = network();
        let what = match &step.action {
            Action::Partition(groups) => self.partition(groups, step)?,
            Action::Heal => {
                net.heal();
                *self.partition.borrow_mut() = None;
                "heal: every link up".into()
            }
            Action::Cut(a, b) => self.links(a, b, true)?,
            Action::Restore(a, b) => self.links(a, b, false)?,
            Action::Crash(p) => {
                let v = self.resolve(p, &[])?;
                for &i in &v {
                    self.crash_peer(i);
                }
                format!("crash {}", show_set(&v))
            }
            Action::Restart(p) => {
                let v = self.resolve(p, &[])?;
                for &i in &v {
                    if !node::is_alive(self.nodes[i]) {
                        node::restart(self.nodes[i]);
                        self.monitor.borrow_mut().restarted(i);
                        self.start_peer(i);
                    }
                }
                format!("restart {} from persisted state", show_set(&v))
            }
            Action::Isolate(p) => self.isolate(p, true)?,
            Action::Reconnect(p) => self.isolate(p, false)?,
            Action::Slow {
                from,
                to,
                latency,
                loss,
            } => self.slow(from, to, *latency, *loss)?,
            Action::Hook {
                method,
                delay,
                from,
                to,
            } => self.hook(method, *delay, from.as_ref(), to.as_ref())?,
            Action::Deliver(method) => self.deliver(method),
            Action::Reliable(on) => {
                net.set_reliable(*on);
                format!("network {}", if *on { "reliable" } else { "unreliable" })
            }
            Action::Start { command, on } => self.start_step(command, on)?,
            Action::Bind(binds) => self.bind(binds)?,
            Action::Lab(_) => unreachable!("run by crate::labs"),
        };
        let text = format!("step {} (line {}): {what}", step.number, step.place.line);
        self.note("scenario", what);
        event("scenario", text);
        Ok(())
    }

    fn node_of(&self, v: &[usize]) -> Vec<NodeId> {
        v.iter().map(|&i| self.nodes[i]).collect()
    }

    /// `partition`: the groups, resolved now ("rest": everyone not named).
    fn partition(&self, groups: &[Peers], step: &Step) -> Result<String, String> {
        let n = self.s.peers;
        let named: Vec<usize> = groups
            .iter()
            .flat_map(|g| g.roles.iter())
            .filter(|r| **r != Role::Rest)
            .map(|r| {
                self.resolve(
                    &Peers {
                        roles: vec![r.clone()],
                        place: step.place.clone(),
                    },
                    &[],
                )
            })
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect();
        let rest: Vec<usize> = (0..n).filter(|i| !named.contains(i)).collect();
        let mut sets = Vec::new();
        for g in groups {
            let set = self.resolve(g, &rest)?;
            for i in &set {
                if sets.iter().any(|s: &Vec<usize>| s.contains(i)) {
                    return Err(format!(
                        "peer {i} is in two groups of the partition (roles resolve to \
                         peers when the step runs)"
                    ));
                }
            }
            sets.push(set);
        }
        let groups_nodes: Vec<Vec<NodeId>> = sets.iter().map(|s| self.node_of(s)).collect();
        let refs: Vec<&[NodeId]> = groups_nodes.iter().map(Vec::as_slice).collect();
        network().partition(&refs);
        let text = sets
            .iter()
            .map(|s| show_set(s))
            .collect::<Vec<_>>()
            .join(" | ");
        *self.partition.borrow_mut() = Some(sets);
        Ok(format!("partition {text}"))
    }

    /// `cut` (or `restore`): the one-way links from each of `a` to each of `b`.
    fn links(&self, a: &Peers, b: &Peers, cut: bool) -> Result<String, String> {
        let net = network();
        let (from, to) = (self.resolve(a, &[])?, self.resolve(b, &[])?);
        for &x in &from {
            for &y in &to {
                if cut {
                    net.cut(self.nodes[x], self.nodes[y]);
                } else {
                    net.restore(self.nodes[x], self.nodes[y]);
                }
            }
        }
        Ok(format!(
            "{} {} → {}",
            if cut { "cut" } else { "restore" },
            show_set(&from),
            show_set(&to)
        ))
    }

    /// `isolate` (or `reconnect`): every link of the peers, both ways.
    fn isolate(&self, p: &Peers, iso: bool) -> Result<String, String> {
        let net = network();
        let v = self.resolve(p, &[])?;
        for &i in &v {
            let others: Vec<NodeId> = (0..self.s.peers)
                .filter(|&j| j != i)
                .map(|j| self.nodes[j])
                .collect();
            if iso {
                net.isolate(self.nodes[i], &others);
            } else {
                net.reconnect(self.nodes[i], &others);
            }
        }
        Ok(format!(
            "{} {}",
            if iso { "isolate" } else { "reconnect" },
            show_set(&v)
        ))
    }

    /// `slow`: the links' own latency and loss.
    fn slow(
        &self,
        from: &Peers,
        to: &Peers,
        latency: (Duration, Duration),
        loss: f64,
    ) -> Result<String, String> {
        let net = network();
        let (a, b) = (self.resolve(from, &[])?, self.resolve(to, &[])?);
        for &x in &a {
            for &y in b.iter().filter(|&&y| y != x) {
                let config = LinkConfig {
                    loss,
                    latency: latency.0..=latency.1,
                };
                net.set_link(self.nodes[x], self.nodes[y], Some(config));
            }
        }
        Ok(format!(
            "slow {} → {}: latency {}–{} ms, loss {loss}",
            show_set(&a),
            show_set(&b),
            latency.0.as_millis(),
            latency.1.as_millis()
        ))
    }

    /// `drop` / `delay`: a hook on a method's messages.
    fn hook(
        &self,
        method: &str,
        delay: Option<Duration>,
        from: Option<&Peers>,
        to: Option<&Peers>,
    ) -> Result<String, String> {
        let nodes = |p: Option<&Peers>| {
            p.map(|p| self.resolve(p, &[]).map(|v| self.node_of(&v)))
                .transpose()
        };
        let (from, to) = (nodes(from)?, nodes(to)?);
        self.hooks.add(method, delay, from.clone(), to.clone());
        let peers = |v: &Option<Vec<NodeId>>| {
            v.as_ref().map_or("any".to_string(), |v| {
                let ix: Vec<usize> = v
                    .iter()
                    .map(|n| self.nodes.iter().position(|m| m == n).unwrap_or(0))
                    .collect();
                show_set(&ix)
            })
        };
        Ok(format!(
            "{} {method} from {} to {}",
            match delay {
                Some(d) => format!("delay by {} ms", d.as_millis()),
                None => "drop".into(),
            },
            peers(&from),
            peers(&to)
        ))
    }

    /// `deliver`: removes a method's drop and delay rules.
    fn deliver(&self, method: &str) -> String {
        self.hooks.deliver(method)
    }

    /// `start`: proposes a command on the peers.
    fn start_step(&self, command: &str, on: &Peers) -> Result<String, String> {
        let v = self.resolve(on, &[])?;
        let mut outcomes = Vec::new();
        for &i in &v {
            let bytes = labcodec::encode(&command.to_string()).expect("a string encodes");
            outcomes.push(match self.start_on(i, &bytes) {
                Some((index, term)) => format!("peer {i} takes it at index {index}, term {term}"),
                None => format!("peer {i} refuses (not leader)"),
            });
        }
        Ok(format!("start {command:?}: {}", outcomes.join("; ")))
    }

    /// `bind`: names for the peers the roles resolve to now.
    fn bind(&self, binds: &[(String, Peers)]) -> Result<String, String> {
        let mut parts = Vec::new();
        for (name, p) in binds {
            let v = self.resolve(p, &[])?;
            parts.push(format!("{name} = {}", show_set(&v)));
            self.names.borrow_mut().insert(name.clone(), v);
        }
        Ok(format!("bind {}", parts.join(", ")))
    }

    /// A client's whole schedule.
    async fn client(self: Rc<Self>, c: crate::spec::Client) {
        sleep_until(at(c.start)).await;
        match self.lab() {
            Lab::Raft => {
                for (k, t) in c.schedule.iter().enumerate() {
                    sleep_until(at(*t)).await;
                    if self.stopped.get() {
                        return;
                    }
                    let command = format!("c{}.{k}", c.id);
                    let bytes = labcodec::encode(&command).expect("a string encodes");
                    let mut took = None;
                    for i in 0..self.s.peers {
                        if let Some((index, term)) = self.start_on(i, &bytes) {
                            took = Some((i, index, term));
                        }
                    }
                    event(
                        "client",
                        match took {
                            Some((i, index, term)) => format!(
                                "client {} proposes {command:?}: peer {i} takes it (index {index}, term {term})",
                                c.id
                            ),
                            None => format!(
                                "client {} proposes {command:?}: no peer leads, dropped",
                                c.id
                            ),
                        },
                    );
                }
            }
            Lab::Kvraft => {
                let servers = match &c.servers {
                    Some(p) => match self.resolve(p, &[]) {
                        Ok(v) => v,
                        Err(why) => {
                            self.stop(format!(
                                "{}:{}: field `{}`: {why} (when client {} starts at {}, seed {})",
                                self.s.file,
                                p.place.line,
                                p.place.field,
                                c.id,
                                secs(c.start),
                                labrpc::rand::seed()
                            ));
                            return;
                        }
                    },
                    None => (0..self.s.peers).collect(),
                };
                let clerk = self.clerk(&servers);
                event(
                    "client",
                    format!("client {} talks to servers {}", c.id, show_set(&servers)),
                );
                for (k, t) in c.schedule.iter().enumerate() {
                    sleep_until(at(*t)).await;
                    if self.stopped.get() {
                        return;
                    }
                    let key = &c.keys[k % c.keys.len()];
                    let kind = match c.ops {
                        OpKind::Mixed => match labrpc::rand::gen_range(0..3) {
                            0 => OpKind::Append,
                            1 => OpKind::Put,
                            _ => OpKind::Get,
                        },
                        o => o,
                    };
                    // Appended values end in a space, so the value of a key
                    // reads as the list of appends.
                    let value = match kind {
                        OpKind::Put => format!("{}.{k}", c.id),
                        _ => format!("{}.{k} ", c.id),
                    };
                    let t0 = now();
                    let (input, desc) = match kind {
                        OpKind::Put => (
                            KvInput::put(key, &value),
                            format!("put({key:?}, {value:?})"),
                        ),
                        OpKind::Get => (KvInput::get(key), format!("get({key:?})")),
                        _ => (
                            KvInput::append(key, &value),
                            format!("append({key:?}, {value:?})"),
                        ),
                    };
                    let op = self.history.call(c.id as u64, input);
                    let out = match kind {
                        OpKind::Put => {
                            clerk.put(key, &value).await;
                            KvOutput::Done
                        }
                        OpKind::Get => KvOutput::value(clerk.get(key).await),
                        _ => {
                            clerk.append(key, &value).await;
                            KvOutput::Done
                        }
                    };
                    let ret = match &out {
                        KvOutput::Done => "ok".to_string(),
                        other => format!("{other:?}"),
                    };
                    self.history.finish(op, out);
                    event(
                        "client",
                        format!(
                            "client {} {desc} → {ret} (called {}, took {} ms)",
                            c.id,
                            secs(t0),
                            (now() - t0).as_millis()
                        ),
                    );
                }
            }
            Lab::Shardkv1 | Lab::Gfs | Lab::Snapshot => {
                unreachable!("run by crate::shardkv1 and crate::labs")
            }
        }
    }

    fn clerk(&self, servers: &[usize]) -> Clerk {
        let net = network();
        let mut ends: Vec<_> = servers
            .iter()
            .map(|&j| net.end_to(NodeId::TESTER, &server_name(self.lab(), j)))
            .collect();
        labrpc::rand::shuffle(&mut ends);
        Clerk::new(ends)
    }

    /// Checks one expectation (waiting out its window) and records it.
    async fn expect(self: &Rc<Self>, e: &Expect) {
        if self.stopped.get() && e.at.is_some() {
            return;
        }
        let start = now();
        let deadline = start + e.within.unwrap_or_default();
        let always = matches!(
            e.check,
            Check::NotCommitted(..) | Check::TermAtMost(_) | Check::RpcsAtMost(_)
        );
        let progress = matches!(e.check, Check::Progress);
        let (held, why) = loop {
            if progress {
                break self.progress(e.within.unwrap_or(PROGRESS_WITHIN)).await;
            }
            let (ok, why) = match self.probe(e).await {
                Ok(r) => r,
                Err(why) => {
                    let msg = format!(
                        "{}:{}: field `{}`: {why} (at {}, seed {})",
                        self.s.file,
                        e.place.line,
                        e.place.field,
                        secs(now()),
                        labrpc::rand::seed()
                    );
                    (false, msg)
                }
            };
            let t = now();
            if always && !ok {
                break (false, why);
            }
            if !always && ok {
                break (true, why);
            }
            if t >= deadline || matches!(e.check, Check::Linearizable | Check::KeyValue(..)) {
                break (ok, why);
            }
            sleep(POLL).await;
        };
        let decided = now();
        let what = describe(e);
        event(
            "expect",
            format!(
                "expectation {} (line {}) {}: {what} — {why}",
                e.number,
                e.place.line,
                if held { "held" } else { "FAILED" }
            ),
        );
        self.found.borrow_mut().results.push(ExpectResult {
            number: e.number,
            line: e.place.line,
            field: e.place.field.clone(),
            what,
            held: Some(held),
            at: decided,
            why,
        });
    }

    /// Liveness: a fresh command (raft: proposed to whoever leads, again
    /// each second) applied on every peer, or a fresh Append (kvraft)
    /// returning, within `within`; else every peer's observable state.
    async fn progress(self: &Rc<Self>, within: Duration) -> (bool, String) {
        let start = now();
        let deadline = start + within;
        if self.lab() == Lab::Kvraft {
            let clerk = self.clerk(&(0..self.s.peers).collect::<Vec<_>>());
            let id = self.next_checker.get();
            self.next_checker.set(id + 1);
            let value = format!("live.{id} ");
            let op = self.history.call(id, KvInput::append("live", &value));
            if labrpc::time::timeout(within, clerk.append("live", &value))
                .await
                .is_ok()
            {
                self.history.finish(op, KvOutput::Done);
                return (
                    true,
                    format!("Append(\"live\") returned after {}", secs(now() - start)),
                );
            }
        } else {
            let mut proposed: Vec<Vec<u8>> = Vec::new();
            let mut next_propose = start;
            while now() < deadline && !self.stopped.get() {
                if now() >= next_propose {
                    let k = self.live.get();
                    self.live.set(k + 1);
                    let bytes = labcodec::encode(&format!("live.{k}")).expect("a string encodes");
                    for i in 0..self.s.peers {
                        self.start_on(i, &bytes);
                    }
                    proposed.push(bytes);
                    next_propose = now() + Duration::from_secs(1);
                }
                let done = {
                    let applied = self.applied.borrow();
                    proposed
                        .iter()
                        .find(|c| applied.iter().all(|a| a.values().any(|v| v == *c)))
                        .cloned()
                };
                if let Some(c) = done {
                    return (
                        true,
                        format!(
                            "{} applied on every peer after {}",
                            show_cmd(&c),
                            secs(now() - start)
                        ),
                    );
                }
                sleep(POLL).await;
            }
        }
        (
            false,
            format!(
                "stuck: no progress within {} after every fault was healed; every peer now:\n{}",
                secs(within),
                self.observable()
            ),
        )
    }

    /// Looks once: (holds, why). `Err` when a role does not resolve.
    async fn probe(self: &Rc<Self>, e: &Expect) -> Result<(bool, String), String> {
        Ok(match &e.check {
            Check::Leader(p) | Check::NoLeader(p) => {
                let set = self.resolve(p, &[])?;
                let states = self.states();
                let leaders: Vec<(usize, u64)> = set
                    .iter()
                    .filter_map(|&i| states[i].and_then(|(t, l)| l.then_some((i, t))))
                    .collect();
                let text = if leaders.is_empty() {
                    format!(
                        "no peer of {} leads (terms {})",
                        show_set(&set),
                        self.terms()
                    )
                } else {
                    let l: Vec<String> = leaders
                        .iter()
                        .map(|(i, t)| format!("peer {i} leads term {t}"))
                        .collect();
                    format!("{} (terms {})", l.join(", "), self.terms())
                };
                let ok = !leaders.is_empty() == matches!(e.check, Check::Leader(_));
                (ok, text)
            }
            Check::TermAtMost(max) => {
                let states = self.states();
                let top = states.iter().flatten().map(|s| s.0).max().unwrap_or(0);
                (
                    top <= *max,
                    format!("highest term {top} (terms {})", self.terms()),
                )
            }
            Check::Progress => unreachable!("progress is checked by World::progress"),
            Check::Lab(_) => unreachable!("checked by crate::labs"),
            Check::RpcsAtMost(max) => {
                let n = network().total_rpcs();
                (n <= *max, format!("{n} RPCs so far"))
            }
            Check::Committed(cmd, p) | Check::NotCommitted(cmd, p) => {
                let set = self.resolve(p, &[])?;
                let want = labcodec::encode(cmd).expect("a string encodes");
                let applied = self.applied.borrow();
                let (mut have, mut lack) = (Vec::new(), Vec::new());
                for &i in &set {
                    match applied[i].iter().find(|(_, c)| **c == want) {
                        Some((idx, _)) => have.push(format!("{i} (index {idx})")),
                        None => lack.push(i.to_string()),
                    }
                }
                let text = format!(
                    "{cmd:?} applied on peers [{}], not on [{}]",
                    have.join(", "),
                    lack.join(", ")
                );
                let ok = if matches!(e.check, Check::Committed(..)) {
                    lack.is_empty()
                } else {
                    have.is_empty()
                };
                (ok, text)
            }
            Check::LogPrefix(a, b) => {
                let (a, b) = (self.resolve(a, &[])?, self.resolve(b, &[])?);
                let applied = self.applied.borrow();
                let mut bad = None;
                'outer: for &x in &a {
                    for &y in &b {
                        let (lx, ly) = (&applied[x], &applied[y]);
                        for (idx, c) in lx {
                            if ly.get(idx) != Some(c) {
                                bad = Some(format!(
                                    "peer {x} applied {} at index {idx}, peer {y} {}",
                                    show_cmd(c),
                                    ly.get(idx).map_or("nothing".into(), |c| show_cmd(c))
                                ));
                                break 'outer;
                            }
                        }
                    }
                }
                let lens: Vec<String> = a
                    .iter()
                    .chain(&b)
                    .map(|&i| format!("peer {i}: {} entries", applied[i].len()))
                    .collect();
                match bad {
                    Some(why) => (false, why),
                    None => (true, format!("applied logs agree ({})", lens.join(", "))),
                }
            }
            Check::Linearizable => {
                let history = self.history.history();
                let (verdict, explain) = linearizable(&history);
                match verdict {
                    Lin::Linearizable => {
                        (true, format!("{} operations, linearizable", history.len()))
                    }
                    Lin::Unknown => (
                        true,
                        format!(
                            "{} operations: the check gave up after {:?} (assumed ok)",
                            history.len(),
                            LIN_TIMEOUT
                        ),
                    ),
                    Lin::NotLinearizable => (false, explain),
                }
            }
            Check::KeyValue(key, value) => {
                let clerk = self.clerk(&(0..self.s.peers).collect::<Vec<_>>());
                let id = self.next_checker.get();
                self.next_checker.set(id + 1);
                let op = self.history.call(id, KvInput::get(key));
                let limit = e.within.unwrap_or(GET_TIMEOUT);
                match labrpc::time::timeout(limit, clerk.get(key)).await {
                    Ok(v) => {
                        self.history.finish(op, KvOutput::value(v.clone()));
                        (v == *value, format!("Get({key:?}) returned {v:?}"))
                    }
                    Err(_) => (
                        false,
                        format!("Get({key:?}) did not return within {}", secs(limit)),
                    ),
                }
            }
        })
    }
}

pub(crate) fn show_cmd(c: &[u8]) -> String {
    labcodec::decode::<String>(c)
        .map_or_else(|_| format!("<{} bytes>", c.len()), |s| format!("{s:?}"))
}

/// Checks a history (on wall time, at most [`LIN_TIMEOUT`]).
#[allow(clippy::disallowed_methods)] // the checker runs on wall time
pub fn linearizable(history: &[Operation<KvInput, KvOutput>]) -> (Lin, String) {
    let options = CheckOptions {
        timeout: Some(LIN_TIMEOUT),
        threads: Some(1),
        ..CheckOptions::default()
    };
    let result = check_with(&KvModel, history, &options);
    // The page of the run (`lab scenario --html`) marks the operations.
    labtest::trace_violation(&result);
    let explain = if result.verdict == Lin::NotLinearizable {
        result.explain(&KvModel, history)
    } else {
        String::new()
    };
    (result.verdict, explain)
}

/// Writes the history view (every operation, the scenario's steps as
/// annotations) to `path`.
pub fn write_history_html(o: &Outcome, path: &std::path::Path) -> std::io::Result<()> {
    let options = CheckOptions {
        timeout: Some(LIN_TIMEOUT),
        threads: Some(1),
        all: true,
        ..CheckOptions::default()
    };
    #[allow(clippy::disallowed_methods)] // the checker runs on wall time
    let result = check_with(&KvModel, &o.history, &options);
    linearizability::write_html(path, &KvModel, &o.history, &result, &o.annotations)
}

/// An expectation in words.
pub fn describe(e: &Expect) -> String {
    let w = e.within.map(|d| d.as_secs_f64());
    let what = match &e.check {
        Check::Leader(p) => format!(
            "a leader among {p}{}",
            w.map_or(String::new(), |w| format!(" within {w}s"))
        ),
        Check::NoLeader(p) => format!(
            "no leader among {p}{}",
            w.map_or(String::new(), |w| format!(" within {w}s"))
        ),
        Check::TermAtMost(n) => format!("every term ≤ {n}"),
        Check::Committed(c, p) => format!(
            "{c:?} committed on {p}{}",
            w.map_or(String::new(), |w| format!(" within {w}s"))
        ),
        Check::NotCommitted(c, p) => format!("{c:?} not committed on {p}"),
        Check::LogPrefix(a, b) => format!("the applied log of {a} is a prefix of {b}'s"),
        Check::Linearizable => "the client history is linearizable".into(),
        Check::KeyValue(k, v) => format!("Get({k:?}) returns {v:?}"),
        Check::RpcsAtMost(n) => format!("at most {n} RPCs"),
        Check::Lab(c) => c.to_string(),
        Check::Progress => format!(
            "progress: a new command completes on every peer within {}s",
            w.unwrap_or(PROGRESS_WITHIN.as_secs_f64())
        ),
    };
    match e.at {
        Some(t) => format!("at {}: {what}", secs(t)),
        None => format!("at the end: {what}"),
    }
}
