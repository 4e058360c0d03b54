//! The simulated network: client ends, servers, links, faults and counters.
//!
//! This is 6.824's `labrpc` on virtual time, plus a link table.
//!
//! # What a call does
//!
//! [`ClientEnd::call`] (or a typed client from [`crate::service!`]) sends
//! one request and waits for its reply. Every step below draws from the
//! simulation's RNG, so a seed fixes all of it.
//!
//! 1. The request is counted ([`Network::total_rpcs`], and its encoded size
//!    in [`Network::total_bytes`]) and recorded as a `send` event.
//! 2. If the end is disabled or unconnected, the server does not exist, or
//!    the link from the end's node to the server's node is down, the call
//!    fails with [`RpcError::Unreachable`] after a random delay: uniform in
//!    `0..`[`SHORT_FAIL_DELAY`], or `0..`[`LONG_FAIL_DELAY`] with
//!    [`Network::set_long_delays`]. No handler runs.
//! 3. The request travels for the link's latency (by default uniform in
//!    [`DEFAULT_LATENCY`]), plus a uniform `0..`[`UNRELIABLE_JITTER`] on an
//!    unreliable network, plus any delay a hook adds. On an unreliable
//!    network it is then lost with probability [`UNRELIABLE_DROP`]; a lossy
//!    link or a hook may drop it too. A lost request fails the call at once.
//! 4. **Delivery is decided at arrival**: if the end was disabled, the
//!    server deleted or replaced, or the link cut while the request was in
//!    flight, it is lost. Otherwise the server's count goes up and the
//!    handler starts as a new task on the server's node.
//! 5. While the handler runs, the caller checks every [`SERVER_POLL`]
//!    whether its end was disabled or the server deleted, replaced, or
//!    crashed; if so the call fails ([`RpcError::ServerGone`] or
//!    `Unreachable`) and the handler's result, if it ever comes, is thrown
//!    away. A call to a live, connected server whose handler never returns
//!    never returns either (as in 6.824).
//! 6. When the handler returns, the same checks run again (so a deleted
//!    server never acknowledges anything), then the reply leg: the link back
//!    must be up, an unreliable network loses the reply with probability
//!    [`UNRELIABLE_DROP`] **after the handler ran** (this is what tests
//!    duplicate detection), lossy links and hooks apply. With
//!    [`Network::set_long_reordering`] a reply is held back, with
//!    probability [`LONG_REORDER_PROBABILITY`], for
//!    `LONG_REORDER_MIN + U(0..U(0..LONG_REORDER_SPREAD))`. The reply then
//!    travels for the link latency and is again decided at arrival.
//! 7. A delivered reply adds its encoded size to the total bytes.
//!
//! Concurrent calls on one end are allowed and may be reordered.
//!
//! # Links and partitions
//!
//! Connectivity underneath is a table of directed node pairs, all up by
//! default. [`Network::partition`] splits listed nodes into groups (links
//! between groups go down, links within a group come up; links of unlisted
//! nodes are untouched); [`Network::heal`] brings every link up;
//! [`Network::cut`] / [`Network::restore`] change one direction;
//! [`Network::isolate`] cuts a node off both ways. A node always reaches
//! itself. [`Network::set_link`] gives a link its own loss and latency.
//! [`Network::add_hook`] lets a scenario drop or delay chosen messages by
//! method, source or destination.
//!
//! # Holding messages back, and duplicates
//!
//! Two faults of real networks that 6.824's does not have, both off unless
//! a test asks for them (a run that uses neither is event for event the
//! run it was before they existed):
//!
//! - **Hold and release.** [`Network::hold`] holds every message matching
//!   a [`Filter`] (method, source node, destination node, leg) at the point
//!   where it would start travelling, until the test releases it with
//!   [`Network::release`] (oldest first) or [`Network::remove_hold`]; then
//!   it travels for the latency it was given and is decided at arrival as
//!   usual, so a released request whose link is down by then is lost.
//!   [`Network::hold_first`] holds only the first few matches;
//!   [`Network::stop_holding`] lets new matches pass while the held ones
//!   wait; [`Network::drop_held`] loses what a hold holds. This is how
//!   a test delivers one specific old message at a chosen moment: a reply
//!   of an earlier term, an AppendEntries from before a snapshot. Trace:
//!   `hold` and `release` events.
//! - **Duplication.** With [`Network::set_duplication`], each delivered
//!   request is, with probability [`DUPLICATE_PROBABILITY`], delivered a
//!   second time later (after `U(0..`[`DUPLICATE_SPREAD`]`)` plus the link
//!   latency), if the end, the server and the link are still there: the
//!   handler runs twice. The duplicate's reply travels back like any reply
//!   (and may be lost like one); if the call is still waiting for its own
//!   handler it takes whichever reply arrives first, otherwise the late
//!   reply is thrown away (as an RPC layer discards a second answer).
//!   Trace: `duplicate` events (`scheduled`, `delivered`, `lost: ..`,
//!   `reply used`, `reply discarded`); the call's own events are unchanged.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::rc::Rc;
use std::time::Duration;

use futures::FutureExt;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::node::NodeId;
use crate::rpc::{RpcError, Server};
use crate::runtime::{self, Sim};
use crate::time::{self, Instant};
use crate::trace::{self, DropReason, DuplicateStep, EventKind, Leg};

/// On an unreliable network, each request waits uniformly in `0..` this.
pub const UNRELIABLE_JITTER: Duration = Duration::from_millis(27);
/// On an unreliable network, the probability of losing a request, and
/// (independently) of losing a reply after its handler ran.
pub const UNRELIABLE_DROP: f64 = 0.1;
/// A call that cannot be delivered fails after uniformly `0..` this.
pub const SHORT_FAIL_DELAY: Duration = Duration::from_millis(100);
/// ... or after uniformly `0..` this with long delays on.
pub const LONG_FAIL_DELAY: Duration = Duration::from_millis(7000);
/// With long reordering, the probability that a reply is held back.
pub const LONG_REORDER_PROBABILITY: f64 = 600.0 / 900.0;
/// With long reordering, the least delay of a held-back reply.
pub const LONG_REORDER_MIN: Duration = Duration::from_millis(200);
/// With long reordering, a held-back reply waits
/// `LONG_REORDER_MIN + U(0..U(0..LONG_REORDER_SPREAD))`.
pub const LONG_REORDER_SPREAD: Duration = Duration::from_millis(2000);
/// How often a waiting caller checks whether its server is still there.
pub const SERVER_POLL: Duration = Duration::from_millis(100);
/// With duplication on, the probability that a delivered request is
/// delivered once more.
pub const DUPLICATE_PROBABILITY: f64 = 0.1;
/// With duplication on, a duplicate arrives `U(0..` this `)` (plus the link
/// latency) after the original.
pub const DUPLICATE_SPREAD: Duration = Duration::from_millis(100);
/// One-way latency of a link without its own setting.
/// (A datacenter network: the 4 one-way trips of a replicated KV operation
/// stay well inside the lab's 10 ms per operation.)
pub const DEFAULT_LATENCY: RangeInclusive<Duration> =
    Duration::from_millis(1)..=Duration::from_millis(2);

/// A link's own behaviour; see [`Network::set_link`].
#[derive(Clone, Debug, PartialEq)]
pub struct LinkConfig {
    /// Probability that a message on this link is lost (independent of the
    /// unreliable setting).
    pub loss: f64,
    /// One-way latency, drawn uniformly from this range.
    pub latency: RangeInclusive<Duration>,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            loss: 0.0,
            latency: DEFAULT_LATENCY,
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Link {
    down: bool,
    config: Option<LinkConfig>,
}

/// A message as a hook sees it.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// Unique id of the call.
    pub rpc: u64,
    /// Request or reply.
    pub leg: Leg,
    /// `service.method`.
    pub method: &'a str,
    /// Sending node (the client's for a request, the server's for a reply).
    pub from: NodeId,
    /// Receiving node.
    pub to: NodeId,
    /// The client end's name.
    pub end: &'a str,
    /// The server's name.
    pub server: &'a str,
}

/// What a hook decides about a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let it through (other hooks may still decide).
    Deliver,
    /// Lose it.
    Drop,
    /// Add this much latency.
    Delay(Duration),
}

/// Identifies a hook, to remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HookId(u64);

type Hook = Rc<dyn Fn(&Message<'_>) -> Verdict>;

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
pub struct HoldId(u64);

/// One message waiting in a hold.
struct Held {
    rpc: u64,
    leg: Leg,
    from: NodeId,
    release: futures::channel::oneshot::Sender<()>,
}

struct HoldState {
    id: HoldId,
    filter: Filter,
    /// How many more messages it may capture (`None`: no limit).
    remaining: Option<usize>,
    held: std::collections::VecDeque<Held>,
}

struct EndState {
    node: NodeId,
    server: Option<Rc<str>>,
    enabled: bool,
}

#[derive(Clone)]
struct ServerEntry {
    /// Distinguishes this server from earlier ones under the same name.
    id: u64,
    node: NodeId,
    server: Rc<Server>,
}

/// The network's state, owned by the simulation.
#[derive(Default)]
pub(crate) struct NetState {
    unreliable: bool,
    long_delays: bool,
    long_reordering: bool,
    duplication: bool,
    ends: BTreeMap<Rc<str>, EndState>,
    servers: BTreeMap<Rc<str>, ServerEntry>,
    counts: BTreeMap<Rc<str>, u64>,
    links: BTreeMap<(NodeId, NodeId), Link>,
    hooks: Vec<(HookId, Hook)>,
    next_hook: u64,
    holds: Vec<HoldState>,
    next_hold: u64,
    next_server_id: u64,
    next_rpc: u64,
    next_auto_end: u64,
    total_rpcs: u64,
    total_bytes: u64,
}

impl NetState {
    fn link_up(&self, from: NodeId, to: NodeId) -> bool {
        from == to || !self.links.get(&(from, to)).is_some_and(|l| l.down)
    }

    fn link_config(&self, from: NodeId, to: NodeId) -> Option<LinkConfig> {
        self.links.get(&(from, to)).and_then(|l| l.config.clone())
    }

    fn set_up(&mut self, from: NodeId, to: NodeId, up: bool) -> bool {
        if from == to {
            return false;
        }
        let link = self.links.entry((from, to)).or_default();
        let changed = link.down == up;
        link.down = !up;
        changed
    }

    /// Why a request from `end` cannot be sent now, or where it goes.
    fn route(&self, end: &str) -> Result<(NodeId, Rc<str>, ServerEntry), DropReason> {
        let e = self.ends.get(end).ok_or(DropReason::EndDeleted)?;
        if !e.enabled {
            return Err(DropReason::EndDisabled);
        }
        let name = e.server.clone().ok_or(DropReason::EndNotConnected)?;
        let s = self.servers.get(&name).ok_or(DropReason::NoSuchServer)?;
        if !self.link_up(e.node, s.node) {
            return Err(DropReason::LinkDown);
        }
        Ok((e.node, name, s.clone()))
    }

    /// Whether `end` is still enabled and `server` is still the one with id
    /// `server_id`; the reason otherwise.
    fn still_valid(&self, end: &str, server: &str, server_id: u64) -> Result<(), DropReason> {
        if !self.ends.get(end).is_some_and(|e| e.enabled) {
            return Err(DropReason::EndDisabled);
        }
        if self.servers.get(server).is_none_or(|s| s.id != server_id) {
            return Err(DropReason::ServerGone);
        }
        Ok(())
    }
}

/// Deletes every server hosted on a crashing node.
pub(crate) fn detach_node(sim: &Sim, node: NodeId) {
    let removed: Vec<Rc<str>> = {
        let mut net = sim.net.borrow_mut();
        let names: Vec<Rc<str>> = net
            .servers
            .iter()
            .filter(|(_, s)| s.node == node)
            .map(|(n, _)| n.clone())
            .collect();
        for n in &names {
            net.servers.remove(n);
        }
        names
    };
    for server in removed {
        trace::record_at(sim, node, EventKind::ServerDeleted { server });
    }
}

/// A handle to the simulation's network. Cheap to copy; every method acts
/// on the network of the running simulation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Network;

/// The running simulation's network.
pub fn network() -> Network {
    Network
}

impl Network {
    fn with<R>(&self, f: impl FnOnce(&mut NetState) -> R) -> R {
        let sim = runtime::current();
        let mut net = sim.net.borrow_mut();
        f(&mut net)
    }

    /// Creates a client end named `name` whose messages leave from `node`.
    /// As in 6.824 it starts disabled and unconnected.
    ///
    /// # Panics
    /// If an end with this name exists.
    pub fn make_end(&self, name: impl Into<String>, node: NodeId) -> ClientEnd {
        let name: Rc<str> = name.into().into();
        self.with(|net| {
            assert!(
                !net.ends.contains_key(&name),
                "labrpc::Network::make_end: an end named {name:?} already exists"
            );
            net.ends.insert(
                name.clone(),
                EndState {
                    node,
                    server: None,
                    enabled: false,
                },
            );
        });
        ClientEnd { name }
    }

    /// Creates a uniquely named end from `node` to `server`, connected and
    /// enabled: the usual way to get a client.
    pub fn end_to(&self, node: NodeId, server: &str) -> ClientEnd {
        let k = self.with(|net| {
            net.next_auto_end += 1;
            net.next_auto_end
        });
        let end = self.make_end(format!("{node}->{server}#{k}"), node);
        self.connect(end.name(), server);
        self.enable(end.name(), true);
        end
    }

    /// Connects end `end` to the server named `server` (which need not
    /// exist yet).
    ///
    /// # Panics
    /// If there is no such end.
    pub fn connect(&self, end: &str, server: &str) {
        self.with(|net| {
            let e = net
                .ends
                .get_mut(end)
                .unwrap_or_else(|| panic!("labrpc::Network::connect: no end named {end:?}"));
            e.server = Some(server.into());
        });
    }

    /// Enables or disables end `end`. A disabled end's calls fail as if the
    /// server were unreachable.
    ///
    /// # Panics
    /// If there is no such end.
    pub fn enable(&self, end: &str, enabled: bool) {
        let sim = runtime::current();
        let node = {
            let mut net = sim.net.borrow_mut();
            let e = net
                .ends
                .get_mut(end)
                .unwrap_or_else(|| panic!("labrpc::Network::enable: no end named {end:?}"));
            let changed = e.enabled != enabled;
            e.enabled = enabled;
            changed.then_some(e.node)
        };
        if let Some(node) = node {
            trace::record_at(
                &sim,
                node,
                EventKind::End {
                    end: end.into(),
                    enabled,
                },
            );
        }
    }

    /// Whether end `end` exists and is enabled.
    pub fn is_enabled(&self, end: &str) -> bool {
        self.with(|net| net.ends.get(end).is_some_and(|e| e.enabled))
    }

    /// Deletes end `end`; its pending and future calls fail.
    pub fn delete_end(&self, end: &str) {
        self.with(|net| net.ends.remove(end));
    }

    /// Adds (or replaces) the server `name`, hosted on `node`: handlers run
    /// as tasks of that node. A replaced server counts as deleted: calls
    /// pending on it fail.
    ///
    /// # Panics
    /// If `node` is crashed.
    pub fn add_server(&self, name: impl Into<String>, node: NodeId, server: Server) {
        let sim = runtime::current();
        assert!(
            sim.nodes.borrow().is_alive(node),
            "labrpc::Network::add_server: node {node} is crashed; restart it first"
        );
        let name: Rc<str> = name.into().into();
        {
            let mut net = sim.net.borrow_mut();
            net.next_server_id += 1;
            let id = net.next_server_id;
            net.servers.insert(
                name.clone(),
                ServerEntry {
                    id,
                    node,
                    server: Rc::new(server),
                },
            );
        }
        trace::record_at(&sim, node, EventKind::ServerAdded { server: name });
    }

    /// Deletes the server `name`: it never answers again, and calls pending
    /// on it fail (their handlers keep running; results are discarded).
    pub fn delete_server(&self, name: &str) {
        let sim = runtime::current();
        let removed = sim.net.borrow_mut().servers.remove(name);
        if let Some(s) = removed {
            trace::record_at(
                &sim,
                s.node,
                EventKind::ServerDeleted {
                    server: name.into(),
                },
            );
        }
    }

    /// Whether a server named `name` exists.
    pub fn has_server(&self, name: &str) -> bool {
        self.with(|net| net.servers.contains_key(name))
    }

    /// Requests dispatched to handlers of servers named `name`, over the
    /// whole run (a replaced server's count carries over). Requests lost or
    /// refused before their handler started are not counted.
    pub fn server_count(&self, name: &str) -> u64 {
        self.with(|net| net.counts.get(name).copied().unwrap_or(0))
    }

    /// Every call that entered the network, delivered or not.
    pub fn total_rpcs(&self) -> u64 {
        self.with(|net| net.total_rpcs)
    }

    /// Encoded request bytes of every call, plus encoded reply bytes of
    /// every delivered reply.
    pub fn total_bytes(&self) -> u64 {
        self.with(|net| net.total_bytes)
    }

    fn config_event(&self, setting: String) {
        let sim = runtime::current();
        trace::record(&sim, EventKind::Config { setting });
    }

    /// Reliable (the default) or unreliable: see the module docs.
    pub fn set_reliable(&self, reliable: bool) {
        self.with(|net| net.unreliable = !reliable);
        self.config_event(format!("reliable={reliable}"));
    }

    /// Whether the network is reliable.
    pub fn is_reliable(&self) -> bool {
        self.with(|net| !net.unreliable)
    }

    /// Long delays for calls that cannot be delivered (Raft's tester turns
    /// them on to catch leaders that wait for RPCs one by one).
    pub fn set_long_delays(&self, on: bool) {
        self.with(|net| net.long_delays = on);
        self.config_event(format!("long_delays={on}"));
    }

    /// Long reordering of replies.
    pub fn set_long_reordering(&self, on: bool) {
        self.with(|net| net.long_reordering = on);
        self.config_event(format!("long_reordering={on}"));
    }

    /// Duplication of requests (off by default): see the module docs.
    pub fn set_duplication(&self, on: bool) {
        self.with(|net| net.duplication = on);
        self.config_event(format!("duplication={on}"));
    }

    /// Whether requests may be duplicated.
    pub fn is_duplicating(&self) -> bool {
        self.with(|net| net.duplication)
    }

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
            let mut net = sim.net.borrow_mut();
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

    /// Splits `groups` of nodes from each other: a link between two listed
    /// nodes is up iff they are in the same group. Links that involve an
    /// unlisted node are unchanged.
    pub fn partition(&self, groups: &[&[NodeId]]) {
        let sim = runtime::current();
        {
            let mut net = sim.net.borrow_mut();
            for (gi, g) in groups.iter().enumerate() {
                for (hi, h) in groups.iter().enumerate() {
                    for &a in g.iter() {
                        for &b in h.iter() {
                            net.set_up(a, b, gi == hi);
                        }
                    }
                }
            }
        }
        let groups = groups.iter().map(|g| g.to_vec()).collect();
        trace::record(&sim, EventKind::Partition { groups });
    }

    /// Brings every link up (per-link loss and latency settings stay).
    pub fn heal(&self) {
        let sim = runtime::current();
        sim.net
            .borrow_mut()
            .links
            .values_mut()
            .for_each(|l| l.down = false);
        trace::record(&sim, EventKind::Heal);
    }

    fn set_link_state(&self, from: NodeId, to: NodeId, up: bool) {
        let sim = runtime::current();
        let changed = sim.net.borrow_mut().set_up(from, to, up);
        if changed {
            trace::record(&sim, EventKind::Link { from, to, up });
        }
    }

    /// Cuts the one-way link `from -> to`. The reverse direction is
    /// unchanged: requests may arrive while replies are lost, or the other
    /// way round.
    pub fn cut(&self, from: NodeId, to: NodeId) {
        self.set_link_state(from, to, false);
    }

    /// Restores the one-way link `from -> to`.
    pub fn restore(&self, from: NodeId, to: NodeId) {
        self.set_link_state(from, to, true);
    }

    /// Cuts `node` off from `others`, both ways.
    pub fn isolate(&self, node: NodeId, others: &[NodeId]) {
        for &o in others {
            self.cut(node, o);
            self.cut(o, node);
        }
    }

    /// Restores the links between `node` and `others`, both ways.
    pub fn reconnect(&self, node: NodeId, others: &[NodeId]) {
        for &o in others {
            self.restore(node, o);
            self.restore(o, node);
        }
    }

    /// Whether the one-way link `from -> to` is up.
    pub fn link_up(&self, from: NodeId, to: NodeId) -> bool {
        self.with(|net| net.link_up(from, to))
    }

    /// Gives the one-way link `from -> to` its own loss and latency
    /// (`None` restores the defaults). Its up/down state is unchanged.
    ///
    /// # Panics
    /// If `loss` is not in `[0, 1]` or the latency range is empty.
    pub fn set_link(&self, from: NodeId, to: NodeId, config: Option<LinkConfig>) {
        if let Some(c) = &config {
            assert!(
                (0.0..=1.0).contains(&c.loss),
                "labrpc::Network::set_link: loss {} is not a probability",
                c.loss
            );
            assert!(
                c.latency.start() <= c.latency.end(),
                "labrpc::Network::set_link: empty latency range {:?}",
                c.latency
            );
        }
        let setting = format!("link {from}->{to}: {config:?}");
        self.with(|net| net.links.entry((from, to)).or_default().config = config);
        self.config_event(setting);
    }

    /// Adds a hook that sees every message (request and reply legs) before
    /// the network decides its fate. The first hook that returns
    /// [`Verdict::Drop`] loses it; delays add up.
    pub fn add_hook(&self, hook: impl Fn(&Message<'_>) -> Verdict + 'static) -> HookId {
        self.with(|net| {
            net.next_hook += 1;
            let id = HookId(net.next_hook);
            net.hooks.push((id, Rc::new(hook)));
            id
        })
    }

    /// Removes a hook.
    pub fn remove_hook(&self, id: HookId) {
        self.with(|net| net.hooks.retain(|(h, _)| *h != id));
    }
}

/// A client's end of a connection to one named server.
///
/// Cheap to clone; clones are the same end. Its state (enabled, connected
/// server) lives in the [`Network`].
#[derive(Clone, PartialEq, Eq)]
pub struct ClientEnd {
    name: Rc<str>,
}

impl fmt::Debug for ClientEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientEnd({:?})", self.name)
    }
}

/// Outcome of the network's checks for one leg.
struct LegPlan {
    lost: Option<DropReason>,
    delay: Duration,
}

fn uniform(range: &RangeInclusive<Duration>) -> Duration {
    let (lo, hi) = (
        range.start().as_nanos() as u64,
        range.end().as_nanos() as u64,
    );
    if lo == hi {
        Duration::from_nanos(lo)
    } else {
        Duration::from_nanos(crate::rand::gen_range(lo..=hi))
    }
}

fn uniform_below(max: Duration) -> Duration {
    Duration::from_nanos(crate::rand::gen_range(0..max.as_nanos() as u64))
}

impl ClientEnd {
    /// The end's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Calls `method` (`"service.method"`) with `args`, decoding the reply.
    pub async fn call<A: Serialize, R: DeserializeOwned>(
        &self,
        method: &'static str,
        args: &A,
    ) -> Result<R, RpcError> {
        let req = labcodec::encode(args).map_err(|e| RpcError::Encode(e.to_string()))?;
        let reply = self.call_raw(method, req).await?;
        labcodec::decode(&reply).map_err(|e| RpcError::Decode(e.to_string()))
    }

    /// Calls `method` with already-encoded bytes; returns the encoded reply.
    pub async fn call_raw(&self, method: &'static str, req: Vec<u8>) -> Result<Vec<u8>, RpcError> {
        let sim = runtime::current();
        let (rpc, route) = {
            let mut net = sim.net.borrow_mut();
            net.next_rpc += 1;
            net.total_rpcs += 1;
            net.total_bytes += req.len() as u64;
            (net.next_rpc, net.route(&self.name))
        };
        let (client_node, server_name, entry) = {
            let to = route.as_ref().ok().map(|r| r.2.node);
            let server: Rc<str> = match &route {
                Ok(r) => r.1.clone(),
                Err(_) => sim
                    .net
                    .borrow()
                    .ends
                    .get(&self.name)
                    .and_then(|e| e.server.clone())
                    .unwrap_or_else(|| "".into()),
            };
            trace::record(
                &sim,
                EventKind::Send {
                    rpc,
                    end: self.name.clone(),
                    server,
                    to,
                    method: method.into(),
                    bytes: req.len(),
                },
            );
            match route {
                Ok(r) => r,
                Err(reason) => {
                    trace::record(
                        &sim,
                        EventKind::Drop {
                            rpc,
                            leg: Leg::Request,
                            reason,
                        },
                    );
                    let long = sim.net.borrow().long_delays;
                    drop(sim);
                    let max = if long {
                        LONG_FAIL_DELAY
                    } else {
                        SHORT_FAIL_DELAY
                    };
                    time::sleep(uniform_below(max)).await;
                    return Err(RpcError::Unreachable);
                }
            }
        };
        let msg = Message {
            rpc,
            leg: Leg::Request,
            method,
            from: client_node,
            to: entry.node,
            end: &self.name,
            server: &server_name,
        };
        let plan = plan_leg(&sim, &msg);
        if plan.lost.is_none()
            && let Some(released) = capture(&sim, &msg)
            && released.await.is_err()
        {
            drop_event(
                &sim,
                client_node,
                rpc,
                Leg::Request,
                DropReason::DroppedWhileHeld,
            );
            return Err(RpcError::Unreachable);
        }
        if !plan.delay.is_zero() {
            time::sleep(plan.delay).await;
        }
        // Decided at arrival: the world may have changed in flight.
        let arrival = plan.lost.map(Err).unwrap_or_else(|| {
            let net = sim.net.borrow();
            net.still_valid(&self.name, &server_name, entry.id)?;
            if !net.link_up(client_node, entry.node) {
                return Err(DropReason::LinkDown);
            }
            Ok(())
        });
        if let Err(reason) = arrival {
            // The request never reached a handler of the server it was sent to.
            let reason = if reason == DropReason::ServerGone {
                DropReason::NoSuchServer
            } else {
                reason
            };
            drop_event(&sim, client_node, rpc, Leg::Request, reason);
            return Err(RpcError::Unreachable);
        }
        *sim.net
            .borrow_mut()
            .counts
            .entry(server_name.clone())
            .or_insert(0) += 1;
        trace::record_at(
            &sim,
            entry.node,
            EventKind::Deliver {
                rpc,
                from: client_node,
                method: method.into(),
            },
        );
        let mut dup_rx = futures::future::Fuse::terminated();
        if sim.net.borrow().duplication && crate::rand::gen_bool(DUPLICATE_PROBABILITY) {
            let (dup_tx, rx) = futures::channel::oneshot::channel();
            dup_rx = rx.fuse();
            let plan = plan_leg(&sim, &msg);
            let delay = uniform_below(DUPLICATE_SPREAD) + plan.delay;
            dup_event(&sim, entry.node, rpc, DuplicateStep::Scheduled);
            let dup = Duplicate {
                rpc,
                method,
                end: self.name.clone(),
                server: server_name.clone(),
                entry: entry.clone(),
                client: client_node,
                req: req.clone(),
            };
            let task = crate::task::spawn_on(entry.node, dup.run(plan.lost, delay, dup_tx));
            drop(task);
        }
        let (tx, mut rx) = futures::channel::oneshot::channel();
        let handler = entry.server.dispatch(method, req);
        let task = crate::task::spawn_on(entry.node, async move {
            let _ = tx.send(handler.await);
        });
        drop(task);

        // Wait for the handler, checking on the server every SERVER_POLL.
        let result = loop {
            let poll = time::sleep(SERVER_POLL);
            futures::select_biased! {
                r = rx => match r {
                    Ok(r) => break r,
                    // The handler was dropped: its node crashed. Notice it
                    // at the next check, as a real client would.
                    Err(_) => {
                        time::sleep_until(Instant::now() + uniform_below(SERVER_POLL)).await;
                        drop_event(&sim, client_node, rpc, Leg::Reply, DropReason::ServerCrashed);
                        return Err(RpcError::ServerGone);
                    }
                },
                r = dup_rx => {
                    // A duplicate's reply came first (it travelled already).
                    if let Ok(r) = r {
                        let bytes = r.as_ref().map_or(0, |r| r.len());
                        sim.net.borrow_mut().total_bytes += bytes as u64;
                        trace::record_at(
                            &sim,
                            client_node,
                            EventKind::Reply {
                                rpc,
                                from: entry.node,
                                bytes,
                            },
                        );
                        return r;
                    }
                }
                _ = poll.fuse() => {
                    let valid = sim.net.borrow().still_valid(&self.name, &server_name, entry.id);
                    if let Err(reason) = valid {
                        drop_event(&sim, client_node, rpc, Leg::Reply, reason);
                        return Err(gone_or_unreachable(reason));
                    }
                }
            }
        };
        // A duplicate's reply arriving from now on is discarded.
        drop(dup_rx);
        let valid = sim
            .net
            .borrow()
            .still_valid(&self.name, &server_name, entry.id);
        if let Err(reason) = valid {
            drop_event(&sim, client_node, rpc, Leg::Reply, reason);
            return Err(gone_or_unreachable(reason));
        }

        // The reply leg.
        let msg = Message {
            leg: Leg::Reply,
            from: entry.node,
            to: client_node,
            ..msg
        };
        let mut plan = if sim.net.borrow().link_up(entry.node, client_node) {
            plan_leg(&sim, &msg)
        } else {
            LegPlan {
                lost: Some(DropReason::LinkDown),
                delay: Duration::ZERO,
            }
        };
        if let Some(reason) = plan.lost {
            drop_event(&sim, client_node, rpc, Leg::Reply, reason);
            return Err(RpcError::Unreachable);
        }
        if sim.net.borrow().long_reordering && crate::rand::gen_bool(LONG_REORDER_PROBABILITY) {
            let spread = uniform_below(LONG_REORDER_SPREAD);
            plan.delay += LONG_REORDER_MIN + uniform_below(spread.max(Duration::from_nanos(1)));
        }
        if let Some(released) = capture(&sim, &msg)
            && released.await.is_err()
        {
            drop_event(
                &sim,
                client_node,
                rpc,
                Leg::Reply,
                DropReason::DroppedWhileHeld,
            );
            return Err(RpcError::Unreachable);
        }
        if !plan.delay.is_zero() {
            time::sleep(plan.delay).await;
        }
        if !sim.net.borrow().link_up(entry.node, client_node) {
            drop_event(&sim, client_node, rpc, Leg::Reply, DropReason::LinkDown);
            return Err(RpcError::Unreachable);
        }
        let bytes = result.as_ref().map_or(0, |r| r.len());
        sim.net.borrow_mut().total_bytes += bytes as u64;
        trace::record_at(
            &sim,
            client_node,
            EventKind::Reply {
                rpc,
                from: entry.node,
                bytes,
            },
        );
        result
    }
}

fn gone_or_unreachable(reason: DropReason) -> RpcError {
    if reason == DropReason::ServerGone {
        RpcError::ServerGone
    } else {
        RpcError::Unreachable
    }
}

/// If a hold matches `msg`, holds it: returns what fires on release.
fn capture(sim: &Sim, msg: &Message<'_>) -> Option<futures::channel::oneshot::Receiver<()>> {
    let (rx, hold) = {
        let mut net = sim.net.borrow_mut();
        let h = net
            .holds
            .iter_mut()
            .find(|h| h.remaining != Some(0) && h.filter.matches(msg))?;
        if let Some(r) = &mut h.remaining {
            *r -= 1;
        }
        let (tx, rx) = futures::channel::oneshot::channel();
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

fn dup_event(sim: &Sim, node: NodeId, rpc: u64, what: DuplicateStep) {
    trace::record_at(sim, node, EventKind::Duplicate { rpc, what });
}

/// A second copy of a delivered request.
struct Duplicate {
    rpc: u64,
    method: &'static str,
    end: Rc<str>,
    server: Rc<str>,
    entry: ServerEntry,
    client: NodeId,
    req: Vec<u8>,
}

impl Duplicate {
    /// Travels for `delay` (lost if `lost`), is delivered if the end, the
    /// server and the link are still there, and sends its reply back to
    /// the call (`reply`), which takes it if it is still waiting.
    async fn run(
        self,
        lost: Option<DropReason>,
        delay: Duration,
        reply: futures::channel::oneshot::Sender<Result<Vec<u8>, RpcError>>,
    ) {
        let sim = runtime::current();
        let (rpc, node) = (self.rpc, self.entry.node);
        time::sleep(delay).await;
        let arrival = lost.map(Err).unwrap_or_else(|| {
            let net = sim.net.borrow();
            net.still_valid(&self.end, &self.server, self.entry.id)?;
            if !net.link_up(self.client, node) {
                return Err(DropReason::LinkDown);
            }
            Ok(())
        });
        if let Err(reason) = arrival {
            dup_event(&sim, node, rpc, DuplicateStep::Lost(reason));
            return;
        }
        {
            let mut net = sim.net.borrow_mut();
            *net.counts.entry(self.server.clone()).or_insert(0) += 1;
            net.total_bytes += self.req.len() as u64;
        }
        dup_event(&sim, node, rpc, DuplicateStep::Delivered);
        let result = self.entry.server.dispatch(self.method, self.req).await;
        let msg = Message {
            rpc,
            leg: Leg::Reply,
            method: self.method,
            from: node,
            to: self.client,
            end: &self.end,
            server: &self.server,
        };
        let plan = {
            let valid = sim
                .net
                .borrow()
                .still_valid(&self.end, &self.server, self.entry.id);
            if let Err(reason) = valid {
                dup_event(&sim, node, rpc, DuplicateStep::Lost(reason));
                return;
            }
            if !sim.net.borrow().link_up(node, self.client) {
                dup_event(&sim, node, rpc, DuplicateStep::Lost(DropReason::LinkDown));
                return;
            }
            plan_leg(&sim, &msg)
        };
        if let Some(reason) = plan.lost {
            dup_event(&sim, node, rpc, DuplicateStep::Lost(reason));
            return;
        }
        time::sleep(plan.delay).await;
        if !sim.net.borrow().link_up(node, self.client) {
            dup_event(
                &sim,
                self.client,
                rpc,
                DuplicateStep::Lost(DropReason::LinkDown),
            );
            return;
        }
        match reply.send(result) {
            Ok(()) => dup_event(&sim, self.client, rpc, DuplicateStep::ReplyUsed),
            Err(_) => dup_event(&sim, self.client, rpc, DuplicateStep::ReplyDiscarded),
        }
    }
}

fn drop_event(sim: &Sim, node: NodeId, rpc: u64, leg: Leg, reason: DropReason) {
    trace::record_at(sim, node, EventKind::Drop { rpc, leg, reason });
}

/// Decides loss and latency of one leg: hooks, unreliable network, link.
fn plan_leg(sim: &Sim, msg: &Message<'_>) -> LegPlan {
    let (hooks, unreliable, config) = {
        let net = sim.net.borrow();
        let hooks: Vec<Hook> = net.hooks.iter().map(|(_, h)| h.clone()).collect();
        (hooks, net.unreliable, net.link_config(msg.from, msg.to))
    };
    let mut plan = LegPlan {
        lost: None,
        delay: Duration::ZERO,
    };
    for hook in hooks {
        match hook(msg) {
            Verdict::Deliver => {}
            Verdict::Drop => {
                plan.lost = Some(DropReason::Hook);
                break;
            }
            Verdict::Delay(d) => plan.delay += d,
        }
    }
    let config = config.unwrap_or_default();
    plan.delay += uniform(&config.latency);
    if unreliable {
        if msg.leg == Leg::Request {
            plan.delay += uniform_below(UNRELIABLE_JITTER);
        }
        if crate::rand::gen_bool(UNRELIABLE_DROP) && plan.lost.is_none() {
            plan.lost = Some(DropReason::Unreliable);
        }
    }
    if config.loss > 0.0 && crate::rand::gen_bool(config.loss) && plan.lost.is_none() {
        plan.lost = Some(DropReason::LossyLink);
    }
    plan
}
