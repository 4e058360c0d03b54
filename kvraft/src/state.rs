//! The replicated state machine: the store and the duplicate table.

use serde::{Deserialize, Serialize};

use crate::rpc::CommandArgs;
// SOLUTION BEGIN
use std::collections::BTreeMap;

use crate::rpc::Op;
// SOLUTION END
// HANDOUT:

/// What every replica applies, in log order.
// SOLUTION BEGIN
///
/// Invariants: `sessions[c]` is the highest sequence number applied for
/// clerk `c` (one entry per clerk, so the table stays small); a Put or
/// Append whose number is not above it is a duplicate and is not applied
/// again.
// SOLUTION END
// HANDOUT:
#[derive(Default, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateMachine {
    // SOLUTION BEGIN
    store: BTreeMap<String, String>,
    sessions: BTreeMap<u64, u64>,
    // SOLUTION END
    // HANDOUT: // Your state here (4A): the store, and what detects duplicates.
}

impl StateMachine {
    /// Applies `args` (at most once per clerk and number) and returns its
    /// result: the value for a Get, "" otherwise.
    pub fn apply(&mut self, args: &CommandArgs) -> String {
        // SOLUTION BEGIN
        match &args.op {
            Op::Get { key } => self.store.get(key).cloned().unwrap_or_default(),
            Op::Put { key, value } => {
                if self.fresh(args) {
                    self.store.insert(key.clone(), value.clone());
                }
                String::new()
            }
            Op::Append { key, value } => {
                if self.fresh(args) {
                    self.store.entry(key.clone()).or_default().push_str(value);
                }
                String::new()
            }
        }
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("KV 4A (duplicate detection): StateMachine::apply")
    }

    // SOLUTION BEGIN
    /// Whether `args` is new; if so, records it as applied.
    fn fresh(&mut self, args: &CommandArgs) -> bool {
        let last = self.sessions.entry(args.client).or_insert(0);
        if args.seq <= *last {
            return false;
        }
        *last = args.seq;
        true
    }
    // SOLUTION END
    // HANDOUT:

    /// The state, for a snapshot.
    pub fn encode(&self) -> Vec<u8> {
        labcodec::encode(self).expect("the state machine always encodes")
    }

    /// A state from [`StateMachine::encode`]'s bytes (empty: a fresh one).
    pub fn decode(bytes: &[u8]) -> Result<StateMachine, labcodec::DecodeError> {
        if bytes.is_empty() {
            return Ok(StateMachine::default());
        }
        labcodec::decode(bytes)
    }
}

// SOLUTION BEGIN
#[cfg(test)]
mod tests {
    use super::*;

    fn args(client: u64, seq: u64, op: Op) -> CommandArgs {
        CommandArgs { client, seq, op }
    }

    #[test]
    fn duplicates_are_applied_once() {
        let mut sm = StateMachine::default();
        let app = |v: &str| Op::Append {
            key: "k".into(),
            value: v.into(),
        };
        sm.apply(&args(1, 1, app("a")));
        sm.apply(&args(1, 1, app("a")));
        sm.apply(&args(2, 1, app("b")));
        sm.apply(&args(1, 2, app("c")));
        sm.apply(&args(1, 1, app("a")));
        assert_eq!(sm.apply(&args(3, 1, Op::Get { key: "k".into() })), "abc");
        let back = StateMachine::decode(&sm.encode()).unwrap();
        assert_eq!(back, sm);
    }
}
// SOLUTION END
// HANDOUT:
