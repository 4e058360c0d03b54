// Part 3A: leader election (6.824's TestInitialElection3A,
// TestReElection3A, TestManyElections3A).

#[test]
fn initial_election_3a() {
    run_test(|| async {
        let cfg = Config::new(3);
        cfg.begin("Test (3A): initial election");
        cfg.check_one_leader().await;
        // All peers agree on a term soon after the election.
        sleep(Duration::from_millis(50)).await;
        let term1 = cfg.check_terms();
        assert!(term1 >= 1, "term is {term1}, but should be at least 1");
        // Without failures the leader and term stay put. (6.824 only warns
        // here; with a deterministic network a change is a real bug.)
        sleep(2 * ELECTION_TIMEOUT).await;
        let term2 = cfg.check_terms();
        assert_eq!(
            term1, term2,
            "term changed even though there were no failures"
        );
        cfg.check_one_leader().await;
        cfg.end();
    });
}

#[test]
fn re_election_3a() {
    run_test(|| async {
        let cfg = Config::new(3);
        cfg.begin("Test (3A): election after network failure");
        let leader1 = cfg.check_one_leader().await;
        // If the leader disconnects, a new one should be elected.
        cfg.disconnect(leader1);
        cfg.check_one_leader().await;
        // The old leader rejoining does not disturb the new one.
        cfg.connect(leader1);
        let leader2 = cfg.check_one_leader().await;
        // Without a quorum, no new leader.
        cfg.disconnect(leader2);
        cfg.disconnect((leader2 + 1) % 3);
        sleep(2 * ELECTION_TIMEOUT).await;
        cfg.check_no_leader();
        // With a quorum again, a leader.
        cfg.connect((leader2 + 1) % 3);
        cfg.check_one_leader().await;
        // Re-joining the last peer does not prevent a leader.
        cfg.connect(leader2);
        cfg.check_one_leader().await;
        cfg.end();
    });
}

#[test]
fn many_elections_3a() {
    run_test(|| async {
        let n = 7;
        let cfg = Config::new(n);
        cfg.begin("Test (3A): multiple elections");
        cfg.check_one_leader().await;
        for _ in 0..10 {
            // Disconnect three peers (repeats possible).
            let picks: Vec<usize> = (0..3).map(|_| labrpc::rand::gen_range(0..n)).collect();
            for &i in &picks {
                cfg.disconnect(i);
            }
            // Either the current leader is still alive, or the remaining
            // four elect a new one.
            cfg.check_one_leader().await;
            for &i in &picks {
                cfg.connect(i);
            }
        }
        cfg.check_one_leader().await;
        cfg.end();
    });
}

/// A peer that grants its vote must give the candidate it elected a full
/// election timeout to be heard from: Figure 2 resets the election timer on
/// granting a vote. Here the new leader's heartbeats take 100 ms to arrive;
/// a voter that did not reset its timer at the vote often times out in
/// that gap and deposes the leader it just elected. (Not in 6.824; our
/// addition.)
#[test]
fn vote_resets_election_timer_3a() {
    run_test(|| async {
        let net = labrpc::network();
        let cfg = Config::new(3);
        cfg.begin("Test (3A): a voter waits for the leader it elected");
        for round in 0..15 {
            let old = cfg.check_one_leader().await;
            let nodes: Vec<labrpc::NodeId> = (0..3).map(|i| cfg.node(i)).collect();
            let slow = net.add_hook(move |m| {
                if m.method == method::append_entries
                    && m.leg == labrpc::trace::Leg::Request
                    && m.from != nodes[old]
                {
                    labrpc::Verdict::Delay(Duration::from_millis(100))
                } else {
                    labrpc::Verdict::Deliver
                }
            });
            // The other two elect one of themselves with the other's vote;
            // watch the first leader they elect.
            let (old_term, _) = cfg.state(old).unwrap();
            cfg.disconnect(old);
            let mut first = None;
            for _ in 0..1000 {
                sleep(Duration::from_millis(5)).await;
                first = (0..3)
                    .filter(|&i| i != old)
                    .find_map(|i| match cfg.state(i) {
                        Some((t, true)) if t > old_term => Some((i, t)),
                        _ => None,
                    });
                if first.is_some() {
                    break;
                }
            }
            let (leader, term) = first.expect("no new leader within 5 s");
            for _ in 0..30 {
                sleep(Duration::from_millis(50)).await;
                assert_eq!(
                    cfg.state(leader),
                    Some((term, true)),
                    "round {round}: leader {leader} of term {term} was deposed without any \
                     failure; did its voter reset its election timer when it voted?"
                );
            }
            net.remove_hook(slow);
            cfg.connect(old);
        }
        cfg.end();
    });
}

/// A leader that learns of a newer term only from replies must step down.
/// The old leader comes back to every peer but the new leader: nobody
/// sends it a request, but every follower answers its heartbeats with the
/// newer term. (Not in 6.824; our addition.)
#[test]
fn step_down_on_reply_3a() {
    run_test(|| async {
        let n = 5;
        let cfg = Config::new(n);
        cfg.begin("Test (3A): a leader steps down on a reply with a higher term");
        let l1 = cfg.check_one_leader().await;
        let (t1, _) = cfg.state(l1).expect("the leader runs");
        cfg.disconnect(l1);
        let l2 = cfg.check_one_leader().await;
        let (t2, _) = cfg.state(l2).expect("the leader runs");
        // Back to everyone but the new leader.
        cfg.connect(l1);
        cfg.cut_pair(l1, l2);
        sleep(Duration::from_millis(1500)).await;
        if let Some((t, true)) = cfg.state(l1) {
            assert!(
                t != t1,
                "peer {l1} still believes it leads term {t1}, 1.5 s after it rejoined peers of \
                 term {t2} that answer its heartbeats: a reply carrying a higher term must make \
                 a leader (or candidate) adopt that term and step down"
            );
        }
        cfg.connect(l1);
        cfg.check_one_leader().await;
        cfg.end();
    });
}

/// A candidate that learns of a newer term only from the replies to its
/// RequestVotes adopts it. A peer restarts in an old term while the others
/// moved far ahead, and hears nothing but replies: its first campaign must
/// bring it to their term, not one term at a time. (Not in 6.824; our
/// addition.)
#[test]
fn candidate_steps_down_on_reply_3a() {
    run_test(|| async {
        let n = 5;
        let net = network();
        let cfg = Config::new(n);
        cfg.begin("Test (3A): a candidate adopts a higher term from vote replies");
        let l = cfg.check_one_leader().await;
        let (c, d) = ((l + 1) % n, (l + 2) % n);
        // C is down in an early term; D, cut off, campaigns for 10 s and
        // takes the others' term far ahead when it rejoins.
        cfg.crash1(c);
        cfg.disconnect(d);
        sleep(10 * ELECTION_TIMEOUT).await;
        cfg.connect(d);
        cfg.check_one_leader().await;
        let t = cfg.check_terms();
        // C restarts; every request to it is lost.
        let c_node = cfg.node(c);
        let deaf = net.add_hook(move |m| {
            if m.to == c_node && m.leg == Leg::Request {
                Verdict::Drop
            } else {
                Verdict::Deliver
            }
        });
        cfg.start1(c);
        cfg.connect(c);
        let (t0, _) = cfg.state(c).expect("running");
        sleep(2 * ELECTION_TIMEOUT).await;
        let (tc, _) = cfg.state(c).expect("running");
        assert!(
            t0 >= t || tc >= t,
            "peer {c} restarted in term {t0} and campaigned up to term {tc} within 2 s, while \
             the peers answering its RequestVotes are in term {t}: a candidate must adopt the \
             higher term of a reply (and become a follower)"
        );
        net.remove_hook(deaf);
        cfg.check_one_leader().await;
        cfg.end();
    });
}

// A vote granted in term T counts for term T only. Here candidate C's
// RequestVote replies of its first campaign are held for 3 s while every
// later RequestVote of C is lost: C keeps campaigning in higher terms, and
// when the old grants arrive it must not count them. Found by `lab fuzz
// raft` (two leaders in one term); no 6.824 test delays vote replies past
// a new campaign.
#[test]
fn stale_vote_reply_3a() {
    run_test(|| async {
        let net = network();
        let cfg = Config::new(3);
        cfg.begin("Test (3A): a vote of an earlier term does not count");
        cfg.one(cmd(1), 3, Retry::Yes).await;
        let leader = cfg.check_one_leader().await;
        let c = (leader + 1) % 3;
        let t0 = cfg.state(c).map_or(0, |s| s.0);
        let c_node = cfg.node(c);
        let sent = Rc::new(Cell::new(0u32));
        let hook = {
            let sent = sent.clone();
            net.add_hook(move |m| match (m.method, m.leg) {
                // No AppendEntries reach C: it campaigns, again and again.
                (method::append_entries, Leg::Request) if m.to == c_node => Verdict::Drop,
                // C's first campaign goes out; later ones are lost.
                (method::request_vote, Leg::Request) if m.from == c_node => {
                    sent.set(sent.get() + 1);
                    if sent.get() <= 2 {
                        Verdict::Deliver
                    } else {
                        Verdict::Drop
                    }
                }
                // The grants of the first campaign arrive 3 s late.
                (method::request_vote, Leg::Reply) if m.to == c_node => {
                    Verdict::Delay(ELECTION_TIMEOUT * 3)
                }
                _ => Verdict::Deliver,
            })
        };
        let mut first = None;
        let deadline = Instant::now() + ELECTION_TIMEOUT * 3;
        while Instant::now() < deadline {
            sleep(Duration::from_millis(1)).await;
            if sent.get() >= 2 {
                first = cfg.state(c).map(|s| s.0);
                break;
            }
        }
        let first = first.unwrap_or_else(|| {
            panic!("peer {c} heard from no leader for 3 s but did not campaign (it was in term {t0})")
        });
        let until = Instant::now() + ELECTION_TIMEOUT * 5;
        while Instant::now() < until {
            if let Some((t, true)) = cfg.state(c) {
                assert!(
                    t <= first,
                    "peer {c} leads term {t}, but none of its RequestVotes after term {first} \
                     was delivered: it counted votes granted for term {first} (a reply counts \
                     only for the term its request was sent in)"
                );
            }
            sleep(Duration::from_millis(1)).await;
        }
        net.remove_hook(hook);
        cfg.check_one_leader().await;
        cfg.one(cmd(2), 3, Retry::Yes).await;
        cfg.end();
    });
}
