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
//! once, for every message, and only then what the message itself asks
//! (as etcd-io/raft's `Step` does before `stepLeader` / `stepCandidate` /
//! `stepFollower`):
//!
//! ```text
//! step(msg)           peer.rs: a newer term -> follow it; an older one -> refuse or drop
//!   a request         handlers.rs: the receiver rules, in any role (a candidate
//!                     that hears from this term's leader follows it)
//!   a reply, by role  election.rs: step_candidate counts votes, wins
//!                     replication.rs: step_leader moves a follower's progress, commits
//! check_invariants()  the field comments' invariants, in debug builds
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

/// A reply to a request this peer sent, with that request (a reply means
/// something only next to what it answers).
#[derive(Debug)]
pub enum Response {
    /// `peer` answered this peer's RequestVote `args`.
    RequestVote {
        /// Who answered.
        peer: usize,
        /// What this peer asked.
        args: RequestVoteArgs,
        /// The answer.
        reply: RequestVoteReply,
    },
    /// `peer` answered this peer's AppendEntries `args`.
    AppendEntries {
        /// Who answered.
        peer: usize,
        /// What this peer sent.
        args: AppendEntriesArgs,
        /// The answer.
        reply: AppendEntriesReply,
    },
    /// `peer` answered this peer's InstallSnapshot `args`.
    InstallSnapshot {
        /// Who answered.
        peer: usize,
        /// What this peer sent.
        args: InstallSnapshotArgs,
        /// The answer.
        reply: InstallSnapshotReply,
    },
}

/// What a peer steps ([`Core::step`]): each of the three requests, answered
/// with its own reply type, and a [`Response`], answered with nothing.
pub trait Message {
    /// What stepping it gives back.
    type Answer;
    /// The sender's term: the requester's, or the replier's.
    fn term(&self) -> u64;
    /// The term of the exchange: a request's own, or the term in which
    /// this peer sent the request a reply answers.
    fn exchange_term(&self) -> u64;
    /// The answer to a message of an earlier exchange term than `term`: a
    /// request is refused (with `term`, so that its sender catches up); a
    /// reply comes too late to matter.
    fn refusal(term: u64) -> Self::Answer;
    /// Steps a message of the current term.
    fn step_current(self, c: &mut Core) -> Self::Answer;
}

impl Message for RequestVoteArgs {
    type Answer = RequestVoteReply;
    fn term(&self) -> u64 {
        self.term
    }
    fn exchange_term(&self) -> u64 {
        self.term
    }
    fn refusal(term: u64) -> RequestVoteReply {
        RequestVoteReply {
            term,
            granted: false,
        }
    }
    fn step_current(self, c: &mut Core) -> RequestVoteReply {
        c.vote(self)
    }
}

impl Message for AppendEntriesArgs {
    type Answer = AppendEntriesReply;
    fn term(&self) -> u64 {
        self.term
    }
    fn exchange_term(&self) -> u64 {
        self.term
    }
    fn refusal(term: u64) -> AppendEntriesReply {
        AppendEntriesReply {
            term,
            success: false,
            conflict_term: None,
            conflict_index: 0,
            log_len: 0,
        }
    }
    fn step_current(self, c: &mut Core) -> AppendEntriesReply {
        c.append_entries(self)
    }
}

impl Message for InstallSnapshotArgs {
    type Answer = InstallSnapshotReply;
    fn term(&self) -> u64 {
        self.term
    }
    fn exchange_term(&self) -> u64 {
        self.term
    }
    fn refusal(term: u64) -> InstallSnapshotReply {
        InstallSnapshotReply { term }
    }
    fn step_current(self, c: &mut Core) -> InstallSnapshotReply {
        c.install_snapshot(self)
    }
}

impl Message for Response {
    type Answer = ();
    fn term(&self) -> u64 {
        match self {
            Response::RequestVote { reply, .. } => reply.term,
            Response::AppendEntries { reply, .. } => reply.term,
            Response::InstallSnapshot { reply, .. } => reply.term,
        }
    }
    fn exchange_term(&self) -> u64 {
        match self {
            Response::RequestVote { args, .. } => args.term,
            Response::AppendEntries { args, .. } => args.term,
            Response::InstallSnapshot { args, .. } => args.term,
        }
    }
    fn refusal(_: u64) {}
    /// A reply goes to the role that sent the request; a peer that
    /// follows now has no use for it.
    fn step_current(self, c: &mut Core) {
        match c.role {
            Role::Follower => {}
            Role::Candidate { .. } => c.step_candidate(self),
            Role::Leader(_) => c.step_leader(self),
        }
    }
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

    /// Steps one message, request or reply; returns a request's reply (of
    /// the request's own reply type) and nothing for a reply. Figure 2's rules for all servers come first, here, for
    /// every message alike:
    ///
    /// - a newer term, in a request or a reply, makes this peer adopt it
    ///   (forgetting its vote) and follow;
    /// - a message of an older term is refused if it is a request, and
    ///   dropped if it is a reply (it answers a request of an older term).
    ///
    /// What is left is a message of the current term. A request is
    /// answered by Figure 2's receiver rules, the same in every role
    /// ([`Core::vote`], [`Core::append_entries`],
    /// [`Core::install_snapshot`]); a reply goes to the role that sent the
    /// request ([`Core::step_candidate`], [`Core::step_leader`]; a peer
    /// that follows now has no use for it).
    pub fn step<M: Message>(&mut self, msg: M) -> M::Answer {
        if msg.term() > self.term {
            self.become_follower(msg.term());
        }
        let answer = if msg.exchange_term() < self.term {
            M::refusal(self.term)
        } else {
            msg.step_current(self)
        };
        self.check_invariants();
        answer
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
            labrpc::trace::event_with(
                "follower",
                [("peer", self.me.into()), ("term", self.term.into())],
            );
        }
    }

    /// Moves `commit_index` forward (never back, never past the log) and
    /// wakes the applier.
    pub fn commit_to(&mut self, index: u64) {
        let index = index.min(self.log.last_index());
        if index > self.commit_index {
            debug!(target: "raft::commit", "{}: commit {} -> {} (term {})", self.me, self.commit_index, index, self.term);
            labrpc::trace::event_with(
                "commit",
                [("peer", self.me.into()), ("index", index.into())],
            );
            self.commit_index = index;
            self.apply_wake.notify();
        }
    }

    /// Leader: commits the highest index stored on a majority whose entry
    /// is from the current term (§5.4.2: never by counting replicas of an
    /// older term's entry).
    pub fn advance_commit(&mut self) {
        let Role::Leader(p) = &self.role else { return };
        let mut matched = p.matched.clone();
        matched[self.me] = self.log.last_index();
        matched.sort_unstable();
        // The (n/2+1)-th highest match is stored on a majority.
        let majority = matched[(matched.len() - 1) / 2];
        if majority > self.commit_index && self.log.term(majority) == Some(self.term) {
            self.commit_to(majority);
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
// SOLUTION BEGIN

/// The reference's own tests: the rules of Figure 2 and §5.4 of the
/// extended paper, one test per rule, on the state machine alone, in the
/// spirit of etcd-io/raft's `raft_paper_test.go`. Not the student's grader
/// (that is `tests/grader`): `lab handout` removes this module with the
/// rest of the solution.
///
/// Each test builds peer 0 of a cluster with a given term and log, steps
/// messages into it with [`Core::step`] and looks at its state and its
/// answers. Nothing is sent: the peers' clients are connected to nothing,
/// and no task runs unless a test spawns one.
#[cfg(test)]
mod paper_tests {
    use std::time::Duration;

    use futures::channel::mpsc;
    use labrpc::time::Instant;
    use labrpc::{network, node, task};

    use super::*;
    use crate::raft_log::Entry;

    /// Runs `test` in a fresh simulation (virtual time, seeded randomness).
    fn sim(test: fn()) {
        labrpc::Builder::new()
            .seed(1)
            .run(move || async move { test() });
    }

    fn entry(term: u64) -> Entry {
        Entry {
            term,
            command: vec![term as u8],
        }
    }

    /// Peer 0 of `n`, on a node of its own, a follower in `term` with a log
    /// whose entries (from index 1) have `terms`, all persisted.
    fn peer(n: usize, term: u64, terms: &[u64]) -> Core {
        peer_sending_to(n, term, terms, mpsc::unbounded().0)
    }

    fn peer_sending_to(
        n: usize,
        term: u64,
        terms: &[u64],
        apply_tx: mpsc::UnboundedSender<ApplyMsg>,
    ) -> Core {
        let node = node::create("raft-0");
        let peers = (0..n)
            .map(|i| raft::Client::new(network().make_end(format!("{node:?}-to-{i}"), node)))
            .collect();
        let mut c = Core::new(0, peers, node::persister(node), apply_tx);
        c.term = term;
        for &t in terms {
            c.log.append(entry(t));
        }
        c.persist();
        c.check_invariants();
        c
    }

    /// Peer 0 of `n`, campaigning in `term` (from `term - 1`), with the
    /// RequestVote it sends.
    fn candidate(n: usize, term: u64, terms: &[u64]) -> (Core, RequestVoteArgs) {
        let mut c = peer(n, term - 1, terms);
        let args = c.campaign();
        (c, args)
    }

    /// Peer 0 of `n`, elected leader of `term` (by campaigning from
    /// `term - 1` and winning the votes of peers 1, 2, ...).
    fn leader(n: usize, term: u64, terms: &[u64]) -> Core {
        let (mut c, args) = candidate(n, term, terms);
        for p in 1..n {
            if c.is_leader() {
                break;
            }
            c.step(vote_reply(p, &args, term, true));
        }
        assert!(c.is_leader());
        c
    }

    /// The leader's service proposes `count` commands (as `Raft::start`).
    fn propose(c: &mut Core, count: usize) {
        for _ in 0..count {
            c.log.append(entry(c.term));
        }
        c.persist();
    }

    /// The terms of the entries after the base.
    fn terms(c: &Core) -> Vec<u64> {
        (c.log.base() + 1..=c.log.last_index())
            .map(|i| c.log.term(i).unwrap())
            .collect()
    }

    fn progress(c: &Core) -> &Progress {
        match &c.role {
            Role::Leader(p) => p,
            other => panic!("not the leader: {other:?}"),
        }
    }

    fn request_vote(
        term: u64,
        candidate: usize,
        last_index: u64,
        last_term: u64,
    ) -> RequestVoteArgs {
        RequestVoteArgs {
            term,
            candidate,
            last_log_index: last_index,
            last_log_term: last_term,
        }
    }

    fn vote_reply(peer: usize, args: &RequestVoteArgs, term: u64, granted: bool) -> Response {
        Response::RequestVote {
            peer,
            args: args.clone(),
            reply: RequestVoteReply { term, granted },
        }
    }

    fn append_args(term: u64, prev: (u64, u64), entries: &[u64], commit: u64) -> AppendEntriesArgs {
        AppendEntriesArgs {
            term,
            leader: 1,
            prev_log_index: prev.0,
            prev_log_term: prev.1,
            entries: entries.iter().map(|&t| entry(t)).collect(),
            leader_commit: commit,
        }
    }

    fn append(term: u64, prev: (u64, u64), entries: &[u64], commit: u64) -> AppendEntriesArgs {
        append_args(term, prev, entries, commit)
    }

    /// `peer`'s answer `success` (in `term`) to the AppendEntries that
    /// followed `prev` with `entries`.
    fn append_reply(peer: usize, args: AppendEntriesArgs, term: u64, success: bool) -> Response {
        Response::AppendEntries {
            peer,
            args,
            reply: AppendEntriesReply {
                term,
                success,
                conflict_term: None,
                conflict_index: 0,
                log_len: 0,
            },
        }
    }

    /// `peer`'s success (in `term`) at storing `entries` after `prev`.
    fn acked(peer: usize, term: u64, prev: (u64, u64), entries: &[u64]) -> Response {
        append_reply(peer, append_args(term, prev, entries, 0), term, true)
    }

    fn snapshot_args(term: u64, index: u64, index_term: u64) -> InstallSnapshotArgs {
        InstallSnapshotArgs {
            term,
            leader: 1,
            last_included_index: index,
            last_included_term: index_term,
            data: vec![7; 3],
        }
    }

    /// The peer as it would restart from its persister.
    fn restarted(c: &Core) -> Core {
        Core::new(
            c.me,
            c.peers.clone(),
            c.persister.clone(),
            mpsc::unbounded().0,
        )
    }

    // Figure 2, "Rules for All Servers".

    /// If an RPC request contains term T > currentTerm: set currentTerm =
    /// T, convert to follower (§5.1), and forget the vote.
    #[test]
    fn any_request_with_a_newer_term_makes_a_follower_of_that_term() {
        sim(|| {
            let requests: [&dyn Fn(&mut Core); 3] = [
                &|c| _ = c.step(request_vote(5, 2, 0, 0)),
                &|c| _ = c.step(append(5, (0, 0), &[], 0)),
                &|c| _ = c.step(snapshot_args(5, 1, 1)),
            ];
            for step in requests {
                let mut c = leader(3, 2, &[1]);
                step(&mut c);
                assert_eq!(c.term, 5);
                assert!(matches!(c.role, Role::Follower));
                assert_ne!(c.voted_for, Some(0), "the vote of term 2 is forgotten");
                assert_eq!(restarted(&c).term, 5, "the new term is persisted");
            }
        });
    }

    /// If an RPC response contains term T > currentTerm: set currentTerm =
    /// T, convert to follower (§5.1).
    #[test]
    fn any_reply_with_a_newer_term_makes_a_follower_of_that_term() {
        sim(|| {
            let (mut c, args) = candidate(3, 2, &[]);
            c.step(vote_reply(1, &args, 4, false));
            assert_eq!((c.term, c.voted_for), (4, None));
            assert!(matches!(c.role, Role::Follower));

            let mut c = leader(3, 2, &[]);
            c.step(append_reply(1, append_args(2, (0, 0), &[], 0), 4, false));
            assert_eq!(c.term, 4);
            assert!(matches!(c.role, Role::Follower));

            let mut c = leader(3, 2, &[]);
            c.step(Response::InstallSnapshot {
                peer: 1,
                args: snapshot_args(2, 0, 0),
                reply: InstallSnapshotReply { term: 4 },
            });
            assert_eq!(c.term, 4);
            assert!(matches!(c.role, Role::Follower));
            assert_eq!(restarted(&c).term, 4, "the new term is persisted");
        });
    }

    /// If commitIndex > lastApplied: increment lastApplied, apply
    /// log[lastApplied] to the state machine (§5.3), in log order.
    #[test]
    fn committed_entries_are_applied_in_order_once() {
        labrpc::Builder::new().seed(1).run(|| async {
            let (tx, mut rx) = mpsc::unbounded();
            let shared: Shared = Rc::new(RefCell::new(peer_sending_to(3, 2, &[1, 1, 2], tx)));
            task::spawn(crate::apply::applier(shared.clone())).detach();
            shared.borrow_mut().commit_to(2);
            labrpc::time::sleep(Duration::from_millis(1)).await;
            shared.borrow_mut().commit_to(3);
            labrpc::time::sleep(Duration::from_millis(1)).await;
            let mut got = Vec::new();
            while let Ok(ApplyMsg::Command { index, term, .. }) = rx.try_recv() {
                got.push((index, term));
            }
            assert_eq!(got, [(1, 1), (2, 1), (3, 2)]);
            assert_eq!(shared.borrow().last_applied, 3);
        });
    }

    // Figure 2, RequestVote RPC, receiver implementation.

    /// Rule 1: Reply false if term < currentTerm (§5.1), with currentTerm.
    #[test]
    fn request_vote_of_an_older_term_is_refused() {
        sim(|| {
            let mut c = peer(3, 3, &[]);
            let reply = c.step(request_vote(2, 1, 5, 2));
            assert!(!reply.granted);
            assert_eq!(reply.term, 3, "the reply teaches the candidate the term");
            assert_eq!((c.term, c.voted_for), (3, None));
        });
    }

    /// Rule 2: If votedFor is null or candidateId ... grant vote: one vote per
    /// term, persisted before the reply.
    #[test]
    fn one_vote_per_term_persisted_before_the_reply() {
        sim(|| {
            let mut c = peer(3, 1, &[]);
            assert!(c.step(request_vote(2, 1, 0, 0)).granted);
            assert_eq!(c.voted_for, Some(1));
            assert_eq!(restarted(&c).voted_for, Some(1), "the vote is persisted");
            assert!(
                !c.step(request_vote(2, 2, 0, 0)).granted,
                "another candidate of the same term"
            );
            assert!(
                c.step(request_vote(2, 1, 0, 0)).granted,
                "the same candidate again (a duplicate request)"
            );
            assert!(
                c.step(request_vote(3, 2, 0, 0)).granted,
                "a new term, a new vote"
            );
        });
    }

    /// Rule 2: ... and candidate's log is at least as up-to-date as receiver's
    /// log, grant vote (§5.2, §5.4.1: the later last term wins; with equal
    /// last terms, the longer log).
    #[test]
    fn vote_only_for_a_log_at_least_as_up_to_date() {
        sim(|| {
            // The voter's log ends at index 3, term 2.
            let cases = [
                (2, 3, true),  // same last term, same length
                (2, 4, true),  // same last term, longer
                (2, 2, false), // same last term, shorter
                (3, 1, true),  // later last term, shorter
                (1, 9, false), // earlier last term, longer
            ];
            for (last_term, last_index, granted) in cases {
                let mut c = peer(3, 3, &[1, 2, 2]);
                let reply = c.step(request_vote(4, 1, last_index, last_term));
                assert_eq!(
                    reply.granted, granted,
                    "candidate's log ends at index {last_index} term {last_term}"
                );
            }
        });
    }

    // Figure 2, AppendEntries RPC, receiver implementation.

    /// Rule 1: Reply false if term < currentTerm (§5.1), and do not take the
    /// stale leader for a current one (no timer reset).
    #[test]
    fn append_entries_of_an_older_term_is_refused() {
        sim(|| {
            let mut c = peer(3, 3, &[1]);
            c.election_deadline = Instant::now();
            let reply = c.step(append(2, (1, 1), &[2], 1));
            assert!(!reply.success);
            assert_eq!(reply.term, 3);
            assert_eq!(terms(&c), [1]);
            assert_eq!(c.commit_index, 0);
            assert_eq!(c.election_deadline, Instant::now(), "no timer reset");
        });
    }

    /// Rule 2: Reply false if log doesn't contain an entry at prevLogIndex whose
    /// term matches prevLogTerm (§5.3), changing nothing.
    #[test]
    fn append_entries_needs_a_matching_previous_entry() {
        sim(|| {
            let mut c = peer(3, 3, &[1, 1, 2]);
            let reply = c.step(append(3, (5, 2), &[3], 0));
            assert!(!reply.success, "no entry at prevLogIndex");
            assert_eq!(reply.log_len, 4, "the hint: where the log ends");
            let reply = c.step(append(3, (3, 3), &[3], 0));
            assert!(!reply.success, "an entry of another term at prevLogIndex");
            assert_eq!(
                (reply.conflict_term, reply.conflict_index),
                (Some(2), 3),
                "the hint: the conflicting term and its first index"
            );
            assert_eq!(terms(&c), [1, 1, 2]);
            assert!(c.step(append(3, (2, 1), &[], 0)).success);
        });
    }

    /// Rule 3: If an existing entry conflicts with a new one (same index but
    /// different terms), delete the existing entry and all that follow it
    /// (§5.3).
    #[test]
    fn a_conflicting_entry_and_all_after_it_are_deleted() {
        sim(|| {
            let mut c = peer(3, 3, &[1, 1, 2, 2]);
            assert!(c.step(append(3, (2, 1), &[3], 0)).success);
            assert_eq!(terms(&c), [1, 1, 3]);
            assert_eq!(restarted(&c).log, c.log, "the log is persisted");
        });
    }

    /// Rule 4: Append any new entries not already in the log; entries that are
    /// already there stay, and so do the ones after them (an outdated
    /// AppendEntries must not erase what a later one appended).
    #[test]
    fn new_entries_are_appended_and_matching_ones_kept() {
        sim(|| {
            let mut c = peer(3, 3, &[1]);
            assert!(c.step(append(3, (1, 1), &[3, 3, 3], 0)).success);
            assert_eq!(terms(&c), [1, 3, 3, 3]);
            // An older message of the same leader, with a prefix of those.
            assert!(c.step(append(3, (1, 1), &[3], 0)).success);
            assert_eq!(terms(&c), [1, 3, 3, 3]);
            assert_eq!(restarted(&c).log, c.log, "the log is persisted");
        });
    }

    /// Rule 5: If leaderCommit > commitIndex, set commitIndex = min(leaderCommit,
    /// index of last new entry).
    #[test]
    fn commit_index_follows_the_leader_up_to_the_last_new_entry() {
        sim(|| {
            let mut c = peer(3, 2, &[1, 1, 1, 1]);
            // Entries after index 2 were not vouched for by this message:
            // they may be stale leftovers.
            assert!(c.step(append(2, (1, 1), &[1], 4)).success);
            assert_eq!(c.commit_index, 2);
            assert!(c.step(append(2, (2, 1), &[1, 2], 3)).success);
            assert_eq!(c.commit_index, 3);
            // Never backwards.
            assert!(c.step(append(2, (4, 2), &[], 1)).success);
            assert_eq!(c.commit_index, 3);
        });
    }

    // Figure 2, "Rules for Servers", Followers (§5.2).

    /// If election timeout elapses without receiving AppendEntries from the
    /// current leader or granting a vote: convert to candidate. So both of
    /// those push the election timer back, and nothing else does.
    #[test]
    fn only_the_leader_or_a_granted_vote_resets_the_election_timer() {
        sim(|| {
            let mut c = peer(3, 2, &[1]);
            let now = Instant::now();
            c.election_deadline = now;
            c.step(request_vote(2, 1, 0, 0));
            assert_eq!(c.election_deadline, now, "a refused vote");
            c.step(append(2, (1, 1), &[], 0));
            assert!(
                c.election_deadline >= now + ELECTION_TIMEOUT_MIN,
                "AppendEntries"
            );
            c.election_deadline = now;
            c.step(append(2, (7, 2), &[], 0));
            assert!(
                c.election_deadline >= now + ELECTION_TIMEOUT_MIN,
                "even a rejected AppendEntries comes from the current leader"
            );
            c.election_deadline = now;
            c.step(request_vote(3, 1, 1, 1));
            assert!(
                c.election_deadline >= now + ELECTION_TIMEOUT_MIN,
                "a granted vote"
            );
        });
    }

    // Figure 2, "Rules for Servers", Candidates (§5.2).

    /// On conversion to candidate: increment currentTerm, vote for self,
    /// reset the election timer, send RequestVote (with the last log entry)
    /// to all other servers. Term and vote are persisted first.
    #[test]
    fn a_campaign_starts_a_new_term_with_a_vote_for_itself() {
        sim(|| {
            let mut c = peer(3, 4, &[1, 4]);
            let now = Instant::now();
            c.election_deadline = now;
            let args = c.campaign();
            assert!(matches!(c.role, Role::Candidate { votes: 1 }));
            assert_eq!((c.term, c.voted_for), (5, Some(0)));
            assert!(c.election_deadline >= now + ELECTION_TIMEOUT_MIN);
            assert_eq!(
                (
                    args.term,
                    args.candidate,
                    args.last_log_index,
                    args.last_log_term
                ),
                (5, 0, 2, 4)
            );
            let r = restarted(&c);
            assert_eq!((r.term, r.voted_for), (5, Some(0)), "persisted");
        });
    }

    /// If votes received from a majority of servers: become leader. Only
    /// granted votes of this term's campaign count.
    #[test]
    fn a_candidate_leads_once_a_majority_voted_for_it() {
        sim(|| {
            let (mut c, old) = candidate(5, 2, &[]);
            c.step(vote_reply(1, &old, 2, true));
            let args = c.campaign(); // Split vote: a new term.
            c.step(vote_reply(2, &old, 2, true)); // A late vote from term 2.
            c.step(vote_reply(2, &args, 3, false));
            c.step(vote_reply(3, &args, 3, true));
            assert!(matches!(c.role, Role::Candidate { votes: 2 }), "2 of 5");
            c.step(vote_reply(4, &args, 3, true));
            assert!(c.is_leader(), "3 of 5");
            assert_eq!(c.term, 3);
        });
    }

    /// A single peer is a majority by itself.
    #[test]
    fn a_lone_peer_leads_at_once() {
        sim(|| {
            let (c, _) = candidate(1, 1, &[]);
            assert!(c.is_leader());
        });
    }

    /// If AppendEntries RPC received from new leader: convert to follower
    /// (§5.2): a candidate that hears from a leader of its own term.
    #[test]
    fn a_candidate_follows_a_leader_of_its_term() {
        sim(|| {
            let (mut c, _) = candidate(3, 2, &[1]);
            let reply = c.step(append(2, (1, 1), &[2], 0));
            assert!(reply.success);
            assert!(matches!(c.role, Role::Follower));
            assert_eq!(
                (c.term, c.voted_for),
                (2, Some(0)),
                "the vote of term 2 stays"
            );
            assert_eq!(terms(&c), [1, 2]);

            let (mut c, _) = candidate(3, 2, &[1]);
            c.step(snapshot_args(2, 3, 2));
            assert!(matches!(c.role, Role::Follower));
        });
    }

    // Figure 2, "Rules for Servers", Leaders (§5.3, §5.4).

    /// Upon election: nextIndex = leader's last log index + 1, matchIndex =
    /// 0, for every follower; a leader refuses other candidates of its
    /// term (it voted for itself).
    #[test]
    fn a_new_leader_assumes_followers_are_up_to_date() {
        sim(|| {
            let mut c = leader(3, 3, &[1, 2]);
            let p = progress(&c);
            assert_eq!((p.next[1], p.matched[1]), (3, 0));
            assert_eq!((p.next[2], p.matched[2]), (3, 0));
            assert!(!c.step(request_vote(3, 2, 9, 3)).granted);
            assert!(c.is_leader());
        });
    }

    /// If successful: update nextIndex and matchIndex for the follower
    /// (§5.3), never backwards (replies arrive out of order).
    #[test]
    fn a_successful_append_moves_the_followers_progress() {
        sim(|| {
            let mut c = leader(3, 2, &[1, 1, 1]);
            c.step(acked(1, 2, (1, 1), &[1, 1]));
            assert_eq!((progress(&c).next[1], progress(&c).matched[1]), (4, 3));
            c.step(acked(1, 2, (1, 1), &[]));
            assert_eq!((progress(&c).next[1], progress(&c).matched[1]), (4, 3));
        });
    }

    /// If AppendEntries fails because of log inconsistency: decrement
    /// nextIndex and retry (§5.3); here it backs up to the follower's
    /// hint, but never to or below what the follower is known to match.
    #[test]
    fn a_rejected_append_backs_next_index_up() {
        sim(|| {
            let mut c = leader(3, 3, &[1, 1, 2, 2, 2]);
            assert_eq!(progress(&c).next[1], 6);
            let mut reject = append_reply(1, append_args(3, (5, 2), &[], 0), 3, false);
            if let Response::AppendEntries { reply, .. } = &mut reject {
                reply.log_len = 3; // The follower's log ends at 2.
            }
            c.step(reject);
            assert_eq!(progress(&c).next[1], 3);
            // A conflict in term 1, which the leader has: just after its last.
            let mut reject = append_reply(2, append_args(3, (5, 2), &[], 0), 3, false);
            if let Response::AppendEntries { reply, .. } = &mut reject {
                (reply.conflict_term, reply.conflict_index) = (Some(1), 2);
            }
            c.step(reject);
            assert_eq!(progress(&c).next[2], 3);
            // Peer 1 matches through 2: a late rejection cannot go below 3.
            c.step(acked(1, 3, (0, 0), &[1, 1]));
            let mut reject = append_reply(1, append_args(3, (2, 1), &[], 0), 3, false);
            if let Response::AppendEntries { reply, .. } = &mut reject {
                reply.log_len = 1;
            }
            c.step(reject);
            assert_eq!(progress(&c).next[1], 3);
        });
    }

    /// If there exists an N such that N > commitIndex, a majority of
    /// matchIndex[i] >= N, and log[N].term == currentTerm: set commitIndex
    /// = N (§5.3, §5.4).
    #[test]
    fn the_leader_commits_what_a_majority_stores() {
        sim(|| {
            let mut c = leader(5, 2, &[]);
            propose(&mut c, 3);
            c.step(acked(1, 2, (0, 0), &[2, 2]));
            assert_eq!(c.commit_index, 0, "2 of 5 store index 2");
            c.step(acked(2, 2, (0, 0), &[2]));
            assert_eq!(c.commit_index, 1, "3 of 5 store index 1");
            c.step(acked(3, 2, (0, 0), &[2, 2, 2]));
            assert_eq!(c.commit_index, 2, "3 of 5 store index 2");
        });
    }

    /// §5.4.2 (Figure 8): a leader never commits an entry of an earlier
    /// term by counting replicas; it commits it only with an entry of its
    /// own term after it.
    #[test]
    fn entries_of_earlier_terms_are_not_committed_by_counting() {
        sim(|| {
            let mut c = leader(3, 4, &[1, 2]);
            c.step(acked(1, 4, (0, 0), &[1, 2]));
            assert_eq!(c.commit_index, 0, "index 2 (term 2) is on a majority");
            propose(&mut c, 1);
            c.step(acked(1, 4, (2, 2), &[4]));
            assert_eq!(c.commit_index, 3, "index 3 (term 4) commits 1..=3");
        });
    }

    /// A reply to a request of an earlier term is dropped (Figure 2 does not
    /// say it; a leader of a later term must not count it).
    #[test]
    fn replies_to_an_earlier_term_are_dropped() {
        sim(|| {
            let mut c = leader(3, 3, &[1, 1]);
            c.step(append_reply(1, append_args(2, (0, 0), &[1, 1], 0), 3, true));
            c.step(Response::InstallSnapshot {
                peer: 2,
                args: snapshot_args(2, 2, 1),
                reply: InstallSnapshotReply { term: 3 },
            });
            let p = progress(&c);
            assert_eq!((p.matched[1], p.matched[2], c.commit_index), (0, 0, 0));

            let (mut c, old) = candidate(5, 2, &[]);
            c.campaign();
            for peer in 1..5 {
                c.step(vote_reply(peer, &old, 2, true));
            }
            assert!(matches!(c.role, Role::Candidate { votes: 1 }));
        });
    }

    // Figure 13, InstallSnapshot RPC, receiver implementation (§7).

    /// Rule 1: Reply immediately if term < currentTerm.
    #[test]
    fn install_snapshot_of_an_older_term_is_refused() {
        sim(|| {
            let mut c = peer(3, 3, &[1]);
            let reply = c.step(snapshot_args(2, 5, 2));
            assert_eq!(reply.term, 3);
            assert_eq!((c.log.base(), c.commit_index), (0, 0));
        });
    }

    /// Rule 6: If existing log entry has same index and term as snapshot's last
    /// included entry, retain log entries following it; rule 7: otherwise
    /// discard the entire log. The snapshot is persisted and handed to the
    /// service; one that covers no more than what is committed is ignored.
    #[test]
    fn a_snapshot_replaces_the_log_it_covers() {
        sim(|| {
            let mut c = peer(3, 3, &[1, 2, 2, 3]);
            c.step(snapshot_args(3, 2, 2));
            assert_eq!((c.log.base(), c.log.base_term()), (2, 2));
            assert_eq!(terms(&c), [2, 3], "the entries after it are kept");
            assert_eq!((c.commit_index, c.snapshot_pending), (2, true));
            let r = restarted(&c);
            assert_eq!((r.log.base(), r.snapshot.clone()), (2, vec![7; 3]));

            let mut c = peer(3, 3, &[1, 2, 2, 3]);
            c.step(snapshot_args(3, 3, 3));
            assert_eq!((c.log.base(), c.log.last_index()), (3, 3));
            assert_eq!(terms(&c), [0u64; 0], "a conflicting log is discarded");

            c.step(append(3, (3, 3), &[3, 3], 5));
            c.step(snapshot_args(3, 4, 3));
            assert_eq!(c.log.base(), 3, "older than the commit index: ignored");
        });
    }

    // Figure 2, "Persistent state on all servers": updated on stable
    // storage before responding to RPCs.

    /// A restarted peer comes back with exactly the term, vote and log it
    /// had persisted, and from its snapshot.
    #[test]
    fn a_restarted_peer_has_its_term_vote_and_log() {
        sim(|| {
            let mut c = peer(3, 1, &[1]);
            c.step(request_vote(2, 2, 1, 1));
            c.step(append(2, (1, 1), &[2, 2], 2));
            let r = restarted(&c);
            assert_eq!((r.term, r.voted_for), (2, Some(2)));
            assert_eq!(terms(&r), [1, 2, 2]);
            assert!(matches!(r.role, Role::Follower));
            assert_eq!((r.commit_index, r.last_applied), (0, 0), "volatile");
        });
    }
}
// SOLUTION END
// HANDOUT:
