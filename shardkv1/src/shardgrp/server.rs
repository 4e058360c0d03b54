//! A shard group server: the shards it serves, replicated through `rsm`.

use std::rc::Rc;

use labrpc::{NodeId, Persister};
use raft::Raft;
use raft::rpc::raft as raft_rpc;
use rsm::{Rsm, StateMachine};

use crate::framework::rpc::{
    DeleteArgs, DeleteReply, FreezeArgs, FreezeReply, GetArgs, GetReply, InstallArgs, InstallReply,
    PutArgs, PutReply, Rep, Req, shardgrp,
};
use crate::framework::shardcfg::Gid;
// SOLUTION BEGIN
use std::cell::RefCell;

use serde::{Deserialize, Serialize};

use crate::framework::rpc::{KvError, ShardData, ShardError};
use crate::framework::shardcfg::{GID1, NSHARDS, Num, key2shard};

/// Where one shard stands in this group.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Status {
    /// Served here: Gets and Puts of its keys are executed.
    Owned(ShardData),
    /// Frozen for a move: kept (a controller may ask again) but not served.
    Frozen(ShardData),
    /// Not here.
    Absent,
}

/// One shard's state: the highest configuration number any Freeze,
/// Install or Delete of it carried (the fence), and its status.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Shard {
    num: Num,
    status: Status,
}
// SOLUTION END
// HANDOUT:

/// The replicated state of one group. `rsm` executes the committed
/// requests on it, in log order, on every server of the group.
struct ShardStore {
    gid: Gid,
    me: usize,
    // SOLUTION BEGIN
    shards: RefCell<Vec<Shard>>,
    // SOLUTION END
    // HANDOUT: // Your state here (5A).
}

impl ShardStore {
    fn new(gid: Gid, me: usize) -> ShardStore {
        // SOLUTION BEGIN
        // The first group serves every shard from its birth (no Install).
        let status = if gid == GID1 {
            Status::Owned(ShardData::new())
        } else {
            Status::Absent
        };
        let shard = Shard { num: 0, status };
        ShardStore {
            gid,
            me,
            shards: RefCell::new(vec![shard; NSHARDS]),
        }
        // SOLUTION END
        // HANDOUT: ShardStore { gid, me }
    }
    // SOLUTION BEGIN
    fn get(&self, args: GetArgs) -> GetReply {
        match &self.shards.borrow()[key2shard(&args.key)].status {
            Status::Owned(data) => data.get(&args.key).cloned().ok_or(KvError::NoKey),
            _ => Err(KvError::WrongGroup),
        }
    }

    fn put(&self, args: PutArgs) -> PutReply {
        let mut shards = self.shards.borrow_mut();
        let Status::Owned(data) = &mut shards[key2shard(&args.key)].status else {
            return Err(KvError::WrongGroup);
        };
        match data.get_mut(&args.key) {
            Some((value, version)) if *version == args.version => {
                *value = args.value;
                *version += 1;
                Ok(())
            }
            Some(_) => Err(KvError::Version),
            None if args.version == 0 => {
                data.insert(args.key, (args.value, 1));
                Ok(())
            }
            None => Err(KvError::NoKey),
        }
    }

    /// Stops serving the shard; its keys stay (frozen) until a Delete.
    fn freeze(&self, args: FreezeArgs) -> FreezeReply {
        let mut shards = self.shards.borrow_mut();
        let shard = &mut shards[args.shard];
        if args.num < shard.num {
            return Err(ShardError::Stale);
        }
        shard.num = args.num;
        let data = match &shard.status {
            Status::Owned(data) | Status::Frozen(data) => data.clone(),
            Status::Absent => ShardData::new(),
        };
        if matches!(shard.status, Status::Owned(_)) {
            shard.status = Status::Frozen(data.clone());
        }
        Ok(data)
    }

    /// Serves the shard with the keys given, unless this number (or a
    /// later one) was seen already: a repeated Install changes nothing.
    fn install(&self, args: InstallArgs) -> InstallReply {
        let mut shards = self.shards.borrow_mut();
        let shard = &mut shards[args.shard];
        if args.num < shard.num {
            return Err(ShardError::Stale);
        }
        if args.num > shard.num {
            shard.num = args.num;
            shard.status = Status::Owned(args.data);
        }
        Ok(())
    }

    /// Forgets a frozen shard.
    fn delete(&self, args: DeleteArgs) -> DeleteReply {
        let mut shards = self.shards.borrow_mut();
        let shard = &mut shards[args.shard];
        if args.num < shard.num {
            return Err(ShardError::Stale);
        }
        shard.num = args.num;
        if matches!(shard.status, Status::Frozen(_)) {
            shard.status = Status::Absent;
        }
        Ok(())
    }
    // SOLUTION END
    // HANDOUT:
}

impl StateMachine for ShardStore {
    type Req = Req;
    type Rep = Rep;

    /// Executes one committed request.
    fn do_op(&self, req: Req) -> Rep {
        // SOLUTION BEGIN
        match req {
            Req::Get(args) => Rep::Get(self.get(args)),
            Req::Put(args) => Rep::Put(self.put(args)),
            Req::Freeze(args) => Rep::Freeze(self.freeze(args)),
            Req::Install(args) => Rep::Done(self.install(args)),
            Req::Delete(args) => Rep::Done(self.delete(args)),
        }
        // SOLUTION END
        // HANDOUT: let _ = (self.gid, self.me, req);
        // HANDOUT: labrpc::not_implemented!("Lab 5A (shard group do_op)")
    }

    /// The group's state, as bytes.
    fn snapshot(&self) -> Vec<u8> {
        // SOLUTION BEGIN
        labcodec::encode(&*self.shards.borrow()).expect("the shards always encode")
        // SOLUTION END
        // HANDOUT: labrpc::not_implemented!("Lab 5A (shard group snapshot)")
    }

    /// Replaces the state with one from [`ShardStore::snapshot`].
    fn restore(&self, data: &[u8]) {
        // SOLUTION BEGIN
        let shards = labcodec::decode(data).unwrap_or_else(|e| {
            panic!(
                "group {} server {}: cannot decode a snapshot: {e}",
                self.gid, self.me
            )
        });
        *self.shards.borrow_mut() = shards;
        // SOLUTION END
        // HANDOUT: let _ = data;
        // HANDOUT: labrpc::not_implemented!("Lab 5A (shard group restore)")
    }
}

/// One server of a shard group: its RSM (and through it, its Raft peer
/// and the group's shards).
#[derive(Clone)]
pub struct ShardGrpServer {
    rsm: Rsm<ShardStore>,
}

impl ShardGrpServer {
    /// Starts server `me` of group `gid`, whose Raft peers are `peers`,
    /// restoring from `persister`; with `maxraftstate`, snapshots whenever
    /// the persisted Raft state reaches that many bytes. Group
    /// [`crate::GID1`] serves every shard from its start.
    ///
    /// Must run as code of the server's node (`labrpc::node::enter`).
    pub fn start(
        peers: Vec<raft_rpc::Client>,
        gid: Gid,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
    ) -> ShardGrpServer {
        assert!(
            labrpc::node::current() != NodeId::TESTER,
            "ShardGrpServer::start must run on the server's own node: wrap it in labrpc::node::enter"
        );
        let store = Rc::new(ShardStore::new(gid, me));
        ShardGrpServer {
            rsm: Rsm::new(peers, me, persister, maxraftstate, store),
        }
    }

    /// The server's Raft peer.
    pub fn raft(&self) -> &Raft {
        self.rsm.raft()
    }

    /// A labrpc server offering both the shard group's service and Raft's.
    pub fn server(&self) -> labrpc::Server {
        labrpc::Server::new()
            .add_service(self.raft().service())
            .add_service(shardgrp::service(Rc::new(self.clone())))
    }
}

// SOLUTION BEGIN
impl ShardGrpServer {
    async fn submit(&self, req: Req) -> Option<Rep> {
        self.rsm.submit(req).await.ok()
    }
}
// SOLUTION END
// HANDOUT:
impl shardgrp::Service for ShardGrpServer {
    /// Submits the Get through `rsm`.
    async fn get(&self, args: GetArgs) -> GetReply {
        // SOLUTION BEGIN
        match self.submit(Req::Get(args)).await {
            Some(Rep::Get(reply)) => reply,
            Some(rep) => panic!("a Get was answered {rep:?}"),
            None => Err(KvError::WrongLeader),
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.rsm, args);
        // HANDOUT: labrpc::not_implemented!("Lab 5A (shard group get)")
    }

    /// Submits the Put through `rsm`.
    async fn put(&self, args: PutArgs) -> PutReply {
        // SOLUTION BEGIN
        match self.submit(Req::Put(args)).await {
            Some(Rep::Put(reply)) => reply,
            Some(rep) => panic!("a Put was answered {rep:?}"),
            None => Err(KvError::WrongLeader),
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.rsm, args);
        // HANDOUT: labrpc::not_implemented!("Lab 5A (shard group put)")
    }

    /// Submits the FreezeShard through `rsm`.
    async fn freeze_shard(&self, args: FreezeArgs) -> FreezeReply {
        // SOLUTION BEGIN
        match self.submit(Req::Freeze(args)).await {
            Some(Rep::Freeze(reply)) => reply,
            Some(rep) => panic!("a FreezeShard was answered {rep:?}"),
            None => Err(ShardError::WrongLeader),
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.rsm, args);
        // HANDOUT: labrpc::not_implemented!("Lab 5A (shard group freeze_shard)")
    }

    /// Submits the InstallShard through `rsm`.
    async fn install_shard(&self, args: InstallArgs) -> InstallReply {
        // SOLUTION BEGIN
        match self.submit(Req::Install(args)).await {
            Some(Rep::Done(reply)) => reply,
            Some(rep) => panic!("an InstallShard was answered {rep:?}"),
            None => Err(ShardError::WrongLeader),
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.rsm, args);
        // HANDOUT: labrpc::not_implemented!("Lab 5A (shard group install_shard)")
    }

    /// Submits the DeleteShard through `rsm`.
    async fn delete_shard(&self, args: DeleteArgs) -> DeleteReply {
        // SOLUTION BEGIN
        match self.submit(Req::Delete(args)).await {
            Some(Rep::Done(reply)) => reply,
            Some(rep) => panic!("a DeleteShard was answered {rep:?}"),
            None => Err(ShardError::WrongLeader),
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.rsm, args);
        // HANDOUT: labrpc::not_implemented!("Lab 5A (shard group delete_shard)")
    }
}
