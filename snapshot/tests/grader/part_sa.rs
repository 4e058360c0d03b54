// Part A: Chandy–Lamport. Every snapshot of every test must complete, and
// its recorded global state must be a consistent cut that conserves the
// tokens (`harness::check_snapshot`).

/// Tokens each process starts with.
const TOKENS_EACH: u64 = 100;
/// How long each snapshot may take to complete, after the last start.
const SNAPSHOT_LIMIT: Duration = Duration::from_secs(5);

/// A system on `topology`: reliable or not, processes sending every `gap`
/// on average.
fn system_sa(topology: Topology, reliable: bool, gap: Duration) -> System {
    network().set_reliable(reliable);
    System::new(topology, TOKENS_EACH, gap)
}

/// Makes the channels from every process to `slow` (and back) slow: 20-60
/// ms each way, so that many messages are in flight on them.
fn slow_down_sa(sys: &System, slow: ProcId) {
    let net = network();
    let config = LinkConfig {
        loss: 0.0,
        latency: Duration::from_millis(20)..=Duration::from_millis(60),
    };
    for p in (0..sys.topology().len()).filter(|&p| p != slow) {
        net.set_link(sys.node(p), sys.node(slow), Some(config.clone()));
        net.set_link(sys.node(slow), sys.node(p), Some(config.clone()));
    }
}

/// Starts one snapshot per entry of `initiators`, `spacing` apart (zero:
/// all at the same instant), waits for all of them and checks each.
async fn snapshots_sa(
    sys: &System,
    initiators: &[ProcId],
    spacing: Duration,
    stats: &mut SnapshotStats,
) {
    let mut ids = Vec::new();
    for (k, &p) in initiators.iter().enumerate() {
        if k > 0 && !spacing.is_zero() {
            sleep(spacing).await;
        }
        ids.push((sys.start_snapshot(p), Instant::now()));
    }
    let globals = wait_all(sys, &ids, SNAPSHOT_LIMIT).await;
    for (&(id, _), (global, latency)) in ids.iter().zip(&globals) {
        check_snapshot(sys, id, global);
        stats.add(global, *latency);
    }
}

/// Runs `rounds` rounds of snapshots from `initiators` (one at a time, or
/// all at once), with the traffic running, and prints the numbers.
fn rounds_sa(
    header: &'static str,
    topology: fn() -> Topology,
    reliable: bool,
    initiators: fn(&System) -> Vec<ProcId>,
    concurrent: bool,
) {
    run_test(move || async move {
        let sys = system_sa(topology(), reliable, Duration::from_millis(2));
        let stats_line = Stats::begin(
            format!("Test (A): {header} ({})", sys.topology()),
            sys.topology().len(),
        );
        let mut stats = SnapshotStats::default();
        sleep(Duration::from_millis(50)).await;
        for p in initiators(&sys) {
            if concurrent {
                snapshots_sa(&sys, &initiators(&sys), Duration::ZERO, &mut stats).await;
                break;
            }
            snapshots_sa(&sys, &[p], Duration::ZERO, &mut stats).await;
            sleep(Duration::from_millis(labrpc::rand::gen_range(0..20))).await;
        }
        stats_line.end(stats.count());
        stats.print();
    });
}

fn everyone_sa(sys: &System) -> Vec<ProcId> {
    (0..sys.topology().len()).collect()
}

/// With no traffic, a snapshot records every process's live state and
/// empty channels; a snapshot that does not exist is `None`.
#[test]
fn quiet_system_sa() {
    run_test(|| async {
        let sys = system_sa(Topology::complete(3), true, Duration::ZERO);
        let stats_line = Stats::begin("Test (A): a snapshot of a quiet system", 3);
        let mut stats = SnapshotStats::default();
        snapshots_sa(&sys, &[0], Duration::ZERO, &mut stats).await;
        for p in 0..3 {
            let local = sys.local_snapshot(p, 1).expect("checked complete");
            assert_eq!(
                local.state,
                sys.state(p),
                "process {p} recorded a state other than its own in a system where nothing moves"
            );
            assert_eq!(
                sys.local_snapshot(p, 999),
                None,
                "process {p} has a record of snapshot 999, which nobody started"
            );
        }
        stats_line.end(stats.count());
        stats.print();
    });
}

/// One snapshot after another, from every process of a one-way ring (each
/// process has one incoming and one other outgoing channel).
#[test]
fn ring_sa() {
    rounds_sa(
        "one snapshot at a time, every initiator",
        || Topology::ring(5),
        true,
        everyone_sa,
        false,
    );
}

/// One snapshot after another, from every process of a complete graph.
#[test]
fn complete_graph_sa() {
    rounds_sa(
        "one snapshot at a time, every initiator",
        || Topology::complete(5),
        true,
        everyone_sa,
        false,
    );
}

/// One snapshot after another, from every process of a random strongly
/// connected graph.
#[test]
fn random_graph_sa() {
    rounds_sa(
        "one snapshot at a time, every initiator",
        || Topology::random(7, 0.25),
        true,
        everyone_sa,
        false,
    );
}

/// Every process of a complete graph starts a snapshot at the same
/// instant: each must be right on its own.
#[test]
fn concurrent_snapshots_sa() {
    rounds_sa(
        "every process starts a snapshot at once",
        || Topology::complete(5),
        true,
        everyone_sa,
        true,
    );
}

/// Every process of a ring starts a snapshot at the same instant, and
/// process 0 starts two.
#[test]
fn concurrent_ring_sa() {
    rounds_sa(
        "every process starts a snapshot at once",
        || Topology::ring(6),
        true,
        |sys| {
            let mut v = everyone_sa(sys);
            v.push(0);
            v
        },
        true,
    );
}

/// Twenty snapshots from random processes of a random graph, started a
/// few ms apart so that they overlap, some from the same process.
#[test]
fn overlapping_snapshots_sa() {
    run_test(|| async {
        let sys = system_sa(Topology::random(8, 0.2), true, Duration::from_millis(2));
        let stats_line = Stats::begin(
            format!("Test (A): 20 overlapping snapshots ({})", sys.topology()),
            8,
        );
        let mut stats = SnapshotStats::default();
        sleep(Duration::from_millis(30)).await;
        let initiators: Vec<ProcId> = (0..20).map(|_| labrpc::rand::gen_range(0..8)).collect();
        snapshots_sa(&sys, &initiators, Duration::from_millis(3), &mut stats).await;
        stats_line.end(stats.count());
        stats.print();
    });
}

/// Busy, slow channels: many token messages are in flight when a snapshot
/// starts, so the channels' records matter (and the test checks they were
/// not all empty).
#[test]
fn slow_channels_sa() {
    run_test(|| async {
        let sys = system_sa(Topology::complete(4), true, Duration::from_millis(1));
        slow_down_sa(&sys, 3);
        let stats_line = Stats::begin(
            format!(
                "Test (A): slow busy channels to and from process 3 ({})",
                sys.topology()
            ),
            4,
        );
        let mut stats = SnapshotStats::default();
        sleep(Duration::from_millis(100)).await;
        for p in [3, 0, 1, 3] {
            snapshots_sa(&sys, &[p], Duration::ZERO, &mut stats).await;
        }
        snapshots_sa(&sys, &[0, 1, 2, 3], Duration::from_millis(7), &mut stats).await;
        assert!(
            stats.in_flight() > 0,
            "no snapshot recorded any message in flight, on channels that carry dozens"
        );
        stats_line.end(stats.count());
        stats.print();
    });
}

/// A lossy network (the channels still deliver every message, once, in
/// order) with one slow process, on a random graph: overlapping snapshots.
#[test]
fn unreliable_network_sa() {
    run_test(|| async {
        let sys = system_sa(Topology::random(6, 0.3), false, Duration::from_millis(2));
        slow_down_sa(&sys, 0);
        let stats_line = Stats::begin(
            format!(
                "Test (A): overlapping snapshots, unreliable network ({})",
                sys.topology()
            ),
            6,
        );
        let mut stats = SnapshotStats::default();
        sleep(Duration::from_millis(50)).await;
        for _ in 0..3 {
            let initiators: Vec<ProcId> = (0..4).map(|_| labrpc::rand::gen_range(0..6)).collect();
            snapshots_sa(&sys, &initiators, Duration::from_millis(5), &mut stats).await;
        }
        assert!(
            stats.in_flight() > 0,
            "no snapshot recorded any message in flight, on a slow lossy network"
        );
        stats_line.end(stats.count());
        stats.print();
    });
}
