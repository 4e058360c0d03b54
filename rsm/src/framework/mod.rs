//! The lab's fixed parts: what a service implements ([`StateMachine`])
//! and the one error of [`crate::Rsm::submit`] ([`ErrWrongLeader`]). The
//! grader's services and the KV store of 4B are written against them as
//! they are: do not edit.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A service replicated by [`crate::Rsm`]: every replica executes the same
/// requests in the same (log) order, so every replica's state is the same.
///
/// The methods take `&self`: the service keeps its state behind a
/// `RefCell` (it shares itself with the RSM as an `Rc`). Everything runs
/// on the simulation's single thread.
pub trait StateMachine: 'static {
    /// A request, as given to [`crate::Rsm::submit`] and put in the log.
    type Req: Serialize + DeserializeOwned + 'static;
    /// What executing a request returns (on the replica that executes it).
    type Rep: 'static;

    /// Executes one committed request. Called once per log entry, in log
    /// order, on every replica.
    fn do_op(&self, req: Self::Req) -> Self::Rep;

    /// The service's whole state, as bytes.
    fn snapshot(&self) -> Vec<u8>;

    /// Replaces the service's state with one from [`StateMachine::snapshot`].
    fn restore(&self, data: &[u8]);
}

/// This peer is not the leader, or lost leadership before the request was
/// executed: the request may or may not have been executed; try another
/// peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ErrWrongLeader;

impl fmt::Display for ErrWrongLeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ErrWrongLeader")
    }
}

impl std::error::Error for ErrWrongLeader {}
