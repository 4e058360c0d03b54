//! The messages Raft peers exchange (Figure 2 of the extended paper, plus
//! the fast-backup hints of the 6.5840 lab text).

use serde::{Deserialize, Serialize};

// SOLUTION BEGIN
use crate::raft_log::Entry;
// SOLUTION END
// HANDOUT:

/// RequestVote arguments.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestVoteArgs {
    // SOLUTION BEGIN
    /// Candidate's term.
    pub term: u64,
    /// Candidate requesting the vote.
    pub candidate: usize,
    /// Index of the candidate's last log entry.
    pub last_log_index: u64,
    /// Term of the candidate's last log entry.
    pub last_log_term: u64,
    // SOLUTION END
    // HANDOUT: // Your fields here (3A).
}

/// RequestVote reply.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestVoteReply {
    // SOLUTION BEGIN
    /// The voter's term, for the candidate to update itself.
    pub term: u64,
    /// Whether the candidate received the vote.
    pub granted: bool,
    // SOLUTION END
    // HANDOUT: // Your fields here (3A).
}

/// AppendEntries arguments (a heartbeat has no entries).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendEntriesArgs {
    // SOLUTION BEGIN
    /// Leader's term.
    pub term: u64,
    /// So followers can redirect clients.
    pub leader: usize,
    /// Index of the entry immediately preceding the new ones.
    pub prev_log_index: u64,
    /// Term of that entry.
    pub prev_log_term: u64,
    /// Entries to store.
    pub entries: Vec<Entry>,
    /// Leader's commit index.
    pub leader_commit: u64,
    // SOLUTION END
    // HANDOUT: // Your fields here (3A, 3B).
}

/// AppendEntries reply.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppendEntriesReply {
    // SOLUTION BEGIN
    /// The follower's term, for the leader to update itself.
    pub term: u64,
    /// True if the follower had an entry matching prev_log_index/term.
    pub success: bool,
    /// On a mismatch: the term of the follower's conflicting entry, if any.
    pub conflict_term: Option<u64>,
    /// On a mismatch: the first index the follower has for conflict_term.
    pub conflict_index: u64,
    /// On a mismatch: the follower's log length (last index + 1).
    pub log_len: u64,
    // SOLUTION END
    // HANDOUT: // Your fields here (3A, 3B).
}

/// InstallSnapshot arguments (the whole snapshot in one message).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstallSnapshotArgs {
    // SOLUTION BEGIN
    /// Leader's term.
    pub term: u64,
    /// So followers can redirect clients.
    pub leader: usize,
    /// The snapshot replaces all entries up through this index.
    pub last_included_index: u64,
    /// Term of that entry.
    pub last_included_term: u64,
    /// The service's snapshot.
    pub data: Vec<u8>,
    // SOLUTION END
    // HANDOUT: // Your fields here (3D).
}

/// InstallSnapshot reply.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstallSnapshotReply {
    // SOLUTION BEGIN
    /// The follower's term, for the leader to update itself.
    pub term: u64,
    // SOLUTION END
    // HANDOUT: // Your fields here (3D).
}

labrpc::service! {
    /// The RPCs between Raft peers.
    pub service raft {
        /// Invoked by candidates to gather votes.
        fn request_vote(RequestVoteArgs) -> RequestVoteReply;
        /// Invoked by the leader to replicate entries; also a heartbeat.
        fn append_entries(AppendEntriesArgs) -> AppendEntriesReply;
        /// Invoked by the leader to send a follower its snapshot.
        fn install_snapshot(InstallSnapshotArgs) -> InstallSnapshotReply;
    }
}
