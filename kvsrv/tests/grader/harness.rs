//! The kvsrv grader's harness: one server on its own node, clerks on the
//! tester node (each with its own end), a recorded history checked for
//! linearizability, and 6.5840's `kvtest` helpers (OnePut,
//! SpawnClientsAndWait, CheckPutConcurrent).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use kvsrv::{Clerk, KvClerk, KvError, KvServer, Version, kv};
use labrpc::time::{sleep, timeout};
use labrpc::{NodeId, Server, network, node, task};
use labtest::VersionedKvHistory;
use linearizability::{VersionedKvInput as Input, VersionedKvOutput as Output};

/// The server's labrpc name (and its node's).
pub const SERVER: &str = "kvsrv";
/// How long clients may take to notice they should stop, once told.
pub const STOP_GRACE: Duration = Duration::from_secs(20);

/// "(reliable network)" or "(unreliable network)".
pub fn net_name(reliable: bool) -> &'static str {
    if reliable {
        "(reliable network)"
    } else {
        "(unreliable network)"
    }
}

/// One server under test and the clerks talking to it.
pub struct Harness {
    node: NodeId,
    /// The grader's own handle on the server, for the memory test.
    server: RefCell<Option<Rc<KvServer>>>,
    history: VersionedKvHistory,
    next_client: Cell<u64>,
    ops: Cell<u64>,
}

impl Harness {
    /// A server on its own node, `reliable` or not.
    pub fn new(reliable: bool) -> Rc<Harness> {
        Harness::with_server_name(SERVER, reliable)
    }

    /// The same, with the server (and its node) named `name`.
    pub fn with_server_name(name: &str, reliable: bool) -> Rc<Harness> {
        let net = network();
        net.set_reliable(reliable);
        let node = node::create(name);
        let server = Rc::new(node::enter(node, KvServer::new));
        net.add_server(
            name,
            node,
            Server::new().add_service(kv::service(server.clone())),
        );
        Rc::new(Harness {
            node,
            server: RefCell::new(Some(server)),
            history: VersionedKvHistory::new(),
            next_client: Cell::new(0),
            ops: Cell::new(0),
        })
    }

    /// Clerk operations so far.
    pub fn ops(&self) -> u64 {
        self.ops.get()
    }

    /// A clerk with its own end to the server; its operations are recorded
    /// in the history.
    pub fn make_clerk(self: &Rc<Self>) -> TestClerk {
        let id = self.next_client.get();
        self.next_client.set(id + 1);
        TestClerk {
            h: self.clone(),
            clerk: self.make_plain_clerk(id),
            id,
        }
    }

    /// A bare clerk (not recorded) with its own end, named after `id`.
    pub fn make_plain_clerk(&self, id: u64) -> Clerk {
        let name = format!("clerk-{id}");
        let net = network();
        let end = net.make_end(name.clone(), NodeId::TESTER);
        net.connect(&name, &node::name(self.node));
        net.enable(&name, true);
        Clerk::new(end)
    }

    /// Crashes the server's node and returns the grader's handle on the
    /// server, then the only one left (if the server holds no cycle).
    pub fn crash_and_take_server(&self) -> Rc<KvServer> {
        node::crash(self.node);
        self.server
            .borrow_mut()
            .take()
            .expect("the server was already taken")
    }

    /// Checks the history so far. On a violation, writes the HTML view
    /// and fails with its path and the checker's explanation.
    pub fn check_linearizable(&self) {
        self.history.check("kvsrv");
    }
}

/// A clerk under test: every operation is counted and recorded.
pub struct TestClerk {
    h: Rc<Harness>,
    clerk: Clerk,
    id: u64,
}

impl TestClerk {
    /// A recorded Get. Fails the test if the clerk returns anything but a
    /// value or `NoKey`.
    pub async fn get(&self, key: &str) -> Result<(String, Version), KvError> {
        let op = self.h.history.call(self.id, Input::get(key));
        let r = self.clerk.get(key).await;
        let out = match &r {
            Ok((v, ver)) => Output::value(v.clone(), *ver),
            Err(KvError::NoKey) => Output::ErrNoKey,
            Err(e) => panic!("Get({key:?}) returned {e}: a Get returns a value or ErrNoKey"),
        };
        self.h.history.finish(op, out);
        self.h.ops.set(self.h.ops.get() + 1);
        r
    }

    /// A recorded Put.
    pub async fn put(&self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        let op = self
            .h
            .history
            .call(self.id, Input::put(key, value, version));
        let r = self.clerk.put(key, value, version).await;
        let out = match r {
            Ok(()) => Output::Done,
            Err(KvError::NoKey) => Output::ErrNoKey,
            Err(KvError::Version) => Output::ErrVersion,
            Err(KvError::Maybe) => Output::ErrMaybe,
        };
        self.h.history.finish(op, out);
        self.h.ops.set(self.h.ops.get() + 1);
        r
    }
}

impl KvClerk for TestClerk {
    async fn get(&self, key: &str) -> Result<(String, Version), KvError> {
        TestClerk::get(self, key).await
    }

    async fn put(&self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        TestClerk::put(self, key, value, version).await
    }
}

/// What one client of [`spawn_clients_and_wait`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientResult {
    /// Puts that returned `Ok`.
    pub ok: u64,
    /// Puts that returned `Maybe`.
    pub maybe: u64,
}

/// Runs `n` clients, each with its own clerk, for `duration`; then tells
/// them to stop and waits (at most [`STOP_GRACE`]) for each to finish its
/// current operation. 6.5840's SpawnClientsAndWait.
pub async fn spawn_clients_and_wait<F, Fut>(
    h: &Rc<Harness>,
    n: usize,
    duration: Duration,
    f: F,
) -> Vec<ClientResult>
where
    F: Fn(usize, Rc<TestClerk>, Rc<Cell<bool>>) -> Fut,
    Fut: Future<Output = ClientResult> + 'static,
{
    let done = Rc::new(Cell::new(false));
    let handles: Vec<_> = (0..n)
        .map(|me| task::spawn(f(me, Rc::new(h.make_clerk()), done.clone())))
        .collect();
    sleep(duration).await;
    done.set(true);
    let mut results = Vec::new();
    for (me, handle) in handles.into_iter().enumerate() {
        match timeout(STOP_GRACE, handle).await {
            Ok(r) => results.push(r.expect("client task")),
            Err(_) => panic!(
                "client {me} did not stop within {STOP_GRACE:?} after the test told it to: \
                 an operation (or an acquire) never returned"
            ),
        }
    }
    results
}

/// 6.5840's OnePut: puts `"{me} {ver}"` at `ver`, reads the key back, and
/// repeats at the version read until the Put returns `Ok` or `Maybe`.
/// Returns the version last read and whether the Put was `Ok`.
pub async fn one_put(me: usize, ck: &TestClerk, key: &str, mut ver: Version) -> (Version, bool) {
    loop {
        let value = format!("{me} {ver}");
        let r = ck.put(key, &value, ver).await;
        if let Err(KvError::NoKey) = r {
            panic!(
                "client {me}: Put({key:?}, {value:?}, {ver}) returned ErrNoKey, but the key exists"
            );
        }
        let (stored, ver1) = ck.get(key).await.unwrap_or_else(|e| {
            panic!("client {me}: Get({key:?}) returned {e} after a Put, but the key exists")
        });
        if r.is_ok() && ver1 == ver + 1 {
            assert_eq!(
                stored,
                value,
                "client {me}: Put({key:?}, {value:?}, {ver}) returned OK and the key is at version {}, \
                 yet it holds another client's value: two Puts at version {ver} were applied",
                ver + 1
            );
        }
        ver = ver1;
        match r {
            Ok(()) => return (ver, true),
            Err(KvError::Maybe) => return (ver, false),
            _ => {}
        }
    }
}

/// 6.5840's OneClientPut: OnePut on `key` until told to stop.
pub async fn one_client_put(
    me: usize,
    ck: Rc<TestClerk>,
    key: &'static str,
    done: Rc<Cell<bool>>,
) -> ClientResult {
    let mut res = ClientResult::default();
    let mut ver = 0;
    while !done.get() {
        let (v, ok) = one_put(me, &ck, key, ver).await;
        ver = v;
        if ok {
            res.ok += 1;
        } else {
            res.maybe += 1;
        }
    }
    res
}

/// 6.5840's CheckPutConcurrent: the key's version counts the applied Puts:
/// exactly the `Ok` ones on a reliable network; on an unreliable one, the
/// `Ok` ones plus some of the `Maybe` ones. Returns the totals.
pub async fn check_put_concurrent(
    ck: &TestClerk,
    key: &str,
    results: &[ClientResult],
    reliable: bool,
) -> ClientResult {
    let total = results
        .iter()
        .fold(ClientResult::default(), |a, r| ClientResult {
            ok: a.ok + r.ok,
            maybe: a.maybe + r.maybe,
        });
    let (_, ver) = ck
        .get(key)
        .await
        .unwrap_or_else(|e| panic!("Get({key:?}) returned {e} after the clients' Puts"));
    if reliable {
        assert_eq!(
            ver, total.ok,
            "the key's version is {ver} but the clerks reported {} successful Puts \
             (reliable network: every Put applied is Ok, and only those)",
            total.ok
        );
    } else {
        assert!(
            total.ok <= ver && ver <= total.ok + total.maybe,
            "the key's version is {ver} but the clerks reported {} Ok and {} Maybe Puts: \
             it must be at least the Ok ones and at most Ok + Maybe",
            total.ok,
            total.maybe
        );
    }
    total
}

/// `n` random lowercase letters (6.5840's RandValue).
pub fn rand_value(n: usize) -> String {
    (0..n)
        .map(|_| char::from(labrpc::rand::gen_range(b'a'..=b'z')))
        .collect()
}
