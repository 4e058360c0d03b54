// Part A: the namespace, reads and writes, leases and versions.

/// Chunkservers of the part A tests.
const NCS_A: usize = 5;

/// Writes and checks that the write returned `Ok`.
async fn write_ok(c: &Cluster, ck: &Client, path: &str, offset: u64, data: &[u8]) {
    let r = ck.write(path, offset, data).await;
    c.op();
    assert_eq!(
        r,
        Ok(()),
        "write({path:?}, offset {offset}, {} bytes) failed",
        data.len()
    );
}

/// Reads and checks that the read returned `expected`.
async fn read_expect(c: &Cluster, ck: &Client, path: &str, offset: u64, expected: &[u8]) {
    let got = ck.read(path, offset, expected.len() as u64).await;
    c.op();
    match got {
        Ok(g) => assert!(
            g == expected,
            "read({path:?}, offset {offset}, {} bytes) returned {} bytes that differ from what \
             was written{}",
            expected.len(),
            g.len(),
            harness::describe_diff(Some(&g), expected)
        ),
        Err(e) => panic!("read({path:?}, offset {offset}) failed: {e}"),
    }
}

/// Creates a file on an unreliable network: `Exists` is fine too (a
/// retried create whose first attempt created it).
async fn create_maybe(ck: &Client, path: &str) {
    let r = ck.create(path).await;
    assert!(
        matches!(r, Ok(()) | Err(GfsError::Exists)),
        "create({path:?}) of a new file returned {r:?}"
    );
}

/// Create, list, delete, and their errors.
#[test]
fn namespace_a() {
    run_test(|| async {
        let c = Cluster::new(NCS_A, true);
        let stats = Stats::begin("Test (A): namespace: create, list, delete", NCS_A + 1);
        let ck = c.client();
        for p in ["/logs/b", "/logs/a", "/data/x"] {
            assert_eq!(ck.create(p).await, Ok(()), "create({p:?}) of a new file");
        }
        assert_eq!(
            ck.create("/logs/a").await,
            Err(GfsError::Exists),
            "create of an existing file"
        );
        assert_eq!(ck.list("/logs/").await, vec!["/logs/a", "/logs/b"]);
        assert_eq!(ck.list("").await, vec!["/data/x", "/logs/a", "/logs/b"]);
        assert_eq!(ck.delete("/logs/a").await, Ok(()), "delete of a file");
        assert_eq!(
            ck.delete("/logs/a").await,
            Err(GfsError::NotFound),
            "delete of a deleted file"
        );
        assert_eq!(ck.list("/logs").await, vec!["/logs/b"]);
        assert_eq!(
            ck.write("/nope", 0, b"x").await,
            Err(GfsError::NotFound),
            "write to a missing file"
        );
        assert_eq!(
            ck.read("/nope", 0, 1).await,
            Err(GfsError::NotFound),
            "read of a missing file"
        );
        assert_eq!(
            ck.read("/data/x", 0, 10).await,
            Ok(Vec::new()),
            "read of an empty file"
        );
        assert_eq!(ck.create("/logs/a").await, Ok(()), "create after delete");
        assert_eq!(
            ck.read("/logs/a", 0, 10).await,
            Ok(Vec::new()),
            "a file created again starts empty"
        );
        for _ in 0..10 {
            c.op();
        }
        stats.end(c.ops());
    });
}

/// Serial writes (within a chunk, across a chunk boundary, overwriting)
/// leave the region defined: read back by another client and found on
/// every replica's disk, with every replica at the master's version.
#[test]
fn read_write_a() {
    run_test(|| async {
        let c = Cluster::new(NCS_A, true);
        let stats = Stats::begin("Test (A): serial writes are defined", NCS_A + 1);
        let (w, r) = (c.client(), c.client());
        assert_eq!(w.create("/f").await, Ok(()));
        let mut file = vec![0u8; 0];
        let writes: [(u64, usize); 5] = [
            (0, 1000),
            (500, 3000),
            (CHUNK_SIZE - 700, 2000),
            (2 * CHUNK_SIZE + 10, 5000),
            (100, 20),
        ];
        for (offset, len) in writes {
            let data = rand_bytes(len);
            write_ok(&c, &w, "/f", offset, &data).await;
            let end = offset as usize + len;
            if file.len() < end {
                file.resize(end, 0);
            }
            file[offset as usize..end].copy_from_slice(&data);
            read_expect(&c, &w, "/f", offset, &data).await;
            read_expect(&c, &r, "/f", offset, &data).await;
            c.check_defined("/f", offset, &data, REPLICAS).await;
        }
        // The whole of each chunk written so far, on every replica.
        read_expect(&c, &r, "/f", 0, &file[..CHUNK_SIZE as usize + 1300]).await;
        c.check_defined("/f", 0, &file[..CHUNK_SIZE as usize + 1300], REPLICAS)
            .await;
        assert_eq!(
            c.chunk_count("/f").await,
            Ok(3),
            "the master's chunk_count of \"/f\", written up to byte {} (chunks of {CHUNK_SIZE} bytes)",
            file.len()
        );
        stats.end(c.ops());
    });
}

/// Concurrent writes of one region by many clients leave it consistent:
/// every replica holds the same bytes, those of one of the writes (per
/// chunk: a write across a boundary is two mutations).
#[test]
fn concurrent_writes_a() {
    run_test(|| async {
        let c = Cluster::new(NCS_A, true);
        let stats = Stats::begin("Test (A): concurrent writes are consistent", NCS_A + 1);
        let setup = c.client();
        assert_eq!(setup.create("/shared").await, Ok(()));
        let (offset, len) = (CHUNK_SIZE - 3000, 6000usize);
        for round in 0..3 {
            let written: Rc<RefCell<Vec<Vec<u8>>>> = Rc::default();
            let tasks: Vec<_> = (0..5)
                .map(|_| {
                    let c = c.clone();
                    let written = written.clone();
                    let ck = c.client();
                    task::spawn(async move {
                        for _ in 0..3 {
                            let data = rand_bytes(len);
                            written.borrow_mut().push(data.clone());
                            write_ok(&c, &ck, "/shared", offset, &data).await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.expect("writer");
            }
            let written = written.borrow().clone();
            for index in [0u64, 1] {
                let (_, copies) = c.current_copies("/shared", index, REPLICAS).await;
                let (lo, hi) = if index == 0 {
                    (offset as usize, CHUNK_SIZE as usize)
                } else {
                    (0, offset as usize + len - CHUNK_SIZE as usize)
                };
                let first = &copies[0].1.data[lo..hi];
                for (i, chunk) in &copies[1..] {
                    assert!(
                        &chunk.data[lo..hi] == first,
                        "round {round}: after concurrent writes, chunk {index} differs between \
                         cs-{} and cs-{i}: the replicas applied the writes in different orders \
                         (inconsistent){}",
                        copies[0].0,
                        harness::describe_diff(Some(&chunk.data[lo..hi]), first)
                    );
                }
                let from_one = written.iter().any(|w| {
                    let piece = &w[lo + index as usize * CHUNK_SIZE as usize - offset as usize..];
                    first == &piece[..hi - lo]
                });
                assert!(
                    from_one,
                    "round {round}: chunk {index} of the region holds bytes no single write wrote"
                );
            }
        }
        stats.end(c.ops());
    });
}

/// The client asks the master once per chunk and caches: repeated reads
/// of a three-chunk file cost three lookups, and each read goes to one
/// replica.
#[test]
fn master_involvement_a() {
    run_test(|| async {
        let c = Cluster::new(NCS_A, true);
        let stats = Stats::begin("Test (A): clients cache chunk locations", NCS_A + 1);
        let w = c.client();
        assert_eq!(w.create("/big").await, Ok(()));
        let data = rand_bytes(3 * CHUNK_SIZE as usize);
        write_ok(&c, &w, "/big", 0, &data).await;
        let r = c.client();
        let lookups0 = c.count("master.find_chunk");
        let reads0 = c.count("chunkserver.read");
        let n = 20;
        for k in 0..n {
            let off = (k * 9973) % (3 * CHUNK_SIZE - 100);
            read_expect(&c, &r, "/big", off, &data[off as usize..off as usize + 100]).await;
        }
        let lookups = c.count("master.find_chunk") - lookups0;
        let reads = c.count("chunkserver.read") - reads0;
        assert!(
            lookups <= 3,
            "{n} reads of a 3-chunk file asked the master {lookups} times; a client asks once \
             per chunk and caches the answer"
        );
        assert!(
            reads <= 2 * n,
            "{n} reads (each within one or two chunks) sent {reads} read requests: read from \
             one replica, not all"
        );
        stats.end(c.ops());
    });
}

/// Data flows from the client to every replica once: one push per replica
/// per write, one write request to the primary, none to secondaries.
#[test]
fn data_flow_a() {
    run_test(|| async {
        let c = Cluster::new(NCS_A, true);
        let stats = Stats::begin("Test (A): data is pushed once to each replica", NCS_A + 1);
        let w = c.client();
        assert_eq!(w.create("/flow").await, Ok(()));
        write_ok(&c, &w, "/flow", 0, &rand_bytes(100)).await;
        let loc = c.locations("/flow", 0).await.expect("chunk 0 exists");
        let pushes0: Vec<u64> = (0..c.n()).map(|i| c.count_to("chunkserver.push_data", i)).collect();
        let writes0 = c.count("chunkserver.write");
        let k = 10;
        for j in 0..k {
            write_ok(&c, &w, "/flow", j * 1000, &rand_bytes(1000)).await;
        }
        for (i, before) in pushes0.iter().enumerate() {
            let pushes = c.count_to("chunkserver.push_data", i) - before;
            let holds = loc.replicas.contains(&gfs::chunkserver_name(i));
            let want = if holds { k } else { 0 };
            assert_eq!(
                pushes, want,
                "{k} writes of one chunk pushed data to cs-{i} {pushes} times; expected {want} \
                 (once per write to every replica, none elsewhere; reliable network)"
            );
        }
        let writes = c.count("chunkserver.write") - writes0;
        assert_eq!(
            writes, k,
            "{k} writes sent {writes} write requests: one per write, to the primary"
        );
        stats.end(c.ops());
    });
}

/// A new lease raises the chunk's version on the master and every replica;
/// a chunkserver whose lease has expired, or that never had one, refuses
/// to order a write (checked by calling its `write` directly).
#[test]
fn leases_a() {
    run_test(|| async {
        let c = Cluster::new(NCS_A, true);
        let stats = Stats::begin("Test (A): leases and versions", NCS_A + 1);
        let w = c.client();
        assert_eq!(w.create("/l").await, Ok(()));
        write_ok(&c, &w, "/l", 0, b"first").await;
        let (loc1, _) = c.current_copies("/l", 0, REPLICAS).await;
        assert!(
            loc1.version >= 1,
            "after a write the chunk's version is {}: granting a lease raises it",
            loc1.version
        );
        sleep(LEASE_DURATION * 2).await;
        write_ok(&c, &w, "/l", 5, b"second").await;
        let (loc2, _) = c.current_copies("/l", 0, REPLICAS).await;
        // Within the lease the master names the same holder again.
        let (held, again) = (c.lease(loc2.handle).await, c.lease(loc2.handle).await);
        assert!(
            held.version == loc2.version && again == held,
            "asked twice within the lease, the master granted {held:?} then {again:?} (version after the write: {}): it grants no other lease until the current one expires",
            loc2.version
        );
        assert!(
            loc2.version > loc1.version,
            "a write after the lease expired ran at version {} as before: a new lease must \
             raise the version",
            loc2.version
        );
        // Nobody holds a lease now: every replica refuses to order a write.
        sleep(LEASE_DURATION * 2).await;
        let before = c.copies(loc2.handle);
        for name in &loc2.replicas {
            let end = labrpc::network().end_to(labrpc::NodeId::TESTER, name);
            let cs = chunkserver::Client::new(end);
            let id = DataId { client: 1 << 40, seq: 0 };
            let push = PushArgs { id, data: b"rogue".to_vec() };
            assert!(cs.push_data(&push).await.is_ok());
            let args = WriteArgs { handle: loc2.handle, offset: 0, data: id };
            let r = cs.write(&args).await.expect("reliable network");
            assert_eq!(
                r,
                Err(GfsError::NotPrimary),
                "{name} ordered a write of chunk {} with no unexpired lease",
                loc2.handle
            );
        }
        assert_eq!(
            c.copies(loc2.handle),
            before,
            "a refused write changed a replica"
        );
        read_expect(&c, &w, "/l", 0, b"firstsecond").await;
        stats.end(c.ops());
    });
}

/// Serial writes from several clients on an unreliable network: retried
/// through lost requests and replies, each client's region defined after
/// its write returns.
#[test]
fn unreliable_a() {
    run_test(|| async {
        let c = Cluster::new(NCS_A, false);
        let stats = Stats::begin("Test (A): serial writes, unreliable network", NCS_A + 1);
        let setup = c.client();
        create_maybe(&setup, "/u").await;
        let tasks: Vec<_> = (0..3u64)
            .map(|k| {
                let c = c.clone();
                let ck = c.client();
                task::spawn(async move {
                    let mut mine = Vec::new();
                    for round in 0..5 {
                        let data = rand_bytes(2000);
                        let off = k * 30_000 + round * 2000;
                        write_ok(&c, &ck, "/u", off, &data).await;
                        read_expect(&c, &ck, "/u", off, &data).await;
                        // Every replica the master names holds it (lost
                        // announcements may leave fewer for a while).
                        c.check_defined("/u", off, &data, 1).await;
                        mine.push((off, data));
                    }
                    mine
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.expect("client"));
        }
        sleep(gfs::REREPLICATION_BOUND).await;
        for (off, data) in all {
            c.check_defined("/u", off, &data, REPLICAS).await;
        }
        stats.end(c.ops());
    });
}

/// A lease announcement retried after its reply was lost reaches the
/// primary twice, the second copy late, after a client with a cached lease
/// has already written under it. Writes acknowledged after that must still
/// be on every replica (the retry must not restart the primary's order).
#[test]
fn lease_retry_a() {
    run_test(|| async {
        let c = Cluster::new(NCS_A, true);
        let stats = Stats::begin("Test (A): a retried lease announcement", NCS_A + 1);
        let (a, b) = (c.client(), c.client());
        assert_eq!(a.create("/r").await, Ok(()));
        write_ok(&c, &a, "/r", 0, b"a-first").await;
        write_ok(&c, &b, "/r", 100, b"b-first").await;
        let loc = c.locations("/r", 0).await.expect("chunk 0");
        let primary = c.lease(loc.handle).await.primary;
        let node = c.chunkserver_node(c.index_of(&primary));
        sleep(LEASE_DURATION * 2).await;
        // The next announcement to the primary: its reply is lost, and the
        // retry arrives 300 ms late.
        let seen = Rc::new(std::cell::Cell::new((0u32, 0u32)));
        let s = seen.clone();
        let hook = labrpc::network().add_hook(move |m| {
            if m.method != "chunkserver.new_lease" {
                return labrpc::Verdict::Deliver;
            }
            let (req, rep) = s.get();
            if m.leg == labrpc::trace::Leg::Request && m.to == node {
                s.set((req + 1, rep));
                if req == 1 {
                    return labrpc::Verdict::Delay(std::time::Duration::from_millis(300));
                }
            } else if m.leg == labrpc::trace::Leg::Reply && m.from == node {
                s.set((req, rep + 1));
                if rep == 0 {
                    return labrpc::Verdict::Drop;
                }
            }
            labrpc::Verdict::Deliver
        });
        let a_data = rand_bytes(3000);
        let a_write = {
            let (c, a_data) = (c.clone(), a_data.clone());
            task::spawn(async move {
                write_ok(&c, &a, "/r", 1000, &a_data).await;
                a
            })
        };
        sleep(std::time::Duration::from_millis(100)).await;
        let b_data = rand_bytes(3000);
        write_ok(&c, &b, "/r", 5000, &b_data).await;
        let a = a_write.await.expect("writer a");
        labrpc::network().remove_hook(hook);
        let a2 = rand_bytes(3000);
        write_ok(&c, &a, "/r", 9000, &a2).await;
        for (off, data) in [(1000, &a_data), (5000, &b_data), (9000, &a2)] {
            c.check_defined("/r", off, data, REPLICAS).await;
        }
        stats.end(c.ops());
    });
}

/// A client that read a file, deleted it and created it again must not
/// read the deleted file's chunks through its cached locations: the new
/// file starts empty, and holds what another client writes to it.
#[test]
fn recreated_file_a() {
    run_test(|| async {
        let c = Cluster::new(NCS_A, true);
        let stats = Stats::begin("Test (A): a file deleted and created again", NCS_A + 1);
        let (ck, other) = (c.client(), c.client());
        assert_eq!(ck.create("/g").await, Ok(()));
        let old = rand_bytes(2000);
        write_ok(&c, &ck, "/g", 0, &old).await;
        read_expect(&c, &ck, "/g", 0, &old).await;
        assert_eq!(ck.delete("/g").await, Ok(()), "delete of a file");
        assert_eq!(ck.create("/g").await, Ok(()), "create after delete");
        let got = ck.read("/g", 0, 2000).await;
        c.op();
        assert!(
            got == Ok(Vec::new()),
            "a client read {} from \"/g\", deleted and created again by it (expected an empty file): the deleted file's chunk, through locations it cached before the delete{}",
            match &got {
                Ok(g) => format!("{} bytes", g.len()),
                Err(e) => format!("an error ({e})"),
            },
            harness::describe_diff(got.as_deref().ok(), &[])
        );
        let new = rand_bytes(2000);
        write_ok(&c, &other, "/g", 0, &new).await;
        read_expect(&c, &ck, "/g", 0, &new).await;
        stats.end(c.ops());
    });
}

/// A read returns the bytes asked for, fewer only at the end of the
/// file's data: across a chunk boundary, no more than asked although the
/// next chunk holds more; past the end, what there is (at once).
#[test]
fn read_lengths_a() {
    run_test(|| async {
        let c = Cluster::new(NCS_A, true);
        let stats = Stats::begin("Test (A): read lengths across a chunk and past the end", NCS_A + 1);
        let (w, r) = (c.client(), c.client());
        assert_eq!(w.create("/l").await, Ok(()));
        let start = CHUNK_SIZE - 1000;
        let data = rand_bytes(3000);
        write_ok(&c, &w, "/l", start, &data).await;
        read_expect(&c, &r, "/l", start, &data[..1500]).await;
        read_expect(&c, &r, "/l", start + 1500, &data[1500..2600]).await;
        for (offset, len) in [(start, 5000), (start + 2000, 4000)] {
            let read = labrpc::time::timeout(Duration::from_secs(5), r.read("/l", offset, len));
            let got = read.await.unwrap_or_else(|_| {
                panic!("read(\"/l\", offset {offset}, {len} bytes) past the end of the file's data (byte {}) did not return within 5 s", start + 3000)
            });
            c.op();
            let want = &data[(offset - start) as usize..];
            assert!(
                got.as_deref() == Ok(want),
                "read(\"/l\", offset {offset}, {len} bytes) past the end of the file's data (byte {}) returned {:?} bytes, expected the {} there are{}",
                start + 3000,
                got.as_ref().map(Vec::len),
                want.len(),
                harness::describe_diff(got.as_deref().ok(), want)
            );
        }
        stats.end(c.ops());
    });
}

/// A file deleted while the master allocates its first chunk for a write
/// (the chunkservers' create_chunk requests held) stays deleted: the
/// allocation must not add its chunk to the file, which would create the
/// file again.
#[test]
fn delete_during_allocation_a() {
    run_test(|| async {
        let c = Cluster::new(NCS_A, true);
        let stats = Stats::begin("Test (A): a delete while a chunk is allocated", NCS_A + 1);
        let (w, d) = (c.client(), c.client());
        assert_eq!(w.create("/d").await, Ok(()));
        let net = labrpc::network();
        let creates = net.hold(labrpc::net::Filter::new().method("chunkserver.create_chunk"));
        let writer = task::spawn(async move { w.write("/d", 0, &rand_bytes(1000)).await });
        let t0 = Instant::now();
        while net.held(creates) == 0 {
            assert!(t0.elapsed() < Duration::from_secs(1), "the write allocated no chunk within 1 s");
            sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(d.delete("/d").await, Ok(()), "delete of a file");
        net.remove_hold(creates);
        let written = writer.await.expect("writer");
        c.op();
        let listed = d.list("/").await;
        let read = d.read("/d", 0, 10).await;
        c.op();
        assert!(
            !listed.contains(&"/d".to_string()) && read == Err(GfsError::NotFound),
            "\"/d\" was deleted while the master allocated its first chunk for a write (which returned {written:?}), yet it exists again (listed: {listed:?}, read: {read:?}): an allocation that finds its file gone must not add the chunk"
        );
        stats.end(c.ops());
    });
}

/// One client runs two writes at once (two tasks share it): each
/// region holds its own write's bytes on every replica. The data of each
/// mutation is pushed under a number the client never reuses.
#[test]
fn one_client_two_writes_a() {
    run_test(|| async {
        let c = Cluster::new(NCS_A, true);
        let stats = Stats::begin("Test (A): one client, two writes at once", NCS_A + 1);
        let ck = Rc::new(c.client());
        assert_eq!(ck.create("/two").await, Ok(()));
        write_ok(&c, &ck, "/two", 0, &rand_bytes(100)).await;
        let regions = [(0u64, rand_bytes(3000)), (10_000u64, rand_bytes(3000))];
        let tasks: Vec<_> = regions
            .iter()
            .map(|(off, data)| {
                let (c, ck, off, data) = (c.clone(), ck.clone(), *off, data.clone());
                task::spawn(async move { write_ok(&c, &ck, "/two", off, &data).await })
            })
            .collect();
        for t in tasks {
            t.await.expect("writer");
        }
        for (off, data) in &regions {
            c.check_defined("/two", *off, data, REPLICAS).await;
        }
        stats.end(c.ops());
    });
}
