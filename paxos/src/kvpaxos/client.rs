//! The clerk: how a client talks to the kvpaxos service.

use labrpc::ClientEnd;

use crate::kvpaxos::rpc::{Op, kv};
// SOLUTION BEGIN
use std::cell::Cell;
use std::time::Duration;

use crate::kvpaxos::rpc::CommandArgs;

/// How long the clerk waits for one server before trying the next.
const CALL_TIMEOUT: Duration = Duration::from_millis(1500);
/// The pause after asking every server in turn without success.
const ROUND_PAUSE: Duration = Duration::from_millis(20);
// SOLUTION END
// HANDOUT:

/// A client of the kvpaxos service. Operations never give up: each either
/// completes (exactly once) or the test ends.
pub struct Clerk {
    servers: Vec<kv::Client>,
    // SOLUTION BEGIN
    /// The server that answered last.
    last: Cell<usize>,
    /// This clerk's unique id.
    id: u64,
    /// The number of the last operation issued.
    seq: Cell<u64>,
    // SOLUTION END
    // HANDOUT: // Your state here (KV).
}

impl Clerk {
    /// A clerk talking to `servers` (ends to some or all servers).
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        Clerk {
            // SOLUTION BEGIN
            servers: servers
                .into_iter()
                .map(|e| kv::Client::new(e).with_timeout(CALL_TIMEOUT))
                .collect(),
            last: Cell::new(0),
            id: labrpc::rand::random(),
            seq: Cell::new(0),
            // SOLUTION END
            // HANDOUT: servers: servers.into_iter().map(kv::Client::new).collect(),
            // HANDOUT: // Your state here (KV).
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
        let mut i = self.last.get();
        let mut tries = 0;
        loop {
            if let Ok(Ok(value)) = self.servers[i].command(&args).await {
                self.last.set(i);
                return value;
            }
            i = (i + 1) % n;
            tries += 1;
            if tries % n == 0 {
                labrpc::time::sleep(ROUND_PAUSE).await;
            }
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.servers, op);
        // HANDOUT: labrpc::not_implemented!("Paxos KV (kvpaxos): Clerk::command")
    }
}
