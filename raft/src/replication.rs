//! Log replication: one replicator task per follower while leading.

// SOLUTION BEGIN
//!
//! A leader's behaviour, top to bottom: on winning, one [`replicator`] per
//! follower ([`start`]) sends it what it lacks ([`send`]) and heartbeats;
//! each answer is stepped ([`Core::step_leader`]), which moves the
//! follower's progress and the commit index (`Core::advance_commit`).

use futures::FutureExt;
use labrpc::task;
use labrpc::time::{Instant, sleep_until};
use log::debug;

use std::time::Duration;

use crate::peer::{Core, HEARTBEAT_INTERVAL, Response, Role, Shared};
use crate::rpc::{AppendEntriesArgs, InstallSnapshotArgs};

/// Starts a [`replicator`] for every other peer: `c` has just become the
/// leader of its term.
pub fn start(shared: &Shared, c: &Core) {
    for peer in (0..c.n()).filter(|&p| p != c.me) {
        task::spawn(replicator(shared.clone(), peer, c.term)).detach();
    }
}

/// Keeps `peer` up to date for as long as this peer leads `term`: sends
/// new entries as soon as there are some (and nothing is outstanding), and
/// a heartbeat at least every [`HEARTBEAT_INTERVAL`].
pub async fn replicator(shared: Shared, peer: usize, term: u64) {
    let wake = shared.borrow().replicate_wake[peer].clone();
    let mut heartbeat_due = Instant::now();
    loop {
        let idle = {
            let c = shared.borrow();
            let Role::Leader(p) = &c.role else { return };
            if c.term != term {
                return;
            }
            let behind = p.next[peer] <= c.log.last_index();
            Instant::now() < heartbeat_due && (!behind || p.inflight[peer])
        };
        if idle {
            futures::select_biased! {
                _ = wake.notified().fuse() => {}
                _ = sleep_until(heartbeat_due).fuse() => {}
            }
            continue;
        }
        let interval = send(&shared, peer, term);
        heartbeat_due = Instant::now() + interval;
    }
}

/// Sends `peer` what it needs next (entries, or the snapshot if they are
/// compacted away) and handles the reply in a task of its own. Returns how
/// long to wait before the next heartbeat.
fn send(shared: &Shared, peer: usize, term: u64) -> Duration {
    let mut c = shared.borrow_mut();
    let (base, base_term, last, commit) = (
        c.log.base(),
        c.log.base_term(),
        c.log.last_index(),
        c.commit_index,
    );
    let me = c.me;
    let Role::Leader(p) = &mut c.role else {
        return HEARTBEAT_INTERVAL;
    };
    let interval = p.heartbeat_interval(peer);
    let next = p.next[peer];
    p.inflight[peer] = next <= last;
    let client = c.peers[peer].clone();
    if next <= base {
        let args = InstallSnapshotArgs {
            term,
            leader: me,
            last_included_index: base,
            last_included_term: base_term,
            data: c.snapshot.clone(),
        };
        drop(c);
        let shared = shared.clone();
        task::spawn(async move {
            let reply = client.install_snapshot(&args).await;
            let mut c = shared.borrow_mut();
            c.settle(peer);
            if let Ok(reply) = reply {
                c.step(Response::InstallSnapshot { peer, args, reply });
            }
        })
        .detach();
        return interval;
    }
    let prev_log_index = next - 1;
    let args = AppendEntriesArgs {
        term,
        leader: me,
        prev_log_index,
        prev_log_term: c
            .log
            .term(prev_log_index)
            .expect("prev is at or after the base"),
        entries: c.log.entries_from(next).to_vec(),
        leader_commit: commit,
    };
    drop(c);
    let shared = shared.clone();
    task::spawn(async move {
        let reply = client.append_entries(&args).await;
        let mut c = shared.borrow_mut();
        c.settle(peer);
        if let Ok(reply) = reply {
            c.step(Response::AppendEntries { peer, args, reply });
        }
    })
    .detach();
    interval
}

/// A leader's steps.
impl Core {
    /// Steps a reply to a request of the current term, as the leader.
    pub(crate) fn step_leader(&mut self, msg: Response) {
        match msg {
            Response::AppendEntries { peer, args, reply } => {
                let last = self.log.last_index();
                let backup = match reply.conflict_term {
                    Some(t) => self
                        .log
                        .last_index_of_term(t)
                        .map_or(reply.conflict_index, |i| i + 1),
                    None => reply.log_len,
                };
                let me = self.me;
                let Role::Leader(p) = &mut self.role else {
                    unreachable!("step_leader while not leading")
                };
                p.last_heard[peer] = Instant::now();
                if reply.success {
                    let matched = args.prev_log_index + args.entries.len() as u64;
                    p.matched[peer] = p.matched[peer].max(matched);
                    p.next[peer] = p.next[peer].max(matched + 1);
                    self.advance_commit();
                } else {
                    // Never below what is known replicated, never past the end.
                    p.next[peer] = backup.clamp(p.matched[peer] + 1, last + 1);
                    debug!(target: "raft::append", "{me}: peer {peer} rejects at {}, next {}", args.prev_log_index, p.next[peer]);
                }
                self.replicate_wake[peer].notify();
            }
            Response::InstallSnapshot { peer, args, .. } => {
                let Role::Leader(p) = &mut self.role else {
                    unreachable!("step_leader while not leading")
                };
                p.last_heard[peer] = Instant::now();
                p.matched[peer] = p.matched[peer].max(args.last_included_index);
                p.next[peer] = p.next[peer].max(args.last_included_index + 1);
                self.replicate_wake[peer].notify();
            }
            // Late votes: it has already won.
            Response::RequestVote { .. } => {}
        }
    }

    /// A message to `peer` is no longer in flight: answered, lost, or
    /// refused by the network. (It may be from an earlier term in which
    /// this peer led too: then the next message goes out a little early.)
    pub(crate) fn settle(&mut self, peer: usize) {
        if let Role::Leader(p) = &mut self.role {
            p.inflight[peer] = false;
        }
    }
}
// SOLUTION END
// HANDOUT: // Your code here (3B): while leading, send each peer the entries it lacks
// HANDOUT: // (and heartbeats), handle the replies, advance the commit index.
// HANDOUT: // 3D: send InstallSnapshot to a peer that needs compacted entries.
