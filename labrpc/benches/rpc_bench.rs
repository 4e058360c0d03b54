//! RPC throughput of the simulator, in wall time.
//!
//! ```sh
//! cargo bench -p labrpc --bench rpc_bench
//! ```
//!
//! Prints µs per round trip and RPCs per second for 100,000 sequential
//! calls from one client, and for 100 concurrent clients making 1,000
//! calls each. Every call is a real round trip: encode, route, latency
//! timers, a handler task on the server's node, decode.

// The benchmark measures wall time around whole simulations.
#![allow(clippy::disallowed_methods)]

use std::rc::Rc;
use std::time::{Duration, Instant};

use labrpc::{Builder, NodeId, Server, network, node, task};

labrpc::service! {
    service bench {
        fn echo(u64) -> u64;
    }
}

struct Echo;
impl bench::Service for Echo {
    async fn echo(&self, x: u64) -> u64 {
        x + 1
    }
}

fn setup() {
    let s = node::create("server");
    network().add_server(
        "s",
        s,
        Server::new().add_service(bench::service(Rc::new(Echo))),
    );
}

fn measure(name: &str, clients: u64, calls_each: u64) {
    let total = clients * calls_each;
    let start = Instant::now();
    let report = Builder::new()
        .seed(1)
        .time_limit(Duration::from_secs(1_000_000))
        .run(move || async move {
            setup();
            let mut handles = Vec::new();
            for _ in 0..clients {
                let c = bench::Client::new(network().end_to(NodeId::TESTER, "s"));
                handles.push(task::spawn(async move {
                    for i in 0..calls_each {
                        assert_eq!(c.echo(&i).await, Ok(i + 1));
                    }
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
            assert_eq!(network().server_count("s"), clients * calls_each);
        });
    let wall = start.elapsed();
    println!(
        "{name:<28} {total:>7} RPCs  {:>6.2} µs/RPC  {:>10.0} RPCs/s  ({:.0} polls, {:.1} s virtual)",
        wall.as_secs_f64() * 1e6 / total as f64,
        total as f64 / wall.as_secs_f64(),
        report.polls as f64,
        report.virtual_time.as_secs_f64(),
    );
}

fn main() {
    // Warm up allocator and caches.
    measure("warm-up", 1, 10_000);
    measure("sequential (1 client)", 1, 100_000);
    measure("concurrent (100 clients)", 100, 1_000);
}
