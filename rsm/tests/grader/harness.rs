// The rsm grader's harness: 6.5840's `rsm/test.go` and `rsm/server.go`
// on the simulator.
//
// Three peers, each on its own node `rsm-i`, each running an `Rsm` over a
// counter service (`Counter`). The tester is the service's client: it
// calls `submit` in process, from the tester node, as the course's 2025
// tester does, so a submit outlives a crash of its peer's node and must
// return by itself.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use labrpc::time::{Instant, sleep};
use labrpc::{NodeId, network, node};
use labtest::Stats;
use raft::rpc::raft as raft_rpc;
use rsm::{ErrWrongLeader, Rsm, StateMachine};
use serde::{Deserialize, Serialize};

/// Peers in a group (the course's NSRV).
pub const NSRV: usize = 3;
/// How long `one_partition` keeps trying (the course's NSEC).
pub const NSEC: Duration = Duration::from_secs(10);

/// A request to the counter service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Req {
    /// Adds one; answers the new value.
    Inc,
    /// Changes nothing; answers `Rep::Null`.
    Null,
    /// Must never be executed: the service panics if it is.
    Dec,
    /// (Ours.) Adds one and answers the tag with the new value; a tag
    /// executed twice on a peer makes the service panic.
    Tag(u64),
}

/// The counter service's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rep {
    Inc(u64),
    Null,
    Tag { tag: u64, n: u64 },
}

#[derive(Default, Serialize, Deserialize)]
struct CounterState {
    counter: u64,
    /// Tags executed (only `Req::Tag` adds any).
    tags: BTreeSet<u64>,
}

/// The service each peer replicates: a counter (and the tags seen).
pub struct Counter {
    me: usize,
    state: RefCell<CounterState>,
}

impl Counter {
    fn new(me: usize) -> Counter {
        Counter {
            me,
            state: RefCell::new(CounterState::default()),
        }
    }

    /// The counter's value on this peer.
    pub fn value(&self) -> u64 {
        self.state.borrow().counter
    }
}

impl StateMachine for Counter {
    type Req = Req;
    type Rep = Rep;

    fn do_op(&self, req: Req) -> Rep {
        let mut s = self.state.borrow_mut();
        match req {
            Req::Inc => {
                s.counter += 1;
                Rep::Inc(s.counter)
            }
            Req::Null => Rep::Null,
            Req::Dec => panic!(
                "peer {}: a Dec was executed, but no Dec was ever submitted to a leader \
                 that could commit it (only to a deposed leader in a minority)",
                self.me
            ),
            Req::Tag(tag) => {
                assert!(
                    s.tags.insert(tag),
                    "peer {}: request {tag:#x} was executed twice (one log entry, two do_op calls)",
                    self.me
                );
                s.counter += 1;
                Rep::Tag { tag, n: s.counter }
            }
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        labcodec::encode(&*self.state.borrow()).expect("the counter encodes")
    }

    fn restore(&self, data: &[u8]) {
        *self.state.borrow_mut() = labcodec::decode(data)
            .unwrap_or_else(|e| panic!("peer {}: restore of a bad snapshot: {e}", self.me));
    }
}

fn server_name(i: usize) -> String {
    format!("rsm-{i}")
}

struct Peer {
    rsm: Rsm<Counter>,
    counter: Rc<Counter>,
}

/// A group of peers under test.
pub struct Config {
    nodes: Vec<NodeId>,
    maxraftstate: Option<usize>,
    peers: RefCell<Vec<Option<Peer>>>,
    connected: RefCell<Vec<bool>>,
    leader: Cell<usize>,
    ops: Cell<u64>,
    stats: RefCell<Option<Stats>>,
}

impl Config {
    /// `NSRV` peers on a reliable network, all started and connected.
    pub fn new(maxraftstate: Option<usize>) -> Rc<Config> {
        network().set_reliable(true);
        let nodes = (0..NSRV).map(|i| node::create(server_name(i))).collect();
        let cfg = Rc::new(Config {
            nodes,
            maxraftstate,
            peers: RefCell::new((0..NSRV).map(|_| None).collect()),
            connected: RefCell::new(vec![true; NSRV]),
            leader: Cell::new(0),
            ops: Cell::new(0),
            stats: RefCell::new(None),
        });
        for i in 0..NSRV {
            cfg.start_server(i);
        }
        cfg
    }

    /// Starts the stats line of a test.
    pub fn begin(&self, description: &str) {
        *self.stats.borrow_mut() = Some(Stats::begin(description, NSRV));
        self.ops.set(0);
    }

    /// Prints the stats line (ops: successful submits).
    pub fn end(&self) {
        let stats = self.stats.borrow();
        stats
            .as_ref()
            .expect("begin() before end()")
            .end(self.ops.get());
    }

    /// Peer `i`'s RSM, if it is running.
    pub fn rsm(&self, i: usize) -> Option<Rsm<Counter>> {
        self.peers.borrow()[i].as_ref().map(|p| p.rsm.clone())
    }

    fn apply_connectivity(&self) {
        let connected = self.connected.borrow();
        let up: Vec<NodeId> = (0..NSRV)
            .filter(|&i| connected[i])
            .map(|i| self.nodes[i])
            .collect();
        let mut groups: Vec<Vec<NodeId>> = vec![up];
        groups.extend(
            (0..NSRV)
                .filter(|&i| !connected[i])
                .map(|i| vec![self.nodes[i]]),
        );
        let refs: Vec<&[NodeId]> = groups.iter().map(|g| g.as_slice()).collect();
        network().partition(&refs);
    }

    /// Cuts peer `i` off from every other peer.
    pub fn disconnect(&self, i: usize) {
        self.connected.borrow_mut()[i] = false;
        self.apply_connectivity();
    }

    /// Connects peer `i` to every connected peer.
    pub fn connect(&self, i: usize) {
        self.connected.borrow_mut()[i] = true;
        self.apply_connectivity();
    }

    /// Splits the peers into `p1` and `p2`; both count as connected (the
    /// tests pick the side they submit to).
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        let g1: Vec<NodeId> = p1.iter().map(|&i| self.nodes[i]).collect();
        let g2: Vec<NodeId> = p2.iter().map(|&i| self.nodes[i]).collect();
        *self.connected.borrow_mut() = vec![true; NSRV];
        network().partition(&[&g1, &g2]);
    }

    /// Connects every peer to every other.
    pub fn connect_all(&self) {
        *self.connected.borrow_mut() = vec![true; NSRV];
        self.apply_connectivity();
    }

    /// The majority without `l`, and the minority `[l]`.
    pub fn make_partition(&self, l: usize) -> (Vec<usize>, Vec<usize>) {
        ((0..NSRV).filter(|&i| i != l).collect(), vec![l])
    }

    /// Crashes peer `i`'s node.
    pub fn shutdown_server(&self, i: usize) {
        node::crash(self.nodes[i]);
        self.peers.borrow_mut()[i] = None;
    }

    /// Restarts peer `i` from its persister.
    pub fn start_server(&self, i: usize) {
        let net = network();
        let node_i = self.nodes[i];
        if self.peers.borrow()[i].is_some() {
            self.shutdown_server(i);
        }
        node::restart(node_i);
        let peers: Vec<raft_rpc::Client> = (0..NSRV)
            .map(|j| raft_rpc::Client::new(net.end_to(node_i, &server_name(j))))
            .collect();
        let persister = node::persister(node_i);
        let counter = Rc::new(Counter::new(i));
        let rsm = node::enter(node_i, || {
            Rsm::new(peers, i, persister, self.maxraftstate, counter.clone())
        });
        net.add_server(
            server_name(i),
            node_i,
            labrpc::Server::new().add_service(rsm.raft().service()),
        );
        self.peers.borrow_mut()[i] = Some(Peer { rsm, counter });
    }

    /// Crashes every peer.
    pub fn shutdown_all(&self) {
        for i in 0..NSRV {
            self.shutdown_server(i);
        }
    }

    /// Restarts every peer.
    pub fn start_all(&self) {
        for i in 0..NSRV {
            self.start_server(i);
        }
    }

    /// The peer that last answered a submit `Ok`.
    pub fn last_leader(&self) -> usize {
        self.leader.get()
    }

    /// The largest persisted Raft state.
    pub fn max_raft_state(&self) -> usize {
        self.nodes
            .iter()
            .map(|&n| node::persister(n).state_size())
            .max()
            .unwrap_or(0)
    }

    /// 6.5840's onePartition: for up to `NSEC`, submits `req` to each
    /// connected, running peer in `p` (all if `None`), from the last
    /// leader on, pausing 50 ms after each sweep; the first `Ok` answer.
    pub async fn one_partition(&self, p: Option<&[usize]>, req: Req) -> Option<Rep> {
        let t0 = Instant::now();
        while t0.elapsed() < NSEC {
            let first = self.leader.get();
            for k in 0..NSRV {
                let i = (first + k) % NSRV;
                if !self.connected.borrow()[i] || p.is_some_and(|p| !p.contains(&i)) {
                    continue;
                }
                let Some(rsm) = self.rsm(i) else { continue };
                if let Ok(rep) = rsm.submit(req.clone()).await {
                    self.leader.set(i);
                    self.ops.set(self.ops.get() + 1);
                    return Some(rep);
                }
            }
            sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Submits an Inc until a leader executes it (within `NSEC`); its
    /// new counter value.
    pub async fn one_inc(&self) -> u64 {
        self.one_inc_in(None).await
    }

    /// The same, only through peers in `p`.
    pub async fn one_inc_in(&self, p: Option<&[usize]>) -> u64 {
        match self.one_partition(p, Req::Inc).await {
            Some(Rep::Inc(n)) => n,
            Some(other) => panic!("an Inc was answered {other:?}: another request's reply"),
            None => panic!("no peer executed an Inc within {NSEC:?} (no leader?)"),
        }
    }

    /// Submits a Null until a leader executes it; false if none did
    /// within `NSEC`.
    pub async fn one_null(&self) -> bool {
        match self.one_partition(None, Req::Null).await {
            Some(Rep::Null) => true,
            Some(other) => panic!("a Null was answered {other:?}: another request's reply"),
            None => false,
        }
    }

    /// Submits `Tag(tag)` to peer `i` once; checks that an `Ok` answer is
    /// the tag's own.
    pub async fn submit_tag(&self, i: usize, tag: u64) -> Result<u64, ErrWrongLeader> {
        let rsm = self.rsm(i).expect("peer is running");
        let rep = rsm.submit(Req::Tag(tag)).await?;
        match rep {
            Rep::Tag { tag: got, n } if got == tag => {
                self.ops.set(self.ops.get() + 1);
                Ok(n)
            }
            other => panic!(
                "peer {i}: submit(Tag({tag:#x})) returned Ok({other:?}): the reply of another request"
            ),
        }
    }

    /// 6.5840's checkCounter: waits (about 30 s at most) until at least
    /// `n` peers' counters are `v`.
    pub async fn check_counter(&self, v: u64, n: usize) {
        let mut pause = Duration::from_millis(10);
        let mut values = Vec::new();
        for _ in 0..30 {
            values = self.counters();
            if values.iter().filter(|&&c| c == Some(v)).count() >= n {
                return;
            }
            sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(1280));
        }
        panic!("wanted at least {n} peers with counter {v}; the peers' counters are {values:?}");
    }

    /// Every peer's counter (None: not running).
    pub fn counters(&self) -> Vec<Option<u64>> {
        self.peers
            .borrow()
            .iter()
            .map(|p| p.as_ref().map(|p| p.counter.value()))
            .collect()
    }

    /// A peer that believes it leads (the highest term's).
    pub fn leader(&self) -> Option<usize> {
        (0..NSRV)
            .filter_map(|i| {
                let rsm = self.rsm(i)?;
                let (term, leader) = rsm.raft().state();
                leader.then_some((term, i))
            })
            .max()
            .map(|(_, i)| i)
    }
}
