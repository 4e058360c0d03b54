//! Chandy and Lamport's snapshot algorithm, at one process (part A).

// SOLUTION BEGIN
use std::collections::{BTreeMap, BTreeSet};
// SOLUTION END
// HANDOUT:

use crate::framework::app::{AppState, LocalSnapshot, ProcId, SnapshotId, Token};
use crate::framework::system::Outbox;

/// One process's part in every snapshot: those it is taking part in, and
/// those it has finished.
///
/// The framework calls it from the process's node, one call at a time, and
/// each call runs to its end before the process does anything else: no
/// token is sent or received during a call.
pub struct Snapshots {
    // SOLUTION BEGIN
    inbound: Vec<ProcId>,
    outbound: Vec<ProcId>,
    /// Snapshots this process has recorded its state for and still records
    /// channels of.
    running: BTreeMap<SnapshotId, Running>,
    /// Snapshots this process has finished.
    done: BTreeMap<SnapshotId, LocalSnapshot>,
    // SOLUTION END
    // HANDOUT: // Your state here (A).
}

// SOLUTION BEGIN
/// A snapshot in progress at this process.
struct Running {
    recorded: LocalSnapshot,
    /// Incoming channels whose marker has not arrived yet: still recorded.
    open: BTreeSet<ProcId>,
}
// SOLUTION END
// HANDOUT:

impl Snapshots {
    /// The algorithm at process `me`, which receives from `inbound` and
    /// sends to `outbound`.
    pub fn new(me: ProcId, inbound: &[ProcId], outbound: &[ProcId]) -> Snapshots {
        // SOLUTION BEGIN
        let _ = me;
        Snapshots {
            inbound: inbound.to_vec(),
            outbound: outbound.to_vec(),
            running: BTreeMap::new(),
            done: BTreeMap::new(),
        }
        // SOLUTION END
        // HANDOUT: let _ = (me, inbound, outbound);
        // HANDOUT: Snapshots {}
    }

    /// This process initiates snapshot `id` (a new id); `app` is its
    /// application state now.
    pub fn start(&mut self, id: SnapshotId, app: &AppState, out: &Outbox<'_>) {
        // SOLUTION BEGIN
        self.record(id, app, out);
        self.finish_if_done(id);
        // SOLUTION END
        // HANDOUT: let _ = (id, app, out);
        // HANDOUT: labrpc::not_implemented!("Snapshot A (Snapshots::start)")
    }

    /// A marker of snapshot `id` arrived from `from` (after every message
    /// `from` sent before it); `app` is this process's application state
    /// now.
    pub fn on_marker(&mut self, from: ProcId, id: SnapshotId, app: &AppState, out: &Outbox<'_>) {
        // SOLUTION BEGIN
        if self.done.contains_key(&id) {
            return;
        }
        if !self.running.contains_key(&id) {
            self.record(id, app, out);
        }
        let running = self.running.get_mut(&id).expect("recorded above");
        running.open.remove(&from);
        self.finish_if_done(id);
        // SOLUTION END
        // HANDOUT: let _ = (from, id, app, out);
        // HANDOUT: labrpc::not_implemented!("Snapshot A (Snapshots::on_marker)")
    }

    /// A token message arrived from `from`; the application has already
    /// added its tokens to its state.
    pub fn on_token(&mut self, from: ProcId, token: Token) {
        // SOLUTION BEGIN
        for running in self.running.values_mut() {
            if running.open.contains(&from) {
                running
                    .recorded
                    .channels
                    .get_mut(&from)
                    .expect("every incoming channel is recorded")
                    .push(token);
            }
        }
        // SOLUTION END
        // HANDOUT: let _ = (from, token);
        // HANDOUT: labrpc::not_implemented!("Snapshot A (Snapshots::on_token)")
    }

    /// What this process recorded for snapshot `id`: `Some` once it has
    /// finished its part (recorded its state and every incoming channel),
    /// `None` before.
    pub fn local_snapshot(&self, id: SnapshotId) -> Option<LocalSnapshot> {
        // SOLUTION BEGIN
        self.done.get(&id).cloned()
        // SOLUTION END
        // HANDOUT: let _ = id;
        // HANDOUT: labrpc::not_implemented!("Snapshot A (Snapshots::local_snapshot)")
    }

    // SOLUTION BEGIN
    /// Records this process's state for snapshot `id`, starts recording
    /// every incoming channel, and sends a marker on every outgoing one.
    fn record(&mut self, id: SnapshotId, app: &AppState, out: &Outbox<'_>) {
        let recorded = LocalSnapshot {
            state: app.clone(),
            channels: self.inbound.iter().map(|&p| (p, Vec::new())).collect(),
        };
        let open = self.inbound.iter().copied().collect();
        self.running.insert(id, Running { recorded, open });
        for &q in &self.outbound {
            out.send_marker(q, id);
        }
    }

    /// Moves snapshot `id` to the finished ones once every incoming
    /// channel's marker has arrived.
    fn finish_if_done(&mut self, id: SnapshotId) {
        if self.running.get(&id).is_some_and(|r| r.open.is_empty()) {
            let running = self.running.remove(&id).expect("just found");
            self.done.insert(id, running.recorded);
        }
    }
    // SOLUTION END
    // HANDOUT:
}
