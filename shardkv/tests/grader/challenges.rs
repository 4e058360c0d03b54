// The two challenges of 5B, required here (6.824's TestChallenge1Delete,
// TestChallenge2Unaffected, TestChallenge2Partial).

/// How long an operation on a shard that a reconfiguration does not hold
/// up may take (6.824 waits for ever; a stuck group hits the time limit).
const SERVE_WITHIN: Duration = Duration::from_secs(5);

/// Checks `key` then overwrites it, each within [`SERVE_WITHIN`].
async fn check_put_within(ck: &TestClerk, key: &str, want: &str, new: &str, why: &str) {
    let shard = key2shard(key);
    timeout(SERVE_WITHIN, ck.check(key, want))
        .await
        .unwrap_or_else(|_| {
            panic!("Get({key:?}) of shard {shard} did not complete within {SERVE_WITHIN:?}: {why}")
        });
    timeout(SERVE_WITHIN, ck.put(key, new))
        .await
        .unwrap_or_else(|_| {
            panic!("Put({key:?}) of shard {shard} did not complete within {SERVE_WITHIN:?}: {why}")
        });
    timeout(SERVE_WITHIN, ck.check(key, new))
        .await
        .unwrap_or_else(|_| {
            panic!("Get({key:?}) of shard {shard} did not complete within {SERVE_WITHIN:?}: {why}")
        });
}

/// Challenge 1 (6.824's TestChallenge1Delete): a group deletes the shards
/// it handed over, so the state of all nine servers stays within 117,000
/// bytes (27 keys of 1000 bytes once, 3 more read keys, on 3 replicas,
/// plus slop).
#[test]
fn challenge1_delete_5b() {
    run_test(|| async {
        let sys = System::with(Options {
            maxraftstate: Some(1),
            ..Options::default()
        });
        sys.begin("Test (5B): shard deletion (challenge 1)");
        let ck = sys.make_client();
        sys.join(0).await;
        let n = 30;
        let ka: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let va: Vec<String> = (0..n).map(|_| randstring(1000)).collect();
        for i in 0..n {
            ck.put(&ka[i], &va[i]).await;
        }
        for i in 0..3 {
            ck.check(&ka[i], &va[i]).await;
        }
        for _ in 0..2 {
            sys.join(1).await;
            sys.leave(0).await;
            sys.join(2).await;
            sleep_ms(3000).await;
            for i in 0..3 {
                ck.check(&ka[i], &va[i]).await;
            }
            sys.leave(1).await;
            sys.join(0).await;
            sys.leave(2).await;
            sleep_ms(3000).await;
            for i in 0..3 {
                ck.check(&ka[i], &va[i]).await;
            }
        }
        sys.join(1).await;
        sys.join(2).await;
        for _ in 0..3 {
            sleep_ms(1000).await;
            for i in 0..3 {
                ck.check(&ka[i], &va[i]).await;
            }
        }
        let total = sys.total_size();
        let expected = 3 * ((n - 3) * 1000 + 2 * 3 * 1000 + 6000);
        println!("  persisted state of all servers: {total} bytes (at most {expected})");
        assert!(
            total <= expected,
            "snapshot + persisted Raft state are too big: {total} > {expected} bytes: are shards deleted once handed over?"
        );
        for i in 0..n {
            ck.check(&ka[i], &va[i]).await;
        }
        sys.end();
    });
}

/// Challenge 2 (6.824's TestChallenge2Unaffected): group 101 must keep
/// serving the shards it owned while it waits for ever for shards of dead
/// group 100. (6.824 picks the keys to overwrite by index as if it were
/// the shard; here by shard.)
#[test]
fn challenge2_unaffected_5b() {
    run_test(|| async {
        let sys = System::with(Options {
            unreliable: true,
            maxraftstate: Some(100),
        });
        sys.begin("Test (5B): unaffected shard access (challenge 2)");
        let ck = sys.make_client();
        sys.join(0).await;
        let n = 10;
        let ka: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let mut va: Vec<String> = vec!["100".to_string(); n];
        for i in 0..n {
            ck.put(&ka[i], &va[i]).await;
        }
        sys.join(1).await;
        let owned = sys.owned(1).await;
        // Let the migration finish and clerks learn the configuration.
        sleep_ms(1000).await;
        for i in 0..n {
            if owned.contains(&key2shard(&ka[i])) {
                va[i] = "101".to_string();
                ck.put(&ka[i], &va[i]).await;
            }
        }
        sys.shutdown_group(0);
        // 101 can never fetch 100's shards now.
        sys.leave(0).await;
        sleep_ms(1000).await;
        for i in 0..n {
            if owned.contains(&key2shard(&ka[i])) {
                let new = format!("{}-1", va[i]);
                check_put_within(
                    &ck,
                    &ka[i],
                    &va[i],
                    &new,
                    "group 101 must keep serving shards it already owned while it waits for group 100's",
                )
                .await;
            }
        }
        sys.end();
    });
}

/// Challenge 2 (6.824's TestChallenge2Partial): group 101 must serve the
/// shards it got from live group 102 even though those of dead group 100
/// never arrive.
#[test]
fn challenge2_partial_5b() {
    run_test(|| async {
        let sys = System::with(Options {
            unreliable: true,
            maxraftstate: Some(100),
        });
        sys.begin("Test (5B): partial migration shard access (challenge 2)");
        let ck = sys.make_client();
        sys.joinm(&[0, 1, 2]).await;
        sleep_ms(1000).await;
        let n = 10;
        let ka: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let va: Vec<String> = vec!["100".to_string(); n];
        for i in 0..n {
            ck.put(&ka[i], &va[i]).await;
        }
        let owned = sys.owned(2).await;
        assert!(owned.len() < NSHARDS);
        sys.shutdown_group(0);
        // 101 can get 102's shards, but never 100's.
        sys.leavem(&[0, 2]).await;
        sleep_ms(1000).await;
        for i in 0..n {
            if owned.contains(&key2shard(&ka[i])) {
                let new = format!("{}-2", va[i]);
                check_put_within(
                    &ck,
                    &ka[i],
                    &va[i],
                    &new,
                    &format!(
                        "group {} must serve each shard from group {} as soon as it has it",
                        GIDS[1], GIDS[2]
                    ),
                )
                .await;
            }
        }
        sys.end();
    });
}

// Challenge 1, scripted: a schedule the random tests reach too rarely
// (found by mutation testing: docs/instructors-mutation.md).

/// How long the acknowledgements of a hand-over are lost in
/// `challenge1_lost_ack_5b`.
const ACK_LOSS: Duration = Duration::from_secs(2);

/// Loses, for [`ACK_LOSS`] from the first one, every reply from group
/// `from` to group `to` of a method other than the first one `to` called
/// on `from` (its pull, in a design where the new owner pulls): in such a
/// design, the previous owner's answers to "I have the shards, delete your
/// copy". The network may lose any reply; this schedule loses these.
fn lose_acks_5b(from: Vec<labrpc::NodeId>, to: Vec<labrpc::NodeId>) -> labrpc::net::HookId {
    let first: RefCell<Option<String>> = RefCell::new(None);
    let until: Cell<Option<labrpc::time::Instant>> = Cell::new(None);
    labrpc::network().add_hook(move |m| {
        use labrpc::trace::Leg;
        if m.leg == Leg::Request && to.contains(&m.from) && from.contains(&m.to) {
            first
                .borrow_mut()
                .get_or_insert_with(|| m.method.to_string());
        }
        let ack = m.leg == Leg::Reply
            && from.contains(&m.from)
            && to.contains(&m.to)
            && first.borrow().as_deref().is_some_and(|f| f != m.method);
        if !ack {
            return labrpc::Verdict::Deliver;
        }
        let now = labrpc::time::Instant::now();
        let end = *until.get().get_or_insert(now + ACK_LOSS);
        until.set(Some(end));
        if now < end {
            labrpc::Verdict::Drop
        } else {
            labrpc::Verdict::Deliver
        }
    })
}

/// A new owner that has the shards tells the previous owner to delete
/// them; when the previous owner's acknowledgement is lost and it moves on
/// to the next configuration meanwhile, the new owner asks again, and the
/// previous owner must still say "done" for the configuration it has left
/// behind. Otherwise the new owner waits for ever, cannot take the next
/// configuration, and the group that joins next never gets its shards.
#[test]
fn challenge1_lost_ack_5b() {
    run_test(|| async {
        let sys = System::new();
        sys.begin("Test (5B): a hand-over whose acknowledgement is lost");
        let ck = sys.make_client();
        sys.join(0).await;
        let keys: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        for k in &keys {
            ck.put(k, k).await;
        }
        let hook = lose_acks_5b(sys.nodes(0), sys.nodes(1));
        // Group 101 takes half the shards from 100, which then moves on
        // to the next configuration (102 joins) as soon as it has deleted
        // them, while its acknowledgements to 101 are lost.
        sys.join(1).await;
        sys.join(2).await;
        sleep(ACK_LOSS + Duration::from_secs(1)).await;
        for k in &keys {
            check_put_within(
                &ck,
                k,
                k,
                &format!("{k}+"),
                "group 101 never finished taking its shards from 100: when 100 had moved on to \
                 the next configuration, it did not confirm again that it had deleted them",
            )
            .await;
        }
        labrpc::network().remove_hook(hook);
        sys.end();
    });
}
