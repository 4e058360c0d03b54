//! The shardkv grader's harness: 6.824's shardctrler and shardkv
//! `config.go` on the simulator.
//!
//! Every server runs on its own node, named as its labrpc server:
//! controller servers `ctrler-i` (a second controller `ctrler2-i`), group
//! servers `server-<gid>-<i>`. Each server reaches its Raft peers and the
//! controllers through ends of its own node, and other groups through the
//! `make_end` the harness gives it (fresh ends from the same node). Clerks
//! run on the tester node. Crashing a server crashes its node: its tasks
//! and RPC servers go, its persister stays.
//!
//! Every shardkv clerk operation is recorded on virtual time; configuration
//! changes and crashes are noted in the same history, which
//! [`System::end`] checks for linearizability (HTML view on a violation).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

use labrpc::time::sleep;
use labrpc::{ClientEnd, NodeId, network, node};
use labtest::{KvHistory, Stats};
use linearizability::{KvInput, KvOutput};
use raft::rpc::raft as raft_rpc;
use shardkv::{Clerk, Config, CtrlerClerk, CtrlerServer, Gid, MakeEnd, NSHARDS, ShardKv};

/// The tester's generous idea of an election period.
pub const ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);
/// No clerk operation of these tests may take longer (6.824 has no such
/// bound; a group stuck in a reconfiguration would otherwise show only as
/// the time limit).
pub const OP_LIMIT: Duration = Duration::from_secs(30);

/// Runs one clerk operation, failing the test if it takes over [`OP_LIMIT`].
async fn within<T>(what: String, op: impl std::future::Future<Output = T>) -> T {
    match labrpc::time::timeout(OP_LIMIT, op).await {
        Ok(v) => v,
        Err(_) => panic!(
            "{what} has not completed after {OP_LIMIT:?}: is a group stuck in a reconfiguration?"
        ),
    }
}

fn describe(op: &str, key: &str) -> String {
    format!("{op}({key:?}) (shard {})", shardkv::key2shard(key))
}

// ---------------------------------------------------------------------
// The controller
// ---------------------------------------------------------------------

/// A replicated shard controller under test.
pub struct Ctrlers {
    prefix: String,
    nodes: Vec<NodeId>,
    servers: RefCell<Vec<Option<CtrlerServer>>>,
}

impl Ctrlers {
    /// `n` controller servers named `<prefix>-i`, started and connected.
    pub fn new(prefix: &str, n: usize) -> Ctrlers {
        let nodes = (0..n)
            .map(|i| node::create(format!("{prefix}-{i}")))
            .collect();
        let c = Ctrlers {
            prefix: prefix.to_string(),
            nodes,
            servers: RefCell::new((0..n).map(|_| None).collect()),
        };
        for i in 0..n {
            c.start_server(i);
        }
        c
    }

    /// Number of servers.
    pub fn n(&self) -> usize {
        self.nodes.len()
    }

    /// The labrpc name of server `i`.
    pub fn name(&self, i: usize) -> String {
        format!("{}-{i}", self.prefix)
    }

    /// Ends from `from` to every controller server.
    pub fn ends(&self, from: NodeId) -> Vec<ClientEnd> {
        let net = network();
        let mut ends: Vec<ClientEnd> = (0..self.n())
            .map(|i| net.end_to(from, &self.name(i)))
            .collect();
        labrpc::rand::shuffle(&mut ends);
        ends
    }

    /// A controller clerk on the tester node.
    pub fn clerk(&self) -> CtrlerClerk {
        CtrlerClerk::new(self.ends(NodeId::TESTER))
    }

    /// Crashes server `i`.
    pub fn shutdown_server(&self, i: usize) {
        node::crash(self.nodes[i]);
        self.servers.borrow_mut()[i] = None;
    }

    /// (Re)starts server `i` from its persister.
    pub fn start_server(&self, i: usize) {
        let net = network();
        let node_i = self.nodes[i];
        if self.servers.borrow()[i].is_some() {
            self.shutdown_server(i);
        }
        node::restart(node_i);
        let peers: Vec<raft_rpc::Client> = (0..self.n())
            .map(|j| raft_rpc::Client::new(net.end_to(node_i, &self.name(j))))
            .collect();
        let persister = node::persister(node_i);
        let server = node::enter(node_i, || CtrlerServer::start(peers, i, persister));
        net.add_server(self.name(i), node_i, server.server());
        self.servers.borrow_mut()[i] = Some(server);
    }

    /// A server that believes it leads (the one in the highest term).
    pub fn leader(&self) -> Option<usize> {
        let servers = self.servers.borrow();
        (0..self.n())
            .filter_map(|i| {
                let s = servers[i].as_ref()?;
                let (term, leader) = node::enter(self.nodes[i], || s.raft().state());
                leader.then_some((term, i))
            })
            .max()
            .map(|(_, i)| i)
    }
}

// ---------------------------------------------------------------------
// Controller checks
// ---------------------------------------------------------------------

/// The configuration must hold exactly `groups`, point every shard at one
/// of them (when there is one) and be balanced (max - min <= 1).
pub fn check_config(c: &Config, groups: &[Gid]) {
    let want: BTreeSet<Gid> = groups.iter().copied().collect();
    let have: BTreeSet<Gid> = c.groups.keys().copied().collect();
    assert_eq!(
        have, want,
        "config {}: wrong groups: have {have:?}, want {want:?}",
        c.num
    );
    if !groups.is_empty() {
        for (s, g) in c.shards.iter().enumerate() {
            assert!(
                c.groups.contains_key(g),
                "config {}: shard {s} is on gid {g}, which is not in the configuration ({:?})",
                c.num,
                c.shards
            );
        }
        let counts = c.counts();
        let max = counts.values().max().copied().unwrap_or(0);
        let min = counts.values().min().copied().unwrap_or(0);
        assert!(
            max <= min + 1,
            "config {}: max {max} too much larger than min {min}: {counts:?}",
            c.num
        );
    }
}

/// The fewest shards a rebalance from `prev` to the groups of `next` can
/// move ([`labtest::shards::min_moves`]).
pub fn min_moves(prev: &Config, next: &Config) -> usize {
    let groups: Vec<Gid> = next.groups.keys().copied().collect();
    labtest::shards::min_moves(&prev.shards, &groups)
}

/// How many shards change group from `a` to `b`.
pub fn moved(a: &Config, b: &Config) -> usize {
    labtest::shards::moved(&a.shards, &b.shards)
}

/// The rebalance from `prev` to `next` (a Join or Leave) moved exactly as
/// few shards as possible. 6.824 checks this only for some shards; this is
/// the count.
pub fn check_minimal(prev: &Config, next: &Config) {
    assert_eq!(
        next.num,
        prev.num + 1,
        "configurations {} and {} are not consecutive",
        prev.num,
        next.num
    );
    let m = moved(prev, next);
    let want = min_moves(prev, next);
    assert!(
        m <= want,
        "config {} -> {}: {m} shards moved, but {want} would do\n  before {:?}\n  after  {:?}",
        prev.num,
        next.num,
        prev.shards,
        next.shards
    );
}

/// A controller clerk of the tester that checks every Join and Leave:
/// the new configuration follows its predecessor, and moves as few shards
/// as possible.
pub struct CheckedCtrler {
    pub ck: CtrlerClerk,
}

impl CheckedCtrler {
    pub fn new(ck: CtrlerClerk) -> CheckedCtrler {
        CheckedCtrler { ck }
    }

    async fn check_step(&self, next: &Config) {
        let prev = self.ck.query(Some(next.num - 1)).await;
        check_minimal(&prev, next);
    }

    pub async fn join(&self, groups: BTreeMap<Gid, Vec<String>>) -> Config {
        let next = self.ck.join(groups).await;
        self.check_step(&next).await;
        next
    }

    pub async fn leave(&self, gids: &[Gid]) -> Config {
        let next = self.ck.leave(gids).await;
        self.check_step(&next).await;
        next
    }

    pub async fn move_shard(&self, shard: usize, gid: Gid) -> Config {
        self.ck.move_shard(shard, gid).await
    }

    pub async fn query(&self, num: Option<u64>) -> Config {
        self.ck.query(num).await
    }
}

// ---------------------------------------------------------------------
// The sharded store
// ---------------------------------------------------------------------

/// The gids of the three replica groups.
pub const GIDS: [Gid; 3] = [100, 101, 102];
/// Servers per group and controller servers.
pub const N: usize = 3;

fn server_name(gid: Gid, i: usize) -> String {
    format!("server-{gid}-{i}")
}

struct Group {
    gid: Gid,
    nodes: Vec<NodeId>,
    servers: Vec<Option<ShardKv>>,
}

/// A controller and three replica groups under test, and the clerks.
pub struct System {
    pub ctrl: Ctrlers,
    groups: RefCell<Vec<Group>>,
    maxraftstate: Option<usize>,
    mck: CheckedCtrler,
    pub history: KvHistory,
    next_client: Cell<u64>,
    ops: Cell<u64>,
    stats: RefCell<Option<(Stats, u64)>>,
}

/// A clerk under test: every operation goes into the history.
pub struct TestClerk {
    sys: Rc<System>,
    clerk: Clerk,
    id: u64,
}

impl TestClerk {
    /// Gets `key`.
    pub async fn get(&self, key: &str) -> String {
        let op = self.sys.history.call(self.id, KvInput::get(key));
        let v = within(describe("Get", key), self.clerk.get(key)).await;
        self.sys.history.finish(op, KvOutput::value(v.clone()));
        self.sys.ops.set(self.sys.ops.get() + 1);
        self.sys.observe_servers();
        v
    }

    /// Puts `key`.
    pub async fn put(&self, key: &str, value: &str) {
        let op = self.sys.history.call(self.id, KvInput::put(key, value));
        within(describe("Put", key), self.clerk.put(key, value)).await;
        self.sys.history.finish(op, KvOutput::Done);
        self.sys.ops.set(self.sys.ops.get() + 1);
        self.sys.observe_servers();
    }

    /// Appends to `key`.
    pub async fn append(&self, key: &str, value: &str) {
        let op = self.sys.history.call(self.id, KvInput::append(key, value));
        within(describe("Append", key), self.clerk.append(key, value)).await;
        self.sys.history.finish(op, KvOutput::Done);
        self.sys.ops.set(self.sys.ops.get() + 1);
        self.sys.observe_servers();
    }

    /// Gets `key` and checks the value.
    pub async fn check(&self, key: &str, want: &str) {
        let v = self.get(key).await;
        assert_eq!(
            v,
            want,
            "Get({key:?}) (shard {}): expected {want:?}, got {v:?}",
            shardkv::key2shard(key)
        );
    }
}

/// Builds a `MakeEnd` whose ends leave from `from`.
fn make_end(from: NodeId) -> MakeEnd {
    Rc::new(move |name: &str| network().end_to(from, name))
}

/// How a test's system is set up: the arguments of 6.824's
/// `make_config(t, n, unreliable, maxraftstate)`, named. The default is a
/// reliable network and no snapshots:
///
/// ```text
/// System::new()                                                     reliable, no snapshots
/// System::with(Options { maxraftstate: Some(1000), ..Options::default() })
/// System::with(Options { unreliable: true, maxraftstate: Some(100) })
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Messages are lost and delayed now and then.
    pub unreliable: bool,
    /// Snapshot when a server's Raft state reaches this many bytes
    /// (`None`: never).
    pub maxraftstate: Option<usize>,
}

impl System {
    /// A controller of 3 servers and groups 100, 101, 102 of 3 servers
    /// each, all started (no group joined yet), on a reliable network,
    /// without snapshots: `System::with(Options::default())`.
    pub fn new() -> Rc<System> {
        System::with(Options::default())
    }

    /// As [`System::new`], set up as `options` says.
    pub fn with(options: Options) -> Rc<System> {
        let net = network();
        net.set_reliable(!options.unreliable);
        let ctrl = Ctrlers::new("ctrler", N);
        let groups = GIDS
            .iter()
            .map(|&gid| Group {
                gid,
                nodes: (0..N).map(|i| node::create(server_name(gid, i))).collect(),
                servers: (0..N).map(|_| None).collect(),
            })
            .collect();
        let mck = CheckedCtrler::new(ctrl.clerk());
        let sys = Rc::new(System {
            ctrl,
            groups: RefCell::new(groups),
            maxraftstate: options.maxraftstate,
            mck,
            history: KvHistory::new(),
            next_client: Cell::new(0),
            ops: Cell::new(0),
            stats: RefCell::new(None),
        });
        for gi in 0..GIDS.len() {
            sys.start_group(gi);
        }
        sys
    }

    /// The controller clerk of the tester (checks every Join and Leave).
    pub fn mck(&self) -> &CheckedCtrler {
        &self.mck
    }

    /// Starts the stats of a test.
    pub fn begin(&self, header: &str) {
        let peers = N * (GIDS.len() + 1);
        *self.stats.borrow_mut() = Some((Stats::begin(header, peers), self.ops.get()));
    }

    /// Checks the history for linearizability, then prints the stats line
    /// and the RPCs per clerk operation.
    pub fn end(&self) {
        self.history.check("shardkv");
        let stats = self.stats.borrow_mut().take();
        if let Some((stats, ops0)) = stats {
            let ops = self.ops.get() - ops0;
            let line = stats.line(ops);
            stats.end(ops);
            if ops > 0 {
                println!(
                    "  {:.1} RPCs per clerk operation",
                    line.rpcs.unwrap_or(0) as f64 / ops as f64
                );
            }
        }
    }

    /// A clerk on the tester node, recording into the history.
    pub fn make_client(self: &Rc<Self>) -> TestClerk {
        self.make_client_of(&self.ctrl)
    }

    /// A clerk using another controller.
    pub fn make_client_of(self: &Rc<Self>, ctrl: &Ctrlers) -> TestClerk {
        let id = self.next_client.get();
        self.next_client.set(id + 1);
        TestClerk {
            sys: self.clone(),
            clerk: Clerk::new(ctrl.ends(NodeId::TESTER), make_end(NodeId::TESTER)),
            id,
        }
    }

    /// Server names of group `gi` (an index into [`GIDS`]).
    pub fn names(&self, gi: usize) -> Vec<String> {
        (0..N).map(|i| server_name(GIDS[gi], i)).collect()
    }

    /// Joins groups `gis` (indices into [`GIDS`]) in one Join.
    pub async fn joinm(&self, gis: &[usize]) {
        let groups = gis.iter().map(|&gi| (GIDS[gi], self.names(gi))).collect();
        let c = self.mck.join(groups).await;
        let gids: Vec<Gid> = gis.iter().map(|&gi| GIDS[gi]).collect();
        self.history.note(
            "config",
            format!("config {}: join {gids:?} -> {:?}", c.num, c.shards),
        );
    }

    /// Joins group `gi`.
    pub async fn join(&self, gi: usize) {
        self.joinm(&[gi]).await;
    }

    /// Removes groups `gis` in one Leave.
    pub async fn leavem(&self, gis: &[usize]) {
        let gids: Vec<Gid> = gis.iter().map(|&gi| GIDS[gi]).collect();
        let c = self.mck.leave(&gids).await;
        self.history.note(
            "config",
            format!("config {}: leave {gids:?} -> {:?}", c.num, c.shards),
        );
    }

    /// Removes group `gi`.
    pub async fn leave(&self, gi: usize) {
        self.leavem(&[gi]).await;
    }

    /// The nodes of group `gi`'s servers (for hooks and holds of
    /// `labrpc::network()`).
    pub fn nodes(&self, gi: usize) -> Vec<NodeId> {
        self.groups.borrow()[gi].nodes.clone()
    }

    /// Records in the trace what each running server's Raft says of
    /// itself (`state()`), for the page of a failing run (`lab replay
    /// --html`); only changes are recorded.
    pub fn observe_servers(&self) {
        for g in self.groups.borrow().iter() {
            for (i, s) in g.servers.iter().enumerate() {
                let Some(s) = s else { continue };
                let (term, leader) = node::enter(g.nodes[i], || s.raft().state());
                labrpc::trace::observe(
                    g.nodes[i],
                    [("term", term.into()), ("leader", leader.into())],
                );
            }
        }
    }

    /// A server of group `gi` that believes it leads (the one in the
    /// highest term).
    pub fn leader(&self, gi: usize) -> Option<usize> {
        let groups = self.groups.borrow();
        let g = &groups[gi];
        (0..N)
            .filter_map(|i| {
                let s = g.servers[i].as_ref()?;
                let (term, leader) = node::enter(g.nodes[i], || s.raft().state());
                leader.then_some((term, i))
            })
            .max()
            .map(|(_, i)| i)
    }

    /// The size of the persisted Raft state of server `i` of group `gi`:
    /// it grows as the server's Raft appends entries.
    pub fn state_size(&self, gi: usize, i: usize) -> usize {
        node::persister(self.groups.borrow()[gi].nodes[i]).state_size()
    }

    /// Crashes server `i` of group `gi`.
    pub fn shutdown_server(&self, gi: usize, i: usize) {
        let mut groups = self.groups.borrow_mut();
        let g = &mut groups[gi];
        if g.servers[i].take().is_some() {
            node::crash(g.nodes[i]);
            self.history
                .note("servers", format!("{} crashed", server_name(g.gid, i)));
        }
    }

    /// (Re)starts server `i` of group `gi` from its persister.
    pub fn start_server(&self, gi: usize, i: usize) {
        self.shutdown_server(gi, i);
        let net = network();
        let mut groups = self.groups.borrow_mut();
        let g = &mut groups[gi];
        let gid = g.gid;
        let node_i = g.nodes[i];
        node::restart(node_i);
        let peers: Vec<raft_rpc::Client> = (0..N)
            .map(|j| raft_rpc::Client::new(net.end_to(node_i, &server_name(gid, j))))
            .collect();
        let ctrlers = self.ctrl.ends(node_i);
        let persister = node::persister(node_i);
        let maxraftstate = self.maxraftstate;
        let server = node::enter(node_i, || {
            ShardKv::start(
                peers,
                i,
                persister,
                maxraftstate,
                gid,
                ctrlers,
                make_end(node_i),
            )
        });
        net.add_server(server_name(gid, i), node_i, server.server());
        g.servers[i] = Some(server);
    }

    /// Crashes every server of group `gi`.
    pub fn shutdown_group(&self, gi: usize) {
        for i in 0..N {
            self.shutdown_server(gi, i);
        }
    }

    /// Starts every server of group `gi`.
    pub fn start_group(&self, gi: usize) {
        for i in 0..N {
            self.start_server(gi, i);
        }
    }

    fn persisters(&self) -> Vec<(String, labrpc::Persister)> {
        let groups = self.groups.borrow();
        groups
            .iter()
            .flat_map(|g| {
                g.nodes
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| (server_name(g.gid, i), node::persister(n)))
            })
            .collect()
    }

    /// Every server's log is trimmed (at most 8 x maxraftstate), or, without
    /// snapshots, no server has one.
    pub fn check_logs(&self) {
        for (name, p) in self.persisters() {
            match self.maxraftstate {
                Some(max) => {
                    let sz = p.state_size();
                    assert!(
                        sz <= 8 * max,
                        "{name}: Raft state {sz} bytes > 8 * maxraftstate {max}: logs were not trimmed"
                    );
                }
                None => assert_eq!(
                    p.snapshot_size(),
                    0,
                    "{name}: has a snapshot, but maxraftstate is -1"
                ),
            }
        }
    }

    /// The sum of every group server's Raft state and snapshot.
    pub fn total_size(&self) -> usize {
        self.persisters()
            .iter()
            .map(|(_, p)| p.state_size() + p.snapshot_size())
            .sum()
    }

    /// The shards group `gi` owns in the latest configuration.
    pub async fn owned(&self, gi: usize) -> Vec<usize> {
        let c = self.mck.query(None).await;
        (0..NSHARDS).filter(|&s| c.shards[s] == GIDS[gi]).collect()
    }
}

/// A random string of `n` letters.
pub fn randstring(n: usize) -> String {
    (0..n)
        .map(|_| (b'a' + labrpc::rand::gen_range(0..26u8)) as char)
        .collect()
}

/// Sleeps `ms` virtual milliseconds.
pub async fn sleep_ms(ms: u64) {
    sleep(Duration::from_millis(ms)).await;
}
