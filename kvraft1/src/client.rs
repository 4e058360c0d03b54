//! The clerk: how a client talks to the KV service.

use std::time::Duration;

use labrpc::ClientEnd;

use crate::framework::rpc::{KvError, Version, kv};
// SOLUTION BEGIN
use std::cell::Cell;

use crate::framework::rpc::{GetArgs, PutArgs};
// SOLUTION END
// HANDOUT:

/// After asking every server in turn without success, a clerk waits this
/// long before the next round (an election may be under way).
pub const ROUND_PAUSE: Duration = Duration::from_millis(50);

/// A client of the KV service. It never gives up: each operation tries the
/// servers until one of them (the leader) answers.
pub struct Clerk {
    servers: Vec<kv::Client>,
    // SOLUTION BEGIN
    /// The server that answered last (probably the leader).
    leader: Cell<usize>,
    // SOLUTION END
    // HANDOUT: // Your state here (4B).
}

impl Clerk {
    /// A clerk talking to `servers` (ends to every server, in any order).
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        Clerk {
            servers: servers.into_iter().map(kv::Client::new).collect(),
            // SOLUTION BEGIN
            leader: Cell::new(0),
            // SOLUTION END
            // HANDOUT: // Your state here (4B).
        }
    }

    /// The value and version of `key`, or `Err(KvError::NoKey)`. Never
    /// returns `Maybe` or `WrongLeader`.
    pub async fn get(&self, key: &str) -> Result<(String, Version), KvError> {
        // SOLUTION BEGIN
        let args = GetArgs { key: key.into() };
        let n = self.servers.len();
        let mut i = self.leader.get();
        let mut tries = 0;
        loop {
            match self.servers[i].get(&args).await {
                Ok(Err(KvError::WrongLeader)) | Err(_) => {}
                Ok(reply) => {
                    self.leader.set(i);
                    return reply;
                }
            }
            i = (i + 1) % n;
            tries += 1;
            if tries % n == 0 {
                labrpc::time::sleep(ROUND_PAUSE).await;
            }
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.servers, key, ROUND_PAUSE);
        // HANDOUT: labrpc::not_implemented!("kvraft1 4B (Clerk::get)")
    }

    /// Writes `value` to `key` if its version is `version`.
    ///
    /// - `Ok(())`: applied.
    /// - `Err(KvError::Version)`: the first attempt was refused, so the Put
    ///   was not applied.
    /// - `Err(KvError::Maybe)`: a later attempt was refused with a version
    ///   error; an earlier attempt may have been applied.
    /// - `Err(KvError::NoKey)`: the key does not exist and `version > 0`.
    pub async fn put(&self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        // SOLUTION BEGIN
        let args = PutArgs {
            key: key.into(),
            value: value.into(),
            version,
        };
        let n = self.servers.len();
        let mut i = self.leader.get();
        let mut tries = 0;
        loop {
            match self.servers[i].put(&args).await {
                Ok(Err(KvError::WrongLeader)) | Err(_) => {}
                // Another attempt went before: it may have been applied
                // (its reply lost, or its leader deposed after the commit).
                Ok(Err(KvError::Version)) if tries > 0 => {
                    self.leader.set(i);
                    return Err(KvError::Maybe);
                }
                Ok(reply) => {
                    self.leader.set(i);
                    return reply;
                }
            }
            i = (i + 1) % n;
            tries += 1;
            if tries % n == 0 {
                labrpc::time::sleep(ROUND_PAUSE).await;
            }
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.servers, key, value, version);
        // HANDOUT: labrpc::not_implemented!("kvraft1 4B (Clerk::put)")
    }
}
