//! The master (A, C, D): the namespace, chunk handles, versions and
//! locations, leases, re-replication and garbage collection, and the
//! operation log.

mod lease;
mod monitor;
mod oplog;
mod state;

use std::collections::BTreeMap;
use std::rc::Rc;

use labrpc::{ClientEnd, Persister};

use crate::framework::rpc::{
    ChunkHandle, ChunkLocations, FindChunkArgs, GfsError, HeartbeatArgs, HeartbeatReply, LeaseInfo,
    ListArgs, PathArgs, master,
};
// SOLUTION BEGIN
use std::cell::RefCell;
use std::collections::BTreeSet;

use labrpc::time::Instant;

use crate::framework::REPLICAS;
use crate::framework::rpc::{CreateChunkArgs, chunkserver};
use oplog::{Op, OpLog};
use state::{ChunkMeta, State};
// SOLUTION END
// HANDOUT:

/// The master. The grader serves it as `master::service(master)` on the
/// master's node and builds a new one from the same persister after a
/// crash.
pub struct Master {
    // SOLUTION BEGIN
    state: RefCell<State>,
    oplog: RefCell<OpLog>,
    chunkservers: BTreeMap<String, chunkserver::Client>,
    /// When this master started: no lease for [`crate::LEASE_DURATION`]
    /// after, as one granted by its predecessor may still be held.
    started: Instant,
    // SOLUTION END
    // HANDOUT: // Your state here (A, C, D).
}

impl Master {
    /// A master that talks to chunkserver `name` through
    /// `chunkservers[name]` and persists through `persister` (empty at
    /// first; after a crash, what the previous master saved). It starts its
    /// background tasks on the current node.
    pub fn new(chunkservers: BTreeMap<String, ClientEnd>, persister: Persister) -> Rc<Master> {
        // SOLUTION BEGIN
        let (oplog, state) = OpLog::recover(persister);
        let chunkservers = chunkservers
            .into_iter()
            .map(|(name, end)| {
                (
                    name,
                    chunkserver::Client::new(end).with_timeout(RPC_TIMEOUT),
                )
            })
            .collect();
        let m = Rc::new(Master {
            state: RefCell::new(state),
            oplog: RefCell::new(oplog),
            chunkservers,
            started: Instant::now(),
        });
        labrpc::task::spawn(monitor::run(m.clone())).detach();
        m
        // SOLUTION END
        // HANDOUT: let _ = (chunkservers, persister);
        // HANDOUT: labrpc::not_implemented!("GFS A (Master::new)")
    }
    // SOLUTION BEGIN

    /// Applies and persists a change, before anyone hears of it.
    fn log(&self, op: Op) {
        let mut state = self.state.borrow_mut();
        oplog::apply(&mut state, &op);
        self.oplog.borrow_mut().append(&state, op);
    }

    /// Allocates chunks of `path` up to `index`; the handle of `index`.
    async fn allocate(&self, path: &str, index: u64) -> Result<ChunkHandle, GfsError> {
        loop {
            let (handle, targets, before) = {
                let mut s = self.state.borrow_mut();
                let chunks = s.files.get(path).ok_or(GfsError::NotFound)?;
                if let Some(h) = chunks.get(index as usize) {
                    return Ok(*h);
                }
                let before = chunks.len();
                let targets: Vec<String> = s.least_loaded(&BTreeSet::new());
                let targets: Vec<String> = targets.into_iter().take(REPLICAS).collect();
                if targets.is_empty() {
                    return Err(GfsError::Unavailable);
                }
                let handle = s.next_handle;
                s.next_handle += 1;
                let busy = ChunkMeta {
                    busy: true,
                    ..ChunkMeta::default()
                };
                s.chunks.insert(handle, busy);
                (handle, targets, before)
            };
            let created = self.create_replicas(handle, &targets).await;
            let mut s = self.state.borrow_mut();
            let now_len = s.files.get(path).map(|c| c.len());
            if created.is_empty() || now_len != Some(before) {
                // Failed, or raced with another allocation or a delete:
                // the replicas made become garbage.
                s.chunks.remove(&handle);
                match now_len {
                    None => return Err(GfsError::NotFound),
                    Some(_) if created.is_empty() => return Err(GfsError::Unavailable),
                    Some(_) => continue,
                }
            }
            drop(s);
            self.log(Op::AddChunk(path.to_string(), handle));
            let mut s = self.state.borrow_mut();
            let meta = s.chunks.get_mut(&handle).expect("just added");
            meta.busy = false;
            meta.locations = created.into_iter().collect();
        }
    }

    /// Creates a chunk on `targets`; those that did.
    async fn create_replicas(&self, handle: ChunkHandle, targets: &[String]) -> Vec<String> {
        let calls = targets.iter().map(|t| async move {
            let r = self.chunkservers[t]
                .create_chunk(&CreateChunkArgs { handle })
                .await;
            matches!(r, Ok(Ok(()))).then(|| t.clone())
        });
        futures::future::join_all(calls)
            .await
            .into_iter()
            .flatten()
            .collect()
    }
    // SOLUTION END
    // HANDOUT:
}
// SOLUTION BEGIN

/// How long the master waits for a chunkserver's answer.
const RPC_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);
// SOLUTION END
// HANDOUT:

impl master::Service for Master {
    /// Creates an empty file; `Exists` if it does.
    async fn create(&self, args: PathArgs) -> Result<(), GfsError> {
        // SOLUTION BEGIN
        if self.state.borrow().files.contains_key(&args.path) {
            return Err(GfsError::Exists);
        }
        self.log(Op::Create(args.path));
        Ok(())
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("GFS A (Master::create)")
    }

    /// Deletes a file; `NotFound` if there is none.
    async fn delete(&self, args: PathArgs) -> Result<(), GfsError> {
        // SOLUTION BEGIN
        if !self.state.borrow().files.contains_key(&args.path) {
            return Err(GfsError::NotFound);
        }
        self.log(Op::Delete(args.path));
        Ok(())
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("GFS A (Master::delete)")
    }

    /// The paths starting with the prefix, in order.
    async fn list(&self, args: ListArgs) -> Vec<String> {
        // SOLUTION BEGIN
        let s = self.state.borrow();
        s.files
            .range(args.prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&args.prefix))
            .map(|(p, _)| p.clone())
            .collect()
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("GFS A (Master::list)")
    }

    /// How many chunks the file has.
    async fn chunk_count(&self, args: PathArgs) -> Result<u64, GfsError> {
        // SOLUTION BEGIN
        let s = self.state.borrow();
        let chunks = s.files.get(&args.path).ok_or(GfsError::NotFound)?;
        Ok(chunks.len() as u64)
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("GFS A (Master::chunk_count)")
    }

    /// The chunk's handle, version and live replicas at that version,
    /// allocating it first if asked.
    async fn find_chunk(&self, args: FindChunkArgs) -> Result<ChunkLocations, GfsError> {
        // SOLUTION BEGIN
        let existing = self.state.borrow().handle(&args.path, args.index)?;
        let handle = match existing {
            Some(h) => h,
            None if args.create => self.allocate(&args.path, args.index).await?,
            None => return Err(GfsError::NoChunk),
        };
        self.state.borrow().locations(handle)
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("GFS A (Master::find_chunk)")
    }

    /// The chunk's lease holder and secondaries, granting a new lease (with
    /// a new version) when none is held.
    async fn find_lease(&self, handle: ChunkHandle) -> Result<LeaseInfo, GfsError> {
        // SOLUTION BEGIN
        self.find_or_grant_lease(handle).await
        // SOLUTION END
        // HANDOUT: let _ = handle;
        // HANDOUT: labrpc::not_implemented!("GFS A (Master::find_lease)")
    }

    /// A chunkserver's report; the answer lists its garbage.
    async fn heartbeat(&self, args: HeartbeatArgs) -> HeartbeatReply {
        // SOLUTION BEGIN
        let (delete, adopted) = self
            .state
            .borrow_mut()
            .heartbeat(&args.server, &args.chunks);
        for (h, v) in adopted {
            self.log(Op::SetVersion(h, v));
        }
        HeartbeatReply { delete }
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("GFS A (Master::heartbeat)")
    }
}
