//! The client's dealings with the master and the chunkservers (A, B):
//! cached locations and leases, reads from a replica, and mutations
//! (push the data to every replica, then ask the primary).
// SOLUTION BEGIN

use std::time::Duration;

use labrpc::RpcError;
use labrpc::time::{Instant, sleep};

use crate::client::Client;
use crate::framework::rpc::{
    AppendArgs, ChunkLocations, DataId, FindChunkArgs, GfsError, LeaseInfo, PathArgs, PushArgs,
    ReadArgs, WriteArgs, master,
};
use crate::framework::{MUTATION_TIMEOUT, RETRY_INTERVAL};

/// How long the client waits for a chunkserver's answer.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_millis(1000);

/// One mutation of one chunk.
#[derive(Clone, Copy)]
pub(crate) enum Op<'a> {
    /// Write at an offset in the chunk.
    Write(u64, &'a [u8]),
    /// Append a framed record.
    Append(&'a [u8]),
}

impl Client {
    /// Calls the master until a reply arrives.
    pub(crate) async fn ask_master<R, F, Fut>(&self, call: F) -> R
    where
        F: Fn(master::Client) -> Fut,
        Fut: Future<Output = Result<R, RpcError>>,
    {
        loop {
            match call(self.master.clone()).await {
                Ok(r) => return r,
                Err(_) => sleep(RETRY_INTERVAL).await,
            }
        }
    }

    /// The index of the file's last chunk (0 for an empty file).
    pub(crate) async fn last_index(&self, path: &str) -> Result<u64, GfsError> {
        let args = PathArgs { path: path.into() };
        let args = &args;
        let n = self
            .ask_master(|m| async move { m.chunk_count(args).await })
            .await?;
        Ok(n.saturating_sub(1))
    }

    /// Where chunk `index` of `path` is: cached, or from the master.
    async fn locate(
        &self,
        path: &str,
        index: u64,
        create: bool,
    ) -> Result<ChunkLocations, GfsError> {
        let key = (path.to_string(), index);
        if let Some(loc) = self.locations.borrow().get(&key) {
            return Ok(loc.clone());
        }
        let args = FindChunkArgs {
            path: path.into(),
            index,
            create,
        };
        let args = &args;
        let loc = self
            .ask_master(|m| async move { m.find_chunk(args).await })
            .await?;
        self.locations.borrow_mut().insert(key, loc.clone());
        Ok(loc)
    }

    fn forget_location(&self, path: &str, index: u64) {
        self.locations
            .borrow_mut()
            .remove(&(path.to_string(), index));
    }

    /// The chunk's lease: cached, or from the master.
    async fn lease(&self, loc: &ChunkLocations) -> Result<LeaseInfo, GfsError> {
        if let Some(l) = self.leases.borrow().get(&loc.handle) {
            return Ok(l.clone());
        }
        let handle = &loc.handle;
        let lease = self
            .ask_master(|m| async move { m.find_lease(handle).await })
            .await?;
        self.leases.borrow_mut().insert(loc.handle, lease.clone());
        Ok(lease)
    }

    /// Reads from one replica of the chunk (another, with fresh locations,
    /// after a failure). `NoChunk` past the end of the file.
    pub(crate) async fn read_chunk(
        &self,
        path: &str,
        index: u64,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, GfsError> {
        let deadline = Instant::now() + MUTATION_TIMEOUT;
        while Instant::now() < deadline {
            let loc = match self.locate(path, index, false).await {
                Err(GfsError::Unavailable | GfsError::Retry) => {
                    sleep(RETRY_INTERVAL).await;
                    continue;
                }
                r => r?,
            };
            let Some(replica) = labrpc::rand::choose(&loc.replicas) else {
                self.forget_location(path, index);
                continue;
            };
            let args = ReadArgs {
                handle: loc.handle,
                version: loc.version,
                offset,
                len,
            };
            match self.chunkservers[replica].read(&args).await {
                Ok(Ok(data)) => return Ok(data),
                _ => {
                    self.forget_location(path, index);
                    sleep(RETRY_INTERVAL).await;
                }
            }
        }
        Err(GfsError::Unavailable)
    }

    /// Applies one mutation to chunk `index` of `path` (allocating it),
    /// retrying until it succeeds or [`MUTATION_TIMEOUT`] passes. A write
    /// answers 0; an append, the record's offset in the chunk.
    pub(crate) async fn mutate(&self, path: &str, index: u64, op: Op<'_>) -> Result<u64, GfsError> {
        let deadline = Instant::now() + MUTATION_TIMEOUT;
        while Instant::now() < deadline {
            let loc = match self.locate(path, index, true).await {
                Err(GfsError::NotFound) => return Err(GfsError::NotFound),
                Err(_) => {
                    sleep(RETRY_INTERVAL).await;
                    continue;
                }
                Ok(loc) => loc,
            };
            let lease = match self.lease(&loc).await {
                Ok(l) => l,
                Err(GfsError::NotFound) => {
                    self.forget_location(path, index);
                    continue;
                }
                Err(_) => {
                    sleep(RETRY_INTERVAL).await;
                    continue;
                }
            };
            match self.try_mutation(&lease, op).await {
                Ok(r) => return Ok(r),
                Err(GfsError::ChunkFull) => return Err(GfsError::ChunkFull),
                // Lost messages, or a replica that may be dead: ask the
                // master who holds the lease now (the locations stand).
                Err(GfsError::DataMissing | GfsError::Retry | GfsError::Unavailable) => {
                    self.leases.borrow_mut().remove(&lease.handle);
                    sleep(RETRY_INTERVAL).await;
                }
                Err(_) => {
                    self.leases.borrow_mut().remove(&lease.handle);
                    self.forget_location(path, index);
                    sleep(RETRY_INTERVAL).await;
                }
            }
        }
        Err(GfsError::Unavailable)
    }

    /// Pushes data to one chunkserver, a few times if messages are lost;
    /// whether it got there.
    async fn push(&self, to: &str, push: &PushArgs) -> bool {
        for _ in 0..3 {
            if self.chunkservers[to].push_data(push).await.is_ok() {
                return true;
            }
        }
        false
    }

    /// One attempt: push the data to every replica, then ask the primary.
    async fn try_mutation(&self, lease: &LeaseInfo, op: Op<'_>) -> Result<u64, GfsError> {
        let data = match op {
            Op::Write(_, d) | Op::Append(d) => d,
        };
        let id = DataId {
            client: self.id,
            seq: self.next_data.replace(self.next_data.get() + 1),
        };
        let push = PushArgs {
            id,
            data: data.to_vec(),
        };
        let replicas = std::iter::once(&lease.primary).chain(&lease.secondaries);
        let pushes = replicas.map(|r| self.push(r, &push));
        let pushed = futures::future::join_all(pushes).await;
        if pushed.iter().any(|ok| !ok) {
            return Err(GfsError::DataMissing);
        }
        let primary = &self.chunkservers[&lease.primary];
        let handle = lease.handle;
        let reply = match op {
            Op::Write(offset, _) => {
                let args = WriteArgs {
                    handle,
                    offset,
                    data: id,
                };
                primary.write(&args).await.map(|r| r.map(|()| 0))
            }
            Op::Append(_) => primary.append(&AppendArgs { handle, data: id }).await,
        };
        reply.map_err(|_| GfsError::Unavailable)?
    }
}
// SOLUTION END
// HANDOUT:
