// Part D: the master crashes and restarts.

/// Chunkservers of the part D tests.
const NCS_D: usize = 5;

/// A create, a write's new chunk, an append: each acknowledged just before
/// the master crashes, and each there after it restarts (the operation log
/// is persisted before the reply).
#[test]
fn log_then_reply_d() {
    run_test(|| async {
        let c = Cluster::new(NCS_D, true);
        let stats = Stats::begin("Test (D): the operation log is written before replying", NCS_D + 1);
        let ck = c.client();
        let mut files = Vec::new();
        for k in 0..4 {
            let p = format!("/d{k}");
            assert_eq!(ck.create(&p).await, Ok(()));
            files.push(p.clone());
            c.crash_master();
            c.restart_master();
            assert_eq!(
                ck.list("/d").await,
                files,
                "files acknowledged before the master crashed are missing after its restart"
            );
        }
        let data = rand_bytes(2 * CHUNK_SIZE as usize + 10);
        write_ok(&c, &ck, "/d0", 0, &data).await;
        c.crash_master();
        c.restart_master();
        // Time for every chunkserver to report to the new master.
        sleep(gfs::HEARTBEAT_INTERVAL * 3).await;
        let fresh = c.client();
        read_expect(&c, &fresh, "/d0", 0, &data).await;
        c.check_defined("/d0", 0, &data, REPLICAS).await;
        assert_eq!(ck.delete("/d1").await, Ok(()));
        c.crash_master();
        c.restart_master();
        assert_eq!(
            fresh.list("/d").await,
            vec!["/d0", "/d2", "/d3"],
            "a delete acknowledged before the crash is undone after the restart"
        );
        stats.end(c.ops());
    });
}

/// The restarted master rebuilds where chunks are from the chunkservers'
/// reports, and remembers versions: a replica that went stale before the
/// master crashed is still stale after.
#[test]
fn versions_survive_d() {
    run_test(|| async {
        let c = Cluster::new(NCS_D, true);
        let stats = Stats::begin("Test (D): versions survive a master restart", NCS_D + 1);
        let ck = c.client();
        assert_eq!(ck.create("/v").await, Ok(()));
        write_ok(&c, &ck, "/v", 0, &rand_bytes(3000)).await;
        let loc = c.locations("/v", 0).await.expect("chunk 0");
        let victim = c.index_of(&loc.replicas[2]);
        c.crash_chunkserver(victim);
        let new = rand_bytes(3000);
        write_ok(&c, &ck, "/v", 0, &new).await;
        c.crash_master();
        c.restart_master();
        c.restart_chunkserver(victim);
        sleep(gfs::HEARTBEAT_INTERVAL * 3).await;
        for _ in 0..10 {
            let r = c.client();
            read_expect(&c, &r, "/v", 0, &new).await;
            c.current_copies("/v", 0, 1).await;
        }
        stats.end(c.ops());
    });
}

/// Clients append and write while the master crashes and restarts again
/// and again: their operations retry through it, and nothing acknowledged
/// is lost.
#[test]
fn master_restarts_d() {
    run_test(|| async {
        let c = Cluster::new(NCS_D, true);
        let stats = Stats::begin("Test (D): clients through master restarts", NCS_D + 1);
        let setup = c.client();
        assert_eq!(setup.create("/m").await, Ok(()));
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
                        harness::append_logged(&c, &ck, "/m", &log, &tag, 3000).await;
                        let p = format!("/m-{me}-{k}");
                        let r = ck.create(&p).await;
                        c.op();
                        assert!(
                            matches!(r, Ok(()) | Err(GfsError::Exists)),
                            "create({p:?}) returned {r:?}"
                        );
                        k += 1;
                    }
                    k
                })
            })
            .collect();
        for _ in 0..3 {
            sleep(Duration::from_millis(labrpc::rand::gen_range(300..1200))).await;
            c.crash_master();
            sleep(Duration::from_millis(labrpc::rand::gen_range(100..1000))).await;
            c.restart_master();
        }
        // Time for the restarted master to grant leases again.
        sleep(Duration::from_secs(2)).await;
        done.set(true);
        let mut made = Vec::new();
        for (me, t) in tasks.into_iter().enumerate() {
            let n = t.await.expect("client");
            made.extend((0..n).map(|k| format!("/m-{me}-{k}")));
        }
        made.sort();
        let listed = setup.list("/m-").await;
        assert!(
            listed == made,
            "after the restarts the master lists {} files; the clients created {}",
            listed.len(),
            made.len()
        );
        assert!(
            log.acked.borrow().len() >= 6,
            "only {} appends succeeded across three master restarts and 2 s after",
            log.acked.borrow().len()
        );
        c.check_appends(&setup, "/m", &log, REPLICAS - 1).await;
        stats.end(c.ops());
    });
}

/// After a master restart (replaying its log), a new file's chunk gets a
/// handle of its own: the old file's data is untouched by writes to the
/// new one.
#[test]
fn new_handle_after_restart_d() {
    run_test(|| async {
        let c = Cluster::new(NCS_D, true);
        let stats = Stats::begin("Test (D): chunk handles after a master restart", NCS_D + 1);
        let ck = c.client();
        assert_eq!(ck.create("/old").await, Ok(()));
        let old = rand_bytes(2000);
        write_ok(&c, &ck, "/old", 0, &old).await;
        c.crash_master();
        c.restart_master();
        let fresh = c.client();
        assert_eq!(fresh.create("/new").await, Ok(()));
        let new = rand_bytes(2000);
        write_ok(&c, &fresh, "/new", 0, &new).await;
        let (a, b) = (c.locations("/old", 0).await, c.locations("/new", 0).await);
        let (a, b) = (a.expect("chunk 0 of /old"), b.expect("chunk 0 of /new"));
        assert!(
            a.handle != b.handle,
            "after a master restart, chunk 0 of \"/new\" got handle {}, which chunk 0 of \"/old\" has: the next handle must be above every handle in the log",
            b.handle
        );
        read_expect(&c, &c.client(), "/old", 0, &old).await;
        read_expect(&c, &c.client(), "/new", 0, &new).await;
        stats.end(c.ops());
    });
}
