//! A peer's state: the acceptor's durable record of every live instance,
//! what the learner has heard, and what `min` is made of.

// SOLUTION BEGIN
use std::collections::{BTreeMap, BTreeSet};

use labrpc::Persister;
use labrpc::time::Instant;
use serde::{Deserialize, Serialize};

use crate::framework::{Config, Fate};
use crate::rpc::{Ballot, Piggy};

/// One instance, as the acceptor (and learner) of this peer holds it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Instance {
    /// The highest ballot promised for this instance alone.
    pub promised: Option<Ballot>,
    /// The highest ballot accepted, with its value.
    pub accepted: Option<(Ballot, Bytes)>,
    /// The chosen value, once learned (the accepted value is dropped then:
    /// the decision answers every later Prepare and Accept).
    #[serde(with = "serde_bytes")]
    pub decided: Option<Vec<u8>>,
}

/// Bytes that serialize as one block, not byte by byte.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Bytes(#[serde(with = "serde_bytes")] pub Vec<u8>);

/// Multi-Paxos: this peer leads every instance from `from` on.
pub(crate) struct Leader {
    pub ballot: Ballot,
    pub from: u64,
    /// Values that phase 1 found accepted, which must be proposed again.
    pub adopted: BTreeMap<u64, (Ballot, Vec<u8>)>,
}

/// What survives a crash, borrowed for saving.
#[derive(Serialize)]
struct DurableRef<'a> {
    instances: &'a BTreeMap<u64, Instance>,
    global: Option<(Ballot, u64)>,
    round: u64,
    done_me: Option<u64>,
    min: u64,
    max: Option<u64>,
}

/// What survives a crash, read back.
#[derive(Deserialize)]
struct Durable {
    instances: BTreeMap<u64, Instance>,
    global: Option<(Ballot, u64)>,
    round: u64,
    done_me: Option<u64>,
    min: u64,
    max: Option<u64>,
}

/// A peer's whole state.
pub(crate) struct Core {
    pub me: usize,
    pub n: usize,
    pub config: Config,
    persister: Persister,
    /// Every instance at or above `min` that this peer has heard of.
    pub instances: BTreeMap<u64, Instance>,
    /// Multi-Paxos: a promise for every instance from `.1` on.
    pub global: Option<(Ballot, u64)>,
    /// The highest round seen in any ballot.
    pub round: u64,
    /// The learner's tally: who accepted which ballot, per instance.
    pub votes: BTreeMap<u64, BTreeMap<Ballot, BTreeSet<usize>>>,
    /// The highest `done` of each peer, as far as this peer knows.
    pub dones: Vec<Option<u64>>,
    pub min: u64,
    pub max: Option<u64>,
    /// Instances with a proposer running here.
    pub proposing: BTreeSet<u64>,
    /// Instances with a learn timer running here.
    pub watching: BTreeSet<u64>,
    /// Multi-Paxos: set while this peer leads.
    pub leader: Option<Leader>,
    /// Multi-Paxos: the last peer whose Accept this acceptor took, and when.
    pub known_leader: Option<(usize, Instant)>,
}

impl Core {
    /// A peer restored from `persister` (fresh if it is empty).
    pub fn restore(me: usize, n: usize, persister: Persister, config: Config) -> Core {
        let mut core = Core {
            me,
            n,
            config,
            persister,
            instances: BTreeMap::new(),
            global: None,
            round: 0,
            votes: BTreeMap::new(),
            dones: vec![None; n],
            min: 0,
            max: None,
            proposing: BTreeSet::new(),
            watching: BTreeSet::new(),
            leader: None,
            known_leader: None,
        };
        let data = core.persister.read_state();
        if !data.is_empty() {
            let d: Durable = labcodec::decode(&data)
                .unwrap_or_else(|e| panic!("paxos peer {me}: cannot decode its state: {e}"));
            core.instances = d.instances;
            core.global = d.global;
            core.round = d.round;
            core.dones[me] = d.done_me;
            core.min = d.min;
            core.max = d.max;
        }
        core
    }

    /// Saves the acceptor's state: call before answering anything that
    /// depends on it.
    pub fn persist(&self) {
        let d = DurableRef {
            instances: &self.instances,
            global: self.global,
            round: self.round,
            done_me: self.dones[self.me],
            min: self.min,
            max: self.max,
        };
        let bytes = labcodec::encode(&d).expect("paxos state always encodes");
        self.persister.save(bytes, Vec::new());
    }

    /// A majority of the peers.
    pub fn majority(&self) -> usize {
        self.n / 2 + 1
    }

    /// This peer's piggyback.
    pub fn piggy(&self) -> Piggy {
        Piggy {
            from: self.me,
            done: self.dones[self.me],
        }
    }

    pub fn status(&self, seq: u64) -> Fate {
        if seq < self.min {
            return Fate::Forgotten;
        }
        match self.instances.get(&seq).and_then(|i| i.decided.as_ref()) {
            Some(v) => Fate::Decided(v.clone()),
            None => Fate::Pending,
        }
    }

    /// Decided here, or forgotten: nothing left to propose.
    pub fn settled(&self, seq: u64) -> bool {
        seq < self.min
            || self
                .instances
                .get(&seq)
                .is_some_and(|i| i.decided.is_some())
    }

    pub fn observe(&mut self, seq: u64) {
        self.max = Some(self.max.map_or(seq, |m| m.max(seq)));
    }

    pub fn observe_ballot(&mut self, b: Ballot) {
        self.round = self.round.max(b.round);
    }

    /// A ballot higher than any seen, this peer's own.
    pub fn next_ballot(&mut self) -> Ballot {
        self.round += 1;
        Ballot {
            round: self.round,
            peer: self.me as u64,
        }
    }

    /// The promise that binds instance `seq`.
    pub fn promise_for(&self, seq: u64) -> Option<Ballot> {
        let own = self.instances.get(&seq).and_then(|i| i.promised);
        let global = self.global.filter(|&(_, from)| seq >= from).map(|(b, _)| b);
        own.max(global)
    }

    /// Learns that `seq` chose `value`. True if this is news.
    pub fn learn(&mut self, seq: u64, value: Vec<u8>) -> bool {
        if seq < self.min {
            return false;
        }
        self.observe(seq);
        let inst = self.instances.entry(seq).or_default();
        if inst.decided.is_some() {
            return false;
        }
        inst.decided = Some(value);
        inst.accepted = None;
        self.votes.remove(&seq);
        if let Some(l) = &mut self.leader {
            l.adopted.remove(&seq);
        }
        self.persist();
        true
    }

    /// Takes in a peer's piggybacked `done`.
    pub fn note_piggy(&mut self, p: Piggy) {
        if p.from < self.n {
            self.note_done(p.from, p.done);
        }
    }

    /// Peer `from` is done with everything up to `done`: maybe advance
    /// `min` and forget what is below it.
    pub fn note_done(&mut self, from: usize, done: Option<u64>) {
        if done > self.dones[from] {
            self.dones[from] = done;
        }
        let lowest = self.dones.iter().copied().min().flatten();
        let min = lowest.map_or(0, |d| d + 1);
        if min > self.min {
            self.min = min;
            self.instances = self.instances.split_off(&min);
            self.votes = self.votes.split_off(&min);
            if let Some(l) = &mut self.leader {
                l.adopted = l.adopted.split_off(&min);
            }
            self.persist();
        } else if from == self.me {
            self.persist();
        }
    }
}
// SOLUTION END
// HANDOUT: // Your state here: what an acceptor must remember (and save through the
// HANDOUT: // Persister), what a learner counts, what `min` is made of.
