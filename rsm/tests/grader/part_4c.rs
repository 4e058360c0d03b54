// Part 4C's rsm test (6.5840's TestSnapshot4C), and ours: no entry is
// executed twice (or skipped) across snapshots, restarts and
// InstallSnapshot.

/// The course's Raft state bound of `snapshot_4c`: 2 × maxraftstate.
const SNAPSHOT_MAXRAFTSTATE: usize = 1000;

/// 100 Incs with maxraftstate 1000: the Raft state stays within 2000
/// bytes; after a restart of every peer the counters carry on from 100.
#[test]
fn snapshot_4c() {
    run_test(|| async {
        let cfg = Config::new(Some(SNAPSHOT_MAXRAFTSTATE));
        cfg.begin("Test Snapshot (4C)");
        for i in 1..=100 {
            let r = cfg.one_inc().await;
            assert_eq!(r, i, "Inc number {i} answered counter {r}");
        }
        cfg.check_counter(100, NSRV).await;
        let sz = cfg.max_raft_state();
        assert!(
            sz <= 2 * SNAPSHOT_MAXRAFTSTATE,
            "log not trimmed: the Raft state is {sz} bytes > 2 × maxraftstate ({})",
            2 * SNAPSHOT_MAXRAFTSTATE
        );
        cfg.shutdown_all();
        cfg.start_all();
        let r = cfg.one_inc().await;
        assert_eq!(r, 101, "the first Inc after a restart answered {r}, not 101");
        cfg.check_counter(101, NSRV).await;
        cfg.end();
    });
}

/// The maxraftstate of `snapshot_exactly_once_4c`: small, so that its
/// 2 × bound binds (the 100 Incs of `snapshot_4c` encode in under 2000
/// bytes even without snapshots).
const SMALL_MAXRAFTSTATE: usize = 300;

/// (Ours.) Tagged requests (each executed at most once, or the service
/// panics) with maxraftstate 300, while peers crash and restart from
/// their snapshots, and a peer cut off long enough to need
/// InstallSnapshot comes back: every peer ends with the same counter, and
/// after every round the Raft state is within 2 × maxraftstate.
#[test]
fn snapshot_exactly_once_4c() {
    run_test(|| async {
        let cfg = Config::new(Some(SMALL_MAXRAFTSTATE));
        cfg.begin("Test no request executed twice across snapshots and restarts (4C)");
        let all: Vec<usize> = (0..NSRV).collect();
        for round in 0..6 {
            for _ in 0..15 {
                one_tag(&cfg, &all).await;
            }
            let victim = labrpc::rand::gen_range(0..NSRV);
            if round % 2 == 0 {
                // Crash and restart at once: it replays from its snapshot.
                cfg.shutdown_server(victim);
                cfg.start_server(victim);
            } else {
                // Cut off while the others move on, then back: it needs
                // the leader's snapshot.
                cfg.disconnect(victim);
                let others: Vec<usize> = all.iter().copied().filter(|&i| i != victim).collect();
                for _ in 0..15 {
                    one_tag(&cfg, &others).await;
                }
                cfg.connect(victim);
            }
            let sz = cfg.max_raft_state();
            assert!(
                sz <= 2 * SMALL_MAXRAFTSTATE,
                "round {round}: log not trimmed: the Raft state is {sz} bytes > 2 × maxraftstate ({})",
                2 * SMALL_MAXRAFTSTATE
            );
        }
        let n = settled_tag(&cfg).await;
        cfg.check_counter(n, NSRV).await;
        cfg.shutdown_all();
        cfg.start_all();
        let m = settled_tag(&cfg).await;
        assert_eq!(m, n + 1, "after a restart of every peer the counter went from {n} to {m}");
        cfg.check_counter(m, NSRV).await;
        cfg.end();
    });
}
