//! A controller server: the configurations, replicated through Raft.

use std::rc::Rc;

// SOLUTION BEGIN
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::{mpsc, oneshot};
use labrpc::{task, time};
use log::debug;
// SOLUTION END
// HANDOUT:
use labrpc::{NodeId, Persister};
use raft::Raft;
use raft::rpc::raft as raft_rpc;

use crate::framework::rpc::{CtrlerArgs, CtrlerReply, ctrler};
// SOLUTION BEGIN
use crate::framework::rpc::{CtrlerOp, Error};
use crate::framework::{Config, Gid, NSHARDS};
use raft::ApplyMsg;
// SOLUTION END
// HANDOUT:

// SOLUTION BEGIN
/// How long a request may wait to commit before the clerk is told to retry.
const COMMIT_TIMEOUT: Duration = Duration::from_millis(1000);
/// How often a waiting request checks that its server still leads.
const LEADERSHIP_CHECK: Duration = Duration::from_millis(50);

/// A request waiting for its log entry to be applied.
struct Waiter {
    term: u64,
    client: u64,
    seq: u64,
    reply: oneshot::Sender<CtrlerReply>,
}

/// The replicated state: every configuration and the duplicate table.
#[derive(Debug)]
struct Inner {
    me: usize,
    configs: Vec<Config>,
    /// The highest operation number applied per clerk, and its result.
    sessions: BTreeMap<u64, (u64, Config)>,
    last_applied: u64,
    waiters: BTreeMap<u64, Waiter>,
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Waiter({}, {}#{})", self.term, self.client, self.seq)
    }
}
// SOLUTION END
// HANDOUT:

/// One controller server and its Raft peer.
#[derive(Clone)]
pub struct CtrlerServer {
    raft: Raft,
    // SOLUTION BEGIN
    inner: Rc<RefCell<Inner>>,
    // SOLUTION END
    // HANDOUT: // Your state here (5A).
}

impl CtrlerServer {
    /// Starts controller server `me` of the controllers whose Raft peers
    /// are `peers`, restoring from `persister` (the controller need not
    /// snapshot).
    ///
    /// Must run as code of the server's node (`labrpc::node::enter`).
    pub fn start(peers: Vec<raft_rpc::Client>, me: usize, persister: Persister) -> CtrlerServer {
        assert!(
            labrpc::node::current() != NodeId::TESTER,
            "CtrlerServer::start must run on the server's own node: wrap it in labrpc::node::enter"
        );
        let (tx, rx) = futures::channel::mpsc::unbounded();
        let raft = Raft::new(peers, me, persister, tx);
        // SOLUTION BEGIN
        let inner = Rc::new(RefCell::new(Inner {
            me,
            configs: vec![Config::default()],
            sessions: BTreeMap::new(),
            last_applied: 0,
            waiters: BTreeMap::new(),
        }));
        task::spawn(applier(inner.clone(), rx)).detach();
        CtrlerServer { raft, inner }
        // SOLUTION END
        // HANDOUT: let _ = (me, rx, raft);
        // HANDOUT: labrpc::not_implemented!("ShardKV 5A (controller server)")
    }

    /// The server's Raft peer.
    pub fn raft(&self) -> &Raft {
        &self.raft
    }

    /// A labrpc server offering the controller service and Raft's.
    pub fn server(&self) -> labrpc::Server {
        labrpc::Server::new()
            .add_service(self.raft.service())
            .add_service(ctrler::service(Rc::new(self.clone())))
    }
}

impl ctrler::Service for CtrlerServer {
    async fn command(&self, args: CtrlerArgs) -> CtrlerReply {
        // SOLUTION BEGIN
        // Queries go through the log too, so that Query(None) reflects
        // every operation that finished before it.
        let command = labcodec::encode(&args).expect("commands always encode");
        let Some((index, term)) = self.raft.start(command) else {
            return Err(Error::WrongLeader);
        };
        let (tx, mut rx) = oneshot::channel();
        {
            let mut s = self.inner.borrow_mut();
            debug!(target: "shardkv::ctrler", "{}: {:?} from {}#{} at index {index}", s.me, args.op, args.client, args.seq);
            let waiter = Waiter {
                term,
                client: args.client,
                seq: args.seq,
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
        // SOLUTION END
        // HANDOUT: { let _ = args; labrpc::not_implemented!("ShardKV 5A (controller server)") }
    }
}

// SOLUTION BEGIN
/// Applies what Raft commits and answers waiting requests.
async fn applier(inner: Rc<RefCell<Inner>>, mut rx: mpsc::UnboundedReceiver<ApplyMsg>) {
    while let Some(msg) = rx.next().await {
        let mut guard = inner.borrow_mut();
        let s = &mut *guard;
        let ApplyMsg::Command {
            index,
            term,
            command,
        } = msg
        else {
            // The controller never snapshots, so Raft never sends one.
            continue;
        };
        if index <= s.last_applied {
            continue;
        }
        s.last_applied = index;
        let args: CtrlerArgs = labcodec::decode(&command)
            .unwrap_or_else(|e| panic!("controller {}: bad log entry {index}: {e}", s.me));
        let result = s.apply(&args);
        if let Some(w) = s.waiters.remove(&index) {
            let ours = w.term == term && w.client == args.client && w.seq == args.seq;
            let _ = w.reply.send(if ours {
                Ok(result)
            } else {
                Err(Error::WrongLeader)
            });
        }
    }
}

impl Inner {
    fn latest(&self) -> &Config {
        self.configs
            .last()
            .expect("there is always configuration 0")
    }

    /// Applies one operation (a duplicate returns its first result).
    fn apply(&mut self, args: &CtrlerArgs) -> Config {
        if let CtrlerOp::Query(num) = args.op {
            let latest = self.latest().num;
            let num = num.map_or(latest, |n| n.min(latest));
            return self.configs[num as usize].clone();
        }
        if let Some((seq, result)) = self.sessions.get(&args.client)
            && args.seq <= *seq
        {
            return result.clone();
        }
        let mut next = self.latest().clone();
        next.num += 1;
        match &args.op {
            CtrlerOp::Join(groups) => {
                for (&gid, servers) in groups {
                    next.groups.insert(gid, servers.clone());
                }
                rebalance(&mut next);
            }
            CtrlerOp::Leave(gids) => {
                for gid in gids {
                    next.groups.remove(gid);
                }
                rebalance(&mut next);
            }
            CtrlerOp::Move { shard, gid } => {
                if *shard < NSHARDS {
                    next.shards[*shard] = *gid;
                }
            }
            CtrlerOp::Query(_) => unreachable!(),
        }
        debug!(target: "shardkv::ctrler", "{}: config {} = {:?}", self.me, next.num, next.shards);
        self.configs.push(next.clone());
        self.sessions.insert(args.client, (args.seq, next.clone()));
        next
    }
}

/// Reassigns shards so that every group of `config` has
/// `NSHARDS / n` or one more, moving as few shards as possible: shards of
/// groups that left (or of no group) and the surplus of groups above their
/// target go to groups below theirs. The groups with the most shards keep
/// the extra ones; every tie is broken by gid, so every replica computes
/// the same result.
fn rebalance(config: &mut Config) {
    if config.groups.is_empty() {
        config.shards = [0; NSHARDS];
        return;
    }
    let n = config.groups.len();
    let (base, extra) = (NSHARDS / n, NSHARDS % n);
    // Groups by shard count, most first, then by gid.
    let counts = config.counts();
    let mut order: Vec<(usize, Gid)> = counts.iter().map(|(&g, &c)| (c, g)).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let target: BTreeMap<Gid, usize> = order
        .iter()
        .enumerate()
        .map(|(i, &(_, g))| (g, base + usize::from(i < extra)))
        .collect();
    // Free the shards of unknown groups and the surplus of full ones.
    let mut kept: BTreeMap<Gid, usize> = BTreeMap::new();
    let mut free = Vec::new();
    for (shard, gid) in config.shards.iter_mut().enumerate() {
        match target.get(gid) {
            Some(&t) if kept.get(gid).copied().unwrap_or(0) < t => {
                *kept.entry(*gid).or_default() += 1;
            }
            _ => {
                free.push(shard);
                *gid = 0;
            }
        }
    }
    // Fill the groups below their target, in gid order.
    let mut free = free.into_iter();
    for (&gid, &t) in &target {
        for _ in kept.get(&gid).copied().unwrap_or(0)..t {
            let shard = free.next().expect("targets add up to NSHARDS");
            config.shards[shard] = gid;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(shards: [Gid; NSHARDS], gids: &[Gid]) -> Config {
        Config {
            num: 1,
            shards,
            groups: gids.iter().map(|&g| (g, vec![])).collect(),
        }
    }

    #[test]
    fn rebalance_is_even_and_minimal() {
        let mut c = config([0; NSHARDS], &[1]);
        rebalance(&mut c);
        assert_eq!(c.shards, [1; NSHARDS]);
        c.groups.insert(2, vec![]);
        rebalance(&mut c);
        assert_eq!(c.counts().values().copied().collect::<Vec<_>>(), vec![5, 5]);
        let before = c.shards;
        c.groups.insert(3, vec![]);
        rebalance(&mut c);
        let moved = before
            .iter()
            .zip(c.shards)
            .filter(|(a, b)| **a != *b)
            .count();
        assert_eq!(moved, 3);
        let mut c = config([1, 1, 1, 1, 1, 1, 1, 2, 2, 3], &[1, 2, 3]);
        rebalance(&mut c);
        assert_eq!(
            c.counts().values().copied().collect::<Vec<_>>(),
            vec![4, 3, 3]
        );
    }
}
// SOLUTION END
// HANDOUT:
