//! The lab's fixed parts: what [`crate::Paxos::status`] answers ([`Fate`])
//! and how a peer is configured ([`Config`], [`Learners`]). The grader
//! relies on them as they are: do not edit.

/// What a peer knows about one instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// The instance chose this value (and this peer has learned it).
    Decided(Vec<u8>),
    /// Not decided yet, as far as this peer knows.
    Pending,
    /// Below [`crate::Paxos::min`]: decided once, and forgotten since.
    Forgotten,
}

/// How learners learn that a value was chosen. Every peer is an acceptor
/// and a learner; `M` acceptors, `N` learners (here `M = N` = the peers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Learners {
    /// The proposer learns from the replies to its Accept messages and
    /// tells every learner (6.824's 2015 design): `N` Decided messages.
    Proposer,
    /// Every acceptor tells every learner when it accepts: `M × N`
    /// Accepted messages.
    AllToAll,
    /// Acceptors tell one distinguished learner (the peer of this index),
    /// which tells every other learner once a majority accepted: `M + N`
    /// messages.
    Distinguished(usize),
    /// Acceptors tell each of a set of distinguished learners (these peer
    /// indices), each of which tells every learner outside the set:
    /// `M × K + K × (N − K)` messages for `K` distinguished learners.
    Set(Vec<usize>),
}

/// A peer's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The learner strategy.
    pub learners: Learners,
    /// Multi-Paxos: a stable leader runs phase 1 once for every instance
    /// from some sequence number on, then one round trip (Accept) per
    /// value; other peers forward their values to it, and fall back to
    /// full Paxos when it is suspected.
    pub multi: bool,
}

impl Default for Config {
    /// Basic Paxos, the proposer tells the learners.
    fn default() -> Config {
        Config {
            learners: Learners::Proposer,
            multi: false,
        }
    }
}
