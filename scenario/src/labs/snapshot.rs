//! `lab = "snapshot"`: part A's processes passing tokens over FIFO
//! channels (`[cluster]`: `p0`, `p1`, ...; a `snapshot` step starts a
//! Chandy–Lamport snapshot), or parts B and C's dataflow job (`[job]`:
//! `source0`.., `operator0`.., `window0`.., `sink`, `coordinator`) with
//! checkpoints and exactly-once recovery: a crashed task or coordinator
//! makes the job manager restart the job from the latest completed
//! checkpoint.
//!
//! The checks are the grader's, through the lab's public API (`System`,
//! `Job`): a snapshot completes, conserves the tokens and is a consistent
//! cut; the job's committed output is a failure-free run's, nothing twice.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use labrpc::NodeId;
use labrpc::time::sleep;
use labrpc::trace::Leg;
use labrpc::{Verdict, network, node};
use serde::Deserialize;
use snapshot::{Job, JobConfig, ProcId, Record, SnapshotId, System, TaskId, Topology};
use toml::Spanned;

use super::drive::{Cluster, Core, Kind, drive, now};
use super::parse::{self, Common, Namer, RawFile, Refuse, window, yes};
use super::{LabAction, LabCheck, LabSpec};
use crate::run::Found;
use crate::spec::{Check as SpecCheck, Ctx, Expect, Lab, Millis, Scenario, SpecError};
use crate::spec::{OneOf, one_of};

/// The RPC methods (what `drop`/`delay` may name).
pub fn methods() -> Vec<&'static str> {
    use snapshot::framework::dataflow::services::{control, coord, output, stream};
    use snapshot::framework::link::link;
    [
        link::METHODS,
        stream::METHODS,
        control::METHODS,
        coord::METHODS,
        output::METHODS,
    ]
    .concat()
}

/// Extra virtual time a run may need past its windows.
pub(crate) const SLACK: Duration = Duration::from_secs(5);
/// How long a `crash` with `mid_checkpoint` waits for a checkpoint.
const CHECKPOINT_WAIT: Duration = Duration::from_secs(5);

/// Processes (part A) or a job (parts B, C).
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    /// Part A: processes passing tokens.
    Processes {
        /// `ring`, `complete` or `random`.
        topology: String,
        /// How many.
        n: usize,
        /// Tokens each holds at the start.
        tokens: u64,
        /// Mean gap between a process's sends.
        gap: Duration,
    },
    /// Parts B and C: a word-count job.
    Job(JobConfig),
}

/// A snapshot check.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// Every snapshot started has completed on every process.
    Complete,
    /// Every completed snapshot conserves the tokens.
    Conservation,
    /// Every completed snapshot is a consistent cut, with exactly the
    /// right messages recorded in flight.
    ConsistentCut,
    /// The committed output is a failure-free run's, each record once.
    SameOutput,
    /// Throughout: no record committed twice, no contradicting commits.
    NoDuplicates,
    /// At least N checkpoints completed.
    CheckpointsAtLeast(u64),
    /// The job restarted at least N times.
    RestartsAtLeast(u64),
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Complete => f.write_str("every snapshot started completes on every process"),
            Check::Conservation => f.write_str("every completed snapshot conserves the tokens"),
            Check::ConsistentCut => f.write_str("every completed snapshot is a consistent cut"),
            Check::SameOutput => {
                f.write_str("the committed output is a failure-free run's, each record once")
            }
            Check::NoDuplicates => f.write_str("no output committed twice"),
            Check::CheckpointsAtLeast(k) => write!(f, "at least {k} checkpoints completed"),
            Check::RestartsAtLeast(k) => write!(f, "the job restarted at least {k} times"),
        }
    }
}

impl Spec {
    /// `4 processes (ring)` or `2 sources, 3 operators, sink, coordinator`.
    pub fn summary(&self) -> String {
        match self {
            Spec::Processes { topology, n, .. } => format!("{n} processes ({topology})"),
            Spec::Job(c) => format!(
                "{} sources, {} operators, {} windows, sink, coordinator; a checkpoint every {} ms",
                c.sources,
                c.operators,
                c.windows,
                c.interval.as_millis()
            ),
        }
    }

    /// The nodes, in the order the lab creates them.
    pub fn node_names(&self) -> Vec<String> {
        let mut v = self.crashable();
        if matches!(self, Spec::Job(_)) {
            v.push("output".into());
        }
        v
    }

    /// The nodes a scenario names (the job's external output is not one).
    fn crashable(&self) -> Vec<String> {
        match self {
            Spec::Processes { n, .. } => (0..*n).map(|p| format!("p{p}")).collect(),
            Spec::Job(c) => {
                let mut v: Vec<String> = (0..c.sources).map(|s| format!("source{s}")).collect();
                v.extend((0..c.operators).map(|p| format!("operator{p}")));
                v.extend((0..c.windows).map(|q| format!("window{q}")));
                v.extend(["sink".to_string(), "coordinator".to_string()]);
                v
            }
        }
    }

    fn word(&self, w: &str) -> Option<String> {
        let w = w.replace('-', "");
        let groups: &[&str] = match self {
            Spec::Processes { .. } => &["processes"],
            Spec::Job(_) => &["sources", "operators", "windows", "tasks"],
        };
        if groups.contains(&w.as_str()) || self.crashable().contains(&w) {
            return Some(w);
        }
        w.strip_prefix("proc")
            .map(|k| format!("p{k}"))
            .filter(|p| self.crashable().contains(p))
    }
}

// ------------------------------------------------------------------ parse

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    processes: Spanned<i64>,
    topology: Option<Spanned<String>>,
    tokens: Option<Spanned<i64>>,
    gap_ms: Option<Spanned<f64>>,
    reliable: Option<bool>,
    latency_ms: Option<Spanned<Millis>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJob {
    sources: Option<Spanned<i64>>,
    operators: Option<Spanned<i64>>,
    windows: Option<Spanned<i64>>,
    window: Option<Spanned<i64>>,
    records: Option<Spanned<i64>>,
    words: Option<Spanned<i64>>,
    interval_ms: Option<Spanned<f64>>,
    capacity: Option<Spanned<i64>>,
    sink_delay_ms: Option<Spanned<f64>>,
    source_gap_ms: Option<Spanned<f64>>,
    reliable: Option<bool>,
    latency_ms: Option<Spanned<Millis>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    at: Option<Spanned<f64>>,
    within: Option<Spanned<f64>>,
    complete: Option<Spanned<bool>>,
    conservation: Option<Spanned<bool>>,
    consistent_cut: Option<Spanned<bool>>,
    same_output: Option<Spanned<bool>>,
    no_duplicates: Option<Spanned<bool>>,
    checkpoints_at_least: Option<Spanned<i64>>,
    restarts_at_least: Option<Spanned<i64>>,
}

type File = RawFile<RawCluster, RawJob, Refuse, RawExpect>;

/// An integer field within `range`, or its default.
fn int(
    ctx: &Ctx<'_>,
    v: &Option<Spanned<i64>>,
    field: &str,
    range: std::ops::RangeInclusive<i64>,
    default: i64,
) -> Result<i64, SpecError> {
    match v {
        None => Ok(default),
        Some(x) if range.contains(x.get_ref()) => Ok(*x.get_ref()),
        Some(x) => Err(ctx.err(
            &x.span(),
            field,
            format!("{}: {} to {}", x.get_ref(), range.start(), range.end()),
        )),
    }
}

/// Milliseconds within (0, 10 s], or the default.
fn ms(
    ctx: &Ctx<'_>,
    v: &Option<Spanned<f64>>,
    field: &str,
    zero_ok: bool,
    default: Duration,
) -> Result<Duration, SpecError> {
    match v {
        None => Ok(default),
        Some(x) => {
            let m = *x.get_ref();
            let low_ok = if zero_ok { m >= 0.0 } else { m > 0.0 };
            if m.is_finite() && low_ok && m <= 10_000.0 {
                Ok(Duration::from_secs_f64(m / 1000.0))
            } else {
                Err(ctx.err(
                    &x.span(),
                    field,
                    format!("{m} ms: more than 0 and at most 10000"),
                ))
            }
        }
    }
}

fn processes(ctx: &Ctx<'_>, c: &RawCluster) -> Result<Spec, SpecError> {
    let n = int(
        ctx,
        &Some(c.processes.clone()),
        "cluster.processes",
        2..=9,
        4,
    )? as usize;
    let topology = match &c.topology {
        None => "ring".to_string(),
        Some(t) if ["ring", "complete", "random"].contains(&t.get_ref().as_str()) => {
            t.get_ref().clone()
        }
        Some(t) => {
            return Err(ctx.err(
                &t.span(),
                "cluster.topology",
                format!("{:?}: ring, complete or random", t.get_ref()),
            ));
        }
    };
    Ok(Spec::Processes {
        topology,
        n,
        tokens: int(ctx, &c.tokens, "cluster.tokens", 1..=1_000_000, 100)? as u64,
        gap: ms(
            ctx,
            &c.gap_ms,
            "cluster.gap_ms",
            true,
            Duration::from_millis(5),
        )?,
    })
}

fn job(ctx: &Ctx<'_>, j: &RawJob) -> Result<Spec, SpecError> {
    let d = JobConfig::default();
    let f = |n: &str| format!("job.{n}");
    Ok(Spec::Job(JobConfig {
        sources: int(ctx, &j.sources, &f("sources"), 1..=4, d.sources as i64)? as usize,
        operators: int(
            ctx,
            &j.operators,
            &f("operators"),
            1..=6,
            d.operators as i64,
        )? as usize,
        windows: int(ctx, &j.windows, &f("windows"), 0..=4, d.windows as i64)? as usize,
        window: int(ctx, &j.window, &f("window"), 1..=100, d.window as i64)? as u64,
        records_per_source: int(ctx, &j.records, &f("records"), 1..=5000, 300)? as usize,
        words: int(ctx, &j.words, &f("words"), 1..=1000, d.words as i64)? as usize,
        interval: ms(ctx, &j.interval_ms, &f("interval_ms"), false, d.interval)?,
        capacity: int(
            ctx,
            &j.capacity,
            &f("capacity"),
            1..=1000,
            d.capacity as i64,
        )? as usize,
        sink_delay: ms(
            ctx,
            &j.sink_delay_ms,
            &f("sink_delay_ms"),
            true,
            d.sink_delay,
        )?,
        source_gap: ms(
            ctx,
            &j.source_gap_ms,
            &f("source_gap_ms"),
            false,
            d.source_gap,
        )?,
        incremental: false,
    }))
}

/// Reads a snapshot scenario.
pub(crate) fn parse(ctx: &Ctx<'_>) -> Result<Scenario, SpecError> {
    let raw: File = toml::from_str(ctx.source).map_err(|e| parse::toml_error(ctx, e))?;
    let (spec, reliable, latency) = match (&raw.cluster, &raw.job) {
        (Some(c), None) => {
            let c = c.get_ref();
            (processes(ctx, c)?, c.reliable, c.latency_ms.as_ref())
        }
        (None, Some(j)) => {
            let j = j.get_ref();
            (job(ctx, j)?, j.reliable, j.latency_ms.as_ref())
        }
        _ => {
            return Err(SpecError {
                message: format!(
                    "{}: a snapshot scenario has either [cluster] (part A: `processes`, \
                     `topology`) or [job] (parts B and C: a dataflow), not both",
                    ctx.file
                ),
            });
        }
    };
    let word = |w: &str| spec.word(w);
    let help = match spec {
        Spec::Processes { .. } => "p0.., processes",
        Spec::Job(_) => {
            "source0.., operator0.., window0.., sink, coordinator, sources, operators, tasks"
        }
    };
    let mut namer = Namer {
        word: &word,
        help,
        bound: BTreeSet::new(),
    };
    let steps = parse::steps(ctx, Lab::Snapshot, &mut namer, &raw.step)?;
    check_steps(ctx, &spec, &steps)?;
    let mut expects = Vec::new();
    for (i, e) in raw.expect.iter().enumerate() {
        expects.push(expect(ctx, &spec, i + 1, e)?);
    }
    let common = Common {
        title: raw.title,
        description: raw.description,
        seed: raw.seed,
        duration: raw.duration,
        skip_unresolved: raw.skip_unresolved,
        reliable: reliable.unwrap_or(true),
        latency: latency.map(|l| ctx.millis(l, "latency_ms")).transpose()?,
    };
    let nodes = spec.crashable().len();
    parse::scenario(
        ctx,
        Lab::Snapshot,
        common,
        nodes,
        steps,
        expects,
        Duration::ZERO,
        LabSpec::Snapshot(spec),
    )
}

/// The steps that make sense for processes or for a job only.
fn check_steps(ctx: &Ctx<'_>, spec: &Spec, steps: &[crate::spec::Step]) -> Result<(), SpecError> {
    use crate::spec::Action;
    for s in steps {
        let why = match (&s.action, spec) {
            (
                Action::Crash(_) | Action::Lab(LabAction::CrashMidCheckpoint(_)),
                Spec::Processes { .. },
            ) => "Chandy–Lamport's processes do not crash here: slow or cut their channels",
            (Action::Restart(_), Spec::Job(_)) => {
                "the job manager restarts the job by itself after a crash"
            }
            (Action::Restart(_), _) => "processes do not crash, so they do not restart",
            (Action::Lab(LabAction::StartSnapshot(_)), Spec::Job(_)) => {
                "a dataflow job checkpoints by itself (job.interval_ms); `snapshot` is part A's"
            }
            _ => continue,
        };
        return Err(SpecError {
            message: format!(
                "{}:{}: field `{}`: {why}",
                ctx.file, s.place.line, s.place.field
            ),
        });
    }
    Ok(())
}

fn expect(
    ctx: &Ctx<'_>,
    spec: &Spec,
    number: usize,
    e: &Spanned<RawExpect>,
) -> Result<Expect, SpecError> {
    let r = e.get_ref();
    let (name, span) = one_of(
        ctx,
        &e.span(),
        &format!("expect[{number}]"),
        vec![
            ("complete", r.complete.as_ref().map(|v| v.span())),
            ("conservation", r.conservation.as_ref().map(|v| v.span())),
            (
                "consistent_cut",
                r.consistent_cut.as_ref().map(|v| v.span()),
            ),
            ("same_output", r.same_output.as_ref().map(|v| v.span())),
            ("no_duplicates", r.no_duplicates.as_ref().map(|v| v.span())),
            (
                "checkpoints_at_least",
                r.checkpoints_at_least.as_ref().map(|v| v.span()),
            ),
            (
                "restarts_at_least",
                r.restarts_at_least.as_ref().map(|v| v.span()),
            ),
        ],
        "a snapshot expectation needs one check: complete, conservation, consistent_cut \
         (part A), same_output, no_duplicates, checkpoints_at_least or restarts_at_least \
         (a job)",
        OneOf::Check,
    )?;
    let field = format!("expect[{number}].{name}");
    let part_a = ["complete", "conservation", "consistent_cut"].contains(&name);
    if part_a != matches!(spec, Spec::Processes { .. }) {
        return Err(ctx.err(
            &span,
            &field,
            if part_a {
                format!(
                    "`{name}` looks at Chandy–Lamport snapshots: a file with [cluster] (processes)"
                )
            } else {
                format!("`{name}` looks at a dataflow job: a file with [job]")
            },
        ));
    }
    let b = |v: &Option<Spanned<bool>>| yes(ctx, v.as_ref().expect("present"), &field);
    let check = match name {
        "complete" => b(&r.complete).map(|_| Check::Complete)?,
        "conservation" => b(&r.conservation).map(|_| Check::Conservation)?,
        "consistent_cut" => b(&r.consistent_cut).map(|_| Check::ConsistentCut)?,
        "same_output" => b(&r.same_output).map(|_| Check::SameOutput)?,
        "no_duplicates" => b(&r.no_duplicates).map(|_| Check::NoDuplicates)?,
        "checkpoints_at_least" => Check::CheckpointsAtLeast(parse::count(
            ctx,
            r.checkpoints_at_least.as_ref().expect("present"),
            &field,
        )?),
        "restarts_at_least" => Check::RestartsAtLeast(parse::count(
            ctx,
            r.restarts_at_least.as_ref().expect("present"),
            &field,
        )?),
        _ => unreachable!("every check is listed"),
    };
    let (at, within) = window(ctx, number, r.at.as_ref(), r.within.as_ref())?;
    Ok(Expect {
        number,
        at,
        within,
        check: SpecCheck::Lab(LabCheck::Snapshot(check)),
        place: ctx.place(&span, field),
    })
}

// -------------------------------------------------------------------- run

/// The processes or the job of a run.
enum Sim {
    Procs {
        sys: System,
        /// (id, initiator, when) of every snapshot started.
        started: RefCell<Vec<(SnapshotId, ProcId, Duration)>>,
    },
    Job(Rc<Job>),
}

struct Snap {
    core: Core,
    spec: Spec,
    sim: Sim,
    /// When the sink last sent an acknowledgement to the coordinator (it
    /// aligned a checkpoint's barriers and saved its state).
    sink_ack: Rc<Cell<Option<Duration>>>,
}

/// The run of a snapshot scenario.
pub(crate) async fn body(s: Rc<Scenario>, found: Rc<RefCell<Found>>) {
    let Some(LabSpec::Snapshot(spec)) = s.lab_spec.clone() else {
        unreachable!("a snapshot scenario")
    };
    let (sim, ids): (Sim, Vec<NodeId>) = match &spec {
        Spec::Processes {
            topology,
            n,
            tokens,
            gap,
        } => {
            let topo = match topology.as_str() {
                "complete" => Topology::complete(*n),
                "random" => Topology::random(*n, 0.5),
                _ => Topology::ring(*n),
            };
            let sys = System::new(topo, *tokens, *gap);
            let ids = (0..*n).map(|p| sys.node(p)).collect();
            let started = RefCell::default();
            (Sim::Procs { sys, started }, ids)
        }
        Spec::Job(config) => {
            let job = Job::start(config.clone());
            let mut ids: Vec<NodeId> = (0..config.sources)
                .map(|k| job.node(TaskId::Source(k)))
                .collect();
            ids.extend((0..config.operators).map(|k| job.node(TaskId::Operator(k))));
            ids.extend((0..config.windows).map(|k| job.node(TaskId::Window(k))));
            ids.extend([job.node(TaskId::Sink), job.coordinator_node()]);
            (Sim::Job(job), ids)
        }
    };
    let sink_ack: Rc<Cell<Option<Duration>>> = Rc::default();
    if let Sim::Job(job) = &sim {
        let (sink, seen) = (job.node(TaskId::Sink), sink_ack.clone());
        network().add_hook(move |m| {
            if m.method == "coord.ack" && m.leg == Leg::Request && m.from == sink {
                seen.set(Some(now()));
            }
            Verdict::Deliver
        });
    }
    let nodes = spec.crashable().into_iter().zip(ids).collect();
    let w = Rc::new(Snap {
        core: Core::new(s.clone(), found, nodes),
        sim,
        spec,
        sink_ack,
    });
    let summary = w.spec.summary();
    drive(w, summary).await;
}

impl Cluster for Snap {
    fn core(&self) -> &Core {
        &self.core
    }

    async fn resolve_name(&self, name: &str) -> Result<Vec<usize>, String> {
        let names = self.spec.crashable();
        let prefix = match name {
            "processes" => "p",
            "sources" => "source",
            "operators" => "operator",
            "windows" => "window",
            "tasks" => "",
            _ => return Ok(names.iter().position(|n| n == name).into_iter().collect()),
        };
        Ok((0..names.len())
            .filter(|&i| {
                names[i].starts_with(prefix)
                    && (prefix != "p" || names[i][1..].parse::<usize>().is_ok())
            })
            .filter(|&i| !(prefix.is_empty() && names[i] == "coordinator"))
            .collect())
    }

    fn crash(&self, i: usize) -> Result<(), String> {
        node::crash(self.core.node(i));
        Ok(())
    }

    fn restart(&self, _: usize) -> Result<(), String> {
        Err("the job manager restarts the job by itself".into())
    }

    async fn lab_step(&self, a: &LabAction) -> Result<String, String> {
        match (a, &self.sim) {
            (LabAction::StartSnapshot(p), Sim::Procs { sys, started }) => {
                let v = super::net::resolve(self, p, &[]).await?;
                let mut parts = Vec::new();
                for &q in &v {
                    let id = sys.start_snapshot(q);
                    started.borrow_mut().push((id, q, now()));
                    parts.push(format!("p{q} starts snapshot {id}"));
                }
                Ok(parts.join("; "))
            }
            (LabAction::CrashMidCheckpoint(p), Sim::Job(job)) => {
                let v = super::net::resolve(self, p, &[]).await?;
                let done = job.checkpoints().len();
                let t0 = now();
                while job.checkpoints().len() == done {
                    if now() > t0 + CHECKPOINT_WAIT {
                        return Err(format!(
                            "no checkpoint completed within {CHECKPOINT_WAIT:?}"
                        ));
                    }
                    sleep(Duration::from_millis(1)).await;
                }
                // Then the moment the sink acknowledges the next one: it has
                // aligned and saved its state, the checkpoint is not complete.
                let completed = now();
                while self.sink_ack.get().is_none_or(|t| t <= completed) {
                    if now() > completed + CHECKPOINT_WAIT {
                        return Err(format!(
                            "the sink acknowledged no checkpoint within {CHECKPOINT_WAIT:?}"
                        ));
                    }
                    sleep(Duration::from_micros(100)).await;
                }
                for &i in &v {
                    self.crash(i)?;
                }
                Ok(format!(
                    "crash {} mid-checkpoint (checkpoint {} completed, the sink has acknowledged the next one)",
                    self.core.show(&v),
                    job.checkpoints().last().map_or(0, |c| c.info.id)
                ))
            }
            _ => Err("not a step of this kind of scenario".into()),
        }
    }

    fn kind(&self, c: &LabCheck) -> Kind {
        match c {
            LabCheck::Snapshot(Check::NoDuplicates) => Kind::Always,
            _ => Kind::Eventually,
        }
    }

    async fn probe(&self, c: &LabCheck, _: Option<Duration>) -> Result<(bool, String), String> {
        let LabCheck::Snapshot(c) = c else {
            unreachable!("a snapshot check")
        };
        Ok(match (&self.sim, c) {
            (Sim::Procs { sys, started }, _) => procs_probe(sys, &started.borrow(), c),
            (Sim::Job(job), _) => job_probe(job, c),
        })
    }
}

/// Every process's record of snapshot `id`, if all have finished.
fn global(sys: &System, id: SnapshotId) -> Option<BTreeMap<ProcId, snapshot::LocalSnapshot>> {
    (0..sys.topology().len())
        .map(|p| sys.local_snapshot(p, id).map(|l| (p, l)))
        .collect()
}

fn procs_probe(
    sys: &System,
    started: &[(SnapshotId, ProcId, Duration)],
    c: &Check,
) -> (bool, String) {
    if started.is_empty() {
        return (
            false,
            "no snapshot was started (a `snapshot` step starts one)".into(),
        );
    }
    let mut done = Vec::new();
    for &(id, p, _) in started {
        match global(sys, id) {
            Some(g) => done.push((id, g)),
            None if matches!(c, Check::Complete) => {
                let missing: Vec<String> = (0..sys.topology().len())
                    .filter(|&q| sys.local_snapshot(q, id).is_none())
                    .map(|q| format!("p{q}"))
                    .collect();
                return (
                    false,
                    format!(
                        "snapshot {id} (started by p{p}): {} have not finished their part",
                        missing.join(", ")
                    ),
                );
            }
            None => {}
        }
    }
    if done.is_empty() {
        return (false, "no snapshot has completed yet".into());
    }
    for (id, g) in &done {
        let bad = match c {
            Check::Conservation => {
                let held: u64 = g.values().map(|l| l.state.tokens).sum();
                let flying: u64 = g.values().map(|l| l.in_flight_tokens()).sum();
                (held + flying != sys.total_tokens()).then(|| {
                    format!("snapshot {id}: {held} tokens in the recorded states + {flying} recorded in flight != {} in the system", sys.total_tokens())
                })
            }
            Check::ConsistentCut => cut(sys, *id, g),
            _ => None,
        };
        if let Some(why) = bad {
            return (false, why);
        }
    }
    let what = match c {
        Check::Complete => "completed on every process",
        Check::Conservation => "conserve the tokens",
        _ => "are consistent cuts with exactly the messages in flight",
    };
    (
        true,
        format!("{} of {} snapshots {what}", done.len(), started.len()),
    )
}

/// Why snapshot `id` is not a consistent cut, if it is not.
fn cut(
    sys: &System,
    id: SnapshotId,
    g: &BTreeMap<ProcId, snapshot::LocalSnapshot>,
) -> Option<String> {
    for (i, j) in sys.topology().channels() {
        let sent = g[&i].state.sent.get(&j).copied().unwrap_or(0);
        let received = g[&j].state.received.get(&i).copied().unwrap_or(0);
        if received > sent {
            return Some(format!(
                "snapshot {id}: p{j} recorded {received} token messages received from p{i}, but p{i} recorded only {sent} sent"
            ));
        }
        let recorded: Vec<u64> = g[&j]
            .channels
            .get(&i)
            .map_or(Vec::new(), |v| v.iter().map(|t| t.seq).collect());
        let expected: Vec<u64> = (received + 1..=sent).collect();
        if recorded != expected {
            return Some(format!(
                "snapshot {id}: channel p{i} -> p{j}: recorded in flight {recorded:?}, but those sent before p{i} recorded and received after p{j} recorded are {expected:?}"
            ));
        }
    }
    None
}

fn job_probe(job: &Job, c: &Check) -> (bool, String) {
    let committed = job.committed();
    let mut seen: BTreeMap<&Record, u64> = BTreeMap::new();
    let mut twice = None;
    for (&id, records) in &committed {
        for r in records {
            if let Some(first) = seen.insert(r, id) {
                twice.get_or_insert(format!(
                    "{r:?} committed with checkpoint {first} and again with checkpoint {id}"
                ));
            }
        }
    }
    let conflicts = job.conflicts();
    match c {
        Check::NoDuplicates => match (twice, conflicts.first()) {
            (Some(t), _) => (
                false,
                format!("output emitted twice: {t} ({} restarts)", job.restarts()),
            ),
            (None, Some(c)) => (
                false,
                format!("the sink's commits contradict each other: {c}"),
            ),
            (None, None) => (
                true,
                format!("{} records committed, none twice", seen.len()),
            ),
        },
        Check::SameOutput => {
            let expected = job.expected_output();
            let got: BTreeSet<&Record> = seen.keys().copied().collect();
            let missing: Vec<&Record> = expected
                .iter()
                .filter(|r| !got.contains(r))
                .take(3)
                .collect();
            let extra: Vec<&&Record> = got
                .iter()
                .filter(|r| !expected.contains(r))
                .take(3)
                .collect();
            let ok =
                missing.is_empty() && extra.is_empty() && twice.is_none() && conflicts.is_empty();
            let why = if ok {
                format!(
                    "{} records committed, exactly a failure-free run's ({} restarts)",
                    got.len(),
                    job.restarts()
                )
            } else {
                format!(
                    "{} records committed of a failure-free run's {} ({} restarts): missing {missing:?}, not expected {extra:?} (first few){}",
                    got.len(),
                    expected.len(),
                    job.restarts(),
                    twice.map_or(String::new(), |t| format!("; twice: {t}"))
                )
            };
            (ok, why)
        }
        Check::CheckpointsAtLeast(k) => {
            let n = job.checkpoints().len() as u64;
            (
                n >= *k,
                format!("{n} checkpoints completed ({} restarts)", job.restarts()),
            )
        }
        Check::RestartsAtLeast(k) => {
            let n = job.restarts();
            (n >= *k, format!("the job restarted {n} times"))
        }
        _ => (false, "a part A check".into()),
    }
}
