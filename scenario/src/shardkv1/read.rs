//! Reading a shardkv1 scenario file: the raw TOML (unknown fields
//! refused), the cluster, the clients and the expectations, checked field
//! by field (the steps are `steps.rs`'s).

use std::collections::BTreeSet;

use serde::Deserialize;
use shardkv1::{Gid, NSHARDS};
use toml::Spanned;

use super::spec::{Check, Expect, MAX_GROUPS, Spec, Target};
use super::steps::{check_step, target};
use crate::spec::{
    Client, Ctx, Known, Lab, Millis, OneOf, OpKind, RawClient, Scenario, SpecError, check_client,
    one_of,
};

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
pub(super) struct RawStep {
    pub(super) at: Spanned<f64>,
    pub(super) join: Option<Spanned<Gids>>,
    pub(super) leave: Option<Spanned<Gids>>,
    pub(super) new_ctrler: Option<Spanned<bool>>,
    pub(super) ctrler_crash_on: Option<Spanned<String>>,
    pub(super) partition: Option<Spanned<Vec<Names>>>,
    pub(super) heal: Option<Spanned<bool>>,
    pub(super) cut: Option<Spanned<Vec<Names>>>,
    pub(super) restore: Option<Spanned<Vec<Names>>>,
    pub(super) crash: Option<Spanned<Names>>,
    pub(super) restart: Option<Spanned<Names>>,
    pub(super) isolate: Option<Spanned<Names>>,
    pub(super) reconnect: Option<Spanned<Names>>,
    pub(super) slow: Option<Spanned<Vec<Names>>>,
    pub(super) drop: Option<Spanned<String>>,
    pub(super) delay: Option<Spanned<String>>,
    pub(super) deliver: Option<Spanned<String>>,
    pub(super) reliable: Option<Spanned<bool>>,
    // Modifiers.
    pub(super) by: Option<Spanned<String>>,
    pub(super) count: Option<Spanned<i64>>,
    pub(super) from: Option<Spanned<Names>>,
    pub(super) to: Option<Spanned<Names>>,
    pub(super) by_ms: Option<Spanned<f64>>,
    pub(super) latency_ms: Option<Spanned<Millis>>,
    pub(super) loss: Option<Spanned<f64>>,
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
pub(super) enum Gids {
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
pub(super) enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    pub(super) fn list(&self) -> Vec<String> {
        match self {
            Names::One(n) => vec![n.clone()],
            Names::Many(v) => v.clone(),
        }
    }
}

// ------------------------------------------------------------- validation

pub(super) const NODE_HELP: &str = "kvsrv, ctrler, ctrler N, gG (a group), gG.I (server I of group G), \
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
    let duration = crate::spec::duration(ctx, &raw.duration, latest)?;
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
        lab_spec: None,
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
pub(super) fn gids(
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

pub(super) trait GidList {
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
fn check_expect(
    ctx: &Ctx<'_>,
    groups: u64,
    number: usize,
    e: &Spanned<RawExpect>,
) -> Result<Expect, SpecError> {
    let r = e.get_ref();
    let f = |name: &str| format!("expect[{number}].{name}");
    let (name, span) = one_of(
        ctx,
        &e.span(),
        &format!("expect[{number}]"),
        vec![
            ("linearizable", r.linearizable.as_ref().map(|v| v.span())),
            ("keys_intact", r.keys_intact.as_ref().map(|v| v.span())),
            ("config_num", r.config_num.as_ref().map(|v| v.span())),
            ("members", r.members.as_ref().map(|v| v.span())),
            ("shard", r.shard.as_ref().map(|v| v.span())),
            ("progress", r.progress.as_ref().map(|v| v.span())),
            ("rpcs_at_most", r.rpcs_at_most.as_ref().map(|v| v.span())),
            ("ctrler_done", r.ctrler_done.as_ref().map(|v| v.span())),
        ],
        "a shardkv1 expectation needs one check: linearizable, keys_intact, config_num, \
                 members, shard (with owner), progress, rpcs_at_most or ctrler_done",
        OneOf::Check,
    )?;
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
