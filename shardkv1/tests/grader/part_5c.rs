// Part 5C: concurrent controllers (6.5840's TestConcurrentReliable5C ...
// TestPartitionRecoveryUnreliableClerks5C), and a test of ours forcing two
// controllers to propose the same number at once (one_winner_5c) and a
// controller starting during another's change (init_during_change_5c).

/// How long the concurrent controllers race (as in the course).
const RACE: Duration = Duration::from_secs(2);
/// How long the partition-recovery clients run at least (the course: 60 s,
/// about as long as its rounds take; ours take about 20 s).
const CLIENTS_RUN: Duration = Duration::from_secs(20);

fn options(reliable: bool) -> Options {
    if reliable {
        Options::reliable()
    } else {
        Options::unreliable()
    }
}

async fn concurrent(reliable: bool) {
    let (sys, ck) =
        System::setup(&title("concurrent controllers", "5C", reliable), options(reliable)).await;
    let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
    concur_ctrler(&sys, &ck, 4, RACE, &keys, &vals).await;
    sys.end();
}

#[test]
fn concurrent_reliable_5c() {
    run_test(|| concurrent(true));
}

#[test]
fn concurrent_unreliable_5c() {
    run_test(|| concurrent(false));
}

/// A controller cut off in the middle of a join: a new controller
/// finishes the join; the old one, reconnected, must return.
#[test]
fn partition_controller_join_5c() {
    run_test(|| async {
        let (sys, ck) =
            System::setup(&title("partition controller in join", "5C", true), Options::reliable())
                .await;
        let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
        let sck = Rc::new(sys.make_client());
        sck.ctrler.init_controller().await;
        let gid = sys.new_gid();
        sys.start_group(gid);
        sys.shutdown_group(gid);
        let mut join = {
            let (sys, sck) = (sys.clone(), sck.clone());
            task::spawn(async move { sys.join(&sck.ctrler, gid).await })
        };
        sleep(Duration::from_secs(1)).await;
        sys.disconnect(&sck);
        sleep(Duration::from_secs(1)).await;
        sys.start_group(gid);
        let sck0 = sys.make_client();
        sck0.ctrler.init_controller().await;
        let cfg = ck.ctrler.query().await;
        assert!(
            cfg.is_member(gid),
            "gid {gid} is not a member of configuration {} after a new controller's \
             init_controller: the old controller's unfinished join was not recovered",
            cfg.num
        );
        sys.reconnect(&sck);
        finished_within(Duration::from_secs(10), &mut join)
            .await
            .expect("the old controller's join did not return within 10 s of its reconnection");
        sleep(Duration::from_secs(1)).await;
        ck.check_all(&keys, &vals).await;
        sys.end();
    });
}

/// `rounds` rounds of partitionCtrler (the old controller reconnected),
/// with `nclients` clients Putting "k0" meanwhile.
async fn partition_recovery(reliable: bool, rounds: usize, nclients: usize) {
    let what = if nclients == 0 {
        "partitioned controllers, no clerks"
    } else {
        "partitioned controllers, clerks"
    };
    let (sys, ck) = System::setup(&title(what, "5C", reliable), options(reliable)).await;
    let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
    // The clients use k0: the rounds check the others (the course's
    // rounds check no key when there are clients, a shadowed variable).
    let start = Instant::now();
    let clients = Clients::spawn(&sys, nclients);
    for _ in 0..rounds {
        partition_ctrler(&sys, &ck, GID1, &keys[1..], &vals[1..], true).await;
    }
    if nclients > 0
        && let Some(rest) = CLIENTS_RUN.checked_sub(start.elapsed())
    {
        sleep(rest).await;
    }
    clients.stop().await;
    sys.end();
}

#[test]
fn partition_recovery_reliable_no_clerk_5c() {
    run_test(|| partition_recovery(true, 5, 0));
}

#[test]
fn partition_recovery_unreliable_no_clerk_5c() {
    run_test(|| partition_recovery(false, 3, 0));
}

#[test]
fn partition_recovery_reliable_clerks_5c() {
    run_test(|| partition_recovery(true, 5, 5));
}

#[test]
fn partition_recovery_unreliable_clerks_5c() {
    run_test(|| partition_recovery(false, 3, 5));
}

/// How `one_winner` interferes with the two controllers' first Puts to
/// the store (their proposals of the next configuration).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Race {
    /// Held until both have read the store, then released together.
    Together,
    /// The first one's reply is lost and the second one's request too:
    /// both retry and get `ErrMaybe`, and must read the store back.
    Maybe,
}

/// Ours: two controllers read the same current configuration and propose
/// different successors of the same number at once. Exactly one may win:
/// the current configuration is one of the two, and the loser's group
/// serves no shard.
async fn one_winner(race: Race) {
    let what = match race {
        Race::Together => "one of two controllers wins",
        Race::Maybe => "one of two controllers wins, both told ErrMaybe",
    };
    let (sys, ck) = System::setup(&title(what, "5C", true), Options::reliable()).await;
    let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
    let cur = ck.ctrler.query().await;
    let (a, b) = (sys.make_client(), sys.make_client());
    let (ga, gb) = (sys.new_gid(), sys.new_gid());
    let net = network();
    let put = |c: &harness::Client| net.hold(Filter::new().method("kv.put").from(c.node));
    let (ha, hb) = (put(&a), put(&b));
    let reply_a = net.hold(Filter::new().method("kv.put").to(a.node).leg(Leg::Reply));
    let mut cfgs = Vec::new();
    let mut handles = Vec::new();
    for (c, g) in [(a, ga), (b, gb)] {
        sys.start_group(g);
        let mut new = cur.clone();
        assert!(new.join_balance(&BTreeMap::from([(g, group_servers(g))])));
        cfgs.push(new.clone());
        handles.push(task::spawn(async move { c.ctrler.change_config_to(new).await }));
    }
    let start = Instant::now();
    while (net.held(ha) == 0 || net.held(hb) == 0) && start.elapsed() < Duration::from_secs(5) {
        sleep(Duration::from_millis(5)).await;
    }
    if race == Race::Maybe {
        net.release(ha, 1);
        while net.held(reply_a) == 0 && start.elapsed() < Duration::from_secs(5) {
            sleep(Duration::from_millis(5)).await;
        }
        net.drop_held(reply_a);
        net.drop_held(hb);
    }
    for h in [reply_a, ha, hb] {
        net.remove_hold(h);
    }
    for h in handles {
        timeout(Duration::from_secs(20), h)
            .await
            .expect("a change_config_to did not return")
            .expect("controller task");
    }
    let now = ck.ctrler.query().await;
    let winner = cfgs.iter().position(|c| *c == now).unwrap_or_else(|| {
        panic!("after two competing changes the configuration is neither: {now:?}")
    });
    let loser = [ga, gb][1 - winner];
    let g = ck.grp_clerk(loser);
    for k in &keys {
        let r = timeout(Duration::from_secs(5), g.get(k)).await;
        assert!(
            matches!(r, Ok(Err(KvError::WrongGroup))),
            "gid {loser} lost the race to configuration {}, yet answered Get({k:?}) \
             (shard {}) with {r:?}: the losing controller moved shards",
            now.num,
            key2shard(k)
        );
    }
    ck.check_all(&keys, &vals).await;
    sys.end();
}

/// Ours: both controllers' proposals reach the store at the same time.
#[test]
fn one_winner_5c() {
    run_test(|| one_winner(Race::Together));
}

/// Ours: the winner's reply is lost and the loser's request too, so both
/// get `ErrMaybe` on their retries and must read the store back.
#[test]
fn one_winner_maybe_5c() {
    run_test(|| one_winner(Race::Maybe));
}

/// Ours: controller B starts (`init_controller`) when no change is
/// pending, while controller A joins a group: B reads the store, then A
/// proposes and moves; A's publication of the new configuration is held
/// until anything B writes has arrived. B has nothing to finish, so it
/// must write nothing: a controller that rewrites the current
/// configuration moves its version, and A's publication, fenced by the
/// version it read, is refused; the moves are done but never published.
#[test]
fn init_during_change_5c() {
    run_test(|| async {
        let (sys, ck) = System::setup(
            &title("a starting controller leaves another's change alone", "5C", true),
            Options::reliable(),
        )
        .await;
        let (keys, vals) = spread_puts(&ck, NKEYS, VALUE_LEN).await;
        let cur = ck.ctrler.query().await;
        let (a, b) = (Rc::new(sys.make_client()), sys.make_client());
        let net = network();
        let put = |c: &harness::Client| net.hold(Filter::new().method("kv.put").from(c.node));
        let (ha, hb) = (put(&a), put(&b));
        let init = task::spawn(async move { b.ctrler.init_controller().await });
        sleep(Duration::from_millis(50)).await;
        let gid = sys.new_gid();
        sys.start_group(gid);
        let join = {
            let (sys, a) = (sys.clone(), a.clone());
            task::spawn(async move { sys.join(&a.ctrler, gid).await })
        };
        let wait_held = async || {
            let start = Instant::now();
            while net.held(ha) == 0 {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "controller A sent no Put to the store within 10 s"
                );
                sleep(Duration::from_millis(5)).await;
            }
        };
        wait_held().await;
        net.release(ha, 1); // A's proposal of the next configuration
        wait_held().await; // A's publication, after its moves
        net.remove_hold(hb);
        timeout(Duration::from_secs(10), init)
            .await
            .expect("init_controller did not return within 10 s")
            .expect("controller task");
        net.remove_hold(ha);
        timeout(Duration::from_secs(10), join)
            .await
            .expect("the join did not return within 10 s")
            .expect("controller task");
        let now = ck.ctrler.query().await;
        assert_eq!(
            now.num,
            cur.num + 1,
            "controller A moved the shards for configuration {} and published it, but \
             configuration {} is current: controller B's init_controller, with no change \
             pending, wrote the current configuration (moving its version)",
            cur.num + 1,
            now.num
        );
        ck.check_all(&keys, &vals).await;
        sys.end();
    });
}
