//! The shard controller: a library (not a server) that keeps the
//! configurations in a Lab 2 key/value server and moves shards between
//! groups.

use labrpc::ClientEnd;

use crate::framework::rpc::MakeEnd;
use crate::framework::shardcfg::ShardConfig;
// SOLUTION BEGIN
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use kvsrv::{KvError, Version};
use log::debug;

use crate::framework::rpc::ShardError;
use crate::framework::shardcfg::{Gid, NSHARDS, Num, ShardId};
use crate::shardgrp::client::GrpClerk;

/// The key of the current configuration.
const CURRENT: &str = "shardctrler-current";
/// The key of the next configuration: ahead of the current one while a
/// change is under way (or was left unfinished by a crashed controller).
const NEXT: &str = "shardctrler-next";
/// How long to wait before reading the store again after an odd answer.
const RETRY: Duration = Duration::from_millis(100);

/// A change was superseded: another controller finished it, or went on to
/// a later configuration.
struct Superseded;
// SOLUTION END
// HANDOUT:

/// A shard controller. Several may exist at once (in different clients);
/// they coordinate only through the key/value server.
pub struct ShardCtrler {
    kv: kvsrv::Clerk,
    make_end: MakeEnd,
    // SOLUTION BEGIN
    /// One clerk per group, made on first use.
    groups: RefCell<BTreeMap<Gid, Rc<GrpClerk>>>,
    // SOLUTION END
    // HANDOUT: // Your state here (5A).
}

impl ShardCtrler {
    /// A controller whose configurations live in the key/value server
    /// reached through `kvsrv` and which reaches groups' servers through
    /// ends made by `make_end`.
    pub fn new(kvsrv: ClientEnd, make_end: MakeEnd) -> ShardCtrler {
        ShardCtrler {
            kv: kvsrv::Clerk::new(kvsrv),
            make_end,
            // SOLUTION BEGIN
            groups: RefCell::new(BTreeMap::new()),
            // SOLUTION END
            // HANDOUT: // Your state here (5A).
        }
    }

    /// Called once, before any other call of any controller: stores the
    /// first configuration.
    pub async fn init_config(&self, cfg: ShardConfig) {
        // SOLUTION BEGIN
        let s = cfg.to_string();
        // Lost replies make a retry answer Maybe: the key is there either way.
        let _ = self.kv.put(NEXT, &s, 0).await;
        let _ = self.kv.put(CURRENT, &s, 0).await;
        // SOLUTION END
        // HANDOUT: let _ = (&self.kv, &self.make_end, cfg);
        // HANDOUT: labrpc::not_implemented!("Lab 5A (ShardCtrler::init_config)")
    }

    /// Called when a controller starts (before its first `change_config_to`):
    /// finishes a change that a crashed controller left unfinished.
    pub async fn init_controller(&self) {
        // SOLUTION BEGIN
        let (cur, cur_ver) = self.read(CURRENT).await;
        let (next, _) = self.read(NEXT).await;
        if next.num > cur.num {
            debug!(target: "shardctrler", "recovering the move to {}", next.num);
            self.finish(&cur, cur_ver, &next).await;
        }
        // SOLUTION END
        // HANDOUT: labrpc::not_implemented!("Lab 5B (ShardCtrler::init_controller)")
    }

    /// The current configuration.
    pub async fn query(&self) -> ShardConfig {
        // SOLUTION BEGIN
        self.read(CURRENT).await.0
        // SOLUTION END
        // HANDOUT: labrpc::not_implemented!("Lab 5A (ShardCtrler::query)")
    }

    /// Moves the system to `new` (numbered one above the current
    /// configuration): moves every shard that changes group, then makes
    /// `new` current. If another controller's change of the same number
    /// wins, returns without doing anything.
    pub async fn change_config_to(&self, new: ShardConfig) {
        // SOLUTION BEGIN
        let (cur, cur_ver) = self.read(CURRENT).await;
        let (next, next_ver) = self.read(NEXT).await;
        if new.num != cur.num + 1 || next.num >= new.num {
            return;
        }
        if self.propose(&new, next_ver).await {
            self.finish(&cur, cur_ver, &new).await;
        }
        // SOLUTION END
        // HANDOUT: let _ = new;
        // HANDOUT: labrpc::not_implemented!("Lab 5A (ShardCtrler::change_config_to)")
    }
}
// SOLUTION BEGIN
impl ShardCtrler {
    /// A configuration and its version in the store.
    async fn read(&self, key: &str) -> (ShardConfig, Version) {
        loop {
            match self.kv.get(key).await {
                Ok((s, ver)) => return (ShardConfig::from_string(&s), ver),
                Err(e) => {
                    debug!(target: "shardctrler", "Get({key}): {e}");
                    labrpc::time::sleep(RETRY).await;
                }
            }
        }
    }

    /// Writes `new` as the next configuration if nobody changed it since
    /// version `ver`: true if this controller won.
    async fn propose(&self, new: &ShardConfig, ver: Version) -> bool {
        match self.kv.put(NEXT, &new.to_string(), ver).await {
            Ok(()) => true,
            Err(KvError::Maybe) => self.read(NEXT).await.0 == *new,
            Err(_) => false,
        }
    }

    /// Moves the shards from `cur` to `next`, then makes `next` current
    /// (unless another controller did, or went further).
    async fn finish(&self, cur: &ShardConfig, cur_ver: Version, next: &ShardConfig) {
        if self.move_shards(cur, next).await.is_err() {
            debug!(target: "shardctrler", "the move to {} was superseded", next.num);
            return;
        }
        let _ = self.kv.put(CURRENT, &next.to_string(), cur_ver).await;
    }

    /// Moves every shard whose group changes, in shard order.
    async fn move_shards(&self, cur: &ShardConfig, next: &ShardConfig) -> Result<(), Superseded> {
        for shard in 0..NSHARDS {
            if cur.shards[shard] != next.shards[shard] {
                self.move_shard(shard, cur, next).await?;
            }
        }
        Ok(())
    }

    /// Freeze at the old owner, Install at the new one, Delete at the old
    /// one, all fenced by `next.num`.
    async fn move_shard(
        &self,
        shard: ShardId,
        cur: &ShardConfig,
        next: &ShardConfig,
    ) -> Result<(), Superseded> {
        let num = next.num;
        let from = cur.gid_servers(shard).map(|(g, s)| self.group(g, s));
        let to = next.gid_servers(shard).map(|(g, s)| self.group(g, s));
        let data = match &from {
            Some(g) => {
                self.call(num, async || g.freeze_shard(shard, num).await)
                    .await?
            }
            None => Default::default(),
        };
        if let Some(g) = &to {
            let data = &data;
            self.call(num, async || {
                g.install_shard(shard, num, data.clone()).await
            })
            .await?;
        }
        if let Some(g) = &from {
            self.call(num, async || g.delete_shard(shard, num).await)
                .await?;
        }
        Ok(())
    }

    /// Runs a group call of the change to `num` until it is done. When the
    /// group does not answer, the change may have been finished by another
    /// controller (which may have shut the group down since): then this
    /// one stops.
    async fn call<T>(
        &self,
        num: Num,
        f: impl AsyncFn() -> Result<T, ShardError>,
    ) -> Result<T, Superseded> {
        loop {
            match f().await {
                Ok(v) => return Ok(v),
                Err(ShardError::Unreachable | ShardError::WrongLeader) => {
                    if self.read(CURRENT).await.0.num >= num {
                        return Err(Superseded);
                    }
                }
                Err(e @ ShardError::Stale) => {
                    debug!(target: "shardctrler", "a group refused: {e}");
                    return Err(Superseded);
                }
            }
        }
    }

    fn group(&self, gid: Gid, servers: &[String]) -> Rc<GrpClerk> {
        self.groups
            .borrow_mut()
            .entry(gid)
            .or_insert_with(|| Rc::new(GrpClerk::new(&self.make_end, servers)))
            .clone()
    }
}
// SOLUTION END
// HANDOUT:
