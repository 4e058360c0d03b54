//! The snapshot grader's harness: waits for snapshots to complete and
//! checks every recorded global state against the invariants of
//! Chandy–Lamport.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use labrpc::time::{Instant, sleep};
use snapshot::{LocalSnapshot, ProcId, SnapshotId, System};

/// How often the tester looks whether a snapshot completed.
const POLL: Duration = Duration::from_millis(1);

/// A snapshot as every process recorded it.
pub type Global = BTreeMap<ProcId, LocalSnapshot>;

/// Waits until every process has finished its part of every snapshot in
/// `ids` (each started at its instant), for at most `limit` after the last
/// start; the recorded global states and each snapshot's latency.
pub async fn wait_all(
    sys: &System,
    ids: &[(SnapshotId, Instant)],
    limit: Duration,
) -> Vec<(Global, Duration)> {
    let last = ids.iter().map(|&(_, t)| t).max().expect("some snapshot");
    let mut done: BTreeMap<SnapshotId, (Global, Duration)> = BTreeMap::new();
    loop {
        for &(id, started) in ids {
            if !done.contains_key(&id)
                && let Some(global) = collect(sys, id)
            {
                done.insert(id, (global, started.elapsed()));
            }
        }
        if done.len() == ids.len() {
            return ids
                .iter()
                .map(|(id, _)| done.remove(id).expect("done"))
                .collect();
        }
        if last.elapsed() > limit {
            panic!("{}", not_completed(sys, ids, &done, limit));
        }
        sleep(POLL).await;
    }
}

/// Every process's record of snapshot `id`, if all have finished.
fn collect(sys: &System, id: SnapshotId) -> Option<Global> {
    (0..sys.topology().len())
        .map(|p| sys.local_snapshot(p, id).map(|l| (p, l)))
        .collect()
}

fn not_completed(
    sys: &System,
    ids: &[(SnapshotId, Instant)],
    done: &BTreeMap<SnapshotId, (Global, Duration)>,
    limit: Duration,
) -> String {
    let mut msg = format!(
        "snapshot did not complete within {limit:?} ({}):",
        sys.topology()
    );
    for &(id, _) in ids.iter().filter(|(id, _)| !done.contains_key(id)) {
        let missing: Vec<ProcId> = (0..sys.topology().len())
            .filter(|&p| sys.local_snapshot(p, id).is_none())
            .collect();
        let _ = write!(
            msg,
            "\n  snapshot {id}: processes {missing:?} have not finished their part"
        );
    }
    msg
}

/// Numbers of the checked snapshots, for the test's output.
#[derive(Default)]
pub struct SnapshotStats {
    count: u64,
    latency_sum: Duration,
    latency_max: Duration,
    in_flight_msgs: usize,
    in_flight_max: usize,
}

impl SnapshotStats {
    /// Adds one checked snapshot.
    pub fn add(&mut self, global: &Global, latency: Duration) {
        let msgs: usize = global.values().map(LocalSnapshot::in_flight_messages).sum();
        self.count += 1;
        self.latency_sum += latency;
        self.latency_max = self.latency_max.max(latency);
        self.in_flight_msgs += msgs;
        self.in_flight_max = self.in_flight_max.max(msgs);
    }

    /// Snapshots checked.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Token messages recorded in flight, over every snapshot.
    pub fn in_flight(&self) -> usize {
        self.in_flight_msgs
    }

    /// The line printed before the stats line.
    pub fn print(&self) {
        let mean = self.latency_sum.as_secs_f64() * 1000.0 / self.count.max(1) as f64;
        println!(
            "  snapshots: {}, latency mean {mean:.1} ms, max {:.1} ms; recorded in flight: {} messages in all, at most {} in one snapshot",
            self.count,
            self.latency_max.as_secs_f64() * 1000.0,
            self.in_flight_msgs,
            self.in_flight_max
        );
    }
}

/// Checks snapshot `id`'s recorded global state: the shape, a consistent
/// cut with exactly the right messages in flight, and conservation.
pub fn check_snapshot(sys: &System, id: SnapshotId, global: &Global) {
    let topo = sys.topology();
    for (&p, local) in global {
        let inbound: Vec<ProcId> = local.channels.keys().copied().collect();
        assert_eq!(
            inbound,
            topo.inbound(p),
            "snapshot {id}: process {p} recorded the channels from {inbound:?}, but its incoming channels are from {:?}",
            topo.inbound(p)
        );
    }
    for (i, j) in topo.channels() {
        check_channel(id, i, j, global);
    }
    let held: u64 = global.values().map(|l| l.state.tokens).sum();
    let in_flight: u64 = global.values().map(LocalSnapshot::in_flight_tokens).sum();
    assert_eq!(
        held + in_flight,
        sys.total_tokens(),
        "snapshot {id} does not conserve tokens ({}): {held} in the recorded states + {in_flight} recorded in flight != {} in the system",
        topo,
        sys.total_tokens()
    );
}

/// Channel `i -> j`: `j` received no more than `i` sent, and recorded in
/// flight exactly the messages between.
fn check_channel(id: SnapshotId, i: ProcId, j: ProcId, global: &Global) {
    let sent = global[&i].state.sent[&j];
    let received = global[&j].state.received[&i];
    assert!(
        received <= sent,
        "snapshot {id} is not a consistent cut: process {j} recorded {received} token messages received from {i}, but {i} recorded only {sent} sent to {j}"
    );
    let recorded: Vec<u64> = global[&j].channels[&i].iter().map(|t| t.seq).collect();
    let expected: Vec<u64> = (received + 1..=sent).collect();
    assert_eq!(
        recorded, expected,
        "snapshot {id}: channel {i} -> {j}: recorded in flight the token messages {recorded:?}, but those sent before {i} recorded its state and received after {j} recorded its own are {expected:?}"
    );
}
