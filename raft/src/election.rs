//! Leader election: the election timer, campaigns, and winning.

// SOLUTION BEGIN
//!
//! A candidate's behaviour, top to bottom: the timer fires
//! ([`ticker`]), the peer campaigns ([`Core::campaign`]) and asks every
//! other peer for its vote ([`request_votes`]); each answer is stepped
//! ([`Core::step_candidate`]) until a majority makes it leader
//! ([`Core::become_leader`]), or a leader of its term makes it follow
//! (`Core::append_entries`).

use futures::FutureExt;
use labrpc::task;
use labrpc::time::{Instant, sleep_until};
use log::debug;

use crate::peer::{Core, Progress, Response, Role, Shared};
use crate::replication;
use crate::rpc::RequestVoteArgs;

/// The election timer: starts a campaign whenever the deadline passes
/// without being pushed back (by a heartbeat or a granted vote).
pub async fn ticker(shared: Shared) {
    loop {
        let (deadline, wake) = {
            let c = shared.borrow();
            (c.election_deadline, c.election_wake.clone())
        };
        futures::select_biased! {
            _ = wake.notified().fuse() => continue,
            _ = sleep_until(deadline).fuse() => {}
        }
        let mut c = shared.borrow_mut();
        if Instant::now() < c.election_deadline {
            continue;
        }
        if c.is_leader() {
            c.reset_election_timer();
        } else {
            let args = c.campaign();
            request_votes(&shared, &c, args);
        }
    }
}

/// Sends `args` to every other peer, each in a task of its own that steps
/// the answer, and starts leading if that answer wins the election.
fn request_votes(shared: &Shared, c: &Core, args: RequestVoteArgs) {
    for peer in (0..c.n()).filter(|&p| p != c.me) {
        let client = c.peers[peer].clone();
        let args = args.clone();
        let shared = shared.clone();
        task::spawn(async move {
            let Ok(reply) = client.request_vote(&args).await else {
                return;
            };
            let mut c = shared.borrow_mut();
            let was_leader = c.is_leader();
            c.step(Response::RequestVote { peer, args, reply });
            if !was_leader && c.is_leader() {
                replication::start(&shared, &c);
            }
        })
        .detach();
    }
}

/// A candidate's steps.
impl Core {
    /// Starts an election in a new term: votes for itself (and wins at
    /// once if that is a majority: a single peer). Returns the RequestVote
    /// to send every other peer.
    pub(crate) fn campaign(&mut self) -> RequestVoteArgs {
        self.term += 1;
        self.voted_for = Some(self.me);
        self.role = Role::Candidate { votes: 1 };
        self.persist();
        self.reset_election_timer();
        debug!(target: "raft::vote", "{}: campaigns in term {}", self.me, self.term);
        let args = RequestVoteArgs {
            term: self.term,
            candidate: self.me,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
        };
        if self.n() == 1 {
            self.become_leader();
        }
        self.check_invariants();
        args
    }

    /// Steps a reply to a request of the current term, as a candidate.
    pub(crate) fn step_candidate(&mut self, msg: Response) {
        // A candidate sent no AppendEntries or InstallSnapshot this term.
        let Response::RequestVote { peer, reply, .. } = msg else {
            return;
        };
        let majority = self.n() / 2 + 1;
        if let Role::Candidate { votes } = &mut self.role
            && reply.granted
        {
            *votes += 1;
            debug!(target: "raft::vote", "{}: vote from {peer} in term {}: {votes} of {majority}", self.me, self.term);
            if *votes >= majority {
                self.become_leader();
            }
        }
    }

    /// Becomes leader of the current term: every follower is assumed to be
    /// up to date until it says otherwise. The caller starts the
    /// replicators ([`replication::start`]).
    pub(crate) fn become_leader(&mut self) {
        let n = self.n();
        let last = self.log.last_index();
        let mut matched = vec![0; n];
        matched[self.me] = last;
        self.role = Role::Leader(Progress {
            next: vec![last + 1; n],
            matched,
            inflight: vec![false; n],
            last_heard: vec![Instant::now(); n],
        });
        debug!(target: "raft::vote", "{}: leader of term {}", self.me, self.term);
        labrpc::trace::event_with(
            "leader",
            [("peer", self.me.into()), ("term", self.term.into())],
        );
    }
}
// SOLUTION END
// HANDOUT: // Your code here (3A): the election timer, campaigns, counting votes,
// HANDOUT: // becoming leader.
