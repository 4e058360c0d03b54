//! The acceptor's and the learner's side: what a peer does with each
//! message it receives.

use crate::Paxos;
use crate::rpc::{
    AcceptArgs, AcceptReply, AcceptedArgs, Ack, DecidedArgs, ForwardArgs, PrepareArgs,
    PrepareReply, paxos,
};
// SOLUTION BEGIN
use std::time::Duration;

use labrpc::time::{Instant, sleep};
use labrpc::{rand, task};

use crate::framework::Learners;
use crate::rpc::{AcceptOutcome, Ballot, PrepareOutcome, Slot};
use crate::state::Bytes;

/// A peer that accepted a value but has not learned a decision this long
/// after proposes itself, to learn what was chosen (a crashed
/// distinguished learner, a lost Decided message).
pub(crate) const LEARN_TIMEOUT: Duration = Duration::from_millis(300);
// SOLUTION END
// HANDOUT:

impl paxos::Service for Paxos {
    async fn prepare(&self, args: PrepareArgs) -> PrepareReply {
        self.handle_prepare(args)
    }

    async fn accept(&self, args: AcceptArgs) -> AcceptReply {
        self.handle_accept(args)
    }

    async fn accepted(&self, args: AcceptedArgs) -> Ack {
        self.handle_accepted(args)
    }

    async fn decided(&self, args: DecidedArgs) -> Ack {
        self.handle_decided(args)
    }

    async fn forward(&self, args: ForwardArgs) -> Ack {
        self.handle_forward(args)
    }
}

impl Paxos {
    /// Phase 1b (the peer may call it on itself directly).
    pub(crate) fn handle_prepare(&self, args: PrepareArgs) -> PrepareReply {
        // SOLUTION BEGIN
        let mut c = self.core.borrow_mut();
        c.note_piggy(args.piggy);
        c.observe_ballot(args.ballot);
        let seq = args.seq;
        let outcome = if seq < c.min {
            PrepareOutcome::Forgotten
        } else if !args.all {
            c.observe(seq);
            if let Some(v) = c.instances.get(&seq).and_then(|i| i.decided.clone()) {
                PrepareOutcome::Decided(v)
            } else if let Some(p) = c.promise_for(seq).filter(|&p| p > args.ballot) {
                PrepareOutcome::Reject(p)
            } else {
                let inst = c.instances.entry(seq).or_default();
                inst.promised = Some(args.ballot);
                let accepted = inst
                    .accepted
                    .iter()
                    .map(|(b, v)| Slot {
                        seq,
                        ballot: *b,
                        value: v.0.clone(),
                    })
                    .collect();
                c.persist();
                PrepareOutcome::Promise {
                    accepted,
                    decided: Vec::new(),
                }
            }
        } else {
            // Multi-Paxos: one promise for every instance from `from` on
            // (from an earlier global promise's start if that is lower:
            // promising more than asked is safe).
            let from = c.global.map_or(seq, |(_, f)| f.min(seq));
            let highest = c
                .instances
                .range(from..)
                .filter_map(|(_, i)| i.promised)
                .chain(c.global.map(|(b, _)| b))
                .max();
            if let Some(p) = highest.filter(|&p| p > args.ballot) {
                PrepareOutcome::Reject(p)
            } else {
                c.global = Some((args.ballot, from));
                if c.leader.as_ref().is_some_and(|l| l.ballot < args.ballot) {
                    c.leader = None;
                }
                let mut accepted = Vec::new();
                let mut decided = Vec::new();
                for (&s, i) in c.instances.range(seq..) {
                    if let Some(v) = &i.decided {
                        decided.push(Slot {
                            seq: s,
                            ballot: Ballot::default(),
                            value: v.clone(),
                        });
                    } else if let Some((b, v)) = &i.accepted {
                        accepted.push(Slot {
                            seq: s,
                            ballot: *b,
                            value: v.0.clone(),
                        });
                    }
                }
                c.persist();
                PrepareOutcome::Promise { accepted, decided }
            }
        };
        PrepareReply {
            outcome,
            piggy: c.piggy(),
        }
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("Paxos PX (basic Paxos): the Prepare handler")
    }

    /// Phase 2b (the peer may call it on itself directly).
    pub(crate) fn handle_accept(&self, args: AcceptArgs) -> AcceptReply {
        // SOLUTION BEGIN
        let mut c = self.core.borrow_mut();
        c.note_piggy(args.piggy);
        c.observe_ballot(args.ballot);
        let seq = args.seq;
        let outcome = if seq < c.min {
            AcceptOutcome::Forgotten
        } else if let Some(v) = c.instances.get(&seq).and_then(|i| i.decided.clone()) {
            AcceptOutcome::Decided(v)
        } else if let Some(p) = c.promise_for(seq).filter(|&p| p > args.ballot) {
            AcceptOutcome::Reject(p)
        } else {
            c.observe(seq);
            let inst = c.instances.entry(seq).or_default();
            inst.promised = Some(args.ballot);
            inst.accepted = Some((args.ballot, Bytes(args.value.clone())));
            c.persist();
            c.known_leader = Some((args.ballot.peer as usize, Instant::now()));
            let piggy = c.piggy();
            let targets: Vec<usize> = match &c.config.learners {
                Learners::Proposer => Vec::new(),
                Learners::AllToAll => (0..c.n).collect(),
                Learners::Distinguished(d) => vec![*d],
                Learners::Set(s) => s.clone(),
            };
            let watch = c.watching.insert(seq);
            drop(c);
            let note = AcceptedArgs {
                seq,
                ballot: args.ballot,
                value: args.value,
                piggy,
            };
            self.tell_learners(&targets, note);
            if watch {
                task::spawn(learn_timer(self.clone(), seq)).detach();
            }
            c = self.core.borrow_mut();
            AcceptOutcome::Accepted
        };
        AcceptReply {
            outcome,
            piggy: c.piggy(),
        }
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("Paxos PX (basic Paxos): the Accept handler")
    }

    /// A learner hears that an acceptor accepted a value.
    pub(crate) fn handle_accepted(&self, args: AcceptedArgs) -> Ack {
        // SOLUTION BEGIN
        let mut c = self.core.borrow_mut();
        c.note_piggy(args.piggy);
        let seq = args.seq;
        if !c.settled(seq) {
            let majority = c.majority();
            let voters = c
                .votes
                .entry(seq)
                .or_default()
                .entry(args.ballot)
                .or_default();
            voters.insert(args.piggy.from);
            if voters.len() >= majority && c.learn(seq, args.value.clone()) {
                // A distinguished learner relays the decision.
                let relay_to: Vec<usize> = match &c.config.learners {
                    Learners::Distinguished(d) if *d == c.me => {
                        (0..c.n).filter(|&j| j != c.me).collect()
                    }
                    Learners::Set(s) if s.contains(&c.me) => {
                        (0..c.n).filter(|j| !s.contains(j)).collect()
                    }
                    _ => Vec::new(),
                };
                drop(c);
                self.tell_decided(&relay_to, seq, args.value);
                c = self.core.borrow_mut();
            }
        }
        Ack { piggy: c.piggy() }
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("Paxos LN (learners): the Accepted handler")
    }

    /// A learner hears the decision.
    pub(crate) fn handle_decided(&self, args: DecidedArgs) -> Ack {
        // SOLUTION BEGIN
        let mut c = self.core.borrow_mut();
        c.note_piggy(args.piggy);
        c.learn(args.seq, args.value);
        Ack { piggy: c.piggy() }
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("Paxos PX (basic Paxos): the Decided handler")
    }

    /// Multi-Paxos: another peer hands this one (the leader) a value.
    pub(crate) fn handle_forward(&self, args: ForwardArgs) -> Ack {
        // SOLUTION BEGIN
        self.core.borrow_mut().note_piggy(args.piggy);
        self.start(args.seq, args.value);
        Ack {
            piggy: self.core.borrow().piggy(),
        }
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("Paxos MP (Multi-Paxos): the Forward handler")
    }

    // SOLUTION BEGIN
    /// Sends an Accepted note to each of `targets` (to itself directly).
    fn tell_learners(&self, targets: &[usize], note: AcceptedArgs) {
        let me = self.core.borrow().me;
        for &j in targets {
            if j == me {
                self.handle_accepted(note.clone());
            } else {
                let px = self.clone();
                let note = note.clone();
                task::spawn(async move {
                    if let Ok(r) = px.peers[j].accepted(&note).await {
                        px.core.borrow_mut().note_piggy(r.piggy);
                    }
                })
                .detach();
            }
        }
    }

    /// Sends the decision to each of `targets` (never to itself).
    pub(crate) fn tell_decided(&self, targets: &[usize], seq: u64, value: Vec<u8>) {
        let (me, piggy) = {
            let c = self.core.borrow();
            (c.me, c.piggy())
        };
        for &j in targets.iter().filter(|&&j| j != me) {
            let px = self.clone();
            let args = DecidedArgs {
                seq,
                value: value.clone(),
                piggy,
            };
            task::spawn(async move {
                if let Ok(r) = px.peers[j].decided(&args).await {
                    px.core.borrow_mut().note_piggy(r.piggy);
                }
            })
            .detach();
        }
    }
    // SOLUTION END
    // HANDOUT:
}

// SOLUTION BEGIN
/// After accepting at `seq`: if no decision comes in time, propose the
/// accepted value, which learns whatever was chosen.
async fn learn_timer(px: Paxos, seq: u64) {
    let extra = rand::gen_range(0..LEARN_TIMEOUT.as_millis() as u64);
    sleep(LEARN_TIMEOUT + Duration::from_millis(extra)).await;
    let value = {
        let mut c = px.core.borrow_mut();
        c.watching.remove(&seq);
        if c.settled(seq) {
            return;
        }
        c.instances
            .get(&seq)
            .and_then(|i| i.accepted.as_ref())
            .map(|(_, v)| v.0.clone())
    };
    if let Some(v) = value {
        px.start(seq, v);
    }
}
// SOLUTION END
// HANDOUT:
