//! A test service in the spirit of 6.824's `JunkServer`.
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use labrpc::{NodeId, Server, network, node};

labrpc::service! {
    /// Handlers used across the labrpc tests.
    pub service junk {
        /// Parses a number.
        fn parse(String) -> i64;
        /// Formats a number.
        fn format(i64) -> String;
        /// Sleeps 20 virtual seconds, then answers.
        fn slow(u32) -> u32;
        /// Records its argument and echoes it.
        fn record(u64) -> u64;
        /// Returns a string of the given length.
        fn sized(u32) -> String;
    }
}

/// Remembers what `record` saw, in arrival order.
#[derive(Default)]
pub struct Junk {
    pub seen: RefCell<Vec<u64>>,
}

impl junk::Service for Junk {
    async fn parse(&self, s: String) -> i64 {
        s.parse().unwrap_or(-1)
    }
    async fn format(&self, x: i64) -> String {
        format!("handler-{x}")
    }
    async fn slow(&self, x: u32) -> u32 {
        labrpc::time::sleep(Duration::from_secs(20)).await;
        x
    }
    async fn record(&self, x: u64) -> u64 {
        self.seen.borrow_mut().push(x);
        x
    }
    async fn sized(&self, n: u32) -> String {
        "y".repeat(n as usize)
    }
}

/// Creates node `name` hosting a `Junk` server under the same name.
pub fn start_junk(name: &str) -> (NodeId, Rc<Junk>) {
    let node = node::create(name);
    let junk = Rc::new(Junk::default());
    network().add_server(
        name,
        node,
        Server::new().add_service(junk::service(junk.clone())),
    );
    (node, junk)
}

/// A connected, enabled client from the tester node to `server`.
pub fn client(server: &str) -> junk::Client {
    junk::Client::new(network().end_to(NodeId::TESTER, server))
}

/// Runs `f`, which must panic, and returns the panic message.
pub fn failure_of(f: impl FnOnce()) -> String {
    let payload =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("the run must fail");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap()
}
