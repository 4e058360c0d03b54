//! Where two traces of one seed part: the first event that differs, with
//! the events before it and the next few of each run, and the node (and
//! its name) where it happened. The determinism check
//! (`LAB_DETERMINISM=1`) prints it when a seed runs two ways, and `lab diff
//! A.jsonl B.jsonl` prints it for two trace files.

use std::fmt::Write as _;

use crate::trace::{Event, EventKind};

/// Events shown before the first difference, and of each run after it.
pub const CONTEXT: usize = 4;

/// The first difference of `a` and `b` (each a whole trace, from its first
/// event), described over several lines; `None` when they are equal.
/// Sequence numbers are compared too: a trace that is a prefix of the
/// other differs where the shorter one ends.
pub fn first_difference(a: &[Event], b: &[Event]) -> Option<String> {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))?;
    let mut out = String::new();
    let here = a.get(at).or_else(|| b.get(at))?;
    let _ = writeln!(
        out,
        "first difference at event #{at}, virtual time {}, on {}",
        crate::time::Instant::from_nanos(here.time),
        node_label(a, here)
    );
    let _ = writeln!(out, "  the same before it:");
    for e in &a[at.saturating_sub(CONTEXT)..at] {
        let _ = writeln!(out, "    {e}");
    }
    for (name, run) in [("run 1", a), ("run 2", b)] {
        let _ = writeln!(out, "  {name}: from there on");
        let next = &run[at.min(run.len())..(at + CONTEXT).min(run.len())];
        if next.is_empty() {
            let _ = writeln!(out, "    (its trace ends: {} events)", run.len());
        }
        for e in next {
            let _ = writeln!(out, "    {e}  [{}]", node_label(run, e));
        }
    }
    Some(out)
}

/// `n2 (raft-1)`: an event's node and, if the trace names it, its name.
fn node_label(trace: &[Event], e: &Event) -> String {
    let name = trace.iter().find_map(|x| match &x.kind {
        EventKind::NodeCreated { name } if x.node == e.node => Some(name.clone()),
        _ => None,
    });
    match name {
        Some(name) => format!("{} ({name})", e.node),
        None => e.node.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::NodeId;

    fn ev(seq: u64, node: u32, kind: EventKind) -> Event {
        Event {
            seq,
            time: seq * 1000,
            node: NodeId(node),
            kind,
        }
    }

    #[test]
    fn names_the_first_differing_event_with_context() {
        let mut a: Vec<Event> = vec![ev(
            0,
            1,
            EventKind::NodeCreated {
                name: "raft-0".into(),
            },
        )];
        for s in 1..8 {
            a.push(ev(s, 1, EventKind::Heal));
        }
        let mut b = a.clone();
        assert_eq!(first_difference(&a, &b), None);
        b[5] = ev(5, 1, EventKind::Crash);
        let d = first_difference(&a, &b).unwrap();
        assert!(
            d.starts_with("first difference at event #5, virtual time"),
            "{d}"
        );
        assert!(d.contains("on n1 (raft-0)"), "{d}");
        assert!(d.contains("\"kind\":\"crash\""), "{d}");
        assert_eq!(d.matches("\"kind\":\"heal\"").count(), 4 + 3 + 2, "{d}");
        b.truncate(5);
        let d = first_difference(&a, &b[..3]).unwrap();
        assert!(d.contains("first difference at event #3"), "{d}");
        assert!(d.contains("(its trace ends: 3 events)"), "{d}");
    }
}
