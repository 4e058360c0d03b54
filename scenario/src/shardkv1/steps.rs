//! The steps of a shardkv1 scenario file: node names, the lab's actions
//! (join, leave, new_ctrler, ctrler_crash_on) and the network's.

use std::fmt;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::read::{NODE_HELP, Names, RawStep, gids};
use super::spec::{Action, CRASH_METHODS, Step, Target, Targets};
use crate::spec::{Ctx, Lab, OneOf, SpecError, method, one_of};

pub(super) fn target(
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

pub(super) fn check_step(
    ctx: &Ctx<'_>,
    groups: u64,
    clients: usize,
    number: usize,
    s: &Spanned<RawStep>,
) -> Result<Step, SpecError> {
    let r = s.get_ref();
    let f = |name: &str| format!("step[{number}].{name}");
    let at = ctx.secs(&r.at, &f("at"))?;
    let (name, span) = one_of(
        ctx,
        &s.span(),
        &format!("step[{number}]"),
        vec![
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
        ],
        "a shardkv1 step needs one action: join, leave, new_ctrler, ctrler_crash_on, \
                 partition, heal, cut, restore, crash, restart, isolate, reconnect, slow, drop, \
                 delay, deliver or reliable",
        OneOf::Action,
    )?;
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

/// The lab's actions (join, leave, new_ctrler, ctrler_crash_on); the
/// others are the network's.
fn action(sc: &StepCtx<'_>, r: &RawStep, name: &str, number: usize) -> Result<Action, SpecError> {
    let ctx = sc.ctx;
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
        _ => net_action(sc, r, name, number)?,
    })
}

/// The network's actions, with this lab's node names.
fn net_action(
    sc: &StepCtx<'_>,
    r: &RawStep,
    name: &str,
    number: usize,
) -> Result<Action, SpecError> {
    let ctx = sc.ctx;
    let p = |v: &Option<Spanned<Names>>| v.as_ref().expect("present").get_ref().clone();
    Ok(match name {
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
