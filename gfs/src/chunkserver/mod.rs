//! A chunkserver (A, B, C): stores chunks on its disk ([`ChunkStore`]),
//! buffers pushed data, orders mutations as primary and applies them as
//! secondary, reports to the master, clones chunks and collects garbage.

mod primary;

use std::collections::BTreeMap;
use std::rc::Rc;

use labrpc::ClientEnd;

use crate::framework::ChunkStore;
use crate::framework::rpc::{
    AppendArgs, ApplyArgs, ChunkHandle, ChunkVersion, CopyArgs, CreateChunkArgs, GfsError,
    NewLeaseArgs, PushArgs, ReadArgs, WriteArgs, chunkserver,
};
// SOLUTION BEGIN
use std::cell::RefCell;
use std::time::Duration;

use labrpc::time::{Instant, interval};

use crate::framework::rpc::{DataId, HeartbeatArgs, Mutation, master};
use crate::framework::{Chunk, HEARTBEAT_INTERVAL};
// SOLUTION END
// HANDOUT:

/// A chunkserver. The grader serves it as `chunkserver::service(cs)` on its
/// own node, and after a crash builds a new one on the same store.
pub struct ChunkServer {
    // SOLUTION BEGIN
    me: String,
    store: Rc<ChunkStore>,
    master: master::Client,
    peers: BTreeMap<String, chunkserver::Client>,
    /// Pushed data not yet used, and when it arrived.
    buffers: RefCell<BTreeMap<DataId, (Instant, Vec<u8>)>>,
    /// What this chunkserver knows of each chunk beyond its disk (memory
    /// only: lost in a crash).
    chunks: RefCell<BTreeMap<ChunkHandle, ChunkState>>,
    // SOLUTION END
    // HANDOUT: // Your state here (A, B, C).
}
// SOLUTION BEGIN

/// A chunk's lease and order, as this chunkserver knows them.
#[derive(Default)]
struct ChunkState {
    /// Set while this chunkserver is the primary: when its lease ends.
    lease_until: Option<Instant>,
    secondaries: Vec<String>,
    /// The primary's next serial number; a secondary's last applied.
    serial: u64,
    /// Held by the primary while it orders and applies one mutation.
    lock: Rc<futures::lock::Mutex<()>>,
}

/// Pushed data unused for this long is dropped.
const BUFFER_TTL: Duration = Duration::from_secs(10);
/// How long a chunkserver waits for another's answer.
const PEER_TIMEOUT: Duration = Duration::from_millis(500);
// SOLUTION END
// HANDOUT:

impl ChunkServer {
    /// Chunkserver `me` (its labrpc name), storing chunks in `store`,
    /// reporting to the master through `master` and reaching chunkserver
    /// `name` through `peers[name]`. It starts its background tasks (the
    /// heartbeat) on the current node.
    pub fn new(
        me: String,
        store: Rc<ChunkStore>,
        master: ClientEnd,
        peers: BTreeMap<String, ClientEnd>,
    ) -> Rc<ChunkServer> {
        // SOLUTION BEGIN
        let peers = peers
            .into_iter()
            .map(|(n, e)| (n, chunkserver::Client::new(e).with_timeout(PEER_TIMEOUT)))
            .collect();
        let cs = Rc::new(ChunkServer {
            me,
            store,
            master: master::Client::new(master).with_timeout(PEER_TIMEOUT),
            peers,
            buffers: RefCell::new(BTreeMap::new()),
            chunks: RefCell::new(BTreeMap::new()),
        });
        labrpc::task::spawn(heartbeats(cs.clone())).detach();
        cs
        // SOLUTION END
        // HANDOUT: let _ = (me, store, master, peers);
        // HANDOUT: labrpc::not_implemented!("GFS A (ChunkServer::new)")
    }
    // SOLUTION BEGIN

    /// The pushed data `id`, taken out of the buffer.
    fn take_data(&self, id: DataId) -> Result<Vec<u8>, GfsError> {
        let buffered = self.buffers.borrow_mut().remove(&id);
        buffered.map(|(_, d)| d).ok_or(GfsError::DataMissing)
    }

    /// Runs `f` on the chunk's in-memory state (created if absent).
    fn with_chunk<R>(&self, handle: ChunkHandle, f: impl FnOnce(&mut ChunkState) -> R) -> R {
        f(self.chunks.borrow_mut().entry(handle).or_default())
    }

    /// Applies one mutation to the disk.
    fn apply_local(&self, handle: ChunkHandle, m: &Mutation, data: &[u8]) -> Result<(), GfsError> {
        match m {
            Mutation::Write { offset, .. } => self.store.write(handle, *offset, data),
            Mutation::Pad => self.store.pad(handle),
        }
    }

    /// Deletes the garbage the master named (unless it has since become
    /// current).
    fn collect_garbage(&self, garbage: &[(ChunkHandle, ChunkVersion)]) {
        for &(handle, version) in garbage {
            if self.store.version(handle).is_some_and(|v| v <= version) {
                self.store.remove(handle);
                self.chunks.borrow_mut().remove(&handle);
            }
        }
    }
    // SOLUTION END
    // HANDOUT:
}
// SOLUTION BEGIN

/// Reports to the master every [`HEARTBEAT_INTERVAL`] until the node
/// crashes.
async fn heartbeats(cs: Rc<ChunkServer>) {
    let mut tick = interval(HEARTBEAT_INTERVAL);
    loop {
        tick.tick().await;
        let args = HeartbeatArgs {
            server: cs.me.clone(),
            chunks: cs.store.list(),
        };
        if let Ok(reply) = cs.master.heartbeat(&args).await {
            cs.collect_garbage(&reply.delete);
        }
        let now = Instant::now();
        cs.buffers
            .borrow_mut()
            .retain(|_, (t, _)| now.saturating_duration_since(*t) < BUFFER_TTL);
    }
}
// SOLUTION END
// HANDOUT:

impl chunkserver::Service for ChunkServer {
    /// Creates an empty chunk at version 0 (nothing if it exists).
    async fn create_chunk(&self, args: CreateChunkArgs) -> Result<(), GfsError> {
        // SOLUTION BEGIN
        self.store.create(args.handle, 0);
        Ok(())
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("GFS A (ChunkServer::create_chunk)")
    }

    /// Records the new version; the primary starts its lease.
    async fn new_lease(&self, args: NewLeaseArgs) -> Result<(), GfsError> {
        // SOLUTION BEGIN
        let stored = self.store.version(args.handle).ok_or(GfsError::NotFound)?;
        if stored > args.version {
            return Err(GfsError::StaleVersion);
        }
        if stored == args.version {
            // A retried announcement: mutations may already be ordered
            // under it, so the serial numbers must not start again.
            return Ok(());
        }
        self.store.set_version(args.handle, args.version)?;
        let lease_until = (args.primary == self.me)
            .then(|| Instant::now() + Duration::from_millis(args.lease_ms));
        self.with_chunk(args.handle, |c| {
            c.lease_until = lease_until;
            c.secondaries = args.secondaries;
            c.serial = 0;
        });
        Ok(())
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("GFS A (ChunkServer::new_lease)")
    }

    /// Keeps the data for a later write or append.
    async fn push_data(&self, args: PushArgs) {
        // SOLUTION BEGIN
        let now = Instant::now();
        self.buffers.borrow_mut().insert(args.id, (now, args.data));
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("GFS A (ChunkServer::push_data)")
    }

    /// Part of a chunk, unless this replica is older than asked.
    async fn read(&self, args: ReadArgs) -> Result<Vec<u8>, GfsError> {
        // SOLUTION BEGIN
        let version = self.store.version(args.handle).ok_or(GfsError::NotFound)?;
        if version < args.version {
            return Err(GfsError::StaleVersion);
        }
        self.store.read(args.handle, args.offset, args.len)
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("GFS A (ChunkServer::read)")
    }

    /// As primary: orders the write, applies it, has every secondary
    /// apply it.
    async fn write(&self, args: WriteArgs) -> Result<(), GfsError> {
        // SOLUTION BEGIN
        self.primary_write(args).await
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("GFS A (ChunkServer::write)")
    }

    /// As primary: picks the record's offset (or pads the chunk), applies
    /// it, has every secondary apply it.
    async fn append(&self, args: AppendArgs) -> Result<u64, GfsError> {
        // SOLUTION BEGIN
        self.primary_append(args).await
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("GFS B (ChunkServer::append)")
    }

    /// As secondary: applies the primary's mutation, in the primary's
    /// order, if the version is this replica's.
    async fn apply(&self, args: ApplyArgs) -> Result<(), GfsError> {
        // SOLUTION BEGIN
        let version = self.store.version(args.handle).ok_or(GfsError::NotFound)?;
        if version != args.version {
            return Err(GfsError::StaleVersion);
        }
        if self.with_chunk(args.handle, |c| args.serial <= c.serial) {
            return Ok(()); // a duplicate
        }
        let data = match &args.mutation {
            Mutation::Write { data, .. } => self.take_data(*data)?,
            Mutation::Pad => Vec::new(),
        };
        self.apply_local(args.handle, &args.mutation, &data)?;
        self.with_chunk(args.handle, |c| c.serial = args.serial);
        Ok(())
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("GFS A (ChunkServer::apply)")
    }

    /// Fetches the chunk from `from` and stores it, if it is at the version
    /// the master named.
    async fn copy_chunk(&self, args: CopyArgs) -> Result<(), GfsError> {
        // SOLUTION BEGIN
        let peer = self.peers.get(&args.from).ok_or(GfsError::NotFound)?;
        let (version, data) = peer
            .fetch_chunk(&args.handle)
            .await
            .map_err(|_| GfsError::Unavailable)??;
        if version != args.version {
            return Err(GfsError::StaleVersion);
        }
        self.store.install(args.handle, Chunk { version, data });
        self.chunks.borrow_mut().remove(&args.handle);
        Ok(())
        // SOLUTION END
        // HANDOUT: let _ = args;
        // HANDOUT: labrpc::not_implemented!("GFS C (ChunkServer::copy_chunk)")
    }

    /// The chunk and its version.
    async fn fetch_chunk(&self, handle: ChunkHandle) -> Result<(ChunkVersion, Vec<u8>), GfsError> {
        // SOLUTION BEGIN
        let chunk = self.store.get(handle).ok_or(GfsError::NotFound)?;
        Ok((chunk.version, chunk.data))
        // SOLUTION END
        // HANDOUT: let _ = handle;
        // HANDOUT: labrpc::not_implemented!("GFS C (ChunkServer::fetch_chunk)")
    }
}
