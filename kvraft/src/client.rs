//! The clerk: how a client talks to the KV service.

use labrpc::ClientEnd;

use crate::rpc::{Op, kv};
// SOLUTION BEGIN
use std::cell::Cell;
use std::time::Duration;

use crate::rpc::CommandArgs;
// SOLUTION END
// HANDOUT:

/// A client of the KV service. Operations never give up: each either
/// completes (exactly once) or the test ends.
pub struct Clerk {
    servers: Vec<kv::Client>,
    // SOLUTION BEGIN
    /// The server that answered last (probably the leader).
    leader: Cell<usize>,
    /// This clerk's unique id.
    id: u64,
    /// The sequence number of the last operation issued.
    seq: Cell<u64>,
    // SOLUTION END
    // HANDOUT: // Your state here (4A).
}

// SOLUTION BEGIN
/// After asking every server in turn without success, wait this long (an
/// election may be under way), doubling after each fruitless round up to
/// [`MAX_ROUND_PAUSE`].
const ROUND_PAUSE: Duration = Duration::from_millis(50);
/// See [`ROUND_PAUSE`].
const MAX_ROUND_PAUSE: Duration = Duration::from_millis(400);
// SOLUTION END
// HANDOUT:

impl Clerk {
    /// A clerk talking to `servers` (ends to every server, in any order).
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        Clerk {
            servers: servers.into_iter().map(kv::Client::new).collect(),
            // SOLUTION BEGIN
            leader: Cell::new(0),
            id: labrpc::rand::random(),
            seq: Cell::new(0),
            // SOLUTION END
            // HANDOUT: // Your state here (4A).
        }
    }

    /// The value of `key` ("" if missing).
    pub async fn get(&self, key: &str) -> String {
        self.command(Op::Get { key: key.into() }).await
    }

    /// Sets `key` to `value`.
    pub async fn put(&self, key: &str, value: &str) {
        self.command(Op::Put {
            key: key.into(),
            value: value.into(),
        })
        .await;
    }

    /// Appends `value` to `key`.
    pub async fn append(&self, key: &str, value: &str) {
        self.command(Op::Append {
            key: key.into(),
            value: value.into(),
        })
        .await;
    }

    async fn command(&self, op: Op) -> String {
        // SOLUTION BEGIN
        self.seq.set(self.seq.get() + 1);
        let args = CommandArgs {
            client: self.id,
            seq: self.seq.get(),
            op,
        };
        let n = self.servers.len();
        let mut i = self.leader.get();
        let mut tries = 0;
        let mut pause = ROUND_PAUSE;
        loop {
            if let Ok(Ok(value)) = self.servers[i].command(&args).await {
                self.leader.set(i);
                return value;
            }
            i = (i + 1) % n;
            tries += 1;
            if tries % n == 0 {
                labrpc::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_ROUND_PAUSE);
            }
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.servers, op);
        // HANDOUT: labrpc::not_implemented!("KV 4A (clerk): Clerk::command")
    }
}
