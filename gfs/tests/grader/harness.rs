//! The GFS grader's harness: a master and chunkservers each on a node of
//! their own, clients each on a node of their own, counters of every
//! request by method and destination, and checks on what every replica
//! holds (read from the chunkservers' disks, [`gfs::ChunkStore`]).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use gfs::framework::rpc::master;
use gfs::{
    Chunk, ChunkHandle, ChunkLocations, ChunkServer, ChunkStore, Client, FindChunkArgs, GfsError,
    MASTER, Master, PathArgs, chunkserver_name,
};
use labrpc::time::sleep;
use labrpc::trace::Leg;
use labrpc::{ClientEnd, NodeId, Server, Verdict, network, node};

/// A cluster under test.
#[allow(dead_code)] // some parts use only some of it
pub struct Cluster {
    master_node: NodeId,
    cs_nodes: Vec<NodeId>,
    /// Every chunkserver's disk, kept across its crashes.
    stores: Vec<Rc<ChunkStore>>,
    /// The grader's own master stub (its calls are not counted).
    grader_master: master::Client,
    /// Requests delivered or not, by (method, destination node), from
    /// everyone but the grader's own stubs.
    counts: Rc<RefCell<BTreeMap<(String, NodeId), u64>>>,
    next_client: Cell<u64>,
    ops: Cell<u64>,
}

#[allow(dead_code)]
impl Cluster {
    /// A master and `n` chunkservers, all running.
    pub fn new(n: usize, reliable: bool) -> Rc<Cluster> {
        let net = network();
        net.set_reliable(reliable);
        let master_node = node::create(MASTER);
        let cs_nodes: Vec<NodeId> = (0..n).map(|i| node::create(chunkserver_name(i))).collect();
        let counts: Rc<RefCell<BTreeMap<(String, NodeId), u64>>> = Rc::default();
        let c = counts.clone();
        net.add_hook(move |m| {
            if m.leg == Leg::Request && !m.end.starts_with("grader") {
                *c.borrow_mut()
                    .entry((m.method.to_string(), m.to))
                    .or_default() += 1;
            }
            Verdict::Deliver
        });
        let end = net.make_end("grader-master", NodeId::TESTER);
        net.connect("grader-master", MASTER);
        net.enable("grader-master", true);
        let cluster = Rc::new(Cluster {
            master_node,
            cs_nodes,
            stores: (0..n).map(|_| ChunkStore::new()).collect(),
            grader_master: master::Client::new(end),
            counts,
            next_client: Cell::new(0),
            ops: Cell::new(0),
        });
        cluster.start_master();
        for i in 0..n {
            cluster.start_chunkserver(i);
        }
        cluster
    }

    /// Chunkservers in the cluster.
    pub fn n(&self) -> usize {
        self.cs_nodes.len()
    }

    /// Ends from `from` to every chunkserver.
    fn ends_to_chunkservers(&self, from: NodeId) -> BTreeMap<String, ClientEnd> {
        (0..self.n())
            .map(|i| {
                let name = chunkserver_name(i);
                let end = network().end_to(from, &name);
                (name, end)
            })
            .collect()
    }

    fn start_master(&self) {
        let node_id = self.master_node;
        let ends = self.ends_to_chunkservers(node_id);
        let persister = node::persister(node_id);
        let m = node::enter(node_id, || Master::new(ends, persister));
        let server = Server::new().add_service(master::service(m));
        network().add_server(MASTER, node_id, server);
    }

    fn start_chunkserver(&self, i: usize) {
        let node_id = self.cs_nodes[i];
        let peers = self.ends_to_chunkservers(node_id);
        let master = network().end_to(node_id, MASTER);
        let store = self.stores[i].clone();
        let cs = node::enter(node_id, || {
            ChunkServer::new(chunkserver_name(i), store, master, peers)
        });
        let server = Server::new().add_service(gfs::framework::rpc::chunkserver::service(cs));
        network().add_server(chunkserver_name(i), node_id, server);
    }

    /// Crashes chunkserver `i` (its disk survives).
    pub fn crash_chunkserver(&self, i: usize) {
        node::crash(self.cs_nodes[i]);
    }

    /// Restarts chunkserver `i` on its disk.
    pub fn restart_chunkserver(&self, i: usize) {
        node::restart(self.cs_nodes[i]);
        self.start_chunkserver(i);
    }

    /// Crashes the master (its persister survives).
    pub fn crash_master(&self) {
        node::crash(self.master_node);
    }

    /// Restarts the master from its persister.
    pub fn restart_master(&self) {
        node::restart(self.master_node);
        self.start_master();
    }

    /// The node of chunkserver `i`.
    pub fn chunkserver_node(&self, i: usize) -> NodeId {
        self.cs_nodes[i]
    }

    /// Which chunkserver has this labrpc name.
    pub fn index_of(&self, name: &str) -> usize {
        (0..self.n())
            .find(|i| chunkserver_name(*i) == name)
            .unwrap_or_else(|| panic!("{name:?} is not a chunkserver of the cluster"))
    }

    /// A new client on a node of its own; returns the client and its node.
    pub fn client_on_node(&self) -> (Client, NodeId) {
        let id = self.next_client.get();
        self.next_client.set(id + 1);
        let node_id = node::create(format!("client-{id}"));
        let master = network().end_to(node_id, MASTER);
        let ends = self.ends_to_chunkservers(node_id);
        (Client::new(id, master, ends), node_id)
    }

    /// A new client.
    pub fn client(&self) -> Client {
        self.client_on_node().0
    }

    /// Counts one client operation (for the stats line).
    pub fn op(&self) {
        self.ops.set(self.ops.get() + 1);
    }

    /// Client operations counted.
    pub fn ops(&self) -> u64 {
        self.ops.get()
    }

    /// Requests of `method` ("master.find_chunk") sent so far, to anyone.
    pub fn count(&self, method: &str) -> u64 {
        let counts = self.counts.borrow();
        counts
            .iter()
            .filter(|((m, _), _)| m == method)
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests of `method` sent so far to chunkserver `i`.
    pub fn count_to(&self, method: &str, i: usize) -> u64 {
        let key = (method.to_string(), self.cs_nodes[i]);
        self.counts.borrow().get(&key).copied().unwrap_or(0)
    }

    /// The master's answer for chunk `index` of `path` (asked by the
    /// grader, not cached anywhere), retried through lost messages.
    pub async fn locations(&self, path: &str, index: u64) -> Result<ChunkLocations, GfsError> {
        let args = FindChunkArgs {
            path: path.into(),
            index,
            create: false,
        };
        for _ in 0..200 {
            match self.grader_master.find_chunk(&args).await {
                Ok(Err(GfsError::Unavailable | GfsError::Retry)) | Err(_) => {
                    sleep(Duration::from_millis(50)).await
                }
                Ok(r) => return r,
            }
        }
        panic!("the master did not locate chunk {index} of {path:?} within 10 s");
    }

    /// How many chunks the master says the file has (asked by the grader),
    /// retried through lost messages.
    pub async fn chunk_count(&self, path: &str) -> Result<u64, GfsError> {
        let args = PathArgs { path: path.into() };
        for _ in 0..200 {
            match self.grader_master.chunk_count(&args).await {
                Ok(r) => return r,
                Err(_) => sleep(Duration::from_millis(50)).await,
            }
        }
        panic!("the master did not answer chunk_count({path:?}) within 10 s");
    }

    /// The master's answer for chunk `index` of `path`, asked once: `None`
    /// if the call or the master failed.
    pub async fn locations_once(&self, path: &str, index: u64) -> Option<ChunkLocations> {
        let args = FindChunkArgs {
            path: path.into(),
            index,
            create: false,
        };
        self.grader_master.find_chunk(&args).await.ok()?.ok()
    }

    /// The chunk's current lease, as the master tells the grader (granting
    /// one if none is held), retried through lost messages.
    pub async fn lease(&self, handle: ChunkHandle) -> gfs::LeaseInfo {
        for _ in 0..200 {
            match self.grader_master.find_lease(&handle).await {
                Ok(Ok(lease)) => return lease,
                _ => sleep(Duration::from_millis(50)).await,
            }
        }
        panic!("the master gave no lease on chunk {handle} within 10 s");
    }

    /// Every chunkserver's copy of a chunk: (chunkserver, chunk).
    pub fn copies(&self, handle: ChunkHandle) -> Vec<(usize, Chunk)> {
        (0..self.n())
            .filter_map(|i| self.stores[i].get(handle).map(|c| (i, c)))
            .collect()
    }

    /// The copies the master calls current: on the replicas it names, at
    /// its version. Fails if a named replica does not hold it at that
    /// version, or if there are fewer than `min` of them.
    pub async fn current_copies(
        &self,
        path: &str,
        index: u64,
        min: usize,
    ) -> (ChunkLocations, Vec<(usize, Chunk)>) {
        let loc = self
            .locations(path, index)
            .await
            .unwrap_or_else(|e| panic!("the master cannot locate chunk {index} of {path:?}: {e}"));
        let mut out = Vec::new();
        for name in &loc.replicas {
            let i = self.index_of(name);
            let chunk = self.stores[i].get(loc.handle).unwrap_or_else(|| {
                panic!(
                    "the master names {name} as a replica of chunk {index} of {path:?} (handle {}), \
                     but its disk does not hold that chunk",
                    loc.handle
                )
            });
            assert_eq!(
                chunk.version, loc.version,
                "the master names {name} as a replica of chunk {index} of {path:?} at version {}, \
                 but its disk holds version {}",
                loc.version, chunk.version
            );
            out.push((i, chunk));
        }
        assert!(
            out.len() >= min,
            "chunk {index} of {path:?} has {} current replicas ({:?}); expected at least {min}",
            out.len(),
            loc.replicas
        );
        (loc, out)
    }

    /// Checks that every current replica holds `expected` at byte `offset`
    /// of the file (the region is defined on disk), with at least `min`
    /// replicas per chunk.
    pub async fn check_defined(&self, path: &str, offset: u64, expected: &[u8], min: usize) {
        let mut done = 0usize;
        while done < expected.len() {
            let at = offset + done as u64;
            let (index, within) = (at / gfs::CHUNK_SIZE, (at % gfs::CHUNK_SIZE) as usize);
            let n = (gfs::CHUNK_SIZE as usize - within).min(expected.len() - done);
            let (_, copies) = self.current_copies(path, index, min).await;
            for (i, chunk) in copies {
                let got = chunk.data.get(within..within + n);
                assert!(
                    got == Some(&expected[done..done + n]),
                    "{path:?} bytes {at}..{}: replica on {} does not hold what was written{}",
                    at + n as u64,
                    chunkserver_name(i),
                    describe_diff(got, &expected[done..done + n]),
                );
            }
            done += n;
        }
    }
}

/// Where two byte strings first differ, for a failure message.
pub fn describe_diff(got: Option<&[u8]>, want: &[u8]) -> String {
    match got {
        None => " (its chunk is shorter)".to_string(),
        Some(g) => match g.iter().zip(want).position(|(a, b)| a != b) {
            Some(k) => format!(
                " (first difference at byte {k}: {} instead of {})",
                g[k], want[k]
            ),
            None => String::new(),
        },
    }
}

/// `n` random lowercase letters.
pub fn rand_bytes(n: usize) -> Vec<u8> {
    (0..n)
        .map(|_| labrpc::rand::gen_range(b'a'..=b'z'))
        .collect()
}

/// What the grader knows of the appends to one file: every record any
/// append was asked to add, and the acknowledged ones with their offsets.
#[derive(Default)]
pub struct Appends {
    /// Every record asked for (acknowledged or not).
    pub attempted: RefCell<Vec<Vec<u8>>>,
    /// (offset, record) of every acknowledged append.
    pub acked: RefCell<Vec<(u64, Vec<u8>)>>,
}

impl Cluster {
    /// Checks that the framed `record` is intact at byte `offset` of the
    /// file on every current replica of its chunk (at least `min`).
    pub async fn check_record(&self, path: &str, offset: u64, record: &[u8], min: usize) {
        let (index, within) = (
            offset / gfs::CHUNK_SIZE,
            (offset % gfs::CHUNK_SIZE) as usize,
        );
        let (_, copies) = self.current_copies(path, index, min).await;
        for (i, chunk) in copies {
            let found = gfs::record::decode(&chunk.data, within).map(|(p, _)| p);
            assert!(
                found == Some(record),
                "{path:?}: the append acknowledged at offset {offset} ({} bytes) is not intact \
                 at that offset on {}: {}",
                record.len(),
                chunkserver_name(i),
                match found {
                    None => "no intact record starts there".to_string(),
                    Some(p) => format!("a different record ({} bytes) is there", p.len()),
                }
            );
        }
    }

    /// The appends' checks: every acknowledged record intact at its offset
    /// on every current replica; no two acknowledged records overlap; and
    /// `read_records` returns every acknowledged record at least once and
    /// nothing that was never appended.
    pub async fn check_appends(&self, ck: &Client, path: &str, log: &Appends, min: usize) {
        let mut acked = log.acked.borrow().clone();
        acked.sort();
        for (offset, rec) in &acked {
            self.check_record(path, *offset, rec, min).await;
        }
        for w in acked.windows(2) {
            let end = w[0].0 + (gfs::record::HEADER + w[0].1.len()) as u64;
            assert!(
                end <= w[1].0,
                "{path:?}: acknowledged appends at offsets {} and {} overlap",
                w[0].0,
                w[1].0
            );
        }
        let read = ck
            .read_records(path)
            .await
            .unwrap_or_else(|e| panic!("read_records({path:?}) failed: {e}"));
        let attempted: std::collections::BTreeSet<Vec<u8>> =
            log.attempted.borrow().iter().cloned().collect();
        for r in &read {
            assert!(
                attempted.contains(r),
                "read_records({path:?}) returned a {}-byte record nobody appended (padding or \
                 the remains of a failed append read as a record?)",
                r.len()
            );
        }
        let found: std::collections::BTreeSet<&Vec<u8>> = read.iter().collect();
        for (offset, rec) in &acked {
            assert!(
                found.contains(rec),
                "read_records({path:?}) misses the record acknowledged at offset {offset}"
            );
        }
    }
}

/// Appends a fresh record (unique: it starts with `tag`) and records the
/// outcome; the offset if acknowledged.
pub async fn append_logged(
    c: &Cluster,
    ck: &Client,
    path: &str,
    log: &Appends,
    tag: &str,
    len: usize,
) -> Option<u64> {
    let mut rec = tag.as_bytes().to_vec();
    rec.extend(rand_bytes(len.saturating_sub(rec.len())));
    log.attempted.borrow_mut().push(rec.clone());
    let r = ck.append(path, &rec).await;
    c.op();
    match r {
        Ok(offset) => {
            log.acked.borrow_mut().push((offset, rec));
            Some(offset)
        }
        Err(_) => None,
    }
}
