// 6.824's own labrpc tests (`src/labrpc/test_test.go`), re-created on
// virtual time with the same scenarios and bounds.

#[test]
fn basic() {
    run_test(|| async {
        start_junk("server99");
        let c = client("server99");
        assert_eq!(c.format(&111).await.unwrap(), "handler-111");
        assert_eq!(c.parse(&"9099".into()).await.unwrap(), 9099);
    });
}

#[test]
fn disconnect() {
    run_test(|| async {
        let net = network();
        start_junk("server99");
        let end = net.make_end("end1-99", NodeId::TESTER);
        net.connect("end1-99", "server99");
        let c = junk::Client::new(end);
        // A new end starts disabled: no reply.
        assert_eq!(c.format(&111).await, Err(RpcError::Unreachable));
        assert_eq!(net.server_count("server99"), 0);
        net.enable("end1-99", true);
        assert_eq!(c.parse(&"9099".into()).await.unwrap(), 9099);
    });
}

#[test]
fn counts() {
    run_test(|| async {
        start_junk("server99");
        let c = client("server99");
        for i in 0..17 {
            assert_eq!(c.format(&i).await.unwrap(), format!("handler-{i}"));
        }
        assert_eq!(network().server_count("server99"), 17);
    });
}

#[test]
fn bytes() {
    run_test(|| async {
        let net = network();
        start_junk("server99");
        let c = client("server99");
        // 17 requests carrying a 284-character string.
        let arg = "x".repeat(284);
        for _ in 0..17 {
            let _ = c.parse(&arg).await.unwrap();
        }
        let n = net.total_bytes();
        assert!(
            (4828..=6000).contains(&n),
            "request bytes {n}, want 4828..=6000"
        );
        // 17 replies of 107 characters are counted too.
        for _ in 0..17 {
            assert_eq!(c.sized(&107).await.unwrap().len(), 107);
        }
        let m = net.total_bytes() - n;
        assert!(
            (1800..=2500).contains(&m),
            "reply bytes {m}, want 1800..=2500"
        );
    });
}

#[test]
fn concurrent_many() {
    run_test(|| async {
        start_junk("server99");
        let mut handles = Vec::new();
        for i in 0..20 {
            let c = client("server99");
            handles.push(task::spawn(async move {
                for j in 0..10 {
                    let x = i * 100 + j;
                    assert_eq!(c.format(&x).await.unwrap(), format!("handler-{x}"));
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(network().server_count("server99"), 200);
    });
}

#[test]
fn unreliable() {
    run_test(|| async {
        let net = network();
        start_junk("server99");
        net.set_reliable(false);
        let ok = Rc::new(Cell::new(0));
        let mut handles = Vec::new();
        for i in 0..300 {
            let c = client("server99");
            let ok = ok.clone();
            handles.push(task::spawn(async move {
                if let Ok(r) = c.format(&(100 + i)).await {
                    assert_eq!(r, format!("handler-{}", 100 + i));
                    ok.set(ok.get() + 1);
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        let n = ok.get();
        assert!(
            n > 0 && n < 300,
            "{n} of 300 calls succeeded: want some but not all"
        );
    });
}

#[test]
fn concurrent_one() {
    run_test(|| async {
        let (_, junk) = start_junk("server99");
        let c = client("server99");
        let mut handles = Vec::new();
        for i in 0..20u64 {
            let c = c.clone();
            handles.push(task::spawn(async move { c.record(&(100 + i)).await }));
        }
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap(), Ok(100 + i as u64));
        }
        let mut seen = junk.seen.borrow().clone();
        assert_eq!(seen.len(), 20, "every call delivered exactly once");
        seen.sort();
        assert_eq!(seen, (100..120).collect::<Vec<u64>>());
        assert_eq!(network().server_count("server99"), 20);
    });
}

/// Calls issued while an end is disabled (and delayed) must not delay a
/// later call after the end is enabled.
#[test]
fn regression1() {
    run_test(|| async {
        let net = network();
        let (_, junk) = start_junk("server99");
        net.set_long_delays(true);
        let end = net.make_end("end1-99", NodeId::TESTER);
        net.connect("end1-99", "server99");
        let c = junk::Client::new(end);
        let mut handles = Vec::new();
        for i in 0..20u64 {
            let c = c.clone();
            handles.push(task::spawn(async move { c.record(&i).await }));
        }
        sleep(Duration::from_millis(100)).await;
        net.enable("end1-99", true);
        let t0 = Instant::now();
        assert_eq!(c.record(&99).await, Ok(99));
        let took = t0.elapsed();
        assert!(
            took <= Duration::from_millis(30),
            "took {took:?}, want <= 30ms"
        );
        for h in handles {
            assert_eq!(h.await.unwrap(), Err(RpcError::Unreachable));
        }
        assert_eq!(
            junk.seen.borrow().as_slice(),
            &[99],
            "exactly one RPC delivered"
        );
    });
}

/// A call to a server that is deleted while its handler runs returns
/// promptly, and fails.
#[test]
fn killed() {
    run_test(|| async {
        let net = network();
        start_junk("server99");
        let c = client("server99");
        let call = task::spawn(async move { c.slow(&1).await });
        sleep(Duration::from_millis(1100)).await;
        assert!(
            !call.is_finished(),
            "a 20 s handler cannot have answered after 1.1 s"
        );
        net.delete_server("server99");
        let t0 = Instant::now();
        let r = call.await.unwrap();
        assert_eq!(r, Err(RpcError::ServerGone));
        let took = t0.elapsed();
        assert!(
            took <= Duration::from_millis(100),
            "took {took:?} after delete, want <= 100ms"
        );
    });
}
