//! The replicated state machine: submit requests through Raft, execute
//! what Raft commits.

use std::rc::Rc;

use futures::channel::mpsc;
use labrpc::{NodeId, Persister};
use raft::Raft;
use raft::rpc::raft as raft_rpc;

use crate::framework::{ErrWrongLeader, StateMachine};
// SOLUTION BEGIN
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::oneshot;
use labrpc::{node, task, time};
use log::debug;
use raft::ApplyMsg;

/// How often a waiting submit checks that its peer still leads the term
/// the request was proposed in.
const LEADERSHIP_CHECK: Duration = Duration::from_millis(20);

/// What a waiting submit is told: the result of its own request, or
/// `ErrWrongLeader`.
type Reply<S> = Result<<S as StateMachine>::Rep, ErrWrongLeader>;

/// A submit waiting for the entry at its index to be executed.
struct Waiter<S: StateMachine> {
    /// Its request's id: the entry executed at the index is ours only if
    /// it carries this id.
    id: u64,
    reply: oneshot::Sender<Reply<S>>,
}

/// What the submits and the reader share.
struct Inner<S: StateMachine> {
    me: usize,
    persister: Persister,
    /// Snapshot when the Raft state reaches this many bytes (None: never).
    maxraftstate: Option<usize>,
    /// The index of the last entry executed (or covered by a snapshot).
    last_applied: u64,
    /// Submits waiting, by the index `start` gave them.
    waiters: BTreeMap<u64, Waiter<S>>,
    /// The reader is gone (the node crashed): nothing will be executed.
    dead: bool,
}

/// Fails every waiting submit when the reader ends (the node crashed and
/// dropped it, or Raft's channel closed): the analogue of Go's reader
/// seeing `applyCh` closed after `Kill`.
struct ReleaseOnDrop<S: StateMachine>(Rc<RefCell<Inner<S>>>);

impl<S: StateMachine> Drop for ReleaseOnDrop<S> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.0.try_borrow_mut() {
            s.dead = true;
            // Dropping the senders wakes the submits with `Canceled`.
            s.waiters.clear();
        }
    }
}
// SOLUTION END
// HANDOUT:

/// One peer's replicated state machine: its Raft peer, and the service it
/// executes committed requests on.
pub struct Rsm<S: StateMachine> {
    raft: Raft,
    /// The peer's node: [`Raft::start`] runs as its code (a submit may be
    /// called from another node, e.g. the tester's), see
    /// [`labrpc::node::enter`].
    node: NodeId,
    sm: Rc<S>,
    // SOLUTION BEGIN
    inner: Rc<RefCell<Inner<S>>>,
    // SOLUTION END
    // HANDOUT: // Your state here (4A).
}

impl<S: StateMachine> Clone for Rsm<S> {
    fn clone(&self) -> Self {
        Rsm {
            raft: self.raft.clone(),
            node: self.node,
            sm: self.sm.clone(),
            // SOLUTION BEGIN
            inner: self.inner.clone(),
            // SOLUTION END
            // HANDOUT: // Your state here (4A).
        }
    }
}

// SOLUTION BEGIN
/// The snapshot format: the last index it covers, and the service's state.
fn encode_snapshot(index: u64, service: Vec<u8>) -> Vec<u8> {
    labcodec::encode(&(index, service)).expect("snapshots always encode")
}

fn decode_snapshot(me: usize, data: &[u8]) -> (u64, Vec<u8>) {
    labcodec::decode(data).unwrap_or_else(|e| panic!("rsm {me}: cannot decode a snapshot: {e}"))
}
// SOLUTION END
// HANDOUT:

impl<S: StateMachine> Rsm<S> {
    /// Starts peer `me` of the group whose Raft peers are `peers`,
    /// restoring the service from `persister`'s snapshot if there is one;
    /// with `maxraftstate`, snapshots whenever the persisted Raft state
    /// reaches that many bytes. Returns at once.
    ///
    /// Must run as code of the peer's node (`labrpc::node::enter`).
    pub fn new(
        peers: Vec<raft_rpc::Client>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
        sm: Rc<S>,
    ) -> Rsm<S> {
        let node = labrpc::node::current();
        assert!(
            node != NodeId::TESTER,
            "Rsm::new must run on the peer's own node: wrap it in labrpc::node::enter"
        );
        let (tx, rx) = mpsc::unbounded();
        let raft = Raft::new(peers, me, persister.clone(), tx);
        // SOLUTION BEGIN
        let snapshot = persister.read_snapshot();
        let mut last_applied = 0;
        if !snapshot.is_empty() {
            let (index, service) = decode_snapshot(me, &snapshot);
            sm.restore(&service);
            last_applied = index;
        }
        let inner = Rc::new(RefCell::new(Inner {
            me,
            persister,
            maxraftstate,
            last_applied,
            waiters: BTreeMap::new(),
            dead: false,
        }));
        let rsm = Rsm {
            raft,
            node,
            sm,
            inner,
        };
        task::spawn(reader(rsm.clone(), rx)).detach();
        rsm
        // SOLUTION END
        // HANDOUT: // Your code here (4A): your state, and a task executing what Raft
        // HANDOUT: // commits (rx) through sm.do_op; 4C: snapshots within maxraftstate,
        // HANDOUT: // restored here.
        // HANDOUT: let _ = (me, maxraftstate, rx);
        // HANDOUT: let _ = Rsm { raft, node, sm };
        // HANDOUT: labrpc::not_implemented!("rsm 4A (Rsm::new)")
    }

    /// The peer's Raft (serve `raft().service()` on the peer's node).
    pub fn raft(&self) -> &Raft {
        &self.raft
    }

    /// Submits `req` through the log, waits until it has been committed
    /// and executed, and returns what [`StateMachine::do_op`] returned for
    /// it on this peer; `Err(ErrWrongLeader)` at once if this peer is not
    /// the leader, or as soon as it finds it lost leadership (its term
    /// changed, or another request was executed at `req`'s index), or its
    /// node crashed.
    pub async fn submit(&self, req: S::Req) -> Result<S::Rep, ErrWrongLeader> {
        // SOLUTION BEGIN
        let id: u64 = labrpc::rand::random();
        let command = labcodec::encode(&(id, &req)).expect("requests always encode");
        if self.inner.borrow().dead {
            return Err(ErrWrongLeader);
        }
        let Some((index, term)) = node::enter(self.node, || self.raft.start(command)) else {
            return Err(ErrWrongLeader);
        };
        let (tx, mut rx) = oneshot::channel();
        {
            let mut s = self.inner.borrow_mut();
            debug!(target: "rsm", "{}: request {id:x} at index {index} in term {term}", s.me);
            // A waiter already at this index was proposed in an earlier
            // term and overwritten: dropping its sender fails it.
            s.waiters.insert(index, Waiter { id, reply: tx });
        }
        loop {
            match time::timeout(LEADERSHIP_CHECK, &mut rx).await {
                Ok(Ok(reply)) => return reply,
                Ok(Err(_)) => return Err(ErrWrongLeader),
                Err(_) if self.raft.state() != (term, true) => break,
                Err(_) => {}
            }
        }
        let mut s = self.inner.borrow_mut();
        if s.waiters.get(&index).is_some_and(|w| w.id == id) {
            s.waiters.remove(&index);
        }
        Err(ErrWrongLeader)
        // SOLUTION END
        // HANDOUT: let _ = (&self.raft, self.node, &self.sm, req);
        // HANDOUT: labrpc::not_implemented!("rsm 4A (Rsm::submit)")
    }
}

// SOLUTION BEGIN
/// Executes what Raft commits, answers waiting submits, snapshots (4C).
async fn reader<S: StateMachine>(rsm: Rsm<S>, mut rx: mpsc::UnboundedReceiver<ApplyMsg>) {
    let _release = ReleaseOnDrop(rsm.inner.clone());
    while let Some(msg) = rx.next().await {
        match msg {
            ApplyMsg::Command { index, command, .. } => execute(&rsm, index, &command),
            ApplyMsg::Snapshot { index, data, .. } => install(&rsm, index, &data),
        }
    }
}

/// Executes the entry at `index` (once), answers its waiter, and
/// snapshots if the Raft state is too large.
fn execute<S: StateMachine>(rsm: &Rsm<S>, index: u64, command: &[u8]) {
    let mut s = rsm.inner.borrow_mut();
    if index <= s.last_applied {
        return;
    }
    assert_eq!(
        index,
        s.last_applied + 1,
        "rsm {}: Raft skipped from {} to {index}",
        s.me,
        s.last_applied
    );
    let (id, req): (u64, S::Req) = labcodec::decode(command)
        .unwrap_or_else(|e| panic!("rsm {}: bad log entry {index}: {e}", s.me));
    let rep = rsm.sm.do_op(req);
    s.last_applied = index;
    if let Some(w) = s.waiters.remove(&index) {
        let _ = w.reply.send(if w.id == id {
            Ok(rep)
        } else {
            Err(ErrWrongLeader)
        });
    }
    if let Some(max) = s.maxraftstate
        && s.persister.state_size() >= max
    {
        drop(s);
        let snapshot = encode_snapshot(index, rsm.sm.snapshot());
        node::enter(rsm.node, || rsm.raft.snapshot(index, snapshot));
    }
}

/// Replaces the service's state with a snapshot through `index` from the
/// leader, and fails the waiters it covers.
fn install<S: StateMachine>(rsm: &Rsm<S>, index: u64, data: &[u8]) {
    let mut s = rsm.inner.borrow_mut();
    if index <= s.last_applied {
        return;
    }
    let (covered, service) = decode_snapshot(s.me, data);
    assert_eq!(covered, index, "rsm {}: snapshot index mismatch", s.me);
    rsm.sm.restore(&service);
    s.last_applied = index;
    let rest = s.waiters.split_off(&(index + 1));
    // Dropping the covered waiters fails them: their entries were
    // executed (or overwritten) while this peer was behind.
    s.waiters = rest;
}
// SOLUTION END
// HANDOUT:
