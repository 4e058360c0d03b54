//! A fault-tolerant key/value store on Raft (6.824 lab 4, parts 4A/4B).
//!
//! # Guarantees (what the grader checks)
//!
//! - **Linearizable**: every history of Get/Put/Append calls, with their
//!   virtual call and return times, has a legal sequential order that
//!   respects real time. Gets go through the Raft log like writes (no
//!   lease or read-index scheme): a deposed leader that does not know it
//!   yet cannot commit, so it never answers a stale read.
//! - **Exactly once**: a clerk numbers its operations; a server applies a
//!   Put or Append at most once per (clerk, number), even when requests or
//!   replies are lost and retried. The duplicate table holds one number per
//!   clerk.
//! - **A reply means applied**: a server answers only after the entry that
//!   `start` gave it is applied at that index *in that term*; an entry
//!   overwritten by a new leader is answered with `WrongLeader` and retried.
//! - **Bounded state**: with `maxraftstate`, a server snapshots its store
//!   and duplicate table whenever the persisted Raft state reaches that
//!   size; a restarted server restores from the snapshot.
//!
//! ```text
//! KvServer::start(peers, me, persister, maxraftstate)   on the server's node
//! server.server() -> labrpc::Server                     KV + Raft services
//! Clerk::new(ends); clerk.get(k).await / put(k, v) / append(k, v)
//! ```

mod client;
pub mod rpc;
mod server;
mod state;

pub use client::Clerk;
pub use server::KvServer;
pub use state::StateMachine;
