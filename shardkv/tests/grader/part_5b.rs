// Part 5B: shard movement (6.824's TestJoinLeave5B ... TestUnreliable3_5B).
// Every test also checks its whole history for linearizability.

/// Puts keys "0".."n-1" with random values of `len` letters; returns keys
/// and values.
async fn put_keys(ck: &TestClerk, n: usize, len: usize) -> (Vec<String>, Vec<String>) {
    let ka: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let va: Vec<String> = (0..n).map(|_| randstring(len)).collect();
    for i in 0..n {
        ck.put(&ka[i], &va[i]).await;
    }
    (ka, va)
}

/// Checks every key, then appends `len` random letters to it.
async fn check_append(ck: &TestClerk, ka: &[String], va: &mut [String], len: usize) {
    for i in 0..ka.len() {
        ck.check(&ka[i], &va[i]).await;
        let x = randstring(len);
        ck.append(&ka[i], &x).await;
        va[i].push_str(&x);
    }
}

async fn check_all(ck: &TestClerk, ka: &[String], va: &[String]) {
    for i in 0..ka.len() {
        ck.check(&ka[i], &va[i]).await;
    }
}

/// 6.824's TestJoinLeave5B.
#[test]
fn join_leave_5b() {
    run_test(|| async {
        let sys = System::new();
        sys.begin("Test (5B): join then leave");
        let ck = sys.make_client();
        sys.join(0).await;
        let (ka, mut va) = put_keys(&ck, 10, 5).await;
        check_all(&ck, &ka, &va).await;
        sys.join(1).await;
        check_append(&ck, &ka, &mut va, 5).await;
        sys.leave(0).await;
        check_append(&ck, &ka, &mut va, 5).await;
        // Allow time for shards to transfer.
        sleep_ms(1000).await;
        sys.check_logs();
        sys.shutdown_group(0);
        check_all(&ck, &ka, &va).await;
        sys.end();
    });
}

/// 6.824's TestSnapshot5B.
#[test]
fn snapshot_5b() {
    run_test(|| async {
        let sys = System::with(Options {
            maxraftstate: Some(1000),
            ..Options::default()
        });
        sys.begin("Test (5B): snapshots, join, and leave");
        let ck = sys.make_client();
        sys.join(0).await;
        let (ka, mut va) = put_keys(&ck, 30, 20).await;
        check_all(&ck, &ka, &va).await;
        sys.join(1).await;
        sys.join(2).await;
        sys.leave(0).await;
        check_append(&ck, &ka, &mut va, 20).await;
        sys.leave(1).await;
        sys.join(0).await;
        check_append(&ck, &ka, &mut va, 20).await;
        sleep_ms(1000).await;
        check_all(&ck, &ka, &va).await;
        sleep_ms(1000).await;
        sys.check_logs();
        for gi in 0..3 {
            sys.shutdown_group(gi);
        }
        for gi in 0..3 {
            sys.start_group(gi);
        }
        check_all(&ck, &ka, &va).await;
        sys.end();
    });
}

/// 6.824's TestMissChange5B: servers miss configuration changes while
/// down and must catch up in order.
#[test]
fn miss_change_5b() {
    run_test(|| async {
        let sys = System::with(Options {
            maxraftstate: Some(1000),
            ..Options::default()
        });
        sys.begin("Test (5B): servers miss configuration changes");
        let ck = sys.make_client();
        sys.join(0).await;
        let (ka, mut va) = put_keys(&ck, 10, 20).await;
        check_all(&ck, &ka, &va).await;
        sys.join(1).await;
        for gi in 0..3 {
            sys.shutdown_server(gi, 0);
        }
        sys.join(2).await;
        sys.leave(1).await;
        sys.leave(0).await;
        check_append(&ck, &ka, &mut va, 20).await;
        sys.join(1).await;
        check_append(&ck, &ka, &mut va, 20).await;
        for gi in 0..3 {
            sys.start_server(gi, 0);
        }
        check_append(&ck, &ka, &mut va, 20).await;
        sleep_ms(2000).await;
        for gi in 0..3 {
            sys.shutdown_server(gi, 1);
        }
        sys.join(0).await;
        sys.leave(2).await;
        check_append(&ck, &ka, &mut va, 20).await;
        for gi in 0..3 {
            sys.start_server(gi, 1);
        }
        check_all(&ck, &ka, &va).await;
        sys.end();
    });
}

/// Ten clerks, each appending to its own key (pausing `pause_ms` between
/// appends, or never) until `done`; returns their final expected values.
struct Appenders {
    values: Rc<RefCell<Vec<String>>>,
    done: Rc<Cell<bool>>,
    tasks: Vec<task::JoinHandle<()>>,
}

impl Appenders {
    fn start(
        sys: &Rc<System>,
        ka: &[String],
        va: &[String],
        len: usize,
        pause_ms: u64,
    ) -> Appenders {
        let values = Rc::new(RefCell::new(va.to_vec()));
        let done = Rc::new(Cell::new(false));
        let tasks = (0..ka.len())
            .map(|i| {
                let ck = sys.make_client();
                let (key, values, done) = (ka[i].clone(), values.clone(), done.clone());
                task::spawn(async move {
                    while !done.get() {
                        let x = randstring(len);
                        ck.append(&key, &x).await;
                        values.borrow_mut()[i].push_str(&x);
                        if pause_ms > 0 {
                            sleep_ms(pause_ms).await;
                        }
                    }
                })
            })
            .collect();
        Appenders {
            values,
            done,
            tasks,
        }
    }

    async fn stop(self) -> Vec<String> {
        self.done.set(true);
        for t in self.tasks {
            t.await.unwrap();
        }
        self.values.borrow().clone()
    }
}

/// 6.824's TestConcurrent1_5B: appends during joins, leaves and the crash
/// of every group.
#[test]
fn concurrent1_5b() {
    run_test(|| async {
        let sys = System::with(Options {
            maxraftstate: Some(100),
            ..Options::default()
        });
        sys.begin("Test (5B): concurrent puts and configuration changes");
        let ck = sys.make_client();
        sys.join(0).await;
        let (ka, va) = put_keys(&ck, 10, 5).await;
        let app = Appenders::start(&sys, &ka, &va, 5, 10);
        sleep_ms(150).await;
        sys.join(1).await;
        sleep_ms(500).await;
        sys.join(2).await;
        sleep_ms(500).await;
        sys.leave(0).await;
        sys.shutdown_group(0);
        sleep_ms(100).await;
        sys.shutdown_group(1);
        sleep_ms(100).await;
        sys.shutdown_group(2);
        sys.leave(2).await;
        sleep_ms(100).await;
        sys.start_group(0);
        sys.start_group(1);
        sys.start_group(2);
        sleep_ms(100).await;
        sys.join(0).await;
        sys.leave(1).await;
        sleep_ms(500).await;
        sys.join(1).await;
        sleep_ms(1000).await;
        let va = app.stop().await;
        check_all(&ck, &ka, &va).await;
        sys.end();
    });
}

/// 6.824's TestConcurrent2_5B: a group restarting must fetch shards from
/// the right previous owners.
#[test]
fn concurrent2_5b() {
    run_test(|| async {
        let sys = System::new();
        sys.begin("Test (5B): more concurrent puts and configuration changes");
        let ck = sys.make_client();
        sys.join(1).await;
        sys.join(0).await;
        sys.join(2).await;
        let (ka, va) = put_keys(&ck, 10, 1).await;
        let app = Appenders::start(&sys, &ka, &va, 1, 50);
        sys.leave(0).await;
        sys.leave(2).await;
        sleep_ms(3000).await;
        sys.join(0).await;
        sys.join(2).await;
        sys.leave(1).await;
        sleep_ms(3000).await;
        sys.join(1).await;
        sys.leave(0).await;
        sys.leave(2).await;
        sleep_ms(3000).await;
        sys.shutdown_group(1);
        sys.shutdown_group(2);
        sleep_ms(1000).await;
        sys.start_group(1);
        sys.start_group(2);
        sleep_ms(2000).await;
        let va = app.stop().await;
        check_all(&ck, &ka, &va).await;
        sys.end();
    });
}

/// 6.824's TestConcurrent3_5B: appends without pause for 12 s of joins,
/// leaves and restarts of every group.
#[test]
fn concurrent3_5b() {
    run_test(|| async {
        let sys = System::with(Options {
            maxraftstate: Some(300),
            ..Options::default()
        });
        sys.begin("Test (5B): concurrent configuration change and restart");
        let ck = sys.make_client();
        sys.join(0).await;
        let (ka, va) = put_keys(&ck, 10, 1).await;
        let app = Appenders::start(&sys, &ka, &va, 1, 0);
        let t0 = labrpc::time::Instant::now();
        while t0.elapsed().as_secs() < 12 {
            sys.join(2).await;
            sys.join(1).await;
            sleep_ms(labrpc::rand::gen_range(0..900)).await;
            for gi in 0..3 {
                sys.shutdown_group(gi);
            }
            for gi in 0..3 {
                sys.start_group(gi);
            }
            sleep_ms(labrpc::rand::gen_range(0..900)).await;
            sys.leave(1).await;
            sys.leave(2).await;
            sleep_ms(labrpc::rand::gen_range(0..900)).await;
        }
        sleep_ms(2000).await;
        let va = app.stop().await;
        check_all(&ck, &ka, &va).await;
        sys.end();
    });
}

/// 6.824's TestUnreliable1_5B.
#[test]
fn unreliable1_5b() {
    run_test(|| async {
        let sys = System::with(Options {
            unreliable: true,
            maxraftstate: Some(100),
        });
        sys.begin("Test (5B): unreliable 1");
        let ck = sys.make_client();
        sys.join(0).await;
        let (ka, mut va) = put_keys(&ck, 10, 5).await;
        sys.join(1).await;
        sys.join(2).await;
        sys.leave(0).await;
        for _ in 0..2 {
            check_append(&ck, &ka, &mut va, 5).await;
        }
        sys.join(0).await;
        sys.leave(1).await;
        for _ in 0..2 {
            check_all(&ck, &ka, &va).await;
        }
        sys.end();
    });
}

/// The configuration changes of 6.824's TestUnreliable2/3_5B.
async fn unreliable_changes(sys: &Rc<System>) {
    sleep_ms(150).await;
    sys.join(1).await;
    sleep_ms(500).await;
    sys.join(2).await;
    sleep_ms(500).await;
    sys.leave(0).await;
    sleep_ms(500).await;
    sys.leave(1).await;
    sleep_ms(500).await;
    sys.join(1).await;
    sys.join(0).await;
    sleep_ms(2000).await;
}

/// 6.824's TestUnreliable2_5B.
#[test]
fn unreliable2_5b() {
    run_test(|| async {
        let sys = System::with(Options {
            unreliable: true,
            maxraftstate: Some(100),
        });
        sys.begin("Test (5B): unreliable 2");
        let ck = sys.make_client();
        sys.join(0).await;
        let (ka, va) = put_keys(&ck, 10, 5).await;
        let app = Appenders::start(&sys, &ka, &va, 5, 0);
        unreliable_changes(&sys).await;
        labrpc::network().set_reliable(true);
        let va = app.stop().await;
        check_all(&ck, &ka, &va).await;
        sys.end();
    });
}

/// 6.824's TestUnreliable3_5B: random operations on random keys, judged
/// by the linearizability check alone.
#[test]
fn unreliable3_5b() {
    run_test(|| async {
        let sys = System::with(Options {
            unreliable: true,
            maxraftstate: Some(100),
        });
        sys.begin("Test (5B): unreliable 3");
        let ck = sys.make_client();
        sys.join(0).await;
        let (ka, _) = put_keys(&ck, 10, 5).await;
        let done = Rc::new(Cell::new(false));
        let tasks: Vec<_> = (0..ka.len())
            .map(|_| {
                let ck = sys.make_client();
                let (ka, done) = (ka.clone(), done.clone());
                task::spawn(async move {
                    while !done.get() {
                        let key = &ka[labrpc::rand::gen_range(0..ka.len())];
                        let x = randstring(5);
                        if labrpc::rand::gen_bool(0.5) {
                            ck.append(key, &x).await;
                        } else if labrpc::rand::gen_bool(0.1) {
                            ck.put(key, &x).await;
                        } else {
                            ck.get(key).await;
                        }
                    }
                })
            })
            .collect();
        unreliable_changes(&sys).await;
        labrpc::network().set_reliable(true);
        done.set(true);
        for t in tasks {
            t.await.unwrap();
        }
        sys.end();
    });
}

/// A new leader must get the entries of earlier terms applied even when no
/// clerk calls its group (Raft commits them only with an entry of its own
/// term).
///
/// Group 101 takes half the shards from 100. As soon as a follower of
/// 101's leader has the shards' data in its log, the leader's
/// AppendEntries are held: it commits and applies the data, has 100 delete
/// its copy, but its followers never learn that the entry is committed.
/// The leader crashes; a follower leads. Then 102 joins and takes shards
/// from 101, and a clerk uses only those: 101 must finish its hand-over
/// without any clerk calling it, or 102 waits for ever.
#[test]
fn new_leader_unblocks_5b() {
    run_test(|| async {
        let sys = System::new();
        sys.begin("Test (5B): a new leader applies what its predecessor committed");
        let ck = sys.make_client();
        sys.join(0).await;
        let (ka, va) = put_keys(&ck, 20, 1000).await;
        let base: Vec<usize> = (0..3).map(|i| sys.state_size(1, i)).collect();
        sys.join(1).await;
        let mut waited = 0;
        let leader = loop {
            if let Some(l) = sys.leader(1) {
                break l;
            }
            assert!(waited < 5000, "group 101 elected no leader within 5 s");
            sleep_ms(1).await;
            waited += 1;
        };
        // The shards' data (about 10 KB) reaches a follower's log.
        while (0..3)
            .filter(|&i| i != leader)
            .all(|i| sys.state_size(1, i) < base[i] + 4000)
        {
            assert!(
                waited < 10_000,
                "group 101's followers did not receive the shards' data within 10 s"
            );
            sleep_ms(1).await;
            waited += 1;
        }
        let net = labrpc::network();
        let appends = net.hold(
            labrpc::Filter::new()
                .method("raft.append_entries")
                .from(sys.nodes(1)[leader]),
        );
        sleep_ms(400).await;
        sys.shutdown_server(1, leader);
        net.remove_hold(appends);
        let c2 = sys.mck().query(None).await;
        sys.join(2).await;
        let c3 = sys.mck().query(None).await;
        let ck2 = sys.make_client();
        let mut used = 0;
        for (k, v) in ka.iter().zip(&va) {
            let s = key2shard(k);
            if c2.shards[s] == GIDS[1] && c3.shards[s] == GIDS[2] {
                check_put_within(
                    &ck2,
                    k,
                    v,
                    "x",
                    "group 102 never got this shard from 101: 101's new leader did not get \
                     the entries its predecessor committed applied (a new leader commits an \
                     entry of its own term, e.g. a no-op, at once)",
                )
                .await;
                used += 1;
            }
        }
        assert!(used > 0, "no key of a shard moving from 101 to 102");
        sys.start_server(1, leader);
        sys.end();
    });
}
