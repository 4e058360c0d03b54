//! The Paxos harness: 6.824's 2015 `test_test.go` helpers on the
//! simulator.
//!
//! Peer `i` runs on node `px-i` and serves as labrpc server `px-i`. Peer
//! `i` reaches peer `j` through its own end `px-i->px-j`: a **deaf** peer
//! is one whose incoming ends are all disabled (it still sends, and hears
//! replies), **partitions** cut the links between nodes.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use labrpc::time::sleep;
use labrpc::trace::Leg;
use labrpc::{NodeId, Verdict, network, node};
use labtest::Stats;
use paxos::rpc::paxos as paxos_rpc;
use paxos::{Config, Fate, Paxos};

/// A value as the tests propose them.
pub fn val(x: impl std::fmt::Display) -> Vec<u8> {
    x.to_string().into_bytes()
}

fn show(v: &[u8]) -> String {
    if v.len() > 40 {
        format!("<{} bytes>", v.len())
    } else {
        String::from_utf8_lossy(v).into_owned()
    }
}

fn server_name(i: usize) -> String {
    format!("px-{i}")
}

/// A group of Paxos peers under test.
pub struct Px {
    n: usize,
    config: Config,
    nodes: Vec<NodeId>,
    /// `ends[i][j]`: peer i's end to peer j.
    ends: Vec<Vec<labrpc::ClientEnd>>,
    peers: RefCell<Vec<Option<Paxos>>>,
    /// Every value any peer ever reported decided, by instance.
    chosen: RefCell<BTreeMap<u64, Vec<u8>>>,
    stats: RefCell<Option<Stats>>,
}

impl Px {
    /// `n` peers with `config`, all running and connected.
    pub fn new(n: usize, config: Config, unreliable: bool) -> Rc<Px> {
        network().set_reliable(!unreliable);
        let nodes: Vec<NodeId> = (0..n).map(|i| node::create(server_name(i))).collect();
        let net = network();
        let ends = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        let name = format!("{}->{}", server_name(i), server_name(j));
                        let end = net.make_end(name.clone(), nodes[i]);
                        net.connect(&name, &server_name(j));
                        net.enable(&name, true);
                        end
                    })
                    .collect()
            })
            .collect();
        let px = Rc::new(Px {
            n,
            config,
            nodes,
            ends,
            peers: RefCell::new(vec![None; n]),
            chosen: RefCell::new(BTreeMap::new()),
            stats: RefCell::new(None),
        });
        for i in 0..n {
            px.start_peer(i);
        }
        px
    }

    /// Peer `i`'s node.
    pub fn node(&self, i: usize) -> NodeId {
        self.nodes[i]
    }

    /// Starts (or restarts) peer `i` from its persister.
    pub fn start_peer(&self, i: usize) {
        let node_i = self.nodes[i];
        if !node::is_alive(node_i) {
            node::restart(node_i);
        }
        let peers: Vec<paxos_rpc::Client> = (0..self.n)
            .map(|j| paxos_rpc::Client::new(self.ends[i][j].clone()))
            .collect();
        let persister = node::persister(node_i);
        let config = self.config.clone();
        let px = node::enter(node_i, || Paxos::new(peers, i, persister, config));
        network().add_server(
            server_name(i),
            node_i,
            labrpc::Server::new().add_service(px.service()),
        );
        self.peers.borrow_mut()[i] = Some(px);
    }

    /// Crashes peer `i` (its persister survives).
    pub fn crash(&self, i: usize) {
        node::crash(self.nodes[i]);
        self.peers.borrow_mut()[i] = None;
    }

    /// Peer `i`, if it runs.
    pub fn peer(&self, i: usize) -> Option<Paxos> {
        self.peers.borrow()[i].clone()
    }

    fn live(&self, i: usize) -> Paxos {
        self.peer(i)
            .unwrap_or_else(|| panic!("peer {i} is crashed"))
    }

    /// `start(seq, v)` on peer `i`, as code of its node.
    pub fn start(&self, i: usize, seq: u64, v: Vec<u8>) {
        let p = self.live(i);
        node::enter(self.nodes[i], || p.start(seq, v));
    }

    /// `done(seq)` on peer `i`.
    pub fn done(&self, i: usize, seq: u64) {
        let p = self.live(i);
        node::enter(self.nodes[i], || p.done(seq));
    }

    /// `status(seq)` on peer `i`.
    pub fn status(&self, i: usize, seq: u64) -> Fate {
        let p = self.live(i);
        node::enter(self.nodes[i], || p.status(seq))
    }

    /// `min()` on peer `i`.
    pub fn min(&self, i: usize) -> u64 {
        let p = self.live(i);
        node::enter(self.nodes[i], || p.min())
    }

    /// `max()` on peer `i`.
    pub fn max(&self, i: usize) -> Option<u64> {
        let p = self.live(i);
        node::enter(self.nodes[i], || p.max())
    }

    /// How many running peers report `seq` decided; fails if two values
    /// were ever decided for it (by any peer, at any time).
    pub fn ndecided(&self, seq: u64) -> usize {
        let mut count = 0;
        for i in 0..self.n {
            if self.peer(i).is_none() {
                continue;
            }
            if let Fate::Decided(v) = self.status(i, seq) {
                let mut chosen = self.chosen.borrow_mut();
                if let Some(w) = chosen.get(&seq) {
                    assert!(
                        *w == v,
                        "decided values do not match; seq={seq} peer {i} decided {:?}, \
                         but {:?} was decided before",
                        show(&v),
                        show(w)
                    );
                } else {
                    chosen.insert(seq, v);
                }
                count += 1;
            }
        }
        count
    }

    /// The value decided for `seq`, if any peer reported one.
    pub fn chosen(&self, seq: u64) -> Option<Vec<u8>> {
        self.chosen.borrow().get(&seq).cloned()
    }

    /// Waits (10 ms, doubling to 1 s, about 30 s in all) until `wanted`
    /// peers decided `seq`.
    pub async fn waitn(&self, seq: u64, wanted: usize) {
        let mut to = Duration::from_millis(10);
        for _ in 0..30 {
            if self.ndecided(seq) >= wanted {
                break;
            }
            sleep(to).await;
            if to < Duration::from_secs(1) {
                to *= 2;
            }
        }
        let nd = self.ndecided(seq);
        assert!(
            nd >= wanted,
            "too few decided; seq={seq} ndecided={nd} wanted={wanted}"
        );
    }

    /// Waits until a majority decided `seq`.
    pub async fn waitmajority(&self, seq: u64) {
        self.waitn(seq, self.n / 2 + 1).await;
    }

    /// After 3 s, at most `max` peers decided `seq`.
    pub async fn checkmax(&self, seq: u64, max: usize) {
        sleep(Duration::from_secs(3)).await;
        let nd = self.ndecided(seq);
        assert!(
            nd <= max,
            "too many decided; seq={seq} ndecided={nd} max={max}"
        );
    }

    /// Makes peer `i` deaf (nobody reaches it; it still sends) or hearing.
    pub fn deaf(&self, i: usize, deaf: bool) {
        let net = network();
        for j in 0..self.n {
            net.enable(&format!("{}->{}", server_name(j), server_name(i)), !deaf);
        }
    }

    /// Splits the peers into `groups` (a peer in no group is cut off from
    /// every other).
    pub fn partition(&self, groups: &[&[usize]]) {
        let mut all: Vec<Vec<NodeId>> = groups
            .iter()
            .map(|g| g.iter().map(|&i| self.nodes[i]).collect())
            .collect();
        for i in 0..self.n {
            if !groups.iter().any(|g| g.contains(&i)) {
                all.push(vec![self.nodes[i]]);
            }
        }
        let refs: Vec<&[NodeId]> = all.iter().map(|g| g.as_slice()).collect();
        network().partition(&refs);
    }

    /// Connects every peer to every other.
    pub fn heal(&self) {
        let all: Vec<usize> = (0..self.n).collect();
        self.partition(&[&all]);
    }

    /// Requests served by every peer so far (6.824's `rpcCount`).
    pub fn rpc_total(&self) -> u64 {
        (0..self.n)
            .map(|i| network().server_count(&server_name(i)))
            .sum()
    }

    /// Starts the stats of one test.
    pub fn begin(&self, description: &str) {
        *self.stats.borrow_mut() = Some(Stats::begin(description, self.n));
    }

    /// Prints the stats line; `ops` = instances decided.
    pub fn end(&self) {
        let ops = self.chosen.borrow().len() as u64;
        self.stats
            .borrow()
            .as_ref()
            .expect("begin() first")
            .end(ops);
    }
}

/// Counts the requests that cross between two different nodes, by
/// method, while it lives.
pub struct MessageCounter {
    counts: Rc<RefCell<BTreeMap<String, u64>>>,
    hook: labrpc::net::HookId,
}

impl MessageCounter {
    /// Starts counting.
    pub fn new() -> MessageCounter {
        let counts: Rc<RefCell<BTreeMap<String, u64>>> = Rc::default();
        let c = counts.clone();
        let hook = network().add_hook(move |m| {
            if m.leg == Leg::Request && m.from != m.to {
                *c.borrow_mut().entry(m.method.to_string()).or_default() += 1;
            }
            Verdict::Deliver
        });
        MessageCounter { counts, hook }
    }

    /// Requests of `method` ("paxos.accept") counted so far.
    pub fn get(&self, method: &str) -> u64 {
        self.counts.borrow().get(method).copied().unwrap_or(0)
    }

    /// Every count so far.
    pub fn all(&self) -> BTreeMap<String, u64> {
        self.counts.borrow().clone()
    }
}

impl Drop for MessageCounter {
    fn drop(&mut self) {
        network().remove_hook(self.hook);
    }
}
