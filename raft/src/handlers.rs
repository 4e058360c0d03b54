//! Incoming RPCs: what any peer does when asked for a vote, sent entries,
//! or sent a snapshot (Figure 2, "Receiver implementation").

use crate::peer::Shared;
use crate::rpc::{
    AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, InstallSnapshotReply,
    RequestVoteArgs, RequestVoteReply, raft,
};
// SOLUTION BEGIN
use crate::peer::{Core, Role};
use log::debug;
// SOLUTION END
// HANDOUT:

/// The RPC service of one peer.
pub struct Handler(pub Shared);

impl raft::Service for Handler {
    async fn request_vote(&self, args: RequestVoteArgs) -> RequestVoteReply {
        request_vote(&self.0, args)
    }

    async fn append_entries(&self, args: AppendEntriesArgs) -> AppendEntriesReply {
        append_entries(&self.0, args)
    }

    async fn install_snapshot(&self, args: InstallSnapshotArgs) -> InstallSnapshotReply {
        install_snapshot(&self.0, args)
    }
}

/// RequestVote receiver.
pub fn request_vote(shared: &Shared, args: RequestVoteArgs) -> RequestVoteReply {
    // SOLUTION BEGIN
    shared.borrow_mut().step(args)
    // SOLUTION END
    // HANDOUT: let _ = (shared, args);
    // HANDOUT: labrpc::not_implemented!("Raft 3A (leader election): RequestVote")
}

/// AppendEntries receiver.
pub fn append_entries(shared: &Shared, args: AppendEntriesArgs) -> AppendEntriesReply {
    // SOLUTION BEGIN
    shared.borrow_mut().step(args)
    // SOLUTION END
    // HANDOUT: let _ = (shared, args);
    // HANDOUT: labrpc::not_implemented!("Raft 3A (heartbeats) and 3B (log replication): AppendEntries")
}

/// InstallSnapshot receiver.
pub fn install_snapshot(shared: &Shared, args: InstallSnapshotArgs) -> InstallSnapshotReply {
    // SOLUTION BEGIN
    shared.borrow_mut().step(args)
    // SOLUTION END
    // HANDOUT: let _ = (shared, args);
    // HANDOUT: labrpc::not_implemented!("Raft 3D (log compaction): InstallSnapshot")
}
// SOLUTION BEGIN

/// Figure 2's receiver implementations: what a peer does with a request of
/// its current term, in any role ([`Core::step`] has already dealt with
/// the request's term).
impl Core {
    /// RequestVote: granted if this peer
    /// has not voted for another candidate and the candidate's log is at
    /// least as up to date as its own (§5.2, §5.4.1). A candidate or a
    /// leader has voted for itself, so it refuses.
    pub(crate) fn vote(&mut self, args: RequestVoteArgs) -> RequestVoteReply {
        let granted = self.voted_for.is_none_or(|v| v == args.candidate)
            && self.candidate_up_to_date(args.last_log_index, args.last_log_term);
        if granted {
            // Persist before replying: a vote must survive a crash.
            self.voted_for = Some(args.candidate);
            self.persist();
            self.reset_election_timer();
        }
        debug!(target: "raft::vote", "{}: vote for {} in term {}: {}", self.me, args.candidate, args.term, granted);
        RequestVoteReply {
            term: self.term,
            granted,
        }
    }

    /// The leader of the current term is alive: a candidate of this term
    /// follows it (§5.2; a leader never hears from another: election
    /// safety), and no one campaigns for a while.
    fn follow_leader(&mut self) {
        self.become_follower(self.term);
        self.reset_election_timer();
    }

    /// Whether a candidate whose log ends at (`index`, `term`) is at least
    /// as up to date as this peer (§5.4.1).
    fn candidate_up_to_date(&self, index: u64, term: u64) -> bool {
        let (my_index, my_term) = (self.log.last_index(), self.log.last_term());
        term > my_term || (term == my_term && index >= my_index)
    }

    /// AppendEntries from the leader of the current term.
    pub(crate) fn append_entries(&mut self, mut args: AppendEntriesArgs) -> AppendEntriesReply {
        self.follow_leader();
        let mut reply = AppendEntriesReply {
            term: self.term,
            success: false,
            conflict_term: None,
            conflict_index: 0,
            log_len: 0,
        };

        // Entries at or before our snapshot are committed: skip them.
        let base = self.log.base();
        if args.prev_log_index < base {
            let skip = (base - args.prev_log_index) as usize;
            if skip > args.entries.len() {
                reply.success = true;
                return reply;
            }
            args.entries.drain(..skip);
            args.prev_log_index = base;
            args.prev_log_term = self.log.base_term();
        }

        // Consistency check, with the fast-backup hints.
        match self.log.term(args.prev_log_index) {
            None => {
                reply.log_len = self.log.last_index() + 1;
                return reply;
            }
            Some(t) if t != args.prev_log_term => {
                reply.conflict_term = Some(t);
                reply.conflict_index = self.log.first_index_of_term(t).unwrap_or(base + 1);
                reply.log_len = self.log.last_index() + 1;
                return reply;
            }
            Some(_) => {}
        }

        // The last index this message vouches for: entries beyond it may be
        // stale leftovers of an older term, not yet checked by this leader.
        let last_new = args.prev_log_index + args.entries.len() as u64;
        // Append what is new; truncate only at a real conflict, since an
        // outdated AppendEntries must not erase entries a newer one added.
        let mut changed = false;
        for (i, entry) in args.entries.into_iter().enumerate() {
            let index = args.prev_log_index + 1 + i as u64;
            match self.log.term(index) {
                Some(t) if t == entry.term => continue,
                Some(_) => {
                    debug_assert!(index > self.commit_index, "truncating a committed entry");
                    self.log.truncate_from(index);
                    self.log.append(entry);
                }
                None => {
                    self.log.append(entry);
                }
            }
            changed = true;
        }
        if changed {
            self.persist();
        }
        if args.leader_commit > self.commit_index {
            self.commit_to(args.leader_commit.min(last_new));
        }
        reply.success = true;
        reply
    }

    /// InstallSnapshot from the leader of the current term.
    pub(crate) fn install_snapshot(&mut self, args: InstallSnapshotArgs) -> InstallSnapshotReply {
        self.follow_leader();
        let reply = InstallSnapshotReply { term: self.term };
        if args.last_included_index <= self.commit_index {
            // We already have (and may have applied) everything it covers.
            return reply;
        }
        debug!(target: "raft::snapshot", "{}: install snapshot ..={} (term {})", self.me, args.last_included_index, args.last_included_term);
        labrpc::trace::event_with(
            "snapshot",
            [
                ("peer", self.me.into()),
                ("index", args.last_included_index.into()),
            ],
        );
        self.log
            .compact(args.last_included_index, args.last_included_term);
        self.snapshot = args.data;
        self.commit_index = args.last_included_index;
        self.snapshot_pending = true;
        self.persist();
        self.apply_wake.notify();
        debug_assert!(matches!(self.role, Role::Follower));
        reply
    }
}
// SOLUTION END
// HANDOUT:
