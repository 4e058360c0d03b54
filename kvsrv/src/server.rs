//! The key/value server.

use crate::framework::rpc::{GetArgs, GetReply, PutArgs, PutReply, kv};
// SOLUTION BEGIN
use crate::framework::rpc::{KvError, Version};
use std::cell::RefCell;
use std::collections::BTreeMap;
// SOLUTION END
// HANDOUT:

/// The server: every key's value and version, and nothing per client.
///
/// The grader serves it as `kv::service(Rc::new(server))` on the server's
/// node; requests arrive as calls of [`kv::Service`].
pub struct KvServer {
    // SOLUTION BEGIN
    /// Key -> (value, version). An absent key has version 0.
    store: RefCell<BTreeMap<String, (String, Version)>>,
    // SOLUTION END
    // HANDOUT: // Your state here (2A).
}

impl KvServer {
    /// A server with no keys.
    pub fn new() -> KvServer {
        // SOLUTION BEGIN
        KvServer {
            store: RefCell::new(BTreeMap::new()),
        }
        // SOLUTION END
        // HANDOUT: KvServer {}
    }
}

impl Default for KvServer {
    fn default() -> Self {
        KvServer::new()
    }
}

impl kv::Service for KvServer {
    /// The key's value and version, or `Err(KvError::NoKey)`.
    async fn get(&self, args: GetArgs) -> GetReply {
        // SOLUTION BEGIN
        self.store
            .borrow()
            .get(&args.key)
            .cloned()
            .ok_or(KvError::NoKey)
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("kvsrv 2A (KvServer::get)")
    }

    /// Installs the value if the version matches (see the crate docs).
    async fn put(&self, args: PutArgs) -> PutReply {
        // SOLUTION BEGIN
        let mut store = self.store.borrow_mut();
        match store.get_mut(&args.key) {
            Some((value, version)) if *version == args.version => {
                *value = args.value;
                *version += 1;
                Ok(())
            }
            Some(_) => Err(KvError::Version),
            None if args.version == 0 => {
                store.insert(args.key, (args.value, 1));
                Ok(())
            }
            None => Err(KvError::NoKey),
        }
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("kvsrv 2A (KvServer::put)")
    }
}
