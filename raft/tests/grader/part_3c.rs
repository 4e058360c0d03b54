// Part 3C: persistence (6.824's TestPersist13C ... TestUnreliableChurn3C).

/// Figure 8's pause between rounds: usually a few ms, sometimes up to half
/// an election timeout.
async fn figure_8_pause() {
    let ms = if labrpc::rand::gen_range(0..1000) < 100 {
        labrpc::rand::gen_range(0..ELECTION_TIMEOUT.as_millis() as u64 / 2)
    } else {
        labrpc::rand::gen_range(0..13)
    };
    sleep(Duration::from_millis(ms)).await;
}

#[test]
fn persist1_3c() {
    run_test(|| async {
        let cfg = Config::new(3);
        cfg.begin("Test (3C): basic persistence");
        cfg.one(cmd(11), 3, Retry::Yes).await;
        // Crash and restart everyone.
        for i in 0..3 {
            cfg.start1(i);
        }
        for i in 0..3 {
            cfg.disconnect(i);
            cfg.connect(i);
        }
        cfg.one(cmd(12), 3, Retry::Yes).await;
        let leader1 = cfg.check_one_leader().await;
        cfg.disconnect(leader1);
        cfg.start1(leader1);
        cfg.connect(leader1);
        cfg.one(cmd(13), 3, Retry::Yes).await;
        let leader2 = cfg.check_one_leader().await;
        cfg.disconnect(leader2);
        cfg.one(cmd(14), 2, Retry::Yes).await;
        cfg.start1(leader2);
        cfg.connect(leader2);
        // Wait for leader2 to join before killing i3.
        cfg.wait(4, 3, None).await;
        let i3 = (cfg.check_one_leader().await + 1) % 3;
        cfg.disconnect(i3);
        cfg.one(cmd(15), 2, Retry::Yes).await;
        cfg.start1(i3);
        cfg.connect(i3);
        cfg.one(cmd(16), 3, Retry::Yes).await;
        cfg.end();
    });
}

#[test]
fn persist2_3c() {
    run_test(|| async {
        let n = 5;
        let cfg = Config::new(n);
        cfg.begin("Test (3C): more persistence");
        let mut index = 1;
        for _ in 0..5 {
            cfg.one(cmd(10 + index), n, Retry::Yes).await;
            index += 1;
            let leader1 = cfg.check_one_leader().await;
            cfg.disconnect((leader1 + 1) % n);
            cfg.disconnect((leader1 + 2) % n);
            cfg.one(cmd(10 + index), n - 2, Retry::Yes).await;
            index += 1;
            cfg.disconnect(leader1);
            cfg.disconnect((leader1 + 3) % n);
            cfg.disconnect((leader1 + 4) % n);
            cfg.start1((leader1 + 1) % n);
            cfg.start1((leader1 + 2) % n);
            cfg.connect((leader1 + 1) % n);
            cfg.connect((leader1 + 2) % n);
            sleep(ELECTION_TIMEOUT).await;
            cfg.start1((leader1 + 3) % n);
            cfg.connect((leader1 + 3) % n);
            cfg.one(cmd(10 + index), n - 2, Retry::Yes).await;
            index += 1;
            cfg.connect((leader1 + 4) % n);
            cfg.connect(leader1);
        }
        cfg.one(cmd(1000), n, Retry::Yes).await;
        cfg.end();
    });
}

#[test]
fn persist3_3c() {
    run_test(|| async {
        let cfg = Config::new(3);
        cfg.begin("Test (3C): partitioned leader and one follower crash, leader restarts");
        cfg.one(cmd(101), 3, Retry::Yes).await;
        let leader = cfg.check_one_leader().await;
        cfg.disconnect((leader + 2) % 3);
        cfg.one(cmd(102), 2, Retry::Yes).await;
        cfg.crash1(leader);
        cfg.crash1((leader + 1) % 3);
        cfg.connect((leader + 2) % 3);
        cfg.start1(leader);
        cfg.connect(leader);
        cfg.one(cmd(103), 2, Retry::Yes).await;
        cfg.start1((leader + 1) % 3);
        cfg.connect((leader + 1) % 3);
        cfg.one(cmd(104), 3, Retry::Yes).await;
        cfg.end();
    });
}

/// Figure 8 of the extended paper: a leader must not commit an entry of an
/// earlier term by counting replicas.
#[test]
fn figure_8_3c() {
    run_test(|| async {
        let n = 5;
        let cfg = Config::new(n);
        cfg.begin("Test (3C): Figure 8");
        cfg.one(cmd(rand_cmd()), 1, Retry::Yes).await;
        let mut nup = n;
        for _ in 0..1000 {
            let mut leader = None;
            for i in 0..n {
                if cfg.start(i, cmd(rand_cmd())).is_some() {
                    leader = Some(i);
                }
            }
            figure_8_pause().await;
            if let Some(l) = leader {
                cfg.crash1(l);
                nup -= 1;
            }
            if nup < 3 {
                let s = labrpc::rand::gen_range(0..n);
                if cfg.raft(s).is_none() {
                    cfg.start1(s);
                    cfg.connect(s);
                    nup += 1;
                }
            }
        }
        for i in 0..n {
            if cfg.raft(i).is_none() {
                cfg.start1(i);
                cfg.connect(i);
            }
        }
        cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
        cfg.end();
    });
}

#[test]
fn unreliable_agree_3c() {
    run_test(|| async {
        let cfg = Config::with(
            5,
            Options {
                unreliable: true,
                ..Options::default()
            },
        );
        cfg.begin("Test (3C): unreliable agreement");
        for iters in 1..50u64 {
            let mut handles = Vec::new();
            for j in 0..4u64 {
                let cfg = cfg.clone();
                handles.push(task::spawn(async move {
                    cfg.one(cmd(100 * iters + j), 1, Retry::Yes).await;
                }));
            }
            cfg.one(cmd(iters), 1, Retry::Yes).await;
            for h in handles {
                h.await.unwrap();
            }
        }
        cfg.set_unreliable(false);
        cfg.one(cmd(100), 5, Retry::Yes).await;
        cfg.end();
    });
}

#[test]
fn figure_8_unreliable_3c() {
    run_test(|| async {
        let n = 5;
        let cfg = Config::with(
            n,
            Options {
                unreliable: true,
                ..Options::default()
            },
        );
        cfg.begin("Test (3C): Figure 8 (unreliable)");
        cfg.one(cmd(rand_cmd() % 10000), 1, Retry::Yes).await;
        let mut nup = n;
        for iters in 0..1000 {
            if iters == 200 {
                cfg.set_long_reordering(true);
            }
            let mut leader = None;
            for i in 0..n {
                if cfg.start(i, cmd(rand_cmd() % 10000)).is_some() && cfg.is_connected(i) {
                    leader = Some(i);
                }
            }
            figure_8_pause().await;
            if let Some(l) = leader
                && labrpc::rand::gen_range(0..1000) < (ELECTION_TIMEOUT.as_millis() as u64) / 2
            {
                cfg.disconnect(l);
                nup -= 1;
            }
            if nup < 3 {
                let s = labrpc::rand::gen_range(0..n);
                if !cfg.is_connected(s) {
                    cfg.connect(s);
                    nup += 1;
                }
            }
        }
        for i in 0..n {
            if !cfg.is_connected(i) {
                cfg.connect(i);
            }
        }
        cfg.one(cmd(rand_cmd() % 10000), n, Retry::Yes).await;
        cfg.end();
    });
}

/// A vote must survive a crash: the voter is restarted right after it
/// elects one candidate, before the other candidate of the same term asks
/// it. Forgetting the vote (or the term) elects two leaders in one term.
/// (Not in 6.824; our addition.)
#[test]
fn vote_persists_3c() {
    run_test(|| async {
        let net = labrpc::network();
        let cfg = Config::new(3);
        cfg.begin("Test (3C): a vote survives a restart");
        cfg.one(cmd(1), 3, Retry::Yes).await;
        for round in 0..5 {
            let v = cfg.check_one_leader().await;
            let (x, y) = ((v + 1) % 3, (v + 2) % 3);
            let t0 = cfg.state(v).map_or(0, |s| s.0);
            // V goes quiet (its AppendEntries are lost) and X, Y cannot
            // reach each other: both campaign, and only V can vote.
            let v_node = cfg.node(v);
            let quiet = net.add_hook(move |m| {
                if m.from == v_node
                    && m.method == method::append_entries
                    && m.leg == labrpc::trace::Leg::Request
                {
                    labrpc::Verdict::Drop
                } else {
                    labrpc::Verdict::Deliver
                }
            });
            net.cut(cfg.node(x), cfg.node(y));
            net.cut(cfg.node(y), cfg.node(x));
            // The moment one candidate wins with V's vote, restart V.
            let mut winner = None;
            for _ in 0..5000 {
                sleep(Duration::from_millis(1)).await;
                winner = [x, y].into_iter().find_map(|c| match cfg.state(c) {
                    Some((t, true)) if t > t0 => Some((c, t)),
                    _ => None,
                });
                if winner.is_some() {
                    break;
                }
            }
            let (w, term) = winner.expect("no candidate won an election within 5 s");
            cfg.start1(v);
            cfg.connect(v);
            // The other candidate, still in the old term, asks V next.
            for _ in 0..300 {
                sleep(Duration::from_millis(5)).await;
                for c in [x, y] {
                    if let Some((t, true)) = cfg.state(c) {
                        assert!(
                            !(t == term && c != w),
                            "round {round}: peers {w} and {c} both lead term {term}: \
                             peer {v} voted twice in one term across a restart"
                        );
                    }
                }
            }
            net.remove_hook(quiet);
            net.restore(cfg.node(x), cfg.node(y));
            net.restore(cfg.node(y), cfg.node(x));
            cfg.one(cmd(100 + round), 3, Retry::Yes).await;
        }
        cfg.end();
    });
}

/// Figure 8 of the extended paper, scripted: a leader of a later term
/// spreads an entry of an earlier term to a majority. Counting those
/// replicas to commit it is wrong: a peer holding a later-term entry at
/// the same index can still be elected and overwrite it. (Not in 6.824,
/// whose Figure 8 tests find this bug only by chance; our addition.)
#[test]
fn figure_8_scripted_3c() {
    run_test(|| async {
        let n = 5;
        let cfg = Config::new(n);
        cfg.begin("Test (3C): Figure 8, scripted");
        cfg.one(cmd(1), n, Retry::Yes).await;
        // (a) Leader L1 gets A but reaches only F.
        let l1 = cfg.check_one_leader().await;
        let f = (l1 + 1) % n;
        let others: Vec<usize> = (0..n).filter(|&i| i != l1 && i != f).collect();
        for &o in &others {
            cfg.disconnect(o);
        }
        let (ka, _) = cfg.start(l1, cmd(1000)).expect("leader refused Start()");
        sleep(Duration::from_millis(200)).await;
        // (b) L1 crashes, F leaves; the other three elect L2, which takes B
        // at the same index and crashes before sending it to anyone.
        cfg.crash1(l1);
        cfg.disconnect(f);
        for &o in &others {
            cfg.connect(o);
        }
        let l2 = cfg.check_one_leader().await;
        let (kb, _) = cfg.start(l2, cmd(2000)).expect("leader refused Start()");
        assert_eq!(ka, kb, "B should take A's index");
        cfg.crash1(l2);
        // (c) L1 comes back; L1 or F leads the four and copies A (from an
        // older term) to a majority. It must not count them to commit A.
        cfg.start1(l1);
        cfg.connect(l1);
        cfg.connect(f);
        cfg.check_one_leader().await;
        sleep(Duration::from_secs(1)).await;
        // (d) L1 and F leave; L2 comes back and, its last term being newer
        // than A's, is elected by the other two and overwrites A with B.
        cfg.disconnect(l1);
        cfg.disconnect(f);
        cfg.start1(l2);
        cfg.connect(l2);
        cfg.one(cmd(3000), 3, Retry::Yes).await;
        for i in 0..n {
            cfg.connect(i);
        }
        cfg.one(cmd(4000), n, Retry::Yes).await;
        cfg.end();
    });
}

/// Clients keep proposing while peers disconnect, crash and restart; every
/// value a client saw committed must be in the final log.
async fn churn(unreliable: bool) {
    let n = 5;
    let cfg = Config::with(
        n,
        Options {
            unreliable,
            ..Options::default()
        },
    );
    if unreliable {
        cfg.begin("Test (3C): unreliable churn");
    } else {
        cfg.begin("Test (3C): churn");
    }
    let stop = Rc::new(Cell::new(false));
    let mut clients = Vec::new();
    for me in 0..3u64 {
        let cfg = cfg.clone();
        let stop = stop.clone();
        clients.push(task::spawn(async move {
            let mut values = Vec::new();
            while !stop.get() {
                let x = rand_cmd();
                let mut index = None;
                for i in 0..n {
                    // Try them all; maybe one is the leader.
                    if let Some((index1, _)) = cfg.start(i, cmd(x)) {
                        index = Some(index1);
                    }
                }
                if let Some(index) = index {
                    // Maybe the leader will commit our value, maybe not.
                    for to in [10, 20, 50, 100, 200] {
                        let (nd, c) = cfg.n_committed(index);
                        if nd > 0 {
                            if c.as_deref().map(uncmd) == Some(x) {
                                values.push(x);
                            }
                            break;
                        }
                        sleep(Duration::from_millis(to)).await;
                    }
                } else {
                    sleep(Duration::from_millis(79 + me * 17)).await;
                }
            }
            values
        }));
    }
    sleep(Duration::from_secs(1)).await;
    for _ in 0..20 {
        if labrpc::rand::gen_range(0..1000) < 200 {
            cfg.disconnect(labrpc::rand::gen_range(0..n));
        }
        if labrpc::rand::gen_range(0..1000) < 500 {
            let i = labrpc::rand::gen_range(0..n);
            if cfg.raft(i).is_none() {
                cfg.start1(i);
            }
            cfg.connect(i);
        }
        if labrpc::rand::gen_range(0..1000) < 200 {
            let i = labrpc::rand::gen_range(0..n);
            if cfg.raft(i).is_some() {
                cfg.crash1(i);
            }
        }
        // Make crash/restart infrequent enough that the peers can often
        // keep up; otherwise nothing gets committed.
        sleep(ELECTION_TIMEOUT * 7 / 10).await;
    }
    sleep(ELECTION_TIMEOUT).await;
    cfg.set_unreliable(false);
    for i in 0..n {
        if cfg.raft(i).is_none() {
            cfg.start1(i);
        }
        cfg.connect(i);
    }
    stop.set(true);
    let mut values = Vec::new();
    for c in clients {
        values.extend(c.await.unwrap());
    }
    sleep(ELECTION_TIMEOUT).await;
    let last_index = cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
    let committed = Rc::new(RefCell::new(Vec::new()));
    for index in 1..=last_index {
        let v = cfg.wait(index, n, None).await.expect("committed");
        committed.borrow_mut().push(uncmd(&v));
    }
    let committed = committed.borrow();
    for v in values {
        assert!(
            committed.contains(&v),
            "didn't find a value a client saw committed: {v}"
        );
    }
    cfg.end();
}

#[test]
fn reliable_churn_3c() {
    run_test(|| churn(false));
}

#[test]
fn unreliable_churn_3c() {
    run_test(|| churn(true));
}

/// Entries a follower got from a leader that lost are overwritten, round
/// after round, at ever later indices; then every peer restarts from what
/// it saved. The saved log must be the log after every overwrite.
/// (Not in 6.824; our addition.)
#[test]
fn overwrites_persist_3c() {
    run_test(|| async {
        let n = 5;
        let cfg = Config::new(n);
        cfg.begin("Test (3C): overwritten entries, then a restart");
        cfg.one(cmd(1), n, Retry::Yes).await;
        for round in 0..3u64 {
            // The leader reaches one follower only, which takes entries
            // nobody else will have.
            let l = cfg.check_one_leader().await;
            let f = (l + 1) % n;
            let others: Vec<usize> = (0..n).filter(|&p| p != l && p != f).collect();
            for &p in &others {
                cfg.disconnect(p);
            }
            for k in 0..3 {
                cfg.start(l, cmd(100 * round + 10 + k));
            }
            sleep(Duration::from_millis(100)).await;
            // The others commit over them; the two rejoin and are
            // overwritten.
            cfg.disconnect(l);
            cfg.disconnect(f);
            for &p in &others {
                cfg.connect(p);
            }
            cfg.one(cmd(1000 + round), 3, Retry::Yes).await;
            cfg.connect(f);
            cfg.connect(l);
            cfg.one(cmd(2000 + round), n, Retry::Yes).await;
        }
        cfg.crash_restart_all();
        cfg.one(cmd(3000), n, Retry::Yes).await;
        cfg.end();
    });
}

// A follower that adopts a higher term from a message (here a RequestVote
// it refuses: the candidate's log is behind) must persist that term before
// it answers: crashed right after, it comes back in that term. Found by
// `lab fuzz raft` (the `persistent term` monitor); no 6.824 test crashes a
// peer in that instant.
#[test]
fn term_persists_3c() {
    run_test(|| async {
        let cfg = Config::new(3);
        cfg.begin("Test (3C): a term adopted from a RequestVote survives a restart");
        cfg.one(cmd(1), 3, Retry::Yes).await;
        for round in 0..3 {
            let leader = cfg.check_one_leader().await;
            let (x, y) = ((leader + 1) % 3, (leader + 2) % 3);
            // X, cut off, campaigns alone (its term climbs) while the others
            // commit an entry it lacks: they will refuse it their votes.
            cfg.disconnect(x);
            cfg.one(cmd(10 + round), 2, Retry::Yes).await;
            sleep(ELECTION_TIMEOUT * 3).await;
            let high = cfg.state(x).map_or(0, |s| s.0);
            let before = cfg.state(y).map_or(0, |s| s.0);
            cfg.connect(x);
            // The moment Y has adopted X's higher term, crash and restart it.
            let mut adopted = None;
            for _ in 0..3000 {
                sleep(Duration::from_millis(1)).await;
                if let Some((t, _)) = cfg.state(y)
                    && t > before
                {
                    adopted = Some(t);
                    break;
                }
            }
            let Some(t) = adopted else {
                panic!(
                    "peer {y} never left term {before} after peer {x} rejoined in term {high}: \
                     a peer adopts a higher term it sees in any message"
                );
            };
            cfg.start1(y);
            let after = cfg.state(y).map_or(0, |s| s.0);
            assert!(
                after >= t,
                "peer {y} adopted term {t} (from peer {x}'s RequestVote), but came back from a \
                 crash right after in term {after}: persist currentTerm whenever it changes, \
                 before answering"
            );
            cfg.connect(y);
            cfg.one(cmd(100 + round), 3, Retry::Yes).await;
        }
        cfg.end();
    });
}
