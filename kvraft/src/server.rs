//! A KV server: a state machine replicated through its Raft peer.

use std::rc::Rc;

use futures::channel::mpsc;
use labrpc::{NodeId, Persister};
use raft::Raft;
use raft::rpc::raft as raft_rpc;

use crate::rpc::{CommandArgs, CommandReply, kv};
// SOLUTION BEGIN
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::oneshot;
use labrpc::{task, time};
use log::debug;
use raft::ApplyMsg;

use crate::rpc::KvError;
use crate::state::StateMachine;

/// How long a request may wait to commit before the clerk is told to retry.
pub const COMMIT_TIMEOUT: Duration = Duration::from_millis(1000);
/// How often a waiting request checks that its server still leads the
/// term it was proposed in.
const LEADERSHIP_CHECK: Duration = Duration::from_millis(50);

/// A request waiting for its log entry to be applied.
struct Waiter {
    term: u64,
    client: u64,
    seq: u64,
    reply: oneshot::Sender<CommandReply>,
}

/// The server's state, shared by its RPC handler and its applier.
struct Inner {
    me: usize,
    raft: Raft,
    persister: Persister,
    /// Snapshot when the Raft state reaches this many bytes (None: never).
    maxraftstate: Option<usize>,
    sm: StateMachine,
    /// Index of the last log entry applied to `sm`.
    last_applied: u64,
    /// Requests waiting, by the log index `start` gave them.
    waiters: BTreeMap<u64, Waiter>,
}
// SOLUTION END
// HANDOUT:

/// One KV server and its Raft peer.
#[derive(Clone)]
pub struct KvServer {
    // SOLUTION BEGIN
    inner: Rc<RefCell<Inner>>,
    // SOLUTION END
    // HANDOUT: // Your state here (4A).
    raft: Raft,
}

// SOLUTION BEGIN
/// The snapshot format: the last applied index and the state machine.
fn encode_snapshot(index: u64, sm: &StateMachine) -> Vec<u8> {
    labcodec::encode(&(index, sm.encode())).expect("snapshots always encode")
}

fn decode_snapshot(me: usize, data: &[u8]) -> (u64, StateMachine) {
    if data.is_empty() {
        return (0, StateMachine::default());
    }
    let (index, sm): (u64, Vec<u8>) = labcodec::decode(data)
        .unwrap_or_else(|e| panic!("kv server {me}: cannot decode a snapshot: {e}"));
    let sm = StateMachine::decode(&sm)
        .unwrap_or_else(|e| panic!("kv server {me}: cannot decode a snapshot: {e}"));
    (index, sm)
}
// SOLUTION END
// HANDOUT:

impl KvServer {
    /// Starts server `me` of a group whose Raft peers are `peers`,
    /// restoring from `persister`. With `maxraftstate` set, it snapshots
    /// whenever the persisted Raft state reaches that many bytes.
    ///
    /// Must run as code of the server's node (`labrpc::node::enter`).
    pub fn start(
        peers: Vec<raft_rpc::Client>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
    ) -> KvServer {
        assert!(
            labrpc::node::current() != NodeId::TESTER,
            "KvServer::start must run on the server's own node: wrap it in labrpc::node::enter"
        );
        let (tx, rx) = mpsc::unbounded();
        let raft = Raft::new(peers, me, persister.clone(), tx);
        // SOLUTION BEGIN
        let (last_applied, sm) = decode_snapshot(me, &persister.read_snapshot());
        let inner = Rc::new(RefCell::new(Inner {
            me,
            raft: raft.clone(),
            persister,
            maxraftstate,
            sm,
            last_applied,
            waiters: BTreeMap::new(),
        }));
        task::spawn(applier(inner.clone(), rx)).detach();
        KvServer { inner, raft }
        // SOLUTION END
        // HANDOUT: // Your code here (4A): the server's state, and a task applying what
        // HANDOUT: // Raft commits (rx); 4B: snapshots within maxraftstate, restored here.
        // HANDOUT: let _ = (me, persister, maxraftstate, rx, raft);
        // HANDOUT: labrpc::not_implemented!("KV 4A (server): KvServer::start")
    }

    /// The server's Raft peer.
    pub fn raft(&self) -> &Raft {
        &self.raft
    }

    /// A labrpc server offering both the KV service and Raft's.
    pub fn server(&self) -> labrpc::Server {
        labrpc::Server::new()
            .add_service(self.raft.service())
            .add_service(kv::service(Rc::new(self.clone())))
    }
}

impl kv::Service for KvServer {
    async fn command(&self, args: CommandArgs) -> CommandReply {
        // SOLUTION BEGIN
        // Reads go through the log too: a leader that has been deposed but
        // does not know it yet cannot commit, so it never serves a stale Get.
        let command = labcodec::encode(&args).expect("commands always encode");
        let Some((index, term)) = self.raft.start(command) else {
            return Err(KvError::WrongLeader);
        };
        let (tx, mut rx) = oneshot::channel();
        {
            let mut s = self.inner.borrow_mut();
            debug!(target: "kvraft", "{}: {:?} from {}#{} at index {index}", s.me, args.op, args.client, args.seq);
            let old = s.waiters.insert(
                index,
                Waiter {
                    term,
                    client: args.client,
                    seq: args.seq,
                    reply: tx,
                },
            );
            if let Some(old) = old {
                let _ = old.reply.send(Err(KvError::WrongLeader));
            }
        }
        let deadline = time::Instant::now() + COMMIT_TIMEOUT;
        while time::Instant::now() < deadline {
            match time::timeout(LEADERSHIP_CHECK, &mut rx).await {
                Ok(Ok(reply)) => return reply,
                Ok(Err(_)) => return Err(KvError::WrongLeader),
                Err(_) => {
                    if self.raft.state() != (term, true) {
                        break;
                    }
                }
            }
        }
        // Not applied in time, or leadership lost: the clerk retries.
        let mut s = self.inner.borrow_mut();
        if s.waiters.get(&index).is_some_and(|w| w.term == term) {
            s.waiters.remove(&index);
        }
        Err(if self.raft.state() == (term, true) {
            KvError::Timeout
        } else {
            KvError::WrongLeader
        })
        // SOLUTION END
        // HANDOUT: let _ = (&self.raft, args);
        // HANDOUT: labrpc::not_implemented!("KV 4A (server): the command handler")
    }
}

// SOLUTION BEGIN
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
                    "kv server {}: Raft skipped from {} to {index}",
                    s.me,
                    s.last_applied
                );
                let args: CommandArgs = labcodec::decode(&command)
                    .unwrap_or_else(|e| panic!("kv server {}: bad log entry {index}: {e}", s.me));
                let result = s.sm.apply(&args);
                s.last_applied = index;
                if let Some(w) = s.waiters.remove(&index) {
                    // The entry at our index is ours only if it has our
                    // term (log matching); else a new leader overwrote it.
                    let ours = w.term == term && w.client == args.client && w.seq == args.seq;
                    let _ = w.reply.send(if ours {
                        Ok(result)
                    } else {
                        Err(KvError::WrongLeader)
                    });
                }
                if let Some(max) = s.maxraftstate
                    && s.persister.state_size() >= max
                {
                    s.raft.snapshot(index, encode_snapshot(index, &s.sm));
                }
            }
            ApplyMsg::Snapshot { index, data, .. } => {
                if index <= s.last_applied {
                    continue;
                }
                let (included, sm) = decode_snapshot(s.me, &data);
                assert_eq!(
                    included, index,
                    "kv server {}: snapshot index mismatch",
                    s.me
                );
                s.sm = sm;
                s.last_applied = index;
                // Requests at or below the snapshot were overwritten or
                // answered elsewhere: let their clerks retry.
                let rest = s.waiters.split_off(&(index + 1));
                for (_, w) in std::mem::replace(&mut s.waiters, rest) {
                    let _ = w.reply.send(Err(KvError::WrongLeader));
                }
            }
        }
    }
}
// SOLUTION END
// HANDOUT:
