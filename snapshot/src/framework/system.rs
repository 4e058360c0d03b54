//! The running system: one simulated node per process, a labrpc server per
//! process for its incoming channels, a sending task per outgoing channel,
//! and the token traffic. The snapshot algorithm ([`crate::Snapshots`]) is
//! driven from here: a process hands it every message it receives, in
//! channel order, and the start of every snapshot it initiates.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use labrpc::time::sleep;
use labrpc::{NodeId, Server, network, node, task};

use crate::Snapshots;
use crate::framework::app::{AppState, LocalSnapshot, Message, ProcId, SnapshotId};
use crate::framework::link::{Receiver, Sender, link};
use crate::framework::topology::Topology;

/// Most tokens in one application message.
const MAX_AMOUNT: u64 = 3;
/// How often a paused process looks whether traffic resumed.
const PAUSED_POLL: Duration = Duration::from_millis(10);

/// What the snapshot algorithm may send: markers, on the process's
/// outgoing channels. A marker goes after every message already put on
/// that channel and before every message put there after it.
pub struct Outbox<'a> {
    senders: &'a BTreeMap<ProcId, Rc<Sender<Message>>>,
}

impl Outbox<'_> {
    /// Puts a marker of snapshot `id` on the channel to `to`.
    ///
    /// # Panics
    /// If there is no channel to `to`.
    pub fn send_marker(&self, to: ProcId, id: SnapshotId) {
        self.senders
            .get(&to)
            .unwrap_or_else(|| panic!("send_marker: no channel to process {to}"))
            .push(Message::Marker(id));
    }
}

/// One process: its application state, its snapshot algorithm and the
/// sending ends of its outgoing channels.
struct Process {
    app: RefCell<AppState>,
    snapshots: RefCell<Snapshots>,
    senders: BTreeMap<ProcId, Rc<Sender<Message>>>,
}

impl Process {
    fn outbox(&self) -> Outbox<'_> {
        Outbox {
            senders: &self.senders,
        }
    }

    /// A message from `from`, delivered in channel order.
    fn deliver(&self, from: ProcId, msg: Message) {
        match msg {
            Message::Token(token) => {
                self.app.borrow_mut().deposit(from, token);
                self.snapshots.borrow_mut().on_token(from, token);
            }
            Message::Marker(id) => {
                let app = self.app.borrow();
                self.snapshots
                    .borrow_mut()
                    .on_marker(from, id, &app, &self.outbox());
            }
        }
    }

    fn start_snapshot(&self, id: SnapshotId) {
        let app = self.app.borrow();
        self.snapshots.borrow_mut().start(id, &app, &self.outbox());
    }

    /// Sends a few tokens to a random neighbour, if it holds any.
    fn send_tokens(&self) {
        let mut app = self.app.borrow_mut();
        if app.tokens == 0 {
            return;
        }
        let outbound: Vec<ProcId> = self.senders.keys().copied().collect();
        let to = *labrpc::rand::choose(&outbound).expect("every process has a neighbour");
        let amount = labrpc::rand::gen_range(1..=app.tokens.min(MAX_AMOUNT));
        let token = app.take(to, amount);
        self.senders[&to].push(Message::Token(token));
    }

    /// The application: every `gap` on average, send tokens.
    async fn traffic(self: Rc<Self>, gap: Rc<Cell<Duration>>) {
        loop {
            let g = gap.get();
            if g.is_zero() {
                sleep(PAUSED_POLL).await;
                continue;
            }
            sleep(labrpc::rand::gen_range(Duration::ZERO..=2 * g)).await;
            if !gap.get().is_zero() {
                self.send_tokens();
            }
        }
    }
}

/// Processes passing tokens over FIFO channels, each running the snapshot
/// algorithm. Made by the tester, inside a simulation.
pub struct System {
    topology: Topology,
    procs: Vec<Rc<Process>>,
    nodes: Vec<NodeId>,
    total: u64,
    next_id: Cell<SnapshotId>,
    gap: Rc<Cell<Duration>>,
}

/// The labrpc server (and node) name of process `p`.
pub fn proc_name(p: ProcId) -> String {
    format!("proc-{p}")
}

impl System {
    /// Starts a process per node of `topology`, each holding `tokens_each`
    /// tokens, each sending some to a random neighbour every `gap` on
    /// average (`Duration::ZERO`: no traffic).
    pub fn new(topology: Topology, tokens_each: u64, gap: Duration) -> System {
        let net = network();
        let n = topology.len();
        let nodes: Vec<NodeId> = (0..n).map(|p| node::create(proc_name(p))).collect();
        let gap = Rc::new(Cell::new(gap));
        let mut procs = Vec::with_capacity(n);
        for (p, &node) in nodes.iter().enumerate() {
            let (inbound, outbound) = (topology.inbound(p), topology.outbound(p));
            let snapshots = node::enter(node, || Snapshots::new(p, &inbound, &outbound));
            let senders: BTreeMap<ProcId, Rc<Sender<Message>>> = outbound
                .iter()
                .map(|&q| (q, Rc::new(Sender::default())))
                .collect();
            let proc = Rc::new(Process {
                app: RefCell::new(AppState::new(tokens_each, &inbound, &outbound)),
                snapshots: RefCell::new(snapshots),
                senders,
            });
            let receiver = {
                let proc = proc.clone();
                Receiver::new(0, move |from, msg| {
                    proc.deliver(from, msg);
                    true
                })
            };
            net.add_server(
                proc_name(p),
                node,
                Server::new().add_service(link::service(Rc::new(receiver))),
            );
            for (&q, sender) in &proc.senders {
                let client = link::Client::new(net.end_to(node, &proc_name(q)));
                let deliver = move |batch| {
                    let client = client.clone();
                    async move { client.deliver(&batch).await }
                };
                task::spawn_on(node, sender.clone().pump(p, 0, deliver)).detach();
            }
            task::spawn_on(node, proc.clone().traffic(gap.clone())).detach();
            procs.push(proc);
        }
        System {
            total: tokens_each * n as u64,
            topology,
            procs,
            nodes,
            next_id: Cell::new(1),
            gap,
        }
    }

    /// The processes' graph.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Tokens in the system (constant).
    pub fn total_tokens(&self) -> u64 {
        self.total
    }

    /// Process `p`'s node.
    pub fn node(&self, p: ProcId) -> NodeId {
        self.nodes[p]
    }

    /// Changes the mean gap between a process's sends (`Duration::ZERO`
    /// pauses the traffic).
    pub fn set_traffic(&self, gap: Duration) {
        self.gap.set(gap);
    }

    /// Process `p` initiates a new snapshot, now; its id.
    pub fn start_snapshot(&self, p: ProcId) -> SnapshotId {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        node::enter(self.nodes[p], || self.procs[p].start_snapshot(id));
        id
    }

    /// What process `p` recorded for snapshot `id`, once it has finished
    /// its part of it.
    pub fn local_snapshot(&self, p: ProcId, id: SnapshotId) -> Option<LocalSnapshot> {
        self.procs[p].snapshots.borrow().local_snapshot(id)
    }

    /// Process `p`'s application state, now.
    pub fn state(&self, p: ProcId) -> AppState {
        self.procs[p].app.borrow().clone()
    }

    /// Messages put on channels and not yet acknowledged by their
    /// receiver (0: every channel is empty).
    pub fn backlog(&self) -> usize {
        self.procs
            .iter()
            .flat_map(|p| p.senders.values())
            .map(|s| s.backlog())
            .sum()
    }
}
