//! Holding messages back until the test releases them
//! ([`Network::hold`]).

use std::collections::VecDeque;

use super::{Message, Net, Network, net_of};
use crate::node::NodeId;
use crate::oneshot;
use crate::runtime::{self, Sim};
use crate::trace::{self, EventKind, Leg};

/// Which messages a hold captures ([`Network::hold`]). A field left `None`
/// matches anything:
///
/// ```
/// # use labrpc::net::Filter;
/// # use labrpc::trace::Leg;
/// # use labrpc::NodeId;
/// # fn f(leader: NodeId, follower: NodeId) -> Filter {
/// Filter::new()
///     .method("raft.append_entries")
///     .from(follower)
///     .to(leader)
///     .leg(Leg::Reply)
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// `service.method`.
    pub method: Option<String>,
    /// The sending node (the client's for a request, the server's for a
    /// reply).
    pub from: Option<NodeId>,
    /// The receiving node.
    pub to: Option<NodeId>,
    /// Request or reply.
    pub leg: Option<Leg>,
}

impl Filter {
    /// Matches every message.
    pub fn new() -> Filter {
        Filter::default()
    }

    /// Only messages of `method` (`"service.method"`).
    pub fn method(mut self, method: &str) -> Filter {
        self.method = Some(method.to_string());
        self
    }

    /// Only messages sent by `node`.
    pub fn from(mut self, node: NodeId) -> Filter {
        self.from = Some(node);
        self
    }

    /// Only messages sent to `node`.
    pub fn to(mut self, node: NodeId) -> Filter {
        self.to = Some(node);
        self
    }

    /// Only this leg.
    pub fn leg(mut self, leg: Leg) -> Filter {
        self.leg = Some(leg);
        self
    }

    /// Whether `msg` matches.
    pub fn matches(&self, msg: &Message<'_>) -> bool {
        self.method.as_deref().is_none_or(|m| m == msg.method)
            && self.from.is_none_or(|n| n == msg.from)
            && self.to.is_none_or(|n| n == msg.to)
            && self.leg.is_none_or(|l| l == msg.leg)
    }
}

/// Identifies a hold ([`Network::hold`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HoldId(pub(super) u64);

/// One message waiting in a hold.
struct Held {
    rpc: u64,
    leg: Leg,
    from: NodeId,
    release: oneshot::Sender<()>,
}

pub(super) struct HoldState {
    id: HoldId,
    filter: Filter,
    /// How many more messages it may capture (`None`: no limit).
    remaining: Option<usize>,
    held: VecDeque<Held>,
}

impl Network {
    /// Holds every message matching `filter` from now on, at the point
    /// where it would start travelling, until [`Network::release`] or
    /// [`Network::remove_hold`]. A message is held by the first hold that
    /// matches it; hooks, losses and latencies are decided before (a lost
    /// message is never held). A held message whose sender crashes is gone.
    pub fn hold(&self, filter: Filter) -> HoldId {
        self.add_hold(filter, None)
    }

    /// Like [`Network::hold`], but holds only the first `n` matching
    /// messages; later ones pass.
    pub fn hold_first(&self, filter: Filter, n: usize) -> HoldId {
        self.add_hold(filter, Some(n))
    }

    fn add_hold(&self, filter: Filter, remaining: Option<usize>) -> HoldId {
        let setting = format!("hold {filter:?} (first {remaining:?})");
        let id = self.with(|net| {
            net.next_hold += 1;
            let id = HoldId(net.next_hold);
            net.holds.push(HoldState {
                id,
                filter,
                remaining,
                held: Default::default(),
            });
            id
        });
        self.config_event(format!("{setting}: #{}", id.0));
        id
    }

    /// How many messages hold `id` holds now (0 for a removed hold).
    pub fn held(&self, id: HoldId) -> usize {
        self.with(|net| {
            net.holds.iter().find(|h| h.id == id).map_or(0, |h| {
                h.held.iter().filter(|m| !m.release.is_canceled()).count()
            })
        })
    }

    /// Releases the `n` oldest messages of hold `id` (fewer if it holds
    /// fewer), in the order they were held; the hold keeps holding new
    /// ones. Returns how many were released.
    pub fn release(&self, id: HoldId, n: usize) -> usize {
        let sim = runtime::current();
        let released: Vec<Held> = {
            let net = net_of(&sim);
            let mut net = net.borrow_mut();
            let Some(h) = net.holds.iter_mut().find(|h| h.id == id) else {
                return 0;
            };
            let mut out = Vec::new();
            while out.len() < n {
                match h.held.pop_front() {
                    Some(m) if m.release.is_canceled() => {}
                    Some(m) => out.push(m),
                    None => break,
                }
            }
            out
        };
        let count = released.len();
        for m in released {
            trace::record_at(
                &sim,
                m.from,
                EventKind::Release {
                    rpc: m.rpc,
                    leg: m.leg,
                    hold: id.0,
                },
            );
            let _ = m.release.send(());
        }
        count
    }

    /// Hold `id` stops holding new messages; those it holds stay held until
    /// released or dropped.
    pub fn stop_holding(&self, id: HoldId) {
        self.with(|net| {
            if let Some(h) = net.holds.iter_mut().find(|h| h.id == id) {
                h.remaining = Some(0);
            }
        });
        self.config_event(format!("hold #{} stops holding", id.0));
    }

    /// Loses every message hold `id` holds now (the hold keeps holding new
    /// ones): a held request or reply is then lost as if on an unreliable
    /// network (the call fails with [`RpcError::Unreachable`]). Returns how
    /// many were lost.
    pub fn drop_held(&self, id: HoldId) -> usize {
        self.with(|net| {
            net.holds.iter_mut().find(|h| h.id == id).map_or(0, |h| {
                let n = h.held.iter().filter(|m| !m.release.is_canceled()).count();
                h.held.clear();
                n
            })
        })
    }

    /// Stops hold `id` and releases everything it holds, oldest first.
    /// Returns how many were released.
    pub fn remove_hold(&self, id: HoldId) -> usize {
        let n = self.release(id, usize::MAX);
        self.with(|net| net.holds.retain(|h| h.id != id));
        self.config_event(format!("hold #{} removed", id.0));
        n
    }
}

/// If a hold matches `msg`, holds it: returns what fires on release.
pub(super) fn capture(sim: &Sim, net: &Net, msg: &Message<'_>) -> Option<oneshot::Receiver<()>> {
    let (rx, hold) = {
        let mut net = net.borrow_mut();
        let h = net
            .holds
            .iter_mut()
            .find(|h| h.remaining != Some(0) && h.filter.matches(msg))?;
        if let Some(r) = &mut h.remaining {
            *r -= 1;
        }
        let (tx, rx) = oneshot::channel();
        h.held.push_back(Held {
            rpc: msg.rpc,
            leg: msg.leg,
            from: msg.from,
            release: tx,
        });
        (rx, h.id.0)
    };
    trace::record_at(
        sim,
        msg.from,
        EventKind::Hold {
            rpc: msg.rpc,
            leg: msg.leg,
            hold,
        },
    );
    Some(rx)
}
