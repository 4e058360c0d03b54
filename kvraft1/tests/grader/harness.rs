// The kvraft1 grader's harness: 6.5840's `kvraft1/test.go` and the
// `kvtest1` helpers (OnePut, SpawnClientsAndWait, CheckPutConcurrent,
// PutAtLeastOnce, CheckGet, the Partitioner) on the simulator.
//
// Server `i` runs on its own node `kv-i` and serves both the KV and the
// Raft service as labrpc server `kv-i`. Clerks run on the tester node;
// each has its own ends to every server, which the tester enables and
// disables (the course's MakeClerkTo), while server partitions cut the
// links between server nodes.
//
// Every clerk operation is recorded with its virtual call and return
// times; `Config::check_linearizable` checks the whole history with the
// versioned KV model (partitioned by key) and, on a violation, writes the
// HTML view annotated with the partitions and crashes of the run.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use kvraft1::{Clerk, KvError, KvServer, Version};
use labrpc::time::{Instant, sleep, timeout};
use labrpc::{NodeId, network, node, task};
use labtest::{Stats, VersionedKvHistory};
use linearizability::{Annotation, VersionedKvInput as Input, VersionedKvOutput as Output};
use raft::rpc::raft as raft_rpc;

/// The tester's generous idea of an election period.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);
/// How long clients may take to notice they should stop, once told.
pub const STOP_GRACE: Duration = Duration::from_secs(20);

fn server_name(i: usize) -> String {
    format!("kv-{i}")
}

fn now() -> u64 {
    Instant::now().as_nanos()
}

/// "(reliable network)" or "(unreliable network)".
pub fn net_name(reliable: bool) -> &'static str {
    if reliable {
        "(reliable network)"
    } else {
        "(unreliable network)"
    }
}

/// How a test's servers are set up (the course's MakeTest flags that
/// concern the servers).
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub reliable: bool,
    /// Snapshot when the Raft state reaches this many bytes (`None`: never).
    pub maxraftstate: Option<usize>,
}

/// A group of KV servers under test, and the clerks talking to it.
pub struct Config {
    n: usize,
    nodes: Vec<NodeId>,
    maxraftstate: Option<usize>,
    servers: RefCell<Vec<Option<KvServer>>>,
    history: VersionedKvHistory,
    /// The current partition, as (start time, description).
    partition: RefCell<Option<(u64, String)>>,
    next_client: Cell<u64>,
    next_end: Cell<u64>,
    ops: Cell<u64>,
    stats: RefCell<Option<Stats>>,
    ops0: Cell<u64>,
}

/// A clerk under test: every operation is counted and recorded.
pub struct TestClerk {
    cfg: Rc<Config>,
    clerk: Clerk,
    /// Client id in the history.
    id: u64,
    /// This clerk's end to each server, by server index.
    ends: Vec<String>,
}

impl TestClerk {
    /// A recorded Get. Fails the test if the clerk returns anything but a
    /// value or `NoKey`.
    pub async fn get(&self, key: &str) -> Result<(String, Version), KvError> {
        let op = self.cfg.history.call(self.id, Input::get(key));
        let r = self.clerk.get(key).await;
        let out = match &r {
            Ok((v, ver)) => Output::value(v.clone(), *ver),
            Err(KvError::NoKey) => Output::ErrNoKey,
            Err(e) => panic!("Get({key:?}) returned {e}: a Get returns a value or ErrNoKey"),
        };
        self.cfg.history.finish(op, out);
        self.cfg.ops.set(self.cfg.ops.get() + 1);
        r
    }

    /// A recorded Put. Fails the test if the clerk returns `WrongLeader`.
    pub async fn put(&self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        let op = self
            .cfg
            .history
            .call(self.id, Input::put(key, value, version));
        let r = self.clerk.put(key, value, version).await;
        let out = match r {
            Ok(()) => Output::Done,
            Err(KvError::NoKey) => Output::ErrNoKey,
            Err(KvError::Version) => Output::ErrVersion,
            Err(KvError::Maybe) => Output::ErrMaybe,
            Err(KvError::WrongLeader) => {
                panic!(
                    "Put({key:?}, {value:?}, {version}) returned ErrWrongLeader: a clerk retries"
                )
            }
        };
        self.cfg.history.finish(op, out);
        self.cfg.ops.set(self.cfg.ops.get() + 1);
        r
    }

    /// 6.5840's CheckGet: a Get must return exactly `(value, version)`.
    pub async fn check_get(&self, key: &str, value: &str, version: Version) {
        let got = self.get(key).await;
        let want = Ok((value.to_string(), version));
        assert_eq!(got, want, "Get({key:?}): expected {want:?}, got {got:?}");
    }

    /// Lets this clerk reach exactly the servers in `to`.
    pub fn connect_to(&self, to: &[usize]) {
        let net = network();
        for (j, end) in self.ends.iter().enumerate() {
            net.enable(end, to.contains(&j));
        }
    }
}

impl Config {
    /// `n` servers, all started and connected.
    pub fn with(n: usize, options: Options) -> Rc<Config> {
        network().set_reliable(options.reliable);
        let nodes = (0..n).map(|i| node::create(server_name(i))).collect();
        let cfg = Rc::new(Config {
            n,
            nodes,
            maxraftstate: options.maxraftstate,
            servers: RefCell::new(vec![None; n]),
            history: VersionedKvHistory::new(),
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

    /// Starts the stats of one test (or phase).
    pub fn begin(&self, description: &str) {
        *self.stats.borrow_mut() = Some(Stats::begin(description, self.n));
        self.ops0.set(self.ops.get());
    }

    /// Prints the stats line of the test (or phase).
    pub fn end(&self) {
        let ops = self.ops.get() - self.ops0.get();
        let stats = self.stats.borrow();
        stats.as_ref().expect("begin() before end()").end(ops);
    }

    /// Checks the whole history so far for linearizability.
    pub fn check_linearizable(&self) {
        let open: Vec<Annotation> = self
            .partition
            .borrow()
            .iter()
            .map(|(start, text)| Annotation::interval(*start, now(), text.clone()).tag("network"))
            .collect();
        self.history.check_with("kvraft1", &open);
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
        // The clerk gets its ends in a random order.
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

    /// Splits the servers into `p1` and `p2`. Clerks' ends are unchanged.
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

    /// 6.5840's MakePartition(l): a majority without `l`, and a minority
    /// with `l`.
    pub fn make_partition(&self, l: usize) -> (Vec<usize>, Vec<usize>) {
        let others: Vec<usize> = (0..self.n).filter(|&i| i != l).collect();
        let (p1, rest) = others.split_at(self.n / 2 + 1);
        let mut p2 = vec![l];
        p2.extend_from_slice(rest);
        (p1.to_vec(), p2)
    }

    /// A server that believes it leads (the one in the highest term).
    pub fn leader(&self) -> Option<usize> {
        let servers = self.servers.borrow();
        (0..self.n)
            .filter_map(|i| {
                let s = servers[i].as_ref()?;
                let (term, leader) = s.raft().state();
                leader.then_some((term, i))
            })
            .max()
            .map(|(_, i)| i)
    }

    /// Crashes server `i` and cuts it off from the other servers.
    pub fn shutdown_server(&self, i: usize) {
        let others: Vec<NodeId> = (0..self.n)
            .filter(|&j| j != i)
            .map(|j| self.nodes[j])
            .collect();
        network().isolate(self.nodes[i], &others);
        node::crash(self.nodes[i]);
        self.servers.borrow_mut()[i] = None;
        self.history.note("servers", format!("server {i} crashed"));
    }

    /// Restarts server `i` from its persister; it stays cut off from the
    /// other servers until the next `connect_all` or partition.
    pub fn start_server(&self, i: usize) {
        let net = network();
        let node_i = self.nodes[i];
        if self.servers.borrow()[i].is_some() {
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
        if self.ops.get() > 0 {
            self.history
                .note("servers", format!("server {i} restarted"));
        }
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

    /// With snapshots, the Raft state is within 8 × maxraftstate; without,
    /// there is no snapshot at all.
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
                    "snapshot of {ssz} bytes, but there should be none without maxraftstate"
                );
            }
        }
    }
}

/// What one client of `spawn_clients_and_wait` did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientResult {
    /// Puts that returned `Ok`.
    pub ok: u64,
    /// Puts that returned `Maybe`.
    pub maybe: u64,
}

/// 6.5840's SpawnClientsAndWait: runs `n` clients, each with its own
/// clerk to every server, for `duration`; then tells them to stop and
/// waits (at most `STOP_GRACE`) for each to finish its operation.
pub async fn spawn_clients_and_wait<F, Fut>(
    cfg: &Rc<Config>,
    n: usize,
    duration: Duration,
    f: F,
) -> Vec<ClientResult>
where
    F: Fn(usize, Rc<TestClerk>, Rc<Cell<bool>>) -> Fut,
    Fut: Future<Output = ClientResult> + 'static,
{
    let done = Rc::new(Cell::new(false));
    let handles: Vec<_> = (0..n)
        .map(|me| task::spawn(f(me, Rc::new(cfg.make_client(&cfg.all())), done.clone())))
        .collect();
    sleep(duration).await;
    done.set(true);
    let mut results = Vec::new();
    for (me, handle) in handles.into_iter().enumerate() {
        match timeout(STOP_GRACE, handle).await {
            Ok(r) => results.push(r.expect("client task")),
            Err(_) => panic!(
                "client {me} did not stop within {STOP_GRACE:?} after the test told it to: \
                 an operation never returned"
            ),
        }
    }
    results
}

/// 6.5840's OnePut: puts `"{me} {ver}"` at `ver`, reads the key back, and
/// repeats at the version read until the Put returns `Ok` or `Maybe`.
/// Returns the version last read and whether the Put was `Ok`.
pub async fn one_put(me: usize, ck: &TestClerk, key: &str, mut ver: Version) -> (Version, bool) {
    loop {
        let value = format!("{me} {ver}");
        let r = ck.put(key, &value, ver).await;
        if let Err(KvError::NoKey) = r {
            panic!("client {me}: Put({key:?}, {value:?}, {ver}) returned ErrNoKey");
        }
        let (stored, ver1) = ck.get(key).await.unwrap_or_else(|e| {
            panic!("client {me}: Get({key:?}) returned {e} after a Put, but the key exists")
        });
        if r.is_ok() && ver1 == ver + 1 {
            assert_eq!(
                stored,
                value,
                "client {me}: Put({key:?}, {value:?}, {ver}) returned OK and the key is at version {}, \
                 yet it holds another value: two Puts at version {ver} were applied",
                ver + 1
            );
        }
        ver = ver1;
        match r {
            Ok(()) => return (ver, true),
            Err(KvError::Maybe) => return (ver, false),
            _ => {}
        }
    }
}

/// Keys of the random-key workloads (the course's NKEYS).
pub const NKEYS: usize = 100;

/// 6.5840's OneClientPut: OnePut on "k" (or a random key among `k0` ..
/// `k99`, each with its own version) until told to stop.
pub async fn one_client_put(
    me: usize,
    ck: Rc<TestClerk>,
    randomkeys: bool,
    done: Rc<Cell<bool>>,
) -> ClientResult {
    let mut res = ClientResult::default();
    let mut vers = vec![0; NKEYS];
    while !done.get() {
        let (k, key) = if randomkeys {
            let k = labrpc::rand::gen_range(0..NKEYS);
            (k, format!("k{k}"))
        } else {
            (0, "k".to_string())
        };
        let (v, ok) = one_put(me, &ck, &key, vers[k]).await;
        vers[k] = v;
        if ok {
            res.ok += 1;
        } else {
            res.maybe += 1;
        }
    }
    res
}

/// 6.5840's CheckPutConcurrent: the key's version counts the applied Puts:
/// exactly the `Ok` ones when nothing went wrong; otherwise at most the
/// `Ok` plus `Maybe` ones (and at least the `Ok` ones).
pub async fn check_put_concurrent(
    ck: &TestClerk,
    key: &str,
    results: &[ClientResult],
    total: &mut ClientResult,
    reliable: bool,
) {
    for r in results {
        total.ok += r.ok;
        total.maybe += r.maybe;
    }
    let (_, ver) = ck
        .get(key)
        .await
        .unwrap_or_else(|e| panic!("Get({key:?}) returned {e} after the clients' Puts"));
    if reliable {
        assert_eq!(
            ver, total.ok,
            "the key's version is {ver} but the clerks reported {} successful Puts \
             (nothing failed: every Put applied is Ok, and only those)",
            total.ok
        );
    } else {
        assert!(
            total.ok <= ver && ver <= total.ok + total.maybe,
            "the key's version is {ver} but the clerks reported {} Ok and {} Maybe Puts: \
             it must be at least the Ok ones and at most Ok + Maybe",
            total.ok,
            total.maybe
        );
    }
}

/// 6.5840's PutAtLeastOnce: Put at `ver` until `Ok`, moving to the next
/// version after `Maybe` or `Version` (so it may write twice). The version
/// after the Put that returned `Ok`.
pub async fn put_at_least_once(
    ck: &TestClerk,
    key: &str,
    value: &str,
    mut ver: Version,
) -> Version {
    loop {
        match ck.put(key, value, ver).await {
            Ok(()) => return ver + 1,
            Err(KvError::Maybe | KvError::Version) => ver += 1,
            Err(KvError::NoKey) if ver == 0 => {}
            Err(e) => panic!("Put({key:?}, {value:?}, {ver}) returned {e}"),
        }
    }
}

/// Every second or so, puts each server on one of two sides at random.
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

/// The parameters of 6.5840's GenericTest.
#[derive(Clone, Copy)]
pub struct Generic {
    /// "4B" or "4C".
    pub part: &'static str,
    pub nclients: usize,
    pub nservers: usize,
    pub reliable: bool,
    pub crash: bool,
    pub partitions: bool,
    pub maxraftstate: Option<usize>,
    pub randomkeys: bool,
}

impl Generic {
    fn title(&self) -> String {
        let mut t = String::from("Test: ");
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
        format!("{t} ({}) {}", self.part, net_name(self.reliable))
    }
}

/// 6.5840's GenericTest: three iterations of 1 s of clients (with the
/// faults `g` asks for), each followed by the Put count check, a
/// linearizability check of the whole history so far, and the size
/// checks.
pub async fn generic_test(g: Generic) {
    let cfg = Config::with(
        g.nservers,
        Options {
            reliable: g.reliable,
            maxraftstate: g.maxraftstate,
        },
    );
    cfg.begin(&g.title());
    let ck = Rc::new(cfg.make_client(&cfg.all()));
    let total = Rc::new(RefCell::new(ClientResult::default()));
    for _ in 0..3 {
        let clients = {
            let (cfg, ck, total) = (cfg.clone(), ck.clone(), total.clone());
            task::spawn(async move {
                let rs = spawn_clients_and_wait(
                    &cfg,
                    g.nclients,
                    Duration::from_secs(1),
                    |me, ck, done| one_client_put(me, ck, g.randomkeys, done),
                )
                .await;
                if !g.randomkeys {
                    let reliable = g.reliable && !g.crash && !g.partitions;
                    let mut t = *total.borrow();
                    check_put_concurrent(&ck, "k", &rs, &mut t, reliable).await;
                    *total.borrow_mut() = t;
                }
            })
        };
        let done_partitioner = Rc::new(Cell::new(false));
        let partitions = g.partitions.then(|| {
            let (cfg, done) = (cfg.clone(), done_partitioner.clone());
            task::spawn(async move {
                sleep(Duration::from_secs(1)).await;
                partitioner(cfg, done).await;
            })
        });
        clients.await.expect("clients");
        cfg.check_linearizable();
        if let Some(p) = partitions {
            done_partitioner.set(true);
            p.await.expect("partitioner");
            cfg.connect_all();
            sleep(ELECTION_TIMEOUT).await;
        }
        if g.crash {
            for i in 0..g.nservers {
                cfg.shutdown_server(i);
            }
            sleep(ELECTION_TIMEOUT).await;
            for i in 0..g.nservers {
                cfg.start_server(i);
            }
            cfg.connect_all();
        }
        cfg.check_sizes();
    }
    cfg.end();
}

/// 6.5840's GenericTestSpeed: 1000 sequential Puts must take at most
/// 33.3 virtual ms each (three per 100 ms heartbeat): the leader must
/// replicate on `start`, not on the next heartbeat.
pub async fn generic_test_speed(part: &str, maxraftstate: Option<usize>) {
    const NUM_OPS: u64 = 1000;
    let max_per_op = Duration::from_millis(100) / 3;
    let cfg = Config::with(
        3,
        Options {
            reliable: true,
            maxraftstate,
        },
    );
    cfg.begin(&format!(
        "Test: ops complete fast enough ({part}) {}",
        net_name(true)
    ));
    let ck = cfg.make_client(&cfg.all());
    // Wait until the first op completes, so a leader is elected.
    let _ = ck.get("x").await;
    let start = Instant::now();
    for i in 0..NUM_OPS {
        let r = ck.put("k", "x", i).await;
        assert_eq!(r, Ok(()), "Put(\"k\", \"x\", {i}) returned {r:?}, not Ok");
    }
    let dur = start.elapsed();
    let (_, ver) = ck.get("k").await.expect("Get(\"k\") after 1000 Puts");
    assert_eq!(
        ver, NUM_OPS,
        "the key's version after {NUM_OPS} Puts is {ver}"
    );
    let per_op = dur / NUM_OPS as u32;
    println!("  {:.2} virtual ms per op", per_op.as_secs_f64() * 1000.0);
    assert!(
        per_op <= max_per_op,
        "operations completed too slowly: {per_op:?} per op, want at most {max_per_op:?}"
    );
    cfg.check_linearizable();
    cfg.end();
}
