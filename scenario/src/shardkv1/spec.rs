//! The shardkv1 scenario file: the same top level, `[[client]]`,
//! `[[step]]` and `[[expect]]` tables as the other labs, with this lab's
//! cluster (groups and the configuration server), its nodes' names, its
//! steps (join, leave, controllers that crash mid-move, new controllers)
//! and its checks. Every error names the file, the line and the field.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use shardkv1::{Gid, NSHARDS};
use toml::Spanned;

use crate::spec::{
    Client, Ctx, Known, Lab, Millis, OpKind, Place, RawClient, Scenario, SpecError, check_client,
    method,
};

/// The most shard groups a scenario may have.
pub const MAX_GROUPS: u64 = 6;

/// The methods a controller crash can wait for (the moves and the
/// configuration server's calls).
pub const CRASH_METHODS: &[&str] = &[
    "shardgrp.freeze_shard",
    "shardgrp.install_shard",
    "shardgrp.delete_shard",
    "kv.get",
    "kv.put",
];

/// A node, or a set of nodes, as a step names it; resolved when it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The configuration server.
    Kvsrv,
    /// A controller: `None` the latest started, `Some(n)` the n-th (from 0).
    Ctrler(Option<usize>),
    /// Every server of a group.
    Group(Gid),
    /// Server `i` of a group.
    Server(Gid, usize),
    /// The server of a group that believes it leads (highest term).
    Leader(Gid),
    /// Every client.
    Clients,
    /// Client `n`.
    Client(usize),
    /// Every node of the lab.
    All,
    /// In `partition`: every node not named in another group.
    Rest,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Kvsrv => f.write_str("kvsrv"),
            Target::Ctrler(None) => f.write_str("ctrler"),
            Target::Ctrler(Some(n)) => write!(f, "ctrler {n}"),
            Target::Group(g) => write!(f, "g{g}"),
            Target::Server(g, i) => write!(f, "g{g}.{i}"),
            Target::Leader(g) => write!(f, "g{g}.leader"),
            Target::Clients => f.write_str("clients"),
            Target::Client(n) => write!(f, "client {n}"),
            Target::All => f.write_str("all"),
            Target::Rest => f.write_str("rest"),
        }
    }
}

/// Nodes named by a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    /// In the file's order.
    pub list: Vec<Target>,
    /// Where the field is.
    pub place: Place,
}

impl fmt::Display for Targets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v: Vec<String> = self.list.iter().map(|t| t.to_string()).collect();
        if v.len() == 1 {
            f.write_str(&v[0])
        } else {
            write!(f, "[{}]", v.join(", "))
        }
    }
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A controller moves to the current configuration plus these groups.
    Join(Vec<Gid>, Option<usize>),
    /// A controller moves to the current configuration without them.
    Leave(Vec<Gid>, Option<usize>),
    /// A new controller starts (on a node of its own) and runs
    /// `init_controller`.
    NewCtrler,
    /// Arms a crash: the controller crashes when the `count`-th reply of
    /// `method` reaches it (the request was carried out; the reply is lost).
    CrashOn {
        /// `service.method`.
        method: String,
        /// Which reply (from 1).
        count: u64,
        /// Which controller (`None`: the latest started).
        by: Option<usize>,
    },
    /// Split the nodes into groups.
    Partition(Vec<Targets>),
    /// Every link up.
    Heal,
    /// Cut the one-way links from each of the first to each of the second.
    Cut(Targets, Targets),
    /// Restore them.
    Restore(Targets, Targets),
    /// Crash servers or controllers.
    Crash(Targets),
    /// Restart servers (from their persisters) or controllers (a fresh one
    /// on the same node, which runs `init_controller`).
    Restart(Targets),
    /// Cut nodes off from every other node, both ways.
    Isolate(Targets),
    /// Undo an isolate.
    Reconnect(Targets),
    /// Own latency and loss on the links from..to.
    Slow {
        /// Senders.
        from: Targets,
        /// Receivers.
        to: Targets,
        /// One-way latency range.
        latency: (Duration, Duration),
        /// Loss probability.
        loss: f64,
    },
    /// Drop (or, with `by`, delay) the messages of a method.
    Hook {
        /// `service.method`.
        method: String,
        /// `None`: drop; `Some(d)`: delay by d.
        delay: Option<Duration>,
        /// Only messages sent by these.
        from: Option<Targets>,
        /// Only messages to these.
        to: Option<Targets>,
    },
    /// Remove the drop/delay rules of a method.
    Deliver(String),
    /// Reliable or unreliable network from now on.
    Reliable(bool),
}

/// One step of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Its number in the file (from 1).
    pub number: usize,
    /// When.
    pub at: Duration,
    /// What.
    pub action: Action,
    /// The action's field.
    pub place: Place,
}

/// What an expectation checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// The clients' history is linearizable (versioned KV model).
    Linearizable,
    /// Every key a client wrote is there, with the value of its last Put.
    KeysIntact,
    /// The current configuration's number.
    ConfigNum(u64),
    /// The current configuration's groups: exactly these, every shard on
    /// one of them, balanced.
    Members(Vec<Gid>),
    /// Shard `.0` is on group `.1` in the current configuration.
    Owner(usize, Gid),
    /// A fresh Get and Put complete.
    Progress,
    /// The network carried at most N RPCs so far.
    RpcsAtMost(u64),
    /// The controller (`None`: the latest started) is alive and idle:
    /// every change it was told has returned (it neither hangs nor is
    /// still at work).
    CtrlerDone(Option<usize>),
}

/// One expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// Its number in the file (from 1).
    pub number: usize,
    /// When (`None`: at the end).
    pub at: Option<Duration>,
    /// How long it may take to hold.
    pub within: Option<Duration>,
    /// What.
    pub check: Check,
    /// The check's field.
    pub place: Place,
}

/// A checked shardkv1 scenario: what [`Scenario`]'s raft fields do not say.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Groups 1..=groups, three servers each.
    pub groups: u64,
    /// The groups of the first configuration.
    pub joined: Vec<Gid>,
    /// Servers' Raft state size that triggers a snapshot.
    pub maxraftstate: Option<usize>,
    /// The clients (keys, ops: put, get or mixed; a schedule).
    pub clients: Vec<Client>,
    /// The timeline, in time order (file order at equal times).
    pub steps: Vec<Step>,
    /// The expectations, in file order.
    pub expects: Vec<Expect>,
}

// ---------------------------------------------------------------- raw TOML

#[derive(Deserialize)]
struct LabOnly {
    lab: Option<String>,
}

/// Whether `source` says `lab = "shardkv1"` (else, or if it is not TOML,
/// the common reader takes it and says what is wrong).
pub fn is_its_file(source: &str) -> bool {
    toml::from_str::<LabOnly>(source).is_ok_and(|l| l.lab.is_some_and(|l| l.trim() == "shardkv1"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    title: Option<String>,
    description: Option<String>,
    #[allow(dead_code)] // read by is_its_file
    lab: String,
    seed: Option<Spanned<i64>>,
    duration: Option<Spanned<f64>>,
    cluster: Spanned<RawCluster>,
    #[serde(default)]
    client: Vec<Spanned<RawClient>>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
    #[serde(default)]
    expect: Vec<Spanned<RawExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    groups: Spanned<i64>,
    joined: Option<Spanned<Vec<i64>>>,
    reliable: Option<bool>,
    latency_ms: Option<Spanned<Millis>>,
    maxraftstate: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at: Spanned<f64>,
    join: Option<Spanned<Gids>>,
    leave: Option<Spanned<Gids>>,
    new_ctrler: Option<Spanned<bool>>,
    ctrler_crash_on: Option<Spanned<String>>,
    partition: Option<Spanned<Vec<Names>>>,
    heal: Option<Spanned<bool>>,
    cut: Option<Spanned<Vec<Names>>>,
    restore: Option<Spanned<Vec<Names>>>,
    crash: Option<Spanned<Names>>,
    restart: Option<Spanned<Names>>,
    isolate: Option<Spanned<Names>>,
    reconnect: Option<Spanned<Names>>,
    slow: Option<Spanned<Vec<Names>>>,
    drop: Option<Spanned<String>>,
    delay: Option<Spanned<String>>,
    deliver: Option<Spanned<String>>,
    reliable: Option<Spanned<bool>>,
    // Modifiers.
    by: Option<Spanned<String>>,
    count: Option<Spanned<i64>>,
    from: Option<Spanned<Names>>,
    to: Option<Spanned<Names>>,
    by_ms: Option<Spanned<f64>>,
    latency_ms: Option<Spanned<Millis>>,
    loss: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    at: Option<Spanned<f64>>,
    within: Option<Spanned<f64>>,
    linearizable: Option<Spanned<bool>>,
    keys_intact: Option<Spanned<bool>>,
    config_num: Option<Spanned<i64>>,
    members: Option<Spanned<Gids>>,
    shard: Option<Spanned<i64>>,
    owner: Option<Spanned<i64>>,
    progress: Option<Spanned<bool>>,
    rpcs_at_most: Option<Spanned<i64>>,
    ctrler_done: Option<Spanned<String>>,
}

/// A gid or a list of gids.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Gids {
    One(i64),
    Many(Vec<i64>),
}

impl Gids {
    fn list(&self) -> Vec<i64> {
        match self {
            Gids::One(g) => vec![*g],
            Gids::Many(v) => v.clone(),
        }
    }
}

/// A node name or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    fn list(&self) -> Vec<String> {
        match self {
            Names::One(n) => vec![n.clone()],
            Names::Many(v) => v.clone(),
        }
    }
}

// ------------------------------------------------------------- validation

const NODE_HELP: &str = "kvsrv, ctrler, ctrler N, gG (a group), gG.I (server I of group G), \
                         gG.leader, clients, client N, all, or rest (in a partition)";

/// Reads the shardkv1 scenario in `ctx`.
pub(crate) fn parse(ctx: &Ctx<'_>) -> Result<Scenario, SpecError> {
    let raw: RawFile = crate::spec::from_toml(ctx)?;
    let seed = match &raw.seed {
        None => 1,
        Some(s) => u64::try_from(*s.get_ref())
            .map_err(|_| ctx.err(&s.span(), "seed", "a seed is a number, 0 or more"))?,
    };
    let cluster = raw.cluster.get_ref();
    let groups = *cluster.groups.get_ref();
    if !(1..=MAX_GROUPS as i64).contains(&groups) {
        return Err(ctx.err(
            &cluster.groups.span(),
            "cluster.groups",
            format!(
                "{groups} groups: a shardkv1 cluster has 1 to {MAX_GROUPS} shard groups \
                 (gids 1 to N, three servers each)"
            ),
        ));
    }
    let groups = groups as u64;
    let joined = match &cluster.joined {
        None => vec![1],
        Some(j) => gids(ctx, groups, j, "cluster.joined")?,
    };
    let maxraftstate = match &cluster.maxraftstate {
        None => None,
        Some(m) => Some(usize::try_from(*m.get_ref()).map_err(|_| {
            ctx.err(
                &m.span(),
                "cluster.maxraftstate",
                "a size in bytes, 0 or more",
            )
        })?),
    };
    let latency = cluster
        .latency_ms
        .as_ref()
        .map(|l| ctx.millis(l, "cluster.latency_ms"))
        .transpose()?;

    let mut steps = Vec::new();
    for (i, s) in raw.step.iter().enumerate() {
        steps.push(check_step(ctx, groups, raw.client.len(), i + 1, s)?);
    }
    steps.sort_by_key(|s| (s.at, s.number));
    let mut clients = Vec::new();
    for (i, c) in raw.client.iter().enumerate() {
        clients.push(client(ctx, i, c)?);
    }
    let ops: usize = clients.iter().map(|c| c.schedule.len()).sum();
    if ops > crate::spec::MAX_OPS {
        return Err(ctx.err(
            &raw.client[0].span(),
            "client",
            format!(
                "the clients schedule {ops} operations; at most {}",
                crate::spec::MAX_OPS
            ),
        ));
    }
    let mut expects = Vec::new();
    for (i, e) in raw.expect.iter().enumerate() {
        expects.push(check_expect(ctx, groups, i + 1, e)?);
    }
    let latest = expects
        .iter()
        .filter_map(|e| e.at)
        .chain(clients.iter().filter_map(|c| c.schedule.last().copied()))
        .chain(steps.iter().map(|s| s.at))
        .max()
        .unwrap_or_default();
    let duration = match &raw.duration {
        Some(d) => {
            let d2 = ctx.secs(d, "duration")?;
            if d2 < latest {
                return Err(ctx.err(
                    &d.span(),
                    "duration",
                    format!(
                        "the run ends at {}s but a step, client or expectation is at {}s",
                        d2.as_secs_f64(),
                        latest.as_secs_f64()
                    ),
                ));
            }
            d2
        }
        None => latest + Duration::from_secs(1),
    };
    Ok(Scenario {
        file: ctx.file.to_string(),
        title: raw.title.unwrap_or_else(|| ctx.file.to_string()),
        description: raw.description.unwrap_or_default().trim().to_string(),
        lab: Lab::Shardkv1,
        seed,
        peers: 1 + 3 * groups as usize,
        reliable: cluster.reliable.unwrap_or(true),
        latency,
        duration,
        clients: Vec::new(),
        steps: Vec::new(),
        expects: Vec::new(),
        duplication: false,
        long_delays: false,
        long_reordering: false,
        skip_unresolved: false,
        monitors: false,
        shardkv1: Some(Box::new(Spec {
            groups,
            joined,
            maxraftstate,
            clients,
            steps,
            expects,
        })),
    })
}

/// A list of gids, each from 1 to `groups`, no repeats.
fn gids(
    ctx: &Ctx<'_>,
    groups: u64,
    v: &Spanned<impl GidList>,
    field: &str,
) -> Result<Vec<Gid>, SpecError> {
    let list = v.get_ref().gids();
    if list.is_empty() {
        return Err(ctx.err(&v.span(), field, "an empty list names no group"));
    }
    let mut out: Vec<Gid> = Vec::new();
    for g in list {
        if g < 1 || g as u64 > groups {
            return Err(ctx.err(
                &v.span(),
                field,
                format!("gid {g} is out of range: the cluster has groups 1 to {groups}"),
            ));
        }
        if out.contains(&(g as u64)) {
            return Err(ctx.err(&v.span(), field, format!("gid {g} is listed twice")));
        }
        out.push(g as u64);
    }
    Ok(out)
}

trait GidList {
    fn gids(&self) -> Vec<i64>;
}

impl GidList for Vec<i64> {
    fn gids(&self) -> Vec<i64> {
        self.clone()
    }
}

impl GidList for Gids {
    fn gids(&self) -> Vec<i64> {
        self.list()
    }
}

/// A client, read as kvraft's (keys, ops, rate, from, until, burst); no
/// Appends and no `servers` in this lab.
fn client(ctx: &Ctx<'_>, i: usize, c: &Spanned<RawClient>) -> Result<Client, SpecError> {
    let known = Known {
        peers: 1,
        names: BTreeSet::new(),
    };
    let r = c.get_ref();
    if let Some(s) = &r.servers {
        return Err(ctx.err(
            &s.span(),
            &format!("client[{}].servers", i + 1),
            "a shardkv1 clerk finds each key's group through the configuration: no `servers`",
        ));
    }
    let client = check_client(ctx, Lab::Shardkv1, &known, i, c)?;
    if client.ops == OpKind::Append {
        let span = r.ops.as_ref().map_or_else(|| c.span(), |o| o.span());
        return Err(ctx.err(
            &span,
            &format!("client[{}].ops", i + 1),
            "shardkv1 has versioned Puts and Gets, no Append: ops is put, get or mixed \
             (a put reads the key's version first when it does not know it)",
        ));
    }
    Ok(client)
}

/// A node name, checked.
fn target(
    ctx: &Ctx<'_>,
    groups: u64,
    clients: usize,
    name: &str,
    span: &Range<usize>,
    field: &str,
    rest_ok: bool,
) -> Result<Target, SpecError> {
    let bad = |why: String| ctx.err(span, field, why);
    let w = name.trim();
    let t = match w {
        "kvsrv" => Target::Kvsrv,
        "ctrler" => Target::Ctrler(None),
        "clients" => Target::Clients,
        "all" => Target::All,
        "rest" => Target::Rest,
        _ => {
            if let Some(n) = w.strip_prefix("ctrler ") {
                Target::Ctrler(Some(n.trim().parse().map_err(|_| {
                    bad(format!(
                        "{w:?}: controllers are numbered from 0 as they start"
                    ))
                })?))
            } else if let Some(n) = w.strip_prefix("client ") {
                let n: usize = n
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("{w:?}: clients are numbered from 0")))?;
                if n >= clients {
                    return Err(bad(format!(
                        "{w:?}: the scenario has {clients} clients, numbered from 0"
                    )));
                }
                Target::Client(n)
            } else if let Some(g) = w.strip_prefix('g') {
                let (g, server) = match g.split_once('.') {
                    Some((g, s)) => (g, Some(s)),
                    None => (g, None),
                };
                let g: u64 = g
                    .parse()
                    .map_err(|_| bad(format!("{w:?} is not a node: one of {NODE_HELP}")))?;
                if g < 1 || g > groups {
                    return Err(bad(format!(
                        "{w:?}: the cluster has groups g1 to g{groups}"
                    )));
                }
                match server {
                    None => Target::Group(g),
                    Some("leader") => Target::Leader(g),
                    Some(i) => match i.parse::<usize>() {
                        Ok(i) if i < 3 => Target::Server(g, i),
                        _ => {
                            return Err(bad(format!(
                                "{w:?}: a group's servers are g{g}.0, g{g}.1 and g{g}.2 \
                                 (or g{g}.leader)"
                            )));
                        }
                    },
                }
            } else {
                return Err(bad(format!("{w:?} is not a node: one of {NODE_HELP}")));
            }
        }
    };
    if t == Target::Rest && !rest_ok {
        return Err(bad(
            "\"rest\" means the nodes not in another group: it belongs in `partition`".into(),
        ));
    }
    Ok(t)
}

struct StepCtx<'a> {
    ctx: &'a Ctx<'a>,
    groups: u64,
    clients: usize,
    field: String,
    span: Range<usize>,
}

impl StepCtx<'_> {
    fn targets(&self, n: &Names, rest_ok: bool) -> Result<Targets, SpecError> {
        self.targets_at(n, &self.span, &self.field, rest_ok)
    }

    fn targets_at(
        &self,
        n: &Names,
        span: &Range<usize>,
        field: &str,
        rest_ok: bool,
    ) -> Result<Targets, SpecError> {
        let names = n.list();
        if names.is_empty() {
            return Err(self.ctx.err(span, field, "an empty list names no node"));
        }
        let list = names
            .iter()
            .map(|w| target(self.ctx, self.groups, self.clients, w, span, field, rest_ok))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Targets {
            list,
            place: self.ctx.place(span, field),
        })
    }

    fn pair(&self, v: &[Names]) -> Result<(Targets, Targets), SpecError> {
        match v {
            [a, b] => Ok((self.targets(a, false)?, self.targets(b, false)?)),
            _ => Err(self.ctx.err(
                &self.span,
                &self.field,
                "takes [from, to]: two nodes (or lists of nodes)",
            )),
        }
    }

    fn err(&self, what: impl fmt::Display) -> SpecError {
        self.ctx.err(&self.span, &self.field, what)
    }
}

fn check_step(
    ctx: &Ctx<'_>,
    groups: u64,
    clients: usize,
    number: usize,
    s: &Spanned<RawStep>,
) -> Result<Step, SpecError> {
    let r = s.get_ref();
    let f = |name: &str| format!("step[{number}].{name}");
    let at = ctx.secs(&r.at, &f("at"))?;
    let mut actions: Vec<(&str, Range<usize>)> = [
        ("join", r.join.as_ref().map(|v| v.span())),
        ("leave", r.leave.as_ref().map(|v| v.span())),
        ("new_ctrler", r.new_ctrler.as_ref().map(|v| v.span())),
        (
            "ctrler_crash_on",
            r.ctrler_crash_on.as_ref().map(|v| v.span()),
        ),
        ("partition", r.partition.as_ref().map(|v| v.span())),
        ("heal", r.heal.as_ref().map(|v| v.span())),
        ("cut", r.cut.as_ref().map(|v| v.span())),
        ("restore", r.restore.as_ref().map(|v| v.span())),
        ("crash", r.crash.as_ref().map(|v| v.span())),
        ("restart", r.restart.as_ref().map(|v| v.span())),
        ("isolate", r.isolate.as_ref().map(|v| v.span())),
        ("reconnect", r.reconnect.as_ref().map(|v| v.span())),
        ("slow", r.slow.as_ref().map(|v| v.span())),
        ("drop", r.drop.as_ref().map(|v| v.span())),
        ("delay", r.delay.as_ref().map(|v| v.span())),
        ("deliver", r.deliver.as_ref().map(|v| v.span())),
        ("reliable", r.reliable.as_ref().map(|v| v.span())),
    ]
    .into_iter()
    .filter_map(|(n, s)| s.map(|s| (n, s)))
    .collect();
    actions.sort_by_key(|(_, s)| s.start);
    let (name, span) = match actions.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(ctx.err(
                &s.span(),
                &format!("step[{number}]"),
                "a shardkv1 step needs one action: join, leave, new_ctrler, ctrler_crash_on, \
                 partition, heal, cut, restore, crash, restart, isolate, reconnect, slow, drop, \
                 delay, deliver or reliable",
            ));
        }
        [_, second, ..] => {
            return Err(ctx.err(
                &second.1,
                &f(second.0),
                format!(
                    "a step has one action, this one has `{}` and `{}`: write two steps at the \
                     same time (they run in file order)",
                    actions[0].0, second.0
                ),
            ));
        }
    };
    modifiers(ctx, r, name, number)?;
    let sc = StepCtx {
        ctx,
        groups,
        clients,
        field: f(name),
        span: span.clone(),
    };
    let action = action(&sc, r, name, number)?;
    Ok(Step {
        number,
        at,
        action,
        place: ctx.place(&span, f(name)),
    })
}

/// The modifiers allowed with action `name`, and no other.
fn modifiers(ctx: &Ctx<'_>, r: &RawStep, name: &str, number: usize) -> Result<(), SpecError> {
    let allowed: &[&str] = match name {
        "join" | "leave" => &["by"],
        "ctrler_crash_on" => &["by", "count"],
        "slow" => &["latency_ms", "loss"],
        "drop" => &["from", "to"],
        "delay" => &["from", "to", "by_ms"],
        _ => &[],
    };
    let present: [(&str, Option<Range<usize>>); 7] = [
        ("by", r.by.as_ref().map(|v| v.span())),
        ("count", r.count.as_ref().map(|v| v.span())),
        ("from", r.from.as_ref().map(|v| v.span())),
        ("to", r.to.as_ref().map(|v| v.span())),
        ("by_ms", r.by_ms.as_ref().map(|v| v.span())),
        ("latency_ms", r.latency_ms.as_ref().map(|v| v.span())),
        ("loss", r.loss.as_ref().map(|v| v.span())),
    ];
    for (m, sp) in present {
        if let Some(sp) = sp
            && !allowed.contains(&m)
        {
            return Err(ctx.err(
                &sp,
                &format!("step[{number}].{m}"),
                format!(
                    "`{m}` does not go with `{name}`{}",
                    if allowed.is_empty() {
                        String::new()
                    } else {
                        format!(" (it takes {})", allowed.join(", "))
                    }
                ),
            ));
        }
    }
    Ok(())
}

/// `by = "ctrler N"`: which controller; `None` the latest started.
fn by(sc: &StepCtx<'_>, r: &RawStep, number: usize) -> Result<Option<usize>, SpecError> {
    let Some(b) = &r.by else { return Ok(None) };
    let field = format!("step[{number}].by");
    match target(
        sc.ctx,
        sc.groups,
        sc.clients,
        b.get_ref(),
        &b.span(),
        &field,
        false,
    )? {
        Target::Ctrler(n) => Ok(n),
        other => Err(sc.ctx.err(
            &b.span(),
            &field,
            format!("{other} is not a controller: `by` is \"ctrler\" or \"ctrler N\""),
        )),
    }
}

fn action(sc: &StepCtx<'_>, r: &RawStep, name: &str, number: usize) -> Result<Action, SpecError> {
    let ctx = sc.ctx;
    let p = |v: &Option<Spanned<Names>>| v.as_ref().expect("present").get_ref().clone();
    Ok(match name {
        "join" => Action::Join(
            gids(ctx, sc.groups, r.join.as_ref().expect("p"), &sc.field)?,
            by(sc, r, number)?,
        ),
        "leave" => Action::Leave(
            gids(ctx, sc.groups, r.leave.as_ref().expect("p"), &sc.field)?,
            by(sc, r, number)?,
        ),
        "new_ctrler" => {
            if !*r.new_ctrler.as_ref().expect("p").get_ref() {
                return Err(sc.err("write `new_ctrler = true`"));
            }
            Action::NewCtrler
        }
        "ctrler_crash_on" => {
            let m = r.ctrler_crash_on.as_ref().expect("p");
            let name = m.get_ref().trim();
            if !CRASH_METHODS.contains(&name) {
                return Err(ctx.err(
                    &m.span(),
                    &sc.field,
                    format!(
                        "{name:?}: a controller can crash on the reply of one of {}",
                        CRASH_METHODS.join(", ")
                    ),
                ));
            }
            let count = match &r.count {
                None => 1,
                Some(c) => u64::try_from(*c.get_ref())
                    .ok()
                    .filter(|&c| c >= 1)
                    .ok_or_else(|| {
                        ctx.err(
                            &c.span(),
                            &format!("step[{number}].count"),
                            "which reply the controller crashes on: 1 or more",
                        )
                    })?,
            };
            Action::CrashOn {
                method: name.to_string(),
                count,
                by: by(sc, r, number)?,
            }
        }
        "partition" => {
            let v = r.partition.as_ref().expect("p").get_ref();
            if v.len() < 2 {
                return Err(
                    sc.err("a partition has two groups or more, e.g. [[\"ctrler\"], [\"rest\"]]")
                );
            }
            let groups = v
                .iter()
                .map(|g| sc.targets(g, true))
                .collect::<Result<Vec<_>, _>>()?;
            let rests = groups
                .iter()
                .flat_map(|g| &g.list)
                .filter(|t| **t == Target::Rest)
                .count();
            if rests > 1 {
                return Err(sc.err("\"rest\" may appear in one group only"));
            }
            Action::Partition(groups)
        }
        "heal" => {
            if !*r.heal.as_ref().expect("p").get_ref() {
                return Err(sc.err("write `heal = true`"));
            }
            Action::Heal
        }
        "cut" => {
            let (a, b) = sc.pair(r.cut.as_ref().expect("p").get_ref())?;
            Action::Cut(a, b)
        }
        "restore" => {
            let (a, b) = sc.pair(r.restore.as_ref().expect("p").get_ref())?;
            Action::Restore(a, b)
        }
        "crash" | "restart" => {
            let t = sc.targets(
                &p(if name == "crash" {
                    &r.crash
                } else {
                    &r.restart
                }),
                false,
            )?;
            if let Some(bad) = t.list.iter().find(|t| {
                matches!(
                    t,
                    Target::Kvsrv | Target::Clients | Target::Client(_) | Target::All
                )
            }) {
                return Err(sc.err(format!(
                    "{bad} cannot {name}: only shard group servers (they persist through Raft) \
                     and controllers (they keep nothing) do; the configuration server keeps \
                     its configurations in memory: partition or isolate it instead"
                )));
            }
            if name == "crash" {
                Action::Crash(t)
            } else {
                Action::Restart(t)
            }
        }
        "isolate" => Action::Isolate(sc.targets(&p(&r.isolate), false)?),
        "reconnect" => Action::Reconnect(sc.targets(&p(&r.reconnect), false)?),
        "slow" => {
            let (from, to) = sc.pair(r.slow.as_ref().expect("p").get_ref())?;
            let f = |n: &str| format!("step[{number}].{n}");
            let latency = match &r.latency_ms {
                Some(l) => ctx.millis(l, &f("latency_ms"))?,
                None => (Duration::from_millis(100), Duration::from_millis(100)),
            };
            let loss = match &r.loss {
                Some(l) if !(0.0..=1.0).contains(l.get_ref()) => {
                    return Err(ctx.err(
                        &l.span(),
                        &f("loss"),
                        format!("{} is not a probability (0 to 1)", l.get_ref()),
                    ));
                }
                Some(l) => *l.get_ref(),
                None => 0.0,
            };
            Action::Slow {
                from,
                to,
                latency,
                loss,
            }
        }
        "drop" | "delay" => hook(sc, r, name == "delay", number)?,
        "deliver" => Action::Deliver(method(
            ctx,
            Lab::Shardkv1,
            r.deliver.as_ref().expect("p"),
            &sc.field,
        )?),
        "reliable" => Action::Reliable(*r.reliable.as_ref().expect("p").get_ref()),
        _ => unreachable!("every action is listed"),
    })
}

/// `drop = METHOD` or `delay = METHOD` (with `by_ms`), with `from`, `to`.
fn hook(sc: &StepCtx<'_>, r: &RawStep, is_delay: bool, number: usize) -> Result<Action, SpecError> {
    let ctx = sc.ctx;
    let f = |n: &str| format!("step[{number}].{n}");
    let m = if is_delay { &r.delay } else { &r.drop };
    let method = method(ctx, Lab::Shardkv1, m.as_ref().expect("p"), &sc.field)?;
    let delay = if is_delay {
        let by = r
            .by_ms
            .as_ref()
            .ok_or_else(|| sc.err("a delay needs `by_ms`, the added latency"))?;
        let ms = *by.get_ref();
        if !(ms.is_finite() && ms > 0.0 && ms <= 60_000.0) {
            return Err(ctx.err(
                &by.span(),
                &f("by_ms"),
                format!("{ms} ms: a delay is more than 0 and at most 60000 ms"),
            ));
        }
        Some(Duration::from_secs_f64(ms / 1000.0))
    } else {
        None
    };
    let side = |v: &Option<Spanned<Names>>, n: &str| {
        v.as_ref()
            .map(|p| sc.targets_at(p.get_ref(), &p.span(), &f(n), false))
            .transpose()
    };
    Ok(Action::Hook {
        method,
        delay,
        from: side(&r.from, "from")?,
        to: side(&r.to, "to")?,
    })
}

fn check_expect(
    ctx: &Ctx<'_>,
    groups: u64,
    number: usize,
    e: &Spanned<RawExpect>,
) -> Result<Expect, SpecError> {
    let r = e.get_ref();
    let f = |name: &str| format!("expect[{number}].{name}");
    let mut kinds: Vec<(&str, Range<usize>)> = [
        ("linearizable", r.linearizable.as_ref().map(|v| v.span())),
        ("keys_intact", r.keys_intact.as_ref().map(|v| v.span())),
        ("config_num", r.config_num.as_ref().map(|v| v.span())),
        ("members", r.members.as_ref().map(|v| v.span())),
        ("shard", r.shard.as_ref().map(|v| v.span())),
        ("progress", r.progress.as_ref().map(|v| v.span())),
        ("rpcs_at_most", r.rpcs_at_most.as_ref().map(|v| v.span())),
        ("ctrler_done", r.ctrler_done.as_ref().map(|v| v.span())),
    ]
    .into_iter()
    .filter_map(|(n, s)| s.map(|s| (n, s)))
    .collect();
    kinds.sort_by_key(|(_, s)| s.start);
    let (name, span) = match kinds.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(ctx.err(
                &e.span(),
                &format!("expect[{number}]"),
                "a shardkv1 expectation needs one check: linearizable, keys_intact, config_num, \
                 members, shard (with owner), progress, rpcs_at_most or ctrler_done",
            ));
        }
        [_, second, ..] => {
            return Err(ctx.err(
                &second.1,
                &f(second.0),
                format!(
                    "an expectation checks one thing, this one `{}` and `{}`: write two",
                    kinds[0].0, second.0
                ),
            ));
        }
    };
    let field = f(name);
    if let Some(o) = &r.owner
        && name != "shard"
    {
        return Err(ctx.err(&o.span(), &f("owner"), "`owner` goes with `shard`"));
    }
    let yes = |v: &Option<Spanned<bool>>| -> Result<(), SpecError> {
        if *v.as_ref().expect("p").get_ref() {
            Ok(())
        } else {
            Err(ctx.err(&span, &field, format!("write `{name} = true`")))
        }
    };
    let count = |v: &Spanned<i64>| -> Result<u64, SpecError> {
        u64::try_from(*v.get_ref()).map_err(|_| ctx.err(&v.span(), &field, "a count is 0 or more"))
    };
    let check = match name {
        "linearizable" => {
            yes(&r.linearizable)?;
            Check::Linearizable
        }
        "keys_intact" => {
            yes(&r.keys_intact)?;
            Check::KeysIntact
        }
        "progress" => {
            yes(&r.progress)?;
            Check::Progress
        }
        "config_num" => Check::ConfigNum(count(r.config_num.as_ref().expect("p"))?),
        "members" => {
            let m = r.members.as_ref().expect("p");
            let mut g = gids(ctx, groups, m, &field)?;
            g.sort_unstable();
            Check::Members(g)
        }
        "shard" => {
            let s = r.shard.as_ref().expect("p");
            let shard = usize::try_from(*s.get_ref())
                .ok()
                .filter(|&s| s < NSHARDS)
                .ok_or_else(|| {
                    ctx.err(
                        &s.span(),
                        &field,
                        format!("shard {}: shards are 0 to {}", s.get_ref(), NSHARDS - 1),
                    )
                })?;
            let o = r.owner.as_ref().ok_or_else(|| {
                ctx.err(
                    &span,
                    &field,
                    "`shard` needs `owner`, the gid that serves it",
                )
            })?;
            let owner = gids(
                ctx,
                groups,
                &Spanned::new(o.span(), vec![*o.get_ref()]),
                &f("owner"),
            )?;
            Check::Owner(shard, owner[0])
        }
        "rpcs_at_most" => Check::RpcsAtMost(count(r.rpcs_at_most.as_ref().expect("p"))?),
        "ctrler_done" => {
            let c = r.ctrler_done.as_ref().expect("p");
            match target(
                ctx,
                groups,
                usize::MAX,
                c.get_ref(),
                &c.span(),
                &field,
                false,
            )? {
                Target::Ctrler(n) => Check::CtrlerDone(n),
                other => {
                    return Err(ctx.err(
                        &c.span(),
                        &field,
                        format!("{other} is not a controller: \"ctrler\" or \"ctrler N\""),
                    ));
                }
            }
        }
        _ => unreachable!("every check is listed"),
    };
    let at = r.at.as_ref().map(|v| ctx.secs(v, &f("at"))).transpose()?;
    let within = r
        .within
        .as_ref()
        .map(|v| ctx.secs(v, &f("within")))
        .transpose()?;
    Ok(Expect {
        number,
        at,
        within,
        check,
        place: ctx.place(&span, field),
    })
}

/// An expectation in words.
pub fn describe(e: &Expect) -> String {
    let w = e
        .within
        .map_or(String::new(), |w| format!(" within {}s", w.as_secs_f64()));
    let what = match &e.check {
        Check::Linearizable => "the client history is linearizable (versioned KV)".to_string(),
        Check::KeysIntact => {
            "every key written is present, with the value of its last Put".to_string()
        }
        Check::ConfigNum(n) => format!("the current configuration is number {n}{w}"),
        Check::Members(g) => {
            let v: Vec<String> = g.iter().map(|g| g.to_string()).collect();
            format!(
                "the current configuration's groups are {{{}}}, balanced{w}",
                v.join(",")
            )
        }
        Check::Owner(s, g) => format!("shard {s} is on group {g}{w}"),
        Check::Progress => format!(
            "progress: a fresh Get and Put complete within {}s",
            e.within
                .unwrap_or(crate::run::PROGRESS_WITHIN)
                .as_secs_f64()
        ),
        Check::RpcsAtMost(n) => format!("at most {n} RPCs"),
        Check::CtrlerDone(n) => format!(
            "{} is up and every change it was told has returned{w}",
            Target::Ctrler(*n)
        ),
    };
    match e.at {
        Some(t) => format!("at {}: {what}", crate::run::secs(t)),
        None => format!("at the end: {what}"),
    }
}
