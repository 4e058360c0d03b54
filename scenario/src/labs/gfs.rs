//! `lab = "gfs"`: a master and chunkservers, each on a node of its own
//! (`master`, `cs0`, ...), and clients on theirs (`client0`, ...) that
//! append records to files or write them, at the scenario's times.
//!
//! Names resolved when a step runs: `primary`, `secondary` (`secondary
//! 2`) and `replicas` of the chunk the clients append to now (the last
//! chunk of the first file), as the master names them (`find_lease`,
//! which grants a lease if none is held, as a client's mutation would).
//!
//! The checks are the paper's consistency model, as the grader checks it
//! on every replica's disk (`ChunkStore`), through the lab's public API.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use gfs::framework::rpc::{chunkserver, master};
use gfs::{
    CHUNK_SIZE, ChunkLocations, ChunkServer, ChunkStore, Client, FindChunkArgs, GfsError, MASTER,
    Master, PathArgs, chunkserver_name, record,
};
use labrpc::time::{sleep, sleep_until, timeout};
use labrpc::trace::event;
use labrpc::{ClientEnd, NodeId, Server, network, node, task};
use serde::Deserialize;
use toml::Spanned;

use super::drive::{Cluster, Core, Kind, at, drive, now, secs};
use super::parse::{self, Common, Namer, RawFile, Refuse, window, yes};
use super::{LabAction, LabCheck, LabSpec};
use crate::run::Found;
use crate::spec::{
    Check as SpecCheck, Ctx, Expect, Lab, Millis, Peers, RawPeers, Scenario, SpecError,
};
use crate::spec::{OneOf, one_of};

/// The RPC methods (what `drop`/`delay` may name).
pub fn methods() -> Vec<&'static str> {
    use gfs::framework::rpc::{chunkserver, master};
    [master::METHODS, chunkserver::METHODS].concat()
}

/// Extra virtual time a run may need past its windows (a client's
/// mutation gives up after `MUTATION_TIMEOUT`).
pub(crate) const SLACK: Duration = Duration::from_secs(10);
/// How long `progress` may take without `within`.
pub const PROGRESS_WITHIN: Duration = Duration::from_secs(5);
/// The file `progress` appends to.
const LIVE: &str = "/live";

/// The cluster, the files and the clients.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Chunkservers (`cs0`, ...).
    pub chunkservers: usize,
    /// The files the clients use, in order of first mention (created at
    /// the start).
    pub files: Vec<String>,
    /// The clients (`client0`, ...).
    pub clients: Vec<ClientSpec>,
}

/// What a client does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Record appends.
    Append,
    /// Writes at successive offsets.
    Write,
}

/// One client.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSpec {
    /// Its file.
    pub file: String,
    /// Appends or writes.
    pub op: Op,
    /// Bytes per record or write.
    pub size: usize,
    /// Writes: the offset of the first (the k-th goes at `offset + k * size`).
    pub offset: u64,
    /// When each operation is due.
    pub schedule: Vec<Duration>,
}

/// A GFS check.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// Every acknowledged append is intact at its offset on every replica
    /// the master names (at its version); no two overlap.
    AppendsIntact,
    /// A fresh reader's `read_records` returns every acknowledged record
    /// at least once and nothing never appended.
    RecordsRead,
    /// Every acknowledged write no other write overlapped is defined:
    /// every replica holds it, and a fresh read returns it.
    Defined,
    /// Throughout: every replica the master names holds the chunk at the
    /// master's version (or a newer one being granted), never older.
    NeverStale,
    /// Some chunk of the files is on one of these at an older version than
    /// the master's (the replica missed a lease).
    Stale(Peers),
    /// No live chunkserver keeps a stale copy (garbage collected).
    Collected,
    /// Every chunk of the files has N current replicas on live chunkservers.
    Replicated(usize),
    /// At least N client operations were acknowledged.
    AckedAtLeast(u64),
    /// A fresh append returns within the window.
    Progress,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::AppendsIntact => f.write_str(
                "every acknowledged append is intact at its offset on every replica the master names",
            ),
            Check::RecordsRead => f.write_str(
                "a fresh reader gets every acknowledged record (at least once) and nothing else",
            ),
            Check::Defined => f.write_str("every serially written region is defined"),
            Check::NeverStale => {
                f.write_str("the master never names a stale replica (older than its version)")
            }
            Check::Stale(p) => write!(f, "{p} holds a stale replica (missed a lease)"),
            Check::Collected => f.write_str("no live chunkserver keeps a stale copy"),
            Check::Replicated(n) => write!(f, "every chunk has {n} live, current replicas"),
            Check::AckedAtLeast(n) => write!(f, "at least {n} client operations acknowledged"),
            Check::Progress => f.write_str("progress: a fresh append returns"),
        }
    }
}

impl Spec {
    /// `1 master, 5 chunkservers, 2 clients`.
    pub fn summary(&self) -> String {
        format!(
            "1 master, {} chunkservers, {} clients",
            self.chunkservers,
            self.clients.len()
        )
    }

    /// `master`, `cs0`, ..., `client0`, ...
    pub fn node_names(&self) -> Vec<String> {
        let mut v = vec!["master".to_string()];
        v.extend((0..self.chunkservers).map(|i| format!("cs{i}")));
        v.extend((0..self.clients.len()).map(|i| format!("client{i}")));
        v
    }

    /// The canonical name of a word naming nodes, if it does.
    fn word(&self, w: &str) -> Option<String> {
        let fixed = [
            "master",
            "primary",
            "secondary",
            "replicas",
            "chunkservers",
            "clients",
        ];
        if fixed.contains(&w) {
            return Some(w.to_string());
        }
        let numbered = |prefix: &str, n: usize| {
            let k = w.strip_prefix(prefix)?.trim_start_matches('-');
            k.parse::<usize>().ok().filter(|k| *k < n)
        };
        if let Some(k) = numbered("cs", self.chunkservers) {
            return Some(format!("cs{k}"));
        }
        if let Some(k) = numbered("client", self.clients.len()) {
            return Some(format!("client{k}"));
        }
        let k = w.strip_prefix("secondary ")?.trim().parse::<usize>().ok()?;
        (1..gfs::REPLICAS)
            .contains(&k)
            .then(|| format!("secondary {k}"))
    }
}

// ------------------------------------------------------------------ parse

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    chunkservers: Spanned<i64>,
    reliable: Option<bool>,
    latency_ms: Option<Spanned<Millis>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    file: Option<Spanned<String>>,
    ops: Option<Spanned<String>>,
    size: Option<Spanned<i64>>,
    offset: Option<Spanned<i64>>,
    rate: Option<Spanned<f64>>,
    from: Option<Spanned<f64>>,
    until: Option<Spanned<f64>>,
    burst: Option<Spanned<RawBurst>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBurst {
    at: Spanned<f64>,
    count: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    at: Option<Spanned<f64>>,
    within: Option<Spanned<f64>>,
    appends_intact: Option<Spanned<bool>>,
    records_read: Option<Spanned<bool>>,
    defined: Option<Spanned<bool>>,
    never_stale: Option<Spanned<bool>>,
    stale: Option<Spanned<RawPeers>>,
    collected: Option<Spanned<bool>>,
    replicated: Option<Spanned<i64>>,
    acked_at_least: Option<Spanned<i64>>,
    progress: Option<Spanned<bool>>,
}

const MAX_CHUNKSERVERS: i64 = 8;
const NAMES: &str = "master, cs0.., client0.., chunkservers, clients, or the chunk the clients \
                     append to now: primary, secondary, secondary 2, replicas";

/// Reads a gfs scenario.
pub(crate) fn parse(ctx: &Ctx<'_>) -> Result<Scenario, SpecError> {
    let raw: RawFile<RawCluster, Refuse, RawClient, RawExpect> =
        toml::from_str(ctx.source).map_err(|e| parse::toml_error(ctx, e))?;
    let cl = raw.cluster.as_ref().ok_or_else(|| SpecError {
        message: format!(
            "{}: a gfs scenario needs [cluster] with `chunkservers`",
            ctx.file
        ),
    })?;
    let n = *cl.get_ref().chunkservers.get_ref();
    if !(gfs::REPLICAS as i64..=MAX_CHUNKSERVERS).contains(&n) {
        return Err(ctx.err(
            &cl.get_ref().chunkservers.span(),
            "cluster.chunkservers",
            format!(
                "{n} chunkservers: a cluster has {} (a chunk's replicas) to {MAX_CHUNKSERVERS}",
                gfs::REPLICAS
            ),
        ));
    }
    let mut spec = Spec {
        chunkservers: n as usize,
        files: Vec::new(),
        clients: Vec::new(),
    };
    for (i, c) in raw.client.iter().enumerate() {
        let client = client(ctx, i, c)?;
        if !spec.files.contains(&client.file) {
            spec.files.push(client.file.clone());
        }
        spec.clients.push(client);
    }
    let word = |w: &str| spec.word(w);
    let mut namer = Namer {
        word: &word,
        help: NAMES,
        bound: BTreeSet::new(),
    };
    let steps = parse::steps(ctx, Lab::Gfs, &mut namer, &raw.step)?;
    no_client_crashes(ctx, &steps)?;
    let mut expects = Vec::new();
    for (i, e) in raw.expect.iter().enumerate() {
        expects.push(expect(ctx, &namer, i + 1, e)?);
    }
    let last_op = spec
        .clients
        .iter()
        .filter_map(|c| c.schedule.last().copied())
        .max()
        .unwrap_or_default();
    let cluster = cl.get_ref();
    let common = Common {
        title: raw.title,
        description: raw.description,
        seed: raw.seed,
        duration: raw.duration,
        skip_unresolved: raw.skip_unresolved,
        reliable: cluster.reliable.unwrap_or(true),
        latency: cluster
            .latency_ms
            .as_ref()
            .map(|l| ctx.millis(l, "cluster.latency_ms"))
            .transpose()?,
    };
    let nodes = spec.node_names().len();
    parse::scenario(
        ctx,
        Lab::Gfs,
        common,
        nodes,
        steps,
        expects,
        last_op,
        LabSpec::Gfs(spec),
    )
}

/// Clients are cut off, not crashed (their operations' outcomes are the
/// checks' input).
fn no_client_crashes(ctx: &Ctx<'_>, steps: &[crate::spec::Step]) -> Result<(), SpecError> {
    for s in steps {
        if let crate::spec::Action::Crash(p) | crate::spec::Action::Restart(p) = &s.action
            && p.roles
                .iter()
                .any(|r| matches!(r, crate::spec::Role::Lab(n) if n.starts_with("client")))
        {
            return Err(SpecError {
                message: format!(
                    "{}:{}: field `{}`: clients do not crash here: cut them off instead \
                     (`isolate`, `cut`, `partition`)",
                    ctx.file, s.place.line, s.place.field
                ),
            });
        }
    }
    Ok(())
}

fn client(ctx: &Ctx<'_>, i: usize, c: &Spanned<RawClient>) -> Result<ClientSpec, SpecError> {
    let r = c.get_ref();
    let f = |name: &str| format!("client[{}].{name}", i + 1);
    let file = r
        .file
        .as_ref()
        .map_or("/log".to_string(), |f| f.get_ref().clone());
    if file == LIVE {
        return Err(ctx.err(
            &c.span(),
            &f("file"),
            format!("{LIVE} is the `progress` check's file"),
        ));
    }
    let op = match r.ops.as_ref().map(|o| (o, o.get_ref().as_str())) {
        None | Some((_, "append")) => Op::Append,
        Some((_, "write")) => Op::Write,
        Some((o, other)) => {
            return Err(ctx.err(
                &o.span(),
                &f("ops"),
                format!("{other:?}: a gfs client's ops are \"append\" or \"write\""),
            ));
        }
    };
    let max = if op == Op::Append {
        gfs::MAX_RECORD as i64 - record::HEADER as i64
    } else {
        CHUNK_SIZE as i64
    };
    let size = match &r.size {
        None => 100,
        Some(s) if (1..=max).contains(s.get_ref()) => *s.get_ref() as usize,
        Some(s) => {
            return Err(ctx.err(
                &s.span(),
                &f("size"),
                format!("{} bytes: 1 to {max} for {op:?}", s.get_ref()),
            ));
        }
    };
    let offset = match &r.offset {
        Some(o) if op == Op::Append => {
            return Err(ctx.err(
                &o.span(),
                &f("offset"),
                "an append's offset is the primary's choice: `offset` goes with ops = \"write\"",
            ));
        }
        Some(o) => u64::try_from(*o.get_ref())
            .map_err(|_| ctx.err(&o.span(), &f("offset"), "an offset is 0 or more"))?,
        None => 0,
    };
    let schedule = schedule(ctx, c, &f)?;
    Ok(ClientSpec {
        file,
        op,
        size,
        offset,
        schedule,
    })
}

/// When a client's operations are due: `rate` from `from` to `until`,
/// and `burst`.
fn schedule(
    ctx: &Ctx<'_>,
    c: &Spanned<RawClient>,
    f: &dyn Fn(&str) -> String,
) -> Result<Vec<Duration>, SpecError> {
    let r = c.get_ref();
    let mut schedule = Vec::new();
    if let Some(rate) = &r.rate {
        let per_s = *rate.get_ref();
        if !(per_s.is_finite() && per_s > 0.0 && per_s <= 200.0) {
            return Err(ctx.err(
                &rate.span(),
                &f("rate"),
                format!("{per_s}: operations per virtual second, more than 0, at most 200"),
            ));
        }
        let from = r
            .from
            .as_ref()
            .map(|v| ctx.secs(v, &f("from")))
            .transpose()?
            .unwrap_or_default();
        let until = r.until.as_ref().ok_or_else(|| {
            ctx.err(
                &rate.span(),
                &f("until"),
                "a steady client needs `until`, when it stops",
            )
        })?;
        let until = ctx.secs(until, &f("until"))?;
        let mut t = from;
        while t < until && schedule.len() <= crate::spec::MAX_OPS {
            schedule.push(t);
            t += Duration::from_secs_f64(1.0 / per_s);
        }
    }
    if let Some(b) = &r.burst {
        let at = ctx.secs(&b.get_ref().at, &f("burst.at"))?;
        let k = *b.get_ref().count.get_ref();
        if !(1..=crate::spec::MAX_OPS as i64).contains(&k) {
            return Err(ctx.err(
                &b.get_ref().count.span(),
                &f("burst.count"),
                format!("{k}: a burst has 1 to {} operations", crate::spec::MAX_OPS),
            ));
        }
        schedule.extend(std::iter::repeat_n(at, k as usize));
        schedule.sort();
    }
    if schedule.is_empty() {
        return Err(ctx.err(
            &c.span(),
            f("").trim_end_matches('.'),
            "a client without `rate` (with `from`, `until`) or `burst` does nothing",
        ));
    }
    Ok(schedule)
}

fn expect(
    ctx: &Ctx<'_>,
    namer: &Namer<'_>,
    number: usize,
    e: &Spanned<RawExpect>,
) -> Result<Expect, SpecError> {
    let r = e.get_ref();
    let s = |v: Option<std::ops::Range<usize>>| v;
    let (name, span) = one_of(
        ctx,
        &e.span(),
        &format!("expect[{number}]"),
        vec![
            (
                "appends_intact",
                s(r.appends_intact.as_ref().map(|v| v.span())),
            ),
            ("records_read", r.records_read.as_ref().map(|v| v.span())),
            ("defined", r.defined.as_ref().map(|v| v.span())),
            ("never_stale", r.never_stale.as_ref().map(|v| v.span())),
            ("stale", r.stale.as_ref().map(|v| v.span())),
            ("collected", r.collected.as_ref().map(|v| v.span())),
            ("replicated", r.replicated.as_ref().map(|v| v.span())),
            (
                "acked_at_least",
                r.acked_at_least.as_ref().map(|v| v.span()),
            ),
            ("progress", r.progress.as_ref().map(|v| v.span())),
        ],
        "a gfs expectation needs one check: appends_intact, records_read, defined, never_stale, \
         stale, collected, replicated, acked_at_least or progress",
        OneOf::Check,
    )?;
    let field = format!("expect[{number}].{name}");
    let check = match name {
        "appends_intact" => {
            yes(ctx, r.appends_intact.as_ref().expect("p"), &field).map(|_| Check::AppendsIntact)?
        }
        "records_read" => {
            yes(ctx, r.records_read.as_ref().expect("p"), &field).map(|_| Check::RecordsRead)?
        }
        "defined" => yes(ctx, r.defined.as_ref().expect("p"), &field).map(|_| Check::Defined)?,
        "never_stale" => {
            yes(ctx, r.never_stale.as_ref().expect("p"), &field).map(|_| Check::NeverStale)?
        }
        "collected" => {
            yes(ctx, r.collected.as_ref().expect("p"), &field).map(|_| Check::Collected)?
        }
        "progress" => yes(ctx, r.progress.as_ref().expect("p"), &field).map(|_| Check::Progress)?,
        "stale" => Check::Stale(namer.peers(
            ctx,
            r.stale.as_ref().expect("p").get_ref(),
            &span,
            &field,
            false,
        )?),
        "replicated" => {
            let v = r.replicated.as_ref().expect("p");
            let k = *v.get_ref();
            if !(1..=gfs::REPLICAS as i64).contains(&k) {
                return Err(ctx.err(
                    &v.span(),
                    &field,
                    format!("{k} replicas: 1 to {} (a chunk's replicas)", gfs::REPLICAS),
                ));
            }
            Check::Replicated(k as usize)
        }
        "acked_at_least" => Check::AckedAtLeast(parse::count(
            ctx,
            r.acked_at_least.as_ref().expect("p"),
            &field,
        )?),
        _ => unreachable!("every check is listed"),
    };
    let (at, within) = window(ctx, number, r.at.as_ref(), r.within.as_ref())?;
    Ok(Expect {
        number,
        at,
        within,
        check: SpecCheck::Lab(LabCheck::Gfs(check)),
        place: ctx.place(&span, field),
    })
}

// -------------------------------------------------------------------- run

/// What the clients did: appends asked and acknowledged, writes.
#[derive(Default)]
struct Log {
    /// Every record asked for, by file.
    attempted: BTreeMap<String, BTreeSet<Vec<u8>>>,
    /// (offset, record) of every acknowledged append, by file.
    acked: BTreeMap<String, Vec<(u64, Vec<u8>)>>,
    /// Every write asked for: (file, offset, data, acknowledged).
    writes: Vec<(String, u64, Vec<u8>, bool)>,
}

/// The cluster of a run.
struct Gfs {
    core: Core,
    spec: Spec,
    stores: Vec<Rc<ChunkStore>>,
    /// The runner's own stub of the master (from the tester's node, which
    /// no partition cuts off).
    master: master::Client,
    log: RefCell<Log>,
    next_checker: std::cell::Cell<u64>,
}

/// The run of a gfs scenario.
pub(crate) async fn body(s: Rc<Scenario>, found: Rc<RefCell<Found>>) {
    let Some(LabSpec::Gfs(spec)) = s.lab_spec.clone() else {
        unreachable!("a gfs scenario")
    };
    let core = Core::new(s.clone(), found, Core::create(spec.node_names()));
    let net = network();
    let end = net.make_end("scenario-master", NodeId::TESTER);
    net.connect("scenario-master", MASTER);
    net.enable("scenario-master", true);
    let w = Rc::new(Gfs {
        stores: (0..spec.chunkservers).map(|_| ChunkStore::new()).collect(),
        master: master::Client::new(end),
        log: RefCell::default(),
        next_checker: std::cell::Cell::new(1000),
        core,
        spec,
    });
    w.start_master();
    for i in 0..w.spec.chunkservers {
        w.start_chunkserver(i);
    }
    let setup = w.checker();
    for f in w.spec.files.iter().chain([&LIVE.to_string()]) {
        if let Err(e) = setup.create(f).await
            && e != GfsError::Exists
        {
            w.core
                .stop(format!("{}: creating {f:?} failed: {e}", s.file));
            return;
        }
    }
    let mut clients = Vec::new();
    for (i, c) in w.spec.clients.clone().into_iter().enumerate() {
        let w = w.clone();
        // On the client's node: its messages leave from its lane.
        let me = w.core.node(w.cs(w.spec.chunkservers) + i);
        clients.push(task::spawn_on(me, async move { w.client(i, c).await }));
    }
    let summary = w.spec.summary();
    drive(w.clone(), summary).await;
    drop(clients);
}

impl Gfs {
    fn cs(&self, i: usize) -> usize {
        1 + i
    }

    fn ends_from(&self, from: NodeId) -> BTreeMap<String, ClientEnd> {
        (0..self.spec.chunkservers)
            .map(|i| {
                (
                    chunkserver_name(i),
                    network().end_to(from, &chunkserver_name(i)),
                )
            })
            .collect()
    }

    fn start_master(&self) {
        let me = self.core.node(0);
        let ends = self.ends_from(me);
        let persister = node::persister(me);
        let m = node::enter(me, || Master::new(ends, persister));
        network().add_server(MASTER, me, Server::new().add_service(master::service(m)));
    }

    fn start_chunkserver(&self, i: usize) {
        let me = self.core.node(self.cs(i));
        let peers = self.ends_from(me);
        let master = network().end_to(me, MASTER);
        let store = self.stores[i].clone();
        let cs = node::enter(me, || {
            ChunkServer::new(chunkserver_name(i), store, master, peers)
        });
        let server = Server::new().add_service(chunkserver::service(cs));
        network().add_server(chunkserver_name(i), me, server);
    }

    /// A fresh client of the runner's, on the tester's node.
    fn checker(&self) -> Client {
        let id = self.next_checker.get();
        self.next_checker.set(id + 1);
        let net = network();
        Client::new(
            id,
            net.end_to(NodeId::TESTER, MASTER),
            self.ends_from(NodeId::TESTER),
        )
    }

    /// One client's schedule.
    async fn client(self: Rc<Self>, i: usize, c: ClientSpec) {
        let me = self.core.node(self.cs(self.spec.chunkservers) + i);
        let ck = Client::new(i as u64, network().end_to(me, MASTER), self.ends_from(me));
        for (k, t) in c.schedule.iter().enumerate() {
            sleep_until(at(*t)).await;
            if self.core.stopped.get() {
                return;
            }
            let t0 = now();
            let tag = format!("c{i}.{k}:");
            let mut data = tag.clone().into_bytes();
            data.extend((data.len()..c.size).map(|j| b'a' + (j % 26) as u8));
            data.truncate(c.size.max(1));
            let (desc, ret) = match c.op {
                Op::Append => {
                    self.log
                        .borrow_mut()
                        .attempted
                        .entry(c.file.clone())
                        .or_default()
                        .insert(data.clone());
                    let r = ck.append(&c.file, &data).await;
                    if let Ok(off) = r {
                        self.log
                            .borrow_mut()
                            .acked
                            .entry(c.file.clone())
                            .or_default()
                            .push((off, data.clone()));
                    }
                    (
                        format!("append {tag} ({} B) to {}", data.len(), c.file),
                        r.map_or_else(|e| e.to_string(), |o| format!("offset {o}")),
                    )
                }
                Op::Write => {
                    let off = c.offset + (k * c.size) as u64;
                    let r = ck.write(&c.file, off, &data).await;
                    self.log.borrow_mut().writes.push((
                        c.file.clone(),
                        off,
                        data.clone(),
                        r.is_ok(),
                    ));
                    (
                        format!("write {tag} ({} B) at {off} of {}", data.len(), c.file),
                        r.map_or_else(|e| e.to_string(), |_| "ok".into()),
                    )
                }
            };
            event(
                "client",
                format!(
                    "client {i} {desc} → {ret} (called {}, took {} ms)",
                    secs(t0),
                    (now() - t0).as_millis()
                ),
            );
        }
    }

    /// The master's answer for chunk `index` of `path`, retried through
    /// `Retry` for up to a second; why not, if it has none.
    async fn locations(&self, path: &str, index: u64) -> Result<ChunkLocations, String> {
        let args = FindChunkArgs {
            path: path.into(),
            index,
            create: false,
        };
        let mut last = String::new();
        for _ in 0..20 {
            match self.master.find_chunk(&args).await {
                Ok(Ok(l)) => return Ok(l),
                Ok(Err(e @ (GfsError::Retry | GfsError::Unavailable))) => last = e.to_string(),
                Ok(Err(e)) => {
                    return Err(format!("the master has no chunk {index} of {path:?}: {e}"));
                }
                Err(e) => last = format!("{e:?}"),
            }
            sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "the master did not locate chunk {index} of {path:?} ({last})"
        ))
    }

    async fn chunk_count(&self, path: &str) -> Result<u64, String> {
        match self
            .master
            .chunk_count(&PathArgs { path: path.into() })
            .await
        {
            Ok(Ok(n)) => Ok(n),
            Ok(Err(e)) => Err(format!("the master does not know {path:?}: {e}")),
            Err(e) => Err(format!("the master does not answer ({e:?})")),
        }
    }

    /// Every chunk of the scenario's files, as the master locates it.
    async fn all_chunks(&self) -> Result<Vec<(String, u64, ChunkLocations)>, String> {
        let mut out = Vec::new();
        for f in &self.spec.files {
            for index in 0..self.chunk_count(f).await? {
                out.push((f.clone(), index, self.locations(f, index).await?));
            }
        }
        Ok(out)
    }

    fn alive(&self, cs: usize) -> bool {
        node::is_alive(self.core.node(self.cs(cs)))
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        (0..self.spec.chunkservers).find(|&i| chunkserver_name(i) == name)
    }

    /// The lease on the chunk the clients append to now.
    async fn lease(&self) -> Result<gfs::LeaseInfo, String> {
        let file = self
            .spec
            .clients
            .iter()
            .find(|c| c.op == Op::Append)
            .or(self.spec.clients.first())
            .map(|c| c.file.clone())
            .ok_or("no client, so no file: primary does not resolve")?;
        let n = self.chunk_count(&file).await?;
        if n == 0 {
            return Err(format!(
                "{file:?} has no chunk yet: primary does not resolve"
            ));
        }
        let loc = self.locations(&file, n - 1).await?;
        let mut last = String::new();
        for _ in 0..40 {
            match self.master.find_lease(&loc.handle).await {
                Ok(Ok(l)) => return Ok(l),
                Ok(Err(e)) => last = e.to_string(),
                Err(e) => last = format!("{e:?}"),
            }
            sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "the master granted no lease on chunk {} of {file:?} within 2 s ({last})",
            n - 1
        ))
    }
}

impl Cluster for Gfs {
    fn core(&self) -> &Core {
        &self.core
    }

    async fn resolve_name(&self, name: &str) -> Result<Vec<usize>, String> {
        let n = self.spec.chunkservers;
        let clients = self.cs(n)..self.cs(n) + self.spec.clients.len();
        Ok(match name {
            "master" => vec![0],
            "chunkservers" => (1..=n).collect(),
            "clients" => clients.collect(),
            "primary" | "replicas" => {
                let l = self.lease().await?;
                let mut v = vec![l.primary];
                if name == "replicas" {
                    v.extend(l.secondaries);
                }
                v.iter()
                    .filter_map(|s| self.index_of(s))
                    .map(|i| self.cs(i))
                    .collect()
            }
            _ if name.starts_with("secondary") => {
                let k = name
                    .strip_prefix("secondary ")
                    .map_or(Ok(1), str::parse::<usize>)
                    .map_err(|e| e.to_string())?;
                let l = self.lease().await?;
                let s = l.secondaries.get(k - 1).ok_or_else(|| {
                    format!(
                        "the lease of chunk {} names {} secondaries: {name} does not resolve",
                        l.handle,
                        l.secondaries.len()
                    )
                })?;
                vec![self.cs(self.index_of(s).ok_or("an unknown chunkserver")?)]
            }
            _ if name.starts_with("client") => {
                vec![clients.start + name[6..].parse::<usize>().map_err(|e| e.to_string())?]
            }
            _ => vec![self.cs(name[2..].parse::<usize>().map_err(|e| e.to_string())?)],
        })
    }

    fn crash(&self, i: usize) -> Result<(), String> {
        node::crash(self.core.node(i));
        Ok(())
    }

    fn restart(&self, i: usize) -> Result<(), String> {
        let id = self.core.node(i);
        if !node::is_alive(id) {
            node::restart(id);
            if i == 0 {
                self.start_master();
            } else {
                self.start_chunkserver(i - 1);
            }
        }
        Ok(())
    }

    async fn lab_step(&self, _: &LabAction) -> Result<String, String> {
        Err("not a step of gfs".into())
    }

    fn kind(&self, c: &LabCheck) -> Kind {
        match c {
            LabCheck::Gfs(Check::NeverStale) => Kind::Always,
            LabCheck::Gfs(Check::Progress) => Kind::Once,
            _ => Kind::Eventually,
        }
    }

    async fn probe(
        &self,
        c: &LabCheck,
        within: Option<Duration>,
    ) -> Result<(bool, String), String> {
        let LabCheck::Gfs(c) = c else {
            unreachable!("a gfs check")
        };
        Ok(match c {
            Check::AppendsIntact => self.appends_intact().await,
            Check::RecordsRead => self.records_read().await,
            Check::Defined => self.defined().await,
            Check::NeverStale => self.never_stale().await,
            Check::Stale(p) => {
                let set = super::net::resolve(self, p, &[]).await?;
                self.stale(&set).await
            }
            Check::Collected => {
                let live: Vec<usize> = (0..self.spec.chunkservers)
                    .filter(|&i| self.alive(i))
                    .map(|i| self.cs(i))
                    .collect();
                let (found, why) = self.stale(&live).await;
                (!found, why)
            }
            Check::Replicated(k) => self.replicated(*k).await,
            Check::AckedAtLeast(k) => {
                let l = self.log.borrow();
                let n = l.acked.values().map(Vec::len).sum::<usize>()
                    + l.writes.iter().filter(|w| w.3).count();
                (n as u64 >= *k, format!("{n} operations acknowledged"))
            }
            Check::Progress => {
                let limit = within.unwrap_or(PROGRESS_WITHIN);
                let t0 = now();
                match timeout(limit, self.checker().append(LIVE, b"live")).await {
                    Ok(Ok(off)) => (
                        true,
                        format!(
                            "an append to {LIVE} returned offset {off} after {}",
                            secs(now() - t0)
                        ),
                    ),
                    Ok(Err(e)) => (false, format!("stuck: an append to {LIVE} failed: {e}")),
                    Err(_) => (
                        false,
                        format!(
                            "stuck: an append to {LIVE} did not return within {}",
                            secs(limit)
                        ),
                    ),
                }
            }
        })
    }
}

/// The tag a record starts with (`c0.17:`), for messages.
fn tag(r: &[u8]) -> String {
    let end = r
        .iter()
        .position(|&b| b == b':')
        .map_or(r.len().min(8), |k| k + 1);
    String::from_utf8_lossy(&r[..end]).into_owned()
}

impl Gfs {
    async fn appends_intact(&self) -> (bool, String) {
        let acked = self.log.borrow().acked.clone();
        let mut checked = 0;
        for (file, recs) in &acked {
            let mut recs = recs.clone();
            recs.sort();
            for w in recs.windows(2) {
                if w[0].0 + (record::HEADER + w[0].1.len()) as u64 > w[1].0 {
                    return (
                        false,
                        format!(
                            "{file:?}: the appends {}.. and {}.. were acknowledged at offsets \
                             {} and {}: they overlap (one of them is not there)",
                            tag(&w[0].1),
                            tag(&w[1].1),
                            w[0].0,
                            w[1].0
                        ),
                    );
                }
            }
            for (off, rec) in &recs {
                let (index, within) = (off / CHUNK_SIZE, (off % CHUNK_SIZE) as usize);
                let loc = match self.locations(file, index).await {
                    Ok(l) => l,
                    Err(why) => return (false, why),
                };
                for name in &loc.replicas {
                    let chunk = self
                        .index_of(name)
                        .and_then(|i| self.stores[i].get(loc.handle));
                    let found = chunk
                        .as_ref()
                        .and_then(|c| record::decode(&c.data, within).map(|(p, _)| p));
                    if found != Some(rec.as_slice()) {
                        let tag = tag(rec);
                        let what = match (chunk.as_ref(), found) {
                            (None, _) => "its disk does not hold the chunk".to_string(),
                            (Some(_), None) => "no intact record starts there".to_string(),
                            (Some(_), Some(p)) => {
                                format!("a different record ({} bytes) is there", p.len())
                            }
                        };
                        return (
                            false,
                            format!(
                                "{file:?}: the append {tag}.. acknowledged at offset {off} is not intact on {name} (chunk {index}, version {}): {what}",
                                loc.version
                            ),
                        );
                    }
                }
                checked += 1;
            }
        }
        (
            true,
            format!("{checked} acknowledged appends intact on every replica the master names"),
        )
    }

    async fn records_read(&self) -> (bool, String) {
        let (acked, attempted) = {
            let l = self.log.borrow();
            (l.acked.clone(), l.attempted.clone())
        };
        let reader = self.checker();
        let (mut read_n, mut dups) = (0, 0);
        for (file, recs) in &acked {
            let read = match reader.read_records(file).await {
                Ok(r) => r,
                Err(e) => return (false, format!("read_records({file:?}) failed: {e}")),
            };
            let empty = BTreeSet::new();
            let asked = attempted.get(file).unwrap_or(&empty);
            if let Some(r) = read.iter().find(|r| !asked.contains(*r)) {
                return (
                    false,
                    format!(
                        "read_records({file:?}) returned a {}-byte record nobody appended (padding or a failed append's remains read as a record?)",
                        r.len()
                    ),
                );
            }
            let set: BTreeSet<&Vec<u8>> = read.iter().collect();
            if let Some((off, rec)) = recs.iter().find(|(_, r)| !set.contains(r)) {
                return (
                    false,
                    format!(
                        "read_records({file:?}) misses the record {}.. acknowledged at offset {off}",
                        tag(rec)
                    ),
                );
            }
            read_n += read.len();
            dups += read.len() - set.len();
        }
        (
            true,
            format!(
                "{read_n} records read, every acknowledged one among them, {dups} duplicates (retried appends), nothing else"
            ),
        )
    }

    async fn defined(&self) -> (bool, String) {
        let writes = self.log.borrow().writes.clone();
        let reader = self.checker();
        let (mut checked, mut skipped) = (0, 0);
        for (i, (file, off, data, ok)) in writes.iter().enumerate() {
            let end = off + data.len() as u64;
            let overlapped = writes
                .iter()
                .enumerate()
                .any(|(j, w)| j != i && &w.0 == file && w.1 < end && *off < w.1 + w.2.len() as u64);
            if !ok || overlapped {
                skipped += usize::from(*ok);
                continue;
            }
            let (index, within) = (off / CHUNK_SIZE, (off % CHUNK_SIZE) as usize);
            if within + data.len() <= CHUNK_SIZE as usize {
                let loc = match self.locations(file, index).await {
                    Ok(l) => l,
                    Err(why) => return (false, why),
                };
                for name in &loc.replicas {
                    let got = self
                        .index_of(name)
                        .and_then(|k| self.stores[k].get(loc.handle));
                    if got
                        .as_ref()
                        .and_then(|c| c.data.get(within..within + data.len()))
                        != Some(data.as_slice())
                    {
                        return (
                            false,
                            format!(
                                "{file:?} bytes {off}..{end}: the replica on {name} does not hold what was written"
                            ),
                        );
                    }
                }
            }
            match reader.read(file, *off, data.len() as u64).await {
                Ok(d) if d == *data => {}
                Ok(_) => {
                    return (
                        false,
                        format!(
                            "{file:?} bytes {off}..{end}: a fresh read returns other bytes than the acknowledged write"
                        ),
                    );
                }
                Err(e) => {
                    return (
                        false,
                        format!("{file:?} bytes {off}..{end}: a fresh read failed: {e}"),
                    );
                }
            }
            checked += 1;
        }
        (
            true,
            format!(
                "{checked} serially written regions defined ({skipped} written concurrently, not checked)"
            ),
        )
    }

    async fn never_stale(&self) -> (bool, String) {
        let chunks = match self.all_chunks().await {
            Ok(c) => c,
            Err(why) => return (true, format!("not looked at: {why}")),
        };
        for (file, index, loc) in &chunks {
            for name in &loc.replicas {
                let v = self
                    .index_of(name)
                    .and_then(|i| self.stores[i].version(loc.handle));
                // A newer version on disk is a lease being granted as the
                // master answered: only an older one is stale.
                if v.is_none_or(|v| v < loc.version) {
                    return (
                        false,
                        format!(
                            "the master names {name} as a replica of chunk {index} of {file:?} at version {}, but its disk holds {}",
                            loc.version,
                            v.map_or("no such chunk".into(), |v| format!("version {v}"))
                        ),
                    );
                }
            }
        }
        (
            true,
            format!(
                "{} chunks: no replica named is older than the master's version",
                chunks.len()
            ),
        )
    }

    /// Whether a chunkserver of `set` holds a copy older than the master's.
    async fn stale(&self, set: &[usize]) -> (bool, String) {
        let chunks = match self.all_chunks().await {
            Ok(c) => c,
            Err(why) => return (false, why),
        };
        for (file, index, loc) in &chunks {
            for &node in set
                .iter()
                .filter(|&&k| (1..=self.spec.chunkservers).contains(&k))
            {
                if let Some(v) = self.stores[node - 1].version(loc.handle)
                    && v < loc.version
                {
                    return (
                        true,
                        format!(
                            "cs{} holds chunk {index} of {file:?} at version {v}, the master's is {}",
                            node - 1,
                            loc.version
                        ),
                    );
                }
            }
        }
        (
            false,
            format!(
                "no stale copy on {} ({} chunks)",
                self.core.show(set),
                chunks.len()
            ),
        )
    }

    async fn replicated(&self, k: usize) -> (bool, String) {
        let chunks = match self.all_chunks().await {
            Ok(c) => c,
            Err(why) => return (false, why),
        };
        for (file, index, loc) in &chunks {
            let good: Vec<&String> = loc
                .replicas
                .iter()
                .filter(|n| {
                    self.index_of(n).is_some_and(|i| {
                        self.alive(i) && self.stores[i].version(loc.handle) == Some(loc.version)
                    })
                })
                .collect();
            if good.len() < k {
                return (
                    false,
                    format!(
                        "chunk {index} of {file:?} has {} live, current replicas ({good:?})",
                        good.len()
                    ),
                );
            }
        }
        (
            true,
            format!(
                "{} chunks, each with at least {k} live, current replicas",
                chunks.len()
            ),
        )
    }
}
