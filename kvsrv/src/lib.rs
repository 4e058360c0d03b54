//! A key/value server with versioned Put, its clerk, and a lock built on
//! them (6.5840 Lab 2).
//!
//! # Guarantees (what the grader checks)
//!
//! - **Versioned Put.** The server maps each key to a value and a version.
//!   `put(k, v, ver)` applies only if `ver` is the key's version (0 for a
//!   key that does not exist, which creates it at version 1); the version
//!   then goes up by one. Otherwise it answers [`KvError::Version`] (the key
//!   exists) or [`KvError::NoKey`] (it does not, and `ver > 0`), and changes
//!   nothing.
//! - **No per-client state.** The server keeps the keys' values and
//!   versions and nothing else: its memory does not grow with the number of
//!   clients or requests.
//! - **Clerks never give up.** A clerk resends a request until a reply
//!   arrives. Get never returns [`KvError::Maybe`]. Put returns
//!   [`KvError::Version`] only when the **first** attempt got it (the Put
//!   was surely not applied) and [`KvError::Maybe`] when a **retry** got it
//!   (an earlier attempt may have been applied, its reply lost).
//! - **Linearizable.** Every history of clerk operations has a legal
//!   sequential order that respects real time (checked with
//!   `linearizability::VersionedKvModel`).
//! - **Mutual exclusion.** At most one [`Lock`] of a given name is held at
//!   a time; locks of different names are independent; a lock resolves an
//!   [`KvError::Maybe`] on its own Put by reading the key back.
//!
//! ```text
//! KvServer::new()                      the server's state; serve it with
//!   labrpc::Server::new().add_service(kv::service(Rc::new(server)))
//! Clerk::new(end)                      a clerk talking through `end`
//!   clerk.get(key).await   -> Result<(String, Version), KvError>
//!   clerk.put(key, value, version).await -> Result<(), KvError>
//! Lock::new(Rc<impl KvClerk>, name)    .acquire().await / .release().await
//! ```

mod client;
pub mod framework;
mod lock;
mod server;

pub use client::{Clerk, RETRY_INTERVAL};
pub use framework::KvClerk;
pub use framework::rpc::{GetArgs, GetReply, KvError, PutArgs, PutReply, Version, kv};
pub use lock::Lock;
pub use server::KvServer;
