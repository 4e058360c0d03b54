// Part C: chunkserver failures, stale replicas, re-replication, partitions.

/// Chunkservers of the part C tests.
const NCS_C: usize = 6;

/// Waits (polling the master) until every listed chunk of `path` has
/// `REPLICAS` current replicas on live chunkservers, or fails after
/// `bound`. Returns how long it took.
async fn wait_replicated(c: &Cluster, path: &str, chunks: u64, bound: Duration, dead: &[usize]) -> Duration {
    let t0 = Instant::now();
    loop {
        let mut short = None;
        for index in 0..chunks {
            let loc = c.locations(path, index).await.expect("the chunk exists");
            let live = loc
                .replicas
                .iter()
                .filter(|r| !dead.contains(&c.index_of(r)))
                .count();
            if live < REPLICAS {
                short = Some((index, loc.replicas.clone()));
                break;
            }
        }
        match short {
            None => {
                // The master says so; the disks must agree.
                for index in 0..chunks {
                    c.current_copies(path, index, REPLICAS).await;
                }
                return t0.elapsed();
            }
            Some((index, replicas)) => assert!(
                t0.elapsed() < bound,
                "chunk {index} of {path:?} still has replicas {replicas:?} (dead: {dead:?}) \
                 {bound:?} after the crash: re-replicate chunks that lost a replica"
            ),
        }
        sleep(Duration::from_millis(100)).await;
    }
}

/// Writes of a chunk go on after one of its replicas crashes (once the
/// lease expires, without it); what was acknowledged stays readable; the
/// chunk is re-replicated within the bound.
#[test]
fn replica_crash_c() {
    run_test(|| async {
        let c = Cluster::new(NCS_C, true);
        let stats = Stats::begin("Test (C): a replica crashes during writes", NCS_C + 1);
        let ck = c.client();
        assert_eq!(ck.create("/f").await, Ok(()));
        let mut file = rand_bytes(2 * CHUNK_SIZE as usize);
        write_ok(&c, &ck, "/f", 0, &file).await;
        let loc = c.locations("/f", 0).await.expect("chunk 0");
        // Crash the primary of chunk 0 (the first replica the master names).
        let victim = c.index_of(&loc.replicas[0]);
        c.crash_chunkserver(victim);
        // The master's first clone request is lost: that clone failed, and
        // its destination must not be named a replica.
        let lost = Rc::new(std::cell::Cell::new(false));
        let l = lost.clone();
        let hook = labrpc::network().add_hook(move |m| {
            if m.method == "chunkserver.copy_chunk" && m.leg == labrpc::trace::Leg::Request && !l.replace(true) {
                return labrpc::Verdict::Drop;
            }
            labrpc::Verdict::Deliver
        });
        for k in 0..5u64 {
            let data = rand_bytes(3000);
            let off = k * 7000;
            write_ok(&c, &ck, "/f", off, &data).await;
            file[off as usize..off as usize + 3000].copy_from_slice(&data);
        }
        let fresh = c.client();
        read_expect(&c, &fresh, "/f", 0, &file).await;
        let took = wait_replicated(&c, "/f", 2, gfs::REREPLICATION_BOUND, &[victim]).await;
        labrpc::network().remove_hook(hook);
        assert!(lost.get(), "no chunk was cloned after a replica crashed");
        c.check_defined("/f", 0, &file, REPLICAS).await;
        println!("  re-replicated in {:.1} s", took.as_secs_f64());
        stats.end(c.ops());
    });
}

/// A replica that was down while the chunk was written under a new lease
/// is stale when it returns: the master never names it, no client reads
/// its old bytes, and it is deleted from its disk.
#[test]
fn stale_replica_c() {
    run_test(|| async {
        let c = Cluster::new(NCS_C, true);
        let stats = Stats::begin("Test (C): stale replicas", NCS_C + 1);
        let ck = c.client();
        assert_eq!(ck.create("/s").await, Ok(()));
        let old = rand_bytes(4000);
        write_ok(&c, &ck, "/s", 0, &old).await;
        let loc = c.locations("/s", 0).await.expect("chunk 0");
        let victim = c.index_of(&loc.replicas[1]);
        c.crash_chunkserver(victim);
        let new = rand_bytes(4000);
        write_ok(&c, &ck, "/s", 0, &new).await;
        c.restart_chunkserver(victim);
        // Give the master two heartbeats to hear of the stale replica.
        sleep(gfs::HEARTBEAT_INTERVAL * 3).await;
        for _ in 0..10 {
            let r = c.client();
            read_expect(&c, &r, "/s", 0, &new).await;
            // Every replica the master names holds the current version.
            c.current_copies("/s", 0, 1).await;
        }
        let stale = c.copies(loc.handle).into_iter().find(|(i, _)| *i == victim);
        if let Some((_, chunk)) = stale {
            let cur = c.locations("/s", 0).await.expect("chunk 0");
            assert!(
                chunk.version == cur.version && chunk.data.get(..4000) == Some(&new[..]),
                "cs-{victim} still holds its stale replica (version {}, current {}) after the \
                 master heard from it: stale replicas are garbage",
                chunk.version,
                cur.version
            );
        }
        stats.end(c.ops());
    });
}

/// Two chunkservers die: every chunk is back to three live replicas within
/// the bound, those that lost two replicas included; a deleted file's
/// chunks are collected from every disk.
#[test]
fn rereplication_c() {
    run_test(|| async {
        let c = Cluster::new(NCS_C, true);
        let stats = Stats::begin("Test (C): re-replication and garbage collection", NCS_C + 1);
        let ck = c.client();
        assert_eq!(ck.create("/r").await, Ok(()));
        assert_eq!(ck.create("/gone").await, Ok(()));
        let data = rand_bytes(5 * CHUNK_SIZE as usize);
        write_ok(&c, &ck, "/r", 0, &data).await;
        write_ok(&c, &ck, "/gone", 0, &rand_bytes(2 * CHUNK_SIZE as usize)).await;
        let gone = [
            c.locations("/gone", 0).await.expect("chunk").handle,
            c.locations("/gone", 1).await.expect("chunk").handle,
        ];
        assert_eq!(ck.delete("/gone").await, Ok(()));
        let loc = c.locations("/r", 0).await.expect("chunk 0");
        let dead = [c.index_of(&loc.replicas[0]), c.index_of(&loc.replicas[1])];
        for d in dead {
            c.crash_chunkserver(d);
        }
        wait_replicated(&c, "/r", 5, gfs::REREPLICATION_BOUND, &dead).await;
        let fresh = c.client();
        read_expect(&c, &fresh, "/r", 0, &data).await;
        for h in gone {
            let left: Vec<usize> = c
                .copies(h)
                .into_iter()
                .map(|(i, _)| i)
                .filter(|i| !dead.contains(i))
                .collect();
            assert!(
                left.is_empty(),
                "chunk {h} of a deleted file is still on {left:?} seconds later: collect garbage"
            );
        }
        // The writer's cached locations of chunk 0 name only dead
        // chunkservers once its third first replica crashes too: its read
        // must ask the master again and find the new replicas.
        c.crash_chunkserver(c.index_of(&loc.replicas[2]));
        read_expect(&c, &ck, "/r", 0, &data[..CHUNK_SIZE as usize]).await;
        stats.end(c.ops());
    });
}

/// A client cut off from a chunk's primary cannot write it: its write
/// fails (or succeeds late), never corrupting what others wrote; clients
/// that can reach the primary go on; once healed, the cut-off client
/// writes again.
#[test]
fn partition_c() {
    run_test(|| async {
        let c = Cluster::new(NCS_C, true);
        let stats = Stats::begin("Test (C): a client partitioned from the primary", NCS_C + 1);
        let (cut, cut_node) = c.client_on_node();
        let other = c.client();
        assert_eq!(other.create("/p").await, Ok(()));
        let base = rand_bytes(10_000);
        write_ok(&c, &other, "/p", 0, &base).await;
        write_ok(&c, &cut, "/p", 20_000, b"cached").await;
        let lease = c.locations("/p", 0).await.expect("chunk 0");
        let net = labrpc::network();
        for r in &lease.replicas {
            net.cut(cut_node, c.chunkserver_node(c.index_of(r)));
            net.cut(c.chunkserver_node(c.index_of(r)), cut_node);
        }
        let failing = task::spawn(async move {
            let r = cut.write("/p", 0, &rand_bytes(10_000)).await;
            (cut, r)
        });
        let mut mine = rand_bytes(3000);
        for k in 0..5 {
            mine = rand_bytes(3000);
            write_ok(&c, &other, "/p", 30_000 + k, &mine).await;
        }
        let (cut, r) = failing.await.expect("cut-off writer");
        assert!(
            r.is_err(),
            "a write by a client cut off from every replica returned {r:?}"
        );
        c.check_defined("/p", 0, &base, REPLICAS).await;
        c.check_defined("/p", 30_004, &mine, REPLICAS).await;
        net.heal();
        let late = rand_bytes(500);
        write_ok(&c, &cut, "/p", 40_000, &late).await;
        c.check_defined("/p", 40_000, &late, REPLICAS).await;
        stats.end(c.ops());
    });
}

/// Appends go on while chunkservers crash and restart one at a time (a
/// minority of every chunk's replicas): no acknowledged record is lost.
#[test]
fn appends_through_crashes_c() {
    run_test(|| async {
        let c = Cluster::new(NCS_C, true);
        let stats = Stats::begin("Test (C): appends while chunkservers crash", NCS_C + 1);
        let setup = c.client();
        assert_eq!(setup.create("/a").await, Ok(()));
        let log = Rc::new(harness::Appends::default());
        let done = Rc::new(std::cell::Cell::new(false));
        let tasks: Vec<_> = (0..3)
            .map(|me| {
                let (c, log, done) = (c.clone(), log.clone(), done.clone());
                let ck = c.client();
                task::spawn(async move {
                    let mut k = 0;
                    while !done.get() {
                        let tag = format!("c{me}r{k}:");
                        harness::append_logged(&c, &ck, "/a", &log, &tag, 2000).await;
                        k += 1;
                    }
                })
            })
            .collect();
        for round in 0..4 {
            let victim = labrpc::rand::gen_range(0..NCS_C);
            sleep(Duration::from_millis(700)).await;
            c.crash_chunkserver(victim);
            sleep(Duration::from_millis(labrpc::rand::gen_range(300..1500))).await;
            c.restart_chunkserver(victim);
            let _ = round;
        }
        done.set(true);
        for t in tasks {
            t.await.expect("appender");
        }
        assert!(
            log.acked.borrow().len() >= 10,
            "only {} appends succeeded while one chunkserver at a time was down",
            log.acked.borrow().len()
        );
        sleep(gfs::REREPLICATION_BOUND).await;
        c.check_appends(&setup, "/a", &log, REPLICAS - 1).await;
        stats.end(c.ops());
    });
}

/// A mutation the old primary ordered under the old version reaches a
/// secondary only after the master has given the chunk a new version (the
/// grader holds it back, shorter than the primary waits): the secondary,
/// now at the new version, must refuse it. Applied, it would carry the old
/// serial number into the new lease and the secondary would skip the next
/// write as a duplicate, holding other bytes than its peers at the same
/// version.
#[test]
fn late_apply_c() {
    run_test(|| async {
        let c = Cluster::new(NCS_C, true);
        let stats = Stats::begin("Test (C): a mutation of an old lease arrives late", NCS_C + 1);
        let (ck, other) = (c.client(), c.client());
        assert_eq!(ck.create("/v").await, Ok(()));
        // The master grants the first lease during the first write: it ends
        // 1 s after (a few ms before) the write returns.
        write_ok(&c, &ck, "/v", 0, &rand_bytes(3000)).await;
        let t0 = Instant::now();
        for _ in 0..3 {
            write_ok(&c, &ck, "/v", 0, &rand_bytes(3000)).await;
        }
        let handle = c.locations("/v", 0).await.expect("chunk 0").handle;
        let old_lease = c.lease(handle).await;
        let late = c.chunkserver_node(c.index_of(&old_lease.secondaries[0]));
        // Well inside the lease, 250 ms before it ends: the next write is
        // ordered under it, and its apply to that secondary is held.
        sleep((t0 + LEASE_DURATION - Duration::from_millis(250)).saturating_duration_since(Instant::now())).await;
        let net = labrpc::network();
        let filter = labrpc::net::Filter::new()
            .method("chunkserver.apply")
            .to(late)
            .leg(labrpc::trace::Leg::Request);
        let hold = net.hold_first(filter, 1);
        let writer = task::spawn(async move { ck.write("/v", 0, &rand_bytes(3000)).await });
        let t_held = Instant::now();
        while net.held(hold) == 0 {
            assert!(t_held.elapsed() < Duration::from_millis(100), "the write sent no apply to the secondary");
            sleep(Duration::from_millis(1)).await;
        }
        // The lease expires; the master gives the chunk a new version.
        let new_lease = loop {
            let l = c.lease(handle).await;
            if l.version > old_lease.version {
                break l;
            }
            sleep(Duration::from_millis(10)).await;
        };
        let held_for = t_held.elapsed();
        assert_eq!(net.remove_hold(hold), 1, "the held apply was given up before the new lease");
        let _ = writer.await.expect("writer");
        c.op();
        let new = rand_bytes(3000);
        write_ok(&c, &other, "/v", 0, &new).await;
        c.check_defined("/v", 0, &new, REPLICAS).await;
        println!(
            "  old version {} held for {} ms until version {}",
            old_lease.version,
            held_for.as_millis(),
            new_lease.version
        );
        stats.end(c.ops());
    });
}

/// The chunks of `/one` (6 of them, created first) and `/two` (2), with
/// how many of their replicas are on `dead`: (path, index, lost).
async fn losses(c: &Cluster, dead: &[usize]) -> Vec<(&'static str, u64, usize)> {
    let mut out = Vec::new();
    for (path, n) in [("/one", 6), ("/two", 2)] {
        for index in 0..n {
            let loc = c.locations(path, index).await.expect("the chunk exists");
            let lost = loc
                .replicas
                .iter()
                .filter(|r| dead.contains(&c.index_of(r)))
                .count();
            out.push((path, index, lost));
        }
    }
    out
}

/// Live replicas of a chunk as the master names them now, if it answers.
async fn live_now(c: &Cluster, path: &str, index: u64, dead: &[usize]) -> Option<usize> {
    let loc = c.locations_once(path, index).await?;
    Some(
        loc.replicas
            .iter()
            .filter(|r| !dead.contains(&c.index_of(r)))
            .count(),
    )
}

/// Three chunkservers die at once, so some chunks lose two replicas and
/// others one: while a chunk that lost two has a single live replica, no
/// chunk that lost one is brought back to three (the paper: the chunks
/// that lost more replicas first). A chunk is given 30 ms of grace for
/// clones already under way.
#[test]
fn rereplication_priority_c() {
    run_test(|| async {
        let c = Cluster::new(NCS_C, true);
        let stats = Stats::begin("Test (C): re-replication by priority", NCS_C + 1);
        let ck = c.client();
        for (path, n) in [("/one", 6), ("/two", 2)] {
            assert_eq!(ck.create(path).await, Ok(()));
            write_ok(&c, &ck, path, 0, &rand_bytes(n * CHUNK_SIZE as usize)).await;
        }
        // Two replicas of one chunk die, and one of a chunk that kept all.
        let loc = c.locations("/two", 0).await.expect("chunk 0");
        let mut dead = vec![c.index_of(&loc.replicas[0]), c.index_of(&loc.replicas[1])];
        let (path, index, _) = *losses(&c, &dead)
            .await
            .iter()
            .find(|l| l.2 == 0)
            .expect("the placement spreads chunks over more than three chunkservers");
        let other = c.locations(path, index).await.expect("the chunk exists");
        dead.push(c.index_of(&other.replicas[0]));
        let chunks = losses(&c, &dead).await;
        assert!(
            chunks.iter().any(|l| l.2 == 1),
            "setup: no chunk lost exactly one replica ({chunks:?})"
        );
        for &d in &dead {
            c.crash_chunkserver(d);
        }
        let t0 = Instant::now();
        let mut restored = 0;
        while t0.elapsed() < gfs::REREPLICATION_BOUND {
            let mut live = Vec::new();
            for &(path, index, lost) in &chunks {
                live.push((path, index, lost, live_now(&c, path, index, &dead).await));
            }
            let back = live.iter().find(|(_, _, lost, n)| *lost == 1 && *n == Some(REPLICAS));
            let waiting = live.iter().find(|(_, _, lost, n)| *lost == 2 && *n == Some(1));
            if let (Some(&(bp, bi, _, _)), Some(&(wp, wi, _, _))) = (back, waiting) {
                sleep(Duration::from_millis(30)).await;
                assert!(
                    live_now(&c, wp, wi, &dead).await != Some(1),
                    "chunk {wi} of {wp:?} lost two of its replicas and still has one, while \
                     chunk {bi} of {bp:?}, which lost one, is back to {REPLICAS}: re-replicate \
                     the chunks that lost more replicas first"
                );
            }
            restored = live.iter().filter(|l| l.3 == Some(REPLICAS)).count();
            if restored == chunks.len() {
                break;
            }
            sleep(Duration::from_millis(10)).await;
        }
        wait_replicated(&c, "/one", 6, gfs::REREPLICATION_BOUND, &dead).await;
        wait_replicated(&c, "/two", 2, gfs::REREPLICATION_BOUND, &dead).await;
        let lost: Vec<usize> = chunks.iter().map(|l| l.2).collect();
        println!("  replicas lost per chunk: {lost:?}; {restored} restored in the loop");
        stats.end(c.ops());
    });
}

/// A replica that missed a new version (it was down when the master
/// granted a lease) must refuse a read at the current version: the
/// chunkserver's own check against stale reads. The grader asks it
/// directly after its restart, before its first heartbeat (held) has told
/// the master.
#[test]
fn stale_read_refused_c() {
    run_test(|| async {
        let c = Cluster::new(NCS_C, true);
        let stats = Stats::begin("Test (C): a stale replica refuses reads", NCS_C + 1);
        let ck = c.client();
        assert_eq!(ck.create("/t").await, Ok(()));
        write_ok(&c, &ck, "/t", 0, &rand_bytes(2000)).await;
        let loc = c.locations("/t", 0).await.expect("chunk 0");
        let victim = c.index_of(&loc.replicas[1]);
        c.crash_chunkserver(victim);
        write_ok(&c, &ck, "/t", 0, &rand_bytes(2000)).await;
        let net = labrpc::network();
        let beats = labrpc::net::Filter::new()
            .method("master.heartbeat")
            .from(c.chunkserver_node(victim));
        let beats = net.hold(beats);
        c.restart_chunkserver(victim);
        let cur = c.locations("/t", 0).await.expect("chunk 0");
        let stale = c.copies(loc.handle).into_iter().find(|(i, _)| *i == victim);
        let stale = stale.map_or(0, |(_, chunk)| chunk.version);
        assert!(
            stale < cur.version,
            "cs-{victim} holds version {stale}, not older than the current {}, though it was down during a write",
            cur.version
        );
        let end = net.end_to(labrpc::NodeId::TESTER, &loc.replicas[1]);
        let args = ReadArgs {
            handle: cur.handle,
            version: cur.version,
            offset: 0,
            len: 2000,
        };
        let r = chunkserver::Client::new(end).read(&args).await;
        net.remove_hold(beats);
        c.op();
        assert!(
            matches!(r, Ok(Err(_))),
            "cs-{victim} holds version {stale} of chunk {} and was asked for version {}: it answered {} instead of refusing (StaleVersion)",
            cur.handle,
            cur.version,
            match &r {
                Ok(Ok(data)) => format!("{} bytes of its stale data", data.len()),
                other => format!("{other:?}"),
            }
        );
        stats.end(c.ops());
    });
}

/// Every replica of a chunk crashes after its lease expired, and a client
/// writes it at once (the master still thinks them alive): the master's
/// announcement of a new lease reaches none of them. The write fails
/// (`Unavailable`), the master keeps serving, and once the replicas are
/// back the chunk is written again.
#[test]
fn all_replicas_down_c() {
    run_test(|| async {
        let c = Cluster::new(NCS_C, true);
        let stats = Stats::begin("Test (C): every replica of a chunk down", NCS_C + 1);
        let ck = c.client();
        assert_eq!(ck.create("/a").await, Ok(()));
        write_ok(&c, &ck, "/a", 0, &rand_bytes(2000)).await;
        let loc = c.locations("/a", 0).await.expect("chunk 0");
        sleep(LEASE_DURATION * 2).await;
        let down: Vec<usize> = loc.replicas.iter().map(|r| c.index_of(r)).collect();
        for &i in &down {
            c.crash_chunkserver(i);
        }
        let r = ck.write("/a", 0, &rand_bytes(2000)).await;
        c.op();
        assert!(r.is_err(), "a write of a chunk whose replicas are all down returned {r:?}");
        for &i in &down {
            c.restart_chunkserver(i);
        }
        let data = rand_bytes(2000);
        write_ok(&c, &ck, "/a", 0, &data).await;
        read_expect(&c, &c.client(), "/a", 0, &data).await;
        c.check_defined("/a", 0, &data, 1).await;
        stats.end(c.ops());
    });
}
