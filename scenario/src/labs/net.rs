//! The steps every lab has: crashes and restarts (the lab's), and the
//! network's (partition, heal, cut, restore, isolate, reconnect, slow,
//! drop, delay, deliver, reliable), on the nodes the file names; and
//! `bind`.

use std::time::Duration;

use labrpc::{LinkConfig, NodeId, network};

use super::drive::Cluster;
use crate::spec::{Action, Peers, Role, Step};

/// The nodes `p` names now (`rest`: what "rest" stands for), in order,
/// each once.
pub(crate) async fn resolve<W: Cluster>(
    w: &W,
    p: &Peers,
    rest: &[usize],
) -> Result<Vec<usize>, String> {
    let core = w.core();
    let mut out: Vec<usize> = Vec::new();
    for r in &p.roles {
        let set = match r {
            Role::All => (0..core.nodes.len()).collect(),
            Role::Rest => rest.to_vec(),
            Role::Name(n) => core.names.borrow().get(n).cloned().ok_or_else(|| {
                format!("name \"{n}\" is not bound yet: its `bind` step comes later")
            })?,
            Role::Lab(n) => w.resolve_name(n).await?,
            other => return Err(format!("{other} is a Raft role")),
        };
        for i in set {
            if !out.contains(&i) {
                out.push(i);
            }
        }
    }
    if out.is_empty() {
        return Err(format!("{p} names no node now"));
    }
    Ok(out)
}

/// Carries out one step; what it did, or why it could not.
pub(crate) async fn step<W: Cluster>(w: &W, step: &Step) -> Result<String, String> {
    let core = w.core();
    let net = network();
    let show = |v: &[usize]| core.show(v);
    Ok(match &step.action {
        Action::Partition(groups) => partition(w, groups).await?,
        Action::Heal => {
            net.heal();
            "heal: every link up".into()
        }
        Action::Cut(a, b) | Action::Restore(a, b) => {
            let cut = matches!(step.action, Action::Cut(..));
            let (from, to) = (resolve(w, a, &[]).await?, resolve(w, b, &[]).await?);
            for &x in &from {
                for &y in to.iter().filter(|&&y| y != x) {
                    if cut {
                        net.cut(core.node(x), core.node(y));
                    } else {
                        net.restore(core.node(x), core.node(y));
                    }
                }
            }
            let verb = if cut { "cut" } else { "restore" };
            format!("{verb} {} → {}", show(&from), show(&to))
        }
        Action::Crash(p) => {
            let v = resolve(w, p, &[]).await?;
            for &i in &v {
                w.crash(i)?;
            }
            format!("crash {}", show(&v))
        }
        Action::Restart(p) => {
            let v = resolve(w, p, &[]).await?;
            for &i in &v {
                w.restart(i)?;
            }
            format!("restart {}", show(&v))
        }
        Action::Isolate(p) | Action::Reconnect(p) => {
            let iso = matches!(step.action, Action::Isolate(_));
            let v = resolve(w, p, &[]).await?;
            for &i in &v {
                let others: Vec<NodeId> = (0..core.nodes.len())
                    .filter(|&j| j != i)
                    .map(|j| core.node(j))
                    .collect();
                if iso {
                    net.isolate(core.node(i), &others);
                } else {
                    net.reconnect(core.node(i), &others);
                }
            }
            let verb = if iso { "isolate" } else { "reconnect" };
            format!("{verb} {}", show(&v))
        }
        Action::Slow {
            from,
            to,
            latency,
            loss,
        } => {
            let (a, b) = (resolve(w, from, &[]).await?, resolve(w, to, &[]).await?);
            for &x in &a {
                for &y in b.iter().filter(|&&y| y != x) {
                    let config = LinkConfig {
                        loss: *loss,
                        latency: latency.0..=latency.1,
                    };
                    net.set_link(core.node(x), core.node(y), Some(config));
                }
            }
            format!(
                "slow {} → {}: latency {}–{} ms, loss {loss}",
                show(&a),
                show(&b),
                latency.0.as_millis(),
                latency.1.as_millis()
            )
        }
        Action::Hook {
            method,
            delay,
            from,
            to,
        } => hook(w, method, *delay, from.as_ref(), to.as_ref()).await?,
        Action::Deliver(method) => core.hooks.deliver(method),
        Action::Reliable(on) => {
            net.set_reliable(*on);
            format!("network {}", if *on { "reliable" } else { "unreliable" })
        }
        Action::Bind(binds) => {
            let mut parts = Vec::new();
            for (name, p) in binds {
                let v = resolve(w, p, &[]).await?;
                parts.push(format!("{name} = {}", show(&v)));
                core.names.borrow_mut().insert(name.clone(), v);
            }
            format!("bind {}", parts.join(", "))
        }
        Action::Lab(a) => w.lab_step(a).await?,
        Action::Start { .. } => return Err("`start` is a Raft step".into()),
    })
}

/// `partition`: the groups, resolved now ("rest": every node not named).
async fn partition<W: Cluster>(w: &W, groups: &[Peers]) -> Result<String, String> {
    let core = w.core();
    let mut named = Vec::new();
    for g in groups {
        for r in g.roles.iter().filter(|r| **r != Role::Rest) {
            let one = Peers {
                roles: vec![r.clone()],
                place: g.place.clone(),
            };
            named.extend(resolve(w, &one, &[]).await?);
        }
    }
    let rest: Vec<usize> = (0..core.nodes.len())
        .filter(|i| !named.contains(i))
        .collect();
    let mut sets: Vec<Vec<usize>> = Vec::new();
    for g in groups {
        let set = resolve(w, g, &rest).await?;
        if let Some(i) = set.iter().find(|i| sets.iter().any(|s| s.contains(i))) {
            return Err(format!(
                "{} is in two groups of the partition (names resolve to nodes when the step runs)",
                core.nodes[*i].0
            ));
        }
        sets.push(set);
    }
    let ids: Vec<Vec<NodeId>> = sets
        .iter()
        .map(|s| s.iter().map(|&i| core.node(i)).collect())
        .collect();
    let refs: Vec<&[NodeId]> = ids.iter().map(Vec::as_slice).collect();
    network().partition(&refs);
    let text: Vec<String> = sets.iter().map(|s| core.show(s)).collect();
    Ok(format!("partition {}", text.join(" | ")))
}

/// `drop` / `delay`: a rule on a method's messages.
async fn hook<W: Cluster>(
    w: &W,
    method: &str,
    delay: Option<Duration>,
    from: Option<&Peers>,
    to: Option<&Peers>,
) -> Result<String, String> {
    let core = w.core();
    let from = match from {
        Some(p) => Some(resolve(w, p, &[]).await?),
        None => None,
    };
    let to = match to {
        Some(p) => Some(resolve(w, p, &[]).await?),
        None => None,
    };
    let ids = |v: &Option<Vec<usize>>| {
        v.as_ref()
            .map(|v| v.iter().map(|&i| core.node(i)).collect::<Vec<NodeId>>())
    };
    core.hooks.add(method, delay, ids(&from), ids(&to));
    let side = |v: &Option<Vec<usize>>| v.as_ref().map_or("any".to_string(), |v| core.show(v));
    Ok(format!(
        "{} {method} from {} to {}",
        delay.map_or("drop".to_string(), |d| format!(
            "delay by {} ms",
            d.as_millis()
        )),
        side(&from),
        side(&to)
    ))
}
