//! A small simulated lab for the `lab` tool's own tests (`tests/cli.rs`
//! runs `lab grade lab --test fixture_`). Under plain `cargo test` its two
//! tests pass (the third is ignored); with `LAB_CLI_FIXTURE_FAIL=1`, `fixture_flaky` fails on about
//! one seed in four — on the same seeds every time, which is the point.

use std::rc::Rc;
use std::time::Duration;

use labrpc::time::{Instant, sleep};
use labrpc::{NodeId, Server, network, node, run_test, trace};
use labtest::StatsLine;

labrpc::service! {
    /// Echoes its argument.
    pub service ping {
        /// Returns its argument.
        fn ping(u64) -> u64;
    }
}

struct Ping;

impl ping::Service for Ping {
    async fn ping(&self, x: u64) -> u64 {
        x
    }
}

/// Three servers, pinged by the tester through an unreliable network, a
/// partition and a crash; prints a stats line.
async fn cluster_round() -> (Vec<NodeId>, u64) {
    let net = network();
    let servers: Vec<NodeId> = (1..=3)
        .map(|i| node::create(format!("server-{i}")))
        .collect();
    for (i, &n) in servers.iter().enumerate() {
        net.add_server(
            format!("s{i}"),
            n,
            Server::new().add_service(ping::service(Rc::new(Ping))),
        );
    }
    let clients: Vec<ping::Client> = (0..3)
        .map(|i| ping::Client::new(net.end_to(NodeId::TESTER, &format!("s{i}"))))
        .collect();
    let mut ops = 0;
    net.set_reliable(false);
    for round in 0..4u64 {
        for c in &clients {
            if c.ping(&round).await.is_ok() {
                ops += 1;
            }
        }
        sleep(Duration::from_millis(50)).await;
    }
    trace::event("leader", "server-1 leads term 1");
    net.set_reliable(true);
    net.partition(&[&[NodeId::TESTER, servers[0]], &[servers[1], servers[2]]]);
    for c in &clients {
        let _ = c.ping(&9).await;
    }
    net.heal();
    node::crash(servers[2]);
    for c in &clients {
        if c.ping(&10).await.is_ok() {
            ops += 1;
        }
    }
    trace::event("term", "term 2");
    (servers, ops)
}

#[test]
fn fixture_flaky() {
    run_test(|| async {
        let t0 = Instant::now();
        let (servers, ops) = cluster_round().await;
        if std::env::var_os("LAB_CLI_FIXTURE_FAIL").is_some() && labrpc::rand::gen_range(0..4) == 0
        {
            panic!("fixture: seeded failure");
        }
        let net = network();
        let stats = StatsLine {
            virtual_s: Some(t0.elapsed().as_secs_f64()),
            peers: Some(servers.len() as u64),
            rpcs: Some(net.total_rpcs()),
            bytes: Some(net.total_bytes()),
            ops: Some(ops),
            wall_ms: None,
        };
        println!("{}", stats.to_line());
    });
}

#[test]
fn fixture_steady() {
    run_test(|| async {
        sleep(Duration::from_millis(1500)).await;
        let stats = StatsLine {
            virtual_s: Some(1.5),
            peers: Some(0),
            rpcs: Some(0),
            ..StatsLine::default()
        };
        println!("{}", stats.to_line());
    });
}

/// Ignored, as a lab's unfinished test is: `lab grade` must neither run it
/// nor count it (`tests/cli.rs` grades `fixture_` and expects two tests).
/// It fails if it is ever run.
#[test]
#[ignore = "a fixture: lab grade leaves ignored tests out"]
fn fixture_ignored() {
    panic!("fixture_ignored ran: lab grade must leave ignored tests out");
}
