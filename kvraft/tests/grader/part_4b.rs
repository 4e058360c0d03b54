// Part 4B: the KV store with snapshots (6.824's TestSnapshotRPC4B ...
// TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable4B).

const MAXRAFTSTATE: usize = 1000;

fn g4b(nclients: usize, nservers: usize) -> Generic {
    Generic {
        part: "4B",
        nclients,
        nservers,
        unreliable: false,
        crash: false,
        partitions: false,
        maxraftstate: Some(MAXRAFTSTATE),
        randomkeys: false,
    }
}

/// A lagging server catches up through InstallSnapshot.
#[test]
fn snapshot_rpc_4b() {
    run_test(|| async {
        let cfg = Config::with(
            3,
            Options {
                maxraftstate: Some(MAXRAFTSTATE),
                ..Options::default()
            },
        );
        let ck = cfg.make_client(&cfg.all());
        cfg.begin("Test: InstallSnapshot RPC (4B)");
        ck.put("a", "A").await;
        ck.check("a", "A").await;
        // A bunch of puts into the majority partition.
        cfg.partition(&[0, 1], &[2]);
        {
            let ck1 = cfg.make_client(&[0, 1]);
            for i in 0..50 {
                ck1.put(&i.to_string(), &i.to_string()).await;
            }
            sleep(ELECTION_TIMEOUT).await;
            ck1.put("b", "B").await;
        }
        // The majority has thrown away most of its log.
        let sz = cfg.log_size();
        assert!(
            sz <= 8 * MAXRAFTSTATE,
            "logs were not trimmed ({sz} > 8*{MAXRAFTSTATE})"
        );
        // A group that needs the lagging server: it must catch up.
        cfg.partition(&[0, 2], &[1]);
        {
            let ck1 = cfg.make_client(&[0, 2]);
            ck1.put("c", "C").await;
            ck1.put("d", "D").await;
            ck1.check("a", "A").await;
            ck1.check("b", "B").await;
            ck1.check("1", "1").await;
            ck1.check("49", "49").await;
        }
        // Now everybody.
        cfg.partition(&[0, 1, 2], &[]);
        ck.put("e", "E").await;
        ck.check("c", "C").await;
        ck.check("e", "E").await;
        ck.check("1", "1").await;
        cfg.check_linearizable();
        cfg.end();
    });
}

/// Snapshots keep the log short and are themselves small.
#[test]
fn snapshot_size_4b() {
    run_test(|| async {
        let cfg = Config::with(
            3,
            Options {
                maxraftstate: Some(MAXRAFTSTATE),
                ..Options::default()
            },
        );
        let ck = cfg.make_client(&cfg.all());
        cfg.begin("Test: snapshot size is reasonable (4B)");
        for _ in 0..200 {
            ck.put("x", "0").await;
            ck.check("x", "0").await;
            ck.put("x", "1").await;
            ck.check("x", "1").await;
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
fn speed_4b() {
    run_test(|| generic_test_speed("4B", Some(MAXRAFTSTATE)));
}

#[test]
fn snapshot_recover_4b() {
    run_test(|| {
        generic_test(Generic {
            crash: true,
            ..g4b(1, 5)
        })
    });
}

#[test]
fn snapshot_recover_many_clients_4b() {
    run_test(|| {
        generic_test(Generic {
            crash: true,
            ..g4b(20, 5)
        })
    });
}

#[test]
fn snapshot_unreliable_4b() {
    run_test(|| {
        generic_test(Generic {
            unreliable: true,
            ..g4b(5, 5)
        })
    });
}

#[test]
fn snapshot_unreliable_recover_4b() {
    run_test(|| {
        generic_test(Generic {
            unreliable: true,
            crash: true,
            ..g4b(5, 5)
        })
    });
}

#[test]
fn snapshot_unreliable_recover_concurrent_partition_4b() {
    run_test(|| {
        generic_test(Generic {
            unreliable: true,
            crash: true,
            partitions: true,
            ..g4b(5, 5)
        })
    });
}

#[test]
fn snapshot_unreliable_recover_concurrent_partition_linearizable_4b() {
    run_test(|| {
        generic_test(Generic {
            unreliable: true,
            crash: true,
            partitions: true,
            randomkeys: true,
            ..g4b(15, 7)
        })
    });
}
