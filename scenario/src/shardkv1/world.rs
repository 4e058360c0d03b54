//! The simulated shardkv1 cluster and the scenario's steps on it.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc;
use labrpc::time::{Instant, sleep_until};
use labrpc::trace::{Leg, event};
use labrpc::{LinkConfig, NodeId, Verdict, network, node, task};
use linearizability::Annotation;
use raft::rpc::raft as raft_rpc;
use shardkv1::{Gid, MakeEnd, ShardConfig, ShardCtrler, ShardGrpServer};

use super::spec::{Action, Spec, Step, Target, Targets};
use crate::run::{Found, at, secs};
use crate::spec::Scenario;

/// The configuration server's node and labrpc server name.
pub(super) const KVSRV: &str = "kvsrv";

/// The labrpc name (and node name) of server `i` of group `gid`.
pub(super) fn server_name(gid: Gid, i: usize) -> String {
    format!("g{gid}.{i}")
}

fn group_servers(gid: Gid) -> Vec<String> {
    (0..3).map(|i| server_name(gid, i)).collect()
}

/// Ends from `node` to servers by name.
pub(super) fn make_end(node: NodeId) -> MakeEnd {
    Rc::new(move |server: &str| network().end_to(node, server))
}

/// A node of the lab, as a step resolves a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Node {
    Kvsrv,
    Server(Gid, usize),
    Ctrler(usize),
    Client(usize),
}

/// What a controller's task is told to do.
enum Cmd {
    Join(Vec<Gid>),
    Leave(Vec<Gid>),
}

/// A controller: its node and the channel to its task.
struct Ctrl {
    node: NodeId,
    tx: mpsc::UnboundedSender<Cmd>,
    /// Changes told and not returned yet (and 1 while it starts).
    busy: Rc<Cell<usize>>,
}

/// A Put that may have been applied: (value, version it was at, returned
/// OK rather than ErrMaybe).
pub(super) type Write = (String, u64, bool);

/// The cluster and what the scenario knows about it.
pub(super) struct World {
    pub(super) spec: Rc<Spec>,
    kv_node: NodeId,
    servers: BTreeMap<(Gid, usize), NodeId>,
    running: RefCell<BTreeMap<(Gid, usize), ShardGrpServer>>,
    ctrlers: RefCell<Vec<Ctrl>>,
    pub(super) clients: Vec<NodeId>,
    pub(super) checker: NodeId,
    hooks: crate::hooks::Hooks,
    pub(super) history: labtest::VersionedKvHistory,
    annotations: RefCell<Vec<Annotation>>,
    pub(super) found: Rc<RefCell<Found>>,
    pub(super) stopped: Cell<bool>,
    /// key -> every Put that may have been applied.
    pub(super) writes: RefCell<BTreeMap<String, Vec<Write>>>,
    pub(super) next_checker: Cell<u64>,
    me: Weak<World>,
}

pub(super) async fn body(s: Rc<Scenario>, spec: Rc<Spec>, found: Rc<RefCell<Found>>) {
    let net = network();
    net.set_reliable(s.reliable);
    let kv_node = node::create(KVSRV);
    let server =
        labrpc::Server::new().add_service(kvsrv::kv::service(Rc::new(kvsrv::KvServer::new())));
    net.add_server(KVSRV, kv_node, server);
    let mut servers = BTreeMap::new();
    for gid in 1..=spec.groups {
        for i in 0..3 {
            servers.insert((gid, i), node::create(server_name(gid, i)));
        }
    }
    let clients = (0..spec.clients.len())
        .map(|i| node::create(format!("client-{i}")))
        .collect();
    let checker = node::create("checker");
    let w = Rc::new_cyclic(|me| World {
        spec: spec.clone(),
        kv_node,
        servers,
        running: RefCell::default(),
        ctrlers: RefCell::default(),
        clients,
        checker,
        hooks: crate::hooks::Hooks::default(),
        history: labtest::VersionedKvHistory::new(),
        annotations: RefCell::default(),
        found,
        stopped: Cell::new(false),
        writes: RefCell::default(),
        next_checker: Cell::new(1000),
        me: me.clone(),
    });
    if let Some((lo, hi)) = s.latency {
        let all = w.every_node();
        for &a in &all {
            for &b in &all {
                if a != b {
                    let latency = lo..=hi;
                    net.set_link(a, b, Some(LinkConfig { loss: 0.0, latency }));
                }
            }
        }
    }
    w.start(spec, &s).await;
}

impl World {
    async fn start(self: &Rc<Self>, spec: Rc<Spec>, s: &Scenario) {
        for &(gid, i) in self.servers.keys() {
            self.start_server(gid, i);
        }
        event(
            "scenario",
            format!(
                "{}: lab shardkv1, configuration server and {} groups of 3 (joined {:?}), {} \
                 network",
                s.title,
                spec.groups,
                spec.joined,
                if s.reliable { "reliable" } else { "unreliable" }
            ),
        );
        self.new_ctrler(None);
        let mut waits = Vec::new();
        // Each client's operations leave from its node, the checks' from
        // the checker's (the picture draws them there).
        for c in spec.clients.iter().cloned() {
            let w = self.clone();
            let node = self.clients[c.id];
            waits.push(task::spawn_on(node, async move { w.client(c).await }));
        }
        let mut checks = Vec::new();
        for e in spec.expects.iter().filter(|e| e.at.is_some()).cloned() {
            let w = self.clone();
            checks.push(task::spawn_on(self.checker, async move {
                sleep_until(at(e.at.unwrap_or_default())).await;
                w.expect(&e).await;
            }));
        }
        for step in &spec.steps {
            sleep_until(at(step.at)).await;
            if self.stopped.get() {
                return;
            }
            if let Err(why) = self.step(step) {
                self.stop(format!(
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
        sleep_until(at(s.duration)).await;
        for e in spec.expects.iter().filter(|e| e.at.is_none()) {
            let (w, e) = (self.clone(), e.clone());
            checks.push(task::spawn_on(
                self.checker,
                async move { w.expect(&e).await },
            ));
        }
        for c in checks {
            let _ = c.await;
        }
        self.stopped.set(true);
        for op in self.history.history().iter().filter(|o| o.ret.is_none()) {
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
        self.keep();
        drop(waits);
    }

    /// Copies the history and annotations into what the run found.
    fn keep(&self) {
        let mut f = self.found.borrow_mut();
        f.versioned_history = self.history.history();
        f.annotations = self.annotations.borrow().clone();
    }

    pub(super) fn stop(&self, message: String) {
        event("scenario", format!("stopped: {message}"));
        self.stopped.set(true);
        self.found.borrow_mut().error.get_or_insert(message);
        self.keep();
    }

    pub(super) fn note(&self, tag: &str, text: impl Into<String>) {
        self.annotations
            .borrow_mut()
            .push(Annotation::point(Instant::now().as_nanos(), text).tag(tag));
    }

    /// Every node of the lab and the checker.
    fn every_node(&self) -> Vec<NodeId> {
        let mut v = vec![self.kv_node];
        v.extend(self.servers.values());
        v.extend(self.ctrlers.borrow().iter().map(|c| c.node));
        v.extend(&self.clients);
        v.push(self.checker);
        v
    }

    /// Starts (or restarts) server `i` of `gid` from its persister.
    fn start_server(&self, gid: Gid, i: usize) {
        let net = network();
        let me = self.servers[&(gid, i)];
        let peers: Vec<raft_rpc::Client> = (0..3)
            .map(|j| raft_rpc::Client::new(net.end_to(me, &server_name(gid, j))))
            .collect();
        let persister = node::persister(me);
        let max = self.spec.maxraftstate;
        let server = node::enter(me, || ShardGrpServer::start(peers, gid, i, persister, max));
        net.add_server(server_name(gid, i), me, server.server());
        self.running.borrow_mut().insert((gid, i), server);
    }

    /// The server of `gid` that believes it leads, in the highest term.
    fn leader(&self, gid: Gid) -> Option<usize> {
        let running = self.running.borrow();
        (0..3)
            .filter_map(|i| {
                let s = running.get(&(gid, i))?;
                let (term, leads) = node::enter(self.servers[&(gid, i)], || s.raft().state());
                leads.then_some((term, i))
            })
            .max()
            .map(|(_, i)| i)
    }

    /// Starts controller `n` (a new one if `None`) on its node, as a task
    /// there: controller 0 stores the first configuration; every other one
    /// first runs `init_controller`. Returns its number.
    fn new_ctrler(&self, restart: Option<usize>) -> usize {
        let n = restart.unwrap_or(self.ctrlers.borrow().len());
        let node = match restart {
            Some(n) => {
                let node = self.ctrlers.borrow()[n].node;
                node::restart(node);
                node
            }
            None => node::create(format!("ctrler-{n}")),
        };
        let mk = make_end(node);
        let ctrler = Rc::new(ShardCtrler::new(mk(KVSRV), mk.clone()));
        let (tx, rx) = mpsc::unbounded();
        let first = if n == 0 && restart.is_none() {
            let mut cfg = ShardConfig::initial();
            let groups = self
                .spec
                .joined
                .iter()
                .map(|&g| (g, group_servers(g)))
                .collect();
            cfg.join_balance(&groups);
            Some(cfg)
        } else {
            None
        };
        let me = self.me.clone();
        let busy = Rc::new(Cell::new(1));
        let b = busy.clone();
        task::spawn_on(node, ctrler_task(n, ctrler, first, rx, me, b)).detach();
        let c = Ctrl { node, tx, busy };
        let mut ctrlers = self.ctrlers.borrow_mut();
        match restart {
            Some(n) => ctrlers[n] = c,
            None => ctrlers.push(c),
        }
        n
    }

    /// Controller `which`: (its number, alive, changes not returned yet).
    pub(super) fn ctrler_state(
        &self,
        which: Option<usize>,
    ) -> Result<(usize, bool, usize), String> {
        let n = self.ctrler_index(which)?;
        let c = &self.ctrlers.borrow()[n];
        Ok((n, node::is_alive(c.node), c.busy.get()))
    }

    fn ctrler_index(&self, which: Option<usize>) -> Result<usize, String> {
        let k = self.ctrlers.borrow().len();
        match which {
            None => Ok(k - 1),
            Some(n) if n < k => Ok(n),
            Some(n) => Err(format!(
                "ctrler {n} has not started: controllers 0 to {} so far",
                k - 1
            )),
        }
    }

    /// Tells a controller to change the configuration.
    fn command(&self, which: Option<usize>, cmd: Cmd) -> Result<String, String> {
        let n = self.ctrler_index(which)?;
        let c = &self.ctrlers.borrow()[n];
        let what = match &cmd {
            Cmd::Join(g) => format!("join {g:?}"),
            Cmd::Leave(g) => format!("leave {g:?}"),
        };
        if !node::is_alive(c.node) || c.tx.unbounded_send(cmd).is_err() {
            return Err(format!(
                "ctrler {n} is down (crashed): restart it or start a new one (new_ctrler)"
            ));
        }
        c.busy.set(c.busy.get() + 1);
        Ok(format!("ctrler {n}: {what}"))
    }

    /// Arms a crash of a controller on the `count`-th reply of `method`.
    fn crash_on(&self, method: &str, count: u64, which: Option<usize>) -> Result<String, String> {
        let n = self.ctrler_index(which)?;
        let node = self.ctrlers.borrow()[n].node;
        let seen = Cell::new(0u64);
        let me = self.me.clone();
        let m = method.to_string();
        let id = network().add_hook(move |msg| {
            if msg.leg != Leg::Reply || msg.to != node || msg.method != m || seen.get() >= count {
                return Verdict::Deliver;
            }
            seen.set(seen.get() + 1);
            if seen.get() < count {
                return Verdict::Deliver;
            }
            let (me, m, server) = (me.clone(), m.clone(), msg.server.to_string());
            task::spawn_on(NodeId::TESTER, async move {
                if let Some(w) = me.upgrade() {
                    w.crash_ctrler(n, &m, count, &server);
                }
            })
            .detach();
            Verdict::Drop
        });
        self.hooks.keep(&format!("crash ctrler {n}"), id);
        Ok(format!(
            "ctrler {n} will crash when reply {count} of {method} reaches it"
        ))
    }

    fn crash_ctrler(&self, n: usize, method: &str, count: u64, server: &str) {
        let node = self.ctrlers.borrow()[n].node;
        if !node::is_alive(node) {
            return;
        }
        node::crash(node);
        let text = format!(
            "ctrler {n} crashed: {server} carried out its {method} (reply {count}), the reply \
             is lost"
        );
        self.note("scenario", text.clone());
        event("ctrler", text);
    }

    /// The nodes `t` names now (`rest`: every node not named elsewhere).
    fn resolve(&self, t: &Targets, rest: &[Node]) -> Result<Vec<Node>, String> {
        let mut out = Vec::new();
        for x in &t.list {
            let set = match x {
                Target::Kvsrv => vec![Node::Kvsrv],
                Target::Ctrler(which) => vec![Node::Ctrler(self.ctrler_index(*which)?)],
                Target::Group(g) => (0..3).map(|i| Node::Server(*g, i)).collect(),
                Target::Server(g, i) => vec![Node::Server(*g, *i)],
                Target::Leader(g) => match self.leader(*g) {
                    Some(i) => vec![Node::Server(*g, i)],
                    None => {
                        return Err(format!(
                            "g{g}.leader does not resolve: no live server of group {g} \
                             believes it leads now"
                        ));
                    }
                },
                Target::Clients => (0..self.clients.len()).map(Node::Client).collect(),
                Target::Client(n) => vec![Node::Client(*n)],
                Target::All => self.all(),
                Target::Rest => rest.to_vec(),
            };
            for n in set {
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        if out.is_empty() {
            return Err(format!("{t} names no node now"));
        }
        Ok(out)
    }

    fn all(&self) -> Vec<Node> {
        let mut v = vec![Node::Kvsrv];
        v.extend(self.servers.keys().map(|&(g, i)| Node::Server(g, i)));
        v.extend((0..self.ctrlers.borrow().len()).map(Node::Ctrler));
        v.extend((0..self.clients.len()).map(Node::Client));
        v
    }

    fn node_id(&self, n: Node) -> NodeId {
        match n {
            Node::Kvsrv => self.kv_node,
            Node::Server(g, i) => self.servers[&(g, i)],
            Node::Ctrler(c) => self.ctrlers.borrow()[c].node,
            Node::Client(c) => self.clients[c],
        }
    }

    fn ids(&self, v: &[Node]) -> Vec<NodeId> {
        v.iter().map(|&n| self.node_id(n)).collect()
    }

    /// Carries out one step; the reason if it cannot.
    fn step(&self, step: &Step) -> Result<(), String> {
        let what = match &step.action {
            Action::Join(g, by) => self.command(*by, Cmd::Join(g.clone()))?,
            Action::Leave(g, by) => self.command(*by, Cmd::Leave(g.clone()))?,
            Action::NewCtrler => {
                let n = self.new_ctrler(None);
                format!("ctrler {n} starts (init_controller)")
            }
            Action::CrashOn { method, count, by } => self.crash_on(method, *count, *by)?,
            other => self.net_step(other)?,
        };
        self.note("scenario", what.clone());
        event(
            "scenario",
            format!("step {} (line {}): {what}", step.number, step.place.line),
        );
        Ok(())
    }

    /// Carries out a network step.
    fn net_step(&self, action: &Action) -> Result<String, String> {
        let net = network();
        Ok(match action {
            Action::Partition(groups) => self.partition(groups)?,
            Action::Heal => {
                net.heal();
                "heal: every link up".into()
            }
            Action::Cut(a, b) | Action::Restore(a, b) => {
                let cut = matches!(action, Action::Cut(..));
                let (x, y) = (self.resolve(a, &[])?, self.resolve(b, &[])?);
                for &p in &self.ids(&x) {
                    for &q in &self.ids(&y) {
                        if cut {
                            net.cut(p, q)
                        } else {
                            net.restore(p, q)
                        }
                    }
                }
                format!("{} {a} -> {b}", if cut { "cut" } else { "restore" })
            }
            Action::Crash(t) => self.crash(t)?,
            Action::Restart(t) => self.restart(t)?,
            Action::Isolate(t) | Action::Reconnect(t) => {
                let iso = matches!(action, Action::Isolate(_));
                let others = self.every_node();
                for id in self.ids(&self.resolve(t, &[])?) {
                    if iso {
                        net.isolate(id, &others);
                    } else {
                        net.reconnect(id, &others);
                    }
                }
                format!("{} {t}", if iso { "isolate" } else { "reconnect" })
            }
            Action::Slow {
                from,
                to,
                latency,
                loss,
            } => {
                let (x, y) = (self.resolve(from, &[])?, self.resolve(to, &[])?);
                for &p in &self.ids(&x) {
                    for &q in &self.ids(&y) {
                        let c = LinkConfig {
                            loss: *loss,
                            latency: latency.0..=latency.1,
                        };
                        net.set_link(p, q, Some(c));
                    }
                }
                format!(
                    "slow {from} -> {to}: {}..{} ms, loss {loss}",
                    latency.0.as_millis(),
                    latency.1.as_millis()
                )
            }
            Action::Hook {
                method,
                delay,
                from,
                to,
            } => self.hook(method, *delay, from.as_ref(), to.as_ref())?,
            Action::Deliver(method) => self.hooks.deliver(method),
            Action::Reliable(on) => {
                net.set_reliable(*on);
                format!("network {}", if *on { "reliable" } else { "unreliable" })
            }
            Action::Join(..) | Action::Leave(..) | Action::NewCtrler | Action::CrashOn { .. } => {
                unreachable!("the lab's steps are World::step's")
            }
        })
    }

    fn partition(&self, groups: &[Targets]) -> Result<String, String> {
        let named: Vec<Node> = groups
            .iter()
            .flat_map(|g| g.list.iter())
            .filter(|t| **t != Target::Rest)
            .map(|t| {
                self.resolve(
                    &Targets {
                        list: vec![t.clone()],
                        place: groups[0].place.clone(),
                    },
                    &[],
                )
            })
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect();
        let rest: Vec<Node> = self
            .all()
            .into_iter()
            .filter(|n| !named.contains(n))
            .collect();
        let mut sets: Vec<Vec<Node>> = Vec::new();
        for g in groups {
            let set = self.resolve(g, &rest)?;
            if let Some(n) = set.iter().find(|n| sets.iter().any(|s| s.contains(n))) {
                return Err(format!(
                    "{} is in two groups of the partition",
                    self.show(*n)
                ));
            }
            sets.push(set);
        }
        let ids: Vec<Vec<NodeId>> = sets.iter().map(|s| self.ids(s)).collect();
        let refs: Vec<&[NodeId]> = ids.iter().map(Vec::as_slice).collect();
        network().partition(&refs);
        let text: Vec<String> = sets
            .iter()
            .map(|s| {
                let v: Vec<String> = s.iter().map(|&n| self.show(n)).collect();
                format!("{{{}}}", v.join(","))
            })
            .collect();
        Ok(format!("partition {}", text.join(" | ")))
    }

    fn show(&self, n: Node) -> String {
        match n {
            Node::Kvsrv => KVSRV.into(),
            Node::Server(g, i) => server_name(g, i),
            Node::Ctrler(c) => format!("ctrler-{c}"),
            Node::Client(c) => format!("client-{c}"),
        }
    }

    fn crash(&self, t: &Targets) -> Result<String, String> {
        let v = self.resolve(t, &[])?;
        for &n in &v {
            let id = self.node_id(n);
            if !node::is_alive(id) {
                continue;
            }
            node::crash(id);
            if let Node::Server(g, i) = n {
                self.running.borrow_mut().remove(&(g, i));
            }
        }
        let names: Vec<String> = v.iter().map(|&n| self.show(n)).collect();
        Ok(format!("crash {}", names.join(", ")))
    }

    fn restart(&self, t: &Targets) -> Result<String, String> {
        let v = self.resolve(t, &[])?;
        let (mut done, mut up) = (Vec::new(), Vec::new());
        for &n in &v {
            if node::is_alive(self.node_id(n)) {
                up.push(self.show(n));
                continue;
            }
            match n {
                Node::Server(g, i) => {
                    node::restart(self.servers[&(g, i)]);
                    self.start_server(g, i);
                    done.push(format!("{} from its persister", self.show(n)));
                }
                Node::Ctrler(c) => {
                    self.new_ctrler(Some(c));
                    done.push(format!("ctrler {c} anew (init_controller)"));
                }
                _ => {}
            }
        }
        let mut text = format!("restart {}", done.join(", "));
        if done.is_empty() {
            text = "restart nothing".into();
        }
        if !up.is_empty() {
            text.push_str(&format!(" ({} up already)", up.join(", ")));
        }
        Ok(text)
    }

    fn hook(
        &self,
        method: &str,
        delay: Option<Duration>,
        from: Option<&Targets>,
        to: Option<&Targets>,
    ) -> Result<String, String> {
        let nodes = |t: Option<&Targets>| {
            t.map(|t| self.resolve(t, &[]).map(|v| self.ids(&v)))
                .transpose()
        };
        self.hooks.add(method, delay, nodes(from)?, nodes(to)?);
        let side = |t: Option<&Targets>| t.map_or("any".to_string(), |t| t.to_string());
        Ok(format!(
            "{} {method} from {} to {}",
            match delay {
                Some(d) => format!("delay by {} ms", d.as_millis()),
                None => "drop".into(),
            },
            side(from),
            side(to)
        ))
    }
}

/// A controller's task: the first configuration (controller 0) or
/// recovery (`init_controller`), then the changes it is told, one at a
/// time. It dies with its node.
async fn ctrler_task(
    n: usize,
    ctrler: Rc<ShardCtrler>,
    first: Option<ShardConfig>,
    mut rx: mpsc::UnboundedReceiver<Cmd>,
    world: Weak<World>,
    busy: Rc<Cell<usize>>,
) {
    let say = |text: String| {
        if let Some(w) = world.upgrade() {
            w.note("ctrler", text.clone());
        }
        event("ctrler", text);
    };
    match first {
        Some(cfg) => {
            let num = cfg.num;
            ctrler.init_config(cfg).await;
            say(format!(
                "ctrler {n}: init_config stored configuration {num}"
            ));
        }
        None => {
            ctrler.init_controller().await;
            let cur = ctrler.query().await;
            say(format!(
                "ctrler {n}: init_controller returned; configuration {} {}",
                cur.num,
                show_shards(&cur)
            ));
        }
    }
    busy.set(busy.get() - 1);
    while let Some(cmd) = rx.next().await {
        change(n, &ctrler, cmd, &say).await;
        busy.set(busy.get() - 1);
    }
}

/// One change a controller was told: the next configuration from the
/// current one, then `change_config_to`.
async fn change(n: usize, ctrler: &ShardCtrler, cmd: Cmd, say: &impl Fn(String)) {
    let cur = ctrler.query().await;
    let mut new = cur.clone();
    let (what, changed) = match &cmd {
        Cmd::Join(g) => {
            let groups = g.iter().map(|&g| (g, group_servers(g))).collect();
            (format!("join {g:?}"), new.join_balance(&groups))
        }
        Cmd::Leave(g) => (format!("leave {g:?}"), new.leave_balance(g)),
    };
    if !changed {
        say(format!(
            "ctrler {n}: {what}: nothing to do in configuration {}",
            cur.num
        ));
        return;
    }
    let moves = (0..shardkv1::NSHARDS)
        .filter(|&s| cur.shards[s] != new.shards[s])
        .count();
    say(format!(
        "ctrler {n}: {what}: change_config_to({}) {}, {moves} shards move",
        new.num,
        show_shards(&new)
    ));
    let num = new.num;
    ctrler.change_config_to(new).await;
    let after = ctrler.query().await;
    say(format!(
        "ctrler {n}: change_config_to({num}) returned; configuration {} {}",
        after.num,
        show_shards(&after)
    ));
}

/// A configuration's shards: `[1 1 1 2 2 ...]`.
pub(super) fn show_shards(c: &ShardConfig) -> String {
    let v: Vec<String> = c.shards.iter().map(|g| g.to_string()).collect();
    format!("[{}]", v.join(" "))
}
