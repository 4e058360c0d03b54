//! The drop and delay rules that a scenario's `drop`, `delay` and
//! `deliver` steps set on the network, kept by method (every lab's world
//! holds one).

use std::cell::RefCell;
use std::time::Duration;

use labrpc::net::HookId;
use labrpc::{NodeId, Verdict, network};

/// The rules in force, each under the method (or name) it was set for.
#[derive(Default)]
pub(crate) struct Hooks(RefCell<Vec<(String, HookId)>>);

impl Hooks {
    /// Drops (`delay` `None`) or delays by `delay` every message of
    /// `method` sent by one of `from` to one of `to` (`None`: any node).
    pub(crate) fn add(
        &self,
        method: &str,
        delay: Option<Duration>,
        from: Option<Vec<NodeId>>,
        to: Option<Vec<NodeId>>,
    ) {
        let verdict = delay.map_or(Verdict::Drop, Verdict::Delay);
        let m = method.to_string();
        let id = network().add_hook(move |msg| {
            let hit = msg.method == m
                && from.as_ref().is_none_or(|f| f.contains(&msg.from))
                && to.as_ref().is_none_or(|t| t.contains(&msg.to));
            if hit { verdict } else { Verdict::Deliver }
        });
        self.keep(method, id);
    }

    /// Keeps a rule set elsewhere under `name`, for `deliver` to remove.
    pub(crate) fn keep(&self, name: &str, id: HookId) {
        self.0.borrow_mut().push((name.to_string(), id));
    }

    /// `deliver`: removes `method`'s rules; the step's text.
    pub(crate) fn deliver(&self, method: &str) -> String {
        let net = network();
        let mut removed = 0;
        self.0.borrow_mut().retain(|(m, id)| {
            let hit = m == method;
            if hit {
                net.remove_hook(*id);
                removed += 1;
            }
            !hit
        });
        format!("deliver {method} again ({removed} rules removed)")
    }
}
