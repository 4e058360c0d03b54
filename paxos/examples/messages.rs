//! Messages per decided value, by learner strategy and for Multi-Paxos:
//! the figures of the lab README's table.
//!
//! ```sh
//! cargo run --release -p paxos --example messages
//! ```
//!
//! Five peers; peer 2 proposes 100 values one after another on a reliable
//! network (with Multi-Paxos it leads after its first value). A hook
//! counts every request that crosses between two nodes, by method; a
//! peer's message to itself is a local call and is not counted.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use labrpc::time::sleep;
use labrpc::trace::Leg;
use labrpc::{Builder, NodeId, Verdict, network, node};
use paxos::rpc::paxos as paxos_rpc;
use paxos::{Config, Fate, Learners, Paxos};

const N: usize = 5;
const VALUES: u64 = 100;

async fn run(config: Config) -> BTreeMap<String, u64> {
    let net = network();
    let nodes: Vec<NodeId> = (0..N).map(|i| node::create(format!("px-{i}"))).collect();
    let mut peers = Vec::new();
    for (i, &node_i) in nodes.iter().enumerate() {
        let clients: Vec<paxos_rpc::Client> = (0..N)
            .map(|j| paxos_rpc::Client::new(net.end_to(node_i, &format!("px-{j}"))))
            .collect();
        let persister = node::persister(node_i);
        let config = config.clone();
        let px = node::enter(node_i, || Paxos::new(clients, i, persister, config));
        net.add_server(
            format!("px-{i}"),
            node_i,
            labrpc::Server::new().add_service(px.service()),
        );
        peers.push(px);
    }
    let counts: Rc<RefCell<BTreeMap<String, u64>>> = Rc::default();
    let c = counts.clone();
    net.add_hook(move |m| {
        if m.leg == Leg::Request && m.from != m.to {
            *c.borrow_mut().entry(m.method.to_string()).or_default() += 1;
        }
        Verdict::Deliver
    });
    // Multi-Paxos: the first value makes peer 2 leader; not counted.
    let first = if config.multi { 1 } else { 0 };
    if config.multi {
        node::enter(nodes[2], || peers[2].start(0, b"lead".to_vec()));
        while !(0..N).all(|i| matches!(peers[i].status(0), Fate::Decided(_))) {
            sleep(Duration::from_millis(1)).await;
        }
        sleep(Duration::from_millis(100)).await;
        counts.borrow_mut().clear();
    }
    for seq in first..first + VALUES {
        node::enter(nodes[2], || {
            peers[2].start(seq, seq.to_string().into_bytes())
        });
        while !(0..N).all(|i| matches!(peers[i].status(seq), Fate::Decided(_))) {
            sleep(Duration::from_millis(1)).await;
        }
    }
    sleep(Duration::from_secs(1)).await;
    counts.borrow().clone()
}

fn main() {
    let cases: Vec<(&str, &str, Config)> = vec![
        (
            "Basic, proposer tells learners (2015)",
            "N",
            Config {
                learners: Learners::Proposer,
                multi: false,
            },
        ),
        (
            "Basic, all-to-all",
            "M×N",
            Config {
                learners: Learners::AllToAll,
                multi: false,
            },
        ),
        (
            "Basic, one distinguished learner",
            "M+N",
            Config {
                learners: Learners::Distinguished(0),
                multi: false,
            },
        ),
        (
            "Basic, two distinguished learners",
            "M×K+K×(N−K)",
            Config {
                learners: Learners::Set(vec![0, 1]),
                multi: false,
            },
        ),
        (
            "Multi-Paxos, stable leader",
            "N",
            Config {
                learners: Learners::Proposer,
                multi: true,
            },
        ),
    ];
    println!(
        "{N} peers, {VALUES} values proposed one after another; requests that cross the network, per value\n"
    );
    println!(
        "| configuration | learning (formula) | Prepare | Accept | Accepted | Decided | total |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, formula, config) in cases {
        let result = Rc::new(RefCell::new(BTreeMap::new()));
        let r = result.clone();
        Builder::new().seed(1).run(move || {
            let (r, config) = (r.clone(), config.clone());
            async move {
                *r.borrow_mut() = run(config).await;
            }
        });
        let counts = result.borrow();
        let per = |m: &str| counts.get(m).copied().unwrap_or(0) as f64 / VALUES as f64;
        let total: u64 = counts.values().sum();
        println!(
            "| {name} | {formula} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            per("paxos.prepare"),
            per("paxos.accept"),
            per("paxos.accepted"),
            per("paxos.decided"),
            total as f64 / VALUES as f64
        );
    }
}
