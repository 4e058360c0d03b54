//! Swarm fault testing: a seed draws a scenario (which fault kinds are on,
//! how hard, when), the scenario runs with the safety monitors on, then a
//! liveness phase heals everything and demands progress. A failing seed's
//! plan is shrunk (faults dropped, intervals shortened, network knobs
//! turned off, while the same failure remains) and written as a scenario
//! file that `lab scenario` replays to the same failure.
//!
//! Swarm testing (Groce et al., ISSTA 2012): rather than every fault kind
//! a little in every run, each run turns a random subset of kinds on, hard,
//! so that combinations a fixed mix never reaches come up.

use std::fmt::Write as _;

use kvraft::rpc::kv::method as kv_method;
use raft::rpc::raft::method as raft_method;

use crate::run::Outcome;
use crate::spec::{Lab, Scenario, SpecError};

/// Virtual seconds of the fault phase.
pub const FAULT_PHASE: f64 = 10.0;
/// Virtual seconds the liveness phase allows for progress (raft).
pub const LIVENESS_RAFT: f64 = 5.0;
/// Virtual seconds the liveness phase allows for progress (kvraft).
pub const LIVENESS_KV: f64 = 10.0;

/// A small deterministic generator (SplitMix64): the plan depends on the
/// seed only, never on the simulation.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
    fn subset(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut all: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            all.swap(i, self.below(i as u64 + 1) as usize);
        }
        all.truncate(k);
        all.sort();
        all
    }
}

/// One fault kind, with its parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// Split into two groups, healed at the end.
    Partition(Vec<usize>),
    /// One-way cuts from..to, restored at the end.
    Cut(Vec<usize>, Vec<usize>),
    /// Cut a peer off both ways.
    Isolate(usize),
    /// Cut whoever leads off both ways.
    IsolateLeader,
    /// Crash peers, restart them at the end.
    Crash(Vec<usize>),
    /// Crash whoever leads.
    CrashLeader,
    /// Links from..to get their own latency (ms) and loss.
    Slow(Vec<usize>, Vec<usize>, u64, u64, f64),
    /// A method's messages delayed (ms): held and released late.
    Delay(&'static str, u64),
    /// A method's messages dropped.
    Drop(&'static str),
    /// 6.824's unreliable network.
    Unreliable,
    /// A peer flapping: isolated and reconnected every `period` s, n times.
    Flap(usize, f64, u32),
    /// Leader churn (Figure 8's test): whoever leads crashes every
    /// `period` s, n times, and every peer restarts in between.
    Churn(f64, u32),
}

/// A fault: a kind from `at` for `len` virtual seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// When it starts.
    pub at: f64,
    /// How long it lasts.
    pub len: f64,
    /// What.
    pub kind: Kind,
}

/// A drawn run: the cluster, the network knobs, the workload and faults.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The lab.
    pub lab: Lab,
    /// The seed (of the plan and of the simulation).
    pub seed: u64,
    /// Peers.
    pub peers: usize,
    /// Network knobs, each on or off for the whole run.
    pub duplication: bool,
    /// Long delays for undeliverable calls.
    pub long_delays: bool,
    /// Long reordering of replies.
    pub long_reordering: bool,
    /// Client operations per virtual second.
    pub rate: f64,
    /// The faults, in time order.
    pub faults: Vec<Fault>,
}

const KINDS: usize = 11;

/// Draws the plan of `seed` for `lab`.
pub fn plan(lab: Lab, seed: u64) -> Plan {
    let mut r = Rng(seed ^ 0x5EED_F022_0000_0000);
    let peers = if r.chance(0.5) { 3 } else { 5 };
    // The swarm: which fault kinds this run has (at least one), and how
    // many faults.
    let mut on: Vec<bool> = (0..KINDS).map(|_| r.chance(0.4)).collect();
    let pick = r.below(KINDS as u64) as usize;
    on[pick] = true;
    let kinds: Vec<usize> = (0..KINDS).filter(|&k| on[k]).collect();
    let count = 2 + r.below(14) as usize;
    let mut faults: Vec<Fault> = (0..count)
        .map(|_| {
            let k = kinds[r.below(kinds.len() as u64) as usize];
            let at = r.range(0.5, FAULT_PHASE - 0.5);
            let len = r.range(0.1, 3.0).min(FAULT_PHASE - at);
            Fault {
                at: round(at),
                len: round(len),
                kind: draw_kind(&mut r, lab, k, peers),
            }
        })
        .collect();
    faults.sort_by(|a, b| a.at.total_cmp(&b.at));
    Plan {
        lab,
        seed,
        peers,
        duplication: r.chance(0.5),
        long_delays: r.chance(0.5),
        long_reordering: r.chance(0.3),
        rate: round(r.range(2.0, if lab == Lab::Raft { 50.0 } else { 20.0 })),
        faults,
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn draw_kind(r: &mut Rng, lab: Lab, k: usize, n: usize) -> Kind {
    let methods: &[&'static str] = match lab {
        Lab::Raft => &[raft_method::request_vote, raft_method::append_entries],
        Lab::Kvraft => &[
            raft_method::request_vote,
            raft_method::append_entries,
            kv_method::command,
        ],
        Lab::Shardkv1 | Lab::Gfs | Lab::Snapshot => {
            unreachable!("lab fuzz draws raft and kvraft plans")
        }
    };
    let method = methods[r.below(methods.len() as u64) as usize];
    match k {
        0 => {
            let size = 1 + r.below(n as u64 / 2) as usize;
            Kind::Partition(r.subset(n, size))
        }
        1 => {
            let k = 1 + r.below(n as u64 - 1) as usize;
            let from = r.subset(n, k);
            let rest: Vec<usize> = (0..n).filter(|i| !from.contains(i)).collect();
            let to = if r.chance(0.5) {
                rest
            } else {
                vec![rest[r.below(rest.len() as u64) as usize]]
            };
            Kind::Cut(from, to)
        }
        2 => {
            if r.chance(0.5) {
                Kind::IsolateLeader
            } else {
                Kind::Isolate(r.below(n as u64) as usize)
            }
        }
        3 => {
            let size = match r.below(3) {
                0 => 1,
                1 => n / 2,
                _ => n,
            };
            Kind::Crash(r.subset(n, size))
        }
        4 => Kind::CrashLeader,
        5 => {
            let (k1, k2) = (
                1 + r.below(n as u64) as usize,
                1 + r.below(n as u64) as usize,
            );
            let from = r.subset(n, k1);
            let to = r.subset(n, k2);
            let lo = 10 + r.below(300);
            Kind::Slow(from, to, lo, lo + r.below(500), round(r.range(0.0, 0.5)))
        }
        6 => Kind::Delay(method, 100 + r.below(3000)),
        7 => Kind::Drop(method),
        8 => Kind::Unreliable,
        9 => Kind::Churn(round(r.range(0.2, 1.0)), 3 + r.below(18) as u32),
        _ => Kind::Flap(
            r.below(n as u64) as usize,
            round(r.range(0.1, 1.0)),
            2 + r.below(6) as u32,
        ),
    }
}

fn set(v: &[usize]) -> String {
    let v: Vec<String> = v.iter().map(|i| i.to_string()).collect();
    format!("[{}]", v.join(", "))
}

fn step(out: &mut String, at: f64, body: &str) {
    let _ = write!(out, "\n[[step]]\nat = {}\n{body}\n", round(at));
}

impl Fault {
    /// Its steps, as TOML; `k` names what it binds.
    fn toml(&self, out: &mut String, k: usize, n: usize) {
        let (a, b) = (self.at, self.at + self.len);
        match &self.kind {
            Kind::Partition(g) => {
                step(out, a, &format!("partition = [{}, [\"rest\"]]", set(g)));
                step(out, b, "heal = true");
            }
            Kind::Cut(f, t) => {
                step(out, a, &format!("cut = [{}, {}]", set(f), set(t)));
                step(out, b, &format!("restore = [{}, {}]", set(f), set(t)));
            }
            Kind::Isolate(p) => {
                step(out, a, &format!("isolate = {p}"));
                step(out, b, &format!("reconnect = {p}"));
            }
            Kind::IsolateLeader | Kind::CrashLeader => {
                let (on, off) = match self.kind {
                    Kind::IsolateLeader => ("isolate", "reconnect"),
                    _ => ("crash", "restart"),
                };
                step(out, a, &format!("bind = {{ L{k} = \"leader\" }}"));
                step(out, a, &format!("{on} = \"L{k}\""));
                step(out, b, &format!("{off} = \"L{k}\""));
            }
            Kind::Crash(v) => {
                step(out, a, &format!("crash = {}", set(v)));
                step(out, b, &format!("restart = {}", set(v)));
            }
            Kind::Slow(f, t, lo, hi, loss) => {
                let body = format!(
                    "slow = [{}, {}]\nlatency_ms = [{lo}, {hi}]\nloss = {loss}",
                    set(f),
                    set(t)
                );
                step(out, a, &body);
                step(
                    out,
                    b,
                    &format!("slow = [{}, {}]\nlatency_ms = [1, 2]", set(f), set(t)),
                );
            }
            Kind::Delay(m, ms) => {
                step(out, a, &format!("delay = \"{m}\"\nby_ms = {ms}"));
                step(out, b, &format!("deliver = \"{m}\""));
            }
            Kind::Drop(m) => {
                step(out, a, &format!("drop = \"{m}\""));
                step(out, b, &format!("deliver = \"{m}\""));
            }
            Kind::Unreliable => {
                step(out, a, "reliable = false");
                step(out, b, "reliable = true");
            }
            Kind::Churn(period, times) => {
                let r = format!("every = {period}\ntimes = {times}");
                step(out, a, &format!("crash = \"leader\"\n{r}"));
                step(out, a + period * 0.6, &format!("restart = \"all\"\n{r}"));
            }
            Kind::Flap(p, period, times) => {
                let p = p % n;
                step(
                    out,
                    a,
                    &format!("isolate = {p}\nevery = {period}\ntimes = {times}"),
                );
                step(
                    out,
                    a + period / 2.0,
                    &format!("reconnect = {p}\nevery = {period}\ntimes = {times}"),
                );
            }
        }
    }
}

impl Plan {
    /// When the fault phase ends (every fault undone by then).
    pub fn fault_end(&self) -> f64 {
        let last = self
            .faults
            .iter()
            .map(|f| f.at + f.len + flap_tail(f))
            .fold(0.0, f64::max);
        round(last.max(FAULT_PHASE))
    }

    fn liveness(&self) -> f64 {
        match self.lab {
            Lab::Raft => LIVENESS_RAFT,
            Lab::Kvraft => LIVENESS_KV,
            Lab::Shardkv1 | Lab::Gfs | Lab::Snapshot => {
                unreachable!("lab fuzz draws raft and kvraft plans")
            }
        }
    }

    /// The plan as a scenario file.
    pub fn toml(&self, title: &str, description: &str) -> String {
        let end = self.fault_end();
        let mut out = format!(
            "title = {title:?}\ndescription = \"\"\"\n{description}\n\"\"\"\nlab = \"{}\"\nseed = {}\n\
             duration = {}\nskip_unresolved = true\n\n[cluster]\npeers = {}\nduplication = {}\n\
             long_delays = {}\nlong_reordering = {}\n",
            self.lab.name(),
            self.seed,
            round(end + self.liveness() + 1.0),
            self.peers,
            self.duplication,
            self.long_delays,
            self.long_reordering
        );
        let ops = if self.lab == Lab::Kvraft {
            "keys = [\"a\", \"b\", \"c\"]\nops = \"mixed\"\n"
        } else {
            ""
        };
        let clients = if self.lab == Lab::Kvraft { 3 } else { 1 };
        for _ in 0..clients {
            let _ = write!(
                out,
                "\n[[client]]\nrate = {}\nuntil = {end}\n{ops}",
                self.rate
            );
        }
        for (k, f) in self.faults.iter().enumerate() {
            f.toml(&mut out, k, self.peers);
        }
        let _ = write!(
            out,
            "\n# The liveness phase: every fault undone, progress required.\n"
        );
        for body in ["heal = true", "restart = \"all\"", "reliable = true"] {
            step(&mut out, end, body);
        }
        let _ = write!(
            out,
            "\n[[expect]]\nat = {}\nwithin = {}\nprogress = true\n",
            round(end + 0.01),
            self.liveness()
        );
        if self.lab == Lab::Kvraft {
            out.push_str("\n[[expect]]\nlinearizable = true\n");
        }
        out
    }

    /// The plan as a checked scenario.
    pub fn scenario(&self) -> Result<Scenario, SpecError> {
        let name = format!("fuzz-{}-{}.toml", self.lab.name(), self.seed);
        crate::spec::parse(&name, &self.toml("fuzz", "generated"))
    }
}

fn flap_tail(f: &Fault) -> f64 {
    match f.kind {
        Kind::Flap(_, period, times) | Kind::Churn(period, times) => period * f64::from(times),
        _ => 0.0,
    }
}

/// How a run ended, in one word, and (for failures) which check failed: a
/// shrunk plan must fail the same way.
pub fn verdict(o: &Outcome) -> (&'static str, String) {
    if let Some(v) = &o.violation {
        return ("violation", v.clone());
    }
    if o.error.is_some() {
        return ("error", "simulation".into());
    }
    match o.results.iter().find(|r| r.held != Some(true)) {
        None => ("ok", String::new()),
        Some(r) if r.field.ends_with("progress") => ("stuck", "progress".into()),
        Some(r) => (
            "violation",
            r.field.rsplit('.').next().unwrap_or("").to_string(),
        ),
    }
}

/// Shrinks a failing plan: drops faults, halves their lengths and turns
/// network knobs off while `fails` (which runs a plan) still says yes.
/// At most `budget` runs.
pub fn shrink(plan: &Plan, mut fails: impl FnMut(&Plan) -> bool, budget: usize) -> Plan {
    let mut best = plan.clone();
    let mut runs = 0;
    let mut try_it = |p: Plan, best: &mut Plan| -> bool {
        if runs >= budget {
            return false;
        }
        runs += 1;
        let ok = fails(&p);
        if ok {
            *best = p;
        }
        ok
    };
    let mut k = best.faults.len();
    while k > 0 {
        k -= 1;
        let mut p = best.clone();
        p.faults.remove(k);
        try_it(p, &mut best);
    }
    for k in 0..best.faults.len() {
        for _ in 0..3 {
            let mut p = best.clone();
            p.faults[k].len = round(p.faults[k].len / 2.0);
            if p.faults[k].len < 0.01 || !try_it(p, &mut best) {
                break;
            }
        }
    }
    for knob in 0..3 {
        let mut p = best.clone();
        let b = match knob {
            0 => &mut p.duplication,
            1 => &mut p.long_delays,
            _ => &mut p.long_reordering,
        };
        if *b {
            *b = false;
            try_it(p, &mut best);
        }
    }
    best
}
