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

/// (Ours.) Every row of Lab 2's Put table through the replicated service,
/// with a stable leader that the clerk already knows (so each Put's first
/// attempt reaches it): a Put at a wrong version is `Version` (not
/// `Maybe`), a Put of an absent key above version 0 is `NoKey` and
/// creates nothing, a Get of an absent key is `NoKey`. The course's tests
/// put only at versions read back, and never log a `NoKey`.
#[test]
fn put_cases_4b() {
    run_test(|| async {
        let cfg = Config::with(
            3,
            Options {
                reliable: true,
                maxraftstate: None,
            },
        );
        cfg.begin(&format!("Test: every Put and Get case (4B) {}", net_name(true)));
        let ck = cfg.make_client(&cfg.all());
        // Finds the leader (the clerk remembers it).
        let r = ck.get("k").await;
        assert_eq!(r, Err(kvraft1::KvError::NoKey), "Get(\"k\") of a key never written");
        use kvraft1::KvError::{NoKey, Version};
        let cases: [(&str, &str, u64, Result<(), kvraft1::KvError>); 7] = [
            ("k", "6.5840", 0, Ok(())),
            ("k", "x", 0, Err(Version)),
            ("k", "x", 5, Err(Version)),
            ("k", "lab 4", 1, Ok(())),
            ("y", "x", 1, Err(NoKey)),
            ("k", "x", 1, Err(Version)),
            ("y", "why", 0, Ok(())),
        ];
        for (key, value, version, want) in cases {
            let got = ck.put(key, value, version).await;
            assert_eq!(
                got, want,
                "Put({key:?}, {value:?}, {version}) on a reliable network with a stable leader"
            );
        }
        ck.check_get("k", "lab 4", 2).await;
        ck.check_get("y", "why", 1).await;
        cfg.check_linearizable();
        cfg.end();
    });
}

/// Counts the clerks' requests of `method` for 1 s while the leader
/// loses them (each other server answers "wrong leader"): the clerk
/// must pause `ROUND_PAUSE` (50 ms) after each round of the three
/// servers, and only then. A round is then 55-60 ms, about 50 requests
/// a second; a clerk that never pauses sends hundreds, one that pauses
/// within a round about 30 or fewer.
async fn round_pause(cfg: &Rc<Config>, ck: &Rc<harness::TestClerk>, method: &'static str) {
    let leader = format!("kv-{}", cfg.leader().expect("a leader"));
    let count = Rc::new(std::cell::Cell::new(0u32));
    let c = count.clone();
    let hook = network().add_hook(move |m| {
        if m.leg != Leg::Request || m.method != method {
            return Verdict::Deliver;
        }
        c.set(c.get() + 1);
        if m.server == leader {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    });
    let op = {
        let ck = ck.clone();
        task::spawn(async move {
            match method {
                "kv.get" => drop(ck.get("k").await),
                _ => drop(ck.put("k", "2", 1).await),
            }
        })
    };
    sleep(Duration::from_secs(1)).await;
    let sent = count.get();
    network().remove_hook(hook);
    assert!(
        (40..=70).contains(&sent),
        "{sent} {method} requests in 1 s without a leader's answer (want about 50): \
         the clerk must pause ROUND_PAUSE after each round of the servers, and only then"
    );
    op.await.expect("client task");
}

#[test]
fn round_pause_4b() {
    run_test(|| async {
        let cfg = Config::with(
            3,
            Options {
                reliable: true,
                maxraftstate: None,
            },
        );
        let ck = Rc::new(cfg.make_client(&cfg.all()));
        put_at_least_once(&ck, "k", "1", 0).await;
        cfg.begin("Test: the clerk pauses between rounds of servers (4B)");
        round_pause(&cfg, &ck, "kv.get").await;
        round_pause(&cfg, &ck, "kv.put").await;
        cfg.end();
    });
}
