// Part 5B: a controller that fails (6.5840's TestJoinLeave5B and
// TestRecoverCtrler5B), and tests of ours that stop a controller at a
// chosen instant of a move (publish_after_moves_5b,
// delete_after_install_5b).

/// Waits up to `d` for `h`; `None` if it has not finished.
async fn finished_within<T: 'static>(d: Duration, h: &mut task::JoinHandle<T>) -> Option<T> {
    timeout(d, h).await.ok().map(|r| r.expect("task"))
}

/// A join (and a leave) cannot finish while a group it moves shards from
/// (to) is down, and finishes promptly once the group is back.
#[test]
fn join_leave_5b() {
    run_test(|| async {
        let (sys, ck) =
            System::setup(&title("join/leave while a group is down", "5B", true), Options::reliable())
                .await;
        let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
        let cfg = ck.ctrler.query().await;
        let gid2 = GID1 + 1;
        let sck = Rc::new(sys.make_client());
        sys.shutdown_group(GID1);
        let mut join = {
            let (sys, sck) = (sys.clone(), sck.clone());
            task::spawn(async move { sys.join_groups(&sck.ctrler, &[gid2]).await })
        };
        // The course's window here is 2 ns (a missing unit); ours is real.
        assert!(
            finished_within(Duration::from_secs(1), &mut join).await.is_none(),
            "the join of gid {gid2} finished while gid 1, which must freeze shards for it, was down"
        );
        sys.start_group(GID1);
        let joined = finished_within(Duration::from_secs(2), &mut join)
            .await
            .expect("the join did not finish within 2 s of gid 1's restart");
        assert!(joined, "gid {gid2} is not a member after its join");
        let cfg1 = ck.ctrler.query().await;
        assert_eq!(cfg1.num, cfg.num + 1, "the join did not make one new configuration");

        sys.shutdown_group(gid2);
        let mut leave = {
            let (sys, sck) = (sys.clone(), sck.clone());
            task::spawn(async move { sys.leave_groups(&sck.ctrler, &[GID1]).await })
        };
        assert!(
            finished_within(Duration::from_secs(2), &mut leave).await.is_none(),
            "the leave of gid 1 finished while gid {gid2}, which must install its shards, was down"
        );
        sys.start_group(gid2);
        let left = finished_within(Duration::from_secs(2), &mut leave)
            .await
            .expect("the leave did not finish within 2 s of gid 2's restart");
        assert!(left, "gid 1 is still a member after its leave");
        ck.check_all(&keys, &vals).await;
        sys.end();
    });
}

#[test]
fn recover_ctrler_5b() {
    run_test(|| async {
        let (sys, ck) =
            System::setup(&title("recover controller", "5B", true), Options::reliable()).await;
        let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
        for _ in 0..5 {
            partition_ctrler(&sys, &ck, GID1, &keys, &vals, false).await;
        }
        sys.end();
    });
}

/// Holds a controller's InstallShard requests in the middle of a join of
/// a new group. `publish`: while the move is held, the current
/// configuration must still be the old one; then the installs go on and
/// the join finishes. Otherwise the controller is cut off while its
/// install is held, and a new controller's `init_controller` must finish
/// the move. Either way every key must then read back intact.
async fn held_install(what: &str, publish: bool) {
    let (sys, ck) = System::setup(&title(what, "5B", true), Options::reliable()).await;
    let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
    let cfg = ck.ctrler.query().await;
    let gid2 = GID1 + 1;
    let sck = Rc::new(sys.make_client());
    let net = network();
    let installs = net.hold(Filter::new().method("shardgrp.install_shard").from(sck.node));
    sys.start_group(gid2);
    let mut join = {
        let (sys, sck) = (sys.clone(), sck.clone());
        task::spawn(async move { sys.join(&sck.ctrler, gid2).await })
    };
    let start = Instant::now();
    while net.held(installs) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the controller sent no InstallShard within 10 s of its join"
        );
        sleep(Duration::from_millis(10)).await;
    }
    // Let the controller go as far as it will without the install.
    sleep(Duration::from_millis(500)).await;
    if publish {
        let during = ck.ctrler.query().await;
        assert_eq!(
            during.num, cfg.num,
            "configuration {} is current while its first InstallShard has not been \
             delivered: publish a configuration only after its moves are done",
            during.num
        );
        net.remove_hold(installs);
        finished_within(Duration::from_secs(10), &mut join)
            .await
            .expect("the join did not finish within 10 s of its installs' release");
    } else {
        sys.disconnect(&sck);
        net.drop_held(installs);
        net.remove_hold(installs);
        let sck0 = sys.make_client();
        sck0.ctrler.init_controller().await;
    }
    let after = ck.ctrler.query().await;
    assert_eq!(
        after.num,
        cfg.num + 1,
        "after the join the configuration is {}, want {}",
        after.num,
        cfg.num + 1
    );
    let check = ck.check_all(&keys, &vals);
    timeout(Duration::from_secs(10), check)
        .await
        .expect("keys were not readable within 10 s after the join");
    sys.end();
}

/// Ours: a controller that makes the new configuration current before its
/// moves are done (clerks are sent to a group that does not have the
/// shard yet; after a crash, recovery finds nothing to redo).
#[test]
fn publish_after_moves_5b() {
    run_test(|| held_install("the configuration is published after the moves", true));
}

/// Ours: a controller that deletes a shard at its old group before the new
/// group installed it (a crash in between loses the shard).
#[test]
fn delete_after_install_5b() {
    run_test(|| held_install("a crash between Freeze and Install loses nothing", false));
}
