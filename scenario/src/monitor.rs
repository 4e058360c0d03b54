//! Safety monitors and coverage, on in every scenario run (and so in every
//! `lab fuzz` run).
//!
//! They see what the grader sees, nothing more: each peer's `state()`
//! (polled every [`POLL`] while elections go on, ten times less often in between), the apply channel, what `start` returns, and
//! the faults the run injects. So they work on a student's Raft as on the
//! reference. The properties (Raft paper, Figure 3):
//!
//! - **election safety**: at most one leader per term, ever;
//! - **persistent term**: a peer's term never goes back, across restarts;
//! - **state machine safety / log matching**: every peer applies the same
//!   command, with the same term, at an index;
//! - **applied index never goes back**: a peer applies index `k + 1` after
//!   `k`, from 1 again after a restart (no snapshots in scenarios);
//! - **leader completeness**: when index `j` is first applied, no peer's
//!   term is above some `B`; a leader of a term above `B` must then hold
//!   entry `j`, so its `start` returns an index above `j`.
//!
//! Coverage counts named situations (Antithesis's "sometimes" assertions):
//! a run that never reaches them tests little.

use std::collections::BTreeMap;
use std::time::Duration;

/// How often the monitor polls every peer's state while elections go on.
pub const POLL: Duration = Duration::from_millis(20);
/// How long after a RequestVote message the monitor polls every [`POLL`]
/// (then every tenth time, until the next).
pub const DENSE: Duration = Duration::from_secs(3);

/// The situations coverage counts, in table order.
pub const SITUATIONS: &[&str] = &[
    "leader elected",
    "new leader after the leader crashed",
    "leader deposed holding uncommitted entries",
    "uncommitted entry overwritten",
    "two peers lead at once (different terms)",
    "term jumped by 3 or more at once",
    "terms passed with no leader (split votes)",
    "leader cut off from a majority",
    "stale leader accepted a command",
    "commit while a peer is down",
    "every peer down at once",
    "restarted peer re-applied its log",
    "a peer led two different terms",
    "100 entries committed",
];

/// Whether situation `k` of [`SITUATIONS`] can be observed in `lab`: those
/// that watch `start` and the apply channel need lab = "raft" (in kvraft
/// the servers read them).
pub fn observable_in(lab: crate::Lab, k: usize) -> bool {
    const APPLY_CHANNEL: [usize; 6] = [2, 3, 8, 9, 11, 13];
    lab == crate::Lab::Raft || !APPLY_CHANNEL.contains(&k)
}

/// What one peer looks like from outside at one instant.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seen {
    /// (term, leads), None while crashed.
    pub state: Option<(u64, bool)>,
    /// Peers it can reach (its outgoing links up to other peers).
    pub reach: usize,
}

/// The monitors' memory of one run.
#[derive(Debug)]
pub struct Monitor {
    n: usize,
    /// Per index: (first peer to apply it, command, term).
    first: BTreeMap<u64, (usize, Vec<u8>, u64)>,
    /// Per index: the highest term any peer had when it was first applied.
    bound: BTreeMap<u64, u64>,
    last_applied: Vec<u64>,
    leaders: BTreeMap<u64, usize>,
    max_term: Vec<u64>,
    prev: Vec<Option<(u64, bool)>>,
    /// Commands `start` accepted and not yet seen applied: index -> (peer,
    /// term, command).
    pending: BTreeMap<u64, (usize, u64, Vec<u8>)>,
    crashed: Vec<bool>,
    crashed_leader: Option<usize>,
    restarted: Vec<bool>,
    led: Vec<Vec<u64>>,
    top_term_with_leader: u64,
    /// Situation -> times reached.
    counts: Vec<u64>,
}

impl Monitor {
    /// A monitor for `n` peers.
    pub fn new(n: usize) -> Monitor {
        Monitor {
            n,
            first: BTreeMap::new(),
            bound: BTreeMap::new(),
            last_applied: vec![0; n],
            leaders: BTreeMap::new(),
            max_term: vec![0; n],
            prev: vec![None; n],
            pending: BTreeMap::new(),
            crashed: vec![false; n],
            crashed_leader: None,
            restarted: vec![false; n],
            led: vec![Vec::new(); n],
            top_term_with_leader: 0,
            counts: vec![0; SITUATIONS.len()],
        }
    }

    /// Situation `k` of [`SITUATIONS`] was reached once more.
    fn hit(&mut self, k: usize) {
        self.counts[k] += 1;
    }

    /// Coverage so far: situation -> times reached.
    pub fn coverage(&self) -> BTreeMap<&'static str, u64> {
        SITUATIONS
            .iter()
            .copied()
            .zip(self.counts.iter().copied())
            .collect()
    }

    /// The highest index any peer applied.
    pub fn max_applied(&self) -> u64 {
        self.first.keys().next_back().copied().unwrap_or(0)
    }

    /// Whether some peer applied `index` already.
    pub fn knows(&self, index: u64) -> bool {
        self.first.contains_key(&index)
    }

    /// Per peer, the highest index applied since its last (re)start.
    pub fn last_applied(&self, i: usize) -> u64 {
        self.last_applied[i]
    }

    /// Peer `i` crashed (`was_leader`: it believed it led).
    pub fn crashed(&mut self, i: usize, was_leader: bool) {
        self.crashed[i] = true;
        if was_leader {
            self.crashed_leader = Some(i);
        }
        if self.crashed.iter().all(|&c| c) {
            self.hit(10) /* every peer down at once */;
        }
    }

    /// Peer `i` restarted from its persister.
    pub fn restarted(&mut self, i: usize) {
        self.crashed[i] = false;
        self.restarted[i] = true;
        self.last_applied[i] = 0;
        self.prev[i] = None;
    }

    /// Peer `i` applied a command (`terms`: every live peer's term now).
    pub fn applied(
        &mut self,
        i: usize,
        index: u64,
        term: u64,
        command: &[u8],
        terms: &[Option<u64>],
    ) -> Result<(), (&'static str, String)> {
        let last = self.last_applied[i];
        if index != last + 1 {
            return Err((
                "applied index order",
                format!(
                    "peer {i} applied index {index} right after {last}: a peer applies every index \
                     once, in order ({})",
                    if index <= last {
                        "did lastApplied or commitIndex go back?"
                    } else {
                        "an index was skipped"
                    }
                ),
            ));
        }
        self.last_applied[i] = index;
        if self.restarted[i] && index == 5 {
            self.hit(11) /* restarted peer re-applied its log */;
        }
        match self.first.get(&index) {
            Some((j, c, t)) if c.as_slice() != command || *t != term => {
                return Err((
                    "state machine safety",
                    format!(
                        "peer {i} applied {} (term {term}) at index {index}, but peer {j} applied \
                         {} (term {t}) there: a committed entry never changes (log matching, \
                         commit rule)",
                        crate::run::show_cmd(command),
                        crate::run::show_cmd(c)
                    ),
                ));
            }
            Some(_) => {}
            None => {
                self.first.insert(index, (i, command.to_vec(), term));
                let b = terms
                    .iter()
                    .flatten()
                    .copied()
                    .chain(self.max_term.iter().copied());
                self.bound.insert(index, b.max().unwrap_or(0));
                if self.crashed.iter().any(|&c| c) {
                    self.hit(9) /* commit while a peer is down */;
                }
                if index == 100 {
                    self.hit(13) /* 100 entries committed */;
                }
            }
        }
        if let Some((_, _, c)) = self.pending.get(&index) {
            if c.as_slice() != command {
                self.hit(3) /* uncommitted entry overwritten */;
            }
            self.pending.remove(&index);
        }
        Ok(())
    }

    /// `start` on peer `i` accepted a command at `index` in `term`.
    pub fn started(
        &mut self,
        i: usize,
        index: u64,
        term: u64,
        command: &[u8],
    ) -> Result<(), (&'static str, String)> {
        if let Some((&j, &b)) = self.bound.range(index..).find(|&(_, &b)| b < term) {
            return Err((
                "leader completeness",
                format!(
                    "peer {i}, leader of term {term}, put a new command at index {index}, but \
                     index {j} was committed while no peer's term was above {b}: a leader of a \
                     later term holds every committed entry (is the vote's up-to-date check \
                     right? does a candidate count only votes granted in its current term?)"
                ),
            ));
        }
        if self.max_term.iter().any(|&t| t > term) {
            self.hit(8) /* stale leader accepted a command */;
        }
        self.pending.insert(index, (i, term, command.to_vec()));
        Ok(())
    }

    /// Looks at every peer once.
    pub fn poll(&mut self, seen: &[Seen]) -> Result<(), (&'static str, String)> {
        let mut leading = Vec::new();
        for (i, s) in seen.iter().enumerate() {
            let Some((term, leads)) = s.state else {
                continue;
            };
            if term < self.max_term[i] {
                return Err((
                    "persistent term",
                    format!(
                        "peer {i} is in term {term} but was in term {} before: a term never goes \
                         back (is currentTerm persisted before it is used?)",
                        self.max_term[i]
                    ),
                ));
            }
            if let Some((t0, _)) = self.prev[i]
                && term >= t0 + 3
            {
                self.hit(5) /* term jumped by 3 or more at once */;
            }
            self.max_term[i] = term;
            if leads {
                let first = *self.leaders.entry(term).or_insert(i);
                if first != i {
                    return Err((
                        "election safety",
                        format!(
                            "peers {first} and {i} both led term {term}: at most one leader per \
                             term (is votedFor persisted, one vote per term?)"
                        ),
                    ));
                }
                leading.push((i, term));
            }
        }
        self.coverage_of(seen, &leading);
        for (i, s) in seen.iter().enumerate() {
            self.prev[i] = s.state;
        }
        Ok(())
    }

    fn coverage_of(&mut self, seen: &[Seen], leading: &[(usize, u64)]) {
        let top = self.max_term.iter().copied().max().unwrap_or(0);
        if leading.is_empty()
            && top >= self.top_term_with_leader + 3
            && self.top_term_with_leader > 0
        {
            self.hit(6) /* terms passed with no leader (split votes) */;
            self.top_term_with_leader = top;
        }
        if leading.len() >= 2 {
            self.hit(4) /* two peers lead at once (different terms) */;
        }
        for &(i, term) in leading {
            self.top_term_with_leader = self.top_term_with_leader.max(term);
            let new = self.prev[i] != Some((term, true));
            if !new {
                if (seen[i].reach + 1) * 2 <= self.n {
                    self.hit(7) /* leader cut off from a majority */;
                }
                continue;
            }
            self.hit(0) /* leader elected */;
            if self.crashed_leader.is_some_and(|c| c != i) {
                self.hit(1) /* new leader after the leader crashed */;
                self.crashed_leader = None;
            }
            if !self.led[i].contains(&term) {
                self.led[i].push(term);
                if self.led[i].len() == 2 {
                    self.hit(12) /* a peer led two different terms */;
                }
            }
        }
        // A leader seen before that no longer leads its term.
        for (i, s) in seen.iter().enumerate() {
            if let Some((t, true)) = self.prev[i]
                && s.state != Some((t, true))
            {
                let applied = self.max_applied();
                let holds = self
                    .pending
                    .iter()
                    .any(|(&idx, &(p, pt, _))| p == i && pt == t && idx > applied);
                if holds {
                    self.hit(2) /* leader deposed holding uncommitted entries */;
                }
            }
        }
    }
}
