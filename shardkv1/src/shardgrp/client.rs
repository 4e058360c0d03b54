//! The shard group clerk: how the shardkv clerk and the controller talk to
//! one group.

use std::time::Duration;

use crate::framework::rpc::{KvError, MakeEnd, ShardData, ShardError, Version, shardgrp};
use crate::framework::shardcfg::{Num, ShardId};
// SOLUTION BEGIN
use std::cell::Cell;

use crate::framework::rpc::{DeleteArgs, FreezeArgs, GetArgs, InstallArgs, PutArgs};
// SOLUTION END
// HANDOUT:

/// After asking every server of the group in turn without success, a
/// clerk waits this long before the next round (an election may be under
/// way, or the group may be down).
pub const ROUND_PAUSE: Duration = Duration::from_millis(50);

/// A client of one shard group. Each operation tries the group's servers
/// until one of them (the leader) answers something other than "wrong
/// leader". When no server answers at all for a whole round (the group
/// may be down, or gone), it gives up: Get and Put with
/// [`KvError::WrongGroup`], Freeze, Install and Delete with
/// [`ShardError::Unreachable`].
pub struct GrpClerk {
    servers: Vec<shardgrp::Client>,
    // SOLUTION BEGIN
    /// The server that answered last (probably the leader).
    leader: Cell<usize>,
    // SOLUTION END
    // HANDOUT: // Your state here (5A).
}

// SOLUTION BEGIN
/// What one attempt at one server told the clerk.
enum Attempt<T> {
    /// No reply: try the next server.
    NoReply,
    /// "Not the leader": try the next server.
    Next,
    /// A reply to return.
    Done(T),
}
// SOLUTION END
// HANDOUT:
impl GrpClerk {
    /// A clerk for the group whose servers are named `servers`, with ends
    /// made by `make_end`.
    pub fn new(make_end: &MakeEnd, servers: &[String]) -> GrpClerk {
        GrpClerk {
            servers: servers
                .iter()
                .map(|s| shardgrp::Client::new(make_end(s)))
                .collect(),
            // SOLUTION BEGIN
            leader: Cell::new(0),
            // SOLUTION END
            // HANDOUT: // Your state here (5A).
        }
    }

    // SOLUTION BEGIN
    /// Tries the servers, the last leader first, until `call` (given the
    /// server and how many attempts went before) returns `Done`; with
    /// `gone`, returns it after a whole round without any reply (the group
    /// may have been shut down after leaving).
    async fn until_done<T>(
        &self,
        gone: Option<T>,
        call: impl AsyncFn(&shardgrp::Client, usize) -> Attempt<T>,
    ) -> T {
        let n = self.servers.len();
        let mut i = self.leader.get();
        let mut tries = 0;
        let mut silent = 0;
        loop {
            match call(&self.servers[i], tries).await {
                Attempt::Done(r) => {
                    self.leader.set(i);
                    return r;
                }
                Attempt::NoReply => silent += 1,
                Attempt::Next => silent = 0,
            }
            i = (i + 1) % n;
            tries += 1;
            if silent >= n
                && let Some(g) = gone
            {
                return g;
            }
            if tries % n == 0 {
                labrpc::time::sleep(ROUND_PAUSE).await;
            }
        }
    }
    // SOLUTION END
    // HANDOUT:
    /// The value and version of `key`, [`KvError::NoKey`], or
    /// [`KvError::WrongGroup`] if the group does not serve the key's shard
    /// or no server of it answered a whole round (it may be gone).
    pub async fn get(&self, key: &str) -> Result<(String, Version), KvError> {
        // SOLUTION BEGIN
        let args = GetArgs { key: key.into() };
        self.until_done(Some(Err(KvError::WrongGroup)), async |s, _| {
            match s.get(&args).await {
                Ok(Err(KvError::WrongLeader)) => Attempt::Next,
                Err(_) => Attempt::NoReply,
                Ok(reply) => Attempt::Done(reply),
            }
        })
        .await
        // SOLUTION END
        // HANDOUT: let _ = (&self.servers, key, ROUND_PAUSE);
        // HANDOUT: labrpc::not_implemented!("Lab 5A (GrpClerk::get)")
    }

    /// Writes `value` to `key` if its version is `version`: `Ok(())`,
    /// [`KvError::Version`] (first attempt refused), [`KvError::Maybe`] (a
    /// later attempt refused), [`KvError::NoKey`], or
    /// [`KvError::WrongGroup`] (as for Get; an earlier attempt may have
    /// been applied before the group stopped serving the shard).
    pub async fn put(&self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        // SOLUTION BEGIN
        let args = PutArgs {
            key: key.into(),
            value: value.into(),
            version,
        };
        self.until_done(Some(Err(KvError::WrongGroup)), async |s, tries| {
            match s.put(&args).await {
                Ok(Err(KvError::WrongLeader)) => Attempt::Next,
                Err(_) => Attempt::NoReply,
                Ok(Err(KvError::Version)) if tries > 0 => Attempt::Done(Err(KvError::Maybe)),
                Ok(reply) => Attempt::Done(reply),
            }
        })
        .await
        // SOLUTION END
        // HANDOUT: let _ = (&self.servers, key, value, version);
        // HANDOUT: labrpc::not_implemented!("Lab 5A (GrpClerk::put)")
    }

    /// FreezeShard(shard, num): the shard's keys, [`ShardError::Stale`],
    /// or [`ShardError::Unreachable`].
    pub async fn freeze_shard(&self, shard: ShardId, num: Num) -> Result<ShardData, ShardError> {
        // SOLUTION BEGIN
        let args = FreezeArgs { shard, num };
        self.until_done(Some(Err(ShardError::Unreachable)), async |s, _| {
            match s.freeze_shard(&args).await {
                Ok(Err(ShardError::WrongLeader)) => Attempt::Next,
                Err(_) => Attempt::NoReply,
                Ok(reply) => Attempt::Done(reply),
            }
        })
        .await
        // SOLUTION END
        // HANDOUT: let _ = (&self.servers, shard, num);
        // HANDOUT: labrpc::not_implemented!("Lab 5A (GrpClerk::freeze_shard)")
    }

    /// InstallShard(shard, num, data): `Ok(())`, [`ShardError::Stale`] or
    /// [`ShardError::Unreachable`].
    pub async fn install_shard(
        &self,
        shard: ShardId,
        num: Num,
        data: ShardData,
    ) -> Result<(), ShardError> {
        // SOLUTION BEGIN
        let args = InstallArgs { shard, num, data };
        self.until_done(Some(Err(ShardError::Unreachable)), async |s, _| {
            match s.install_shard(&args).await {
                Ok(Err(ShardError::WrongLeader)) => Attempt::Next,
                Err(_) => Attempt::NoReply,
                Ok(reply) => Attempt::Done(reply),
            }
        })
        .await
        // SOLUTION END
        // HANDOUT: let _ = (&self.servers, shard, num, data);
        // HANDOUT: labrpc::not_implemented!("Lab 5A (GrpClerk::install_shard)")
    }

    /// DeleteShard(shard, num): `Ok(())`, [`ShardError::Stale`] or
    /// [`ShardError::Unreachable`].
    pub async fn delete_shard(&self, shard: ShardId, num: Num) -> Result<(), ShardError> {
        // SOLUTION BEGIN
        let args = DeleteArgs { shard, num };
        self.until_done(Some(Err(ShardError::Unreachable)), async |s, _| {
            match s.delete_shard(&args).await {
                Ok(Err(ShardError::WrongLeader)) => Attempt::Next,
                Err(_) => Attempt::NoReply,
                Ok(reply) => Attempt::Done(reply),
            }
        })
        .await
        // SOLUTION END
        // HANDOUT: let _ = (&self.servers, shard, num);
        // HANDOUT: labrpc::not_implemented!("Lab 5A (GrpClerk::delete_shard)")
    }
}
