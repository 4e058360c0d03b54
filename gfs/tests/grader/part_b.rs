// Part B: record append.

/// Chunkservers of the part B tests.
const NCS_B: usize = 5;

/// A record of a random size that fits once framed.
fn record_len_b() -> usize {
    labrpc::rand::gen_range(50..(gfs::MAX_RECORD as usize - gfs::record::HEADER))
}

/// One client's appends: each returns an offset where the record is
/// intact on every replica; records never straddle chunks (the chunk is
/// padded instead); reading the file gives exactly the records, in order.
#[test]
fn append_basic_b() {
    run_test(|| async {
        let c = Cluster::new(NCS_B, true);
        let stats = Stats::begin("Test (B): record append, one client", NCS_B + 1);
        let ck = c.client();
        assert_eq!(ck.create("/log").await, Ok(()));
        let log = harness::Appends::default();
        let mut last = None;
        for k in 0..40 {
            let len = record_len_b();
            let off = harness::append_logged(&c, &ck, "/log", &log, &format!("r{k}:"), len)
                .await
                .unwrap_or_else(|| panic!("append {k} failed on a reliable network"));
            let end = off + (gfs::record::HEADER + len) as u64;
            assert!(
                off / CHUNK_SIZE == (end - 1) / CHUNK_SIZE,
                "the record appended at {off} ({len} bytes + header) straddles a chunk boundary: \
                 pad the chunk and append to the next"
            );
            if let Some(prev) = last {
                assert!(off > prev, "append {k} landed at {off}, before the previous ({prev})");
            }
            last = Some(off);
        }
        assert!(
            last.unwrap() >= CHUNK_SIZE,
            "40 records of up to a quarter chunk should fill more than one chunk"
        );
        c.check_appends(&ck, "/log", &log, REPLICAS).await;
        // A chunk is padded only for a record that does not fit, at most a
        // quarter chunk: every full chunk holds three quarters of records.
        let framed: u64 = log.acked.borrow().iter().map(|(_, r)| (gfs::record::HEADER + r.len()) as u64).sum();
        let most = framed / (CHUNK_SIZE - gfs::MAX_RECORD) + 1;
        let chunks = c.chunk_count("/log").await.expect("chunk_count");
        assert!(
            chunks <= most,
            "40 records ({framed} bytes framed) take {chunks} chunks, more than {most}: the primary pads a chunk only when the record does not fit in it"
        );
        let read = ck.read_records("/log").await.expect("read_records");
        let want: Vec<Vec<u8>> = log.acked.borrow().iter().map(|(_, r)| r.clone()).collect();
        assert!(
            read == want,
            "read_records returned {} records; expected the {} appended, in order, once each \
             (reliable network: no retries)",
            read.len(),
            want.len()
        );
        stats.end(c.ops());
    });
}

/// A record whose frame exceeds a quarter chunk is refused; one that just
/// fits is appended.
#[test]
fn append_limit_b() {
    run_test(|| async {
        let c = Cluster::new(NCS_B, true);
        let stats = Stats::begin("Test (B): the largest record", NCS_B + 1);
        let ck = c.client();
        assert_eq!(ck.create("/big").await, Ok(()));
        let max = gfs::MAX_RECORD as usize - gfs::record::HEADER;
        assert_eq!(
            ck.append("/big", &rand_bytes(max + 1)).await,
            Err(GfsError::OutOfRange),
            "a record larger than MAX_RECORD once framed"
        );
        let log = harness::Appends::default();
        for k in 0..6 {
            harness::append_logged(&c, &ck, "/big", &log, &format!("{k}"), max)
                .await
                .expect("a record of exactly MAX_RECORD framed");
        }
        c.check_appends(&ck, "/big", &log, REPLICAS).await;
        stats.end(c.ops());
    });
}

/// Many clients append to one file at once: every acknowledged record is
/// intact at its own offset on every replica, and no two overlap.
#[test]
fn append_many_b() {
    run_test(|| async {
        let c = Cluster::new(NCS_B, true);
        let stats = Stats::begin("Test (B): concurrent record appends", NCS_B + 1);
        let setup = c.client();
        assert_eq!(setup.create("/clog").await, Ok(()));
        let log = Rc::new(harness::Appends::default());
        let tasks: Vec<_> = (0..5)
            .map(|me| {
                let (c, log) = (c.clone(), log.clone());
                let ck = c.client();
                task::spawn(async move {
                    for k in 0..15 {
                        let tag = format!("c{me}r{k}:");
                        let r = harness::append_logged(&c, &ck, "/clog", &log, &tag, record_len_b());
                        assert!(r.await.is_some(), "client {me}: append {k} failed");
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("appender");
        }
        c.check_appends(&setup, "/clog", &log, REPLICAS).await;
        stats.end(c.ops());
    });
}

/// Appends on an unreliable network: retried appends leave duplicates and
/// the remains of failed attempts, yet every acknowledged record is intact
/// at its offset on every replica, and readers see only real records.
#[test]
fn append_unreliable_b() {
    run_test(|| async {
        let c = Cluster::new(NCS_B, false);
        let stats = Stats::begin("Test (B): record append, unreliable network", NCS_B + 1);
        let setup = c.client();
        create_maybe(&setup, "/ulog").await;
        let log = Rc::new(harness::Appends::default());
        let tasks: Vec<_> = (0..4)
            .map(|me| {
                let (c, log) = (c.clone(), log.clone());
                let ck = c.client();
                task::spawn(async move {
                    for k in 0..12 {
                        let tag = format!("c{me}r{k}:");
                        harness::append_logged(&c, &ck, "/ulog", &log, &tag, record_len_b() / 4)
                            .await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("appender");
        }
        assert!(
            log.acked.borrow().len() >= 24,
            "only {} of 48 appends succeeded on an unreliable network: a client retries a \
             failed append for MUTATION_TIMEOUT",
            log.acked.borrow().len()
        );
        // Lost announcements may leave a chunk with fewer replicas for a
        // while; once the leases expire the master re-replicates it.
        sleep(gfs::REREPLICATION_BOUND).await;
        c.check_appends(&setup, "/ulog", &log, REPLICAS).await;
        stats.end(c.ops());
    });
}
