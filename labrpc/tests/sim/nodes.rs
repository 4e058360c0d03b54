// Nodes crash-stop: their tasks vanish at once, their storage stays.

#[test]
fn crash_drops_every_task_of_the_node() {
    run_test(|| async {
        let a = node::create("a");
        let b = node::create("b");
        let ticks_a = Rc::new(Cell::new(0));
        let ticks_b = Rc::new(Cell::new(0));
        let mut handles = Vec::new();
        for (n, t) in [(a, &ticks_a), (b, &ticks_b)] {
            for _ in 0..3 {
                let t = t.clone();
                handles.push(task::spawn_on(n, async move {
                    loop {
                        t.set(t.get() + 1);
                        sleep(Duration::from_millis(10)).await;
                    }
                }));
            }
        }
        sleep(Duration::from_millis(95)).await;
        node::crash(a);
        assert!(!node::is_alive(a));
        let frozen = ticks_a.get();
        let before_b = ticks_b.get();
        sleep(Duration::from_secs(1)).await;
        assert_eq!(
            ticks_a.get(),
            frozen,
            "no code of a crashed node runs again"
        );
        assert!(ticks_b.get() > before_b + 200, "other nodes keep running");
        for h in &handles[..3] {
            assert!(h.is_finished());
        }
        for h in handles.drain(..3) {
            assert!(
                h.await.is_err(),
                "a crashed task's handle reports the cancellation"
            );
        }
    });
}

#[test]
fn tasks_spawned_by_a_task_belong_to_its_node() {
    run_test(|| async {
        let a = node::create("a");
        let inner_ran = Rc::new(Cell::new(false));
        let flag = inner_ran.clone();
        task::spawn_on(a, async move {
            assert_eq!(node::current(), a);
            task::spawn(async move {
                assert_eq!(node::current(), a);
                sleep(Duration::from_secs(1)).await;
                flag.set(true);
            })
            .detach();
        })
        .detach();
        sleep(Duration::from_millis(500)).await;
        node::crash(a);
        sleep(Duration::from_secs(2)).await;
        assert!(!inner_ran.get(), "the grandchild task died with its node");
    });
}

#[test]
fn enter_runs_tester_code_as_code_of_a_node() {
    run_test(|| async {
        let a = node::create("a");
        let ran = Rc::new(Cell::new(false));
        let flag = ran.clone();
        node::enter(a, || {
            task::spawn(async move {
                sleep(Duration::from_secs(1)).await;
                flag.set(true);
            })
            .detach();
        });
        assert_eq!(node::current(), NodeId::TESTER);
        node::crash(a);
        sleep(Duration::from_secs(2)).await;
        assert!(!ran.get());
    });
}

#[test]
fn crash_self_stops_the_caller_at_once() {
    run_test(|| async {
        let a = node::create("a");
        let after = Rc::new(Cell::new(false));
        let flag = after.clone();
        let h = task::spawn_on(a, async move {
            sleep(Duration::from_millis(10)).await;
            node::crash_self().await;
            flag.set(true);
        });
        assert!(h.await.is_err());
        assert!(!after.get());
        assert!(!node::is_alive(a));
    });
}

#[test]
fn storage_survives_crash_and_restart() {
    run_test(|| async {
        let a = node::create("a");
        let p = node::persister(a);
        assert_eq!((p.state_size(), p.snapshot_size()), (0, 0));
        p.save(b"term=3".to_vec(), b"snap".to_vec());
        let copy = p.copy();
        node::crash(a);
        node::restart(a);
        assert!(node::is_alive(a));
        let p = node::persister(a);
        assert_eq!(p.read_state(), b"term=3");
        assert_eq!(p.read_snapshot(), b"snap");
        assert_eq!((p.state_size(), p.snapshot_size()), (6, 4));
        p.save(b"term=4".to_vec(), Vec::new());
        assert_eq!(p.read_snapshot(), b"", "save replaces both");
        assert_eq!(copy.read_state(), b"term=3", "a copy is independent");
    });
}

#[test]
fn restarted_node_runs_new_tasks_and_serves_again() {
    run_test(|| async {
        let net = network();
        let (a, _) = start_junk("a");
        let c = client("a");
        assert_eq!(c.record(&1).await, Ok(1));
        node::crash(a);
        assert!(!net.has_server("a"), "a crash deletes the node's servers");
        assert_eq!(c.record(&2).await, Err(RpcError::Unreachable));
        node::restart(a);
        let ran = task::spawn_on(a, async { node::current() });
        assert_eq!(ran.await, Ok(a));
        let junk = Rc::new(common::Junk::default());
        net.add_server(
            "a",
            a,
            labrpc::Server::new().add_service(common::junk::service(junk.clone())),
        );
        assert_eq!(c.record(&3).await, Ok(3));
        assert_eq!(junk.seen.borrow().as_slice(), &[3]);
    });
}

#[test]
fn a_call_pending_on_a_crashing_server_fails_promptly() {
    run_test(|| async {
        let (a, _) = start_junk("a");
        let c = client("a");
        let call = task::spawn(async move { c.slow(&1).await });
        sleep(Duration::from_millis(500)).await;
        let t0 = Instant::now();
        node::crash(a);
        assert_eq!(call.await.unwrap(), Err(RpcError::ServerGone));
        assert!(t0.elapsed() <= Duration::from_millis(100));
    });
}

#[test]
fn spawning_on_a_crashed_node_is_cancelled() {
    run_test(|| async {
        let a = node::create("a");
        node::crash(a);
        let h = task::spawn_on(a, async { 1 });
        assert!(h.await.is_err());
    });
}

#[test]
fn abort_stops_a_task() {
    run_test(|| async {
        let ticks = Rc::new(Cell::new(0));
        let t = ticks.clone();
        let h = task::spawn(async move {
            loop {
                t.set(t.get() + 1);
                sleep(Duration::from_millis(1)).await;
            }
        });
        sleep(Duration::from_millis(10)).await;
        h.abort();
        let n = ticks.get();
        sleep(Duration::from_millis(10)).await;
        assert_eq!(ticks.get(), n);
        assert!(h.await.is_err());
    });
}

/// A request delivered at the instant its server's node crashes, before
/// the handler task ever ran: the call still fails (the server is gone),
/// it does not wait forever. Over 40 seeds the crash falls before, while
/// and after the handler runs.
#[test]
fn a_handler_dropped_before_it_ran_still_ends_its_call() {
    let outcomes = Rc::new(std::cell::RefCell::new(Vec::new()));
    let seen = outcomes.clone();
    labrpc::Builder::new().seed(1).runs(40).run_all(move || {
        let seen = seen.clone();
        async move {
            let (n, junk) = start_junk("s");
            // The request arrives at the instant it is sent.
            network().set_link(
                NodeId::TESTER,
                n,
                Some(labrpc::LinkConfig {
                    loss: 0.0,
                    latency: Duration::ZERO..=Duration::ZERO,
                }),
            );
            let call = task::spawn(async { client("s").record(&7).await });
            task::yield_now().await;
            node::crash(n);
            let t0 = Instant::now();
            let result = call.await.unwrap();
            let ran = !junk.seen.borrow().is_empty();
            if !ran && result == Err(RpcError::ServerGone) {
                assert!(t0.elapsed() <= Duration::from_millis(100));
            }
            seen.borrow_mut().push((ran, result));
        }
    });
    let outcomes = outcomes.borrow();
    assert_eq!(outcomes.len(), 40);
    assert!(
        outcomes.contains(&(false, Err(RpcError::ServerGone))),
        "no seed crashed the node between delivery and the handler's first poll: {outcomes:?}"
    );
    assert!(outcomes.contains(&(true, Ok(7))), "{outcomes:?}");
}
