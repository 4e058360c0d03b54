// Part 4A: the RSM without snapshots (6.5840's rsm_test.go, TestBasic4A ...
// TestRestartSubmit4A), and ours: a submit's reply is its own request's
// across a leader change; pending submits return when their peer crashes
// while the others run on.

/// 10 Incs, one after the other: the i-th answers i, and every peer
/// executes it.
#[test]
fn basic_4a() {
    run_test(|| async {
        let cfg = Config::new(None);
        cfg.begin("Test RSM basic (4A)");
        for i in 1..=10 {
            let r = cfg.one_inc().await;
            assert_eq!(r, i, "Inc number {i} answered counter {r}");
            cfg.check_counter(r, NSRV).await;
        }
        cfg.end();
    });
}

/// 50 Incs at once: each executed once, on every peer.
#[test]
fn concurrent_4a() {
    run_test(|| async {
        let cfg = Config::new(None);
        cfg.begin("Test concurrent submit (4A)");
        let incs: Vec<_> = (0..50)
            .map(|_| {
                let cfg = cfg.clone();
                task::spawn(async move { cfg.one_inc().await })
            })
            .collect();
        for h in incs {
            h.await.unwrap();
        }
        cfg.check_counter(50, NSRV).await;
        cfg.end();
    });
}

/// The leader is cut off: the two others go on; once back, it catches up.
#[test]
fn leader_failure_4a() {
    run_test(|| async {
        let cfg = Config::new(None);
        cfg.begin("Test Leader Failure (4A)");
        let r = cfg.one_inc().await;
        cfg.check_counter(r, NSRV).await;
        let l = cfg.last_leader();
        cfg.disconnect(l);
        let r = cfg.one_inc().await;
        cfg.check_counter(r, NSRV - 1).await;
        cfg.connect(l);
        cfg.check_counter(r, NSRV).await;
        cfg.end();
    });
}

/// 100 Decs submitted to a leader cut off in a minority: none may return
/// while it is cut off, none may ever be executed, and all return within
/// 1 s of the heal.
#[test]
fn leader_partition_4a() {
    run_test(|| async {
        let cfg = Config::new(None);
        cfg.begin("Test Leader Partition (4A)");
        let r = cfg.one_inc().await;
        cfg.check_counter(r, NSRV).await;
        let l = cfg.leader().unwrap_or(cfg.last_leader());
        let (p1, p2) = cfg.make_partition(l);
        cfg.partition(&p1, &p2);
        let rsm_l = cfg.rsm(l).expect("the leader runs");
        let decs: Vec<_> = (0..100)
            .map(|_| {
                let rsm_l = rsm_l.clone();
                task::spawn(async move { rsm_l.submit(Req::Dec).await })
            })
            .collect();
        sleep(Duration::from_millis(10)).await;
        let r = cfg.one_inc_in(Some(&p1)).await;
        sleep(Duration::from_secs(1)).await;
        for (k, h) in decs.iter().enumerate() {
            assert!(
                !h.is_finished(),
                "submit {k} of a Dec to peer {l}, a leader cut off in a minority, returned \
                 within 1 s of the partition: it cannot know its request's fate yet"
            );
        }
        cfg.connect_all();
        let t0 = Instant::now();
        for (k, h) in decs.into_iter().enumerate() {
            let left = Duration::from_secs(1).saturating_sub(t0.elapsed());
            let rep = timeout(left, h).await.unwrap_or_else(|_| {
                panic!("submit {k} of a Dec to peer {l} did not return within 1 s of the heal")
            });
            if let Ok(rep) = rep.unwrap() {
                panic!("submit {k} of a Dec to the deposed leader {l} returned Ok({rep:?})");
            }
        }
        cfg.check_counter(r, NSRV).await;
        cfg.end();
    });
}

/// 100 Incs, then every peer crashes and restarts: the log replays.
async fn hundred_incs_and_restart(cfg: &Config) {
    for i in 1..=100 {
        let r = cfg.one_inc().await;
        assert_eq!(r, i, "Inc number {i} answered counter {r}");
        cfg.check_counter(r, NSRV).await;
    }
    cfg.shutdown_all();
    sleep(Duration::from_secs(1)).await;
    cfg.start_all();
    let r = cfg.one_inc().await;
    assert_eq!(r, 101, "the first Inc after a restart answered {r}, not 101");
    sleep(Duration::from_secs(1)).await;
    cfg.check_counter(101, NSRV).await;
}

#[test]
fn restart_replay_4a() {
    run_test(|| async {
        let cfg = Config::new(None);
        cfg.begin("Test Restart (4A)");
        hundred_incs_and_restart(&cfg).await;
        cfg.end();
    });
}

/// 100 Nulls; every peer crashes 20 ms later: every submit returns.
async fn nulls_then_shutdown(cfg: &Rc<Config>) {
    let nulls: Vec<_> = (0..100)
        .map(|_| {
            let cfg = cfg.clone();
            task::spawn(async move { cfg.one_null().await })
        })
        .collect();
    sleep(Duration::from_millis(20)).await;
    cfg.shutdown_all();
    let t0 = Instant::now();
    let limit = NSEC + Duration::from_secs(1);
    for (k, h) in nulls.into_iter().enumerate() {
        let left = limit.saturating_sub(t0.elapsed());
        timeout(left, h)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "Null {k} did not return within {limit:?} of the shutdown of every peer: \
                     a pending submit must return when its peer's node crashes"
                )
            })
            .expect("client task");
    }
}

#[test]
fn shutdown_4a() {
    run_test(|| async {
        let cfg = Config::new(None);
        cfg.begin("Test Shutdown (4A)");
        nulls_then_shutdown(&cfg).await;
        cfg.end();
    });
}

#[test]
fn restart_submit_4a() {
    run_test(|| async {
        let cfg = Config::new(None);
        cfg.begin("Test Restart and submit (4A)");
        hundred_incs_and_restart(&cfg).await;
        nulls_then_shutdown(&cfg).await;
        cfg.start_all();
        let r = cfg.one_inc().await;
        cfg.check_counter(r, NSRV).await;
        cfg.end();
    });
}

/// A fresh tag through peers in `p`, until one executes it (fresh for
/// every attempt, so no tag is ever legitimately executed twice).
async fn one_tag(cfg: &Config, p: &[usize]) -> u64 {
    let t0 = Instant::now();
    while t0.elapsed() < NSEC {
        for &i in p {
            if cfg.rsm(i).is_some()
                && let Ok(n) = cfg.submit_tag(i, labrpc::rand::random()).await
            {
                return n;
            }
        }
        sleep(Duration::from_millis(50)).await;
    }
    panic!("no peer of {p:?} executed a request within {NSEC:?}");
}

/// (Ours.) Five times: ten requests go to the leader, which is cut off
/// at once; the others commit ten requests of their own at the same
/// indices; the heal overwrites the old leader's entries. Every submit
/// returns within 1 s of the heal, and an `Ok` always carries the
/// submitted request's own reply (a waiter matched by index alone gets
/// another request's).
#[test]
fn own_reply_after_leader_change_4a() {
    run_test(|| async {
        let cfg = Config::new(None);
        cfg.begin("Test replies are the request's own across leader changes (4A)");
        for round in 0..5 {
            let r = cfg.one_inc().await;
            cfg.check_counter(r, NSRV).await;
            let l = cfg.last_leader();
            let subs: Vec<_> = (0..10)
                .map(|_| {
                    let cfg = cfg.clone();
                    let tag = labrpc::rand::random();
                    task::spawn(async move { cfg.submit_tag(l, tag).await })
                })
                .collect();
            task::yield_now().await;
            cfg.disconnect(l);
            let (p1, _) = cfg.make_partition(l);
            for _ in 0..10 {
                one_tag(&cfg, &p1).await;
            }
            cfg.connect(l);
            let t0 = Instant::now();
            for (k, h) in subs.into_iter().enumerate() {
                let left = Duration::from_secs(1).saturating_sub(t0.elapsed());
                let _ = timeout(left, h)
                    .await
                    .unwrap_or_else(|_| {
                        panic!(
                            "round {round}: submit {k} to the deposed leader {l} did not return \
                             within 1 s of the heal"
                        )
                    })
                    .expect("client task");
            }
            let n = settled_tag(&cfg).await;
            cfg.check_counter(n, NSRV).await;
        }
        cfg.end();
    });
}

/// After a heal: waits an election period (a peer back from a minority
/// may have a higher term and depose the leader), executes a fresh tag,
/// then a Null, so that a leader of the current term has committed past
/// the tag (a new leader commits an earlier term's entry only with one of
/// its own). The tag's counter value.
async fn settled_tag(cfg: &Config) -> u64 {
    sleep(Duration::from_secs(1)).await;
    let all: Vec<usize> = (0..NSRV).collect();
    let n = one_tag(cfg, &all).await;
    assert!(cfg.one_null().await, "no peer executed a Null within {NSEC:?}");
    n
}

/// (Ours.) Submits wait on a leader cut off from the others; its node
/// crashes while the others run on: every submit returns within 1 s.
#[test]
fn shutdown_one_4a() {
    run_test(|| async {
        let cfg = Config::new(None);
        cfg.begin("Test pending submits return when their peer crashes (4A)");
        let r = cfg.one_inc().await;
        cfg.check_counter(r, NSRV).await;
        let l = cfg.last_leader();
        cfg.disconnect(l);
        let rsm_l = cfg.rsm(l).expect("the leader runs");
        let subs: Vec<_> = (0..20)
            .map(|_| {
                let rsm_l = rsm_l.clone();
                task::spawn(async move { rsm_l.submit(Req::Null).await })
            })
            .collect();
        drop(rsm_l);
        let r = cfg.one_inc().await;
        sleep(Duration::from_millis(100)).await;
        cfg.shutdown_server(l);
        let t0 = Instant::now();
        for (k, h) in subs.into_iter().enumerate() {
            let left = Duration::from_secs(1).saturating_sub(t0.elapsed());
            let rep = timeout(left, h).await.unwrap_or_else(|_| {
                panic!("submit {k} to peer {l} did not return within 1 s of its node's crash")
            });
            assert!(
                rep.unwrap().is_err(),
                "submit {k} to peer {l}, cut off and then crashed, returned Ok"
            );
        }
        cfg.start_server(l);
        cfg.connect(l);
        cfg.check_counter(r, NSRV).await;
        let r = cfg.one_inc().await;
        cfg.check_counter(r, NSRV).await;
        cfg.end();
    });
}
