// Part 5A: the controller, the shard groups and the clerk, without
// controller failures (6.5840's TestInitQuery5A ...
// TestManyConcurrentClerkUnreliable5A), and tests of ours for the group's
// fencing (stale_freeze_5a, stale_install_5a, stale_delete_5a) and the
// clerks' answers and pauses (put_version_5a, round_pause_5a).

/// How long the concurrent-clerk tests run their clients (at least; the
/// 8 joins and 8 leaves take a few seconds of it), as in the course.
const CLERKS_RUN: Duration = Duration::from_secs(20);

fn title(what: &str, part: &str, reliable: bool) -> String {
    format!("Test ({part}): {what} {}", net_name(reliable))
}

/// The gids 2 ..= 1 + n.
fn new_gids(n: u64) -> Vec<Gid> {
    (GID1 + 1..=GID1 + n).collect()
}

#[test]
fn init_query_5a() {
    run_test(|| async {
        let sys = System::new(&title("controller init and query", "5A", true), Options::reliable());
        let ck = sys.make_client();
        let mut cfg = ShardConfig::initial();
        assert!(cfg.join_balance(&BTreeMap::from([(GID1, vec!["xxx".to_string()])])));
        ck.ctrler.init_config(cfg.clone()).await;
        let got = ck.ctrler.query().await;
        assert_eq!(got.num, 1, "Query after init_config: number {}, want 1", got.num);
        assert_eq!(got.shards[0], GID1, "Query after init_config: shard 0 not on gid 1");
        check_config(&got, &[GID1]);
        assert_eq!(got, cfg, "Query returned another configuration than the one stored");
        sys.end();
    });
}

#[test]
fn static_one_shard_group_5a() {
    run_test(|| async {
        let (sys, ck) =
            System::setup(&title("one shard group", "5A", true), Options::reliable()).await;
        let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
        // The clerk must have found group 1 (the course's GetClerk check).
        assert!(
            ck.clerk.grp_clerk(GID1).is_some(),
            "the clerk has no group clerk for gid 1 after using it"
        );
        sys.shutdown_leader(GID1);
        ck.check_all(&keys, &vals).await;
        sys.end();
    });
}

#[test]
fn join_basic_5a() {
    run_test(|| async {
        let (sys, ck) =
            System::setup(&title("a group joins", "5A", true), Options::reliable()).await;
        let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
        let cfg = ck.ctrler.query().await;
        let gid2 = GID1 + 1;
        assert!(sys.join_groups(&ck.ctrler, &[gid2]).await, "join of gid {gid2} failed");
        let cfg1 = ck.ctrler.query().await;
        assert_eq!(cfg1.num, cfg.num + 1, "the join did not make one new configuration");
        assert!(cfg1.is_member(gid2), "gid {gid2} is not a member after its join");
        sys.check_shutdown_sharding(GID1, &keys, &vals).await;
        ck.check_all(&keys, &vals).await;
        sys.check_shutdown_sharding(gid2, &keys, &vals).await;
        ck.check_all(&keys, &vals).await;
        sys.end();
    });
}

/// Moved shards must leave the old group's state (and its snapshots).
#[test]
fn delete_basic_5a() {
    run_test(|| async {
        const MAXRAFTSTATE: usize = 10_000;
        let options = Options {
            reliable: true,
            maxraftstate: Some(MAXRAFTSTATE),
        };
        let (sys, ck) = System::setup(&title("delete", "5A", true), options).await;
        let (keys, vals) = spread_puts(&ck, NKEYS, 1000).await;
        let sz = sys.snapshot_size(GID1);
        let gid2 = GID1 + 1;
        assert!(sys.join_groups(&ck.ctrler, &[gid2]).await, "join of gid {gid2} failed");
        // Enough operations for every server to snapshot again (the
        // course: 5 rounds; our log entries are smaller).
        for round in 0..40 {
            ck.check_all(&keys, &vals).await;
            if round >= 5 && sys.snapshot_size(GID1) != sz {
                break;
            }
        }
        let (sz1, sz2) = (sys.snapshot_size(GID1), sys.snapshot_size(gid2));
        assert!(
            sz1 + sz2 <= sz + MAXRAFTSTATE,
            "snapshots of group 1 ({sz1} bytes) and group 2 ({sz2}) add up to more than \
             {sz} (group 1's before the join) + {MAXRAFTSTATE}: moved shards were not deleted"
        );
        sys.end();
    });
}

#[test]
fn join_leave_basic_5a() {
    run_test(|| async {
        let (sys, ck) =
            System::setup(&title("basic join/leave", "5A", true), Options::reliable()).await;
        let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
        let gid2 = GID1 + 1;
        assert!(sys.join_groups(&ck.ctrler, &[gid2]).await, "join of gid {gid2} failed");
        sys.check_shutdown_sharding(GID1, &keys, &vals).await;
        ck.check_all(&keys, &vals).await;
        sys.leave(&ck.ctrler, GID1).await;
        let cfg = ck.ctrler.query().await;
        assert!(!cfg.is_member(GID1), "gid 1 is still a member after its leave");
        sys.shutdown_group(GID1);
        ck.check_all(&keys, &vals).await;
        // Gid 1 rejoins with the same servers (and their old state).
        sys.start_group(GID1);
        sys.join(&ck.ctrler, GID1).await;
        ck.check_all(&keys, &vals).await;
        sys.check_shutdown_sharding(gid2, &keys, &vals).await;
        sys.end();
    });
}

async fn many_join_leave(reliable: bool) {
    let options = if reliable {
        Options::reliable()
    } else {
        Options::unreliable()
    };
    let (sys, ck) = System::setup(&title("many groups join/leave", "5A", reliable), options).await;
    let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
    let gids = new_gids(NGRP);
    assert!(sys.join_groups(&ck.ctrler, &gids).await, "a join failed");
    sys.check_shutdown_sharding(gids[0], &keys, &vals).await;
    ck.check_all(&keys, &vals).await;
    assert!(sys.leave_groups(&ck.ctrler, &gids).await, "a leave failed");
    ck.check_all(&keys, &vals).await;
    sys.end();
}

#[test]
fn many_join_leave_reliable_5a() {
    run_test(|| many_join_leave(true));
}

#[test]
fn many_join_leave_unreliable_5a() {
    run_test(|| many_join_leave(false));
}

/// Every group restarts: shard ownership and fences must persist.
#[test]
fn shutdown_5a() {
    run_test(|| async {
        let (sys, ck) = System::setup(&title("shutdown", "5A", true), Options::reliable()).await;
        let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
        let gids = new_gids(2);
        assert!(sys.join_groups(&ck.ctrler, &gids).await, "a join failed");
        sys.check_shutdown_sharding(gids[0], &keys, &vals).await;
        ck.check_all(&keys, &vals).await;
        let all = [GID1, gids[0], gids[1]];
        for g in all {
            sys.shutdown_group(g);
        }
        for g in all {
            sys.start_group(g);
        }
        ck.check_all(&keys, &vals).await;
        sys.end();
    });
}

/// Groups that are up serve their shards while others are down.
#[test]
fn progress_shutdown_5a() {
    run_test(|| async {
        let (sys, ck) =
            System::setup(&title("progress with groups down", "5A", true), Options::reliable())
                .await;
        let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
        let gids = new_gids(4);
        assert!(sys.join_groups(&ck.ctrler, &gids).await, "a join failed");
        sys.shutdown_group(gids[0]);
        sys.shutdown_group(gids[1]);
        let cfg = ck.ctrler.query().await;
        let up = [gids[2], gids[3]];
        let check = async {
            for (k, v) in keys.iter().zip(&vals) {
                if up.contains(&cfg.shards[key2shard(k)]) {
                    ck.check_get(k, v, 1).await;
                }
            }
        };
        timeout(Duration::from_secs(2), check).await.unwrap_or_else(|_| {
            panic!(
                "Gets of keys on the groups that are up ({up:?}) did not complete within 2 s \
                 while groups {:?} were down",
                &gids[..2]
            )
        });
        sys.end();
    });
}

/// Shards that do not move stay servable while others move.
#[test]
fn progress_join_5a() {
    run_test(|| async {
        let (sys, ck) = System::setup(
            &title("progress during a reconfiguration", "5A", true),
            Options::reliable(),
        )
        .await;
        let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
        let gids = new_gids(4);
        assert!(sys.join_groups(&ck.ctrler, &gids).await, "a join failed");
        let gid7: Gid = 7;
        let cur = ck.ctrler.query().await;
        let mut newcfg = cur.clone();
        assert!(newcfg.join_balance(&BTreeMap::from([(gid7, group_servers(gid7))])));
        let mut newcfg1 = newcfg.clone();
        assert!(newcfg1.leave_balance(&[gid7]));
        let participating: Vec<Gid> = (0..NSHARDS)
            .filter(|&s| newcfg.shards[s] != newcfg1.shards[s])
            .map(|s| newcfg1.shards[s])
            .collect();
        let stable: Vec<usize> = (0..keys.len())
            .filter(|&i| {
                let s = key2shard(&keys[i]);
                newcfg.shards[s] == newcfg1.shards[s] && participating.contains(&newcfg1.shards[s])
            })
            .collect();
        assert!(!stable.is_empty(), "the harness found no stable key to read");
        let done = Rc::new(Cell::new(false));
        let mover = {
            let (sys, done) = (sys.clone(), done.clone());
            let sck = Rc::new(sys.make_client());
            task::spawn(async move {
                while !done.get() {
                    assert!(sys.join_groups(&sck.ctrler, &[gid7]).await, "join of gid 7 failed");
                    assert!(sys.leave_groups(&sck.ctrler, &[gid7]).await, "leave of gid 7 failed");
                }
            })
        };
        let start = Instant::now();
        let mut n = 0;
        let reads = async {
            while start.elapsed() < Duration::from_secs(4) {
                for &i in &stable {
                    ck.check_get(&keys[i], &vals[i], 1).await;
                    n += 1;
                }
            }
        };
        timeout(Duration::from_secs(8), reads)
            .await
            .unwrap_or_else(|_| panic!("Gets of shards that do not move got stuck"));
        assert!(
            n >= 100,
            "only {n} Gets of shards that do not move completed in 4 s of reconfigurations \
             (want at least 100): are they blocked by the moves of other shards?"
        );
        done.set(true);
        mover.await.expect("mover");
        sys.end();
    });
}

/// Clerks Put on "k0" while 8 groups join and leave; the history must be
/// linearizable.
async fn concurrent_clerks(nclients: usize, reliable: bool) {
    let options = if reliable {
        Options::reliable()
    } else {
        Options::unreliable()
    };
    let what = if nclients == 1 {
        "one concurrent clerk"
    } else {
        "many concurrent clerks"
    };
    let (sys, ck) = System::setup(&title(what, "5A", reliable), options).await;
    let start = Instant::now();
    let clients = Clients::spawn(&sys, nclients);
    let gids = new_gids(NGRP);
    assert!(sys.join_groups(&ck.ctrler, &gids).await, "a join failed");
    assert!(sys.leave_groups(&ck.ctrler, &gids).await, "a leave failed");
    if let Some(rest) = CLERKS_RUN.checked_sub(start.elapsed()) {
        sleep(rest).await;
    }
    clients.stop().await;
    sys.end();
}

#[test]
fn one_concurrent_clerk_reliable_5a() {
    run_test(|| concurrent_clerks(1, true));
}

#[test]
fn many_concurrent_clerk_reliable_5a() {
    run_test(|| concurrent_clerks(10, true));
}

#[test]
fn one_concurrent_clerk_unreliable_5a() {
    run_test(|| concurrent_clerks(1, false));
}

#[test]
fn many_concurrent_clerk_unreliable_5a() {
    run_test(|| concurrent_clerks(10, false));
}

/// The keys of `keys` in `shard`.
fn keys_of(keys: &[String], shard: usize) -> Vec<usize> {
    (0..keys.len())
        .filter(|&i| key2shard(&keys[i]) == shard)
        .collect()
}

/// Ours: a group must refuse a Freeze whose number is older than one it
/// has seen for the shard (a delayed RPC of an old controller), also after
/// a restart from a snapshot, and go on serving the shard.
#[test]
fn stale_freeze_5a() {
    run_test(|| async {
        // Small snapshots, and a restart: the fence must survive both.
        let options = Options {
            reliable: true,
            maxraftstate: Some(1000),
        };
        let (sys, ck) = System::setup(&title("a stale Freeze is refused", "5A", true), options).await;
        let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
        let gid2 = GID1 + 1;
        assert!(sys.join_groups(&ck.ctrler, &[gid2]).await, "join of gid {gid2} failed");
        ck.check_all(&keys, &vals).await;
        sys.shutdown_group(gid2);
        sys.start_group(gid2);
        let cfg = ck.ctrler.query().await;
        let shard = (0..NSHARDS).find(|&s| cfg.shards[s] == gid2).expect("a shard on gid 2");
        let r = ck.grp_clerk(gid2).freeze_shard(shard, cfg.num - 1).await;
        assert_eq!(
            r.as_ref().err(),
            Some(&ShardError::Stale),
            "FreezeShard(shard {shard}, num {}) at gid {gid2}, which installed the shard at \
             num {}: want ErrStale, got {r:?}",
            cfg.num - 1,
            cfg.num
        );
        for i in keys_of(&keys, shard) {
            let put = ck.put(&keys[i], "after", 1);
            let r = timeout(Duration::from_secs(5), put).await.unwrap_or_else(|_| {
                panic!(
                    "Put of {} (shard {shard}) got stuck after a stale FreezeShard: the group \
                     obeyed it",
                    keys[i]
                )
            });
            assert_eq!(r, Ok(()), "Put({:?}, \"after\", 1)", keys[i]);
            ck.check_get(&keys[i], "after", 2).await;
        }
        let _ = vals;
        sys.end();
    });
}

/// Ours: a Delete older than the number the shard's group has seen (a
/// delayed RPC of an old controller) must be refused like a stale Freeze
/// or Install: obeyed, it lowers the shard's fence, and a stale Freeze
/// then gets through and stops the shard being served.
#[test]
fn stale_delete_5a() {
    run_test(|| async {
        let (sys, ck) =
            System::setup(&title("a stale Delete is refused", "5A", true), Options::reliable())
                .await;
        let (keys, _vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
        let gid2 = GID1 + 1;
        assert!(sys.join_groups(&ck.ctrler, &[gid2]).await, "join of gid {gid2} failed");
        let cfg = ck.ctrler.query().await;
        let shard = (0..NSHARDS).find(|&s| cfg.shards[s] == gid2).expect("a shard on gid 2");
        let g = ck.grp_clerk(gid2);
        let r = g.delete_shard(shard, cfg.num - 1).await;
        assert_eq!(
            r,
            Err(ShardError::Stale),
            "DeleteShard(shard {shard}, num {}) at gid {gid2}, which installed the shard at \
             num {}",
            cfg.num - 1,
            cfg.num
        );
        let r = g.freeze_shard(shard, cfg.num - 1).await;
        assert_eq!(
            r.as_ref().err(),
            Some(&ShardError::Stale),
            "FreezeShard(shard {shard}, num {}) after a stale DeleteShard at gid {gid2}, \
             which installed the shard at num {}: want ErrStale, got {r:?}",
            cfg.num - 1,
            cfg.num
        );
        for i in keys_of(&keys, shard) {
            let put = ck.put(&keys[i], "after", 1);
            let r = timeout(Duration::from_secs(5), put).await.unwrap_or_else(|_| {
                panic!(
                    "Put of {} (shard {shard}) got stuck after a stale DeleteShard and \
                     FreezeShard: the group obeyed them",
                    keys[i]
                )
            });
            assert_eq!(r, Ok(()), "Put({:?}, \"after\", 1)", keys[i]);
        }
        sys.end();
    });
}

/// Ours: a repeated or older Install must not overwrite what the shard's
/// new owner has written since.
#[test]
fn stale_install_5a() {
    run_test(|| async {
        let (sys, ck) = System::setup(
            &title("a repeated or stale Install is harmless", "5A", true),
            Options::reliable(),
        )
        .await;
        let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
        let gid2 = GID1 + 1;
        assert!(sys.join_groups(&ck.ctrler, &[gid2]).await, "join of gid {gid2} failed");
        let cfg = ck.ctrler.query().await;
        let shard = (0..NSHARDS).find(|&s| cfg.shards[s] == gid2).expect("a shard on gid 2");
        let ids = keys_of(&keys, shard);
        for &i in &ids {
            assert_eq!(ck.put(&keys[i], "new", 1).await, Ok(()));
        }
        // The data as it moved: every key at version 1.
        let old: shardkv1::ShardData =
            ids.iter().map(|&i| (keys[i].clone(), (vals[i].clone(), 1))).collect();
        let g = ck.grp_clerk(gid2);
        let r = g.install_shard(shard, cfg.num, old.clone()).await;
        assert!(
            matches!(r, Ok(()) | Err(ShardError::Stale)),
            "a repeated InstallShard(shard {shard}, num {}) returned {r:?}",
            cfg.num
        );
        let r = g.install_shard(shard, cfg.num - 1, old).await;
        assert_eq!(
            r,
            Err(ShardError::Stale),
            "InstallShard(shard {shard}, num {}) at a group that installed it at num {}",
            cfg.num - 1,
            cfg.num
        );
        for &i in &ids {
            ck.check_get(&keys[i], "new", 2).await;
        }
        sys.end();
    });
}

/// Ours: on a reliable network with a stable leader, a Put at the wrong
/// version is refused at its first attempt: the clerk must say
/// `ErrVersion` (surely not applied), not `ErrMaybe`, which it may say
/// only after a retry.
#[test]
fn put_version_5a() {
    run_test(|| async {
        let (sys, ck) =
            System::setup(&title("a refused Put says ErrVersion", "5A", true), Options::reliable())
                .await;
        let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
        for (k, v) in keys.iter().zip(&vals).take(5) {
            let r = ck.put(k, "late", 0).await;
            assert_eq!(
                r,
                Err(KvError::Version),
                "Put({k:?}, \"late\", 0) of a key at version 1, reliable network, stable \
                 leader: the first attempt was refused, so the clerk must return ErrVersion"
            );
            ck.check_get(k, v, 1).await;
        }
        let r = ck.put("never-written", "x", 3).await;
        assert_eq!(r, Err(KvError::NoKey), "Put(\"never-written\", \"x\", 3) of a missing key");
        sys.end();
    });
}

/// Ours: the group clerk's documented pause. For 1 s the group's leader
/// loses every Get (its sender learns at once) and the other two servers
/// answer "wrong leader": the clerk must pause `ROUND_PAUSE` (50 ms)
/// after each round of the three servers, and only then. A round is then
/// a little over 50 ms, about 55 requests a second; a clerk that never
/// pauses sends hundreds, one that pauses within a round about 30.
#[test]
fn round_pause_5a() {
    run_test(|| async {
        let (sys, ck) = System::setup(
            &title("the group clerk pauses between rounds", "5A", true),
            Options::reliable(),
        )
        .await;
        assert_eq!(ck.put("k", "1", 0).await, Ok(()));
        let leader = group_servers(GID1)[sys.leader(GID1).expect("a leader of gid 1")].clone();
        let count = Rc::new(Cell::new(0u32));
        let c = count.clone();
        let hook = network().add_hook(move |m| {
            if m.leg != Leg::Request || m.method != "shardgrp.get" {
                return Verdict::Deliver;
            }
            c.set(c.get() + 1);
            if m.server == leader {
                Verdict::Drop
            } else {
                Verdict::Deliver
            }
        });
        let ck = Rc::new(ck);
        let get = {
            let ck = ck.clone();
            task::spawn(async move { ck.check_get("k", "1", 1).await })
        };
        sleep(Duration::from_secs(1)).await;
        let sent = count.get();
        network().remove_hook(hook);
        println!("  {sent} Get requests in 1 s without the leader's answer");
        assert!(
            (40..=75).contains(&sent),
            "{sent} Get requests in 1 s without the leader's answer (want about 55): the \
             group clerk must pause ROUND_PAUSE after each round of the servers, and only then"
        );
        get.await.expect("client task");
        sys.end();
    });
}
