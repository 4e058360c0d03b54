//! labrpc: a deterministic, in-process simulator for distributed-systems
//! labs — tasks, virtual time, seeded randomness, nodes that crash, durable
//! storage, and 6.824's RPC network, on one thread.
//!
//! # Guarantees
//!
//! - **One seed, one run.** A simulation runs on one OS thread. Which ready
//!   task runs next, every network delay and loss, and every value from
//!   [`rand`] come from one ChaCha8 RNG seeded with the run's seed. The same
//!   seed gives the same run, event for event, on any machine; the trace
//!   hash proves it (`LAB_DETERMINISM=1`).
//! - **Virtual time.** [`time::Instant::now`] stands still while any task is
//!   ready and jumps to the next timer when none is. An hour of
//!   `time::sleep` costs nothing.
//! - **Crash-stop nodes.** Every task belongs to a [`NodeId`].
//!   [`node::crash`] drops all of a node's tasks at once and deletes its RPC
//!   servers; only its [`Persister`] survives. [`node::restart`] brings it
//!   back empty.
//! - **6.824's network.** [`ClientEnd::call`] returns the handler's reply,
//!   or an [`RpcError`]: the request or reply was lost, the end disabled, the
//!   link down, the server deleted, the bytes undecodable. A call always
//!   returns, unless its handler never returns on a live, connected server.
//!   Concurrent calls may be reordered. Handlers never share memory with
//!   callers: everything goes through [`labcodec`]. On an unreliable network
//!   a reply may be lost **after** its handler ran.
//! - **Failures that say how to replay them.** A panic in any task, a
//!   deadlock, a livelock, the time limit, a task blocking the thread, or a
//!   nondeterministic run fails the test with the seed, the virtual time, the
//!   node and the command that reproduces it.
//!
//! # The API in thirty lines
//!
//! ```text
//! run_test(|| async { .. })           run a test body; LAB_* knobs (see harness)
//! Builder::new().seed(s).run(..)      the same, configured in code
//!
//! node::create("name") -> NodeId      a new machine, alive
//! node::crash(id) / node::restart(id) crash-stop and come back
//! node::persister(id) -> Persister    save(state, snapshot), read_state(), sizes
//! node::enter(id, || ..)              run tester code as code of that node
//!
//! task::spawn(fut) / spawn_on(id, f)  tasks; JoinHandle: await, abort()
//! task::yield_now()
//! notify::Notify                     wake one waiting task (coalescing)
//! time::{Instant, sleep, sleep_until, timeout, interval}     all virtual
//! rand::{gen_range, gen_bool, shuffle, random, with_rng}     all seeded
//!
//! service! { pub service kv { fn get(GetArgs) -> GetReply; } }
//!     -> kv::Service (async trait), kv::service(Rc<impl>), kv::Client
//! network()                           the simulation's network:
//!   .add_server(name, node, Server::new().add_service(kv::service(h)))
//!   .make_end(name, node) / .connect(end, server) / .enable(end, on)
//!   .end_to(node, server)             a connected, enabled end
//!   .delete_server(name) / .delete_end(name)
//!   .set_reliable(b) / .set_long_delays(b) / .set_long_reordering(b)
//!   .partition(&[&[a, b], &[c]]) / .heal() / .cut(a, b) / .restore(a, b)
//!   .set_link(a, b, Some(LinkConfig { loss, latency })) / .add_hook(|m| ..)
//!   .hold(Filter::new().method(m).from(a).to(b).leg(l)) -> HoldId
//!   .held(id) / .release(id, n) / .stop_holding(id) / .drop_held(id) / .remove_hold(id)
//!   .set_duplication(b)               requests delivered twice, late
//!   .server_count(name) / .total_rpcs() / .total_bytes()
//! trace::event("topic", msg)          a lab event in the trace
//! ```
//!
//! The numbers of 6.824's network (10% loss each way, 0–27 ms jitter, 100 ms
//! or 7 s failure delays, 200–2200 ms reordering) are the constants of
//! [`net`]; the semantics of one call are spelled out there, step by step,
//! with the two faults 6.824's network lacks: held messages and duplicates.
//!
//! # Example
//!
//! ```
//! use std::rc::Rc;
//! use std::time::Duration;
//! use labrpc::{NodeId, Server, node, time};
//!
//! labrpc::service! {
//!     pub service echo {
//!         fn echo(String) -> String;
//!     }
//! }
//!
//! struct Echo;
//! impl echo::Service for Echo {
//!     async fn echo(&self, s: String) -> String { s }
//! }
//!
//! fn main() {
//!     labrpc::Builder::new().seed(7).run(|| async {
//!         let net = labrpc::network();
//!         let a = node::create("server-a");
//!         net.add_server("a", a, Server::new().add_service(echo::service(Rc::new(Echo))));
//!         let client = echo::Client::new(net.end_to(NodeId::TESTER, "a"));
//!         assert_eq!(client.echo(&"hi".to_string()).await.unwrap(), "hi");
//!
//!         net.partition(&[&[NodeId::TESTER], &[a]]);
//!         let lost = client.echo(&"lost".to_string()).await;
//!         assert_eq!(lost, Err(labrpc::RpcError::Unreachable));
//!         net.heal();
//!
//!         node::crash(a);
//!         assert!(client.echo(&"gone".to_string()).await.is_err());
//!         time::sleep(Duration::from_secs(1)).await;
//!     });
//! }
//! ```
//!
//! # Why one thread
//!
//! Determinism needs a single scheduler that owns every decision. Tasks are
//! therefore not `Send`, and a node's tasks share state with
//! `Rc<RefCell<_>>`. The price is that a task which blocks the thread blocks
//! the world: a watchdog notices and fails the run with a clear message.

pub mod diff;
mod failpage;
pub mod handout;
pub mod harness;
pub mod logging;
pub mod net;
pub mod node;
pub mod notify;
mod oneshot;
pub mod rand;
pub mod rpc;
mod runtime;
pub mod task;
pub mod time;
pub mod trace;
mod watchdog;

pub use harness::{Builder, Report, run_test, run_test_with_limit};
pub use net::{ClientEnd, Filter, HoldId, LinkConfig, Network, Verdict, network};
pub use node::{NodeId, Persister};
pub use rpc::{RpcError, Server};

/// Re-exported so the [`service!`] macro's users need no extra dependency.
pub use labcodec;
