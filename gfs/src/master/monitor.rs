//! The master's background work (C): forgetting dead chunkservers,
//! dropping expired leases, and re-replicating chunks that have fewer than
//! [`crate::REPLICAS`] live replicas, the most endangered first.
// SOLUTION BEGIN

use std::rc::Rc;

use labrpc::time::{Instant, interval};

use crate::framework::rpc::{ChunkHandle, ChunkVersion, CopyArgs};
use crate::framework::{HEARTBEAT_INTERVAL, REPLICAS};
use crate::master::Master;

/// Clones in flight at once.
const MAX_CLONES: usize = 2;

/// Runs until the master's node crashes.
pub(crate) async fn run(m: Rc<Master>) {
    let mut tick = interval(HEARTBEAT_INTERVAL);
    loop {
        tick.tick().await;
        m.state.borrow_mut().drop_dead();
        expire_leases(&m);
        for (handle, version, from, to) in plan_clones(&m) {
            labrpc::task::spawn(clone_chunk(m.clone(), handle, version, from, to)).detach();
        }
    }
}

fn expire_leases(m: &Master) {
    let now = Instant::now();
    for meta in m.state.borrow_mut().chunks.values_mut() {
        if meta.lease.as_ref().is_some_and(|l| l.expires <= now) {
            meta.lease = None;
        }
    }
}

/// Chunks to clone now, fewest live replicas first: (handle, version,
/// source, destination). Marks them busy. A chunk under a lease waits for
/// it to expire (a clone would miss the lease's mutations).
fn plan_clones(m: &Master) -> Vec<(ChunkHandle, ChunkVersion, String, String)> {
    let mut s = m.state.borrow_mut();
    let in_flight = s.chunks.values().filter(|c| c.busy).count();
    let mut needy: Vec<(usize, ChunkHandle)> = s
        .chunks
        .iter()
        .filter(|(_, c)| !c.busy && c.lease.is_none())
        .map(|(h, _)| (s.live_replicas(*h).len(), *h))
        .filter(|(n, _)| *n > 0 && *n < REPLICAS)
        .collect();
    needy.sort();
    let mut plan = Vec::new();
    for (_, handle) in needy.into_iter().take(MAX_CLONES.saturating_sub(in_flight)) {
        let live = s.live_replicas(handle);
        let holders = s.chunks[&handle].locations.clone();
        let Some(to) = s.least_loaded(&holders).into_iter().next() else {
            continue;
        };
        let meta = s.chunks.get_mut(&handle).expect("listed");
        meta.busy = true;
        plan.push((handle, meta.version, live[0].clone(), to));
    }
    plan
}

async fn clone_chunk(
    m: Rc<Master>,
    handle: ChunkHandle,
    version: ChunkVersion,
    from: String,
    to: String,
) {
    let args = CopyArgs {
        handle,
        version,
        from,
    };
    let ok = matches!(m.chunkservers[&to].copy_chunk(&args).await, Ok(Ok(())));
    let mut s = m.state.borrow_mut();
    if let Some(meta) = s.chunks.get_mut(&handle) {
        meta.busy = false;
        if ok && meta.version == version {
            meta.locations.insert(to);
        }
    }
}
// SOLUTION END
// HANDOUT:
