//! A few simulated nodes exchange RPCs through a scripted partition; the
//! trace is printed as it happened.
//!
//! ```sh
//! cargo run --release -p labrpc --example partition_demo [SEED]
//! ```
//!
//! Five nodes ping each other every 200 ms of virtual time. At 1 s the
//! network splits into {n1,n2} | {n3,n4,n5}; at 2 s it heals; at 2.6 s n5
//! crashes and at 3 s it restarts. Run it twice with the same seed: the
//! output is identical, line for line.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

use labrpc::time::{Instant, sleep};
use labrpc::trace::{Event, EventKind};
use labrpc::{Builder, NodeId, Server, network, node, task};

labrpc::service! {
    service gossip {
        fn ping(u64) -> u64;
    }
}

/// Counts pings received.
struct Peer {
    pings: Cell<u64>,
}

impl gossip::Service for Peer {
    async fn ping(&self, round: u64) -> u64 {
        self.pings.set(self.pings.get() + 1);
        round
    }
}

const PEERS: usize = 5;

fn name(i: usize) -> String {
    format!("peer{}", i + 1)
}

/// Starts peer `i` on `node`: a server, and a task pinging every other peer.
fn start_peer(i: usize, node: NodeId) {
    let net = network();
    let peer = Rc::new(Peer {
        pings: Cell::new(0),
    });
    net.add_server(
        name(i),
        node,
        Server::new().add_service(gossip::service(peer)),
    );
    let clients: Vec<gossip::Client> = (0..PEERS)
        .filter(|&j| j != i)
        .map(|j| gossip::Client::new(net.end_to(node, &name(j))))
        .collect();
    task::spawn_on(node, async move {
        for round in 0.. {
            for c in &clients {
                let c = c.clone();
                task::spawn(async move { c.ping(&round).await }).detach();
            }
            sleep(Duration::from_millis(200)).await;
        }
    })
    .detach();
}

/// Replies that made it in one 200 ms round: who heard back from whom.
#[derive(Default)]
struct Round {
    sent: usize,
    answered: BTreeMap<NodeId, BTreeSet<NodeId>>,
    lost: BTreeMap<&'static str, usize>,
}

impl Round {
    fn print(&self, start: u64) {
        if self.sent == 0 {
            return;
        }
        let answered: usize = self.answered.values().map(|s| s.len()).sum();
        let who: Vec<String> = self
            .answered
            .iter()
            .map(|(from, to)| {
                let to: Vec<String> = to.iter().map(|n| n.0.to_string()).collect();
                format!("{}->{}", from.0, to.join(""))
            })
            .collect();
        let lost: Vec<String> = self.lost.iter().map(|(r, n)| format!("{n} {r}")).collect();
        println!(
            "{:>11}  {:>2}/{:<2} answered  {:<44} {}",
            Instant::from_nanos(start).to_string(),
            answered,
            self.sent,
            who.join(" "),
            if lost.is_empty() {
                String::new()
            } else {
                format!("lost: {}", lost.join(", "))
            }
        );
    }
}

/// Prints the trace as one line per round of pings, plus every fault.
/// Rounds that start at or after `end` (cut short by the end of the run)
/// are left out.
fn print_trace(trace: &[Event], end: u64) {
    const ROUND: u64 = 200_000_000;
    let mut calls: BTreeMap<u64, (NodeId, NodeId)> = BTreeMap::new();
    let mut round = Round::default();
    let mut round_start = 0;
    for e in trace.iter().take_while(|e| e.time < end) {
        if e.time / ROUND != round_start / ROUND {
            round.print(round_start);
            round = Round::default();
            round_start = e.time / ROUND * ROUND;
        }
        let at = Instant::from_nanos(e.time).to_string();
        match &e.kind {
            EventKind::Send { rpc, to, .. } => {
                round.sent += 1;
                if let Some(to) = to {
                    calls.insert(*rpc, (e.node, *to));
                }
            }
            EventKind::Reply { rpc, .. } => {
                if let Some(&(from, to)) = calls.get(rpc) {
                    round.answered.entry(from).or_default().insert(to);
                }
            }
            EventKind::Drop { reason, .. } => *round.lost.entry(reason.as_str()).or_default() += 1,
            EventKind::Partition { groups } => {
                let groups: Vec<String> = groups
                    .iter()
                    .map(|g| {
                        g.iter()
                            .map(|n| n.to_string())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .collect();
                println!("{at:>11}  PARTITION {{{}}}", groups.join("} | {"));
            }
            EventKind::Heal => println!("{at:>11}  HEAL"),
            EventKind::Crash => println!("{at:>11}  CRASH {}", e.node),
            EventKind::Restart => println!("{at:>11}  RESTART {}", e.node),
            EventKind::Lab { topic, fields } => println!("{at:>11}  [{topic}] {fields}"),
            _ => {}
        }
    }
    round.print(round_start);
}

fn main() {
    let seed = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("usage: partition_demo [SEED]"))
        .unwrap_or(2024);
    let report = Builder::new().seed(seed).record_trace(true).run(|| async {
        let net = network();
        let nodes: Vec<NodeId> = (0..PEERS).map(|i| node::create(name(i))).collect();
        for (i, &n) in nodes.iter().enumerate() {
            start_peer(i, n);
        }
        sleep(Duration::from_secs(1)).await;
        net.partition(&[&nodes[..2], &nodes[2..]]);
        labrpc::trace::event("demo", "minority {peer1, peer2} cut off");
        sleep(Duration::from_secs(1)).await;
        net.heal();
        sleep(Duration::from_millis(600)).await;
        node::crash(nodes[4]);
        sleep(Duration::from_millis(400)).await;
        node::restart(nodes[4]);
        start_peer(4, nodes[4]);
        sleep(Duration::from_millis(600)).await;
    });
    println!("Five peers (nodes 1-5) ping each other every 200 ms of virtual time.");
    println!("Each line is one round: `1->2345` means node 1 heard back from 2, 3, 4 and 5.\n");
    let end = report.virtual_time.as_nanos() as u64;
    print_trace(report.trace.as_deref().unwrap_or_default(), end);
    println!(
        "\nseed {seed}: {} events, trace hash {:016x}, {:.1} s virtual",
        report.events,
        report.trace_hash,
        report.virtual_time.as_secs_f64()
    );
}
