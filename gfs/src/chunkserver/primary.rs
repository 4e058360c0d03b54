//! The primary's side of a mutation (A, B): under the chunk's lease, one
//! mutation at a time, in serial-number order: apply locally, then have
//! every secondary apply the same mutation with the same number.
// SOLUTION BEGIN

use labrpc::time::Instant;

use crate::chunkserver::ChunkServer;
use crate::framework::rpc::{AppendArgs, ApplyArgs, ChunkHandle, GfsError, Mutation, WriteArgs};
use crate::framework::{CHUNK_SIZE, MAX_RECORD};

impl ChunkServer {
    pub(crate) async fn primary_write(&self, args: WriteArgs) -> Result<(), GfsError> {
        let lock = self.with_chunk(args.handle, |c| c.lock.clone());
        let _held = lock.lock().await;
        self.check_lease(args.handle)?;
        let data = self.take_data(args.data)?;
        if args.offset + data.len() as u64 > CHUNK_SIZE {
            return Err(GfsError::OutOfRange);
        }
        let m = Mutation::Write {
            offset: args.offset,
            data: args.data,
        };
        self.order(args.handle, m, &data).await
    }

    pub(crate) async fn primary_append(&self, args: AppendArgs) -> Result<u64, GfsError> {
        let lock = self.with_chunk(args.handle, |c| c.lock.clone());
        let _held = lock.lock().await;
        self.check_lease(args.handle)?;
        let data = self.take_data(args.data)?;
        if data.len() as u64 > MAX_RECORD {
            return Err(GfsError::OutOfRange);
        }
        let end = self.store.len(args.handle).ok_or(GfsError::NotFound)?;
        if end + data.len() as u64 > CHUNK_SIZE {
            self.order(args.handle, Mutation::Pad, &[]).await?;
            return Err(GfsError::ChunkFull);
        }
        let m = Mutation::Write {
            offset: end,
            data: args.data,
        };
        self.order(args.handle, m, &data).await?;
        Ok(end)
    }

    /// `NotPrimary` unless this chunkserver holds an unexpired lease.
    fn check_lease(&self, handle: ChunkHandle) -> Result<(), GfsError> {
        let until = self.with_chunk(handle, |c| c.lease_until);
        match until {
            Some(t) if t > Instant::now() => Ok(()),
            _ => Err(GfsError::NotPrimary),
        }
    }

    /// Gives the mutation the next serial number, applies it here and then
    /// at every secondary; fails if any secondary did not apply it.
    async fn order(&self, handle: ChunkHandle, m: Mutation, data: &[u8]) -> Result<(), GfsError> {
        let version = self.store.version(handle).ok_or(GfsError::NotFound)?;
        let (serial, secondaries) = self.with_chunk(handle, |c| {
            c.serial += 1;
            (c.serial, c.secondaries.clone())
        });
        self.apply_local(handle, &m, data)?;
        let args = ApplyArgs {
            handle,
            version,
            serial,
            mutation: m,
        };
        let calls = secondaries.iter().map(|s| {
            let args = &args;
            async move {
                match self.peers.get(s) {
                    Some(peer) => matches!(peer.apply(args).await, Ok(Ok(()))),
                    None => false,
                }
            }
        });
        let applied = futures::future::join_all(calls).await;
        if applied.iter().all(|ok| *ok) {
            Ok(())
        } else {
            Err(GfsError::Retry)
        }
    }
}
// SOLUTION END
// HANDOUT:
