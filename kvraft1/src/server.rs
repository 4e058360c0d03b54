//! A KV server: the versioned store, replicated through `rsm`.

use std::rc::Rc;

use labrpc::{NodeId, Persister};
use raft::Raft;
use raft::rpc::raft as raft_rpc;
use rsm::{Rsm, StateMachine};

use crate::framework::rpc::{GetArgs, GetReply, PutArgs, PutReply, Rep, Req, kv};
// SOLUTION BEGIN
use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::framework::rpc::{KvError, Version};
// SOLUTION END
// HANDOUT:

/// The replicated state: every key's value and version. `rsm` executes
/// the committed requests on it, in log order, on every server.
struct KvStore {
    me: usize,
    // SOLUTION BEGIN
    /// Key -> (value, version). An absent key has version 0.
    store: RefCell<BTreeMap<String, (String, Version)>>,
    // SOLUTION END
    // HANDOUT: // Your state here (4B).
}

impl KvStore {
    fn new(me: usize) -> KvStore {
        KvStore {
            me,
            // SOLUTION BEGIN
            store: RefCell::new(BTreeMap::new()),
            // SOLUTION END
            // HANDOUT: // Your state here (4B).
        }
    }

    // SOLUTION BEGIN
    fn get(&self, args: GetArgs) -> GetReply {
        self.store
            .borrow()
            .get(&args.key)
            .cloned()
            .ok_or(KvError::NoKey)
    }

    fn put(&self, args: PutArgs) -> PutReply {
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
    }
    // SOLUTION END
    // HANDOUT:
}

impl StateMachine for KvStore {
    type Req = Req;
    type Rep = Rep;

    /// Executes one committed Get or Put (Lab 2's semantics).
    fn do_op(&self, req: Req) -> Rep {
        // SOLUTION BEGIN
        match req {
            Req::Get(args) => Rep::Get(self.get(args)),
            Req::Put(args) => Rep::Put(self.put(args)),
        }
        // SOLUTION END
        // HANDOUT: let _ = (self.me, req);
        // HANDOUT: labrpc::not_implemented!("kvraft1 4B (KvStore::do_op)")
    }

    /// The store, as bytes (4C).
    fn snapshot(&self) -> Vec<u8> {
        // SOLUTION BEGIN
        labcodec::encode(&*self.store.borrow()).expect("the store always encodes")
        // SOLUTION END
        // HANDOUT: labrpc::not_implemented!("kvraft1 4C (KvStore::snapshot)")
    }

    /// Replaces the store with one from [`KvStore::snapshot`] (4C).
    fn restore(&self, data: &[u8]) {
        // SOLUTION BEGIN
        let store = labcodec::decode(data)
            .unwrap_or_else(|e| panic!("kv server {}: cannot decode a snapshot: {e}", self.me));
        *self.store.borrow_mut() = store;
        // SOLUTION END
        // HANDOUT: let _ = data;
        // HANDOUT: labrpc::not_implemented!("kvraft1 4C (KvStore::restore)")
    }
}

/// One KV server: its RSM (and through it, its Raft peer and its store).
#[derive(Clone)]
pub struct KvServer {
    rsm: Rsm<KvStore>,
}

impl KvServer {
    /// Starts server `me` of a group whose Raft peers are `peers`,
    /// restoring from `persister`. With `maxraftstate` set, it snapshots
    /// whenever the persisted Raft state reaches that many bytes.
    ///
    /// Must run as code of the server's node (`labrpc::node::enter`).
    pub fn start(
        peers: Vec<raft_rpc::Client>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
    ) -> KvServer {
        assert!(
            labrpc::node::current() != NodeId::TESTER,
            "KvServer::start must run on the server's own node: wrap it in labrpc::node::enter"
        );
        let store = Rc::new(KvStore::new(me));
        KvServer {
            rsm: Rsm::new(peers, me, persister, maxraftstate, store),
        }
    }

    /// The server's Raft peer.
    pub fn raft(&self) -> &Raft {
        self.rsm.raft()
    }

    /// A labrpc server offering both the KV service and Raft's.
    pub fn server(&self) -> labrpc::Server {
        labrpc::Server::new()
            .add_service(self.raft().service())
            .add_service(kv::service(Rc::new(self.clone())))
    }
}

impl kv::Service for KvServer {
    /// Submits the Get through `rsm`; `WrongLeader` if not executed here.
    async fn get(&self, args: GetArgs) -> GetReply {
        // SOLUTION BEGIN
        match self.rsm.submit(Req::Get(args)).await {
            Ok(Rep::Get(reply)) => reply,
            Ok(rep) => panic!("a Get was answered {rep:?}"),
            Err(_) => Err(KvError::WrongLeader),
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.rsm, args);
        // HANDOUT: labrpc::not_implemented!("kvraft1 4B (KvServer::get)")
    }

    /// Submits the Put through `rsm`; `WrongLeader` if not executed here.
    async fn put(&self, args: PutArgs) -> PutReply {
        // SOLUTION BEGIN
        match self.rsm.submit(Req::Put(args)).await {
            Ok(Rep::Put(reply)) => reply,
            Ok(rep) => panic!("a Put was answered {rep:?}"),
            Err(_) => Err(KvError::WrongLeader),
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.rsm, args);
        // HANDOUT: labrpc::not_implemented!("kvraft1 4B (KvServer::put)")
    }
}
