//! Incoming RPCs: what any peer does when asked for a vote, sent entries,
//! or sent a snapshot (Figure 2, "Receiver implementation").

use crate::core::Shared;
use crate::rpc::{
    AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, InstallSnapshotReply,
    RequestVoteArgs, RequestVoteReply, raft,
};
// SOLUTION BEGIN
use crate::core::Role;
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
    let mut c = shared.borrow_mut();
    if args.term > c.term {
        c.become_follower(args.term);
    }
    let granted = args.term == c.term
        && c.voted_for.is_none_or(|v| v == args.candidate)
        && c.candidate_up_to_date(args.last_log_index, args.last_log_term);
    if granted {
        // Persist before replying: a vote must survive a crash.
        c.voted_for = Some(args.candidate);
        c.persist();
        c.reset_election_timer();
    }
    debug!(target: "raft::vote", "{}: vote for {} in term {}: {}", c.me, args.candidate, args.term, granted);
    RequestVoteReply {
        term: c.term,
        granted,
    }
    // SOLUTION END
    // HANDOUT: let _ = (shared, args);
    // HANDOUT: labrpc::not_implemented!("Raft 3A (leader election): RequestVote")
}

/// AppendEntries receiver.
pub fn append_entries(shared: &Shared, args: AppendEntriesArgs) -> AppendEntriesReply {
    // SOLUTION BEGIN
    let mut args = args;
    let mut c = shared.borrow_mut();
    let mut reply = AppendEntriesReply {
        term: c.term,
        success: false,
        conflict_term: None,
        conflict_index: 0,
        log_len: 0,
    };
    if args.term < c.term {
        return reply;
    }
    // A current leader exists: follow it (a candidate of this term too).
    c.become_follower(args.term);
    c.reset_election_timer();
    reply.term = c.term;

    // Entries at or before our snapshot are committed: skip them.
    let base = c.log.base();
    if args.prev_log_index < base {
        let skip = (base - args.prev_log_index) as usize;
        if skip > args.entries.len() {
            reply.success = true;
            return reply;
        }
        args.entries.drain(..skip);
        args.prev_log_index = base;
        args.prev_log_term = c.log.base_term();
    }

    // Consistency check, with the fast-backup hints.
    match c.log.term(args.prev_log_index) {
        None => {
            reply.log_len = c.log.last_index() + 1;
            return reply;
        }
        Some(t) if t != args.prev_log_term => {
            reply.conflict_term = Some(t);
            reply.conflict_index = c.log.first_index_of_term(t).unwrap_or(base + 1);
            reply.log_len = c.log.last_index() + 1;
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
        match c.log.term(index) {
            Some(t) if t == entry.term => continue,
            Some(_) => {
                debug_assert!(index > c.commit_index, "truncating a committed entry");
                c.log.truncate_from(index);
                c.log.append(entry);
            }
            None => {
                c.log.append(entry);
            }
        }
        changed = true;
    }
    if changed {
        c.persist();
    }
    if args.leader_commit > c.commit_index {
        c.commit_to(args.leader_commit.min(last_new));
    }
    reply.success = true;
    reply
    // SOLUTION END
    // HANDOUT: let _ = (shared, args);
    // HANDOUT: labrpc::not_implemented!("Raft 3A (heartbeats) and 3B (log replication): AppendEntries")
}

/// InstallSnapshot receiver.
pub fn install_snapshot(shared: &Shared, args: InstallSnapshotArgs) -> InstallSnapshotReply {
    // SOLUTION BEGIN
    let mut c = shared.borrow_mut();
    if args.term < c.term {
        return InstallSnapshotReply { term: c.term };
    }
    c.become_follower(args.term);
    c.reset_election_timer();
    if args.last_included_index <= c.commit_index {
        // We already have (and may have applied) everything it covers.
        return InstallSnapshotReply { term: c.term };
    }
    debug!(target: "raft::snapshot", "{}: install snapshot ..={} (term {})", c.me, args.last_included_index, args.last_included_term);
    labrpc::trace::event(
        "snapshot",
        format!("{} installs snapshot ..={}", c.me, args.last_included_index),
    );
    c.log
        .compact(args.last_included_index, args.last_included_term);
    c.snapshot = args.data;
    c.commit_index = args.last_included_index;
    c.snapshot_pending = true;
    c.persist();
    c.apply_wake.notify();
    debug_assert!(matches!(c.role, Role::Follower));
    InstallSnapshotReply { term: c.term }
    // SOLUTION END
    // HANDOUT: let _ = (shared, args);
    // HANDOUT: labrpc::not_implemented!("Raft 3D (log compaction): InstallSnapshot")
}
