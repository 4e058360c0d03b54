// Partitions, one-way cuts, in-flight messages, per-link settings, hooks,
// and bad input: each behaves as `labrpc::net` documents.

/// A client end from node `from` to `server`.
fn client_from(from: NodeId, server: &str) -> junk::Client {
    junk::Client::new(network().end_to(from, server))
}

#[test]
fn partition_splits_listed_nodes_and_heal_rejoins_them() {
    run_test(|| async {
        let net = network();
        let (a, _) = start_junk("a");
        let (b, _) = start_junk("b");
        let (c, _) = start_junk("c");
        net.partition(&[&[a, b], &[c]]);
        assert_eq!(client_from(a, "b").record(&1).await, Ok(1));
        assert_eq!(
            client_from(a, "c").record(&2).await,
            Err(RpcError::Unreachable)
        );
        assert_eq!(
            client_from(c, "a").record(&3).await,
            Err(RpcError::Unreachable)
        );
        // The tester is not listed: its links are untouched.
        assert_eq!(client("c").record(&4).await, Ok(4));
        assert!(!net.link_up(a, c) && !net.link_up(c, b) && net.link_up(b, a));
        net.heal();
        assert_eq!(client_from(a, "c").record(&5).await, Ok(5));
    });
}

#[test]
fn a_one_way_cut_loses_requests_or_replies() {
    run_test(|| async {
        let net = network();
        let (a, _) = start_junk("a");
        let (b, jb) = start_junk("b");
        // a -> b cut: requests from a never reach b.
        net.cut(a, b);
        assert_eq!(
            client_from(a, "b").record(&1).await,
            Err(RpcError::Unreachable)
        );
        assert!(jb.seen.borrow().is_empty());
        assert!(net.link_up(b, a), "the reverse direction stays up");
        net.restore(a, b);
        // b -> a cut: the request arrives, the handler runs, the reply is lost.
        net.cut(b, a);
        assert_eq!(
            client_from(a, "b").record(&2).await,
            Err(RpcError::Unreachable)
        );
        assert_eq!(jb.seen.borrow().as_slice(), &[2]);
        net.restore(b, a);
        assert_eq!(client_from(a, "b").record(&3).await, Ok(3));
    });
}

#[test]
fn messages_in_flight_are_decided_at_arrival() {
    run_test(|| async {
        let net = network();
        let (a, _) = start_junk("a");
        let (b, jb) = start_junk("b");
        let slow = LinkConfig {
            loss: 0.0,
            latency: Duration::from_millis(50)..=Duration::from_millis(50),
        };
        net.set_link(a, b, Some(slow.clone()));
        // A request in flight when the link goes down is lost.
        let c = client_from(a, "b");
        let call = task::spawn(async move { c.record(&1).await });
        sleep(Duration::from_millis(10)).await;
        net.cut(a, b);
        assert_eq!(call.await.unwrap(), Err(RpcError::Unreachable));
        assert!(jb.seen.borrow().is_empty(), "the handler never ran");
        net.restore(a, b);
        net.set_link(a, b, None);
        // A reply in flight when the link back goes down is lost.
        net.set_link(b, a, Some(slow));
        let c = client_from(a, "b");
        let call = task::spawn(async move { c.record(&2).await });
        sleep(Duration::from_millis(10)).await;
        assert_eq!(jb.seen.borrow().as_slice(), &[2], "the handler ran");
        net.cut(b, a);
        assert_eq!(call.await.unwrap(), Err(RpcError::Unreachable));
        // A partition that starts and heals while a message flies is
        // invisible to it.
        net.restore(b, a);
        let c = client_from(a, "b");
        let call = task::spawn(async move { c.record(&3).await });
        sleep(Duration::from_millis(5)).await;
        net.partition(&[&[a], &[b]]);
        sleep(Duration::from_millis(5)).await;
        net.heal();
        assert_eq!(call.await.unwrap(), Ok(3));
    });
}

#[test]
fn per_link_latency_and_loss() {
    run_test(|| async {
        let net = network();
        let (a, _) = start_junk("a");
        let (b, _) = start_junk("b");
        let ms = |m| Duration::from_millis(m);
        net.set_link(
            a,
            b,
            Some(LinkConfig {
                loss: 0.0,
                latency: ms(30)..=ms(30),
            }),
        );
        let t0 = Instant::now();
        assert_eq!(client_from(a, "b").record(&1).await, Ok(1));
        let rtt = t0.elapsed();
        assert!(rtt >= ms(30) && rtt <= ms(32), "rtt {rtt:?}");
        net.set_link(
            a,
            b,
            Some(LinkConfig {
                loss: 1.0,
                latency: ms(1)..=ms(1),
            }),
        );
        for i in 0..10 {
            assert_eq!(
                client_from(a, "b").record(&i).await,
                Err(RpcError::Unreachable)
            );
        }
        net.set_link(a, b, None);
        assert_eq!(client_from(a, "b").record(&2).await, Ok(2));
    });
}

#[test]
fn hooks_drop_or_delay_chosen_messages() {
    run_test(|| async {
        let net = network();
        let (a, ja) = start_junk("a");
        let seen = Rc::new(Cell::new(0));
        let s = seen.clone();
        // Drop every `record` request to a; let everything else through.
        let drop_record = net.add_hook(move |m| {
            s.set(s.get() + 1);
            if m.method == "junk.record" && m.to == a && m.leg == labrpc::trace::Leg::Request {
                Verdict::Drop
            } else {
                Verdict::Deliver
            }
        });
        let c = client("a");
        assert_eq!(c.record(&1).await, Err(RpcError::Unreachable));
        assert!(ja.seen.borrow().is_empty());
        assert_eq!(c.format(&2).await.unwrap(), "handler-2");
        assert_eq!(
            seen.get(),
            3,
            "the hook saw 1 request and 1 request + 1 reply"
        );
        net.remove_hook(drop_record);
        assert_eq!(c.record(&3).await, Ok(3));
        // Delay replies from a by 500 ms.
        let delay = net.add_hook(move |m| {
            if m.leg == labrpc::trace::Leg::Reply && m.from == a {
                Verdict::Delay(Duration::from_millis(500))
            } else {
                Verdict::Deliver
            }
        });
        let t0 = Instant::now();
        assert_eq!(c.record(&4).await, Ok(4));
        assert!(t0.elapsed() >= Duration::from_millis(500));
        net.remove_hook(delay);
        let t0 = Instant::now();
        assert_eq!(c.record(&5).await, Ok(5));
        assert!(t0.elapsed() < Duration::from_millis(5));
    });
}

#[test]
fn bad_input_gets_a_clear_error() {
    run_test(|| async {
        let net = network();
        start_junk("a");
        let end = net.end_to(NodeId::TESTER, "a");
        // Undecodable request bytes: a String whose length prefix lies.
        let e = end.call_raw("junk.parse", vec![200, 1]).await.unwrap_err();
        assert!(
            matches!(&e, RpcError::Decode(m) if m.contains("String")),
            "{e}"
        );
        assert!(
            e.to_string()
                .starts_with("undecodable message: cannot decode"),
            "{e}"
        );
        // Unknown method and service.
        let e = end.call_raw("junk.nope", vec![]).await.unwrap_err();
        assert_eq!(e, RpcError::UnknownMethod("junk.nope".into()));
        assert_eq!(e.to_string(), "unknown method \"junk.nope\"");
        let e = end.call_raw("kv.get", vec![]).await.unwrap_err();
        assert_eq!(e, RpcError::UnknownService("kv".into()));
        // A reply that does not decode as the expected type.
        let e = end
            .call::<i64, Vec<bool>>("junk.format", &5)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, RpcError::Decode(m) if m.contains("Vec<bool>")),
            "{e}"
        );
        // Unconnected and deleted ends.
        let lonely = net.make_end("lonely", NodeId::TESTER);
        net.enable("lonely", true);
        assert_eq!(
            lonely.call_raw("junk.parse", vec![]).await,
            Err(RpcError::Unreachable)
        );
        net.delete_end(end.name());
        assert_eq!(
            end.call::<i64, String>("junk.format", &1).await,
            Err(RpcError::Unreachable)
        );
    });
}

#[test]
fn client_timeout_bounds_a_call() {
    run_test(|| async {
        start_junk("a");
        let c = client("a").with_timeout(Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(c.slow(&1).await, Err(RpcError::Timeout));
        assert_eq!(t0.elapsed(), Duration::from_secs(1));
        assert_eq!(c.record(&2).await, Ok(2));
    });
}

#[test]
fn a_replaced_server_counts_as_deleted() {
    run_test(|| async {
        let net = network();
        let (a, _) = start_junk("a");
        let c = client("a");
        let call = task::spawn(async move { c.slow(&1).await });
        sleep(Duration::from_millis(300)).await;
        let fresh = Rc::new(common::Junk::default());
        net.add_server(
            "a",
            a,
            labrpc::Server::new().add_service(junk::service(fresh.clone())),
        );
        assert_eq!(call.await.unwrap(), Err(RpcError::ServerGone));
        assert_eq!(client("a").record(&7).await, Ok(7));
        assert_eq!(fresh.seen.borrow().as_slice(), &[7]);
        assert_eq!(
            net.server_count("a"),
            2,
            "counts are per name, over the run"
        );
    });
}

#[test]
fn a_hold_keeps_matching_messages_until_released_in_order() {
    run_test(|| async {
        let net = network();
        let (a, ja) = start_junk("a");
        let requests = net.hold(Filter::new().method("junk.record").to(a).leg(Leg::Request));
        let mut calls = Vec::new();
        for x in 1..=3u64 {
            calls.push(task::spawn(async move { client("a").record(&x).await }));
            sleep(Duration::from_millis(5)).await;
        }
        // Other methods and legs pass.
        assert_eq!(client("a").format(&7).await.unwrap(), "handler-7");
        sleep(Duration::from_secs(30)).await;
        assert_eq!(net.held(requests), 3);
        assert!(ja.seen.borrow().is_empty(), "nothing held was delivered");
        // The oldest first; the rest later.
        assert_eq!(net.release(requests, 1), 1);
        sleep(Duration::from_millis(10)).await;
        assert_eq!(*ja.seen.borrow(), vec![1]);
        assert_eq!(net.held(requests), 2);
        assert_eq!(net.remove_hold(requests), 2);
        for (x, c) in (1..=3u64).zip(calls) {
            assert_eq!(c.await.unwrap(), Ok(x));
        }
        assert_eq!(net.held(requests), 0);
        // Replies: the handler runs, the answer waits.
        let replies = net.hold_first(Filter::new().from(a).leg(Leg::Reply), 1);
        let call = task::spawn(async { client("a").record(&4).await });
        sleep(Duration::from_secs(1)).await;
        assert_eq!(ja.seen.borrow().last(), Some(&4));
        assert_eq!(net.held(replies), 1);
        // Only the first match is held.
        assert_eq!(client("a").record(&5).await, Ok(5));
        // Released into a cut link: lost at arrival.
        net.cut(a, NodeId::TESTER);
        net.release(replies, 1);
        assert_eq!(call.await.unwrap(), Err(RpcError::Unreachable));
        net.restore(a, NodeId::TESTER);
        // Dropped while held: lost.
        let again = net.hold(Filter::new().to(a));
        let call = task::spawn(async { client("a").record(&6).await });
        sleep(Duration::from_millis(10)).await;
        assert_eq!(net.drop_held(again), 1);
        assert_eq!(call.await.unwrap(), Err(RpcError::Unreachable));
        assert!(!ja.seen.borrow().contains(&6));
        net.remove_hold(again);
        assert_eq!(client("a").record(&7).await, Ok(7));
    });
}

#[test]
fn duplication_delivers_some_requests_twice_later() {
    run_test(|| async {
        let net = network();
        let (_, ja) = start_junk("a");
        net.set_duplication(true);
        let c = client("a");
        for x in 0..200u64 {
            assert_eq!(c.record(&x).await, Ok(x), "the call's own reply comes back");
        }
        sleep(Duration::from_secs(1)).await;
        let seen = ja.seen.borrow().clone();
        let extra = seen.len() - 200;
        assert!(
            (5..=40).contains(&extra),
            "{extra} duplicates of 200 requests (expected about 20)"
        );
        // Each request arrives once or twice; duplicates count as requests.
        for x in 0..200u64 {
            let times = seen.iter().filter(|&&y| y == x).count();
            assert!(
                (1..=2).contains(&times),
                "request {x} arrived {times} times"
            );
        }
        assert_eq!(net.server_count("a"), seen.len() as u64);
        net.set_duplication(false);
        let before = ja.seen.borrow().len();
        for x in 0..50u64 {
            c.record(&x).await.unwrap();
        }
        sleep(Duration::from_secs(1)).await;
        assert_eq!(ja.seen.borrow().len(), before + 50, "off means off");
    });
}
