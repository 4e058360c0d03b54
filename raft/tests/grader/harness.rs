//! The Raft grader's harness: 6.824's `config.go` on the simulator.
//!
//! Peer `i` runs on its own node, named `raft-i`, and serves its RPCs as the
//! labrpc server `raft-i`. Disconnecting a peer cuts its links to every
//! other peer (both ways); crashing it is a real node crash: its tasks
//! vanish and only its persister survives. The apply channel of each peer
//! is read by an applier task on the peer's own node (it plays the
//! service), which checks every message as it arrives:
//!
//! - every index is delivered exactly once, in order: a command's index is
//!   always `last_applied + 1` (after a restart, from the snapshot on);
//! - no two peers ever apply different commands at one index, snapshots
//!   included;
//! - in snapshot mode it snapshots every `SNAPSHOT_INTERVAL` entries from
//!   inside the apply loop, as 6.824's tester does.
//!
//! A safety monitor also looks at every peer every few milliseconds of
//! virtual time: at most one leader per term, ever, and a peer never comes
//! back from a crash in an earlier term than it was seen in.
//!
//! A violated check panics at once, naming the peer, the index and the two
//! commands, with the seed and virtual time that replay it.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc;
use labrpc::time::{Instant, sleep};
use labrpc::{NodeId, Server, network, node, task};
use labtest::Stats;
use raft::rpc::raft as raft_rpc;
use raft::{ApplyMsg, Raft};

/// The tester's generous idea of an election period.
pub const ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);
/// The snapshotting applier snapshots at indices 9, 19, 29, ...
pub const SNAPSHOT_INTERVAL: u64 = 10;
/// The most Raft state (bytes) a peer may keep in 3D.
pub const MAX_LOG_SIZE: usize = 2000;

fn server_name(i: usize) -> String {
    format!("raft-{i}")
}

/// A command as the tester proposes it: an integer, encoded.
pub fn cmd(x: u64) -> Vec<u8> {
    labcodec::encode(&x).unwrap()
}

/// Decodes a command the tester proposed with [`cmd`].
pub fn uncmd(bytes: &[u8]) -> u64 {
    labcodec::decode(bytes).unwrap_or(u64::MAX)
}

/// A random integer command.
pub fn rand_cmd() -> u64 {
    labrpc::rand::gen_range(0..1u64 << 31)
}

/// What the appliers have seen, shared by every peer's applier.
#[derive(Default)]
struct Applied {
    /// Per peer: index -> command it applied there.
    logs: Vec<ByIndex<Vec<u8>>>,
    /// Per index: the first peer to apply it, and what it applied.
    first: ByIndex<(usize, Vec<u8>)>,
    /// Per peer: highest index applied since its last (re)start.
    last_applied: Vec<u64>,
    /// Highest index applied anywhere.
    max_index: u64,
    /// The term of each index, as the first peer to apply it said.
    terms: ByIndex<(usize, u64)>,
    /// Per peer: the snapshot index it last (re)started from (0: none).
    restarted_from: Vec<u64>,
    /// Per peer: whether it applied anything since its last (re)start.
    applied_since_start: Vec<bool>,
    /// Per index: when each peer first applied it as a command.
    times: ByIndex<Vec<Instant>>,
}

impl Applied {
    /// Records that peer `i` applied `command` at `index`.
    fn record(&mut self, i: usize, index: u64, command: &[u8]) {
        self.check(i, index, command);
        self.logs[i].insert(index, command.to_vec());
    }

    /// Checks that `command` at `index` is what every peer applied there
    /// (the first to apply it fixed it), without recording it in peer
    /// `i`'s log (a snapshot replaces that log whole).
    fn check(&mut self, i: usize, index: u64, command: &[u8]) {
        match self.first.get(index) {
            Some((j, other)) => {
                if other.as_slice() != command {
                    panic!(
                        "commit index={index} server={i} {} != server={j} {}: two peers applied \
                         different commands at the same index",
                        show(command),
                        show(other)
                    );
                }
            }
            None => self.first.insert(index, (i, command.to_vec())),
        }
        self.max_index = self.max_index.max(index);
    }

    /// Checks that peer `i` says index `index` is from `term`, as every
    /// other peer did (`what` names the message).
    fn check_term(&mut self, i: usize, index: u64, term: u64, what: &str) {
        match self.terms.get(index) {
            Some(&(j, t)) if t != term => panic!(
                "server {i} applied {what} at index {index} with term {term}, but server {j} \
                 applied index {index} with term {t}: a committed entry's term never changes{}",
                if what == "a snapshot" {
                    " (is lastIncludedTerm the term of the entry at lastIncludedIndex?)"
                } else {
                    ""
                }
            ),
            Some(_) => {}
            None => {
                self.terms.insert(index, (i, term));
            }
        }
    }

    /// Why peer `i` applying command `index` now is wrong, if it is.
    fn order_error(&self, i: usize, index: u64) -> Option<String> {
        let last = self.last_applied[i];
        if index == last + 1 {
            return None;
        }
        let from = self.restarted_from[i];
        Some(if !self.applied_since_start[i] && from > 0 {
            format!(
                "server {i} applied index {index} after restarting from a snapshot at {from} \
                 (expected {}): a restarted peer resumes right after the snapshot it saved; \
                 is lastApplied restored from the snapshot, and is the saved snapshot the one \
                 that goes with the saved log (did an older snapshot, e.g. a late \
                 InstallSnapshot older than the commit index, replace a newer one?)",
                from + 1
            )
        } else if !self.applied_since_start[i] {
            format!(
                "server {i} applied index {index} first after (re)starting without a snapshot \
                 (expected {}): with no snapshot, lastApplied starts at 0",
                last + 1
            )
        } else if index <= last {
            format!(
                "server {i} applied index {index} again, after applying up to {last}: every \
                 index is applied once (did lastApplied or commitIndex move backwards?)"
            )
        } else {
            format!(
                "server {i} skipped from index {last} to {index}: entries are applied in order, \
                 none missing"
            )
        })
    }
}

fn show(command: &[u8]) -> String {
    match labcodec::decode::<u64>(command) {
        Ok(x) => x.to_string(),
        Err(_) => format!("<{} bytes>", command.len()),
    }
}

/// How a test's cluster is set up: the booleans of 6.824's
/// `make_config(t, n, unreliable, snapshot)`, named. The default is a
/// reliable network and a service that never snapshots:
///
/// ```text
/// Config::new(3)                                                    reliable, no snapshots
/// Config::with(5, Options { unreliable: true, ..Options::default() })
/// Config::with(3, Options { snapshot: true, ..Options::default() })   3D
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Messages are lost, delayed and duplicated now and then (see
    /// [`Config::set_unreliable`]).
    pub unreliable: bool,
    /// The service snapshots every [`SNAPSHOT_INTERVAL`] entries (3D).
    pub snapshot: bool,
}

/// Whether [`Config::one`] tries again when an agreement attempt fails (a
/// leader lost its leadership before the command committed): 6.824's
/// `retry` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Offer the command again, for up to 10 s in all.
    Yes,
    /// The first leader that accepts it must commit it, or the test fails.
    No,
}

/// A cluster of Raft peers under test.
pub struct Config {
    n: usize,
    nodes: Vec<NodeId>,
    snapshot: bool,
    rafts: RefCell<Vec<Option<Raft>>>,
    connected: RefCell<Vec<bool>>,
    applied: Rc<RefCell<Applied>>,
    /// The one leader ever seen for each term (election safety).
    leaders: RefCell<BTreeMap<u64, usize>>,
    /// Per peer: the highest term it was seen in. A restarted peer must
    /// come back in at least that term (its term is persistent).
    led: RefCell<Vec<u64>>,
    // For the stats line of `end`.
    stats: RefCell<Option<Stats>>,
    cmds0: Cell<u64>,
}

impl Config {
    /// `n` peers, all started and connected, on a reliable network, with
    /// a service that never snapshots: `Config::with(n, Options::default())`.
    pub fn new(n: usize) -> Rc<Config> {
        Config::with(n, Options::default())
    }

    /// `n` peers, all started and connected; long delays on (as 6.824's
    /// Raft tester), reliable unless `options.unreliable` (then requests
    /// are also duplicated now and then: see [`Config::set_unreliable`]);
    /// the snapshotting service if `options.snapshot`.
    pub fn with(n: usize, options: Options) -> Rc<Config> {
        let net = network();
        net.set_long_delays(true);
        net.set_reliable(!options.unreliable);
        if options.unreliable {
            net.set_duplication(true);
        }
        let nodes = (0..n).map(|i| node::create(server_name(i))).collect();
        let cfg = Rc::new(Config {
            n,
            nodes,
            snapshot: options.snapshot,
            rafts: RefCell::new(vec![None; n]),
            connected: RefCell::new(vec![false; n]),
            applied: Rc::new(RefCell::new(Applied {
                logs: vec![ByIndex::default(); n],
                first: ByIndex::default(),
                last_applied: vec![0; n],
                max_index: 0,
                terms: ByIndex::default(),
                restarted_from: vec![0; n],
                applied_since_start: vec![false; n],
                times: ByIndex::default(),
            })),
            leaders: RefCell::new(BTreeMap::new()),
            led: RefCell::new(vec![0; n]),
            stats: RefCell::new(None),
            cmds0: Cell::new(0),
        });
        // Cut every peer off first; connect() then joins them up.
        for i in 0..n {
            cfg.disconnect(i);
        }
        for i in 0..n {
            cfg.start1(i);
        }
        for i in 0..n {
            cfg.connect(i);
        }
        task::spawn(monitor(cfg.clone())).detach();
        cfg
    }

    /// Checks Raft's safety properties that are visible from outside, at
    /// this instant: at most one leader per term, ever; a peer never
    /// restarts in an earlier term than it was seen in.
    pub fn check_safety(&self) {
        for i in 0..self.n {
            let Some((term, leader)) = self.state(i) else {
                continue;
            };
            // The page of a failing run (`lab replay --html`) draws these.
            labrpc::trace::observe(
                self.nodes[i],
                [("term", term.into()), ("leader", leader.into())],
            );
            let seen = self.led.borrow()[i];
            assert!(
                term >= seen,
                "peer {i} is in term {term} but was in term {seen} before: its term went \
                 backwards across a restart (is currentTerm persisted whenever it changes, \
                 also when a peer adopts a higher term from a message?)"
            );
            self.led.borrow_mut()[i] = term;
            if leader {
                let mut leaders = self.leaders.borrow_mut();
                let first = *leaders.entry(term).or_insert(i);
                assert_eq!(
                    first, i,
                    "two leaders in term {term}: peers {first} and {i} (election safety; \
                     is votedFor persisted, and is every vote checked?)"
                );
            }
        }
    }

    /// Starts the stats of one test.
    pub fn begin(&self, description: &str) {
        *self.stats.borrow_mut() = Some(Stats::begin(description, self.n));
        self.cmds0.set(self.applied.borrow().max_index);
    }

    /// Prints the test's header with 6.824's stats line (virtual seconds,
    /// peers, RPCs, bytes, commands) and the `labstats` line that
    /// `lab grade` reads, together.
    pub fn end(&self) {
        let cmds = self.applied.borrow().max_index - self.cmds0.get();
        let stats = self.stats.borrow();
        stats.as_ref().expect("begin() before end()").end(cmds);
    }

    /// The node of peer `i`.
    pub fn node(&self, i: usize) -> NodeId {
        self.nodes[i]
    }

    /// The running Raft instance of peer `i` (None while crashed).
    pub fn raft(&self, i: usize) -> Option<Raft> {
        self.rafts.borrow()[i].clone()
    }

    /// Whether peer `i` is connected.
    pub fn is_connected(&self, i: usize) -> bool {
        self.connected.borrow()[i]
    }

    /// Calls `start` on peer `i` (as code of its node); None if it is
    /// crashed or not the leader.
    pub fn start(&self, i: usize, command: Vec<u8>) -> Option<(u64, u64)> {
        let raft = self.raft(i)?;
        node::enter(self.nodes[i], || raft.start(command))
    }

    /// Peer `i`'s (term, is_leader); None if it is crashed.
    pub fn state(&self, i: usize) -> Option<(u64, bool)> {
        let raft = self.raft(i)?;
        Some(node::enter(self.nodes[i], || raft.state()))
    }

    /// Attaches peer `i` to every connected peer, both ways.
    pub fn connect(&self, i: usize) {
        let net = network();
        self.connected.borrow_mut()[i] = true;
        let connected = self.connected.borrow().clone();
        for (j, &c) in connected.iter().enumerate() {
            if c && j != i {
                net.restore(self.nodes[i], self.nodes[j]);
                net.restore(self.nodes[j], self.nodes[i]);
            }
        }
    }

    /// Detaches peer `i` from every other peer, both ways.
    pub fn disconnect(&self, i: usize) {
        let net = network();
        self.connected.borrow_mut()[i] = false;
        for j in (0..self.n).filter(|&j| j != i) {
            net.cut(self.nodes[i], self.nodes[j]);
            net.cut(self.nodes[j], self.nodes[i]);
        }
    }

    /// Cuts the links between peers `i` and `j`, both ways (their other
    /// links, and what `is_connected` says, are unchanged).
    pub fn cut_pair(&self, i: usize, j: usize) {
        let net = network();
        net.cut(self.nodes[i], self.nodes[j]);
        net.cut(self.nodes[j], self.nodes[i]);
    }

    /// The highest index peer `i` applied since its last (re)start (from
    /// its snapshot on).
    pub fn last_applied(&self, i: usize) -> u64 {
        self.applied.borrow().last_applied[i]
    }

    /// A snapshot through `index` as peer `i`'s service makes them (what it
    /// applied up to `index`, in the tester's snapshot format).
    pub fn service_snapshot(&self, i: usize, index: u64) -> Vec<u8> {
        encode_snapshot(index, &self.applied.borrow().logs[i])
    }

    /// When the `k`-th peer (counting from 1) applied command `index`, if
    /// `k` peers did.
    pub fn applied_at(&self, index: u64, k: usize) -> Option<Instant> {
        let applied = self.applied.borrow();
        let mut times = applied.times.get(index)?.clone();
        times.sort();
        times.get(k.checked_sub(1)?).copied()
    }

    /// Crashes peer `i`: disconnects it and crashes its node (its tasks and
    /// its server vanish; its persister stays).
    pub fn crash1(&self, i: usize) {
        self.disconnect(i);
        node::crash(self.nodes[i]);
        self.rafts.borrow_mut()[i] = None;
    }

    /// (Re)starts peer `i` from its persister, after crashing it if it runs.
    /// Like 6.824, the tester reads the snapshot itself and the restarted
    /// peer stays disconnected until [`Config::connect`].
    pub fn start1(&self, i: usize) {
        self.crash1(i);
        let node_i = self.nodes[i];
        node::restart(node_i);
        let persister = node::persister(node_i);
        let snapshot = persister.read_snapshot();
        {
            let mut applied = self.applied.borrow_mut();
            applied.last_applied[i] = 0;
            applied.restarted_from[i] = 0;
            applied.applied_since_start[i] = false;
            if !snapshot.is_empty() {
                let (index, log) = decode_snapshot(&snapshot);
                for (&k, command) in &log {
                    applied.check(i, k, command);
                }
                applied.logs[i] = ByIndex::from(log);
                applied.last_applied[i] = index;
                applied.restarted_from[i] = index;
            }
            let from = applied.restarted_from[i];
            labrpc::trace::observe(
                node_i,
                [("applied", from.into()), ("snapshot", from.into())],
            );
        }
        let net = network();
        let peers: Vec<raft_rpc::Client> = (0..self.n)
            .map(|j| raft_rpc::Client::new(net.end_to(node_i, &server_name(j))))
            .collect();
        let (tx, rx) = mpsc::unbounded();
        let raft = node::enter(node_i, || Raft::new(peers, i, persister, tx));
        net.add_server(
            server_name(i),
            node_i,
            Server::new().add_service(raft.service()),
        );
        let applier = apply_loop(i, raft.clone(), rx, self.applied.clone(), self.snapshot);
        task::spawn_on(node_i, applier).detach();
        self.rafts.borrow_mut()[i] = Some(raft);
    }

    /// Crashes every peer, then restarts and reconnects them all.
    pub fn crash_restart_all(&self) {
        for i in 0..self.n {
            self.crash1(i);
        }
        for i in 0..self.n {
            self.start1(i);
            self.connect(i);
        }
    }

    /// Turns the unreliable network on or off: lost and delayed messages
    /// as in 6.824, and (not in 6.824) requests delivered twice, the copy
    /// late, so that the same RPC arrives twice.
    pub fn set_unreliable(&self, unreliable: bool) {
        let net = network();
        net.set_reliable(!unreliable);
        if net.is_duplicating() != unreliable {
            net.set_duplication(unreliable);
        }
    }

    /// Turns long reordering of replies on or off.
    pub fn set_long_reordering(&self, on: bool) {
        network().set_long_reordering(on);
    }

    /// RPCs dispatched to peer `i`'s handlers so far.
    pub fn rpc_count(&self, i: usize) -> u64 {
        network().server_count(&server_name(i))
    }

    /// RPCs dispatched to all peers so far.
    pub fn rpc_total(&self) -> u64 {
        (0..self.n).map(|i| self.rpc_count(i)).sum()
    }

    /// Bytes on the network so far.
    pub fn bytes_total(&self) -> u64 {
        network().total_bytes()
    }

    /// The largest persisted Raft state (excluding snapshots).
    pub fn log_size(&self) -> usize {
        self.nodes
            .iter()
            .map(|&n| node::persister(n).state_size())
            .max()
            .unwrap_or(0)
    }

    /// Waits for a leader among the connected peers, as 6.824 does: up to
    /// ten rounds of 450-550 ms; fails if a term has two leaders, or if no
    /// leader appears.
    pub async fn check_one_leader(&self) -> usize {
        for _ in 0..10 {
            sleep(Duration::from_millis(labrpc::rand::gen_range(450..550))).await;
            let mut leaders: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
            for i in (0..self.n).filter(|&i| self.is_connected(i)) {
                if let Some((term, true)) = self.state(i) {
                    leaders.entry(term).or_default().push(i);
                }
            }
            for (term, ls) in &leaders {
                assert!(
                    ls.len() <= 1,
                    "term {term} has {} (>1) leaders: {ls:?}",
                    ls.len()
                );
            }
            if let Some((_, ls)) = leaders.last_key_value() {
                return ls[0];
            }
        }
        panic!("expected one leader, got none");
    }

    /// Checks that every connected peer is in the same term; returns it.
    pub fn check_terms(&self) -> u64 {
        let mut term = None;
        for i in (0..self.n).filter(|&i| self.is_connected(i)) {
            if let Some((t, _)) = self.state(i) {
                match term {
                    None => term = Some(t),
                    Some(t0) => assert_eq!(t0, t, "servers disagree on term"),
                }
            }
        }
        term.unwrap_or(0)
    }

    /// Checks that no connected peer thinks it is the leader.
    pub fn check_no_leader(&self) {
        for i in (0..self.n).filter(|&i| self.is_connected(i)) {
            if let Some((_, true)) = self.state(i) {
                panic!("expected no leader among connected servers, but {i} claims to be leader");
            }
        }
    }

    /// How many peers applied something at `index`, and what.
    pub fn n_committed(&self, index: u64) -> (usize, Option<Vec<u8>>) {
        let applied = self.applied.borrow();
        let mut count = 0;
        let mut command: Option<&Vec<u8>> = None;
        for log in &applied.logs {
            if let Some(c) = log.get(index) {
                if let Some(prev) = command {
                    assert_eq!(prev, c, "committed values do not match: index {index}");
                }
                count += 1;
                command = Some(c);
            }
        }
        (count, command.cloned())
    }

    /// Waits until at least `n` peers applied `index`: 30 checks, 10 ms
    /// apart doubling up to 1 s. Returns None early if some peer moved past
    /// `start_term` (success can no longer be expected); fails if fewer than
    /// `n` applied in the end.
    pub async fn wait(&self, index: u64, n: usize, start_term: Option<u64>) -> Option<Vec<u8>> {
        let mut to = Duration::from_millis(10);
        for _ in 0..30 {
            if self.n_committed(index).0 >= n {
                break;
            }
            sleep(to).await;
            if to < Duration::from_secs(1) {
                to *= 2;
            }
            if let Some(t0) = start_term {
                for i in 0..self.n {
                    if let Some((t, _)) = self.state(i)
                        && t > t0
                    {
                        return None;
                    }
                }
            }
        }
        let (count, command) = self.n_committed(index);
        assert!(
            count >= n,
            "only {count} decided for index {index}; wanted {n}"
        );
        command
    }

    /// Agrees on `command` and returns its index: for up to 10 s, offers it
    /// to the connected peers in turn until one accepts, then waits up to
    /// 2 s for `expected` peers to apply it. With [`Retry::Yes`], a failed
    /// attempt is tried again; with [`Retry::No`], it fails the test.
    pub async fn one(&self, command: Vec<u8>, expected: usize, retry: Retry) -> u64 {
        let t0 = Instant::now();
        let mut starts = 0;
        while t0.elapsed() < Duration::from_secs(10) {
            let mut index = None;
            for _ in 0..self.n {
                starts = (starts + 1) % self.n;
                if self.is_connected(starts)
                    && let Some((i, _)) = self.start(starts, command.clone())
                {
                    index = Some(i);
                    break;
                }
            }
            if let Some(index) = index {
                let t1 = Instant::now();
                while t1.elapsed() < Duration::from_secs(2) {
                    let (count, c) = self.n_committed(index);
                    if count > 0 && count >= expected && c.as_ref() == Some(&command) {
                        return index;
                    }
                    sleep(Duration::from_millis(20)).await;
                }
                assert!(
                    retry == Retry::Yes,
                    "one({}) failed to reach agreement",
                    show(&command)
                );
            } else {
                sleep(Duration::from_millis(50)).await;
            }
        }
        panic!("one({}) failed to reach agreement", show(&command));
    }
}

/// How often the safety monitor looks at every peer.
const MONITOR_INTERVAL: Duration = Duration::from_millis(5);

/// Checks [`Config::check_safety`] every [`MONITOR_INTERVAL`] for the
/// whole test, so a violation between the test's own checks is caught too.
async fn monitor(cfg: Rc<Config>) {
    loop {
        sleep(MONITOR_INTERVAL).await;
        cfg.check_safety();
    }
}

/// The snapshot format of the tester's service: the last included index
/// and every command up to it.
fn encode_snapshot(index: u64, log: &ByIndex<Vec<u8>>) -> Vec<u8> {
    labcodec::encode(&(index, LogPrefix { log, upto: index })).unwrap()
}

/// `log` through `upto`, serialized as a `BTreeMap<u64, Vec<u8>>` of it
/// would be (the snapshot is written without copying the log first).
struct LogPrefix<'a> {
    log: &'a ByIndex<Vec<u8>>,
    upto: u64,
}

impl serde::Serialize for LogPrefix<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let entries = || self.log.iter().take_while(|(k, _)| *k <= self.upto);
        let mut map = s.serialize_map(Some(entries().count()))?;
        for (k, v) in entries() {
            map.serialize_entry(&k, v)?;
        }
        map.end()
    }
}

/// A map from log index (from 1) to `T`, kept in a vector: the indexes
/// the appliers see are 1, 2, 3, ... (a snapshot's included index is the
/// one gap-maker), so lookups are array reads.
#[derive(Clone, Debug)]
struct ByIndex<T>(Vec<Option<T>>);

impl<T> Default for ByIndex<T> {
    fn default() -> Self {
        ByIndex(Vec::new())
    }
}

impl<T> ByIndex<T> {
    fn slot(index: u64) -> usize {
        assert!(index > 0, "log indexes start at 1");
        usize::try_from(index - 1).expect("a log index fits in memory")
    }

    fn get(&self, index: u64) -> Option<&T> {
        self.0
            .get(Self::slot(index.max(1)))?
            .as_ref()
            .filter(|_| index > 0)
    }

    fn insert(&mut self, index: u64, value: T) {
        let k = Self::slot(index);
        if self.0.len() <= k {
            self.0.resize_with(k + 1, || None);
        }
        self.0[k] = Some(value);
    }

    fn get_or_default(&mut self, index: u64) -> &mut T
    where
        T: Default,
    {
        if self.get(index).is_none() {
            self.insert(index, T::default());
        }
        self.0[Self::slot(index)].as_mut().expect("just inserted")
    }

    /// Every (index, value), in index order.
    fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.0
            .iter()
            .enumerate()
            .filter_map(|(k, v)| Some((k as u64 + 1, v.as_ref()?)))
    }
}

impl<T> From<BTreeMap<u64, T>> for ByIndex<T> {
    fn from(map: BTreeMap<u64, T>) -> Self {
        let mut out = ByIndex::default();
        for (k, v) in map {
            out.insert(k, v);
        }
        out
    }
}

fn decode_snapshot(data: &[u8]) -> (u64, BTreeMap<u64, Vec<u8>>) {
    labcodec::decode(data).unwrap_or_else(|e| panic!("snapshot decode error: {e}"))
}

/// The service of peer `i`: reads its apply channel, checks each message,
/// records it, and (in snapshot mode) snapshots every SNAPSHOT_INTERVAL.
async fn apply_loop(
    i: usize,
    raft: Raft,
    mut rx: mpsc::UnboundedReceiver<ApplyMsg>,
    applied: Rc<RefCell<Applied>>,
    snapshot: bool,
) {
    while let Some(msg) = rx.next().await {
        match msg {
            ApplyMsg::Command {
                index,
                term,
                command,
            } => {
                let snap = {
                    let mut a = applied.borrow_mut();
                    if let Some(why) = a.order_error(i, index) {
                        panic!("apply out of order: {why}");
                    }
                    a.check_term(i, index, term, "a command");
                    a.record(i, index, &command);
                    a.last_applied[i] = index;
                    a.applied_since_start[i] = true;
                    a.times.get_or_default(index).push(Instant::now());
                    (snapshot && (index + 1) % SNAPSHOT_INTERVAL == 0)
                        .then(|| encode_snapshot(index, &a.logs[i]))
                };
                observe_applied(index, None);
                if let Some(data) = snap {
                    raft.snapshot(index, data);
                    observe_applied(index, Some(index));
                }
            }
            ApplyMsg::Snapshot { index, term, data } => {
                assert!(
                    snapshot,
                    "server {i} sent a snapshot, but the service never made one"
                );
                let (included, log) = decode_snapshot(&data);
                assert_eq!(
                    included, index,
                    "server {i} was sent a snapshot message for index {index} whose data covers \
                     up to {included}: lastIncludedIndex and the snapshot bytes disagree"
                );
                let mut a = applied.borrow_mut();
                let last = a.last_applied[i];
                if index <= last {
                    let from = a.restarted_from[i];
                    if !a.applied_since_start[i] && from == index {
                        panic!(
                            "server {i} was sent the snapshot at {index} again after restarting \
                             from it: the service reads its own snapshot on restart, Raft must \
                             not deliver it (is lastApplied restored from the snapshot?)"
                        );
                    }
                    panic!(
                        "server {i} was sent a snapshot at {index}, but it has applied up to \
                         {last} already: a snapshot must move the service forward (ignore an \
                         InstallSnapshot at or below the commit index)"
                    );
                }
                a.check_term(i, index, term, "a snapshot");
                a.applied_since_start[i] = true;
                for (&k, command) in &log {
                    a.check(i, k, command);
                }
                a.logs[i] = ByIndex::from(log);
                a.last_applied[i] = index;
                observe_applied(index, Some(index));
            }
        }
    }
}

/// Records in the trace what this peer's service applied (and the index
/// of its latest snapshot), as the apply channel shows them.
fn observe_applied(applied: u64, snapshot: Option<u64>) {
    let node = labrpc::node::current();
    let snap = snapshot.map(|s| ("snapshot", s.into()));
    labrpc::trace::observe(node, [("applied", applied.into())].into_iter().chain(snap));
}
