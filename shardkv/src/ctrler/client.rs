//! The controller's clerk.

// SOLUTION BEGIN
use std::cell::Cell;
use std::time::Duration;
// SOLUTION END
// HANDOUT:
use std::collections::BTreeMap;

use labrpc::ClientEnd;

use crate::framework::rpc::ctrler;
// SOLUTION BEGIN
use crate::framework::rpc::{CtrlerArgs, CtrlerOp};
// SOLUTION END
// HANDOUT:
use crate::framework::{Config, Gid};

/// A client of the shard controller. Operations never give up: each either
/// completes (exactly once) or the test ends.
pub struct CtrlerClerk {
    servers: Vec<ctrler::Client>,
    // SOLUTION BEGIN
    /// The server that answered last (probably the leader).
    leader: Cell<usize>,
    /// This clerk's unique id.
    id: u64,
    /// The number of the last operation issued.
    seq: Cell<u64>,
    // SOLUTION END
    // HANDOUT: // Your state here (5A).
}

// SOLUTION BEGIN
/// After asking every server in turn without success, wait this long (an
/// election may be under way).
const ROUND_PAUSE: Duration = Duration::from_millis(50);
// SOLUTION END
// HANDOUT:

impl CtrlerClerk {
    /// A clerk talking to the controller `servers` (ends to every server,
    /// in any order).
    pub fn new(servers: Vec<ClientEnd>) -> CtrlerClerk {
        CtrlerClerk {
            servers: servers.into_iter().map(ctrler::Client::new).collect(),
            // SOLUTION BEGIN
            leader: Cell::new(0),
            id: labrpc::rand::random(),
            seq: Cell::new(0),
            // SOLUTION END
            // HANDOUT:
        }
    }

    /// Configuration `num`, or the latest if `num` is `None` or larger
    /// than the latest's number. The latest reflects every operation that
    /// finished before the call.
    pub async fn query(&self, num: Option<u64>) -> Config {
        // SOLUTION BEGIN
        self.command(CtrlerOp::Query(num)).await
        // SOLUTION END
        // HANDOUT: { let _ = (&self.servers, num); labrpc::not_implemented!("ShardKV 5A (controller clerk)") }
    }

    /// Adds `groups` (gid -> server names) and rebalances; returns the new
    /// configuration.
    pub async fn join(&self, groups: BTreeMap<Gid, Vec<String>>) -> Config {
        // SOLUTION BEGIN
        self.command(CtrlerOp::Join(groups)).await
        // SOLUTION END
        // HANDOUT: { let _ = groups; labrpc::not_implemented!("ShardKV 5A (controller clerk)") }
    }

    /// Removes the groups `gids` and hands their shards to the rest;
    /// returns the new configuration.
    pub async fn leave(&self, gids: &[Gid]) -> Config {
        // SOLUTION BEGIN
        self.command(CtrlerOp::Leave(gids.to_vec())).await
        // SOLUTION END
        // HANDOUT: { let _ = gids; labrpc::not_implemented!("ShardKV 5A (controller clerk)") }
    }

    /// Assigns `shard` to group `gid`; returns the new configuration.
    pub async fn move_shard(&self, shard: usize, gid: Gid) -> Config {
        // SOLUTION BEGIN
        self.command(CtrlerOp::Move { shard, gid }).await
        // SOLUTION END
        // HANDOUT: { let _ = (shard, gid); labrpc::not_implemented!("ShardKV 5A (controller clerk)") }
    }

    // SOLUTION BEGIN
    async fn command(&self, op: CtrlerOp) -> Config {
        self.seq.set(self.seq.get() + 1);
        let args = CtrlerArgs {
            client: self.id,
            seq: self.seq.get(),
            op,
        };
        let n = self.servers.len();
        let mut i = self.leader.get();
        let mut tries = 0;
        loop {
            if let Ok(Ok(config)) = self.servers[i].command(&args).await {
                self.leader.set(i);
                return config;
            }
            i = (i + 1) % n;
            tries += 1;
            if tries % n == 0 {
                labrpc::time::sleep(ROUND_PAUSE).await;
            }
        }
    }
    // SOLUTION END
    // HANDOUT:
}
