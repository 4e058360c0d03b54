//! Nodes: simulated machines that crash and restart, and their durable
//! storage.
//!
//! Guarantees:
//! - Every task belongs to a node. Node 0, [`NodeId::TESTER`], runs the test
//!   body and cannot crash.
//! - [`crash`] is a crash-stop: every task of the node is dropped at once (no
//!   code of it runs again), and every RPC server it hosts is deleted, so
//!   pending calls to it fail and it never answers again. Only its
//!   [`Persister`] survives.
//! - [`restart`] makes the node alive again with an empty task set; the
//!   caller then builds a fresh instance from the persister (and adds its
//!   servers back).
//! - [`Persister::save`] replaces state and snapshot together, atomically:
//!   a crash observes either the old pair or the new one.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use serde::Serialize;

use crate::runtime;
use crate::trace::EventKind;

/// A node of the simulation; small integers in creation order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The node that runs the test body. It never crashes.
    pub const TESTER: NodeId = NodeId(0);
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

struct NodeState {
    name: Rc<str>,
    alive: bool,
    persister: Persister,
}

pub(crate) struct Nodes(Vec<NodeState>);

impl Nodes {
    pub fn new() -> Nodes {
        Nodes(vec![NodeState {
            name: "tester".into(),
            alive: true,
            persister: Persister::default(),
        }])
    }

    pub fn is_alive(&self, id: NodeId) -> bool {
        self.0.get(id.0 as usize).is_some_and(|n| n.alive)
    }

    pub fn name(&self, id: NodeId) -> Option<Rc<str>> {
        self.0.get(id.0 as usize).map(|n| n.name.clone())
    }

    fn get(&self, id: NodeId, what: &str) -> &NodeState {
        self.0.get(id.0 as usize).unwrap_or_else(|| {
            panic!(
                "labrpc::node::{what}: no node {id} (the simulation has {} nodes)",
                self.0.len()
            )
        })
    }
}

/// Creates a node named `name` (used in logs and traces), alive, with empty
/// storage.
pub fn create(name: impl Into<String>) -> NodeId {
    let sim = runtime::current();
    let name: String = name.into();
    let id = {
        let mut nodes = sim.nodes.borrow_mut();
        let id = NodeId(u32::try_from(nodes.0.len()).expect("too many nodes"));
        nodes.0.push(NodeState {
            name: name.as_str().into(),
            alive: true,
            persister: Persister::default(),
        });
        id
    };
    crate::trace::record_at(&sim, id, EventKind::NodeCreated { name: name.into() });
    id
}

/// Crashes `node`: drops all its tasks and deletes the servers it hosts.
/// Crashing a crashed node does nothing.
///
/// # Panics
/// If `node` is [`NodeId::TESTER`] or does not exist.
pub fn crash(node: NodeId) {
    assert!(
        node != NodeId::TESTER,
        "labrpc::node::crash: the tester node runs the test body and cannot crash"
    );
    let sim = runtime::current();
    {
        let mut nodes = sim.nodes.borrow_mut();
        let n = nodes.get(node, "crash").alive;
        if !n {
            return;
        }
        nodes.0[node.0 as usize].alive = false;
    }
    crate::trace::record_at(&sim, node, EventKind::Crash);
    sim.node_crashed(node);
    sim.drop_node_tasks(node);
}

/// Crashes the node of the running task and never returns: the task (and
/// every other task of the node) is dropped at this await. Use it for a
/// crash that happens in the middle of a node's own code.
///
/// (A plain [`crash`] of the current node also drops the calling task, but
/// only when it next returns `Pending`; until then its code keeps running.)
pub async fn crash_self() -> std::convert::Infallible {
    crash(current());
    std::future::pending().await
}

/// Brings a crashed node back with no tasks and its storage intact.
/// Restarting an alive node does nothing.
pub fn restart(node: NodeId) {
    let sim = runtime::current();
    {
        let mut nodes = sim.nodes.borrow_mut();
        if nodes.get(node, "restart").alive {
            return;
        }
        nodes.0[node.0 as usize].alive = true;
    }
    crate::trace::record_at(&sim, node, EventKind::Restart);
}

/// Whether `node` exists and is not crashed.
pub fn is_alive(node: NodeId) -> bool {
    runtime::current().nodes.borrow().is_alive(node)
}

/// The node of the running task.
pub fn current() -> NodeId {
    runtime::current().current_node.get()
}

/// The name `node` was created with.
pub fn name(node: NodeId) -> String {
    let sim = runtime::current();
    let nodes = sim.nodes.borrow();
    nodes.get(node, "name").name.to_string()
}

/// Runs `f` as if it were code of `node`: tasks it spawns belong to `node`,
/// and its log lines and trace events name `node`. Use it when the tester
/// calls into a node's code (e.g. `raft.start(cmd)`), so that work started
/// there dies with the node.
pub fn enter<R>(node: NodeId, f: impl FnOnce() -> R) -> R {
    struct Restore(NodeId);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(sim) = runtime::try_current() {
                sim.current_node.set(self.0);
            }
        }
    }
    let sim = runtime::current();
    let _ = sim.nodes.borrow().get(node, "enter");
    let _restore = Restore(sim.current_node.replace(node));
    drop(sim);
    f()
}

/// The durable storage of `node`: survives crashes and restarts.
pub fn persister(node: NodeId) -> Persister {
    let sim = runtime::current();
    let nodes = sim.nodes.borrow();
    nodes.get(node, "persister").persister.clone()
}

#[derive(Default, Clone)]
struct Saved {
    // Whole buffers as the writer handed them over: saving never copies.
    state: Rc<Vec<u8>>,
    snapshot: Rc<Vec<u8>>,
}

/// A node's durable storage: the 6.824 persister.
///
/// A cheap handle; clones share the same storage. Reads return copies, so
/// callers never alias what is on "disk".
#[derive(Clone, Default)]
pub struct Persister(Rc<RefCell<Saved>>);

impl Persister {
    /// Replaces the saved state and snapshot together, atomically. There is
    /// deliberately no way to save one without the other (as in 6.824): a
    /// peer must keep its snapshot in memory, reloaded at restart, or lose
    /// it on its next save.
    pub fn save(&self, state: Vec<u8>, snapshot: Vec<u8>) {
        *self.0.borrow_mut() = Saved {
            state: Rc::new(state),
            snapshot: Rc::new(snapshot),
        };
    }

    /// The last saved state (empty if none).
    pub fn read_state(&self) -> Vec<u8> {
        self.0.borrow().state.as_ref().clone()
    }

    /// The last saved snapshot (empty if none).
    pub fn read_snapshot(&self) -> Vec<u8> {
        self.0.borrow().snapshot.as_ref().clone()
    }

    /// Size in bytes of the saved state (what 6.824 calls RaftStateSize).
    pub fn state_size(&self) -> usize {
        self.0.borrow().state.len()
    }

    /// Size in bytes of the saved snapshot.
    pub fn snapshot_size(&self) -> usize {
        self.0.borrow().snapshot.len()
    }

    /// A new, independent persister holding the same contents.
    pub fn copy(&self) -> Persister {
        Persister(Rc::new(RefCell::new(self.0.borrow().clone())))
    }

    /// Forgets everything, as if the disk were replaced.
    pub fn clear(&self) {
        *self.0.borrow_mut() = Saved::default();
    }
}

impl fmt::Debug for Persister {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Persister")
            .field("state_size", &self.state_size())
            .field("snapshot_size", &self.snapshot_size())
            .finish()
    }
}
