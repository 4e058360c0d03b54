//! The clerk: how a client talks to the server.

use std::time::Duration;

use labrpc::ClientEnd;

use crate::framework::rpc::{KvError, Version, kv};
// SOLUTION BEGIN
use crate::framework::rpc::{GetArgs, PutArgs};
// SOLUTION END
// HANDOUT:

/// How long a clerk waits after a failed call (no reply) before it sends
/// the request again.
pub const RETRY_INTERVAL: Duration = Duration::from_millis(100);

/// A client of the key/value server. It never gives up: each operation
/// resends its request until a reply arrives.
pub struct Clerk {
    server: kv::Client,
}

impl Clerk {
    /// A clerk calling the server through `end`.
    pub fn new(end: ClientEnd) -> Clerk {
        Clerk {
            server: kv::Client::new(end),
        }
    }

    /// The value and version of `key`, or `Err(KvError::NoKey)`. Never
    /// returns `KvError::Maybe`.
    pub async fn get(&self, key: &str) -> Result<(String, Version), KvError> {
        // SOLUTION BEGIN
        let args = GetArgs { key: key.into() };
        loop {
            match self.server.get(&args).await {
                Ok(reply) => return reply,
                Err(_) => labrpc::time::sleep(RETRY_INTERVAL).await,
            }
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.server, key, RETRY_INTERVAL);
        // HANDOUT: labrpc::not_implemented!("kvsrv 2A (Clerk::get)")
    }

    /// Writes `value` to `key` if its version is `version`.
    ///
    /// - `Ok(())`: applied.
    /// - `Err(KvError::Version)`: the first attempt was refused, so the Put
    ///   was not applied.
    /// - `Err(KvError::Maybe)`: a retry was refused with a version error;
    ///   an earlier attempt may have been applied.
    /// - `Err(KvError::NoKey)`: the key does not exist and `version > 0`.
    pub async fn put(&self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        // SOLUTION BEGIN
        let args = PutArgs {
            key: key.into(),
            value: value.into(),
            version,
        };
        let mut first = true;
        loop {
            match self.server.put(&args).await {
                Ok(Err(KvError::Version)) if !first => return Err(KvError::Maybe),
                Ok(reply) => return reply,
                Err(_) => {
                    first = false;
                    labrpc::time::sleep(RETRY_INTERVAL).await;
                }
            }
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.server, key, value, version);
        // HANDOUT: labrpc::not_implemented!("kvsrv 2A (Clerk::put)")
    }
}
