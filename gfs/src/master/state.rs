//! The master's tables (A, C): the namespace, every chunk's version,
//! locations and lease, and when each chunkserver last reported.
// SOLUTION BEGIN

use std::collections::{BTreeMap, BTreeSet};

use labrpc::time::Instant;

use crate::framework::DEAD_AFTER;
use crate::framework::rpc::{ChunkHandle, ChunkLocations, ChunkVersion, GfsError, LeaseInfo};

/// (handle, version) pairs.
pub(crate) type Versions = Vec<(ChunkHandle, ChunkVersion)>;

/// A granted lease, as the master sees it.
#[derive(Clone, Debug)]
pub(crate) struct Lease {
    pub primary: String,
    pub secondaries: Vec<String>,
    /// The master's (late) idea of its end: the primary's own ends sooner.
    pub expires: Instant,
}

/// What the master knows of one chunk. Only `version` is persisted.
#[derive(Clone, Debug, Default)]
pub(crate) struct ChunkMeta {
    pub version: ChunkVersion,
    /// The highest version announced (in memory): an announcement no
    /// replica acknowledged is not logged, yet its version is never reused.
    pub announced: ChunkVersion,
    /// Chunkservers that reported the chunk at `version` (or were told it).
    pub locations: BTreeSet<String>,
    pub lease: Option<Lease>,
    /// Being created, granted a lease or cloned: heartbeats do not judge
    /// its replicas, nobody else starts a change of it.
    pub busy: bool,
}

/// The master's state.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub files: BTreeMap<String, Vec<ChunkHandle>>,
    pub chunks: BTreeMap<ChunkHandle, ChunkMeta>,
    pub next_handle: ChunkHandle,
    /// Chunkserver -> when it last reported; dead ones are removed.
    pub servers: BTreeMap<String, Instant>,
}

impl State {
    /// Whether `server` reported within [`DEAD_AFTER`].
    pub fn is_live(&self, server: &str) -> bool {
        self.servers
            .get(server)
            .is_some_and(|t| t.elapsed() < DEAD_AFTER)
    }

    /// The chunk `index` of `path`, if the file has it.
    pub fn handle(&self, path: &str, index: u64) -> Result<Option<ChunkHandle>, GfsError> {
        let chunks = self.files.get(path).ok_or(GfsError::NotFound)?;
        Ok(chunks.get(index as usize).copied())
    }

    /// The live replicas of a chunk at its current version.
    pub fn live_replicas(&self, handle: ChunkHandle) -> Vec<String> {
        self.chunks.get(&handle).map_or_else(Vec::new, |meta| {
            meta.locations
                .iter()
                .filter(|s| self.is_live(s))
                .cloned()
                .collect()
        })
    }

    pub fn locations(&self, handle: ChunkHandle) -> Result<ChunkLocations, GfsError> {
        let meta = self.chunks.get(&handle).ok_or(GfsError::NotFound)?;
        if meta.busy {
            // Its version is changing: the replicas may not have it yet.
            return Err(GfsError::Retry);
        }
        let replicas = self.live_replicas(handle);
        if replicas.is_empty() {
            return Err(GfsError::Unavailable);
        }
        Ok(ChunkLocations {
            handle,
            version: meta.version,
            replicas,
        })
    }

    /// The chunk's lease, if one is held and its primary lives; `Retry` if
    /// one may still be held by a primary the master cannot reach.
    pub fn current_lease(&self, handle: ChunkHandle) -> Result<Option<LeaseInfo>, GfsError> {
        let meta = self.chunks.get(&handle).ok_or(GfsError::NotFound)?;
        if meta.busy {
            return Err(GfsError::Retry);
        }
        match &meta.lease {
            Some(l) if l.expires > Instant::now() => {
                if self.is_live(&l.primary) {
                    Ok(Some(LeaseInfo {
                        handle,
                        version: meta.version,
                        primary: l.primary.clone(),
                        secondaries: l.secondaries.clone(),
                    }))
                } else {
                    Err(GfsError::Retry)
                }
            }
            _ => Ok(None),
        }
    }

    /// Live chunkservers, those holding the fewest chunks first (ties by
    /// name), skipping `except`.
    pub fn least_loaded(&self, except: &BTreeSet<String>) -> Vec<String> {
        let mut load: BTreeMap<&str, usize> = BTreeMap::new();
        for meta in self.chunks.values() {
            for s in &meta.locations {
                *load.entry(s.as_str()).or_default() += 1;
            }
        }
        let mut live: Vec<&String> = self
            .servers
            .keys()
            .filter(|s| self.is_live(s) && !except.contains(*s))
            .collect();
        live.sort_by_key(|s| (load.get(s.as_str()).copied().unwrap_or(0), s.as_str()));
        live.into_iter().cloned().collect()
    }

    /// A heartbeat: records the server alive and its replicas; returns the
    /// garbage it holds (unknown chunks, stale replicas) and any version
    /// the master adopted from it (a replica newer than the master knew).
    pub fn heartbeat(
        &mut self,
        server: &str,
        chunks: &[(ChunkHandle, ChunkVersion)],
    ) -> (Versions, Versions) {
        self.servers.insert(server.to_string(), Instant::now());
        let (mut garbage, mut adopted) = (Vec::new(), Vec::new());
        for &(handle, version) in chunks {
            let Some(meta) = self.chunks.get_mut(&handle) else {
                garbage.push((handle, version));
                continue;
            };
            if meta.busy || (version < meta.version && meta.locations.contains(server)) {
                // Being changed, or a report older than the news that the
                // server took the current version (versions never go down).
                continue;
            }
            if version < meta.version {
                meta.locations.remove(server);
                garbage.push((handle, version));
            } else {
                if version > meta.version {
                    meta.version = version;
                    meta.locations.clear();
                    adopted.push((handle, version));
                }
                meta.locations.insert(server.to_string());
            }
        }
        (garbage, adopted)
    }

    /// Forgets the chunkservers that stopped reporting, and their replicas.
    pub fn drop_dead(&mut self) {
        let dead: Vec<String> = self
            .servers
            .keys()
            .filter(|s| !self.is_live(s))
            .cloned()
            .collect();
        for s in &dead {
            self.servers.remove(s);
            for meta in self.chunks.values_mut() {
                meta.locations.remove(s);
            }
        }
    }
}
// SOLUTION END
// HANDOUT:
