//! What Paxos peers say to each other. The service declaration is given;
//! the fields of the messages are yours.

use serde::{Deserialize, Serialize};

// SOLUTION BEGIN
/// A proposal number: unique per proposer (the peer index breaks ties
/// between equal rounds), ordered by round first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ballot {
    /// The proposer's round.
    pub round: u64,
    /// The proposer's peer index.
    pub peer: u64,
}

/// What every message carries besides its own business: who sends it and
/// the highest instance its application is done with (piggybacked, for
/// `min`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Piggy {
    /// The sender's peer index.
    pub from: usize,
    /// The highest sequence number the sender's application passed to
    /// `done`, if any.
    pub done: Option<u64>,
}
// SOLUTION END
// HANDOUT:

/// Phase 1a.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PrepareArgs {
    // SOLUTION BEGIN
    /// The instance (with `all`, the first of them).
    pub seq: u64,
    /// The proposal number.
    pub ballot: Ballot,
    /// Multi-Paxos: prepare every instance from `seq` on.
    pub all: bool,
    /// Sender and its done.
    pub piggy: Piggy,
    // SOLUTION END
    // HANDOUT: // Your fields here.
}

/// Phase 1b.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PrepareReply {
    // SOLUTION BEGIN
    /// The acceptor's answer.
    pub outcome: PrepareOutcome,
    /// Sender and its done.
    pub piggy: Piggy,
    // SOLUTION END
    // HANDOUT: // Your fields here.
}

// SOLUTION BEGIN
/// A value at an instance, with the ballot that carried it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Slot {
    /// The instance.
    pub seq: u64,
    /// The ballot.
    pub ballot: Ballot,
    /// The value.
    #[serde(with = "serde_bytes")]
    pub value: Vec<u8>,
}

/// An acceptor's answer to a Prepare.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum PrepareOutcome {
    /// Promised: never to accept a lower ballot for the instance(s). With
    /// every value it accepted there (seq, ballot, value) and every
    /// decision it knows there (seq, value).
    Promise {
        /// Accepted values, by instance.
        accepted: Vec<Slot>,
        /// Decided values, by instance (Multi-Paxos only; ballot unused).
        decided: Vec<Slot>,
    },
    /// Refused: it promised this higher ballot.
    Reject(Ballot),
    /// The instance is decided, with this value.
    Decided(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The instance is forgotten here.
    Forgotten,
}
// SOLUTION END
// HANDOUT:

/// Phase 2a.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AcceptArgs {
    // SOLUTION BEGIN
    /// The instance.
    pub seq: u64,
    /// The proposal number.
    pub ballot: Ballot,
    /// The value.
    #[serde(with = "serde_bytes")]
    pub value: Vec<u8>,
    /// Sender and its done.
    pub piggy: Piggy,
    // SOLUTION END
    // HANDOUT: // Your fields here.
}

/// Phase 2b.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AcceptReply {
    // SOLUTION BEGIN
    /// The acceptor's answer.
    pub outcome: AcceptOutcome,
    /// Sender and its done.
    pub piggy: Piggy,
    // SOLUTION END
    // HANDOUT: // Your fields here.
}

// SOLUTION BEGIN
/// An acceptor's answer to an Accept.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum AcceptOutcome {
    /// Accepted.
    Accepted,
    /// Refused: it promised this higher ballot.
    Reject(Ballot),
    /// The instance is decided, with this value.
    Decided(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The instance is forgotten here.
    Forgotten,
}
// SOLUTION END
// HANDOUT:

/// An acceptor tells a learner what it accepted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AcceptedArgs {
    // SOLUTION BEGIN
    /// The instance.
    pub seq: u64,
    /// The ballot it accepted.
    pub ballot: Ballot,
    /// The value it accepted.
    #[serde(with = "serde_bytes")]
    pub value: Vec<u8>,
    /// Sender and its done.
    pub piggy: Piggy,
    // SOLUTION END
    // HANDOUT: // Your fields here.
}

/// A learner (or the proposer) tells a learner what was chosen.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DecidedArgs {
    // SOLUTION BEGIN
    /// The instance.
    pub seq: u64,
    /// The chosen value.
    #[serde(with = "serde_bytes")]
    pub value: Vec<u8>,
    /// Sender and its done.
    pub piggy: Piggy,
    // SOLUTION END
    // HANDOUT: // Your fields here.
}

/// Multi-Paxos: a peer hands its value to the leader.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ForwardArgs {
    // SOLUTION BEGIN
    /// The instance.
    pub seq: u64,
    /// The value to propose there.
    #[serde(with = "serde_bytes")]
    pub value: Vec<u8>,
    /// Sender and its done.
    pub piggy: Piggy,
    // SOLUTION END
    // HANDOUT: // Your fields here.
}

/// The reply to a one-way message (Accepted, Decided, Forward).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ack {
    // SOLUTION BEGIN
    /// Sender and its done.
    pub piggy: Piggy,
    // SOLUTION END
    // HANDOUT: // Your fields here.
}

labrpc::service! {
    /// A Paxos peer: acceptor, learner, and (Multi-Paxos) leader.
    pub service paxos {
        /// Phase 1: Prepare / Promise.
        fn prepare(PrepareArgs) -> PrepareReply;
        /// Phase 2: Accept / Accepted.
        fn accept(AcceptArgs) -> AcceptReply;
        /// An acceptor tells a learner it accepted a value.
        fn accepted(AcceptedArgs) -> Ack;
        /// A value was chosen.
        fn decided(DecidedArgs) -> Ack;
        /// Multi-Paxos: propose this value for me (to the leader).
        fn forward(ForwardArgs) -> Ack;
    }
}
