// Part 5A: the shard controller (6.824's TestBasic, TestMulti and
// TestMinimalAgain, one test each, with their sub-tests as stats lines),
// plus static sharding and rejection of other groups' keys
// (TestStaticShards5A, TestRejection5A).
//
// Every Join and Leave of these tests goes through [`CheckedCtrler`]: the
// new configuration must follow its predecessor and move exactly the
// fewest shards a balanced result allows (6.824's minimal-transfer
// sub-tests look at gids that are not in the configuration).

fn group(gid: Gid, servers: &[&str]) -> BTreeMap<Gid, Vec<String>> {
    BTreeMap::from([(gid, servers.iter().map(|s| s.to_string()).collect())])
}

/// Controller tests count controller operations.
struct Counted {
    stats: Stats,
    ops: u64,
}

fn begin(header: &str, peers: usize) -> Counted {
    Counted {
        stats: Stats::begin(header, peers),
        ops: 0,
    }
}

impl Counted {
    fn end(self) {
        self.stats.end(self.ops);
    }
}

/// Shuts down each controller server in turn; the others must answer
/// Query(num) with exactly the recorded configuration (all replicas agree
/// on every configuration).
async fn historical_queries(ctrl: &Ctrlers, ck: &CheckedCtrler, configs: &[Config]) -> u64 {
    let mut ops = 0;
    for s in 0..ctrl.n() {
        ctrl.shutdown_server(s);
        for want in configs {
            let c = ck.query(Some(want.num)).await;
            ops += 1;
            assert_eq!(
                &c, want,
                "Query({}) with controller server {s} down: replicas disagree on the configuration",
                want.num
            );
        }
        ctrl.start_server(s);
    }
    ops
}

async fn check(ck: &CheckedCtrler, groups: &[Gid]) -> Config {
    let c = ck.query(None).await;
    check_config(&c, groups);
    c
}

/// 6.824's TestBasic.
#[test]
fn basic_5a() {
    run_test(|| async {
        let ctrl = Ctrlers::new("ctrler", 3);
        let ck = CheckedCtrler::new(ctrl.clerk());
        let mut cfa = Vec::new();

        let mut t = begin("Test (5A): basic leave/join", 3);
        cfa.push(check(&ck, &[]).await);
        ck.join(group(1, &["x", "y", "z"])).await;
        cfa.push(check(&ck, &[1]).await);
        ck.join(group(2, &["a", "b", "c"])).await;
        cfa.push(check(&ck, &[1, 2]).await);
        let cfx = ck.query(None).await;
        assert_eq!(cfx.groups[&1], ["x", "y", "z"], "wrong servers for gid 1");
        assert_eq!(cfx.groups[&2], ["a", "b", "c"], "wrong servers for gid 2");
        ck.leave(&[1]).await;
        cfa.push(check(&ck, &[2]).await);
        ck.leave(&[2]).await;
        cfa.push(check(&ck, &[]).await);
        t.ops += 11;
        t.end();

        let mut t = begin("Test (5A): historical queries", 3);
        t.ops += historical_queries(&ctrl, &ck, &cfa).await;
        t.end();

        let mut t = begin("Test (5A): move", 3);
        let (gid3, gid4) = (503, 504);
        ck.join(group(gid3, &["3a", "3b", "3c"])).await;
        ck.join(group(gid4, &["4a", "4b", "4c"])).await;
        for i in 0..NSHARDS {
            let cf = ck.query(None).await;
            let to = if i < NSHARDS / 2 { gid3 } else { gid4 };
            let c = ck.move_shard(i, to).await;
            if cf.shards[i] != to {
                assert!(
                    c.num > cf.num,
                    "Move should increase the configuration number"
                );
            }
            t.ops += 2;
        }
        let cf2 = ck.query(None).await;
        for i in 0..NSHARDS {
            let want = if i < NSHARDS / 2 { gid3 } else { gid4 };
            assert_eq!(cf2.shards[i], want, "shard {i} wrong group after Move");
        }
        ck.leave(&[gid3]).await;
        ck.leave(&[gid4]).await;
        t.ops += 5;
        t.end();

        let mut t = begin("Test (5A): concurrent leave/join", 3);
        let npara = 10;
        let gids: Vec<Gid> = (0..npara).map(|i| i * 10 + 100).collect();
        let ctrl = Rc::new(ctrl);
        let tasks: Vec<_> = gids
            .iter()
            .map(|&gid| {
                let ck = CheckedCtrler::new(ctrl.clerk());
                task::spawn(async move {
                    ck.join(group(gid + 1000, &["f"])).await;
                    ck.join(group(gid, &["a", "b", "c"])).await;
                    ck.leave(&[gid + 1000]).await;
                })
            })
            .collect();
        for h in tasks {
            h.await.unwrap();
        }
        check(&ck, &gids).await;
        t.ops += 3 * npara + 1;
        t.end();

        let mut t = begin("Test (5A): minimal transfers after joins", 3);
        let c1 = ck.query(None).await;
        for i in 0..5 {
            ck.join(group(npara + 1 + i, &["a", "b", "c"])).await;
        }
        let c2 = ck.query(None).await;
        // A shard still on one of the old groups must not have moved
        // (6.824 checks gids 1..10 here, which are not in the config).
        for j in 0..NSHARDS {
            if gids.contains(&c2.shards[j]) {
                assert_eq!(
                    c1.shards[j], c2.shards[j],
                    "shard {j} moved between old groups"
                );
            }
        }
        t.ops += 7;
        t.end();

        let mut t = begin("Test (5A): minimal transfers after leaves", 3);
        for i in 0..5 {
            ck.leave(&[npara + 1 + i]).await;
        }
        let c3 = ck.query(None).await;
        for j in 0..NSHARDS {
            if gids.contains(&c2.shards[j]) {
                assert_eq!(
                    c2.shards[j], c3.shards[j],
                    "shard {j} moved between remaining groups"
                );
            }
        }
        t.ops += 6;
        t.end();
    });
}

/// 6.824's TestMulti: Joins and Leaves of several groups at once.
#[test]
fn multi_5a() {
    run_test(|| async {
        let ctrl = Ctrlers::new("ctrler", 3);
        let ck = CheckedCtrler::new(ctrl.clerk());

        let mut t = begin("Test (5A): multi-group join/leave", 3);
        let mut cfa = vec![check(&ck, &[]).await];
        let mut two = group(1, &["x", "y", "z"]);
        two.extend(group(2, &["a", "b", "c"]));
        ck.join(two).await;
        cfa.push(check(&ck, &[1, 2]).await);
        ck.join(group(3, &["j", "k", "l"])).await;
        cfa.push(check(&ck, &[1, 2, 3]).await);
        let cfx = ck.query(None).await;
        assert_eq!(cfx.groups[&1], ["x", "y", "z"], "wrong servers for gid 1");
        assert_eq!(cfx.groups[&2], ["a", "b", "c"], "wrong servers for gid 2");
        assert_eq!(cfx.groups[&3], ["j", "k", "l"], "wrong servers for gid 3");
        ck.leave(&[1, 3]).await;
        cfa.push(check(&ck, &[2]).await);
        let cfx = ck.query(None).await;
        assert_eq!(cfx.groups[&2], ["a", "b", "c"], "wrong servers for gid 2");
        ck.leave(&[2]).await;
        cfa.push(check(&ck, &[]).await);
        t.ops += 13;
        t.ops += historical_queries(&ctrl, &ck, &cfa).await;
        t.end();

        let mut t = begin("Test (5A): concurrent multi leave/join", 3);
        let npara = 10;
        let gids: Vec<Gid> = (0..npara).map(|i| 1000 + i).collect();
        let tasks: Vec<_> = gids
            .iter()
            .map(|&gid| {
                let ck = CheckedCtrler::new(ctrl.clerk());
                task::spawn(async move {
                    let mut m = group(gid, &["a", "b", "c"]);
                    m.extend(group(gid + 1000, &[&format!("{gid}a")]));
                    m.extend(group(gid + 2000, &[&format!("{gid}b")]));
                    ck.join(m).await;
                    ck.leave(&[gid + 1000, gid + 2000]).await;
                })
            })
            .collect();
        for h in tasks {
            h.await.unwrap();
        }
        check(&ck, &gids).await;
        t.ops += 2 * npara + 1;
        t.end();

        let mut t = begin("Test (5A): minimal transfers after multijoins", 3);
        let c1 = ck.query(None).await;
        let mut m = BTreeMap::new();
        for i in 0..5 {
            m.extend(group(npara + 1 + i, &["a", "b", "c"]));
        }
        ck.join(m).await;
        let c2 = ck.query(None).await;
        for j in 0..NSHARDS {
            if gids.contains(&c2.shards[j]) {
                assert_eq!(
                    c1.shards[j], c2.shards[j],
                    "shard {j} moved between old groups"
                );
            }
        }
        t.ops += 3;
        t.end();

        let mut t = begin("Test (5A): minimal transfers after multileaves", 3);
        let l: Vec<Gid> = (0..5).map(|i| npara + 1 + i).collect();
        ck.leave(&l).await;
        let c3 = ck.query(None).await;
        for j in 0..NSHARDS {
            if gids.contains(&c2.shards[j]) {
                assert_eq!(
                    c2.shards[j], c3.shards[j],
                    "shard {j} moved between remaining groups"
                );
            }
        }
        check_config(&c3, &gids);
        t.ops += 2;
        t.end();

        let mut t = begin("Test (5A): check Query(None) after the leader fails", 3);
        let leader = ctrl.leader().expect("no controller leader");
        let c1 = ck.query(None).await;
        ctrl.shutdown_server(leader);
        // 6.824 does not really wait here; we do, for at most 5 s.
        let t0 = labrpc::time::Instant::now();
        while ctrl.leader().is_none() {
            assert!(
                t0.elapsed() < 5 * ELECTION_TIMEOUT,
                "no new controller leader 5 s after the old one crashed"
            );
            sleep(Duration::from_millis(100)).await;
        }
        let c2 = ck.query(None).await;
        assert_eq!(c1, c2, "the survivors' latest configuration differs");
        ctrl.start_server(leader);
        t.ops += 2;
        t.end();
    });
}

/// 6.824's TestMinimalAgain: joins and a leave among three groups move no
/// shard between groups that stay.
#[test]
fn minimal_again_5a() {
    run_test(|| async {
        let ctrl = Ctrlers::new("ctrler", 3);
        let ck = CheckedCtrler::new(ctrl.clerk());
        let t = begin("Test (5A): minimal transfers with three groups", 3);
        ck.join(group(1, &["a"])).await;
        ck.join(group(2, &["b"])).await;
        let c1 = ck.query(None).await;
        ck.join(group(3, &["c"])).await;
        let c2 = ck.query(None).await;
        for s in 0..NSHARDS {
            if c2.shards[s] != 3 {
                assert_eq!(
                    c1.shards[s], c2.shards[s],
                    "shard {s} moved between 1 and 2"
                );
            }
        }
        assert!(moved(&c1, &c2) <= NSHARDS / 3 + 1, "too many shards moved");
        ck.leave(&[1]).await;
        let c3 = ck.query(None).await;
        for s in 0..NSHARDS {
            if c2.shards[s] != 1 {
                assert_eq!(
                    c2.shards[s], c3.shards[s],
                    "shard {s} moved between 2 and 3"
                );
            }
        }
        assert!(moved(&c2, &c3) <= NSHARDS / 3 + 1, "too many shards moved");
        t.end();
    });
}

/// Ours: 40 random Joins and Leaves (one or several groups, gids reused
/// after leaving, up to more groups than shards), each checked for balance
/// and the minimal number of moves; then every configuration must be
/// numbered without gaps and the same on every replica.
#[test]
fn random_rebalance_5a() {
    run_test(|| async {
        let ctrl = Ctrlers::new("ctrler", 3);
        let ck = CheckedCtrler::new(ctrl.clerk());
        let mut t = begin(
            "Test (5A): random joins and leaves move as few shards as possible",
            3,
        );
        let mut present: Vec<Gid> = Vec::new();
        for _ in 0..40 {
            let join = present.is_empty() || (present.len() < 14 && labrpc::rand::gen_bool(0.6));
            let k = labrpc::rand::gen_range(1..=3usize);
            if join {
                let mut m = BTreeMap::new();
                while m.len() < k {
                    let gid = labrpc::rand::gen_range(1..=20u64);
                    if !present.contains(&gid) {
                        m.insert(gid, vec![format!("s{gid}")]);
                    }
                }
                present.extend(m.keys().copied());
                ck.join(m).await;
            } else {
                labrpc::rand::shuffle(&mut present);
                let gone: Vec<Gid> = present.drain(..k.min(present.len())).collect();
                ck.leave(&gone).await;
            }
            t.ops += 2;
            check(&ck, &present).await;
        }
        let last = ck.query(None).await.num;
        let mut configs = Vec::new();
        for num in 0..=last {
            let c = ck.query(Some(num)).await;
            assert_eq!(c.num, num, "Query({num}) returned configuration {}", c.num);
            if num > 0 {
                let prev: &Config = configs.last().unwrap();
                check_minimal(prev, &c);
            }
            configs.push(c);
        }
        t.ops += last + 1;
        t.ops += historical_queries(&ctrl, &ck, &configs).await;
        t.end();
    });
}

/// Collects the results of single-use clerks' Gets until none arrives for
/// 2 s; returns how many completed (each checked).
async fn completions(rx: &mut mpsc::UnboundedReceiver<Result<(), String>>) -> usize {
    let mut ndone = 0;
    while let Ok(Some(r)) = timeout(Duration::from_secs(2), rx.next()).await {
        if let Err(e) = r {
            panic!("{e}");
        }
        ndone += 1;
    }
    ndone
}

async fn put_ten(sys: &Rc<System>) -> (Vec<String>, Vec<String>) {
    let ck = sys.make_client();
    let ka: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    let va: Vec<String> = (0..10).map(|_| randstring(20)).collect();
    for i in 0..10 {
        ck.put(&ka[i], &va[i]).await;
    }
    for i in 0..10 {
        ck.check(&ka[i], &va[i]).await;
    }
    (ka, va)
}

/// 6.824's TestStaticShards5A: with one of two groups down, exactly the
/// Gets of its five shards hang.
#[test]
fn static_shards_5a() {
    run_test(|| async {
        let sys = System::new();
        sys.begin("Test (5A): static shards");
        sys.join(0).await;
        sys.join(1).await;
        let (ka, va) = put_ten(&sys).await;
        sys.shutdown_group(1);
        sys.check_logs(); // no snapshots allowed
        let (tx, mut rx) = mpsc::unbounded();
        for i in 0..10 {
            let ck1 = sys.make_client(); // one call per clerk
            let (k, v, tx) = (ka[i].clone(), va[i].clone(), tx.clone());
            task::spawn(async move {
                let got = ck1.get(&k).await;
                let r = if got == v {
                    Ok(())
                } else {
                    Err(format!("Get({k:?}): expected {v:?}, got {got:?}"))
                };
                let _ = tx.unbounded_send(r);
            })
            .detach();
        }
        let ndone = completions(&mut rx).await;
        assert_eq!(
            ndone, 5,
            "expected 5 completions with one group dead; got {ndone}"
        );
        sys.start_group(1);
        let ck = sys.make_client();
        for i in 0..10 {
            ck.check(&ka[i], &va[i]).await;
        }
        sys.end();
    });
}

/// 6.824's TestRejection5A: a clerk whose (separate) controller says group
/// 100 owns everything gets answers for 100's five shards only; the group
/// must refuse the others rather than answer "".
#[test]
fn rejection_5a() {
    run_test(|| async {
        let sys = System::new();
        sys.begin("Test (5A): rejection");
        sys.join(0).await;
        sys.join(1).await;
        let (ka, va) = put_ten(&sys).await;
        let ctrl2 = Ctrlers::new("ctrler2", 3);
        let mck2 = ctrl2.clerk();
        mck2.join(BTreeMap::from([(100, sys.names(0))])).await;
        let (tx, mut rx) = mpsc::unbounded();
        for i in 0..10 {
            let ck2 = sys.make_client_of(&ctrl2);
            let (k, v, tx) = (ka[i].clone(), va[i].clone(), tx.clone());
            task::spawn(async move {
                let got = ck2.get(&k).await;
                let r = if got == v {
                    Ok(())
                } else if got.is_empty() {
                    Err(format!(
                        "Get({k:?}) returned \"\": group 100 answered for shard {} it does not own",
                        shardkv::key2shard(&k)
                    ))
                } else {
                    Err(format!("Get({k:?}): expected {v:?}, got {got:?}"))
                };
                let _ = tx.unbounded_send(r);
            })
            .detach();
        }
        let ndone = completions(&mut rx).await;
        assert_eq!(
            ndone, 5,
            "expected 5 completions (group 100's shards) and 5 refusals; got {ndone} completions"
        );
        sys.end();
    });
}
