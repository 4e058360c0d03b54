// Part PX: Basic Paxos. 6.824's 2015 Paxos tests (TestBasic ... TestLots)
// with their bounds, plus dueling proposers and a restarted acceptor.
// The test bodies take a [`Config`] so that Multi-Paxos runs them too.

pub async fn basic(config: Config, part: &str) {
    let px = Px::new(3, config, false);
    px.begin(&format!(
        "Test ({part}): single proposer, many proposers, out-of-order instances"
    ));
    px.start(0, 0, val("hello"));
    px.waitn(0, 3).await;
    for i in 0..3 {
        px.start(i, 1, val(77));
    }
    px.waitn(1, 3).await;
    for i in 0..3 {
        px.start(i, 2, val(100 + i));
    }
    px.waitn(2, 3).await;
    px.start(0, 7, val(700));
    px.start(0, 6, val(600));
    px.start(1, 5, val(500));
    px.waitn(7, 3).await;
    px.start(0, 4, val(400));
    px.start(1, 3, val(300));
    for seq in [6, 5, 4, 3] {
        px.waitn(seq, 3).await;
    }
    assert_eq!(px.max(0), Some(7), "wrong Max()");
    px.end();
}

#[test]
fn basic_px() {
    run_test(|| basic(Config::default(), "PX"));
}

#[test]
fn deaf_px() {
    run_test(|| async {
        let px = Px::new(5, Config::default(), false);
        px.begin("Test (PX): deaf proposer");
        px.start(0, 0, val("hello"));
        px.waitn(0, 5).await;
        px.deaf(0, true);
        px.deaf(4, true);
        px.start(1, 1, val("goodbye"));
        px.waitmajority(1).await;
        sleep(Duration::from_secs(1)).await;
        assert_eq!(px.ndecided(1), 3, "a deaf peer heard about a decision");
        px.start(0, 1, val("xxx"));
        px.waitn(1, 4).await;
        sleep(Duration::from_secs(1)).await;
        assert_eq!(px.ndecided(1), 4, "a deaf peer heard about a decision");
        px.start(4, 1, val("yyy"));
        px.waitn(1, 5).await;
        px.end();
    });
}

#[test]
fn forget_px() {
    run_test(|| async {
        let px = Px::new(6, Config::default(), false);
        px.begin("Test (PX): forgetting");
        for i in 0..6 {
            assert_eq!(px.min(i), 0, "wrong initial Min() on peer {i}");
        }
        px.start(0, 0, val("00"));
        px.start(1, 1, val("11"));
        px.start(2, 2, val("22"));
        px.start(0, 6, val("66"));
        px.start(1, 7, val("77"));
        px.waitn(0, 6).await;
        for i in 0..6 {
            assert_eq!(px.min(i), 0, "wrong Min() on peer {i}");
        }
        px.waitn(1, 6).await;
        for i in 0..6 {
            assert_eq!(px.min(i), 0, "wrong Min() on peer {i}");
        }
        for i in 0..6 {
            px.done(i, 0);
        }
        for i in 1..6 {
            px.done(i, 1);
        }
        for i in 0..6 {
            px.start(i, 8 + i as u64, val("xx"));
        }
        let mut allok = false;
        for _ in 0..12 {
            allok = (0..6).all(|i| px.min(i) == 1);
            if allok {
                break;
            }
            sleep(Duration::from_secs(1)).await;
        }
        assert!(allok, "Min() did not advance after Done()");
        px.end();
    });
}

#[test]
fn many_forget_px() {
    run_test(|| async {
        let px = Px::new(3, Config::default(), true);
        px.begin("Test (PX): lots of forgetting");
        let maxseq = 20u64;
        let mut order: Vec<u64> = (0..maxseq).collect();
        rand::shuffle(&mut order);
        for &seq in &order {
            let i = rand::gen_range(0..3);
            px.start(i, seq, val(rand::random::<u32>()));
        }
        let stop = Rc::new(Cell::new(false));
        let forgetter = {
            let px = px.clone();
            let stop = stop.clone();
            task::spawn(async move {
                while !stop.get() {
                    let seq = rand::gen_range(0..maxseq);
                    let i = rand::gen_range(0..3);
                    if seq >= px.min(i) && matches!(px.status(i, seq), Fate::Decided(_)) {
                        px.done(i, seq);
                    }
                    sleep(Duration::from_millis(1)).await;
                }
            })
        };
        sleep(Duration::from_secs(5)).await;
        stop.set(true);
        forgetter.await.unwrap();
        network().set_reliable(true);
        sleep(Duration::from_secs(2)).await;
        for seq in 0..maxseq {
            for i in 0..3 {
                if seq >= px.min(i) {
                    px.status(i, seq);
                }
            }
            px.ndecided(seq);
        }
        px.end();
    });
}

/// Live heap of the simulation thread, in bytes.
fn heap() -> i64 {
    memory::live_bytes()
}

/// `len` random letters (one draw from the simulation's RNG).
pub fn big_value(len: usize) -> Vec<u8> {
    let mut x: u64 = rand::random::<u64>() | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b'a' + (x % 26) as u8
        })
        .collect()
}

#[test]
fn forget_mem_px() {
    run_test(|| async {
        let px = Px::new(3, Config::default(), false);
        px.begin("Test (PX): Paxos frees forgotten instance memory");
        px.start(0, 0, val("x"));
        px.waitn(0, 3).await;
        for seq in 1..=10u64 {
            let big = big_value(1_000_000);
            px.start(0, seq, big);
            px.waitn(seq, 3).await;
        }
        let before = heap();
        for i in 0..3 {
            px.done(i, 10);
        }
        for i in 0..3 {
            px.start(i, 11 + i as u64, val(-1));
        }
        sleep(Duration::from_secs(3)).await;
        for i in 0..3 {
            assert_eq!(px.min(i), 11, "expected Min() 11 on peer {i}");
        }
        let after = heap();
        println!(
            "  heap {:.1} MB before Done, {:.1} MB after",
            before as f64 / 1e6,
            after as f64 / 1e6
        );
        assert!(
            after <= before / 2,
            "memory use did not shrink enough: {before} bytes before Done, {after} after"
        );
        for seq in 0..3 {
            for i in 0..3 {
                assert_eq!(
                    px.status(i, seq),
                    Fate::Forgotten,
                    "seq {seq} not forgotten on peer {i}"
                );
            }
        }
        for i in 0..3 {
            px.start(i, 0, val("xxx"));
        }
        sleep(Duration::from_secs(1)).await;
        for i in 0..3 {
            assert_eq!(
                px.status(i, 0),
                Fate::Forgotten,
                "a forgotten instance came back"
            );
        }
        px.end();
    });
}

#[test]
fn done_max_px() {
    run_test(|| async {
        let px = Px::new(3, Config::default(), false);
        px.begin("Test (PX): Paxos Max() after Done()s");
        px.start(0, 0, val("x"));
        px.waitn(0, 3).await;
        for seq in 1..=10 {
            px.start(0, seq, val("y"));
            px.waitn(seq, 3).await;
        }
        for i in 0..3 {
            px.done(i, 10);
        }
        for i in 0..3 {
            px.start(i, 10, val("z"));
        }
        sleep(Duration::from_secs(2)).await;
        for i in 0..3 {
            assert_eq!(
                px.max(i),
                Some(10),
                "Max() on peer {i} is wrong after Done()s"
            );
        }
        px.end();
    });
}

#[test]
fn rpc_count_px() {
    run_test(|| async {
        let px = Px::new(3, Config::default(), false);
        px.begin("Test (PX): RPC counts aren't too high");
        let mut seq = 0;
        for _ in 0..5 {
            px.start(0, seq, val("x"));
            px.waitn(seq, 3).await;
            seq += 1;
        }
        sleep(Duration::from_secs(2)).await;
        let total1 = px.rpc_total();
        let expected1 = 5 * 3 * 3;
        assert!(
            total1 <= expected1,
            "too many RPCs for serial Start()s; {total1} instead of {expected1}"
        );
        for i in 0..5 {
            for j in 0..3 {
                px.start(j, seq, val(j + i * 10));
            }
            px.waitn(seq, 3).await;
            seq += 1;
        }
        sleep(Duration::from_secs(2)).await;
        let total2 = px.rpc_total() - total1;
        let expected2 = 5 * 3 * 15;
        assert!(
            total2 <= expected2,
            "too many RPCs for concurrent Start()s; {total2} instead of {expected2}"
        );
        println!("  {total1} RPCs for 5 serial instances, {total2} for 5 concurrent");
        px.end();
    });
}

pub async fn many(config: Config, part: &str, unreliable: bool) {
    let n = 3;
    let px = Px::new(n, config, unreliable);
    let what = if unreliable {
        "many instances, unreliable RPC"
    } else {
        "many instances"
    };
    px.begin(&format!("Test ({part}): {what}"));
    for i in 0..n {
        px.start(i, 0, val(0));
    }
    let window = if unreliable { 3 } else { 5 };
    let ninst = 50;
    for seq in 1..ninst {
        while seq >= window && px.ndecided(seq - window) < n {
            sleep(Duration::from_millis(20)).await;
        }
        for i in 0..n {
            px.start(i, seq, val(seq * 10 + i as u64));
        }
    }
    for seq in 0..ninst {
        px.waitn(seq, n).await;
    }
    px.end();
}

#[test]
fn many_px() {
    run_test(|| many(Config::default(), "PX", false));
}

#[test]
fn many_unreliable_px() {
    run_test(|| many(Config::default(), "PX", true));
}

#[test]
fn old_px() {
    run_test(|| async {
        let px = Px::new(5, Config::default(), false);
        px.begin("Test (PX): a peer starts up, with proposal, after others decide");
        px.crash(0);
        px.crash(4);
        px.start(1, 1, val(111));
        px.waitmajority(1).await;
        px.start_peer(0);
        px.start(0, 1, val(222));
        px.waitn(1, 4).await;
        px.end();
    });
}

pub async fn partition(config: Config, part: &str) {
    let px = Px::new(5, config, false);
    px.begin(&format!(
        "Test ({part}): partitions: no decision in a minority, one peer switches"
    ));
    let mut seq = 0u64;
    px.partition(&[&[0, 2], &[1, 3], &[4]]);
    px.start(1, seq, val(111));
    px.checkmax(seq, 0).await;
    px.partition(&[&[0], &[1, 2, 3], &[4]]);
    sleep(Duration::from_secs(2)).await;
    px.waitmajority(seq).await;
    px.start(0, seq, val(1000));
    px.start(4, seq, val(1004));
    px.heal();
    px.waitn(seq, 5).await;
    for _ in 0..20 {
        seq += 1;
        px.partition(&[&[0, 1, 2], &[3, 4]]);
        px.start(0, seq, val(seq * 10));
        px.start(3, seq, val(seq * 10 + 1));
        px.waitmajority(seq).await;
        let nd = px.ndecided(seq);
        assert!(nd <= 3, "too many decided in a minority: {nd}");
        px.partition(&[&[0, 1], &[2, 3, 4]]);
        px.waitn(seq, 5).await;
    }
    network().set_reliable(false);
    for _ in 0..20 {
        seq += 1;
        px.partition(&[&[0, 1, 2], &[3, 4]]);
        for i in 0..5 {
            px.start(i, seq, val(seq * 10 + i as u64));
        }
        px.waitn(seq, 3).await;
        let nd = px.ndecided(seq);
        assert!(nd <= 3, "too many decided in a minority: {nd}");
        px.partition(&[&[0, 1], &[2, 3, 4]]);
        network().set_reliable(true);
        px.waitn(seq, 5).await;
        network().set_reliable(false);
    }
    px.end();
}

#[test]
fn partition_px() {
    run_test(|| partition(Config::default(), "PX"));
}

pub async fn lots(config: Config, part: &str) {
    let n = 5;
    let px = Px::new(n, config, true);
    px.begin(&format!(
        "Test ({part}): many requests, changing partitions"
    ));
    let stop = Rc::new(Cell::new(false));
    let started = Rc::new(Cell::new(0u64));
    let partitioner = {
        let (px, stop) = (px.clone(), stop.clone());
        task::spawn(async move {
            while !stop.get() {
                let mut groups: Vec<Vec<usize>> = vec![Vec::new(); 3];
                for i in 0..n {
                    groups[rand::gen_range(0..3)].push(i);
                }
                let refs: Vec<&[usize]> = groups.iter().map(|g| g.as_slice()).collect();
                px.partition(&refs);
                sleep(Duration::from_millis(rand::gen_range(0..200))).await;
            }
        })
    };
    let proposer = {
        let (px, stop, started) = (px.clone(), stop.clone(), started.clone());
        task::spawn(async move {
            while !stop.get() {
                let seq = started.get();
                let undecided = (0..seq).filter(|&s| px.ndecided(s) < n / 2 + 1).count();
                if undecided < 10 {
                    for i in 0..n {
                        px.start(i, seq, val(rand::gen_range(0..10)));
                    }
                    started.set(seq + 1);
                }
                sleep(Duration::from_millis(rand::gen_range(0..300))).await;
            }
        })
    };
    let checker = {
        let (px, stop, started) = (px.clone(), stop.clone(), started.clone());
        task::spawn(async move {
            while !stop.get() {
                for s in 0..started.get() {
                    px.ndecided(s);
                }
                sleep(Duration::from_millis(10)).await;
            }
        })
    };
    sleep(Duration::from_secs(20)).await;
    stop.set(true);
    partitioner.await.unwrap();
    proposer.await.unwrap();
    checker.await.unwrap();
    network().set_reliable(true);
    px.heal();
    sleep(Duration::from_secs(5)).await;
    for s in 0..started.get() {
        let nd = px.ndecided(s);
        assert!(nd > n / 2, "instance {s} not decided by a majority ({nd})");
    }
    println!("  {} instances", started.get());
    px.end();
}

#[test]
fn lots_px() {
    run_test(|| lots(Config::default(), "PX"));
}

/// Every peer proposes its own value for each instance at the same
/// moment: randomized backoff must end every duel, with one value.
pub async fn dueling(config: Config, part: &str) {
    let n = 5;
    let px = Px::new(n, config, false);
    px.begin(&format!("Test ({part}): dueling proposers terminate"));
    let mut slowest = Duration::ZERO;
    for seq in 0..20u64 {
        let t0 = Instant::now();
        for i in 0..n {
            px.start(i, seq, val(format!("{seq}-{i}")));
        }
        px.waitn(seq, n).await;
        slowest = slowest.max(t0.elapsed());
    }
    println!(
        "  slowest duel decided in {:.0} virtual ms",
        slowest.as_secs_f64() * 1000.0
    );
    px.end();
}

#[test]
fn dueling_px() {
    run_test(|| dueling(Config::default(), "PX"));
}

/// A value is chosen by a majority {0, 1} of three; peer 0 (which learned
/// it) goes down and peer 1 crashes and restarts. Peer 2 then proposes
/// with peer 1: the restarted acceptor must still report what it
/// accepted, so the same value is chosen again.
#[test]
fn restart_acceptor_px() {
    run_test(|| async {
        let px = Px::new(3, Config::default(), false);
        px.begin("Test (PX): a restarted acceptor keeps its promises");
        let (n0, n1) = (px.node(0), px.node(1));
        // Peer 0's Accepts reach only peer 1, and nobody hears of the
        // decision from peer 0.
        let hook = network().add_hook(move |m| {
            let blocked = m.leg == Leg::Request
                && m.from == n0
                && m.to != n0
                && ((m.method == "paxos.accept" && m.to != n1)
                    || m.method != "paxos.prepare" && m.method != "paxos.accept");
            if blocked {
                Verdict::Drop
            } else {
                Verdict::Deliver
            }
        });
        px.start(0, 0, val("first"));
        px.waitn(0, 1).await;
        assert_eq!(px.chosen(0), Some(val("first")));
        px.crash(0);
        network().remove_hook(hook);
        px.crash(1);
        px.start_peer(1);
        px.start(2, 0, val("second"));
        px.waitn(0, 2).await;
        px.end();
    });
}

/// Five peers; peers 3 and 4 hear nothing (a message to them is lost,
/// which its sender learns at once), and the answers of peers 1 and 2
/// come 5 ms late. Peer 0's proposal meets two lost messages before a
/// majority answers, in phase 1 and in phase 2: a proposer may give up a
/// round only when a majority can no longer answer, so it decides at
/// the first try. One that gives up at the first or second lost message
/// never decides.
#[test]
fn lost_messages_px() {
    run_test(|| async {
        let px = Px::new(5, Config::default(), false);
        px.begin("Test (PX): lost messages while a majority still answers");
        let (n1, n2, n3, n4) = (px.node(1), px.node(2), px.node(3), px.node(4));
        let hook = network().add_hook(move |m| match m.leg {
            Leg::Request if m.to == n3 || m.to == n4 => Verdict::Drop,
            Leg::Reply if m.from == n1 || m.from == n2 => {
                Verdict::Delay(Duration::from_millis(5))
            }
            _ => Verdict::Deliver,
        });
        px.start(0, 0, val("x"));
        sleep(Duration::from_millis(500)).await;
        let nd = px.ndecided(0);
        assert!(
            nd >= 3,
            "after 500 ms only {nd} peers decided: the proposer gives up a round at \
             a lost message though a majority can still answer (it must count \
             failures up to n - majority)"
        );
        network().remove_hook(hook);
        px.start(3, 0, val("y"));
        px.start(4, 0, val("z"));
        px.waitn(0, 5).await;
        assert_eq!(px.chosen(0), Some(val("x")));
        px.end();
    });
}

/// Five peers; peers 3 and 4 promised a higher ballot (peer 3's Prepare,
/// which reached only them before peer 3 restarted), so they reject peer
/// 0's Prepare and Accept at once, while peers 1 and 2 answer 5 ms late.
/// Three promises and three accepts still come: the value is chosen in
/// one round, four Prepares and four Accepts. A proposer that gives up
/// its round at the first or second rejection needs another round.
#[test]
fn rejected_minority_px() {
    run_test(|| async {
        let px = Px::new(5, Config::default(), false);
        px.begin("Test (PX): rejections from a minority do not end a round");
        let (n1, n2, n3, n4) = (px.node(1), px.node(2), px.node(3), px.node(4));
        let only_4 = network().add_hook(move |m| {
            if m.leg == Leg::Request && m.from == n3 && m.to != n3 && m.to != n4 {
                Verdict::Drop
            } else {
                Verdict::Deliver
            }
        });
        px.start(3, 0, val("three"));
        sleep(Duration::from_millis(5)).await;
        px.crash(3);
        network().remove_hook(only_4);
        px.start_peer(3);
        let late = network().add_hook(move |m| {
            if m.leg == Leg::Reply && (m.from == n1 || m.from == n2) {
                Verdict::Delay(Duration::from_millis(5))
            } else {
                Verdict::Deliver
            }
        });
        let counter = MessageCounter::new();
        px.start(0, 0, val("x"));
        sleep(Duration::from_millis(300)).await;
        network().remove_hook(late);
        assert!(px.ndecided(0) >= 3, "peer 0's value was not chosen");
        let rounds = (counter.get("paxos.prepare"), counter.get("paxos.accept"));
        assert_eq!(
            rounds,
            (4, 4),
            "(Prepare, Accept) messages: the proposer gave up a round at a rejection \
             though a majority could still answer"
        );
        px.end();
    });
}

/// Drops requests of `method` ("" for every method) to peers 1, 2 and 3
/// and holds those to peer 4 for 2 s: a round meets three failures at
/// once, and peer 4's answer comes late.
fn three_fail_one_late(px: &Px, method: &'static str) -> labrpc::net::HookId {
    let (fast, late) = ([px.node(1), px.node(2), px.node(3)], px.node(4));
    network().add_hook(move |m| {
        let hit = m.leg == Leg::Request && (method.is_empty() || m.method == method);
        if hit && fast.contains(&m.to) {
            Verdict::Drop
        } else if hit && m.to == late {
            Verdict::Delay(Duration::from_secs(2))
        } else {
            Verdict::Deliver
        }
    })
}

/// Asserts that `seq` is decided by a majority within `within`.
async fn decided_within(px: &Px, seq: u64, within: Duration, why: &str) {
    sleep(within).await;
    let nd = px.ndecided(seq);
    assert!(nd >= 3, "instance {seq}: {nd} peers decided after {within:?}: {why}");
}

/// Five peers. A round of peer 0's that three peers fail at once (lost
/// messages in phase 1, then in phase 2; rejections in phase 1) must end
/// there and be retried, not wait for the fifth peer's answer, which
/// comes 2 s later: the losses stop after 100 ms and each value is
/// decided within 1 s.
#[test]
fn give_up_round_px() {
    run_test(|| async {
        let px = Px::new(5, Config::default(), false);
        px.begin("Test (PX): a round a majority failed ends at once");
        let why = "the proposer waits for every answer after a majority failed its round";
        for (seq, method) in [(0, "paxos.prepare"), (1, "paxos.accept")] {
            let hook = three_fail_one_late(&px, method);
            px.start(0, seq, val(seq));
            sleep(Duration::from_millis(100)).await;
            network().remove_hook(hook);
            decided_within(&px, seq, Duration::from_millis(900), why).await;
        }
        // Peers 1, 2, 3 promise peer 4's ballot (peer 4 then restarts;
        // peer 0 never sees it): they reject peer 0's lower one.
        let (n0, n4) = (px.node(0), px.node(4));
        let only = network().add_hook(move |m| {
            let out = m.leg == Leg::Request && m.from == n4;
            if out && (m.method != "paxos.prepare" || m.to == n0) {
                Verdict::Drop
            } else {
                Verdict::Deliver
            }
        });
        px.start(4, 2, val("four"));
        sleep(Duration::from_millis(5)).await;
        px.crash(4);
        network().remove_hook(only);
        px.start_peer(4);
        let late = network().add_hook(move |m| {
            if m.leg == Leg::Request && m.to == n4 {
                Verdict::Delay(Duration::from_secs(2))
            } else {
                Verdict::Deliver
            }
        });
        px.start(0, 2, val(2));
        decided_within(&px, 2, Duration::from_secs(1), why).await;
        network().remove_hook(late);
        px.end();
    });
}

/// Peer 0 Starts each of five instances three times in a row (as a
/// kvpaxos server does when a clerk retries), on a reliable network: one
/// proposer per instance, so each costs what a single Start costs, two
/// Prepares and two Accepts. A peer that starts a second proposer for an
/// instance it already proposes makes it duel with itself.
#[test]
fn repeated_start_px() {
    run_test(|| async {
        let px = Px::new(3, Config::default(), false);
        px.begin("Test (PX): a repeated Start does not start a second proposer");
        let counter = MessageCounter::new();
        for seq in 0..5u64 {
            for k in 0..3 {
                px.start(0, seq, val(format!("{seq}-{k}")));
            }
            px.waitn(seq, 3).await;
        }
        sleep(Duration::from_secs(1)).await;
        let rounds = (counter.get("paxos.prepare"), counter.get("paxos.accept"));
        println!("  (Prepare, Accept) messages for 5 instances: {rounds:?}");
        assert_eq!(
            rounds,
            (10, 10),
            "(Prepare, Accept) messages for 5 instances each Started three times at \
             peer 0: a Start for an instance the peer already proposes must not start \
             another proposer"
        );
        px.end();
    });
}

/// Five peers. Peer 0 wins phase 1; before its Accepts arrive (held
/// 50 ms), peers 1, 2 and 3 promise peer 4's higher ballot (peer 4 then
/// restarts), and every request to peer 4 is held 2 s. Three rejections
/// end the round at once (a majority can no longer accept): peer 0 must
/// retry then, not wait 2 s for peer 4's answer, and the instance is
/// decided within 1 s.
#[test]
fn give_up_accept_round_px() {
    run_test(|| async {
        let px = Px::new(5, Config::default(), false);
        px.begin("Test (PX): an Accept round a majority rejected ends at once");
        let (n0, n4) = (px.node(0), px.node(4));
        let held = network().add_hook(move |m| match m.leg {
            Leg::Request if m.to == n4 && m.from != n4 => Verdict::Delay(Duration::from_secs(2)),
            Leg::Request if m.from == n0 && m.method == "paxos.accept" && m.to != n0 => {
                Verdict::Delay(Duration::from_millis(50))
            }
            _ => Verdict::Deliver,
        });
        px.start(0, 0, val("zero"));
        sleep(Duration::from_millis(15)).await;
        // Peer 4's Prepares reach peers 1, 2, 3 only; it then restarts.
        let only = network().add_hook(move |m| {
            let out = m.leg == Leg::Request && m.from == n4;
            if out && (m.method != "paxos.prepare" || m.to == n0) {
                Verdict::Drop
            } else {
                Verdict::Deliver
            }
        });
        px.start(4, 0, val("four"));
        sleep(Duration::from_millis(5)).await;
        px.crash(4);
        network().remove_hook(only);
        px.start_peer(4);
        decided_within(
            &px,
            0,
            Duration::from_secs(1),
            "the proposer waits for every Accept answer after a majority rejected its round",
        )
        .await;
        network().remove_hook(held);
        px.waitn(0, 5).await;
        px.end();
    });
}
