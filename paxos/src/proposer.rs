//! The proposer: phase 1 and phase 2 until the instance is decided, with
//! randomized backoff; Multi-Paxos's leader and forwarding.

use crate::Paxos;
// SOLUTION BEGIN
use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use futures::future::{Either, LocalBoxFuture, Ready, ready};
use futures::stream::FuturesUnordered;
use labrpc::time::{Instant, sleep};
use labrpc::{RpcError, rand, task};

use crate::framework::Learners;
use crate::rpc::{
    AcceptArgs, AcceptOutcome, Ballot, ForwardArgs, PrepareArgs, PrepareOutcome, Slot,
};
use crate::state::Leader;

/// The first backoff after a failed round is random below this; it
/// doubles per failure up to [`MAX_BACKOFF`].
const BACKOFF: Duration = Duration::from_millis(10);
/// See [`BACKOFF`].
const MAX_BACKOFF: Duration = Duration::from_millis(320);
/// Multi-Paxos: a leader heard from this recently is trusted.
const LEADER_LEASE: Duration = Duration::from_millis(500);
/// Multi-Paxos: how long a peer waits for the leader to decide a value it
/// forwarded before it suspects the leader and runs phase 1 itself.
const FORWARD_WAIT: Duration = Duration::from_millis(100);

enum Phase {
    /// The instance is decided (or forgotten): stop.
    Settled,
    /// Phase 1 won: propose this value (None: free choice).
    Promised(Option<Vec<u8>>),
    /// Phase 2 won.
    Chosen,
    /// Not enough answers: back off and retry.
    Failed,
}
// SOLUTION END
// HANDOUT:

/// Starts a proposer for `seq` unless the instance is settled here or a
/// proposer already runs for it.
pub(crate) fn start(px: &Paxos, seq: u64, value: Vec<u8>) {
    // SOLUTION BEGIN
    let mut c = px.core.borrow_mut();
    if seq < c.min {
        return;
    }
    c.observe(seq);
    if c.settled(seq) || !c.proposing.insert(seq) {
        return;
    }
    drop(c);
    task::spawn(propose(px.clone(), seq, value)).detach();
    // SOLUTION END
    // HANDOUT: let _ = (px, seq, value);
    // HANDOUT: labrpc::not_implemented!("Paxos PX (basic Paxos): the proposer")
}

// SOLUTION BEGIN
async fn propose(px: Paxos, seq: u64, value: Vec<u8>) {
    let mut failures = 0u32;
    let mut forwarded = false;
    let multi = px.core.borrow().config.multi;
    loop {
        if px.core.borrow().settled(seq) {
            break;
        }
        if multi {
            let lead = {
                let c = px.core.borrow();
                c.leader
                    .as_ref()
                    .filter(|l| seq >= l.from)
                    .map(|l| (l.ballot, l.adopted.get(&seq).map(|(_, v)| v.clone())))
            };
            if let Some((ballot, adopted)) = lead {
                let v = adopted.unwrap_or_else(|| value.clone());
                match phase2(&px, seq, ballot, v).await {
                    Phase::Chosen | Phase::Settled => break,
                    _ => {
                        let mut c = px.core.borrow_mut();
                        if c.leader.as_ref().is_some_and(|l| l.ballot == ballot) {
                            c.leader = None;
                        }
                    }
                }
            } else if !forwarded && let Some(l) = known_leader(&px) {
                forwarded = true;
                let args = ForwardArgs {
                    seq,
                    value: value.clone(),
                    piggy: px.core.borrow().piggy(),
                };
                if let Ok(r) = px.peers[l].forward(&args).await {
                    px.core.borrow_mut().note_piggy(r.piggy);
                    let extra = rand::gen_range(0..FORWARD_WAIT.as_millis() as u64);
                    sleep(FORWARD_WAIT + Duration::from_millis(extra)).await;
                }
                continue;
            }
        }
        let ballot = px.core.borrow_mut().next_ballot();
        match phase1(&px, seq, ballot, multi).await {
            Phase::Settled => break,
            Phase::Promised(v) => {
                let v = v.unwrap_or_else(|| value.clone());
                if matches!(
                    phase2(&px, seq, ballot, v).await,
                    Phase::Chosen | Phase::Settled
                ) {
                    break;
                }
            }
            _ => {}
        }
        failures += 1;
        let cap = (BACKOFF * 2u32.pow(failures.min(6))).min(MAX_BACKOFF);
        sleep(Duration::from_micros(rand::gen_range(
            0..cap.as_micros() as u64,
        )))
        .await;
    }
    px.core.borrow_mut().proposing.remove(&seq);
}

/// Multi-Paxos: a leader other than this peer, recently heard from.
fn known_leader(px: &Paxos) -> Option<usize> {
    let c = px.core.borrow();
    c.known_leader
        .filter(|&(l, at)| l != c.me && Instant::now().saturating_duration_since(at) < LEADER_LEASE)
        .map(|(l, _)| l)
}

/// One request's reply: at once for the peer itself, else over the network.
type Call<'a, R> = Either<Ready<Result<R, RpcError>>, LocalBoxFuture<'a, Result<R, RpcError>>>;

/// Sends `f(j)` to every peer `j` (itself directly through `local`).
fn broadcast<'a, R: 'a>(
    px: &'a Paxos,
    local: impl Fn() -> R,
    remote: impl Fn(usize) -> LocalBoxFuture<'a, Result<R, RpcError>>,
) -> FuturesUnordered<Call<'a, R>> {
    let me = px.core.borrow().me;
    (0..px.peers.len())
        .map(|j| {
            if j == me {
                Either::Left(ready(Ok(local())))
            } else {
                Either::Right(remote(j))
            }
        })
        .collect()
}

/// Learned the decision from an acceptor's reply: tell the others, who
/// may have no proposer of their own to learn it with.
fn settle(px: &Paxos, seq: u64, value: Vec<u8>) {
    let news = px.core.borrow_mut().learn(seq, value.clone());
    if news {
        let n = px.peers.len();
        px.tell_decided(&(0..n).collect::<Vec<_>>(), seq, value);
    }
}

async fn phase1(px: &Paxos, seq: u64, ballot: Ballot, all: bool) -> Phase {
    let (n, majority, args) = {
        let c = px.core.borrow();
        let args = PrepareArgs {
            seq,
            ballot,
            all,
            piggy: c.piggy(),
        };
        (c.n, c.majority(), args)
    };
    let mut replies = broadcast(
        px,
        || px.handle_prepare(args.clone()),
        |j| {
            let args = args.clone();
            Box::pin(async move { px.peers[j].prepare(&args).await })
        },
    );
    let mut oks = 0;
    let mut fails = 0;
    let mut best: Option<(Ballot, Vec<u8>)> = None;
    let mut adopted: BTreeMap<u64, (Ballot, Vec<u8>)> = BTreeMap::new();
    while let Some(r) = replies.next().await {
        let Ok(r) = r else {
            fails += 1;
            if fails > n - majority {
                return Phase::Failed;
            }
            continue;
        };
        px.core.borrow_mut().note_piggy(r.piggy);
        match r.outcome {
            PrepareOutcome::Promise { accepted, decided } => {
                for d in decided {
                    settle(px, d.seq, d.value);
                }
                for Slot {
                    seq: s,
                    ballot: b,
                    value: v,
                } in accepted
                {
                    if s == seq && best.as_ref().is_none_or(|(bb, _)| b > *bb) {
                        best = Some((b, v.clone()));
                    }
                    if all && adopted.get(&s).is_none_or(|(bb, _)| b > *bb) {
                        adopted.insert(s, (b, v));
                    }
                }
                oks += 1;
                if oks >= majority {
                    break;
                }
            }
            PrepareOutcome::Reject(b) => {
                px.core.borrow_mut().observe_ballot(b);
                fails += 1;
                if fails > n - majority {
                    return Phase::Failed;
                }
            }
            PrepareOutcome::Decided(v) => {
                settle(px, seq, v);
                return Phase::Settled;
            }
            PrepareOutcome::Forgotten => return Phase::Settled,
        }
    }
    if oks < majority {
        return Phase::Failed;
    }
    let mut c = px.core.borrow_mut();
    if c.settled(seq) {
        return Phase::Settled;
    }
    if all {
        c.leader = Some(Leader {
            ballot,
            from: seq,
            adopted,
        });
    }
    Phase::Promised(best.map(|(_, v)| v))
}

async fn phase2(px: &Paxos, seq: u64, ballot: Ballot, value: Vec<u8>) -> Phase {
    let (n, majority, args) = {
        let c = px.core.borrow();
        let args = AcceptArgs {
            seq,
            ballot,
            value: value.clone(),
            piggy: c.piggy(),
        };
        (c.n, c.majority(), args)
    };
    let mut replies = broadcast(
        px,
        || px.handle_accept(args.clone()),
        |j| {
            let args = args.clone();
            Box::pin(async move { px.peers[j].accept(&args).await })
        },
    );
    let mut oks = 0;
    let mut fails = 0;
    while let Some(r) = replies.next().await {
        let Ok(r) = r else {
            fails += 1;
            if fails > n - majority {
                return Phase::Failed;
            }
            continue;
        };
        px.core.borrow_mut().note_piggy(r.piggy);
        match r.outcome {
            AcceptOutcome::Accepted => {
                oks += 1;
                if oks >= majority {
                    break;
                }
            }
            AcceptOutcome::Reject(b) => {
                px.core.borrow_mut().observe_ballot(b);
                fails += 1;
                if fails > n - majority {
                    return Phase::Failed;
                }
            }
            AcceptOutcome::Decided(v) => {
                settle(px, seq, v);
                return Phase::Settled;
            }
            AcceptOutcome::Forgotten => return Phase::Settled,
        }
    }
    if oks < majority {
        return Phase::Failed;
    }
    // Chosen: the proposer learns it from the replies; with the 2015
    // strategy it also tells every learner.
    let tell = {
        let mut c = px.core.borrow_mut();
        let news = c.learn(seq, value.clone());
        news && c.config.learners == Learners::Proposer
    };
    if tell {
        let n = px.peers.len();
        px.tell_decided(&(0..n).collect::<Vec<_>>(), seq, value);
    }
    Phase::Chosen
}
// SOLUTION END
// HANDOUT:
