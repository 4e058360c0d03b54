//! A replica group's server (part 5B): the shards it serves, replicated
//! through Raft, and their hand-over to other groups.

use std::rc::Rc;

use labrpc::{ClientEnd, NodeId, Persister};
use raft::Raft;
use raft::rpc::raft as raft_rpc;

use crate::framework::rpc::{KvArgs, KvReply, shardkv};
use crate::framework::{Gid, MakeEnd};
// SOLUTION BEGIN
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::StreamExt;
use futures::channel::{mpsc, oneshot};
use labrpc::{task, time};
use log::debug;
use raft::ApplyMsg;
use serde::{Deserialize, Serialize};

use crate::CtrlerClerk;
use crate::framework::rpc::{Error, KvOp};
use crate::framework::{Config, NSHARDS, key2shard};
// SOLUTION END
// HANDOUT:

// SOLUTION BEGIN
/// How long a request may wait to commit before the clerk is told to retry.
const COMMIT_TIMEOUT: Duration = Duration::from_millis(1000);
/// How often a waiting request checks that its server still leads.
const LEADERSHIP_CHECK: Duration = Duration::from_millis(50);
/// How often the leader asks the controller for the next configuration,
/// and retries shard hand-overs.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Where one shard stands in the group's current configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
enum Status {
    /// Not ours.
    #[default]
    Absent,
    /// Ours, with its data.
    Serving,
    /// Ours, but its data is still with the previous owner.
    Pulling,
    /// Ours and served, but the previous owner still holds a copy that it
    /// must be told to delete.
    Cleaning,
    /// No longer ours: kept (frozen) until the new owner has it.
    Offering,
}

/// One shard's data and duplicate table: what moves between groups.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardData {
    store: BTreeMap<String, String>,
    /// The highest Put/Append number applied per clerk in this shard.
    sessions: BTreeMap<u64, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Shard {
    status: Status,
    data: ShardData,
}

/// What goes through the group's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Command {
    /// A clerk's operation.
    Kv(KvArgs),
    /// Move to the next configuration.
    Reconfigure(Config),
    /// Shards pulled from their previous owner in configuration `num`.
    Insert {
        num: u64,
        shards: BTreeMap<usize, ShardData>,
    },
    /// The new owners of these shards (in configuration `num`) have them:
    /// delete our copy.
    Delete { num: u64, shards: Vec<usize> },
    /// The previous owners deleted their copies of these shards.
    Cleaned { num: u64, shards: Vec<usize> },
    /// Commits the entries of earlier terms (a new leader's first entry).
    Noop,
}

/// The replicated state machine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct StateMachine {
    config: Config,
    /// The configuration before `config` (where shards come from).
    prev: Config,
    shards: Vec<Shard>,
}

impl StateMachine {
    fn new() -> StateMachine {
        StateMachine {
            shards: vec![Shard::default(); NSHARDS],
            ..StateMachine::default()
        }
    }

    /// No shard is in transit: the group may take the next configuration.
    fn settled(&self) -> bool {
        self.shards
            .iter()
            .all(|s| matches!(s.status, Status::Serving | Status::Absent))
    }

    /// Shards in `status`, by the gid of their previous owner.
    fn by_previous_owner(&self, status: Status) -> BTreeMap<Gid, Vec<usize>> {
        let mut out: BTreeMap<Gid, Vec<usize>> = BTreeMap::new();
        for (s, shard) in self.shards.iter().enumerate() {
            if shard.status == status {
                out.entry(self.prev.shards[s]).or_default().push(s);
            }
        }
        out
    }

    fn apply(&mut self, gid: Gid, command: Command) -> KvReply {
        match command {
            Command::Kv(args) => self.apply_kv(gid, &args),
            Command::Reconfigure(next) => {
                if next.num == self.config.num + 1 && self.settled() {
                    for s in 0..NSHARDS {
                        let had = self.config.shards[s] == gid;
                        let has = next.shards[s] == gid;
                        let shard = &mut self.shards[s];
                        shard.status = match (had, has) {
                            (true, true) => Status::Serving,
                            (false, true) if self.config.shards[s] == 0 => Status::Serving,
                            (false, true) => Status::Pulling,
                            (true, false) => Status::Offering,
                            (false, false) => Status::Absent,
                        };
                    }
                    self.prev = std::mem::replace(&mut self.config, next);
                }
                Ok(String::new())
            }
            Command::Insert { num, shards } => {
                if num == self.config.num {
                    for (s, data) in shards {
                        if self.shards[s].status == Status::Pulling {
                            self.shards[s] = Shard {
                                status: Status::Cleaning,
                                data,
                            };
                        }
                    }
                }
                Ok(String::new())
            }
            Command::Delete { num, shards } => {
                if num == self.config.num {
                    for s in shards {
                        if self.shards[s].status == Status::Offering {
                            self.shards[s] = Shard::default();
                        }
                    }
                }
                if num > self.config.num {
                    // We have not reached that configuration yet.
                    Err(Error::Timeout)
                } else {
                    Ok(String::new())
                }
            }
            Command::Cleaned { num, shards } => {
                if num == self.config.num {
                    for s in shards {
                        if self.shards[s].status == Status::Cleaning {
                            self.shards[s].status = Status::Serving;
                        }
                    }
                }
                Ok(String::new())
            }
            Command::Noop => Ok(String::new()),
        }
    }

    fn apply_kv(&mut self, gid: Gid, args: &KvArgs) -> KvReply {
        let s = key2shard(args.op.key());
        let shard = &mut self.shards[s];
        if self.config.shards[s] != gid
            || !matches!(shard.status, Status::Serving | Status::Cleaning)
        {
            return Err(Error::WrongGroup);
        }
        let data = &mut shard.data;
        let fresh = |data: &mut ShardData| {
            let last = data.sessions.entry(args.client).or_insert(0);
            let fresh = args.seq > *last;
            *last = (*last).max(args.seq);
            fresh
        };
        match &args.op {
            KvOp::Get { key } => Ok(data.store.get(key).cloned().unwrap_or_default()),
            KvOp::Put { key, value } => {
                if fresh(data) {
                    data.store.insert(key.clone(), value.clone());
                }
                Ok(String::new())
            }
            KvOp::Append { key, value } => {
                if fresh(data) {
                    data.store.entry(key.clone()).or_default().push_str(value);
                }
                Ok(String::new())
            }
        }
    }
}

/// Requests of the hand-over protocol, between groups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardsArgs {
    /// The configuration the new owner is in.
    num: u64,
    /// The shards concerned.
    shards: Vec<usize>,
}

/// The shards' data, if the previous owner has reached configuration
/// `num` (and not gone past it).
pub type PullReply = Result<BTreeMap<usize, ShardData>, Error>;

labrpc::service! {
    /// Shard hand-over between groups.
    pub service transfer {
        /// The new owner asks for shards' data.
        fn pull(ShardsArgs) -> PullReply;
        /// The new owner has the shards: the previous owner may delete them.
        fn delete(ShardsArgs) -> KvReply;
    }
}

/// A request waiting for its log entry to be applied.
struct Waiter {
    term: u64,
    command: Vec<u8>,
    reply: oneshot::Sender<KvReply>,
}

/// The server's state, shared by its handlers and background tasks.
struct Inner {
    me: usize,
    gid: Gid,
    raft: Raft,
    persister: Persister,
    maxraftstate: Option<usize>,
    sm: StateMachine,
    last_applied: u64,
    /// The term of the last entry applied (0: unknown).
    applied_term: u64,
    waiters: BTreeMap<u64, Waiter>,
    /// Hand-overs under way: (pull?, gid of the other group).
    in_flight: BTreeSet<(bool, Gid)>,
    make_end: MakeEnd,
    /// Ends to other groups' servers, by name.
    ends: BTreeMap<String, transfer::Client>,
}

fn encode_snapshot(index: u64, sm: &StateMachine) -> Vec<u8> {
    labcodec::encode(&(index, sm)).expect("snapshots always encode")
}

fn decode_snapshot(me: usize, gid: Gid, data: &[u8]) -> (u64, StateMachine) {
    if data.is_empty() {
        return (0, StateMachine::new());
    }
    labcodec::decode(data)
        .unwrap_or_else(|e| panic!("shardkv {gid}-{me}: cannot decode a snapshot: {e}"))
}
// SOLUTION END
// HANDOUT:

/// One server of a replica group, and its Raft peer.
#[derive(Clone)]
pub struct ShardKv {
    raft: Raft,
    // SOLUTION BEGIN
    inner: Rc<RefCell<Inner>>,
    // SOLUTION END
    // HANDOUT: // Your state here (5B).
}

impl ShardKv {
    /// Starts server `me` of replica group `gid`, whose Raft peers are
    /// `peers`, restoring from `persister`. With `maxraftstate` set, it
    /// snapshots whenever the persisted Raft state reaches that many bytes.
    /// `ctrlers` are ends to the controller's servers; `make_end` makes
    /// ends to other groups' servers from their names.
    ///
    /// Must run as code of the server's node (`labrpc::node::enter`).
    pub fn start(
        peers: Vec<raft_rpc::Client>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
        gid: Gid,
        ctrlers: Vec<ClientEnd>,
        make_end: MakeEnd,
    ) -> ShardKv {
        assert!(
            labrpc::node::current() != NodeId::TESTER,
            "ShardKv::start must run on the server's own node: wrap it in labrpc::node::enter"
        );
        let (tx, rx) = futures::channel::mpsc::unbounded();
        let raft = Raft::new(peers, me, persister.clone(), tx);
        // SOLUTION BEGIN
        let (last_applied, sm) = decode_snapshot(me, gid, &persister.read_snapshot());
        let inner = Rc::new(RefCell::new(Inner {
            me,
            gid,
            raft: raft.clone(),
            persister,
            maxraftstate,
            sm,
            last_applied,
            applied_term: 0,
            waiters: BTreeMap::new(),
            in_flight: BTreeSet::new(),
            make_end,
            ends: BTreeMap::new(),
        }));
        task::spawn(applier(inner.clone(), rx)).detach();
        task::spawn(config_poller(inner.clone(), CtrlerClerk::new(ctrlers))).detach();
        task::spawn(migrator(inner.clone())).detach();
        ShardKv { raft, inner }
        // SOLUTION END
        // HANDOUT: let _ = (me, persister, maxraftstate, gid, ctrlers, make_end, rx, raft);
        // HANDOUT: labrpc::not_implemented!("ShardKV 5B (group server)")
    }

    /// The server's Raft peer.
    pub fn raft(&self) -> &Raft {
        &self.raft
    }

    /// A labrpc server offering the key/value service, Raft's, and
    /// whatever services the groups use to hand shards over.
    #[allow(clippy::let_and_return)] // add your own services before the return
    pub fn server(&self) -> labrpc::Server {
        let server = labrpc::Server::new()
            .add_service(self.raft.service())
            .add_service(shardkv::service(Rc::new(self.clone())));
        // SOLUTION BEGIN
        let server = server.add_service(transfer::service(Rc::new(self.clone())));
        // SOLUTION END
        // HANDOUT:
        server
    }

    // SOLUTION BEGIN
    /// Proposes `command` and waits until it is applied in this term.
    async fn propose(&self, command: &Command) -> KvReply {
        let bytes = labcodec::encode(command).expect("commands always encode");
        let Some((index, term)) = self.raft.start(bytes.clone()) else {
            return Err(Error::WrongLeader);
        };
        let (tx, mut rx) = oneshot::channel();
        {
            let mut s = self.inner.borrow_mut();
            let waiter = Waiter {
                term,
                command: bytes,
                reply: tx,
            };
            if let Some(old) = s.waiters.insert(index, waiter) {
                let _ = old.reply.send(Err(Error::WrongLeader));
            }
        }
        let deadline = time::Instant::now() + COMMIT_TIMEOUT;
        while time::Instant::now() < deadline {
            match time::timeout(LEADERSHIP_CHECK, &mut rx).await {
                Ok(Ok(reply)) => return reply,
                Ok(Err(_)) => return Err(Error::WrongLeader),
                Err(_) => {
                    if self.raft.state() != (term, true) {
                        break;
                    }
                }
            }
        }
        let mut s = self.inner.borrow_mut();
        if s.waiters.get(&index).is_some_and(|w| w.term == term) {
            s.waiters.remove(&index);
        }
        Err(Error::Timeout)
    }
    // SOLUTION END
    // HANDOUT:
}

impl shardkv::Service for ShardKv {
    async fn command(&self, args: KvArgs) -> KvReply {
        // SOLUTION BEGIN
        {
            // Refuse at once what we do not serve; the apply decides for
            // the rest.
            let s = self.inner.borrow();
            let shard = key2shard(args.op.key());
            if s.sm.config.shards[shard] != s.gid {
                return Err(Error::WrongGroup);
            }
        }
        self.propose(&Command::Kv(args)).await
        // SOLUTION END
        // HANDOUT: { let _ = args; labrpc::not_implemented!("ShardKV 5B (group server)") }
    }
}

// SOLUTION BEGIN
impl transfer::Service for ShardKv {
    async fn pull(&self, args: ShardsArgs) -> PullReply {
        // Once we have applied configuration `num`, shards we lost in it
        // are frozen: any replica may answer.
        let s = self.inner.borrow();
        if s.sm.config.num < args.num {
            return Err(Error::Timeout);
        }
        let mut out = BTreeMap::new();
        for &shard in &args.shards {
            let sh = &s.sm.shards[shard];
            if s.sm.config.num > args.num || sh.status != Status::Offering {
                return Err(Error::WrongGroup);
            }
            out.insert(shard, sh.data.clone());
        }
        Ok(out)
    }

    async fn delete(&self, args: ShardsArgs) -> KvReply {
        self.propose(&Command::Delete {
            num: args.num,
            shards: args.shards,
        })
        .await
    }
}

/// Applies what Raft commits, answers waiting requests, and snapshots.
async fn applier(inner: Rc<RefCell<Inner>>, mut rx: mpsc::UnboundedReceiver<ApplyMsg>) {
    while let Some(msg) = rx.next().await {
        let mut guard = inner.borrow_mut();
        let s = &mut *guard;
        match msg {
            ApplyMsg::Command {
                index,
                term,
                command,
            } => {
                if index <= s.last_applied {
                    continue;
                }
                assert_eq!(
                    index,
                    s.last_applied + 1,
                    "shardkv {}-{}: Raft skipped from {} to {index}",
                    s.gid,
                    s.me,
                    s.last_applied
                );
                let cmd: Command = labcodec::decode(&command).unwrap_or_else(|e| {
                    panic!("shardkv {}-{}: bad log entry {index}: {e}", s.gid, s.me)
                });
                if let Command::Reconfigure(c) = &cmd {
                    debug!(target: "shardkv", "{}-{}: config {} -> {}", s.gid, s.me, s.sm.config.num, c.num);
                }
                let result = s.sm.apply(s.gid, cmd);
                s.last_applied = index;
                s.applied_term = term;
                if let Some(w) = s.waiters.remove(&index) {
                    let ours = w.term == term && w.command == command;
                    let _ = w.reply.send(if ours {
                        result
                    } else {
                        Err(Error::WrongLeader)
                    });
                }
                if let Some(max) = s.maxraftstate
                    && s.persister.state_size() >= max
                {
                    s.raft.snapshot(index, encode_snapshot(index, &s.sm));
                }
            }
            ApplyMsg::Snapshot { index, term, data } => {
                if index <= s.last_applied {
                    continue;
                }
                let (included, sm) = decode_snapshot(s.me, s.gid, &data);
                assert_eq!(
                    included, index,
                    "shardkv {}-{}: snapshot index mismatch",
                    s.gid, s.me
                );
                s.sm = sm;
                s.last_applied = index;
                s.applied_term = term;
                let rest = s.waiters.split_off(&(index + 1));
                for (_, w) in std::mem::replace(&mut s.waiters, rest) {
                    let _ = w.reply.send(Err(Error::WrongLeader));
                }
            }
        }
    }
}

/// The leader asks the controller for the next configuration whenever the
/// group has settled the current one, and commits a no-op at the start of
/// its term (so that earlier entries apply even when no clerk calls).
async fn config_poller(inner: Rc<RefCell<Inner>>, ctrler: CtrlerClerk) {
    loop {
        time::sleep(POLL_INTERVAL).await;
        let (raft, next) = {
            let s = inner.borrow();
            (
                s.raft.clone(),
                s.sm.settled().then_some(s.sm.config.num + 1),
            )
        };
        let (term, leader) = raft.state();
        if !leader {
            continue;
        }
        if inner.borrow().applied_term != term {
            raft.start(labcodec::encode(&Command::Noop).expect("commands always encode"));
        }
        let Some(num) = next else { continue };
        let config = ctrler.query(Some(num)).await;
        if config.num == num {
            raft.start(
                labcodec::encode(&Command::Reconfigure(config)).expect("commands always encode"),
            );
        }
    }
}

/// The leader pulls the shards it is waiting for from their previous
/// owners (each owner separately: one dead group does not hold up the
/// others), and tells previous owners to delete what it has received.
async fn migrator(inner: Rc<RefCell<Inner>>) {
    loop {
        time::sleep(POLL_INTERVAL).await;
        let mut s = inner.borrow_mut();
        if !s.raft.state().1 {
            continue;
        }
        let num = s.sm.config.num;
        for (pull, status) in [(true, Status::Pulling), (false, Status::Cleaning)] {
            for (gid, shards) in s.sm.by_previous_owner(status) {
                if !s.in_flight.insert((pull, gid)) {
                    continue;
                }
                let names = s.sm.prev.groups[&gid].clone();
                let servers: Vec<transfer::Client> = names.iter().map(|n| s.end(n)).collect();
                let args = ShardsArgs { num, shards };
                task::spawn(hand_over(inner.clone(), pull, gid, servers, args)).detach();
            }
        }
    }
}

impl Inner {
    fn end(&mut self, name: &str) -> transfer::Client {
        if let Some(c) = self.ends.get(name) {
            return c.clone();
        }
        let c = transfer::Client::new((self.make_end)(name));
        self.ends.insert(name.to_string(), c.clone());
        c
    }
}

/// One attempt to pull `args.shards` from group `gid` (or to have it
/// delete them): asks each of its servers once, and commits the outcome.
async fn hand_over(
    inner: Rc<RefCell<Inner>>,
    pull: bool,
    gid: Gid,
    servers: Vec<transfer::Client>,
    args: ShardsArgs,
) {
    for server in &servers {
        let command = if pull {
            match server.pull(&args).await {
                Ok(Ok(shards)) => Command::Insert {
                    num: args.num,
                    shards,
                },
                _ => continue,
            }
        } else {
            match server.delete(&args).await {
                Ok(Ok(_)) => Command::Cleaned {
                    num: args.num,
                    shards: args.shards.clone(),
                },
                _ => continue,
            }
        };
        let raft = inner.borrow().raft.clone();
        raft.start(labcodec::encode(&command).expect("commands always encode"));
        break;
    }
    inner.borrow_mut().in_flight.remove(&(pull, gid));
}
// SOLUTION END
// HANDOUT:
