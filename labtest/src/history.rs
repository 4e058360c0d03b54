//! A key/value history recorded on virtual time, checked for
//! linearizability, with an annotated HTML view on a violation.
//!
//! A grader's clerk wrapper calls [`History::call`] before each operation
//! and [`History::finish`] after it; the harness notes what happened to the
//! system ([`History::note`]: crashes, configuration changes;
//! [`History::interval`]: partitions) and calls [`History::check`] at the
//! end of the test. [`KvHistory`] is the plain KV service's history,
//! [`VersionedKvHistory`] the versioned one's. Every call and return is a
//! trace event too, so the failure page draws the history.

use std::cell::RefCell;
use std::fmt;
use std::time::Duration;

use labrpc::time::Instant;
use linearizability::{
    Annotation, CheckOptions, CheckResult, KvModel, Model, OpId, Outcome, Recorder, Verdict,
    VersionedKvModel, check_with,
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

/// One test's history of operations (of model `M`) and the events around
/// them.
pub struct History<M: Model> {
    model: M,
    recorder: Recorder<M::Input, M::Output>,
    annotations: RefCell<Vec<Annotation>>,
}

/// A history of plain key/value operations (Get, Put, Append).
pub type KvHistory = History<KvModel>;

/// A history of versioned key/value operations (the 2025/26 course's
/// Get and conditional Put).
pub type VersionedKvHistory = History<VersionedKvModel>;

impl<M: Model + Default> Default for History<M> {
    fn default() -> Self {
        History {
            model: M::default(),
            recorder: Recorder::new(),
            annotations: RefCell::default(),
        }
    }
}

fn now() -> u64 {
    Instant::now().as_nanos()
}

impl<M> History<M>
where
    M: Model + Default,
    M::Input: Clone + fmt::Debug,
    M::Output: Clone + fmt::Debug,
{
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the call of `input` by `client`, now (and in the trace).
    pub fn call(&self, client: u64, input: M::Input) -> OpId {
        trace_call(self.recorder.len(), client, &input);
        self.recorder.call(client, input, now())
    }

    /// Records the return of `op`, now (and in the trace).
    pub fn finish(&self, op: OpId, output: M::Output) {
        trace_return(op.index(), &output);
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

    /// The operations recorded so far, in call order.
    pub fn history(&self) -> Vec<linearizability::Operation<M::Input, M::Output>> {
        self.recorder.history()
    }

    /// Checks the history for linearizability (by key), on the checker's
    /// fast path: it stops at the first key proven not linearizable, within
    /// [`CHECK_TIMEOUT`] and [`CHECK_MAX_MEMORY`] (undecided passes with a
    /// note). On a violation writes the view to
    /// `<tmp>/<lab>-<test>-seed<N>.html` and panics with its path and the
    /// checker's explanation.
    pub fn check(&self, lab: &str) {
        self.check_with(lab, &[]);
    }

    /// [`History::check`], with `open` annotations drawn in the view too
    /// (e.g. a partition still in force when the check runs).
    #[allow(clippy::disallowed_methods)] // the checker runs on wall time
    pub fn check_with(&self, lab: &str, open: &[Annotation]) {
        let history = self.recorder.history();
        let result = check_with(&self.model, &history, &check_options());
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
                trace_violation(&result);
                let test = std::thread::current()
                    .name()
                    .unwrap_or(lab)
                    .replace("::", "-");
                let path = std::env::temp_dir()
                    .join(format!("{lab}-{test}-seed{}.html", labrpc::rand::seed()));
                let mut annotations = self.annotations.borrow().clone();
                annotations.extend_from_slice(open);
                let written = linearizability::write_html(
                    &path,
                    &self.model,
                    &history,
                    &result,
                    &annotations,
                );
                let where_ = match written {
                    Ok(()) => format!("history visualization in {}", path.display()),
                    Err(e) => format!("(could not write the visualization: {e})"),
                };
                panic!(
                    "history is not linearizable; {where_}\n{}",
                    result.explain(&self.model, &history)
                );
            }
        }
    }
}

/// The longest text of an operation the trace keeps (an append-heavy
/// test's values grow to kilobytes; the checker's message has them whole).
const TRACE_TEXT_MAX: usize = 120;

fn short(value: impl fmt::Debug) -> String {
    let text = format!("{value:?}");
    match text.char_indices().nth(TRACE_TEXT_MAX) {
        Some((at, _)) => format!("{}… ({} chars)", &text[..at], text.chars().count()),
        None => text,
    }
}

/// Records in the trace that `client` called operation `op` (its index in
/// the history) with `input`: a `kv_call` lab event, which `lab replay
/// --html` draws as the start of the operation's bar.
pub fn trace_call(op: usize, client: u64, input: impl fmt::Debug) {
    labrpc::trace::event_with(
        "kv_call",
        [
            ("op", op.into()),
            ("client", client.into()),
            ("input", short(input).into()),
        ],
    );
}

/// Records in the trace that operation `op` returned `output`
/// (`kv_return`).
pub fn trace_return(op: usize, output: impl fmt::Debug) {
    labrpc::trace::event_with(
        "kv_return",
        [("op", op.into()), ("output", short(output).into())],
    );
}

/// Records in the trace the operations of a failed check
/// (`kv_violation`), one event per violating partition: `ops`, the ones
/// the violation is about (the refutation's, else those no linearization
/// could place next), and `partition`, all of the partition's (history
/// indices, space-separated).
pub fn trace_violation(result: &CheckResult) {
    let list = |ops: &[usize]| {
        ops.iter()
            .map(|o| o.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    for p in result.violations() {
        let mut culprits: Vec<usize> = match (&p.refutation, &p.outcome) {
            (Some(r), _) => r.ops.clone(),
            (None, Outcome::NotLinearizable { longest }) => longest
                .iter()
                .flat_map(|l| l.stuck.iter().copied())
                .collect(),
            _ => Vec::new(),
        };
        culprits.sort_unstable();
        culprits.dedup();
        let why = p.refutation.as_ref().map_or("", |r| r.reason.as_str());
        labrpc::trace::event_with(
            "kv_violation",
            [
                ("label", p.label.as_str().into()),
                ("ops", list(&culprits).into()),
                ("partition", list(&p.ops).into()),
                ("why", why.into()),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use labrpc::trace::EventKind;
    use linearizability::{KvInput, KvOutput};

    /// A stale read: client 2 reads "" after client 1's put of "1" to the
    /// same key returned. The trace names both operations and the read as
    /// the one no linearization can place.
    #[test]
    #[allow(clippy::disallowed_methods)] // the checker runs on wall time
    fn a_violation_is_recorded_in_the_trace_with_its_operations() {
        let report = labrpc::Builder::new()
            .seed(1)
            .record_trace(true)
            .run(|| async {
                let h = KvHistory::new();
                let put = h.call(1, KvInput::put("x", "1"));
                labrpc::time::sleep(Duration::from_millis(1)).await;
                h.finish(put, KvOutput::Done);
                labrpc::time::sleep(Duration::from_millis(1)).await;
                let get = h.call(2, KvInput::get("x"));
                labrpc::time::sleep(Duration::from_millis(1)).await;
                h.finish(get, KvOutput::value(""));
                let history = h.recorder.history();
                trace_violation(&check_with(&KvModel, &history, &check_options()));
            });
        let labs: Vec<(String, String)> = report
            .trace
            .unwrap()
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::Lab { topic, fields } => Some((topic.to_string(), fields.to_string())),
                _ => None,
            })
            .collect();
        let topics: Vec<&str> = labs.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            topics,
            [
                "kv_call",
                "kv_return",
                "kv_call",
                "kv_return",
                "kv_violation"
            ]
        );
        let violation = &labs[4].1;
        assert!(violation.contains("ops=1 partition=0 1"), "{violation}");
        assert!(labs[0].1.contains("op=0"), "{}", labs[0].1);
    }
}
