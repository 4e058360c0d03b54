//! Leases (A, C): the master grants a chunk's lease to one replica, with a
//! new version that every replica in the lease records, and grants no
//! other until it has expired.
// SOLUTION BEGIN

use labrpc::time::Instant;

use crate::framework::LEASE_DURATION;
use crate::framework::rpc::{ChunkHandle, ChunkVersion, GfsError, LeaseInfo, NewLeaseArgs};
use crate::master::Master;
use crate::master::oplog::Op;
use crate::master::state::Lease;

impl Master {
    /// The current lease, or a new one.
    pub(crate) async fn find_or_grant_lease(
        &self,
        handle: ChunkHandle,
    ) -> Result<LeaseInfo, GfsError> {
        let (replicas, version) = {
            let mut s = self.state.borrow_mut();
            if let Some(lease) = s.current_lease(handle)? {
                return Ok(lease);
            }
            if self.started.elapsed() < LEASE_DURATION {
                // A lease of the previous master may still be held.
                return Err(GfsError::Retry);
            }
            let replicas = s.live_replicas(handle);
            if replicas.is_empty() {
                return Err(GfsError::Unavailable);
            }
            let meta = s.chunks.get_mut(&handle).expect("current_lease found it");
            meta.busy = true;
            meta.announced = meta.announced.max(meta.version) + 1;
            (replicas, meta.announced)
        };
        let acked = self.announce(handle, version, &replicas).await;
        // Persisted before anyone uses the lease. (Not before the replicas
        // hear of it: a master that crashed in between would find every
        // replica older than its log and collect them all. Crashing here
        // instead, it adopts the newer version from the replicas' reports.)
        if !acked.is_empty() {
            self.log(Op::SetVersion(handle, version));
        }
        let mut s = self.state.borrow_mut();
        let Some(meta) = s.chunks.get_mut(&handle) else {
            return Err(GfsError::NotFound);
        };
        meta.busy = false;
        // Replicas that did not take the new version are stale now.
        meta.locations = acked.iter().cloned().collect();
        if acked.len() < replicas.len() {
            // The lease named them: grant another, without them.
            return Err(GfsError::Retry);
        }
        let (primary, secondaries) = acked.split_first().expect("replicas is not empty");
        meta.lease = Some(Lease {
            primary: primary.clone(),
            secondaries: secondaries.to_vec(),
            expires: Instant::now() + LEASE_DURATION,
        });
        Ok(LeaseInfo {
            handle,
            version,
            primary: primary.clone(),
            secondaries: secondaries.to_vec(),
        })
    }

    /// Tells every replica the new version, the first the lease; the
    /// replicas that took it, in order.
    async fn announce(
        &self,
        handle: ChunkHandle,
        version: ChunkVersion,
        replicas: &[String],
    ) -> Vec<String> {
        let lease_ms = LEASE_DURATION.as_millis() as u64;
        let calls = replicas.iter().map(|r| {
            let args = NewLeaseArgs {
                handle,
                version,
                primary: replicas[0].clone(),
                secondaries: replicas[1..].to_vec(),
                lease_ms,
            };
            async move {
                for _ in 0..5 {
                    match self.chunkservers[r].new_lease(&args).await {
                        Ok(Ok(())) => return Some(r.clone()),
                        Ok(Err(_)) => return None,
                        Err(_) => {}
                    }
                }
                None
            }
        });
        let acked: Vec<Option<String>> = futures::future::join_all(calls).await;
        acked.into_iter().flatten().collect()
    }
}
// SOLUTION END
// HANDOUT:
