//! Raft, as in the extended paper (Figure 2) and the 6.5840 lab, on the
//! labrpc simulator.
//!
//! # Guarantees (what the grader checks)
//!
//! - **Election safety**: at most one leader per term.
//! - **Log matching** and **leader completeness**: a committed entry is in
//!   the log of every later leader, at the same index.
//! - **State machine safety**: every peer delivers the same command at a
//!   given index, on its apply channel, in strictly increasing index order,
//!   each index once; a snapshot message replaces every index it covers.
//! - **Persistence**: term, vote and log are saved (through the node's
//!   [`labrpc::Persister`]) before any reply or message that depends on
//!   them; after a crash a peer restarts from exactly that state and its
//!   snapshot.
//! - **Liveness** (when a majority can talk): a leader within a few
//!   election timeouts; heartbeats at most ten per second.
//!
//! # API
//!
//! ```text
//! Raft::new(peers, me, persister, apply_tx)  call on the peer's node (node::enter)
//! raft.service()                             add to the peer's labrpc Server
//! raft.start(command) -> Option<(index, term)>   None: not the leader
//! raft.state() -> (term, is_leader)
//! raft.snapshot(index, bytes)                the service's snapshot through index
//! ApplyMsg::{Command, Snapshot}              what the apply channel carries
//! ```
//!
//! Commands are opaque bytes: Raft stores and ships them without looking
//! inside, the service encodes them (labcodec) as it likes, and every size
//! bound of the lab (RPC bytes, log size) counts exactly what is stored.
//!
// SOLUTION BEGIN
//! # Reading a run
//!
//! `RUST_LOG=raft=debug` logs every vote, append rejection, commit,
//! persist and snapshot with virtual time and node; the topics are the log
//! targets `raft::vote`, `raft::append`, `raft::commit`, `raft::persist`,
//! `raft::snapshot`. Leader changes, commits and snapshots are also trace
//! events (topics `leader`, `follower`, `commit`, `snapshot`).
// SOLUTION END
// HANDOUT: //! # Reading a run
// HANDOUT: //!
// HANDOUT: //! Log with the `log` crate (`log::debug!(target: "raft::vote", ..)`) and
// HANDOUT: //! run with `RUST_LOG=raft=debug`; `labrpc::trace::event("leader", ..)`
// HANDOUT: //! puts your own events in the trace that `lab replay` draws.

mod apply;
mod election;
mod handlers;
mod peer;
pub mod raft_log;
mod replication;
pub mod rpc;

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::mpsc::UnboundedSender;
use labrpc::{NodeId, Persister};

use crate::peer::{Core, Shared};
// SOLUTION BEGIN
pub use crate::peer::{ELECTION_TIMEOUT_MAX, ELECTION_TIMEOUT_MIN, HEARTBEAT_INTERVAL};
use crate::raft_log::Entry;
use labrpc::task;
// SOLUTION END
// HANDOUT:

/// What a peer hands its service, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyMsg {
    /// A committed command.
    Command {
        /// Its log index (from 1).
        index: u64,
        /// The term it was proposed in.
        term: u64,
        /// The bytes given to [`Raft::start`].
        command: Vec<u8>,
    },
    /// A snapshot from the leader, replacing the service's state through
    /// `index`.
    Snapshot {
        /// The last index it covers.
        index: u64,
        /// The term of that entry.
        term: u64,
        /// The bytes the leader's service gave to [`Raft::snapshot`].
        data: Vec<u8>,
    },
}

/// A handle to one Raft peer. Cheap to clone.
#[derive(Clone)]
pub struct Raft {
    shared: Shared,
}

impl Raft {
    /// Starts peer `me` of `peers` (clients to every peer, in peer order;
    /// the one at `me` is unused), restoring whatever `persister` holds.
    /// Committed commands and snapshots go to `apply_tx`.
    ///
    /// Must run as code of the peer's node (e.g. inside
    /// `labrpc::node::enter(node, ..)`), so that its tasks die with it.
    ///
    /// # Panics
    /// If called from the tester node, or `me` is not an index of `peers`.
    pub fn new(
        peers: Vec<rpc::raft::Client>,
        me: usize,
        persister: Persister,
        apply_tx: UnboundedSender<ApplyMsg>,
    ) -> Raft {
        let node = labrpc::node::current();
        assert!(
            node != NodeId::TESTER,
            "Raft::new must run on the peer's own node: wrap it in labrpc::node::enter(node, || ..)"
        );
        assert!(
            me < peers.len(),
            "peer index {me} out of range 0..{}",
            peers.len()
        );
        let shared: Shared = Rc::new(RefCell::new(Core::new(me, peers, persister, apply_tx)));
        // SOLUTION BEGIN
        task::spawn(election::ticker(shared.clone())).detach();
        task::spawn(apply::applier(shared.clone())).detach();
        // SOLUTION END
        // HANDOUT: // Your code here (3A, 3B): start the peer's background tasks
        // HANDOUT: // (e.g. an election timer, an applier) with labrpc::task::spawn.
        Raft { shared }
    }

    /// The RPC service to add to this peer's labrpc server.
    pub fn service(&self) -> labrpc::rpc::Service {
        rpc::raft::service(Rc::new(handlers::Handler(self.shared.clone())))
    }

    /// Proposes `command` if this peer is the leader: returns at once with
    /// the index it will have if it is ever committed, and the current
    /// term; `None` if this peer is not the leader.
    pub fn start(&self, command: Vec<u8>) -> Option<(u64, u64)> {
        // SOLUTION BEGIN
        let mut c = self.shared.borrow_mut();
        if !c.is_leader() {
            return None;
        }
        let term = c.term;
        let index = c.log.append(Entry { term, command });
        c.persist();
        ::log::debug!(target: "raft::append", "{}: start index {index} in term {term}", c.me);
        for w in &c.replicate_wake {
            w.notify();
        }
        c.check_invariants();
        Some((index, term))
        // SOLUTION END
        // HANDOUT: let _ = (&self.shared, command);
        // HANDOUT: labrpc::not_implemented!("Raft 3B (log replication): Raft::start")
    }

    /// The current term, and whether this peer believes it is the leader.
    pub fn state(&self) -> (u64, bool) {
        // SOLUTION BEGIN
        let c = self.shared.borrow();
        (c.term, c.is_leader())
        // SOLUTION END
        // HANDOUT: let _ = &self.shared;
        // HANDOUT: labrpc::not_implemented!("Raft 3A (leader election): Raft::state")
    }

    /// The service has a snapshot of everything through `index`: Raft may
    /// discard its log up to there. Indices at or below an earlier
    /// snapshot, or not yet applied, are ignored.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        // SOLUTION BEGIN
        let mut c = self.shared.borrow_mut();
        if index <= c.log.base() || index > c.last_applied {
            return;
        }
        let term = c
            .log
            .term(index)
            .expect("an applied index after the base is in the log");
        c.log.compact(index, term);
        c.snapshot = snapshot;
        c.persist();
        ::log::debug!(target: "raft::snapshot", "{}: snapshot ..={index}", c.me);
        c.check_invariants();
        // SOLUTION END
        // HANDOUT: let _ = (&self.shared, index, snapshot);
        // HANDOUT: labrpc::not_implemented!("Raft 3D (log compaction): Raft::snapshot")
    }
}
