//! A replicated state machine on Raft (6.5840 Lab 4A, 2025/26: the
//! course's `kvraft1/rsm`).
//!
//! A service (a counter, the key/value store of `kvraft1`) implements
//! [`StateMachine`]; [`Rsm`] puts its requests through the Raft log and has
//! every replica execute them in log order.
//!
//! # Guarantees (what the grader checks)
//!
//! - **Executed once per log entry, in order**: every replica calls
//!   [`StateMachine::do_op`] for every committed entry, once, in log order,
//!   also across crashes and restarts (with or without snapshots).
//! - **A reply is the request's own**: [`Rsm::submit`] returns `Ok` with
//!   what `do_op` returned for *that* request on this peer, after it was
//!   committed and executed; if the peer lost leadership (its term
//!   changed, or another entry was committed at the request's index) it
//!   returns [`ErrWrongLeader`] instead. A peer that is not the leader
//!   answers at once.
//! - **No progress in a minority**: a deposed leader cut off in a minority
//!   may keep a submit waiting until the partition heals, but never
//!   answers `Ok` for a request that was not committed.
//! - **Submits return on a crash**: when the peer's node crashes, every
//!   pending submit returns [`ErrWrongLeader`].
//! - **Bounded state** (4C): with `maxraftstate`, the RSM snapshots the
//!   service (and what it needs itself) when the persisted Raft state
//!   reaches that size, and a restarted peer restores from the snapshot.
//!
//! ```text
//! Rsm::new(peers, me, persister, maxraftstate, sm) on the peer's node (node::enter)
//! rsm.submit(req).await -> Result<S::Rep, ErrWrongLeader>
//! rsm.raft() -> &raft::Raft            add rsm.raft().service() to the node's Server
//! ```

mod framework;
mod rsm;

pub use framework::{ErrWrongLeader, StateMachine};
pub use rsm::Rsm;
