// The shardkv1 grader's harness: 6.5840's `shardkv1/test.go` and the
// `kvtest1` helpers it uses (SpreadPuts, CheckGet, OnePut, the controller
// drivers partitionCtrler and concurCtrler) on the simulator.
//
// Nodes: the controller's key/value server `server-0-0`; each shard
// group's servers `server-<gid>-<i>`; and one node per client
// (`client-<n>`), from which all of that client's ends leave, so that
// cutting a client off (a controller "partitioned" mid-move) is isolating
// its node. Every client has its own controller instance and shardkv
// clerk, as in the course.
//
// Every clerk operation is recorded on virtual time; `System::check`
// checks the history with the versioned KV model (partitioned by key),
// and writes the annotated HTML view on a violation.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc;
use labrpc::time::{sleep, timeout};
use labrpc::{NodeId, network, node, task};
use labtest::{Stats, VersionedKvHistory};
use linearizability::{VersionedKvInput as Input, VersionedKvOutput as Output};
use raft::rpc::raft as raft_rpc;
use shardkv1::{
    Clerk, GID1, Gid, GrpClerk, KvError, MakeEnd, NSHARDS, ShardConfig, ShardCtrler,
    ShardGrpServer, Version, key2shard,
};

/// Servers per shard group.
pub const NSRV: usize = 3;
/// The pause after every join or leave of `join_groups`/`leave_groups`.
pub const INTER_GROUP_DELAY: Duration = Duration::from_millis(200);
/// Groups the many-group tests join.
pub const NGRP: u64 = 8;
/// Keys the tests write (5 per shard on average).
pub const NKEYS: usize = 5 * NSHARDS;
/// Value length of `spread_puts`.
pub const VALUE_LEN: usize = 20;
/// The kvsrv server holding the configurations.
pub const KVSRV: &str = "server-0-0";
/// How long clients may take to stop once told.
pub const STOP_GRACE: Duration = Duration::from_secs(30);

/// The labrpc name of server `i` of group `gid`.
pub fn server_name(gid: Gid, i: usize) -> String {
    format!("server-{gid}-{i}")
}

/// The names of group `gid`'s servers.
pub fn group_servers(gid: Gid) -> Vec<String> {
    (0..NSRV).map(|i| server_name(gid, i)).collect()
}

/// "(reliable network)" or "(unreliable network)".
pub fn net_name(reliable: bool) -> &'static str {
    if reliable {
        "(reliable network)"
    } else {
        "(unreliable network)"
    }
}

/// `n` random letters.
pub fn rand_value(n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'a' + labrpc::rand::gen_range(0..26u8)))
        .collect()
}

/// `k0` .. `k{n-1}`.
pub fn make_keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("k{i}")).collect()
}

/// The fewest shards a rebalance from `prev` to the groups of `next` can
/// move ([`labtest::shards::min_moves`]).
pub fn min_moves(prev: &ShardConfig, next: &ShardConfig) -> usize {
    let groups: Vec<Gid> = next.groups.keys().copied().collect();
    labtest::shards::min_moves(&prev.shards, &groups)
}

/// How many shards change group from `a` to `b`.
pub fn moved(a: &ShardConfig, b: &ShardConfig) -> usize {
    labtest::shards::moved(&a.shards, &b.shards)
}

/// The configuration must list exactly `groups`, put every shard on one
/// of them, and be balanced.
pub fn check_config(c: &ShardConfig, groups: &[Gid]) {
    let have: Vec<Gid> = c.groups.keys().copied().collect();
    let mut want = groups.to_vec();
    want.sort_unstable();
    assert_eq!(have, want, "configuration {}: wrong groups", c.num);
    if groups.is_empty() {
        return;
    }
    for (s, g) in c.shards.iter().enumerate() {
        assert!(
            c.groups.contains_key(g),
            "configuration {}: shard {s} is on gid {g}, which is not in it",
            c.num
        );
    }
    let counts = c.counts();
    let max = counts.values().max().copied().unwrap_or(0);
    let min = counts.values().min().copied().unwrap_or(0);
    assert!(
        max <= min + 1,
        "configuration {}: unbalanced {counts:?}",
        c.num
    );
}

/// One shard group's nodes and running servers.
struct Group {
    nodes: Vec<NodeId>,
    servers: Vec<Option<ShardGrpServer>>,
}

/// The system under test: the controller's kvsrv, the shard groups, the
/// clients, and the history of their operations.
pub struct System {
    maxraftstate: Option<usize>,
    kv_node: NodeId,
    groups: RefCell<BTreeMap<Gid, Group>>,
    /// Client nodes currently cut off from everything.
    isolated: RefCell<Vec<NodeId>>,
    history: VersionedKvHistory,
    next_client: Cell<u64>,
    next_gid: Cell<Gid>,
    ops: Cell<u64>,
    stats: RefCell<Option<Stats>>,
}

/// A client: its own node, controller and shardkv clerk. Every clerk
/// operation is counted and recorded.
pub struct Client {
    sys: Rc<System>,
    pub node: NodeId,
    pub ctrler: Rc<ShardCtrler>,
    pub clerk: Clerk,
    make_end: MakeEnd,
    id: u64,
}

impl Client {
    /// A recorded Get; it must return a value or `NoKey`.
    pub async fn get(&self, key: &str) -> Result<(String, Version), KvError> {
        let h = &self.sys.history;
        let op = h.call(self.id, Input::get(key));
        let r = self.clerk.get(key).await;
        let out = match &r {
            Ok((v, ver)) => Output::value(v.clone(), *ver),
            Err(KvError::NoKey) => Output::ErrNoKey,
            Err(e) => panic!(
                "Get({key:?}) (shard {}) returned {e}: a Get returns a value or ErrNoKey",
                key2shard(key)
            ),
        };
        h.finish(op, out);
        self.sys.ops.set(self.sys.ops.get() + 1);
        r
    }

    /// A recorded Put; it must not return `WrongLeader` or `WrongGroup`.
    pub async fn put(&self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        let h = &self.sys.history;
        let op = h.call(self.id, Input::put(key, value, version));
        let r = self.clerk.put(key, value, version).await;
        let out = match r {
            Ok(()) => Output::Done,
            Err(KvError::NoKey) => Output::ErrNoKey,
            Err(KvError::Version) => Output::ErrVersion,
            Err(KvError::Maybe) => Output::ErrMaybe,
            Err(e) => panic!(
                "Put({key:?}, {value:?}, {version}) (shard {}) returned {e}: the clerk retries",
                key2shard(key)
            ),
        };
        h.finish(op, out);
        self.sys.ops.set(self.sys.ops.get() + 1);
        r
    }

    /// 6.5840's CheckGet: a Get must return exactly `(value, version)`.
    pub async fn check_get(&self, key: &str, value: &str, version: Version) {
        let got = self.get(key).await;
        let want = Ok((value.to_string(), version));
        assert_eq!(
            got,
            want,
            "Get({key:?}) (shard {}): expected {want:?}, got {got:?}",
            key2shard(key)
        );
    }

    /// CheckGet of every key at version 1.
    pub async fn check_all(&self, keys: &[String], vals: &[String]) {
        for (k, v) in keys.iter().zip(vals) {
            self.check_get(k, v, 1).await;
        }
    }

    /// A clerk of group `gid` from this client's node.
    pub fn grp_clerk(&self, gid: Gid) -> GrpClerk {
        GrpClerk::new(&self.make_end, &group_servers(gid))
    }
}

/// Options of a test's system.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub reliable: bool,
    pub maxraftstate: Option<usize>,
}

impl Options {
    pub fn reliable() -> Options {
        Options {
            reliable: true,
            maxraftstate: None,
        }
    }

    pub fn unreliable() -> Options {
        Options {
            reliable: false,
            maxraftstate: None,
        }
    }
}

impl System {
    /// The kvsrv and no group yet (6.5840's MakeTestMaxRaft); prints the
    /// title through the stats.
    pub fn new(title: &str, options: Options) -> Rc<System> {
        let net = network();
        net.set_reliable(options.reliable);
        let kv_node = node::create(KVSRV);
        let server =
            labrpc::Server::new().add_service(kvsrv::kv::service(Rc::new(kvsrv::KvServer::new())));
        net.add_server(KVSRV, kv_node, server);
        let sys = Rc::new(System {
            maxraftstate: options.maxraftstate,
            kv_node,
            groups: RefCell::new(BTreeMap::new()),
            isolated: RefCell::new(Vec::new()),
            history: VersionedKvHistory::new(),
            next_client: Cell::new(0),
            next_gid: Cell::new(GID1 + 1),
            ops: Cell::new(0),
            stats: RefCell::new(None),
        });
        sys.begin(title);
        sys
    }

    /// 6.5840's setupKVService: the system with group 1 serving every
    /// shard in configuration 1, and the test's main client.
    pub async fn setup(title: &str, options: Options) -> (Rc<System>, Client) {
        let sys = System::new(title, options);
        let ck = sys.make_client();
        sys.start_group(GID1);
        let mut cfg = ShardConfig::initial();
        assert!(cfg.join_balance(&BTreeMap::from([(GID1, group_servers(GID1))])));
        ck.ctrler.init_config(cfg).await;
        (sys, ck)
    }

    /// Starts the stats of the test.
    pub fn begin(&self, title: &str) {
        *self.stats.borrow_mut() = Some(Stats::begin(title, 1));
    }

    /// Checks the history and prints the stats line.
    pub fn end(&self) {
        self.check();
        let stats = self.stats.borrow();
        stats.as_ref().expect("begin() first").end(self.ops.get());
    }

    /// Checks the history so far for linearizability.
    pub fn check(&self) {
        self.history.check("shardkv1");
    }

    /// Notes an event in the history's view.
    pub fn note(&self, text: String) {
        self.history.note("system", text);
    }

    /// A fresh gid, above every one used so far.
    pub fn new_gid(&self) -> Gid {
        let g = self.next_gid.get();
        self.next_gid.set(g + 1);
        g
    }

    /// Group `gid`'s nodes (made on first use).
    fn group_nodes(&self, gid: Gid) -> Vec<NodeId> {
        let mut groups = self.groups.borrow_mut();
        let g = groups.entry(gid).or_insert_with(|| {
            let nodes: Vec<NodeId> = (0..NSRV)
                .map(|i| node::create(server_name(gid, i)))
                .collect();
            for &c in self.isolated.borrow().iter() {
                network().isolate(c, &nodes);
            }
            Group {
                servers: vec![None; NSRV],
                nodes,
            }
        });
        g.nodes.clone()
    }

    /// Every server node (kvsrv and groups).
    fn server_nodes(&self) -> Vec<NodeId> {
        let mut v = vec![self.kv_node];
        for g in self.groups.borrow().values() {
            v.extend_from_slice(&g.nodes);
        }
        v
    }

    /// A new client with its own node, controller and clerk.
    pub fn make_client(self: &Rc<Self>) -> Client {
        let id = self.next_client.get();
        self.next_client.set(id + 1);
        let node = node::create(format!("client-{id}"));
        let make_end: MakeEnd = Rc::new(move |server: &str| network().end_to(node, server));
        let ctrler = Rc::new(ShardCtrler::new(make_end(KVSRV), make_end.clone()));
        let clerk = Clerk::new(ctrler.clone(), make_end.clone());
        Client {
            sys: self.clone(),
            node,
            ctrler,
            clerk,
            make_end,
            id,
        }
    }

    /// Cuts client `c` off from every server (and from groups started
    /// later), as if partitioned away.
    pub fn disconnect(&self, c: &Client) {
        network().isolate(c.node, &self.server_nodes());
        self.isolated.borrow_mut().push(c.node);
        self.note(format!("client {} disconnected", c.id));
    }

    /// Reconnects client `c`.
    pub fn reconnect(&self, c: &Client) {
        network().reconnect(c.node, &self.server_nodes());
        self.isolated.borrow_mut().retain(|&n| n != c.node);
        self.note(format!("client {} reconnected", c.id));
    }

    /// Starts (or restarts from its persisters) every server of `gid`.
    pub fn start_group(&self, gid: Gid) {
        let nodes = self.group_nodes(gid);
        for i in 0..NSRV {
            self.start_server(gid, i, &nodes);
        }
    }

    fn start_server(&self, gid: Gid, i: usize, nodes: &[NodeId]) {
        let net = network();
        let node_i = nodes[i];
        if self.groups.borrow()[&gid].servers[i].is_some() {
            self.shutdown_server(gid, i);
        }
        node::restart(node_i);
        let peers: Vec<raft_rpc::Client> = (0..NSRV)
            .map(|j| raft_rpc::Client::new(net.end_to(node_i, &server_name(gid, j))))
            .collect();
        let persister = node::persister(node_i);
        let max = self.maxraftstate;
        let server = node::enter(node_i, || {
            ShardGrpServer::start(peers, gid, i, persister, max)
        });
        net.add_server(server_name(gid, i), node_i, server.server());
        self.groups
            .borrow_mut()
            .get_mut(&gid)
            .expect("group")
            .servers[i] = Some(server);
    }

    /// Crashes server `i` of `gid`.
    pub fn shutdown_server(&self, gid: Gid, i: usize) {
        let mut groups = self.groups.borrow_mut();
        let g = groups.get_mut(&gid).expect("group");
        node::crash(g.nodes[i]);
        g.servers[i] = None;
    }

    /// Crashes every server of `gid`.
    pub fn shutdown_group(&self, gid: Gid) {
        for i in 0..NSRV {
            self.shutdown_server(gid, i);
        }
        self.note(format!("group {gid} down"));
    }

    /// The server of `gid` that believes it leads in the highest term.
    pub fn leader(&self, gid: Gid) -> Option<usize> {
        let groups = self.groups.borrow();
        let g = &groups[&gid];
        (0..NSRV)
            .filter_map(|i| {
                let s = g.servers[i].as_ref()?;
                let (term, leader) = node::enter(g.nodes[i], || s.raft().state());
                leader.then_some((term, i))
            })
            .max()
            .map(|(_, i)| i)
    }

    /// Crashes the server of `gid` that believes it leads (if any).
    pub fn shutdown_leader(&self, gid: Gid) {
        if let Some(i) = self.leader(gid) {
            self.shutdown_server(gid, i);
            self.note(format!("group {gid} leader {i} down"));
        }
    }

    /// The largest snapshot of a server of `gid`.
    pub fn snapshot_size(&self, gid: Gid) -> usize {
        self.group_nodes(gid)
            .iter()
            .map(|&n| node::persister(n).snapshot_size())
            .max()
            .unwrap_or(0)
    }

    /// 6.5840's join: the current configuration plus `gid`, rebalanced,
    /// through `ctrler`. The new configuration must move the fewest shards.
    pub async fn join(&self, ctrler: &ShardCtrler, gid: Gid) {
        let cur = ctrler.query().await;
        let mut new = cur.clone();
        assert!(
            new.join_balance(&BTreeMap::from([(gid, group_servers(gid))])),
            "join: gid {gid} is already in configuration {}",
            cur.num
        );
        self.change(ctrler, &cur, new).await;
    }

    /// 6.5840's leave: the current configuration without `gid`.
    pub async fn leave(&self, ctrler: &ShardCtrler, gid: Gid) {
        let cur = ctrler.query().await;
        let mut new = cur.clone();
        assert!(
            new.leave_balance(&[gid]),
            "leave: gid {gid} is not in configuration {}",
            cur.num
        );
        self.change(ctrler, &cur, new).await;
    }

    async fn change(&self, ctrler: &ShardCtrler, cur: &ShardConfig, new: ShardConfig) {
        let (n, min) = (moved(cur, &new), min_moves(cur, &new));
        assert_eq!(
            n, min,
            "configuration {} moves {n} shards, but {min} suffice",
            new.num
        );
        self.note(format!("change to configuration {}", new.num));
        ctrler.change_config_to(new).await;
    }

    /// 6.5840's joinGroups: for each gid, start its group and join it; false
    /// as soon as one did not become a member (another controller won).
    pub async fn join_groups(&self, ctrler: &ShardCtrler, gids: &[Gid]) -> bool {
        for &gid in gids {
            self.start_group(gid);
            self.join(ctrler, gid).await;
            if !ctrler.query().await.is_member(gid) {
                return false;
            }
            sleep(INTER_GROUP_DELAY).await;
        }
        true
    }

    /// 6.5840's leaveGroups: for each gid, leave; false as soon as one is
    /// still a member; otherwise shut the group down at once (its shards
    /// must all have moved away).
    pub async fn leave_groups(&self, ctrler: &ShardCtrler, gids: &[Gid]) -> bool {
        for &gid in gids {
            self.leave(ctrler, gid).await;
            if ctrler.query().await.is_member(gid) {
                return false;
            }
            self.shutdown_group(gid);
            sleep(INTER_GROUP_DELAY).await;
        }
        true
    }

    /// 6.5840's checkShutdownSharding: with group `down` shut down, fresh
    /// clients Get every key in parallel; every Get that completes (until
    /// 2 s pass without one) must be right, and fewer than all must
    /// complete (the data really is spread over groups). Then the group
    /// restarts.
    pub async fn check_shutdown_sharding(
        self: &Rc<Self>,
        down: Gid,
        keys: &[String],
        vals: &[String],
    ) {
        self.shutdown_group(down);
        let (tx, mut rx) = mpsc::unbounded();
        for (k, v) in keys.iter().zip(vals) {
            let c = self.make_client();
            let (k, v, tx) = (k.clone(), v.clone(), tx.clone());
            task::spawn(async move {
                c.check_get(&k, &v, 1).await;
                let _ = tx.unbounded_send(());
            })
            .detach();
        }
        let mut done = 0;
        while let Ok(Some(())) = timeout(Duration::from_secs(2), rx.next()).await {
            done += 1;
        }
        assert!(
            done < keys.len(),
            "all {} Gets completed with group {down} down: is the data sharded?",
            keys.len()
        );
        self.start_group(down);
    }
}

/// 6.5840's SpreadPuts: Put every key at version 0 (results ignored),
/// then CheckGet each at version 1.
pub async fn spread_puts(ck: &Client, n: usize, len: usize) -> (Vec<String>, Vec<String>) {
    let keys = make_keys(n);
    let vals: Vec<String> = (0..n).map(|_| rand_value(len)).collect();
    for (k, v) in keys.iter().zip(&vals) {
        let _ = ck.put(k, v, 0).await;
    }
    ck.check_all(&keys, &vals).await;
    (keys, vals)
}

/// What one client of `spawn_clients` did.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientResult {
    pub ok: u64,
    pub maybe: u64,
}

/// 6.5840's OnePut: Put `"{me} {ver}"` at `ver`, read the key back, and
/// repeat at the version read until the Put is `Ok` or `Maybe`.
pub async fn one_put(me: usize, ck: &Client, key: &str, mut ver: Version) -> (Version, bool) {
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
                "client {me}: Put({key:?}, {value:?}, {ver}) returned OK and the key is at \
                 version {}, yet it holds another value",
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

/// 6.5840's OneClientPut on "k0" until told to stop.
pub async fn one_client_put(me: usize, ck: Rc<Client>, done: Rc<Cell<bool>>) -> ClientResult {
    let mut res = ClientResult::default();
    let mut ver = 0;
    while !done.get() {
        let (v, ok) = one_put(me, &ck, "k0", ver).await;
        ver = v;
        if ok {
            res.ok += 1;
        } else {
            res.maybe += 1;
        }
    }
    res
}

/// Clients running `one_client_put` until `done` is set.
pub struct Clients {
    handles: Vec<task::JoinHandle<ClientResult>>,
    done: Rc<Cell<bool>>,
}

impl Clients {
    /// Starts `n` clients, each with its own clerk.
    pub fn spawn(sys: &Rc<System>, n: usize) -> Clients {
        let done = Rc::new(Cell::new(false));
        let handles = (0..n)
            .map(|me| task::spawn(one_client_put(me, Rc::new(sys.make_client()), done.clone())))
            .collect();
        Clients { handles, done }
    }

    /// Tells the clients to stop and waits for each.
    pub async fn stop(self) -> Vec<ClientResult> {
        self.done.set(true);
        let mut out = Vec::new();
        for (me, h) in self.handles.into_iter().enumerate() {
            match timeout(STOP_GRACE, h).await {
                Ok(r) => out.push(r.expect("client task")),
                Err(_) => panic!(
                    "client {me} did not stop within {STOP_GRACE:?} after the test told it to: \
                     an operation never returned"
                ),
            }
        }
        out
    }
}

/// Where the background controller of `partition_ctrler` was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Join,
    Leave,
}

/// 6.5840's partitionCtrler: a controller on its own client joins and
/// leaves new groups in the background; group `gid` goes down under it
/// (so it gets stuck mid-move), then its client is cut off; with
/// `partition`, group `gid` comes back. A new controller's
/// `init_controller` must finish the change (the number must grow, and
/// the last new gid's membership must match the phase), and, with
/// `partition`, the old controller is reconnected and must not interfere.
/// Finally every key must read back at version 1.
pub async fn partition_ctrler(
    sys: &Rc<System>,
    ck: &Client,
    gid: Gid,
    keys: &[String],
    vals: &[String],
    partition: bool,
) {
    let sck = Rc::new(sys.make_client());
    sck.ctrler.init_controller().await;
    let num = ck.ctrler.query().await.num;
    let state = Rc::new(Cell::new((0, Phase::Join)));
    // Once cut off, the old controller stops after the change under way
    // (the course's goes on after a leave that recovery finished, racing
    // the later rounds' controllers).
    let cut = Rc::new(Cell::new(false));
    {
        let (sys, sck, state, cut) = (sys.clone(), sck.clone(), state.clone(), cut.clone());
        task::spawn(async move {
            loop {
                let g = sys.new_gid();
                state.set((g, Phase::Join));
                if !sys.join_groups(&sck.ctrler, &[g]).await || cut.get() {
                    return;
                }
                state.set((g, Phase::Leave));
                if !sys.leave_groups(&sck.ctrler, &[g]).await || cut.get() {
                    return;
                }
            }
        })
        .detach();
    }
    sleep(Duration::from_millis(
        1000 + labrpc::rand::gen_range(0..400),
    ))
    .await;
    sys.shutdown_group(gid);
    sleep(Duration::from_millis(1000)).await;
    cut.set(true);
    sys.disconnect(&sck);
    if partition {
        sleep(Duration::from_secs(1)).await;
    }
    // Without `partition` the group comes back too (or nothing could
    // recover), but only after the old controller is cut off.
    sys.start_group(gid);
    let sck0 = sys.make_client();
    sck0.ctrler.init_controller().await;
    let cfg = ck.ctrler.query().await;
    assert!(
        cfg.num > num,
        "after a new controller's init_controller the configuration is still {} \
         (it was {num} before the old controller started): the change the old one left \
         unfinished was not recovered",
        cfg.num
    );
    let (ngid, phase) = state.get();
    let member = cfg.is_member(ngid);
    assert_eq!(
        member,
        phase == Phase::Join,
        "the old controller was in its {phase:?} of gid {ngid}, but after recovery gid {ngid} \
         is {}a member of configuration {}",
        if member { "" } else { "not " },
        cfg.num
    );
    if phase == Phase::Join {
        assert!(sys.leave_groups(&sck0.ctrler, &[ngid]).await);
    }
    if partition {
        sys.reconnect(&sck);
        sleep(Duration::from_millis(100)).await;
    }
    ck.check_all(keys, vals).await;
}

/// 6.5840's concurCtrler: `n` controllers race for `dur`, each joining and
/// leaving new groups; then every key must read back at version 1.
pub async fn concur_ctrler(
    sys: &Rc<System>,
    ck: &Client,
    n: usize,
    dur: Duration,
    keys: &[String],
    vals: &[String],
) {
    let done = Rc::new(Cell::new(false));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (sys, done) = (sys.clone(), done.clone());
            task::spawn(async move {
                while !done.get() {
                    let g = sys.new_gid();
                    let sck = sys.make_client();
                    sck.ctrler.init_controller().await;
                    if sys.join_groups(&sck.ctrler, &[g]).await {
                        sys.leave_groups(&sck.ctrler, &[g]).await;
                    }
                }
            })
        })
        .collect();
    sleep(dur).await;
    done.set(true);
    for h in handles {
        timeout(STOP_GRACE, h)
            .await
            .expect("a controller did not return from its join or leave")
            .expect("controller task");
    }
    ck.check_all(keys, vals).await;
}
