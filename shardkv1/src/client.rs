//! The shardkv clerk: Get and Put on any key, routed to the group that
//! serves its shard.

use std::rc::Rc;
use std::time::Duration;

use crate::ctrler::ShardCtrler;
use crate::framework::rpc::{KvError, MakeEnd, Version};
use crate::framework::shardcfg::Gid;
use crate::shardgrp::client::GrpClerk;
// SOLUTION BEGIN
use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::framework::shardcfg::{ShardConfig, key2shard};
// SOLUTION END
// HANDOUT:

/// How long a clerk waits before asking the controller again when the
/// group it asked does not serve the key's shard (a move may be under way).
pub const WRONG_GROUP_PAUSE: Duration = Duration::from_millis(100);

/// A client of the sharded key/value service. It never gives up: each
/// operation goes to the group the current configuration names, asking
/// the controller again whenever a group says it is the wrong one.
pub struct Clerk {
    ctrler: Rc<ShardCtrler>,
    make_end: MakeEnd,
    // SOLUTION BEGIN
    /// The configuration last read from the controller.
    config: RefCell<Option<ShardConfig>>,
    /// One clerk per group, made on first use.
    groups: RefCell<BTreeMap<Gid, Rc<GrpClerk>>>,
    // SOLUTION END
    // HANDOUT: // Your state here (5A).
}

impl Clerk {
    /// A clerk that learns configurations from `ctrler` and reaches the
    /// groups' servers through ends made by `make_end`.
    pub fn new(ctrler: Rc<ShardCtrler>, make_end: MakeEnd) -> Clerk {
        Clerk {
            ctrler,
            make_end,
            // SOLUTION BEGIN
            config: RefCell::new(None),
            groups: RefCell::new(BTreeMap::new()),
            // SOLUTION END
            // HANDOUT: // Your state here (5A).
        }
    }

    /// The clerk of group `gid`, if this clerk has talked to it.
    pub fn grp_clerk(&self, gid: Gid) -> Option<Rc<GrpClerk>> {
        // SOLUTION BEGIN
        self.groups.borrow().get(&gid).cloned()
        // SOLUTION END
        // HANDOUT: let _ = gid;
        // HANDOUT: labrpc::not_implemented!("Lab 5A (Clerk::grp_clerk)")
    }

    /// The value and version of `key`, or `Err(KvError::NoKey)`. Never
    /// returns another error.
    pub async fn get(&self, key: &str) -> Result<(String, Version), KvError> {
        // SOLUTION BEGIN
        loop {
            let grp = self.group_of(key).await;
            match grp.get(key).await {
                Err(KvError::WrongGroup) => self.refresh().await,
                reply => return reply,
            }
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.ctrler, &self.make_end, key, WRONG_GROUP_PAUSE);
        // HANDOUT: labrpc::not_implemented!("Lab 5A (Clerk::get)")
    }

    /// Writes `value` to `key` if its version is `version`: `Ok(())`,
    /// [`KvError::Version`] (surely not applied), [`KvError::Maybe`]
    /// (an earlier attempt, perhaps at another group, may have been
    /// applied) or [`KvError::NoKey`].
    pub async fn put(&self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        // SOLUTION BEGIN
        // A WrongGroup answer may follow an attempt that was applied (its
        // reply lost) before the shard moved away.
        let mut maybe = false;
        loop {
            let grp = self.group_of(key).await;
            match grp.put(key, value, version).await {
                Err(KvError::WrongGroup) => {
                    maybe = true;
                    self.refresh().await;
                }
                Err(KvError::Version) if maybe => return Err(KvError::Maybe),
                reply => return reply,
            }
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.ctrler, &self.make_end, key, value, version);
        // HANDOUT: labrpc::not_implemented!("Lab 5A (Clerk::put)")
    }
}
// SOLUTION BEGIN
impl Clerk {
    /// The clerk of the group serving `key` in the last configuration read.
    async fn group_of(&self, key: &str) -> Rc<GrpClerk> {
        loop {
            if self.config.borrow().is_none() {
                let c = self.ctrler.query().await;
                *self.config.borrow_mut() = Some(c);
            }
            let found = {
                let config = self.config.borrow();
                let c = config.as_ref().expect("read above");
                c.gid_servers(key2shard(key))
                    .map(|(gid, servers)| (gid, servers.to_vec()))
            };
            match found {
                Some((gid, servers)) => {
                    let mut groups = self.groups.borrow_mut();
                    let g = groups
                        .entry(gid)
                        .or_insert_with(|| Rc::new(GrpClerk::new(&self.make_end, &servers)));
                    return g.clone();
                }
                None => self.refresh().await,
            }
        }
    }

    /// Forgets the configuration (after a pause): the next operation reads
    /// the current one.
    async fn refresh(&self) {
        labrpc::time::sleep(WRONG_GROUP_PAUSE).await;
        *self.config.borrow_mut() = None;
    }
}
// SOLUTION END
// HANDOUT:
