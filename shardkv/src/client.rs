//! The clerk: how a client talks to the sharded store.

// SOLUTION BEGIN
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Duration;

use crate::framework::rpc::{Error, KvArgs, shardkv};
use crate::framework::{Config, Gid, key2shard};
// SOLUTION END
// HANDOUT:
use labrpc::ClientEnd;

use crate::CtrlerClerk;
use crate::framework::MakeEnd;
use crate::framework::rpc::KvOp;

/// A client of the sharded store. Operations never give up: each either
/// completes (exactly once) or the test ends.
pub struct Clerk {
    ctrler: CtrlerClerk,
    make_end: MakeEnd,
    // SOLUTION BEGIN
    /// The configuration last fetched from the controller.
    config: RefCell<Config>,
    /// Ends to the servers, by name.
    ends: RefCell<BTreeMap<String, shardkv::Client>>,
    /// The server of each group that answered last.
    leaders: RefCell<BTreeMap<Gid, usize>>,
    /// This clerk's unique id.
    id: u64,
    /// The number of the last operation issued.
    seq: Cell<u64>,
    // SOLUTION END
    // HANDOUT: // Your state here (5B).
}

// SOLUTION BEGIN
/// After trying a group's servers in vain, wait this long before asking
/// the controller for the latest configuration.
const RETRY_PAUSE: Duration = Duration::from_millis(100);
// SOLUTION END
// HANDOUT:

impl Clerk {
    /// A clerk using the controller servers `ctrlers` (ends in any order)
    /// to find groups, and `make_end` to reach their servers.
    pub fn new(ctrlers: Vec<ClientEnd>, make_end: MakeEnd) -> Clerk {
        Clerk {
            ctrler: CtrlerClerk::new(ctrlers),
            make_end,
            // SOLUTION BEGIN
            config: RefCell::new(Config::default()),
            ends: RefCell::new(BTreeMap::new()),
            leaders: RefCell::new(BTreeMap::new()),
            id: labrpc::rand::random(),
            seq: Cell::new(0),
            // SOLUTION END
            // HANDOUT:
        }
    }

    /// The value of `key` ("" if missing).
    pub async fn get(&self, key: &str) -> String {
        self.command(KvOp::Get { key: key.into() }).await
    }

    /// Sets `key` to `value`.
    pub async fn put(&self, key: &str, value: &str) {
        self.command(KvOp::Put {
            key: key.into(),
            value: value.into(),
        })
        .await;
    }

    /// Appends `value` to `key`.
    pub async fn append(&self, key: &str, value: &str) {
        self.command(KvOp::Append {
            key: key.into(),
            value: value.into(),
        })
        .await;
    }

    async fn command(&self, op: KvOp) -> String {
        // SOLUTION BEGIN
        self.seq.set(self.seq.get() + 1);
        let args = KvArgs {
            client: self.id,
            seq: self.seq.get(),
            op,
        };
        let shard = key2shard(args.op.key());
        loop {
            let (gid, servers) = {
                let config = self.config.borrow();
                let gid = config.shards[shard];
                (gid, config.groups.get(&gid).cloned().unwrap_or_default())
            };
            let first = self.leaders.borrow().get(&gid).copied().unwrap_or(0);
            for k in 0..servers.len() {
                let i = (first + k) % servers.len();
                let server = self.end(&servers[i]);
                match server.command(&args).await {
                    Ok(Ok(value)) => {
                        self.leaders.borrow_mut().insert(gid, i);
                        return value;
                    }
                    Ok(Err(Error::WrongGroup)) => break,
                    _ => {}
                }
            }
            labrpc::time::sleep(RETRY_PAUSE).await;
            *self.config.borrow_mut() = self.ctrler.query(None).await;
        }
        // SOLUTION END
        // HANDOUT: { let _ = (op, &self.ctrler, &self.make_end); labrpc::not_implemented!("ShardKV 5B (clerk)") }
    }

    // SOLUTION BEGIN
    fn end(&self, name: &str) -> shardkv::Client {
        self.ends
            .borrow_mut()
            .entry(name.to_string())
            .or_insert_with(|| shardkv::Client::new((self.make_end)(name)))
            .clone()
    }
    // SOLUTION END
    // HANDOUT:
}
