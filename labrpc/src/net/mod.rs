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
//!    link or a hook may drop it too. A lost request fails the call when it
//!    would have arrived.
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
//!    (The checks are set up only if the handler's first poll does not
//!    answer: most handlers answer at once.)
//! 6. When the handler returns, the same checks run again (so a deleted
//!    server never acknowledges anything), then the reply leg is decided at
//!    once, in the handler's task: the link back must be up, an unreliable
//!    network loses the reply with probability [`UNRELIABLE_DROP`] **after
//!    the handler ran** (this is what tests duplicate detection), lossy
//!    links and hooks apply. With [`Network::set_long_reordering`] a reply
//!    is held back, with probability [`LONG_REORDER_PROBABILITY`], for
//!    `LONG_REORDER_MIN + U(0..U(0..LONG_REORDER_SPREAD))`. The reply then
//!    travels for the link latency; the caller is woken when it arrives.
//! 7. At arrival the link back must still be up; a delivered reply adds its
//!    encoded size to the total bytes.
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

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::rc::Rc;
use std::time::Duration;

use crate::node::NodeId;
use crate::rpc::Server;
use crate::runtime::{self, Sim};
use crate::trace::{self, DropReason, EventKind, Leg};

mod call;
mod hold;

pub(crate) use call::CallShared;
pub use call::ClientEnd;
pub use hold::{Filter, HoldId};

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

/// A client end's state, shared by the network's table and every
/// [`ClientEnd`] handle of it: a call reaches its end without a lookup.
pub(crate) struct EndState {
    name: Rc<str>,
    /// The network it belongs to (found without a lookup by each call).
    net: std::rc::Weak<Net>,
    node: NodeId,
    server: RefCell<Option<Rc<str>>>,
    enabled: Cell<bool>,
    /// Removed from the table ([`Network::delete_end`]): a handle then looks
    /// its name up again, as 6.824's ends do.
    deleted: Cell<bool>,
}

/// One server under its name, from [`Network::add_server`] until it is
/// deleted, replaced or its node crashes (then `live` turns false: calls
/// in flight to it fail).
pub(crate) struct ServerSlot {
    node: NodeId,
    server: Server,
    live: Cell<bool>,
    /// The count of its name (carried over by a replacement).
    count: Rc<Cell<u64>>,
}

/// The network's state, owned by the simulation.
#[derive(Default)]
pub(crate) struct NetState {
    unreliable: bool,
    long_delays: bool,
    long_reordering: bool,
    duplication: bool,
    ends: BTreeMap<Rc<str>, Rc<EndState>>,
    servers: BTreeMap<Rc<str>, Rc<ServerSlot>>,
    counts: BTreeMap<Rc<str>, Rc<Cell<u64>>>,
    links: BTreeMap<(NodeId, NodeId), Link>,
    hooks: Vec<(HookId, Hook)>,
    next_hook: u64,
    holds: Vec<hold::HoldState>,
    next_hold: u64,
    next_rpc: u64,
    next_auto_end: u64,
    total_rpcs: u64,
    total_bytes: u64,
}

impl NetState {
    fn link_up(&self, from: NodeId, to: NodeId) -> bool {
        from == to || !self.links.get(&(from, to)).is_some_and(|l| l.down)
    }

    fn link_config(&self, from: NodeId, to: NodeId) -> Option<&LinkConfig> {
        self.links.get(&(from, to)).and_then(|l| l.config.as_ref())
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

    /// The state `end` names now: its own, unless it was deleted (then
    /// whatever end has its name now, if any).
    fn end<'a>(&'a self, end: &'a ClientEnd) -> Option<&'a EndState> {
        if end.state.deleted.get() {
            self.ends.get(&end.state.name).map(|e| &**e)
        } else {
            Some(&end.state)
        }
    }

    fn end_named(&self, end: &str) -> &Rc<EndState> {
        self.ends
            .get(end)
            .unwrap_or_else(|| panic!("labrpc::Network: no end named {end:?}"))
    }

    /// Whether `end` is still enabled and `slot` still its server's; the
    /// reason otherwise.
    fn still_valid(&self, end: &ClientEnd, slot: &ServerSlot) -> Result<(), DropReason> {
        if !self.end(end).is_some_and(|e| e.enabled.get()) {
            return Err(DropReason::EndDisabled);
        }
        if !slot.live.get() {
            return Err(DropReason::ServerGone);
        }
        Ok(())
    }

    /// Whether a message of the call on `end` to `slot` can go from `from`
    /// to `to` now: the end enabled, the server live and the link up (in
    /// that order: the first that fails is the reason).
    fn deliverable(
        &self,
        end: &ClientEnd,
        slot: &ServerSlot,
        from: NodeId,
        to: NodeId,
    ) -> Result<(), DropReason> {
        self.still_valid(end, slot)?;
        if self.link_up(from, to) {
            Ok(())
        } else {
            Err(DropReason::LinkDown)
        }
    }

    /// Removes the server `name`, if any; it is no longer live.
    fn remove_server(&mut self, name: &str) -> Option<Rc<ServerSlot>> {
        let slot = self.servers.remove(name)?;
        slot.live.set(false);
        Some(slot)
    }
}

/// The network, a plugin of the runtime: its state, one per simulation.
#[derive(Default)]
pub(crate) struct Net(RefCell<NetState>);

impl std::ops::Deref for Net {
    type Target = RefCell<NetState>;
    fn deref(&self) -> &RefCell<NetState> {
        &self.0
    }
}

impl runtime::Plugin for Net {
    /// Deletes every server hosted on the crashed node.
    fn node_crashed(&self, sim: &Sim, node: NodeId) {
        detach_node(sim, self, node);
    }
}

/// The network of `sim`.
fn net_of(sim: &Sim) -> Rc<Net> {
    sim.plugin::<Net>()
}

/// Deletes every server hosted on a crashing node.
fn detach_node(sim: &Sim, net: &Net, node: NodeId) {
    let removed: Vec<Rc<str>> = {
        let mut net = net.borrow_mut();
        let names: Vec<Rc<str>> = net
            .servers
            .iter()
            .filter(|(_, s)| s.node == node)
            .map(|(n, _)| n.clone())
            .collect();
        for n in &names {
            net.remove_server(n);
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
        let net = net_of(&runtime::current());
        let mut net = net.borrow_mut();
        f(&mut net)
    }

    /// Creates a client end named `name` whose messages leave from `node`.
    /// As in 6.824 it starts disabled and unconnected.
    ///
    /// # Panics
    /// If an end with this name exists.
    pub fn make_end(&self, name: impl Into<String>, node: NodeId) -> ClientEnd {
        let name: Rc<str> = name.into().into();
        let state = Rc::new(EndState {
            name: name.clone(),
            net: Rc::downgrade(&net_of(&runtime::current())),
            node,
            server: RefCell::new(None),
            enabled: Cell::new(false),
            deleted: Cell::new(false),
        });
        self.with(|net| {
            assert!(
                !net.ends.contains_key(&name),
                "labrpc::Network::make_end: an end named {name:?} already exists"
            );
            net.ends.insert(name, state.clone());
        });
        ClientEnd { state }
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
        self.with(|net| *net.end_named(end).server.borrow_mut() = Some(server.into()));
    }

    /// Enables or disables end `end`. A disabled end's calls fail as if the
    /// server were unreachable.
    ///
    /// # Panics
    /// If there is no such end.
    pub fn enable(&self, end: &str, enabled: bool) {
        let sim = runtime::current();
        let node = {
            let net = net_of(&sim);
            let net = net.borrow();
            let e = net.end_named(end);
            let changed = e.enabled.replace(enabled) != enabled;
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
        self.with(|net| net.ends.get(end).is_some_and(|e| e.enabled.get()))
    }

    /// Deletes end `end`; its pending and future calls fail.
    pub fn delete_end(&self, end: &str) {
        self.with(|net| {
            if let Some(e) = net.ends.remove(end) {
                e.deleted.set(true);
            }
        });
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
            let net = net_of(&sim);
            let mut net = net.borrow_mut();
            net.remove_server(&name);
            let count = net.counts.entry(name.clone()).or_default().clone();
            let slot = ServerSlot {
                node,
                server,
                live: Cell::new(true),
                count,
            };
            net.servers.insert(name.clone(), Rc::new(slot));
        }
        trace::record_at(&sim, node, EventKind::ServerAdded { server: name });
    }

    /// Deletes the server `name`: it never answers again, and calls pending
    /// on it fail (their handlers keep running; results are discarded).
    pub fn delete_server(&self, name: &str) {
        let sim = runtime::current();
        let removed = net_of(&sim).borrow_mut().remove_server(name);
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
        self.with(|net| net.counts.get(name).map_or(0, |c| c.get()))
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

    /// Splits `groups` of nodes from each other: a link between two listed
    /// nodes is up iff they are in the same group. Links that involve an
    /// unlisted node are unchanged.
    pub fn partition(&self, groups: &[&[NodeId]]) {
        let sim = runtime::current();
        {
            let net = net_of(&sim);
            let mut net = net.borrow_mut();
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
        net_of(&sim)
            .borrow_mut()
            .links
            .values_mut()
            .for_each(|l| l.down = false);
        trace::record(&sim, EventKind::Heal);
    }

    fn set_link_state(&self, from: NodeId, to: NodeId, up: bool) {
        let sim = runtime::current();
        let changed = net_of(&sim).borrow_mut().set_up(from, to, up);
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
