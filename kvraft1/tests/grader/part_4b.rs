// Part 4B: the versioned KV service on rsm, without snapshots (6.5840's
// TestBasic4B ... TestPersistPartitionUnreliableLinearizable4B).

fn g4b(nclients: usize, nservers: usize) -> Generic {
    Generic {
        part: "4B",
        nclients,
        nservers,
        reliable: true,
        crash: false,
        partitions: false,
        maxraftstate: None,
        randomkeys: false,
    }
}

#[test]
fn basic_4b() {
    run_test(|| generic_test(g4b(1, 5)));
}

#[test]
fn speed_4b() {
    run_test(|| generic_test_speed("4B", None));
}

#[test]
fn concurrent_4b() {
    run_test(|| generic_test(g4b(5, 5)));
}

#[test]
fn unreliable_4b() {
    run_test(|| {
        generic_test(Generic {
            reliable: false,
            ..g4b(5, 5)
        })
    });
}

/// A leader in a minority makes no progress; the majority does; after the
/// heal the minority's Put and Get complete (within 3 s; the course checks
/// only the Put).
#[test]
fn one_partition_4b() {
    run_test(|| async {
        let cfg = Config::with(
            5,
            Options {
                reliable: false,
                maxraftstate: None,
            },
        );
        let ck = cfg.make_client(&cfg.all());
        let ver0 = put_at_least_once(&ck, "1", "13", 0).await;

        cfg.begin(&format!("Test: progress in majority (4B) {}", net_name(false)));
        let l = cfg.leader().unwrap_or(0);
        let (p1, p2) = cfg.make_partition(l);
        cfg.partition(&p1, &p2);
        let ckp1 = cfg.make_client(&p1);
        let ckp2a = Rc::new(cfg.make_client(&p2));
        let ckp2b = Rc::new(cfg.make_client(&p2));
        let ver1 = put_at_least_once(&ckp1, "1", "14", ver0).await;
        ckp1.check_get("1", "14", ver1).await;
        cfg.end();

        cfg.begin(&format!("Test: no progress in minority (4B) {}", net_name(false)));
        let put = {
            let ck = ckp2a.clone();
            task::spawn(async move { put_at_least_once(&ck, "1", "15", ver1).await })
        };
        let get = {
            let ck = ckp2b.clone();
            task::spawn(async move { ck.get("1").await })
        };
        sleep(Duration::from_secs(1)).await;
        assert!(!put.is_finished(), "a Put in the minority completed");
        assert!(!get.is_finished(), "a Get in the minority completed");
        ckp1.check_get("1", "14", ver1).await;
        let ver2 = put_at_least_once(&ckp1, "1", "16", ver1).await;
        ckp1.check_get("1", "16", ver2).await;
        cfg.end();

        cfg.begin(&format!("Test: completion after heal (4B) {}", net_name(false)));
        cfg.connect_all();
        ckp2a.connect_to(&cfg.all());
        ckp2b.connect_to(&cfg.all());
        sleep(ELECTION_TIMEOUT).await;
        let t0 = Instant::now();
        let limit = Duration::from_secs(3);
        let ver15 = timeout(limit, put)
            .await
            .expect("the minority's Put did not complete within 3 s of the heal")
            .expect("client task");
        let left = limit.saturating_sub(t0.elapsed());
        timeout(left, get)
            .await
            .expect("the minority's Get did not complete within 3 s of the heal")
            .expect("client task")
            .expect("Get(\"1\") after the heal");
        ck.check_get("1", "15", ver15).await;
        cfg.check_linearizable();
        cfg.end();
    });
}

#[test]
fn many_partitions_one_client_4b() {
    run_test(|| {
        generic_test(Generic {
            partitions: true,
            ..g4b(1, 5)
        })
    });
}

#[test]
fn many_partitions_many_clients_4b() {
    run_test(|| {
        generic_test(Generic {
            partitions: true,
            ..g4b(5, 5)
        })
    });
}

#[test]
fn persist_one_client_4b() {
    run_test(|| {
        generic_test(Generic {
            crash: true,
            ..g4b(1, 5)
        })
    });
}

#[test]
fn persist_concurrent_4b() {
    run_test(|| {
        generic_test(Generic {
            crash: true,
            ..g4b(5, 5)
        })
    });
}

#[test]
fn persist_concurrent_unreliable_4b() {
    run_test(|| {
        generic_test(Generic {
            reliable: false,
            crash: true,
            ..g4b(5, 5)
        })
    });
}

#[test]
fn persist_partition_4b() {
    run_test(|| {
        generic_test(Generic {
            crash: true,
            partitions: true,
            ..g4b(5, 5)
        })
    });
}

#[test]
fn persist_partition_unreliable_4b() {
    run_test(|| {
        generic_test(Generic {
            reliable: false,
            crash: true,
            partitions: true,
            ..g4b(5, 5)
        })
    });
}

#[test]
fn persist_partition_unreliable_linearizable_4b() {
    run_test(|| {
        generic_test(Generic {
            reliable: false,
            crash: true,
            partitions: true,
            randomkeys: true,
            ..g4b(15, 7)
        })
    });
}
