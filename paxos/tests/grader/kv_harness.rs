//! The kvpaxos harness: servers on nodes `kv-i`, each serving kvpaxos and
//! its Paxos peer as labrpc server `kv-i`; clerks on the tester node with
//! ends to the servers they are given (6.824's per-server clerks).
//! Partitions cut the links between server nodes; clerks reach every
//! server they have an end to. Every clerk operation is recorded and the
//! history is checked for linearizability at the end of each test.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use labrpc::{NodeId, network, node};
use labtest::{KvHistory, Stats};
use linearizability::{KvInput, KvOutput};
use paxos::Config;
use paxos::kvpaxos::{Clerk, KvServer};
use paxos::rpc::paxos as paxos_rpc;

fn server_name(i: usize) -> String {
    format!("kv-{i}")
}

/// A group of kvpaxos servers under test.
pub struct Kv {
    n: usize,
    nodes: Vec<NodeId>,
    /// Kept alive for the test's duration.
    _servers: Vec<KvServer>,
    pub history: KvHistory,
    next_client: Cell<u64>,
    ops: Cell<u64>,
    stats: RefCell<Option<Stats>>,
}

/// A clerk under test: every operation goes into the history.
pub struct TestClerk {
    kv: Rc<Kv>,
    clerk: Clerk,
    id: u64,
    record: bool,
}

impl TestClerk {
    pub async fn get(&self, key: &str) -> String {
        let op = self
            .record
            .then(|| self.kv.history.call(self.id, KvInput::get(key)));
        let v = self.clerk.get(key).await;
        if let Some(op) = op {
            self.kv.history.finish(op, KvOutput::value(v.clone()));
        }
        self.kv.ops.set(self.kv.ops.get() + 1);
        v
    }

    pub async fn put(&self, key: &str, value: &str) {
        let op = self
            .record
            .then(|| self.kv.history.call(self.id, KvInput::put(key, value)));
        self.clerk.put(key, value).await;
        if let Some(op) = op {
            self.kv.history.finish(op, KvOutput::Done);
        }
        self.kv.ops.set(self.kv.ops.get() + 1);
    }

    pub async fn append(&self, key: &str, value: &str) {
        let op = self
            .record
            .then(|| self.kv.history.call(self.id, KvInput::append(key, value)));
        self.clerk.append(key, value).await;
        if let Some(op) = op {
            self.kv.history.finish(op, KvOutput::Done);
        }
        self.kv.ops.set(self.kv.ops.get() + 1);
    }

    /// Gets `key` and checks the value.
    pub async fn check(&self, key: &str, want: &str) {
        let v = self.get(key).await;
        assert_eq!(v, want, "Get({key:?}): expected {want:?}, got {v:?}");
    }
}

impl Kv {
    /// `n` servers, connected; reliable unless `unreliable`.
    pub fn new(n: usize, unreliable: bool) -> Rc<Kv> {
        let net = network();
        net.set_reliable(!unreliable);
        let nodes: Vec<NodeId> = (0..n).map(|i| node::create(server_name(i))).collect();
        let mut servers = Vec::new();
        for (i, &node_i) in nodes.iter().enumerate() {
            let peers: Vec<paxos_rpc::Client> = (0..n)
                .map(|j| paxos_rpc::Client::new(net.end_to(node_i, &server_name(j))))
                .collect();
            let persister = node::persister(node_i);
            let s = node::enter(node_i, || {
                KvServer::start(peers, i, persister, Config::default())
            });
            net.add_server(server_name(i), node_i, s.server());
            servers.push(s);
        }
        Rc::new(Kv {
            n,
            nodes,
            _servers: servers,
            history: KvHistory::new(),
            next_client: Cell::new(0),
            ops: Cell::new(0),
            stats: RefCell::new(None),
        })
    }

    pub fn n(&self) -> usize {
        self.n
    }

    /// A clerk talking to the servers in `to`, in a random order.
    pub fn clerk(self: &Rc<Self>, to: &[usize]) -> TestClerk {
        self.clerk_with(to, true)
    }

    /// A clerk whose operations are not recorded (huge values).
    pub fn clerk_unrecorded(self: &Rc<Self>, to: &[usize]) -> TestClerk {
        self.clerk_with(to, false)
    }

    fn clerk_with(self: &Rc<Self>, to: &[usize], record: bool) -> TestClerk {
        let id = self.next_client.get();
        self.next_client.set(id + 1);
        let mut to = to.to_vec();
        labrpc::rand::shuffle(&mut to);
        let ends = to
            .iter()
            .map(|&j| network().end_to(NodeId::TESTER, &server_name(j)))
            .collect();
        TestClerk {
            kv: self.clone(),
            clerk: Clerk::new(ends),
            id,
            record,
        }
    }

    /// Every server.
    pub fn all(&self) -> Vec<usize> {
        (0..self.n).collect()
    }

    /// Splits the servers into `groups`.
    pub fn partition(&self, groups: &[&[usize]]) {
        let all: Vec<Vec<NodeId>> = groups
            .iter()
            .map(|g| g.iter().map(|&i| self.nodes[i]).collect())
            .collect();
        let refs: Vec<&[NodeId]> = all.iter().map(|g| g.as_slice()).collect();
        network().partition(&refs);
        self.history
            .note("network", format!("partition {groups:?}"));
    }

    pub fn begin(&self, description: &str) {
        *self.stats.borrow_mut() = Some(Stats::begin(description, self.n));
    }

    /// Checks the history, then prints the stats line.
    pub fn end(&self) {
        self.history.check("paxos");
        self.stats
            .borrow()
            .as_ref()
            .expect("begin() first")
            .end(self.ops.get());
    }
}
