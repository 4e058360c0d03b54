//! What the files of these labs share: the top level, the timeline's
//! steps (the network's, with the lab's node names) and the checks'
//! window. The lab reads its own `[cluster]`, `[job]`, clients and checks.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::{Deserialize, de::DeserializeOwned};
use toml::Spanned;

use super::{LabAction, LabSpec};
use crate::spec::{
    Action, Ctx, Expect, Lab, Millis, OneOf, Peers, RawPeers, RawRole, Role, Scenario, SpecError,
    Step, enclosing_table, method, one_of, repeat_every, sibling,
};

/// A file of one of these labs: `C` its `[cluster]`, `J` its `[job]`, `K`
/// a `[[client]]`, `E` an `[[expect]]` (a table a lab does not have is
/// [`Refuse`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(
    bound = "C: DeserializeOwned, J: DeserializeOwned, K: DeserializeOwned, E: DeserializeOwned"
)]
pub(crate) struct RawFile<C, J, K, E> {
    pub title: Option<String>,
    pub description: Option<String>,
    #[allow(dead_code)] // read by `labs::which`
    pub lab: Spanned<String>,
    pub seed: Option<Spanned<i64>>,
    pub duration: Option<Spanned<f64>>,
    pub skip_unresolved: Option<bool>,
    pub cluster: Option<Spanned<C>>,
    #[allow(dead_code)] // gfs has none
    pub job: Option<Spanned<J>>,
    #[serde(default)]
    pub client: Vec<Spanned<K>>,
    #[serde(default)]
    pub step: Vec<Spanned<RawStep>>,
    #[serde(default)]
    pub expect: Vec<Spanned<E>>,
}

/// A table the lab does not have: refused with the reason.
pub(crate) struct Refuse;

impl<'de> Deserialize<'de> for Refuse {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(de::Error::custom(
            "this lab has no such table (gfs: [cluster] and [[client]]; snapshot: [cluster] \
             for Chandy–Lamport processes or [job] for a dataflow)",
        ))
    }
}

/// A step: the network's actions (as for Raft), and the labs' own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub at: Spanned<f64>,
    pub partition: Option<Spanned<Vec<RawPeers>>>,
    pub heal: Option<Spanned<bool>>,
    pub cut: Option<Spanned<Vec<RawPeers>>>,
    pub restore: Option<Spanned<Vec<RawPeers>>>,
    pub crash: Option<Spanned<RawPeers>>,
    pub restart: Option<Spanned<RawPeers>>,
    pub isolate: Option<Spanned<RawPeers>>,
    pub reconnect: Option<Spanned<RawPeers>>,
    pub slow: Option<Spanned<Vec<RawPeers>>>,
    pub drop: Option<Spanned<String>>,
    pub delay: Option<Spanned<String>>,
    pub deliver: Option<Spanned<String>>,
    pub reliable: Option<Spanned<bool>>,
    pub bind: Option<Spanned<std::collections::BTreeMap<String, RawPeers>>>,
    /// Snapshot, part A: these processes start a snapshot.
    pub snapshot: Option<Spanned<RawPeers>>,
    /// Snapshot, parts B and C: with `crash`, in the middle of a checkpoint.
    pub mid_checkpoint: Option<Spanned<bool>>,
    // Modifiers.
    pub from: Option<Spanned<RawPeers>>,
    pub to: Option<Spanned<RawPeers>>,
    pub by_ms: Option<Spanned<f64>>,
    pub latency_ms: Option<Spanned<Millis>>,
    pub loss: Option<Spanned<f64>>,
    pub every: Option<Spanned<f64>>,
    pub times: Option<Spanned<i64>>,
}

/// How a lab names its nodes.
pub(crate) struct Namer<'a> {
    /// The canonical name of a word that names nodes of the lab, if it does.
    pub word: &'a dyn Fn(&str) -> Option<String>,
    /// The names, for the message when a word is none of them.
    pub help: &'a str,
    /// Names bound by `bind` steps so far.
    pub bound: BTreeSet<String>,
}

impl Namer<'_> {
    fn role(
        &self,
        ctx: &Ctx<'_>,
        raw: &RawRole,
        span: &Range<usize>,
        field: &str,
        rest_ok: bool,
    ) -> Result<Role, SpecError> {
        let w = match raw {
            RawRole::Number(i) => {
                return Err(ctx.err(
                    span,
                    field,
                    format!("{i}: name the nodes of this lab by name: {}", self.help),
                ));
            }
            RawRole::Word(w) => w.trim(),
        };
        Ok(match w {
            "all" => Role::All,
            "rest" | "others" if rest_ok => Role::Rest,
            "rest" | "others" => {
                return Err(ctx.err(
                    span,
                    field,
                    "\"rest\" means the nodes not in another group: it belongs in `partition`",
                ));
            }
            _ if self.bound.contains(w) => Role::Name(w.to_string()),
            _ => match (self.word)(w) {
                Some(name) => Role::Lab(name),
                None => {
                    return Err(ctx.err(
                        span,
                        field,
                        format!(
                            "{w:?} is not a node: name {}, all, rest (in a partition), or a \
                             name bound by an earlier `bind` step",
                            self.help
                        ),
                    ));
                }
            },
        })
    }

    /// The nodes a field names.
    pub fn peers(
        &self,
        ctx: &Ctx<'_>,
        raw: &RawPeers,
        span: &Range<usize>,
        field: &str,
        rest_ok: bool,
    ) -> Result<Peers, SpecError> {
        if raw.0.is_empty() {
            return Err(ctx.err(span, field, "an empty list names no node"));
        }
        let roles = raw
            .0
            .iter()
            .map(|r| self.role(ctx, r, span, field, rest_ok))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Peers {
            roles,
            place: ctx.place(span, field),
        })
    }

    fn spanned(
        &self,
        ctx: &Ctx<'_>,
        raw: &Spanned<RawPeers>,
        field: &str,
    ) -> Result<Peers, SpecError> {
        self.peers(ctx, raw.get_ref(), &raw.span(), field, false)
    }
}

/// The steps of the file, checked, repeated, in time order.
pub(crate) fn steps(
    ctx: &Ctx<'_>,
    lab: Lab,
    namer: &mut Namer<'_>,
    raw: &[Spanned<RawStep>],
) -> Result<Vec<Step>, SpecError> {
    let mut timed = Vec::new();
    for (i, s) in raw.iter().enumerate() {
        let at = ctx.secs(&s.get_ref().at, &format!("step[{}].at", i + 1))?;
        timed.push((i + 1, at, s));
    }
    timed.sort_by_key(|(i, at, _)| (*at, *i));
    let mut out = Vec::new();
    for (number, at, s) in timed {
        let step = step(ctx, lab, namer, number, at, s)?;
        let r = s.get_ref();
        out.extend(repeat_every(ctx, step, r.every.as_ref(), r.times.as_ref())?);
    }
    out.sort_by_key(|s| (s.at, s.number));
    Ok(out)
}

const ACTIONS: &str = "a step needs one action: partition, heal, cut, restore, crash, restart, \
                       isolate, reconnect, slow, drop, delay, deliver, reliable or bind (snapshot \
                       part A: snapshot)";

fn step(
    ctx: &Ctx<'_>,
    lab: Lab,
    namer: &mut Namer<'_>,
    number: usize,
    at: Duration,
    s: &Spanned<RawStep>,
) -> Result<Step, SpecError> {
    let r = s.get_ref();
    let sp = |v: Option<Range<usize>>| v;
    let (name, span) = one_of(
        ctx,
        &s.span(),
        &format!("step[{number}]"),
        vec![
            ("partition", sp(r.partition.as_ref().map(|v| v.span()))),
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
            ("bind", r.bind.as_ref().map(|v| v.span())),
            ("snapshot", r.snapshot.as_ref().map(|v| v.span())),
        ],
        ACTIONS,
        OneOf::Action,
    )?;
    let field = format!("step[{number}].{name}");
    modifiers(ctx, r, name, &field)?;
    let action = action(ctx, lab, namer, r, name, &span, &field)?;
    Ok(Step {
        number,
        at,
        action,
        place: ctx.place(&span, field),
    })
}

/// The modifiers allowed with action `name`, and no other.
fn modifiers(ctx: &Ctx<'_>, r: &RawStep, name: &str, field: &str) -> Result<(), SpecError> {
    let allowed: &[&str] = match name {
        "slow" => &["latency_ms", "loss"],
        "drop" => &["from", "to"],
        "delay" => &["from", "to", "by_ms"],
        "crash" => &["mid_checkpoint"],
        _ => &[],
    };
    let present = [
        ("from", r.from.as_ref().map(|v| v.span())),
        ("to", r.to.as_ref().map(|v| v.span())),
        ("by_ms", r.by_ms.as_ref().map(|v| v.span())),
        ("latency_ms", r.latency_ms.as_ref().map(|v| v.span())),
        ("loss", r.loss.as_ref().map(|v| v.span())),
        (
            "mid_checkpoint",
            r.mid_checkpoint.as_ref().map(|v| v.span()),
        ),
    ];
    for (m, sp) in present {
        if let Some(sp) = sp
            && !allowed.contains(&m)
        {
            return Err(ctx.err(
                &sp,
                &sibling(field, m),
                format!("`{m}` does not go with `{name}`"),
            ));
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn action(
    ctx: &Ctx<'_>,
    lab: Lab,
    namer: &mut Namer<'_>,
    r: &RawStep,
    name: &str,
    span: &Range<usize>,
    field: &str,
) -> Result<Action, SpecError> {
    let n = &*namer;
    let pair = |v: &Spanned<Vec<RawPeers>>| -> Result<(Peers, Peers), SpecError> {
        match v.get_ref().as_slice() {
            [a, b] => Ok((
                n.peers(ctx, a, &v.span(), field, false)?,
                n.peers(ctx, b, &v.span(), field, false)?,
            )),
            _ => Err(ctx.err(
                &v.span(),
                field,
                "takes [from, to]: two nodes (or lists of nodes)",
            )),
        }
    };
    let one = |v: &Option<Spanned<RawPeers>>| n.spanned(ctx, v.as_ref().expect("present"), field);
    Ok(match name {
        "partition" => {
            let v = r.partition.as_ref().expect("present");
            if v.get_ref().len() < 2 {
                return Err(ctx.err(
                    span,
                    field,
                    "a partition has two groups or more, e.g. [[\"client0\"], [\"rest\"]]",
                ));
            }
            let groups = v
                .get_ref()
                .iter()
                .map(|g| n.peers(ctx, g, span, field, true))
                .collect::<Result<Vec<_>, _>>()?;
            let rests = groups
                .iter()
                .flat_map(|g| &g.roles)
                .filter(|r| **r == Role::Rest)
                .count();
            if rests > 1 {
                return Err(ctx.err(span, field, "\"rest\" may appear in one group only"));
            }
            Action::Partition(groups)
        }
        "heal" | "reliable" => {
            let v = if name == "heal" { &r.heal } else { &r.reliable };
            let on = *v.as_ref().expect("present").get_ref();
            if name == "reliable" {
                Action::Reliable(on)
            } else if on {
                Action::Heal
            } else {
                return Err(ctx.err(span, field, "write `heal = true`"));
            }
        }
        "cut" | "restore" => {
            let (a, b) = pair(
                if name == "cut" {
                    r.cut.as_ref()
                } else {
                    r.restore.as_ref()
                }
                .expect("present"),
            )?;
            if name == "cut" {
                Action::Cut(a, b)
            } else {
                Action::Restore(a, b)
            }
        }
        "crash" => match &r.mid_checkpoint {
            Some(m) if lab != Lab::Snapshot => {
                return Err(ctx.err(
                    &m.span(),
                    &sibling(field, "mid_checkpoint"),
                    "`mid_checkpoint` waits for a dataflow checkpoint (lab = \"snapshot\")",
                ));
            }
            Some(m) if *m.get_ref() => Action::Lab(LabAction::CrashMidCheckpoint(one(&r.crash)?)),
            _ => Action::Crash(one(&r.crash)?),
        },
        "restart" => Action::Restart(one(&r.restart)?),
        "isolate" => Action::Isolate(one(&r.isolate)?),
        "reconnect" => Action::Reconnect(one(&r.reconnect)?),
        "slow" => {
            let (from, to) = pair(r.slow.as_ref().expect("present"))?;
            let latency = match &r.latency_ms {
                Some(l) => ctx.millis(l, &sibling(field, "latency_ms"))?,
                None => (Duration::from_millis(100), Duration::from_millis(100)),
            };
            let loss = r.loss.as_ref().map_or(Ok(0.0), |l| {
                let p = *l.get_ref();
                if (0.0..=1.0).contains(&p) {
                    Ok(p)
                } else {
                    Err(ctx.err(
                        &l.span(),
                        &sibling(field, "loss"),
                        format!("{p} is not a probability (0 to 1)"),
                    ))
                }
            })?;
            Action::Slow {
                from,
                to,
                latency,
                loss,
            }
        }
        "drop" | "delay" => hook(ctx, lab, n, r, name == "delay", span, field)?,
        "deliver" => Action::Deliver(method(
            ctx,
            lab,
            r.deliver.as_ref().expect("present"),
            field,
        )?),
        "bind" => {
            let mut out = Vec::new();
            for (k, p) in r.bind.as_ref().expect("present").get_ref() {
                let ok = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !ok || (n.word)(k).is_some() || ["all", "rest", "others"].contains(&k.as_str()) {
                    return Err(ctx.err(span, field, format!("{k:?} cannot be a name: names are letters, digits and _, start with a letter, and are not nodes of the lab")));
                }
                out.push((k.clone(), n.peers(ctx, p, span, field, false)?));
            }
            for (k, _) in &out {
                namer.bound.insert(k.clone());
            }
            Action::Bind(out)
        }
        "snapshot" => {
            if lab == Lab::Gfs {
                return Err(ctx.err(span, field, format!("`snapshot` starts a Chandy–Lamport snapshot (lab = \"snapshot\"), not a step of {}", lab.name())));
            }
            Action::Lab(LabAction::StartSnapshot(one(&r.snapshot)?))
        }
        _ => unreachable!("every action is listed"),
    })
}

fn hook(
    ctx: &Ctx<'_>,
    lab: Lab,
    n: &Namer<'_>,
    r: &RawStep,
    is_delay: bool,
    span: &Range<usize>,
    field: &str,
) -> Result<Action, SpecError> {
    let m = if is_delay { &r.delay } else { &r.drop };
    let method = method(ctx, lab, m.as_ref().expect("present"), field)?;
    let delay = if is_delay {
        let by = r
            .by_ms
            .as_ref()
            .ok_or_else(|| ctx.err(span, field, "a delay needs `by_ms`, the added latency"))?;
        let ms = *by.get_ref();
        if !(ms.is_finite() && ms > 0.0 && ms <= 60_000.0) {
            return Err(ctx.err(
                &by.span(),
                &sibling(field, "by_ms"),
                format!("{ms} ms: a delay is more than 0 and at most 60000 ms"),
            ));
        }
        Some(Duration::from_secs_f64(ms / 1000.0))
    } else {
        None
    };
    let side = |v: &Option<Spanned<RawPeers>>, f: &str| {
        v.as_ref()
            .map(|p| n.spanned(ctx, p, &sibling(field, f)))
            .transpose()
    };
    Ok(Action::Hook {
        method,
        delay,
        from: side(&r.from, "from")?,
        to: side(&r.to, "to")?,
    })
}

/// An expectation's `at` and `within`.
pub(crate) fn window(
    ctx: &Ctx<'_>,
    number: usize,
    at: Option<&Spanned<f64>>,
    within: Option<&Spanned<f64>>,
) -> Result<(Option<Duration>, Option<Duration>), SpecError> {
    let f = |n: &str| format!("expect[{number}].{n}");
    Ok((
        at.map(|v| ctx.secs(v, &f("at"))).transpose()?,
        within.map(|v| ctx.secs(v, &f("within"))).transpose()?,
    ))
}

/// `true` of a `check = true` field, or the error saying so.
pub(crate) fn yes(ctx: &Ctx<'_>, v: &Spanned<bool>, field: &str) -> Result<(), SpecError> {
    if *v.get_ref() {
        Ok(())
    } else {
        let name = field.rsplit('.').next().unwrap_or(field);
        Err(ctx.err(&v.span(), field, format!("write `{name} = true`")))
    }
}

/// A count field: 0 or more.
pub(crate) fn count(ctx: &Ctx<'_>, v: &Spanned<i64>, field: &str) -> Result<u64, SpecError> {
    u64::try_from(*v.get_ref()).map_err(|_| ctx.err(&v.span(), field, "a count is 0 or more"))
}

/// What every lab's file has besides its own part.
pub(crate) struct Common {
    pub title: Option<String>,
    pub description: Option<String>,
    pub seed: Option<Spanned<i64>>,
    pub duration: Option<Spanned<f64>>,
    pub skip_unresolved: Option<bool>,
    pub reliable: bool,
    pub latency: Option<(Duration, Duration)>,
}

/// The scenario, its duration checked against `latest` (the last step,
/// timed expectation or client operation).
#[allow(clippy::too_many_arguments)] // the parts of a file, each read by its lab
pub(crate) fn scenario(
    ctx: &Ctx<'_>,
    lab: Lab,
    c: Common,
    nodes: usize,
    steps: Vec<Step>,
    expects: Vec<Expect>,
    last_op: Duration,
    spec: LabSpec,
) -> Result<Scenario, SpecError> {
    let seed = match &c.seed {
        None => 1,
        Some(s) => u64::try_from(*s.get_ref())
            .map_err(|_| ctx.err(&s.span(), "seed", "a seed is a number, 0 or more"))?,
    };
    let latest = expects
        .iter()
        .filter_map(|e| e.at)
        .chain(steps.iter().map(|s| s.at))
        .chain([last_op])
        .max()
        .unwrap_or_default();
    let duration = crate::spec::duration(ctx, &c.duration, latest)?;
    Ok(Scenario {
        file: ctx.file.to_string(),
        title: c.title.unwrap_or_else(|| ctx.file.to_string()),
        description: c.description.unwrap_or_default().trim().to_string(),
        lab,
        seed,
        peers: nodes,
        reliable: c.reliable,
        latency: c.latency,
        duration,
        clients: Vec::new(),
        steps,
        expects,
        duplication: false,
        long_delays: false,
        long_reordering: false,
        skip_unresolved: c.skip_unresolved.unwrap_or(false),
        monitors: false,
        lab_spec: Some(spec),
        shardkv1: None,
    })
}

/// A TOML error of a file of these labs, with its line and table.
pub(crate) fn toml_error(ctx: &Ctx<'_>, e: toml::de::Error) -> SpecError {
    let msg = e.message().trim();
    let message = match e.span() {
        None => format!("{}: {msg}", ctx.file),
        Some(s) => match enclosing_table(ctx.source, s.start) {
            t if t.is_empty() => format!("{}:{}: {msg}", ctx.file, ctx.line(&s)),
            t => format!("{}:{}: in {t}: {msg}", ctx.file, ctx.line(&s)),
        },
    };
    SpecError { message }
}

impl fmt::Debug for Refuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Refuse")
    }
}
