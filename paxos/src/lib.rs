//! Paxos (Lamport, "Paxos Made Simple") on the labrpc simulator: Basic
//! Paxos with three learner strategies, Multi-Paxos, and kvpaxos, a
//! key/value store replicated through a log of Paxos instances (6.824's
//! 2015 Paxos and kvpaxos labs, with crashes).
//!
//! # Guarantees (what the grader checks)
//!
//! - **Agreement**: no two peers ever report different decided values for
//!   one instance, whatever the network, crashes and proposers do.
//! - **Validity**: a decided value is one some peer proposed for that
//!   instance.
//! - **Durable acceptors**: an acceptor's promises and accepted values
//!   survive a crash (saved through the node's [`labrpc::Persister`]
//!   before it answers).
//! - **Liveness** when a majority can talk: dueling proposers back off at
//!   random and terminate; a deaf or partitioned peer that proposes learns
//!   the chosen value; learning completes with a distinguished learner
//!   crashed.
//! - **Forgetting**: `min()` is one more than the lowest `done` of every
//!   peer (learned from protocol messages); everything below it is freed.
//!
//! ```text
//! Paxos::new(peers, me, persister, config)   on the peer's node (node::enter)
//! px.service()                               add to the peer's labrpc Server
//! px.start(seq, value)                       returns at once
//! px.status(seq) -> Fate                     Decided(value) / Pending / Forgotten
//! px.done(seq) / px.max() / px.min()
//! kvpaxos::{KvServer, Clerk}                 the replicated KV store
//! ```

mod acceptor;
pub mod framework;
pub mod kvpaxos;
mod proposer;
pub mod rpc;
mod state;

use std::rc::Rc;

use labrpc::Persister;

pub use crate::framework::{Config, Fate, Learners};
use crate::rpc::paxos as paxos_rpc;
// SOLUTION BEGIN
use std::cell::RefCell;

use crate::state::Core;
// SOLUTION END
// HANDOUT:

/// One Paxos peer. Cheap to clone (a handle).
#[derive(Clone)]
pub struct Paxos {
    // SOLUTION BEGIN
    pub(crate) core: Rc<RefCell<Core>>,
    pub(crate) peers: Rc<Vec<paxos_rpc::Client>>,
    // SOLUTION END
    // HANDOUT: // Your state here.
}

impl Paxos {
    /// Starts peer `me` of `peers` (clients of every peer, in peer order;
    /// the one at `me` may be left unused), restoring the acceptor state
    /// `persister` holds. Runs on the peer's own node: every task it
    /// spawns dies with the node.
    pub fn new(
        peers: Vec<paxos_rpc::Client>,
        me: usize,
        persister: Persister,
        config: Config,
    ) -> Paxos {
        // SOLUTION BEGIN
        let n = peers.len();
        assert!(me < n, "Paxos::new: me = {me} but {n} peers");
        Paxos {
            core: Rc::new(RefCell::new(Core::restore(me, n, persister, config))),
            peers: Rc::new(peers),
        }
        // SOLUTION END
        // HANDOUT: let _ = (peers, me, persister, config);
        // HANDOUT: labrpc::not_implemented!("Paxos PX (basic Paxos): Paxos::new")
    }

    /// The RPC service to add to the peer's labrpc server (given).
    pub fn service(&self) -> labrpc::rpc::Service {
        paxos_rpc::service(Rc::new(self.clone()))
    }

    /// Starts agreement on instance `seq` with `value` as this peer's
    /// proposal, and returns at once. Does nothing for a forgotten
    /// instance (below `min()`) or one already decided here.
    pub fn start(&self, seq: u64, value: Vec<u8>) {
        proposer::start(self, seq, value);
    }

    /// What this peer knows of instance `seq`, from local state only.
    pub fn status(&self, seq: u64) -> Fate {
        // SOLUTION BEGIN
        self.core.borrow().status(seq)
        // SOLUTION END
        // HANDOUT: let _ = seq;
        // HANDOUT: labrpc::not_implemented!("Paxos PX (basic Paxos): Paxos::status")
    }

    /// This peer's application no longer needs instances `<= seq`.
    pub fn done(&self, seq: u64) {
        // SOLUTION BEGIN
        let mut c = self.core.borrow_mut();
        let me = c.me;
        c.note_done(me, Some(seq));
        // SOLUTION END
        // HANDOUT: let _ = seq;
        // HANDOUT: labrpc::not_implemented!("Paxos PX (basic Paxos): Paxos::done")
    }

    /// The highest instance this peer has heard of (started, or seen in a
    /// message); `None` if none. Forgetting does not lower it.
    pub fn max(&self) -> Option<u64> {
        // SOLUTION BEGIN
        self.core.borrow().max
        // SOLUTION END
        // HANDOUT: labrpc::not_implemented!("Paxos PX (basic Paxos): Paxos::max")
    }

    /// One more than the lowest `done` over every peer (0 while any peer
    /// has not called `done`, or has not been heard from). Instances below
    /// it are forgotten: their memory is freed.
    pub fn min(&self) -> u64 {
        // SOLUTION BEGIN
        self.core.borrow().min
        // SOLUTION END
        // HANDOUT: labrpc::not_implemented!("Paxos PX (basic Paxos): Paxos::min")
    }
}
