//! kvpaxos: a key/value store replicated through a log of Paxos instances.
//! Every server runs a [`crate::Paxos`] peer; an operation is executed
//! once it is decided in the log, in log order, exactly once.

mod client;
pub mod rpc;
mod server;

pub use client::Clerk;
pub use server::KvServer;
