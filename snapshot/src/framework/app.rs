//! The application being snapshotted: processes pass tokens to their
//! neighbours. Tokens are neither made nor destroyed, so the tokens held by
//! the processes plus those in flight always add up to the total.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A process's index: `0..n`.
pub type ProcId = usize;

/// A snapshot's id, unique in a run (the system hands them out).
pub type SnapshotId = u64;

/// One application message: `amount` tokens, the `seq`-th token message
/// sent on its channel (1, 2, 3, ... per channel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// The message's number on its channel, from 1.
    pub seq: u64,
    /// Tokens carried (at least 1).
    pub amount: u64,
}

/// What travels on a channel: application tokens, and the snapshot
/// algorithm's markers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Tokens from the application.
    Token(Token),
    /// A marker of snapshot `id`.
    Marker(SnapshotId),
}

/// One process's application state: the tokens it holds and how many token
/// messages it has sent on each outgoing channel and received on each
/// incoming one. A copy of it is what a snapshot records as the process's
/// state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppState {
    /// Tokens held.
    pub tokens: u64,
    /// Token messages sent, by destination (every outgoing channel present).
    pub sent: BTreeMap<ProcId, u64>,
    /// Token messages received, by source (every incoming channel present).
    pub received: BTreeMap<ProcId, u64>,
}

impl AppState {
    /// A process holding `tokens`, with nothing sent or received yet.
    pub fn new(tokens: u64, inbound: &[ProcId], outbound: &[ProcId]) -> AppState {
        AppState {
            tokens,
            sent: outbound.iter().map(|&p| (p, 0)).collect(),
            received: inbound.iter().map(|&p| (p, 0)).collect(),
        }
    }

    /// Takes `amount` tokens out to send to `to`: the message to send.
    pub(crate) fn take(&mut self, to: ProcId, amount: u64) -> Token {
        assert!(
            amount >= 1 && amount <= self.tokens,
            "taking {amount} of {}",
            self.tokens
        );
        self.tokens -= amount;
        let sent = self
            .sent
            .get_mut(&to)
            .expect("sending on a channel that exists");
        *sent += 1;
        Token { seq: *sent, amount }
    }

    /// Adds the tokens of a message received from `from`.
    pub(crate) fn deposit(&mut self, from: ProcId, token: Token) {
        let received = self
            .received
            .get_mut(&from)
            .expect("receiving on a channel that exists");
        *received += 1;
        assert_eq!(
            token.seq, *received,
            "channel {from} -> ? delivered token messages out of order"
        );
        self.tokens += token.amount;
    }
}

/// What one process recorded for one snapshot: its state, and for each
/// incoming channel the token messages recorded as in flight on it, in the
/// order they arrived.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalSnapshot {
    /// The process's application state when it recorded it.
    pub state: AppState,
    /// Token messages in flight, by source (every incoming channel present).
    pub channels: BTreeMap<ProcId, Vec<Token>>,
}

impl LocalSnapshot {
    /// Tokens in the recorded state plus those recorded in flight.
    pub fn tokens(&self) -> u64 {
        self.state.tokens + self.in_flight_tokens()
    }

    /// Tokens recorded in flight on the incoming channels.
    pub fn in_flight_tokens(&self) -> u64 {
        self.channels.values().flatten().map(|t| t.amount).sum()
    }

    /// Token messages recorded in flight on the incoming channels.
    pub fn in_flight_messages(&self) -> usize {
        self.channels.values().map(Vec::len).sum()
    }
}
