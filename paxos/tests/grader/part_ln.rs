// Part LN: the learner strategies. On a fault-free run each strategy's
// message count must equal its formula; learning must complete with a
// distinguished learner crashed; and no learner may take a value
// accepted by a minority for chosen.

fn config(learners: Learners) -> Config {
    Config {
        learners,
        multi: false,
    }
}

/// The messages that cross the network per decided value, for `n`
/// peers (every peer an acceptor and a learner; a peer's note to itself
/// is a local call): (Accepted, Decided).
pub fn formula(learners: &Learners, n: u64) -> (u64, u64) {
    match learners {
        Learners::Proposer => (0, n - 1),
        Learners::AllToAll => (n * (n - 1), 0),
        Learners::Distinguished(_) => (n - 1, n - 1),
        Learners::Set(s) => {
            let k = s.len() as u64;
            (k * (n - 1), k * (n - k))
        }
    }
}

/// 10 values proposed one after another by peer 2 (no distinguished
/// learner), on 5 peers: Prepare and Accept cost n−1 each per value, the
/// learners' messages exactly the strategy's formula.
async fn messages(learners: Learners, name: &str) {
    let n = 5u64;
    let px = Px::new(n as usize, config(learners.clone()), false);
    px.begin(&format!("Test (LN): message count, {name}"));
    let counter = MessageCounter::new();
    let k = 10;
    for seq in 0..k {
        px.start(2, seq, val(seq));
        px.waitn(seq, n as usize).await;
    }
    sleep(Duration::from_secs(2)).await;
    let (accepted, decided) = formula(&learners, n);
    let all = counter.all();
    println!(
        "  per value: {:?}",
        all.iter()
            .map(|(m, c)| format!("{m} {:.1}", *c as f64 / k as f64))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        counter.get("paxos.prepare"),
        k * (n - 1),
        "Prepare messages"
    );
    assert_eq!(counter.get("paxos.accept"), k * (n - 1), "Accept messages");
    assert_eq!(
        counter.get("paxos.accepted"),
        k * accepted,
        "Accepted messages for {name}: want {accepted} per value"
    );
    assert_eq!(
        counter.get("paxos.decided"),
        k * decided,
        "Decided messages for {name}: want {decided} per value"
    );
    px.end();
}

#[test]
fn messages_proposer_ln() {
    run_test(|| messages(Learners::Proposer, "the proposer tells every learner"));
}

#[test]
fn messages_all_to_all_ln() {
    run_test(|| messages(Learners::AllToAll, "every acceptor tells every learner"));
}

#[test]
fn messages_distinguished_ln() {
    run_test(|| messages(Learners::Distinguished(0), "one distinguished learner"));
}

#[test]
fn messages_set_ln() {
    run_test(|| messages(Learners::Set(vec![0, 1]), "two distinguished learners"));
}

/// Peer 0, a distinguished learner, is crashed: every other peer must
/// still learn every value.
async fn learner_crashed(learners: Learners, name: &str) {
    let px = Px::new(5, config(learners), false);
    px.begin(&format!("Test (LN): {name} crashed"));
    px.crash(0);
    for seq in 0..5 {
        px.start(1 + seq as usize % 4, seq, val(seq));
    }
    for seq in 0..5 {
        px.waitn(seq, 4).await;
    }
    px.end();
}

#[test]
fn distinguished_crashed_ln() {
    run_test(|| learner_crashed(Learners::Distinguished(0), "the distinguished learner"));
}

#[test]
fn set_member_crashed_ln() {
    run_test(|| learner_crashed(Learners::Set(vec![0, 1]), "a distinguished learner of two"));
}

/// Peers 0 and 1 accept peer 0's value (a minority of five); then a
/// majority {2, 3, 4}, cut off from them, chooses another. No learner may
/// have decided the minority's value.
async fn minority_accept(learners: Learners, name: &str) {
    let px = Px::new(5, config(learners), false);
    px.begin(&format!(
        "Test (LN): a value accepted by a minority is not chosen ({name})"
    ));
    let minority = [px.node(0), px.node(1)];
    // Phase 1 goes everywhere; Accepts, and anything a learner would say,
    // stay within {0, 1}.
    let hook = network().add_hook(move |m| {
        let inside = minority.contains(&m.to);
        let blocked = m.leg == Leg::Request
            && minority.contains(&m.from)
            && !inside
            && m.method != "paxos.prepare";
        if blocked {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    });
    px.start(0, 0, val("minority"));
    sleep(Duration::from_millis(100)).await;
    px.partition(&[&[0, 1], &[2, 3, 4]]);
    network().remove_hook(hook);
    px.ndecided(0);
    px.start(4, 0, val("majority"));
    px.waitmajority(0).await;
    px.heal();
    px.waitn(0, 5).await;
    assert_eq!(px.chosen(0), Some(val("majority")));
    px.end();
}

#[test]
fn minority_accept_proposer_ln() {
    run_test(|| minority_accept(Learners::Proposer, "proposer"));
}

#[test]
fn minority_accept_all_to_all_ln() {
    run_test(|| minority_accept(Learners::AllToAll, "all to all"));
}

#[test]
fn minority_accept_distinguished_ln() {
    run_test(|| minority_accept(Learners::Distinguished(0), "distinguished"));
}

#[test]
fn minority_accept_set_ln() {
    run_test(|| minority_accept(Learners::Set(vec![0, 1]), "set"));
}

/// Every strategy on an unreliable network: many instances, every peer
/// proposing.
#[test]
fn many_unreliable_ln() {
    run_test(|| async {
        many(config(Learners::Set(vec![1, 2])), "LN", true).await;
    });
}

#[test]
fn many_unreliable_all_to_all_ln() {
    run_test(|| many(config(Learners::AllToAll), "LN", true));
}
