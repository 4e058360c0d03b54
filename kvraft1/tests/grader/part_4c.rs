// Part 4C: the KV service with snapshots through rsm (6.5840's
// TestSnapshotRPC4C ... TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable4C).

const MAXRAFTSTATE: usize = 1000;

fn g4c(nclients: usize, nservers: usize) -> Generic {
    Generic {
        part: "4C",
        nclients,
        nservers,
        reliable: true,
        crash: false,
        partitions: false,
        maxraftstate: Some(MAXRAFTSTATE),
        randomkeys: false,
    }
}

fn snapshot_config() -> Rc<Config> {
    Config::with(
        3,
        Options {
            reliable: true,
            maxraftstate: Some(MAXRAFTSTATE),
        },
    )
}

/// A server cut off while the others trim their logs catches up through
/// InstallSnapshot.
#[test]
fn snapshot_rpc_4c() {
    run_test(|| async {
        let cfg = snapshot_config();
        let ck = cfg.make_client(&cfg.all());
        cfg.begin(&format!("Test: InstallSnapshot RPC (4C) {}", net_name(true)));
        let va = put_at_least_once(&ck, "a", "A", 0).await;
        ck.check_get("a", "A", va).await;
        // A bunch of puts into the majority partition.
        cfg.partition(&[0, 1], &[2]);
        let vb = {
            let ck1 = cfg.make_client(&[0, 1]);
            for i in 0..50 {
                put_at_least_once(&ck1, &i.to_string(), &i.to_string(), 0).await;
            }
            sleep(ELECTION_TIMEOUT).await;
            put_at_least_once(&ck1, "b", "B", 0).await
        };
        // The majority has thrown away most of its log.
        let sz = cfg.log_size();
        assert!(
            sz <= 8 * MAXRAFTSTATE,
            "logs were not trimmed ({sz} > 8*{MAXRAFTSTATE})"
        );
        // A group that needs the lagging server: it must catch up.
        cfg.partition(&[0, 2], &[1]);
        let (vc, _) = {
            let ck1 = cfg.make_client(&[0, 2]);
            let vc = put_at_least_once(&ck1, "c", "C", 0).await;
            let vd = put_at_least_once(&ck1, "d", "D", 0).await;
            ck1.check_get("a", "A", va).await;
            ck1.check_get("b", "B", vb).await;
            ck1.check_get("1", "1", 1).await;
            ck1.check_get("49", "49", 1).await;
            (vc, vd)
        };
        // Now everybody.
        cfg.partition(&[0, 1, 2], &[]);
        let ve = put_at_least_once(&ck, "e", "E", 0).await;
        ck.check_get("c", "C", vc).await;
        ck.check_get("e", "E", ve).await;
        ck.check_get("1", "1", 1).await;
        cfg.check_linearizable();
        cfg.end();
    });
}

/// Snapshots keep the Raft state short and are themselves small.
#[test]
fn snapshot_size_4c() {
    run_test(|| async {
        let cfg = snapshot_config();
        let ck = cfg.make_client(&cfg.all());
        cfg.begin(&format!("Test: snapshot size is reasonable (4C) {}", net_name(true)));
        let mut ver = 0;
        for _ in 0..200 {
            ver = put_at_least_once(&ck, "x", "0", ver).await;
            ck.check_get("x", "0", ver).await;
            ver = put_at_least_once(&ck, "x", "1", ver).await;
            ck.check_get("x", "1", ver).await;
        }
        let sz = cfg.log_size();
        assert!(
            sz <= 8 * MAXRAFTSTATE,
            "logs were not trimmed ({sz} > 8*{MAXRAFTSTATE})"
        );
        let ssz = cfg.snapshot_size();
        assert!(ssz <= 500, "snapshot too large ({ssz} > 500)");
        cfg.check_linearizable();
        cfg.end();
    });
}

#[test]
fn speed_4c() {
    run_test(|| generic_test_speed("4C", Some(MAXRAFTSTATE)));
}

#[test]
fn snapshot_recover_4c() {
    run_test(|| {
        generic_test(Generic {
            crash: true,
            ..g4c(1, 5)
        })
    });
}

#[test]
fn snapshot_recover_many_clients_4c() {
    run_test(|| {
        generic_test(Generic {
            crash: true,
            ..g4c(20, 5)
        })
    });
}

#[test]
fn snapshot_unreliable_4c() {
    run_test(|| {
        generic_test(Generic {
            reliable: false,
            ..g4c(5, 5)
        })
    });
}

#[test]
fn snapshot_unreliable_recover_4c() {
    run_test(|| {
        generic_test(Generic {
            reliable: false,
            crash: true,
            ..g4c(5, 5)
        })
    });
}

#[test]
fn snapshot_unreliable_recover_concurrent_partition_4c() {
    run_test(|| {
        generic_test(Generic {
            reliable: false,
            crash: true,
            partitions: true,
            ..g4c(5, 5)
        })
    });
}

#[test]
fn snapshot_unreliable_recover_concurrent_partition_linearizable_4c() {
    run_test(|| {
        generic_test(Generic {
            reliable: false,
            crash: true,
            partitions: true,
            randomkeys: true,
            ..g4c(15, 7)
        })
    });
}
