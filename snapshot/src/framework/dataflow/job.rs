//! The job: its nodes, its input, the external output, the checkpoints
//! completed, and the job manager, which restarts every task from the
//! latest completed checkpoint when any node of the job crashes.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use labrpc::notify::Notify;
use labrpc::time::sleep;
use labrpc::{NodeId, Server, network, node, task};

use crate::framework::dataflow::align::{AlignLog, AlignWatch, Buffered};
use crate::framework::dataflow::coordinator::{CoordState, Coordinator, coord};
use crate::framework::dataflow::output::{Output, output};
use crate::framework::dataflow::task::{
    Consumer, ConsumerTask, ControlServer, Controlled, Inbound, Shared, SourceTask, control, stream,
};
use crate::framework::dataflow::{
    CheckpointId, Counts, Event, Record, SinkState, TaskId, Windows, store, window_key,
};
use crate::framework::link::{Receiver, Sender};
use crate::{Operator, Sink, WindowSum};

/// How often the job manager looks for crashed nodes.
const WATCH: Duration = Duration::from_millis(10);

/// The job's shape and pace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobConfig {
    /// Source tasks (input partitions).
    pub sources: usize,
    /// Operator instances.
    pub operators: usize,
    /// Records in each source's partition.
    pub records_per_source: usize,
    /// Distinct words in the input.
    pub words: usize,
    /// Time between two records of a source.
    pub source_gap: Duration,
    /// Time between two checkpoints.
    pub interval: Duration,
    /// Most unacknowledged events on a channel before its sender waits
    /// (back-pressure).
    pub capacity: usize,
    /// Time the sink takes per batch it receives (a slow sink).
    pub sink_delay: Duration,
    /// Windowed-sum instances after the word count (0: none, the word
    /// count's output goes to the sink).
    pub windows: usize,
    /// Records per tumbling window of a key (with a window stage).
    pub window: u64,
    /// Whether the word count saves incremental snapshots (the challenge:
    /// [`crate::Ctx::incremental`]).
    pub incremental: bool,
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            sources: 2,
            operators: 3,
            records_per_source: 300,
            words: 20,
            source_gap: Duration::from_millis(1),
            interval: Duration::from_millis(40),
            capacity: 16,
            sink_delay: Duration::ZERO,
            windows: 0,
            window: 5,
            incremental: false,
        }
    }
}

/// A completed checkpoint, as the coordinator completed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointInfo {
    /// Its id.
    pub id: CheckpointId,
    /// From trigger to the last acknowledgement.
    pub latency: Duration,
    /// Bytes of state saved, over every task (with incremental
    /// snapshots, the increments).
    pub bytes: u64,
    /// Bytes of every task's whole state (what full snapshots save).
    pub full_bytes: u64,
}

/// A completed checkpoint with every task's saved state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// What the coordinator measured.
    pub info: CheckpointInfo,
    /// Each source's offset.
    pub offsets: Vec<u64>,
    /// Each operator instance's counts.
    pub counts: Vec<Counts>,
    /// Each windowed-sum instance's open windows (none without a window
    /// stage).
    pub windows: Vec<Windows>,
    /// The sink's state.
    pub sink: SinkState,
}

/// The nodes of the job.
struct Nodes {
    sources: Vec<NodeId>,
    operators: Vec<NodeId>,
    windows: Vec<NodeId>,
    sink: NodeId,
    coord: NodeId,
}

impl Nodes {
    fn all(&self) -> Vec<NodeId> {
        let mut v = self.sources.clone();
        v.extend(&self.operators);
        v.extend(&self.windows);
        v.extend([self.sink, self.coord]);
        v
    }
}

/// A running job. Made by the tester, inside a simulation.
pub struct Job {
    config: JobConfig,
    input: Vec<Rc<Vec<String>>>,
    nodes: Nodes,
    output: Rc<Output>,
    epoch: Cell<u64>,
    checkpoints: RefCell<Vec<Checkpoint>>,
    align: Rc<RefCell<AlignLog>>,
}

fn server_name(t: TaskId) -> String {
    match t {
        TaskId::Source(s) => format!("source-{s}"),
        TaskId::Operator(p) => format!("operator-{p}"),
        TaskId::Window(q) => format!("window-{q}"),
        TaskId::Sink => "sink".to_string(),
    }
}

const COORD: &str = "coordinator";
const OUTPUT: &str = "output";

impl Job {
    /// Makes the input (random words, from the simulation's RNG), the
    /// nodes and the output, starts every task and the job manager.
    pub fn start(config: JobConfig) -> Rc<Job> {
        let input = (0..config.sources)
            .map(|_| {
                Rc::new(
                    (0..config.records_per_source)
                        .map(|_| {
                            let a = labrpc::rand::gen_range(0..config.words);
                            let b = labrpc::rand::gen_range(0..config.words);
                            format!("w{}", a.min(b))
                        })
                        .collect(),
                )
            })
            .collect();
        let nodes = Nodes {
            sources: (0..config.sources)
                .map(|s| node::create(server_name(TaskId::Source(s))))
                .collect(),
            operators: (0..config.operators)
                .map(|p| node::create(server_name(TaskId::Operator(p))))
                .collect(),
            windows: (0..config.windows)
                .map(|q| node::create(server_name(TaskId::Window(q))))
                .collect(),
            sink: node::create(server_name(TaskId::Sink)),
            coord: node::create(COORD),
        };
        let output = Rc::new(Output::default());
        network().add_server(
            OUTPUT,
            node::create(OUTPUT),
            Server::new().add_service(output::service(output.clone())),
        );
        let job = Rc::new(Job {
            config,
            input,
            nodes,
            output,
            epoch: Cell::new(0),
            checkpoints: RefCell::new(Vec::new()),
            align: Rc::default(),
        });
        job.start_attempt();
        task::spawn(job.clone().watch()).detach();
        job
    }

    /// The job manager: a crashed node restarts the job.
    async fn watch(self: Rc<Self>) {
        loop {
            sleep(WATCH).await;
            if self.nodes.all().iter().any(|&n| !node::is_alive(n)) {
                self.restart();
            }
        }
    }

    /// Crashes every node of the job, restarts them, and starts every
    /// task from the latest completed checkpoint.
    fn restart(self: &Rc<Self>) {
        for n in self.nodes.all() {
            node::crash(n);
        }
        for n in self.nodes.all() {
            node::restart(n);
        }
        self.epoch.set(self.epoch.get() + 1);
        self.start_attempt();
    }

    /// The node of task `t`.
    pub fn node(&self, t: TaskId) -> NodeId {
        match t {
            TaskId::Source(s) => self.nodes.sources[s],
            TaskId::Operator(p) => self.nodes.operators[p],
            TaskId::Window(q) => self.nodes.windows[q],
            TaskId::Sink => self.nodes.sink,
        }
    }

    /// The coordinator's node.
    pub fn coordinator_node(&self) -> NodeId {
        self.nodes.coord
    }

    /// Every node of the job (tasks and coordinator).
    pub fn nodes(&self) -> Vec<NodeId> {
        self.nodes.all()
    }

    /// The job's configuration.
    pub fn config(&self) -> &JobConfig {
        &self.config
    }

    /// Source `s`'s partition of the input.
    pub fn input(&self, s: usize) -> &[String] {
        &self.input[s]
    }

    /// Restarts so far.
    pub fn restarts(&self) -> u64 {
        self.epoch.get()
    }

    /// Every checkpoint completed so far, in order, with the states saved.
    pub fn checkpoints(&self) -> Vec<Checkpoint> {
        self.checkpoints.borrow().clone()
    }

    /// The output committed so far: checkpoint id -> its records.
    pub fn committed(&self) -> BTreeMap<CheckpointId, Vec<Record>> {
        self.output.committed.borrow().clone()
    }

    /// Commits that contradicted an earlier commit of the same checkpoint.
    pub fn conflicts(&self) -> Vec<String> {
        self.output.conflicts.borrow().clone()
    }

    /// The fullest alignment buffer of the run: the most records a task
    /// took from one input after that input's barrier and before it saved
    /// its state for the checkpoint (`None` if never any). Leaving a
    /// blocked input's records on its channel keeps it at zero.
    pub fn max_buffered(&self) -> Option<Buffered> {
        self.align.borrow().max.clone()
    }

    /// Every time a task blocked an input on which no barrier was waiting
    /// (the first few described, and how many in all): an input whose
    /// barrier has not arrived, or one still blocked after the task saved
    /// its state.
    pub fn wrong_blocks(&self) -> (Vec<String>, usize) {
        let log = self.align.borrow();
        (log.wrong.clone(), log.wrong_count)
    }

    /// Incremental snapshots that held keys whose counts had not changed
    /// since the operator's previous state (the first few).
    pub fn wrong_deltas(&self) -> Vec<String> {
        self.align.borrow().wrong_deltas.clone()
    }

    /// What a failure-free run outputs: every key with every count from 1
    /// to its number of occurrences in the input; with a window stage,
    /// every full window of every key (`window_key(key, j)`) with the sum
    /// of the counts in it, `j*W+1 ..= (j+1)*W`.
    pub fn expected_output(&self) -> BTreeSet<Record> {
        let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
        for w in self.input.iter().flat_map(|p| p.iter()) {
            *totals.entry(w).or_default() += 1;
        }
        let (windowed, size) = (self.config.windows > 0, self.config.window);
        totals
            .into_iter()
            .flat_map(|(k, n)| {
                if windowed {
                    window_records(k, n, size)
                } else {
                    count_records(k, n)
                }
            })
            .collect()
    }
}

/// A key's counts `1..=n`, as the word count emits them.
fn count_records(key: &str, n: u64) -> Vec<Record> {
    (1..=n)
        .map(|value| Record {
            key: key.to_string(),
            value,
        })
        .collect()
}

/// A key's full windows of `size` counts each, as the window stage emits
/// them when its counts reach `n`.
fn window_records(key: &str, n: u64, size: u64) -> Vec<Record> {
    (0..n / size)
        .map(|j| Record {
            key: window_key(key, j),
            value: (j * size + 1..=(j + 1) * size).sum(),
        })
        .collect()
}

/// Starting one attempt of the job.
impl Job {
    fn shared(&self, t: TaskId, outputs: usize, epoch: u64) -> Rc<Shared> {
        let n = self.node(t);
        Rc::new(Shared {
            task: t,
            epoch,
            persister: node::persister(n),
            outputs: (0..outputs).map(|_| Rc::new(Sender::default())).collect(),
            capacity: self.config.capacity,
            coord: coord::Client::new(network().end_to(n, COORD)),
            commits: RefCell::new(VecDeque::new()),
            commit_wake: Notify::default(),
            align: RefCell::new(AlignWatch::new(t, self.align.clone())),
            incremental: self.config.incremental,
            base: Cell::new(None),
        })
    }

    /// Starts a sending task per output channel of `sh`, to `targets`.
    fn start_pumps(&self, sh: &Shared, from: usize, targets: Vec<String>) {
        let n = self.node(sh.task);
        for (out, target) in sh.outputs.iter().zip(targets) {
            let client = stream::Client::new(network().end_to(n, &target));
            let deliver = move |batch| {
                let client = client.clone();
                async move { client.deliver(&batch).await }
            };
            task::spawn_on(n, out.clone().pump(from, sh.epoch, deliver)).detach();
        }
    }

    /// Serves a consumer's incoming channels and control messages.
    fn serve(&self, ct: &Rc<ConsumerTask>, delay: Duration) {
        let t = ct.sh.task;
        let rx = {
            let ct = ct.clone();
            Receiver::new(ct.sh.epoch, move |from, ev: Event| ct.offer(from, ev))
        };
        let control = ControlServer {
            epoch: ct.sh.epoch,
            task: Controlled::Consumer(ct.clone()),
        };
        network().add_server(
            server_name(t),
            self.node(t),
            Server::new()
                .add_service(stream::service(Rc::new(Inbound { rx, delay })))
                .add_service(control::service(Rc::new(control))),
        );
    }

    fn start_sources(&self, epoch: u64, completed: Option<CheckpointId>) {
        let operators: Vec<String> = (0..self.config.operators)
            .map(|p| server_name(TaskId::Operator(p)))
            .collect();
        for s in 0..self.config.sources {
            let t = TaskId::Source(s);
            let sh = self.shared(t, self.config.operators, epoch);
            let offset = completed.and_then(|id| store::get::<u64>(&sh.persister, id));
            let src = Rc::new(SourceTask {
                sh: sh.clone(),
                data: self.input[s].clone(),
                offset: Cell::new(offset.unwrap_or(0)),
                gap: self.config.source_gap,
                triggers: RefCell::new(VecDeque::new()),
                last_trigger: Cell::new(0),
                wake: Notify::default(),
            });
            self.start_pumps(&sh, s, operators.clone());
            let control = ControlServer {
                epoch,
                task: Controlled::Source(src.clone()),
            };
            network().add_server(
                server_name(t),
                self.node(t),
                Server::new().add_service(control::service(Rc::new(control))),
            );
            task::spawn_on(self.node(t), src.run()).detach();
        }
    }

    fn start_operators(&self, epoch: u64, completed: Option<CheckpointId>) {
        for p in 0..self.config.operators {
            let t = TaskId::Operator(p);
            let targets = self.downstream_of_operators();
            let sh = self.shared(t, targets.len(), epoch);
            let restored = completed.and_then(|id| store::get::<Counts>(&sh.persister, id));
            sh.base.set(completed.filter(|_| restored.is_some()));
            let inputs = self.config.sources;
            let op = node::enter(self.node(t), || Operator::new(inputs, restored));
            self.start_pumps(&sh, p, targets);
            let ct = Rc::new(ConsumerTask {
                sh,
                consumer: Consumer::Operator(RefCell::new(op)),
            });
            self.serve(&ct, Duration::ZERO);
        }
    }

    /// Where the operators' output goes: the window stage, or the sink.
    fn downstream_of_operators(&self) -> Vec<String> {
        if self.config.windows == 0 {
            return vec![server_name(TaskId::Sink)];
        }
        (0..self.config.windows)
            .map(|q| server_name(TaskId::Window(q)))
            .collect()
    }

    fn start_windows(&self, epoch: u64, completed: Option<CheckpointId>) {
        for q in 0..self.config.windows {
            let t = TaskId::Window(q);
            let sh = self.shared(t, 1, epoch);
            let restored = completed.and_then(|id| store::get::<Windows>(&sh.persister, id));
            let (inputs, size) = (self.config.operators, self.config.window);
            let w = node::enter(self.node(t), || WindowSum::new(inputs, size, restored));
            self.start_pumps(&sh, q, vec![server_name(TaskId::Sink)]);
            let ct = Rc::new(ConsumerTask {
                sh,
                consumer: Consumer::Window(RefCell::new(w)),
            });
            self.serve(&ct, Duration::ZERO);
        }
    }

    fn start_sink(&self, epoch: u64, completed: Option<CheckpointId>) {
        let t = TaskId::Sink;
        let n = self.node(t);
        let sh = self.shared(t, 0, epoch);
        let restored = completed.and_then(|id| store::get::<SinkState>(&sh.persister, id));
        let inputs = match self.config.windows {
            0 => self.config.operators,
            w => w,
        };
        let sink = node::enter(n, || {
            Sink::new(
                inputs,
                restored,
                completed,
                &crate::framework::dataflow::Ctx::new(&sh),
            )
        });
        let ct = Rc::new(ConsumerTask {
            sh,
            consumer: Consumer::Sink(RefCell::new(sink)),
        });
        self.serve(&ct, self.config.sink_delay);
        let out = output::Client::new(network().end_to(n, OUTPUT));
        task::spawn_on(n, ct.commit_pump(out)).detach();
    }

    fn start_coordinator(self: &Rc<Self>, epoch: u64) {
        let n = self.nodes.coord;
        let net = network();
        let mut tasks: Vec<TaskId> = (0..self.config.sources).map(TaskId::Source).collect();
        tasks.extend((0..self.config.operators).map(TaskId::Operator));
        tasks.extend((0..self.config.windows).map(TaskId::Window));
        tasks.push(TaskId::Sink);
        let tasks = tasks
            .into_iter()
            .map(|t| (t, control::Client::new(net.end_to(n, &server_name(t)))))
            .collect();
        let job = Rc::downgrade(self);
        let coordinator = Rc::new(Coordinator {
            epoch,
            persister: node::persister(n),
            interval: self.config.interval,
            tasks,
            pending: RefCell::new(None),
            acked: Notify::default(),
            on_complete: Box::new(move |info| {
                if let Some(job) = job.upgrade() {
                    job.record(info);
                }
            }),
        });
        net.add_server(
            COORD,
            n,
            Server::new().add_service(coord::service(coordinator.clone())),
        );
        task::spawn_on(n, coordinator.run()).detach();
    }

    fn start_attempt(self: &Rc<Self>) {
        let epoch = self.epoch.get();
        let completed = CoordState::load(&node::persister(self.nodes.coord)).completed;
        self.start_sources(epoch, completed);
        self.start_operators(epoch, completed);
        self.start_windows(epoch, completed);
        self.start_sink(epoch, completed);
        self.start_coordinator(epoch);
    }

    /// Keeps a completed checkpoint with every task's saved state.
    fn record(&self, info: CheckpointInfo) {
        let id = info.id;
        let get = |t: TaskId| node::persister(self.node(t));
        let missing = |t: TaskId| format!("{t:?} acknowledged checkpoint {id} but saved nothing");
        let cp = Checkpoint {
            offsets: (0..self.config.sources)
                .map(|s| {
                    let t = TaskId::Source(s);
                    store::get(&get(t), id).unwrap_or_else(|| panic!("{}", missing(t)))
                })
                .collect(),
            counts: (0..self.config.operators)
                .map(|p| {
                    let t = TaskId::Operator(p);
                    store::get(&get(t), id).unwrap_or_else(|| panic!("{}", missing(t)))
                })
                .collect(),
            windows: (0..self.config.windows)
                .map(|q| {
                    let t = TaskId::Window(q);
                    store::get(&get(t), id).unwrap_or_else(|| panic!("{}", missing(t)))
                })
                .collect(),
            sink: store::get(&get(TaskId::Sink), id)
                .unwrap_or_else(|| panic!("{}", missing(TaskId::Sink))),
            info,
        };
        self.checkpoints.borrow_mut().push(cp);
    }
}
