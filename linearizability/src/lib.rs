//! linearizability: decide whether a recorded history of client operations
//! is linearizable, and show why not.
//!
//! # Guarantees
//!
//! - **Exact verdicts.** [`check`] returns [`Verdict::Linearizable`] with a
//!   linearization, [`Verdict::NotLinearizable`] only when none exists, or
//!   [`Verdict::Unknown`] when the wall-clock timeout, the memory limit or
//!   the caller's cancel flag stopped the search first
//!   ([`CheckResult::gave_up`] says which). Unknown never hides a violation
//!   already found in another partition.
//! - **Bounded memory.** The searches count what they hold and stop at
//!   [`CheckOptions::max_memory`] ([`DEFAULT_MAX_MEMORY`], 2 GiB, unless
//!   set): a hard history gets "unknown" and a message, never a kill by
//!   the system's out-of-memory killer.
//! - **Verdict first.** The check stops at the first partition proven not
//!   linearizable and reports the others as [`Outcome::NotChecked`];
//!   [`CheckOptions::all`] (`lincheck --all`) explains every partition.
//!   Both give the same verdict (cross-checked on thousands of generated
//!   histories).
//! - **Cheap proofs first.** A model may refute a partition without the
//!   search ([`Model::refute`]): the KV model proves a read of a value no
//!   write could produce, or one that misses a write completed before it
//!   began, in microseconds. Refutations are sound (cross-checked against
//!   brute force and the search) and come with a [`Refutation`] naming the
//!   operations.
//! - **Crashed and timed-out clients are handled soundly.** An operation
//!   that never returned may take effect anywhere after its call, or never;
//!   one whose output is unknown accepts any output the model allows.
//! - **Evidence.** A violating partition comes with its longest linearizable
//!   prefixes and the operations that cannot go next;
//!   [`CheckResult::explain`] turns them into a test failure message and
//!   [`write_html`] into a self-contained page (no network needed).
//! - **Porcupine's algorithm, in Rust, and more.** Wing & Gong's search with
//!   Lowe's memoization of (linearized set, state), on porcupine's linked
//!   list of call/return entries with O(1) lift/unlift; partitions (e.g. KV
//!   keys) are checked independently, in parallel threads, small ones and
//!   quick decisions first. Beyond porcupine: reads are placed as soon as
//!   they are legal, and a configuration is abandoned as soon as a called
//!   read can no longer become legal ([`Model::reaches`]: between puts a KV
//!   value only grows), which turns hot-key histories that took seconds
//!   into milliseconds.
//!
//! The checker is plain synchronous code on real time: it runs after a
//! simulation, never inside one (docs/determinism.md).
//!
//! # The API in twenty lines
//!
//! ```text
//! Operation { client, input, call, output: Option<O>, ret: Option<u64> }
//!     ::completed(..) / ::unknown(..) / ::pending(..)
//! Recorder<I, O>: clone-able, single-threaded history
//!     .call(client, input, time) -> OpId; .finish(id, output, time);
//!     .finish_unknown(id, time); .history() / .take()
//! operations_from_events(Vec<Event>) -> Vec<Operation>   (porcupine's events)
//! trait Model { partition, init, step, describe_operation, describe_state,
//!               optional: is_read_only, refute, is_reset, prunes, reaches, heap_bytes }
//! KvModel, KvUnpartitionedModel, VersionedKvModel, RegisterModel, CasRegisterModel   (the shipped models)
//! check(&model, &history, Option<Duration>) -> CheckResult   (stops at the first violation)
//! check_with(&model, &history, &CheckOptions { timeout, cancel, threads, all, max_memory })
//! CheckResult { verdict, partitions: [PartitionResult { label, ops, outcome, refutation }],
//!               elapsed, gave_up: Option<GaveUp>, peak_memory }
//!     .is_linearizable() / .violations() / .explain(&model, &history)
//! Outcome::Linearizable / NotLinearizable / Unknown / NotChecked
//! write_html(path, &model, &history, &result, &annotations)   (render_html -> String)
//! Annotation::interval(start, end, text) / ::point(time, text), .tag(row)
//! format: JSON lines, read_history / parse_history / write_history (trait JsonModel)
//! lincheck --model kv|versioned-kv|register|cas-register [--timeout SECS] [--all]
//!          [--no-partition] [--html OUT] FILE
//! ```
//!
//! # How a lab records and checks a history
//!
//! Each simulated clerk wraps every request in `call`/`finish` with virtual
//! timestamps. A clerk that crashes or gives up never calls `finish`; its
//! operation stays pending, which the checker handles.
//!
//! ```
//! use std::time::Duration;
//! use linearizability::{check, Annotation, KvInput, KvModel, KvOutput, Recorder, Verdict};
//!
//! let recorder: Recorder<KvInput, KvOutput> = Recorder::new();
//!
//! // Clerk 0 and clerk 1 run concurrently (times are virtual nanoseconds).
//! let clerk0 = recorder.clone();
//! let put = clerk0.call(0, KvInput::put("x", "a"), 100);
//! let clerk1 = recorder.clone();
//! let get = clerk1.call(1, KvInput::get("x"), 150);
//! clerk0.finish(put, KvOutput::Done, 300);
//! clerk1.finish(get, KvOutput::value("a"), 320); // overlaps the put: fine
//! // Clerk 1 appends, then crashes before the reply: pending.
//! clerk1.call(1, KvInput::append("x", "b"), 400);
//! // The tester's final read sees the append: it took effect.
//! let last = recorder.call(2, KvInput::get("x"), 900);
//! recorder.finish(last, KvOutput::value("ab"), 950);
//!
//! let history = recorder.history();
//! let result = check(&KvModel, &history, Some(Duration::from_secs(1)));
//! assert_eq!(result.verdict, Verdict::Linearizable, "{}", result.explain(&KvModel, &history));
//!
//! // A stale read after the append returned would be a violation.
//! let stale = recorder.call(3, KvInput::get("x"), 1000);
//! recorder.finish(stale, KvOutput::value("a"), 1100);
//! let history = recorder.history();
//! let result = check(&KvModel, &history, Some(Duration::from_secs(1)));
//! assert_eq!(result.verdict, Verdict::NotLinearizable);
//! let why = result.explain(&KvModel, &history);
//! assert!(why.contains(r#"get("x") -> "a""#), "{why}");
//!
//! // On failure a lab writes the view and prints its path.
//! let path = std::env::temp_dir().join("linearizability-doc-example.html");
//! let notes = [Annotation::interval(400, 800, "partition {0,1} | {2,3,4}"),
//!              Annotation::point(600, "server 3 crashed")];
//! linearizability::write_html(&path, &KvModel, &history, &result, &notes).unwrap();
//! ```

mod checker;
pub mod format;
mod history;
mod html;
mod memo;
mod model;
pub mod models;
mod refute;
mod result;

pub use checker::{CheckOptions, DEFAULT_MAX_MEMORY, EVIDENCE_BUDGET, check, check_with};
pub use format::{FormatError, JsonModel, parse_history, read_history, write_history};
pub use history::{Event, EventError, OpId, Operation, Recorder, operations_from_events};
pub use html::{Annotation, render_html, write_html};
pub use model::{History, Model, Partition};
pub use models::{
    CasInput, CasOutput, CasRegisterModel, KvInput, KvModel, KvOutput, KvState, KvStoreState,
    KvUnpartitionedModel, RegisterInput, RegisterModel, RegisterOutput, VersionedKvInput,
    VersionedKvModel, VersionedKvOutput, VersionedKvState,
};
pub use result::{
    CheckResult, GaveUp, Outcome, PartialLinearization, PartitionResult, Refutation, Verdict,
};
