//! The shard controller (part 5A): a Raft-replicated sequence of
//! configurations.

mod client;
mod server;

pub use client::CtrlerClerk;
pub use server::CtrlerServer;
