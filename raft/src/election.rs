//! Leader election: the election timer, campaigns, and winning.

// SOLUTION BEGIN
use futures::FutureExt;
use labrpc::task;
use labrpc::time::{Instant, sleep_until};
use log::debug;

use crate::core::{Core, Progress, Role, Shared};
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
            campaign(&shared, &mut c);
        }
    }
}

/// Starts an election in a new term: votes for itself, asks everyone else.
fn campaign(shared: &Shared, c: &mut Core) {
    c.term += 1;
    c.voted_for = Some(c.me);
    c.role = Role::Candidate { votes: 1 };
    c.persist();
    c.reset_election_timer();
    debug!(target: "raft::vote", "{}: campaigns in term {}", c.me, c.term);
    let args = RequestVoteArgs {
        term: c.term,
        candidate: c.me,
        last_log_index: c.log.last_index(),
        last_log_term: c.log.last_term(),
    };
    if c.n() == 1 {
        win(shared, c);
        return;
    }
    for peer in (0..c.n()).filter(|&p| p != c.me) {
        let client = c.peers[peer].clone();
        let args = args.clone();
        let shared = shared.clone();
        task::spawn(async move {
            let Ok(reply) = client.request_vote(&args).await else {
                return;
            };
            let mut c = shared.borrow_mut();
            if reply.term > c.term {
                c.become_follower(reply.term);
                return;
            }
            if c.term != args.term || !reply.granted {
                return;
            }
            let majority = c.n() / 2 + 1;
            if let Role::Candidate { votes } = &mut c.role {
                *votes += 1;
                if *votes >= majority {
                    win(&shared, &mut c);
                }
            }
        })
        .detach();
    }
}

/// Becomes leader of the current term and starts replicating.
fn win(shared: &Shared, c: &mut Core) {
    let n = c.n();
    let last = c.log.last_index();
    let mut matched = vec![0; n];
    matched[c.me] = last;
    c.role = Role::Leader(Progress {
        next: vec![last + 1; n],
        matched,
        inflight: vec![false; n],
        last_heard: vec![Instant::now(); n],
    });
    debug!(target: "raft::vote", "{}: leader of term {}", c.me, c.term);
    labrpc::trace::event("leader", format!("{} leads term {}", c.me, c.term));
    for peer in (0..n).filter(|&p| p != c.me) {
        task::spawn(crate::replication::replicator(shared.clone(), peer, c.term)).detach();
    }
}
// SOLUTION END
// HANDOUT: // Your code here (3A): the election timer, campaigns, counting votes,
// HANDOUT: // becoming leader.
