// Part MP: Multi-Paxos. Under a stable leader each value costs one round
// trip (Accept) and no Prepare; when the leader fails the others fall
// back to full Paxos and terminate; and the 2015 tests still pass.

fn multi() -> Config {
    Config {
        learners: Learners::Proposer,
        multi: true,
    }
}

#[test]
fn basic_mp() {
    run_test(|| basic(multi(), "MP"));
}

/// Peer 0 becomes leader with its first value; 20 more values cost no
/// Prepare and exactly one Accept round (n−1 messages) each; a value
/// started at another peer is forwarded (one message) to the leader.
#[test]
fn one_round_trip_mp() {
    run_test(|| async {
        let n = 5u64;
        let px = Px::new(n as usize, multi(), false);
        px.begin("Test (MP): one round trip per value under a stable leader");
        px.start(0, 0, val("first"));
        px.waitn(0, n as usize).await;
        let counter = MessageCounter::new();
        let k = 20u64;
        for seq in 1..=k {
            px.start(0, seq, val(seq));
            px.waitn(seq, n as usize).await;
        }
        let before = counter.all();
        px.start(3, k + 1, val("from 3"));
        px.waitn(k + 1, n as usize).await;
        sleep(Duration::from_secs(1)).await;
        println!("  {before:?} for {k} values at the leader");
        assert_eq!(
            counter.get("paxos.prepare"),
            0,
            "a stable leader sent Prepare"
        );
        assert_eq!(
            before.get("paxos.accept").copied().unwrap_or(0),
            k * (n - 1),
            "Accept messages"
        );
        assert_eq!(
            before.get("paxos.decided").copied().unwrap_or(0),
            k * (n - 1),
            "Decided messages"
        );
        assert_eq!(
            counter.get("paxos.forward"),
            1,
            "a follower forwards its value once"
        );
        assert_eq!(
            counter.get("paxos.accept"),
            (k + 1) * (n - 1),
            "Accept messages"
        );
        px.end();
    });
}

/// The leader crashes; every other peer proposes its own value for each
/// of 10 instances: they fall back to full Paxos and every instance
/// decides.
#[test]
fn leader_crash_mp() {
    run_test(|| async {
        let px = Px::new(5, multi(), false);
        px.begin("Test (MP): the leader crashes, the others take over");
        for seq in 0..3 {
            px.start(0, seq, val(seq));
            px.waitn(seq, 5).await;
        }
        px.crash(0);
        for seq in 3..13u64 {
            for i in 1..5 {
                px.start(i, seq, val(format!("{seq}-{i}")));
            }
        }
        for seq in 3..13 {
            px.waitn(seq, 4).await;
        }
        px.start_peer(0);
        px.start(0, 13, val("back"));
        px.waitn(13, 5).await;
        px.end();
    });
}

#[test]
fn dueling_mp() {
    run_test(|| dueling(multi(), "MP"));
}

#[test]
fn many_unreliable_mp() {
    run_test(|| many(multi(), "MP", true));
}

#[test]
fn partition_mp() {
    run_test(|| partition(multi(), "MP"));
}

#[test]
fn lots_mp() {
    run_test(|| lots(multi(), "MP"));
}

/// Peers 0 and 1 both run phase 1 for every instance, with ballots
/// (1, peer 0) < (1, peer 1); each reaches only peer 2. Peer 1's Prepare
/// reaches peer 2 first, then peer 0's (held 10 ms), then peer 1's Accept
/// (held 30 ms), after peer 0's own Accept. Peer 2 must refuse peer 0's
/// lower ballot: an acceptor that promises it (and lowers its promise)
/// lets peer 0 choose its value with {0, 2}, then accepts peer 1's,
/// which peer 1 then learns as chosen with {1, 2}. Peer 0's Decided
/// messages are lost meanwhile.
#[test]
fn lower_ballot_promise_mp() {
    run_test(|| async {
        let px = Px::new(3, multi(), false);
        px.begin("Test (MP): an acceptor refuses a Prepare below its promise");
        let (n0, n1, n2) = (px.node(0), px.node(1), px.node(2));
        let hook = network().add_hook(move |m| {
            if m.leg != Leg::Request || m.from == m.to {
                return Verdict::Deliver;
            }
            let between = |a, b| (m.from == a && m.to == b) || (m.from == b && m.to == a);
            match m.method {
                _ if between(n0, n1) => Verdict::Drop,
                "paxos.prepare" if m.from == n0 => Verdict::Delay(Duration::from_millis(10)),
                "paxos.accept" if m.from == n1 => Verdict::Delay(Duration::from_millis(30)),
                "paxos.accept" | "paxos.prepare" => Verdict::Deliver,
                _ if m.from == n0 && m.to == n2 => Verdict::Drop,
                _ => Verdict::Deliver,
            }
        });
        px.start(0, 0, val("from 0"));
        px.start(1, 0, val("from 1"));
        sleep(Duration::from_millis(100)).await;
        if let (Fate::Decided(a), Fate::Decided(b)) = (px.status(0, 0), px.status(1, 0)) {
            assert_eq!(
                a, b,
                "peers 0 and 1 decided different values: an acceptor promised a \
                 Multi-Paxos Prepare below the ballot it had promised"
            );
        }
        network().remove_hook(hook);
        px.waitn(0, 3).await;
        px.end();
    });
}

/// Instance 2 holds two accepted values when peer 0 takes over again:
/// its own "old" (accepted alone, at its first leader ballot, just before
/// it crashed) and "new", chosen meanwhile by peer 1 with peer 2 at a
/// higher ballot (peer 2 never hears the decision). Peer 0's phase 1 for
/// every instance from 1 on gets both (its own first); as leader it must
/// propose instance 2's highest-ballot value, "new", not "old".
#[test]
fn adopt_highest_mp() {
    run_test(|| async {
        let px = Px::new(3, multi(), false);
        px.begin("Test (MP): a new leader adopts the highest-ballot value");
        let (n0, n1, n2) = (px.node(0), px.node(1), px.node(2));
        px.start(0, 0, val("zero"));
        px.waitn(0, 3).await;
        // Peer 0's Accept for instance 2 reaches nobody; it crashes.
        let mute = network().add_hook(move |m| {
            if m.leg == Leg::Request && m.from == n0 && m.to != n0 {
                Verdict::Drop
            } else {
                Verdict::Deliver
            }
        });
        px.start(0, 2, val("old"));
        sleep(Duration::from_millis(5)).await;
        px.crash(0);
        network().remove_hook(mute);
        // Peer 1 chooses "new" with peer 2, which never learns it.
        let deaf2 = network().add_hook(move |m| {
            let to_2 = m.leg == Leg::Request && m.to == n2 && m.method == "paxos.decided";
            let between_0_1 = m.leg == Leg::Request
                && ((m.from == n0 && m.to == n1) || (m.from == n1 && m.to == n0));
            if to_2 || between_0_1 {
                Verdict::Drop
            } else {
                Verdict::Deliver
            }
        });
        px.start(1, 2, val("new"));
        sleep(Duration::from_millis(150)).await;
        assert_eq!(px.status(1, 2), Fate::Decided(val("new")));
        // Peer 0 returns and leads from instance 1 with peer 2.
        px.start_peer(0);
        px.start(0, 1, val("one"));
        sleep(Duration::from_millis(100)).await;
        px.start(0, 2, val("zzz"));
        sleep(Duration::from_millis(50)).await;
        let got = px.status(0, 2);
        assert!(
            got == Fate::Decided(val("new")),
            "instance 2 chose \"new\" (peers 1, 2), but peer 0 decided {got:?}: a new \
             leader proposed a value its phase 1 found accepted at a lower ballot, not \
             the highest-ballot one"
        );
        network().remove_hook(deaf2);
        px.waitn(2, 3).await;
        px.end();
    });
}

/// Peer 0 leads; peer 1 restarts (forgetting who leads) and takes over
/// with its own phase 1, whose Prepare peer 0's acceptor promises. Peer
/// 0 must know it no longer leads: a value started there is forwarded
/// once to peer 1 and costs one Accept round of peer 1's, no Prepare. A
/// deposed leader that still believes it leads sends a doomed Accept
/// round and then runs phase 1 itself.
#[test]
fn deposed_leader_forwards_mp() {
    run_test(|| async {
        let n = 3u64;
        let px = Px::new(n as usize, multi(), false);
        px.begin("Test (MP): a deposed leader forwards to its successor");
        px.start(0, 0, val("first"));
        px.waitn(0, n as usize).await;
        px.crash(1);
        px.start_peer(1);
        px.start(1, 1, val("from 1"));
        px.waitn(1, n as usize).await;
        let counter = MessageCounter::new();
        px.start(0, 2, val("from 0"));
        px.waitn(2, n as usize).await;
        sleep(Duration::from_secs(1)).await;
        let got = (
            counter.get("paxos.prepare"),
            counter.get("paxos.forward"),
            counter.get("paxos.accept"),
        );
        println!("  (Prepare, Forward, Accept) after the takeover: {got:?}");
        assert_eq!(
            got,
            (0, 1, n - 1),
            "(Prepare, Forward, Accept) messages for a value started at peer 0 after peer \
             1 took over (peer 0 promised its ballot and accepted its value): the deposed \
             leader must forward it once to peer 1, whose Accept round chooses it"
        );
        assert_eq!(px.chosen(2), Some(val("from 0")));
        px.end();
    });
}
