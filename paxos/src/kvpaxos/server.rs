//! A kvpaxos server: executes the operations of a log of Paxos instances.

use std::rc::Rc;

use labrpc::{NodeId, Persister};

use crate::Paxos;
use crate::framework::Config;
use crate::kvpaxos::rpc::{CommandArgs, CommandReply, kv};
use crate::rpc::paxos as paxos_rpc;
// SOLUTION BEGIN
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use futures::lock::Mutex;
use labrpc::time::{sleep, timeout};

use crate::framework::Fate;
use crate::kvpaxos::rpc::{KvError, Op};

/// How long a request may take to get into the log before the clerk is
/// told to try elsewhere.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(1000);
/// The first wait for an instance to be decided; it doubles up to
/// [`MAX_POLL`].
const POLL: Duration = Duration::from_millis(2);
/// See [`POLL`].
const MAX_POLL: Duration = Duration::from_millis(50);

/// The replicated state and where it is in the log.
struct Inner {
    store: BTreeMap<String, String>,
    /// The last operation number applied, per clerk.
    applied: BTreeMap<u64, u64>,
    /// The next instance to apply.
    next: u64,
}

impl Inner {
    /// Applies a decided operation (once per clerk and number); the value
    /// it reads.
    fn apply(&mut self, args: &CommandArgs) -> String {
        let dup = self
            .applied
            .get(&args.client)
            .is_some_and(|&s| s >= args.seq);
        match &args.op {
            Op::Get { key } => self.store.get(key).cloned().unwrap_or_default(),
            Op::Put { key, value } => {
                if !dup {
                    self.store.insert(key.clone(), value.clone());
                    self.applied.insert(args.client, args.seq);
                }
                String::new()
            }
            Op::Append { key, value } => {
                if !dup {
                    self.store.entry(key.clone()).or_default().push_str(value);
                    self.applied.insert(args.client, args.seq);
                }
                String::new()
            }
        }
    }
}
// SOLUTION END
// HANDOUT:

/// One kvpaxos server and its Paxos peer.
#[derive(Clone)]
pub struct KvServer {
    px: Paxos,
    // SOLUTION BEGIN
    inner: Rc<RefCell<Inner>>,
    /// One request at a time walks the log.
    walking: Rc<Mutex<()>>,
    // SOLUTION END
    // HANDOUT: // Your state here (KV).
}

impl KvServer {
    /// Starts server `me` of a group whose Paxos peers are `peers`, with
    /// the Paxos configuration `config`.
    ///
    /// Must run as code of the server's node (`labrpc::node::enter`).
    pub fn start(
        peers: Vec<paxos_rpc::Client>,
        me: usize,
        persister: Persister,
        config: Config,
    ) -> KvServer {
        assert!(
            labrpc::node::current() != NodeId::TESTER,
            "KvServer::start must run on the server's own node: wrap it in labrpc::node::enter"
        );
        let px = Paxos::new(peers, me, persister, config);
        // SOLUTION BEGIN
        KvServer {
            px,
            inner: Rc::new(RefCell::new(Inner {
                store: BTreeMap::new(),
                applied: BTreeMap::new(),
                next: 0,
            })),
            walking: Rc::new(Mutex::new(())),
        }
        // SOLUTION END
        // HANDOUT: let _ = px;
        // HANDOUT: labrpc::not_implemented!("Paxos KV (kvpaxos): KvServer::start")
    }

    /// The server's Paxos peer.
    pub fn paxos(&self) -> &Paxos {
        &self.px
    }

    /// A labrpc server offering both the KV service and Paxos's.
    pub fn server(&self) -> labrpc::Server {
        labrpc::Server::new()
            .add_service(self.px.service())
            .add_service(kv::service(Rc::new(self.clone())))
    }
}

impl kv::Service for KvServer {
    async fn command(&self, args: CommandArgs) -> CommandReply {
        // SOLUTION BEGIN
        timeout(COMMAND_TIMEOUT, self.execute(args))
            .await
            .unwrap_or(Err(KvError::Timeout))
        // SOLUTION END
        // HANDOUT: let _ = (&self.px, args);
        // HANDOUT: labrpc::not_implemented!("Paxos KV (kvpaxos): the command handler")
    }
}

// SOLUTION BEGIN
impl KvServer {
    /// Walks the log from the first unapplied instance, proposing `args`
    /// at each, applying whatever was decided there, until `args` is.
    async fn execute(&self, args: CommandArgs) -> CommandReply {
        let _walk = self.walking.lock().await;
        let bytes = labcodec::encode(&args).expect("commands always encode");
        loop {
            let (seq, dup) = {
                let s = self.inner.borrow();
                let dup = !matches!(args.op, Op::Get { .. })
                    && s.applied.get(&args.client).is_some_and(|&n| n >= args.seq);
                (s.next, dup)
            };
            if dup {
                return Ok(String::new());
            }
            self.px.start(seq, bytes.clone());
            let decided = self.wait(seq).await;
            let op: CommandArgs = labcodec::decode(&decided)
                .unwrap_or_else(|e| panic!("kvpaxos: bad log entry {seq}: {e}"));
            let result = {
                let mut s = self.inner.borrow_mut();
                let r = s.apply(&op);
                s.next = seq + 1;
                r
            };
            self.px.done(seq);
            if op.client == args.client && op.seq == args.seq {
                return Ok(result);
            }
        }
    }

    /// Waits until instance `seq` is decided here.
    async fn wait(&self, seq: u64) -> Vec<u8> {
        let mut pause = POLL;
        loop {
            match self.px.status(seq) {
                Fate::Decided(v) => return v,
                Fate::Forgotten => {
                    panic!("kvpaxos: instance {seq} forgotten before it was applied")
                }
                Fate::Pending => {}
            }
            sleep(pause).await;
            pause = (pause * 2).min(MAX_POLL);
        }
    }
}
// SOLUTION END
// HANDOUT:
