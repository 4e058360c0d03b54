//! The kvraft grader's harness: 6.824's kvraft `config.go` on the
//! simulator, plus a linearizability check of every history.
//!
//! Server `i` runs on its own node `kv-i` and serves both the KV and the
//! Raft service as labrpc server `kv-i`. Clerks run on the tester node;
//! each has its own ends to every server, which the tester enables and
//! disables (6.824's client partitions), while server partitions cut the
//! links between server nodes. Long delays are off: clerks must be able to
//! try servers in quick succession.
//!
//! Every clerk operation is recorded with its virtual call and return
//! times in a `labtest::KvHistory` (the recorder every KV grader shares);
//! [`Config::check_linearizable`] checks the whole history with the
//! workspace's linearizability checker (KV model, partitioned by key) and,
//! on a violation, writes the HTML view annotated with the partitions and
//! crashes of the run and prints its path.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use kvraft::{Clerk, KvServer};
use labrpc::time::{Instant, sleep};
use labrpc::{NodeId, network, node};
use labtest::{KvHistory, Stats};
use linearizability::{Annotation, KvInput, KvOutput};
use raft::rpc::raft as raft_rpc;

/// The tester's generous idea of an election period.
pub const ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);

fn server_name(i: usize) -> String {
    format!("kv-{i}")
}

/// A group of KV servers under test, and the clerks talking to it.
pub struct Config {
    n: usize,
    nodes: Vec<NodeId>,
    maxraftstate: Option<usize>,
    servers: RefCell<Vec<Option<KvServer>>>,
    history: KvHistory,
    /// The current partition, as (start time, description).
    partition: RefCell<Option<(u64, String)>>,
    next_client: Cell<u64>,
    next_end: Cell<u64>,
    ops: Cell<u64>,
    // For the stats line of `end`.
    stats: RefCell<Option<Stats>>,
    ops0: Cell<u64>,
}

/// A clerk under test: every operation goes into the history.
pub struct TestClerk {
    cfg: Rc<Config>,
    clerk: Clerk,
    /// Client id in the history.
    id: u64,
    /// This clerk's end to each server, by server index.
    ends: Vec<String>,
}

fn now() -> u64 {
    Instant::now().as_nanos()
}

impl TestClerk {
    /// Gets `key`, recording the operation.
    pub async fn get(&self, key: &str) -> String {
        let op = self.cfg.history.call(self.id, KvInput::get(key));
        let v = self.clerk.get(key).await;
        self.cfg.history.finish(op, KvOutput::value(v.clone()));
        self.cfg.ops.set(self.cfg.ops.get() + 1);
        self.cfg.observe_servers();
        v
    }

    /// Puts `key`, recording the operation.
    pub async fn put(&self, key: &str, value: &str) {
        let op = self.cfg.history.call(self.id, KvInput::put(key, value));
        self.clerk.put(key, value).await;
        self.cfg.history.finish(op, KvOutput::Done);
        self.cfg.ops.set(self.cfg.ops.get() + 1);
        self.cfg.observe_servers();
    }

    /// Appends to `key`, recording the operation.
    pub async fn append(&self, key: &str, value: &str) {
        let op = self.cfg.history.call(self.id, KvInput::append(key, value));
        self.clerk.append(key, value).await;
        self.cfg.history.finish(op, KvOutput::Done);
        self.cfg.ops.set(self.cfg.ops.get() + 1);
        self.cfg.observe_servers();
    }

    /// Gets `key` and checks the value.
    pub async fn check(&self, key: &str, want: &str) {
        let v = self.get(key).await;
        assert_eq!(v, want, "Get({key:?}): expected {want:?}, got {v:?}");
    }

    /// Lets this clerk reach exactly the servers in `to`.
    pub fn connect_to(&self, to: &[usize]) {
        let net = network();
        for (j, end) in self.ends.iter().enumerate() {
            net.enable(end, to.contains(&j));
        }
    }
}

/// How a test's servers are set up: the arguments of 6.824's
/// `make_config(t, n, unreliable, maxraftstate)`, named. The default is a
/// reliable network and no snapshots:
///
/// ```text
/// Config::new(5)                                                      reliable, no snapshots
/// Config::with(3, Options { unreliable: true, ..Options::default() })
/// Config::with(3, Options { maxraftstate: Some(1000), ..Options::default() })   4B
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Messages are lost and delayed now and then.
    pub unreliable: bool,
    /// Snapshot when the Raft state reaches this many bytes (`None`: never).
    pub maxraftstate: Option<usize>,
}

impl Config {
    /// `n` servers, all started and connected, on a reliable network,
    /// without snapshots: `Config::with(n, Options::default())`.
    pub fn new(n: usize) -> Rc<Config> {
        Config::with(n, Options::default())
    }

    /// `n` servers, all started and connected; reliable unless
    /// `options.unreliable`; snapshots when the Raft state reaches
    /// `options.maxraftstate`.
    pub fn with(n: usize, options: Options) -> Rc<Config> {
        let net = network();
        net.set_reliable(!options.unreliable);
        let nodes = (0..n).map(|i| node::create(server_name(i))).collect();
        let cfg = Rc::new(Config {
            n,
            nodes,
            maxraftstate: options.maxraftstate,
            servers: RefCell::new(vec![None; n]),
            history: KvHistory::new(),
            partition: RefCell::new(None),
            next_client: Cell::new(0),
            next_end: Cell::new(0),
            ops: Cell::new(0),
            stats: RefCell::new(None),
            ops0: Cell::new(0),
        });
        for i in 0..n {
            cfg.start_server(i);
        }
        cfg.connect_all();
        cfg
    }

    /// Number of servers.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Every server index.
    pub fn all(&self) -> Vec<usize> {
        (0..self.n).collect()
    }

    /// Starts the stats of one test (or sub-test).
    pub fn begin(&self, description: &str) {
        *self.stats.borrow_mut() = Some(Stats::begin(description, self.n));
        self.ops0.set(self.ops.get());
    }

    /// Prints the test's header with 6.824's stats line (virtual seconds,
    /// peers, RPCs, bytes, clerk operations) and the `labstats` line.
    pub fn end(&self) {
        let ops = self.ops.get() - self.ops0.get();
        let stats = self.stats.borrow();
        stats.as_ref().expect("begin() before end()").end(ops);
    }

    /// Checks the whole history so far for linearizability, on the
    /// checker's fast path: it stops at the first key proven not
    /// linearizable (cheap refutations of stale reads and lost writes
    /// first), so a wrong server is caught well within the budget even
    /// when several keys are wrong. On a violation, writes the HTML view
    /// (partitions and crashes marked) and fails with its path.
    pub fn check_linearizable(&self) {
        let open: Vec<Annotation> = self
            .partition
            .borrow()
            .iter()
            .map(|(start, text)| Annotation::interval(*start, now(), text.clone()).tag("network"))
            .collect();
        self.history.check_with("kvraft", &open);
    }

    /// A clerk with ends to every server, enabled toward those in `to`.
    pub fn make_client(self: &Rc<Self>, to: &[usize]) -> TestClerk {
        let net = network();
        let id = self.next_client.get();
        self.next_client.set(id + 1);
        let mut ends = Vec::new();
        let mut handles = Vec::new();
        for j in 0..self.n {
            let k = self.next_end.get();
            self.next_end.set(k + 1);
            let name = format!("clerk{id}->kv-{j}#{k}");
            handles.push(net.make_end(name.clone(), NodeId::TESTER));
            net.connect(&name, &server_name(j));
            ends.push(name);
        }
        // The clerk gets its ends in a random order, as in 6.824.
        let mut order: Vec<usize> = (0..self.n).collect();
        labrpc::rand::shuffle(&mut order);
        let clerk_ends = order.iter().map(|&j| handles[j].clone()).collect();
        let ck = TestClerk {
            cfg: self.clone(),
            clerk: Clerk::new(clerk_ends),
            id,
            ends,
        };
        ck.connect_to(to);
        ck
    }

    /// Splits the servers into `p1` and `p2` (each side fully connected,
    /// cut from the other). Clerks' ends are not changed.
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        let g1: Vec<NodeId> = p1.iter().map(|&i| self.nodes[i]).collect();
        let g2: Vec<NodeId> = p2.iter().map(|&i| self.nodes[i]).collect();
        network().partition(&[&g1, &g2]);
        self.note_partition(Some(format!("partition {p1:?} | {p2:?}")));
    }

    /// Connects every server to every other.
    pub fn connect_all(&self) {
        let g: Vec<NodeId> = self.nodes.clone();
        network().partition(&[&g]);
        self.note_partition(None);
    }

    fn note_partition(&self, now_text: Option<String>) {
        let t = now();
        let mut p = self.partition.borrow_mut();
        if let Some((start, text)) = p.take() {
            self.history.interval("network", start, t, text);
        }
        *p = now_text.map(|text| (t, text));
    }

    /// A majority and a minority of the servers, the current leader (if
    /// any) in the minority.
    pub fn make_partition(&self) -> (Vec<usize>, Vec<usize>) {
        let leader = self.leader().unwrap_or(0);
        let mut p1 = Vec::new();
        let mut p2 = vec![leader];
        let mut j = 0;
        for i in 0..self.n {
            if i == leader {
                continue;
            }
            if j < self.n / 2 + 1 {
                p1.push(i);
            } else {
                p2.push(i);
            }
            j += 1;
        }
        (p1, p2)
    }

    /// Records in the trace what each running server's Raft says of
    /// itself (`state()`), for the page of a failing run (`lab replay
    /// --html`); only changes are recorded.
    pub fn observe_servers(&self) {
        let servers = self.servers.borrow();
        for (i, s) in servers.iter().enumerate() {
            let Some(s) = s else { continue };
            let (term, leader) = node::enter(self.nodes[i], || s.raft().state());
            labrpc::trace::observe(
                self.nodes[i],
                [("term", term.into()), ("leader", leader.into())],
            );
        }
    }

    /// A server that believes it leads (the one in the highest term).
    pub fn leader(&self) -> Option<usize> {
        self.observe_servers();
        let servers = self.servers.borrow();
        (0..self.n)
            .filter_map(|i| {
                let s = servers[i].as_ref()?;
                let (term, leader) = node::enter(self.nodes[i], || s.raft().state());
                leader.then_some((term, i))
            })
            .max()
            .map(|(_, i)| i)
    }

    /// Crashes server `i` and cuts it off from the other servers.
    pub fn shutdown_server(&self, i: usize) {
        let net = network();
        let others: Vec<NodeId> = (0..self.n)
            .filter(|&j| j != i)
            .map(|j| self.nodes[j])
            .collect();
        net.isolate(self.nodes[i], &others);
        node::crash(self.nodes[i]);
        self.servers.borrow_mut()[i] = None;
        self.history.note("servers", format!("server {i} crashed"));
    }

    /// Restarts server `i` from its persister; it stays cut off from the
    /// other servers until the next [`Config::connect_all`] or partition.
    pub fn start_server(&self, i: usize) {
        let net = network();
        let node_i = self.nodes[i];
        if node::is_alive(node_i) && self.servers.borrow()[i].is_some() {
            self.shutdown_server(i);
        }
        node::restart(node_i);
        let peers: Vec<raft_rpc::Client> = (0..self.n)
            .map(|j| raft_rpc::Client::new(net.end_to(node_i, &server_name(j))))
            .collect();
        let persister = node::persister(node_i);
        let server = node::enter(node_i, || {
            KvServer::start(peers, i, persister, self.maxraftstate)
        });
        net.add_server(server_name(i), node_i, server.server());
        self.servers.borrow_mut()[i] = Some(server);
        if self.stats.borrow().is_some() || self.ops.get() > 0 {
            self.history
                .note("servers", format!("server {i} restarted"));
        }
    }

    /// Server `i`'s node (for holds and links of `labrpc::network()`).
    pub fn node(&self, i: usize) -> NodeId {
        self.nodes[i]
    }

    /// The size of server `i`'s persisted Raft state: it grows when the
    /// server's Raft appends an entry to its log.
    pub fn raft_state_size(&self, i: usize) -> usize {
        node::persister(self.nodes[i]).state_size()
    }

    /// The largest persisted Raft state.
    pub fn log_size(&self) -> usize {
        self.nodes
            .iter()
            .map(|&n| node::persister(n).state_size())
            .max()
            .unwrap_or(0)
    }

    /// The largest snapshot.
    pub fn snapshot_size(&self) -> usize {
        self.nodes
            .iter()
            .map(|&n| node::persister(n).snapshot_size())
            .max()
            .unwrap_or(0)
    }

    /// The server log must be trimmed (or, without snapshots, no snapshot
    /// may exist).
    pub fn check_sizes(&self) {
        match self.maxraftstate {
            Some(max) => {
                let sz = self.log_size();
                assert!(sz <= 8 * max, "logs were not trimmed ({sz} > 8*{max})");
            }
            None => {
                let ssz = self.snapshot_size();
                assert_eq!(
                    ssz, 0,
                    "snapshot too large ({ssz}), should not be used when maxraftstate = -1"
                );
            }
        }
    }
}

/// Checks that `value` holds `x clnt j y` for j in 0..count, each exactly
/// once and in order.
pub fn check_clnt_appends(clnt: usize, value: &str, count: usize) {
    let mut last: Option<usize> = None;
    for j in 0..count {
        let wanted = format!("x {clnt} {j} y");
        let off = value.find(&wanted).unwrap_or_else(|| {
            panic!("{clnt} missing element {wanted:?} in Append result {value:?}")
        });
        let off1 = value.rfind(&wanted).unwrap();
        assert_eq!(off1, off, "duplicate element {wanted:?} in Append result");
        if let Some(l) = last {
            assert!(
                off > l,
                "wrong order for element {wanted:?} in Append result"
            );
        }
        last = Some(off);
    }
}

/// Checks that `value` holds each client's appends exactly once, in order.
pub fn check_concurrent_appends(value: &str, counts: &[usize]) {
    for (clnt, &count) in counts.iter().enumerate() {
        check_clnt_appends(clnt, value, count);
    }
}

/// The parameters of 6.824's GenericTest.
#[derive(Clone, Copy)]
pub struct Generic {
    /// "4A" or "4B".
    pub part: &'static str,
    pub nclients: usize,
    pub nservers: usize,
    pub unreliable: bool,
    pub crash: bool,
    pub partitions: bool,
    pub maxraftstate: Option<usize>,
    pub randomkeys: bool,
}

impl Generic {
    fn title(&self) -> String {
        let mut t = String::from("Test: ");
        if self.unreliable {
            t += "unreliable net, ";
        }
        if self.crash {
            t += "restarts, ";
        }
        if self.partitions {
            t += "partitions, ";
        }
        if self.maxraftstate.is_some() {
            t += "snapshots, ";
        }
        if self.randomkeys {
            t += "random keys, ";
        }
        t += if self.nclients > 1 {
            "many clients"
        } else {
            "one client"
        };
        format!("{t} ({})", self.part)
    }
}

/// One clerk's workload for 6.824's GenericTest; returns how many appends
/// it made. Own key: Put "" first, then Append `x c j y` or Get (checking
/// the exact value) with equal odds. Random keys: Append, Put or Get on a
/// random client's key, judged only by the linearizability check.
async fn generic_client(cfg: Rc<Config>, cli: usize, g: Generic, done: Rc<Cell<bool>>) -> usize {
    let ck = cfg.make_client(&cfg.all());
    let mut j = 0;
    let mut last = String::new();
    let mut key = cli.to_string();
    if !g.randomkeys {
        ck.put(&key, &last).await;
    }
    while !done.get() {
        if g.randomkeys {
            key = labrpc::rand::gen_range(0..g.nclients).to_string();
        }
        let nv = format!("x {cli} {j} y");
        if labrpc::rand::gen_bool(0.5) {
            ck.append(&key, &nv).await;
            if !g.randomkeys {
                last.push_str(&nv);
            }
            j += 1;
        } else if g.randomkeys && labrpc::rand::gen_bool(0.1) {
            ck.put(&key, &nv).await;
        } else {
            let v = ck.get(&key).await;
            if !g.randomkeys {
                assert_eq!(
                    v, last,
                    "get wrong value, key {key:?}, wanted {last:?}, got {v:?}"
                );
            }
        }
    }
    j
}

/// Every second or so, assigns each server to one of two sides at random.
async fn partitioner(cfg: Rc<Config>, done: Rc<Cell<bool>>) {
    while !done.get() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        for i in 0..cfg.n() {
            if labrpc::rand::gen_bool(0.5) {
                a.push(i);
            } else {
                b.push(i);
            }
        }
        cfg.partition(&a, &b);
        sleep(ELECTION_TIMEOUT + Duration::from_millis(labrpc::rand::gen_range(0..200))).await;
    }
}

/// 6.824's GenericTest: three rounds of 5 s of clients (with the faults
/// `g` asks for), then per-client checks, log-size checks, and a
/// linearizability check of the whole history.
pub async fn generic_test(g: Generic) {
    let cfg = Config::with(
        g.nservers,
        Options {
            unreliable: g.unreliable,
            maxraftstate: g.maxraftstate,
        },
    );
    cfg.begin(&g.title());
    let ck = cfg.make_client(&cfg.all());
    for _round in 0..3 {
        let done_clients = Rc::new(Cell::new(false));
        let done_partitioner = Rc::new(Cell::new(false));
        let clients: Vec<_> = (0..g.nclients)
            .map(|cli| {
                labrpc::task::spawn(generic_client(cfg.clone(), cli, g, done_clients.clone()))
            })
            .collect();
        let partitions = g.partitions.then(|| {
            let cfg = cfg.clone();
            let done = done_partitioner.clone();
            labrpc::task::spawn(async move {
                // Let the clients make some progress first.
                sleep(Duration::from_secs(1)).await;
                partitioner(cfg, done).await;
            })
        });
        sleep(Duration::from_secs(5)).await;
        done_clients.set(true);
        done_partitioner.set(true);
        if let Some(p) = partitions {
            p.await.unwrap();
            cfg.connect_all();
            // Wait for a while so that we have a new term.
            sleep(ELECTION_TIMEOUT).await;
        }
        if g.crash {
            for i in 0..g.nservers {
                cfg.shutdown_server(i);
            }
            // Wait for a while so that servers really are gone.
            sleep(ELECTION_TIMEOUT).await;
            for i in 0..g.nservers {
                cfg.start_server(i);
            }
            cfg.connect_all();
        }
        for (cli, c) in clients.into_iter().enumerate() {
            let j = c.await.unwrap();
            let v = ck.get(&cli.to_string()).await;
            if !g.randomkeys {
                check_clnt_appends(cli, &v, j);
            }
        }
        cfg.check_sizes();
    }
    cfg.check_linearizable();
    cfg.end();
}

/// 6.824's GenericTestSpeed: 1000 sequential appends must each take at
/// most 10 virtual ms (6.824 allows 33 ms: three per 100 ms heartbeat):
/// the leader must commit on `start`, not on the next heartbeat.
pub async fn generic_test_speed(part: &str, maxraftstate: Option<usize>) {
    const NUM_OPS: u32 = 1000;
    const MAX_PER_OP: Duration = Duration::from_millis(10);
    let cfg = Config::with(
        3,
        Options {
            maxraftstate,
            ..Options::default()
        },
    );
    cfg.begin(&format!("Test: ops complete fast enough ({part})"));
    let ck = cfg.make_client(&cfg.all());
    // Wait until the first op completes, so a leader is elected.
    ck.get("x").await;
    let start = Instant::now();
    for i in 0..NUM_OPS {
        ck.append("x", &format!("x 0 {i} y")).await;
    }
    let dur = start.elapsed();
    let v = ck.get("x").await;
    check_clnt_appends(0, &v, NUM_OPS as usize);
    let per_op = dur / NUM_OPS;
    println!("  {:.2} virtual ms per op", per_op.as_secs_f64() * 1000.0);
    assert!(
        per_op <= MAX_PER_OP,
        "operations completed too slowly: {per_op:?} per op, want at most {MAX_PER_OP:?}"
    );
    cfg.check_linearizable();
    cfg.end();
}
