//! MapReduce (6.824 Lab 1): a coordinator hands out map and reduce tasks,
//! workers run them over files; the same code runs on the labrpc simulator
//! (the grader) and for real on threads (the `mapreduce` binary).
//!
//! # Guarantees
//!
//! - **The output is the sequential reference's.** For an app whose `map`
//!   and `reduce` are deterministic, the lines of all `mr-out-*` files
//!   together are the lines of [`sequential::sequential`], whatever crashes
//!   and re-executions happened.
//! - **One map task per input, `n_reduce` (10) reduce tasks.** A key goes
//!   to reduce task `ihash(key) % n_reduce`, with 6.824's [`files::ihash`]
//!   (FNV-1a 32-bit masked to 31 bits).
//! - **Re-issue after 10 s.** A task not reported done within the job's
//!   task timeout ([`job::DEFAULT_TASK_TIMEOUT`]) is handed to the next
//!   worker that asks, never earlier.
//! - **No partial outputs.** Every file goes through a temporary file and
//!   an atomic rename ([`files::AtomicFile`]): a crashed worker leaves at
//!   most a `tmp-*` file, never a partial `mr-X-Y` or `mr-out-Y`.
//! - **Workers exit** when the coordinator says the job is done or cannot
//!   be reached; the coordinator exits only once the job is done.
//! - **Errors are values**: [`MrError`] says which file or setting to fix.
//!
//! # Pieces
//!
//! The student's files:
//!
//! | module | what |
//! | --- | --- |
//! | [`coordinator`] | the task-assignment state machine |
//! | [`worker`] | the worker loop and its map and reduce tasks |
//!
//! The framework (`src/framework/`: do not edit), re-exported here under
//! the same names (the `mapreduce` command over [`real`] is the framework
//! crate `mapreduce/cli`):
//!
//! | module | what |
//! | --- | --- |
//! | [`app`] | the [`App`] trait, [`KeyValue`], the [`Ctx`] an app runs in |
//! | [`apps`] | 6.824's apps: wc, indexer, mtiming, rtiming, jobcount, early_exit, crash, nocrash |
//! | [`files`] | file names, formats, the hash, atomic writes |
//! | [`job`] | a validated [`JobSpec`], statistics around the coordinator |
//! | [`rpc`] | the worker/coordinator messages, the [`rpc::CoordinatorLink`] trait |
//! | [`sequential`] | the reference |
//! | [`sim`] | coordinator and workers as simulated nodes over labrpc |
//! | [`real`] | coordinator and worker threads on the wall clock |
//!
//! # Example: a job on the simulator
//!
//! ```
//! use labrpc::{node, task, time};
//! use mapreduce::{JobSpec, apps::Wc, sim};
//!
//! let dir = std::env::temp_dir().join(format!("mr-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let input = dir.join("input.txt");
//! std::fs::write(&input, "the cat saw the dog").unwrap();
//! let spec = JobSpec::new(vec![input.display().to_string()]).unwrap();
//!
//! let job_dir = dir.clone();
//! labrpc::Builder::new().seed(1).run(move || {
//!     let (dir, spec) = (job_dir.clone(), spec.clone());
//!     async move {
//!         let c = node::create("coordinator");
//!         let job = task::spawn_on(c, sim::coordinator(spec));
//!         time::sleep(std::time::Duration::from_secs(1)).await;
//!         let w = node::create("worker");
//!         let worker = task::spawn_on(w, sim::worker::<Wc>(dir.clone()));
//!         let stats = job.await.unwrap();
//!         assert_eq!(stats.reexecutions, 0);
//!         worker.await.unwrap().unwrap();
//!         let out = mapreduce::files::sorted_output(&dir).unwrap();
//!         assert_eq!(out, ["cat 1", "dog 1", "saw 1", "the 2"]);
//!     }
//! });
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

pub mod coordinator;
mod framework;
pub mod worker;

pub use framework::{app, apps, error, files, job, real, rpc, sequential, sim};

pub use app::{App, Ctx, Emit, Env, KeyValue, WorkerId};
pub use error::MrError;
pub use job::{JobSpec, JobStats};
