//! A key/value history recorded on virtual time, checked for
//! linearizability, with an annotated HTML view on a violation.
//!
//! A grader's clerk wrapper calls [`KvHistory::call`] before each
//! operation and [`KvHistory::finish`] after it; the harness notes what
//! happened to the system ([`KvHistory::note`]: crashes, configuration
//! changes; [`KvHistory::interval`]: partitions) and calls
//! [`KvHistory::check`] at the end of the test.

use std::cell::RefCell;
use std::time::Duration;

use labrpc::time::Instant;
use linearizability::{
    Annotation, CheckOptions, KvInput, KvModel, KvOutput, OpId, Recorder, Verdict, check_with,
};

/// Wall-clock budget of the check (6.824's is 1 s); a search still
/// undecided then passes with a note, as in 6.824.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// The memory a grader's check may hold: far above what the labs'
/// histories need (a few MB), far below what would trouble a machine
/// running tests in parallel. Undecided at the limit passes with a note,
/// as a timeout does.
pub const CHECK_MAX_MEMORY: usize = 512 << 20;

/// How graders check a history: [`CHECK_TIMEOUT`], [`CHECK_MAX_MEMORY`],
/// stopping at the first violation.
pub fn check_options() -> CheckOptions<'static> {
    CheckOptions {
        timeout: Some(CHECK_TIMEOUT),
        max_memory: Some(CHECK_MAX_MEMORY),
        ..CheckOptions::default()
    }
}

/// One test's history of key/value operations and the events around them.
#[derive(Default)]
pub struct KvHistory {
    recorder: Recorder<KvInput, KvOutput>,
    annotations: RefCell<Vec<Annotation>>,
}

fn now() -> u64 {
    Instant::now().as_nanos()
}

impl KvHistory {
    /// An empty history.
    pub fn new() -> KvHistory {
        KvHistory::default()
    }

    /// Records the call of `input` by `client`, now.
    pub fn call(&self, client: u64, input: KvInput) -> OpId {
        self.recorder.call(client, input, now())
    }

    /// Records the return of `op`, now.
    pub fn finish(&self, op: OpId, output: KvOutput) {
        self.recorder.finish(op, output, now());
    }

    /// Notes an event at this instant, in row `tag` of the view.
    pub fn note(&self, tag: &str, text: impl Into<String>) {
        self.annotations
            .borrow_mut()
            .push(Annotation::point(now(), text).tag(tag));
    }

    /// Notes an interval (virtual nanoseconds), in row `tag` of the view.
    pub fn interval(&self, tag: &str, start: u64, end: u64, text: impl Into<String>) {
        self.annotations
            .borrow_mut()
            .push(Annotation::interval(start, end, text).tag(tag));
    }

    /// Operations recorded so far.
    pub fn len(&self) -> usize {
        self.recorder.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.recorder.is_empty()
    }

    /// Checks the history for linearizability (KV model, by key), on the
    /// checker's fast path: it stops at the first key proven not
    /// linearizable. On a violation writes the view to
    /// `<tmp>/<lab>-<test>-seed<N>.html` and panics with its path and the
    /// checker's explanation.
    pub fn check(&self, lab: &str) {
        self.check_with(lab, &[]);
    }

    /// [`KvHistory::check`], with `open` annotations drawn in the view too
    /// (e.g. a partition still in force when the check runs).
    #[allow(clippy::disallowed_methods)] // the checker runs on wall time
    pub fn check_with(&self, lab: &str, open: &[Annotation]) {
        let history = self.recorder.history();
        let result = check_with(&KvModel, &history, &check_options());
        match result.verdict {
            Verdict::Linearizable => {}
            Verdict::Unknown => println!(
                "  linearizability check of {} operations undecided ({}); assuming ok",
                history.len(),
                result
                    .gave_up
                    .map_or_else(String::new, |why| why.to_string())
            ),
            Verdict::NotLinearizable => {
                let test = std::thread::current()
                    .name()
                    .unwrap_or(lab)
                    .replace("::", "-");
                let path = std::env::temp_dir()
                    .join(format!("{lab}-{test}-seed{}.html", labrpc::rand::seed()));
                let mut annotations = self.annotations.borrow().clone();
                annotations.extend_from_slice(open);
                let written =
                    linearizability::write_html(&path, &KvModel, &history, &result, &annotations);
                let where_ = match written {
                    Ok(()) => format!("history visualization in {}", path.display()),
                    Err(e) => format!("(could not write the visualization: {e})"),
                };
                panic!(
                    "history is not linearizable; {where_}\n{}",
                    result.explain(&KvModel, &history)
                );
            }
        }
    }
}
