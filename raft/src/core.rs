//! One Raft peer's state, and the transitions between roles.
//!
//! Everything here is synchronous: RPC handlers and reply handlers borrow
//! the state, step it, and return. The tasks that wait (election timer,
//! replicators, applier) live in `election.rs`, `replication.rs` and
//! `apply.rs`.
// SOLUTION BEGIN
//!
//! Every message a peer receives, request or reply, goes through
//! [`Core::step`]: the term rules of Figure 2 ("Rules for all servers"),
//! once, then the current role's own `step_*`, as in etcd-io/raft:
//!
//! ```text
//! step(msg)                      core.rs: a newer term -> follow; an older one -> refuse or drop
//!   Follower  -> step_follower   handlers.rs: vote, AppendEntries, InstallSnapshot
//!   Candidate -> step_candidate  election.rs: count votes, win; or follow this term's leader
//!   Leader    -> step_leader     replication.rs: replies to AppendEntries / InstallSnapshot
//! check_invariants()             the field comments' invariants, in debug builds
//! ```
// SOLUTION END
// HANDOUT:

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::mpsc::UnboundedSender;
use labrpc::Persister;

use crate::ApplyMsg;
use crate::rpc::raft;
// SOLUTION BEGIN
use std::time::Duration;

use labrpc::notify::Notify;
use labrpc::time::Instant;
use log::debug;
use serde::{Deserialize, Serialize};

use crate::raft_log::Log;
use crate::rpc::{
    AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, InstallSnapshotReply,
    RequestVoteArgs, RequestVoteReply,
};
// SOLUTION END
// HANDOUT:

// SOLUTION BEGIN
/// The leader sends AppendEntries to each peer at least this often (the
/// lab allows at most ten heartbeats per second).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(150);
/// Election timeouts are drawn uniformly from this range, afresh each time
/// the timer is reset: several heartbeats long, so a few lost messages do
/// not start an election, and wide, so split votes are rare.
pub const ELECTION_TIMEOUT_MIN: Duration = Duration::from_millis(600);
/// See [`ELECTION_TIMEOUT_MIN`].
pub const ELECTION_TIMEOUT_MAX: Duration = Duration::from_millis(1200);
/// A follower the leader has not heard from for this long is probed only
/// every [`PROBE_INTERVAL`] instead of at every heartbeat: a crashed or
/// cut-off peer costs few RPCs, and one that comes back hears from the
/// leader within a probe interval.
pub const UNRESPONSIVE_AFTER: Duration = Duration::from_millis(450);
/// See [`UNRESPONSIVE_AFTER`].
pub const PROBE_INTERVAL: Duration = Duration::from_millis(600);
// SOLUTION END
// HANDOUT:

/// A shared handle to one peer's state. Only tasks of the peer's node (and
/// the tester, through `labrpc::node::enter`) touch it.
pub type Shared = Rc<RefCell<Core>>;

// SOLUTION BEGIN
/// What a peer currently is.
#[derive(Debug)]
pub enum Role {
    /// Follows whoever leads the current term (or no one yet).
    Follower,
    /// Campaigning in the current term.
    Candidate {
        /// Votes received in this term, including its own.
        votes: usize,
    },
    /// Leads the current term.
    Leader(Progress),
}

/// The leader's view of each follower.
///
/// Invariant: `matched[p] < next[p] <= log.last_index() + 1` for every
/// peer `p` (the leader's own slots are set when it wins and unused after).
#[derive(Debug)]
pub struct Progress {
    /// Index of the next entry to send to each peer.
    pub next: Vec<u64>,
    /// Highest index known to be replicated on each peer.
    pub matched: Vec<u64>,
    /// Whether an AppendEntries or InstallSnapshot carrying entries is
    /// outstanding (heartbeats are sent regardless).
    pub inflight: Vec<bool>,
    /// When each peer last answered (any reply, in this term).
    pub last_heard: Vec<Instant>,
}

impl Progress {
    /// How long until `peer`'s next heartbeat: short while it answers,
    /// a slow probe once it has gone quiet.
    pub fn heartbeat_interval(&self, peer: usize) -> Duration {
        if self.last_heard[peer].elapsed() > UNRESPONSIVE_AFTER {
            PROBE_INTERVAL
        } else {
            HEARTBEAT_INTERVAL
        }
    }
}

/// Every message a peer steps: the three requests, and the replies to the
/// requests it sent (with those requests: a reply means something only
/// next to what it answers).
#[derive(Debug)]
pub enum Message {
    /// A candidate asks for this peer's vote.
    RequestVote(RequestVoteArgs),
    /// A leader sends entries (or a heartbeat).
    AppendEntries(AppendEntriesArgs),
    /// A leader sends its snapshot.
    InstallSnapshot(InstallSnapshotArgs),
    /// `peer` answered this peer's RequestVote `args`.
    RequestVoteReply {
        /// Who answered.
        peer: usize,
        /// What this peer asked.
        args: RequestVoteArgs,
        /// The answer.
        reply: RequestVoteReply,
    },
    /// `peer` answered this peer's AppendEntries `args`.
    AppendEntriesReply {
        /// Who answered.
        peer: usize,
        /// What this peer sent.
        args: AppendEntriesArgs,
        /// The answer.
        reply: AppendEntriesReply,
    },
    /// `peer` answered this peer's InstallSnapshot `args`.
    InstallSnapshotReply {
        /// Who answered.
        peer: usize,
        /// What this peer sent.
        args: InstallSnapshotArgs,
        /// The answer.
        reply: InstallSnapshotReply,
    },
}

impl Message {
    /// The sender's term: the requester's, or the replier's.
    fn term(&self) -> u64 {
        match self {
            Message::RequestVote(args) => args.term,
            Message::AppendEntries(args) => args.term,
            Message::InstallSnapshot(args) => args.term,
            Message::RequestVoteReply { reply, .. } => reply.term,
            Message::AppendEntriesReply { reply, .. } => reply.term,
            Message::InstallSnapshotReply { reply, .. } => reply.term,
        }
    }

    /// The term of the exchange: a request's own, or the term in which
    /// this peer sent the request a reply answers.
    fn exchange_term(&self) -> u64 {
        match self {
            Message::RequestVote(args) | Message::RequestVoteReply { args, .. } => args.term,
            Message::AppendEntries(args) | Message::AppendEntriesReply { args, .. } => args.term,
            Message::InstallSnapshot(args) | Message::InstallSnapshotReply { args, .. } => {
                args.term
            }
        }
    }

    /// The answer to a message of an earlier term than `term`: a request
    /// is refused (with `term`, so that its sender catches up); a reply
    /// comes too late to matter.
    fn refusal(&self, term: u64) -> Option<Reply> {
        match self {
            Message::RequestVote(_) => Some(Reply::RequestVote(RequestVoteReply {
                term,
                granted: false,
            })),
            Message::AppendEntries(_) => Some(Reply::AppendEntries(AppendEntriesReply {
                term,
                success: false,
                conflict_term: None,
                conflict_index: 0,
                log_len: 0,
            })),
            Message::InstallSnapshot(_) => {
                Some(Reply::InstallSnapshot(InstallSnapshotReply { term }))
            }
            _ => None,
        }
    }
}

/// The answer to a request (replies get none).
#[derive(Debug)]
pub enum Reply {
    /// To a RequestVote.
    RequestVote(RequestVoteReply),
    /// To an AppendEntries.
    AppendEntries(AppendEntriesReply),
    /// To an InstallSnapshot.
    InstallSnapshot(InstallSnapshotReply),
}

/// What survives a crash (Figure 2's persistent state).
#[derive(Deserialize)]
struct Persistent {
    term: u64,
    voted_for: Option<usize>,
    log: Log,
}

/// [`Persistent`], borrowed for encoding (same wire format).
#[derive(Serialize)]
struct PersistentRef<'a> {
    term: u64,
    voted_for: Option<usize>,
    log: &'a Log,
}
// SOLUTION END
// HANDOUT:

/// One Raft peer.
// SOLUTION BEGIN
// SOLUTION END
// HANDOUT: #[allow(dead_code)] // until your code reads these fields
pub struct Core {
    /// This peer's index in `peers`.
    pub me: usize,
    /// Clients to every peer (the entry at `me` is never used).
    pub peers: Vec<raft::Client>,
    /// Where committed commands and installed snapshots go, in order.
    pub apply_tx: UnboundedSender<ApplyMsg>,
    /// Durable storage.
    pub persister: Persister,
    // SOLUTION BEGIN
    /// Latest term this peer has seen. Persistent; never decreases.
    pub term: u64,
    /// Candidate voted for in `term`. Persistent; at most one per term.
    pub voted_for: Option<usize>,
    /// The log. Persistent.
    pub log: Log,
    /// The snapshot covering `log.base()` (also on the persister).
    pub snapshot: Vec<u8>,
    /// Highest index known committed.
    /// Invariant: `log.base() <= commit_index <= log.last_index()`.
    pub commit_index: u64,
    /// Highest index handed to the applier.
    /// Invariant: `last_applied <= commit_index`, except transiently while
    /// `snapshot_pending` holds.
    pub last_applied: u64,
    /// A snapshot received from the leader that the service has not seen.
    pub snapshot_pending: bool,
    /// The current role.
    pub role: Role,
    /// When the election timer fires, unless reset first.
    pub election_deadline: Instant,
    /// Wakes the election timer task.
    pub election_wake: Notify,
    /// Wakes the applier task.
    pub apply_wake: Notify,
    /// Wakes the replicator task of each peer (when leading).
    pub replicate_wake: Vec<Notify>,
    // SOLUTION END
    // HANDOUT: // Your state here (3A, 3B, 3C, 3D): Figure 2 of the paper.
}

impl Core {
    /// A peer restored from `persister` (empty if it holds nothing).
    pub fn new(
        me: usize,
        peers: Vec<raft::Client>,
        persister: Persister,
        apply_tx: UnboundedSender<ApplyMsg>,
    ) -> Core {
        // SOLUTION BEGIN
        let n = peers.len();
        let mut core = Core {
            me,
            peers,
            apply_tx,
            term: 0,
            voted_for: None,
            log: Log::default(),
            snapshot: persister.read_snapshot(),
            commit_index: 0,
            last_applied: 0,
            snapshot_pending: false,
            role: Role::Follower,
            election_deadline: Instant::now(),
            election_wake: Notify::default(),
            apply_wake: Notify::default(),
            replicate_wake: (0..n).map(|_| Notify::default()).collect(),
            persister,
        };
        let state = core.persister.read_state();
        if !state.is_empty() {
            let p: Persistent = labcodec::decode(&state)
                .unwrap_or_else(|e| panic!("raft {me}: cannot decode the persisted state: {e}"));
            core.term = p.term;
            core.voted_for = p.voted_for;
            core.log = p.log;
            // The service restores itself from the snapshot on restart.
            core.commit_index = core.log.base();
            core.last_applied = core.log.base();
        }
        core.reset_election_timer();
        core
        // SOLUTION END
        // HANDOUT: // Your code here (3C): restore the state the persister holds.
        // HANDOUT: Core {
        // HANDOUT:     me,
        // HANDOUT:     peers,
        // HANDOUT:     apply_tx,
        // HANDOUT:     persister,
        // HANDOUT: }
    }

    // SOLUTION BEGIN
    /// Number of peers, including this one.
    pub fn n(&self) -> usize {
        self.peers.len()
    }

    /// Whether this peer leads its current term.
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }

    /// Saves term, vote and log, with the current snapshot.
    pub fn persist(&self) {
        let state = self.encode_state();
        debug!(target: "raft::persist", "{}: persist term {} vote {:?} log ..={}", self.me, self.term, self.voted_for, self.log.last_index());
        self.persister.save(state, self.snapshot.clone());
    }

    fn encode_state(&self) -> Vec<u8> {
        labcodec::encode(&PersistentRef {
            term: self.term,
            voted_for: self.voted_for,
            log: &self.log,
        })
        .expect("raft state always encodes")
    }

    /// Draws a new election timeout from now.
    pub fn reset_election_timer(&mut self) {
        let lo = ELECTION_TIMEOUT_MIN.as_nanos() as u64;
        let hi = ELECTION_TIMEOUT_MAX.as_nanos() as u64;
        let timeout = Duration::from_nanos(labrpc::rand::gen_range(lo..hi));
        self.election_deadline = Instant::now() + timeout;
        self.election_wake.notify();
    }

    /// Steps one message, request or reply; returns the answer to a
    /// request. Figure 2's rules for all servers come first, here, for
    /// every message alike:
    ///
    /// - a newer term, in a request or a reply, makes this peer adopt it
    ///   (forgetting its vote) and follow;
    /// - a message of an older term is refused if it is a request, and
    ///   dropped if it is a reply (it answers a request of an older term).
    ///
    /// What is left is a message of the current term, which the current
    /// role handles: [`Core::step_follower`], [`Core::step_candidate`],
    /// [`Core::step_leader`].
    pub fn step(&mut self, msg: Message) -> Option<Reply> {
        if msg.term() > self.term {
            self.become_follower(msg.term());
        }
        let reply = if msg.exchange_term() < self.term {
            msg.refusal(self.term)
        } else {
            match self.role {
                Role::Follower => self.step_follower(msg),
                Role::Candidate { .. } => self.step_candidate(msg),
                Role::Leader(_) => self.step_leader(msg),
            }
        };
        self.check_invariants();
        reply
    }

    /// Adopts `term` if it is newer (forgetting the vote) and follows.
    pub fn become_follower(&mut self, term: u64) {
        let was_leader = self.is_leader();
        if term > self.term {
            self.term = term;
            self.voted_for = None;
            self.persist();
        }
        self.role = Role::Follower;
        if was_leader {
            debug!(target: "raft::vote", "{}: steps down in term {}", self.me, self.term);
            labrpc::trace::event(
                "follower",
                format!("{} steps down, term {}", self.me, self.term),
            );
        }
    }

    /// Moves `commit_index` forward (never back, never past the log) and
    /// wakes the applier.
    pub fn commit_to(&mut self, index: u64) {
        let index = index.min(self.log.last_index());
        if index > self.commit_index {
            debug!(target: "raft::commit", "{}: commit {} -> {} (term {})", self.me, self.commit_index, index, self.term);
            labrpc::trace::event("commit", format!("{} commits ..={index}", self.me));
            self.commit_index = index;
            self.apply_wake.notify();
        }
    }

    /// Checks, in debug builds, the invariants the field comments state;
    /// called after every step and every change from outside a step.
    pub fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        let me = self.me;
        let (base, last) = (self.log.base(), self.log.last_index());
        debug_assert!(
            base <= self.commit_index && self.commit_index <= last,
            "{me}: commit index {} outside the log {base}..={last}",
            self.commit_index
        );
        debug_assert!(
            self.last_applied <= self.commit_index,
            "{me}: applied {} beyond the commit index {}",
            self.last_applied,
            self.commit_index
        );
        debug_assert!(
            base <= self.last_applied || self.snapshot_pending,
            "{me}: the snapshot ..={base} is neither applied (applied ..={}) nor pending",
            self.last_applied
        );
        debug_assert!(
            self.log.last_term() <= self.term,
            "{me}: a log entry of term {} is newer than the current term {}",
            self.log.last_term(),
            self.term
        );
        let majority = self.n() / 2 + 1;
        match &self.role {
            Role::Follower => {}
            Role::Candidate { votes } => {
                debug_assert_eq!(
                    self.voted_for,
                    Some(me),
                    "{me}: a candidate votes for itself"
                );
                debug_assert!(
                    (1..majority).contains(votes),
                    "{me}: a candidate with {votes} votes of {majority} needed"
                );
            }
            Role::Leader(p) => {
                debug_assert_eq!(self.voted_for, Some(me), "{me}: a leader voted for itself");
                for peer in 0..self.n() {
                    debug_assert!(
                        p.matched[peer] < p.next[peer] && p.next[peer] <= last + 1,
                        "{me}: peer {peer} has match {} and next {}, log ..={last}",
                        p.matched[peer],
                        p.next[peer]
                    );
                }
            }
        }
        // Persistent state is saved before anything that depends on it.
        let saved = self.persister.read_state();
        let pristine = self.term == 0 && self.voted_for.is_none() && last == 0;
        debug_assert!(
            saved == self.encode_state() || (saved.is_empty() && pristine),
            "{me}: term, vote or log changed without being persisted"
        );
        debug_assert!(
            self.persister.read_snapshot() == self.snapshot,
            "{me}: the snapshot changed without being persisted"
        );
    }
    // SOLUTION END
    // HANDOUT: // Your helpers here: persisting, stepping down, committing, ...
}
