//! What a check found: a verdict for the history and for each partition,
//! with the evidence the view and the error messages show.

use std::fmt;
use std::time::Duration;

use crate::history::Operation;
use crate::model::Model;

/// The answer to "is this history linearizable?".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// A linearization exists (one is given).
    Linearizable,
    /// No linearization exists: the history is wrong, whatever the timeout.
    NotLinearizable,
    /// The search stopped before it could decide: the timeout, the memory
    /// limit or the caller ([`CheckResult::gave_up`] says which).
    Unknown,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Linearizable => "linearizable",
            Verdict::NotLinearizable => "not linearizable",
            Verdict::Unknown => "unknown",
        })
    }
}

/// A linearizable prefix that could not be extended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartialLinearization {
    /// History indices in linearization order. Replaying them from the
    /// initial state is legal, and the order respects real time.
    pub order: Vec<usize>,
    /// History indices of the operations that real time allows next but
    /// the model rejects in the state `order` leads to. For the longest
    /// prefixes of a non-linearizable partition this is every operation
    /// that could come next.
    pub stuck: Vec<usize>,
}

/// A partition's verdict with its evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `order` (history indices) is a linearization: it holds every
    /// completed operation of the partition and the pending ones that had
    /// to take effect (the others never did).
    Linearizable { order: Vec<usize> },
    /// The longest linearizable prefixes found (at least one, all of the
    /// same, maximal, length; a few distinct ones at most).
    NotLinearizable { longest: Vec<PartialLinearization> },
    /// Cancelled; the longest prefixes found so far (possibly none).
    Unknown { longest: Vec<PartialLinearization> },
    /// Not searched to the end because another partition was already
    /// proven not linearizable (the default fast path of [`crate::check`];
    /// [`crate::CheckOptions::all`] searches every partition).
    NotChecked,
}

impl Outcome {
    pub fn verdict(&self) -> Verdict {
        match self {
            Outcome::Linearizable { .. } => Verdict::Linearizable,
            Outcome::NotLinearizable { .. } => Verdict::NotLinearizable,
            Outcome::Unknown { .. } | Outcome::NotChecked => Verdict::Unknown,
        }
    }
}

/// A cheap proof that a partition is not linearizable, found before (or
/// instead of) the full search by [`crate::Model::refute`].
///
/// Sound: a model returns one only when no linearization can exist, so a
/// refuted partition is `NotLinearizable` whatever the search would say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refutation {
    /// History indices of the operations the argument is about, the
    /// impossible one (usually a read) first.
    pub ops: Vec<usize>,
    /// Why no linearization exists, in words, naming those operations.
    pub reason: String,
}

/// One partition of the history and its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionResult {
    /// The partition's label, e.g. `key "x"`.
    pub label: String,
    /// History indices of its operations, increasing.
    pub ops: Vec<usize>,
    /// For a `NotLinearizable` partition, its longest linearizable
    /// prefixes. They may be missing (`longest` empty) only when
    /// `refutation` proved the violation and the search for the prefixes
    /// ran out of time.
    pub outcome: Outcome,
    /// The cheap proof of the violation, when one was found.
    pub refutation: Option<Refutation>,
}

/// The result of [`crate::check`].
///
/// `verdict` is `NotLinearizable` if any partition is (a violation is a
/// violation even when other partitions timed out or were not checked),
/// else `Unknown` if any partition is, else `Linearizable`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    pub verdict: Verdict,
    /// In the order the model's `partition` returned them.
    pub partitions: Vec<PartitionResult>,
    /// Wall-clock time the check took.
    pub elapsed: Duration,
    /// For an `Unknown` verdict, why the search stopped.
    pub gave_up: Option<GaveUp>,
    /// The most memory the searches held at once, in bytes (as counted
    /// against [`crate::CheckOptions::max_memory`]).
    pub peak_memory: usize,
}

/// Why a check stopped before deciding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GaveUp {
    /// The timeout ([`crate::CheckOptions::timeout`]) ran out.
    Timeout { after: Duration },
    /// The searches reached the memory limit
    /// ([`crate::CheckOptions::max_memory`]), in bytes.
    Memory { limit: usize },
    /// The caller's cancel flag was set.
    Cancelled,
}

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GaveUp::Timeout { after } => write!(
                f,
                "the search ran out of time ({:.1} s); give it longer (lincheck --timeout SECS)",
                after.as_secs_f64()
            ),
            GaveUp::Memory { limit } => write!(
                f,
                "the search reached its memory limit ({}) before deciding; a larger limit \
                 (lincheck --max-memory SIZE) may decide it, and a KV history is far cheaper \
                 to check key by key (without --no-partition); a time limit \
                 (--timeout SECS) stops it sooner",
                mib(*limit)
            ),
            GaveUp::Cancelled => f.write_str("the caller cancelled the search"),
        }
    }
}

/// `2.0 GiB`: a size for people.
pub(crate) fn mib(bytes: usize) -> String {
    bytesize::ByteSize::b(bytes as u64)
        .display()
        .iec()
        .to_string()
}

impl CheckResult {
    pub fn is_linearizable(&self) -> bool {
        self.verdict == Verdict::Linearizable
    }

    /// The partitions that are not linearizable.
    pub fn violations(&self) -> impl Iterator<Item = &PartitionResult> {
        self.partitions
            .iter()
            .filter(|p| p.outcome.verdict() == Verdict::NotLinearizable)
    }

    /// A human explanation: the verdict and, for each violating partition,
    /// where its longest linearization stops and which operations cannot
    /// go next, in what state. Meant for a failing test's message.
    pub fn explain<M: Model>(
        &self,
        model: &M,
        history: &[Operation<M::Input, M::Output>],
    ) -> String {
        let total = self.partitions.len();
        let count = |v: Verdict| {
            self.partitions
                .iter()
                .filter(|p| p.outcome.verdict() == v)
                .count()
        };
        let mut out = format!(
            "{}: {} operations in {} partition{}",
            self.verdict,
            history.len(),
            total,
            if total == 1 { "" } else { "s" }
        );
        match self.verdict {
            Verdict::Linearizable => {}
            Verdict::NotLinearizable => {
                out += &format!(", {} not linearizable", count(Verdict::NotLinearizable));
                let skipped = self
                    .partitions
                    .iter()
                    .filter(|p| p.outcome == Outcome::NotChecked)
                    .count();
                if skipped > 0 {
                    out += &format!(
                        ", {skipped} not checked (the check stops at the first violation; \
                         `lincheck --all` / `CheckOptions::all` explains every partition)"
                    );
                }
            }
            Verdict::Unknown => {
                out += &format!(", {} undecided", count(Verdict::Unknown));
                if let Some(why) = self.gave_up {
                    out += &format!(": {why}");
                }
            }
        }
        out += &format!(" (checked in {:.1} ms)\n", self.elapsed.as_secs_f64() * 1e3);
        for p in self.violations() {
            let Outcome::NotLinearizable { longest } = &p.outcome else {
                continue;
            };
            if let Some(refutation) = &p.refutation {
                out += &format!(
                    "{} ({} operations): {}\n",
                    p.label,
                    p.ops.len(),
                    refutation.reason
                );
                for &i in &refutation.ops {
                    out += &format!("    {}\n", describe(model, history, i));
                }
            }
            let Some(prefix) = longest.first() else {
                if p.refutation.is_some() {
                    out += "  (the search for the longest linearizable prefix ran out of time)\n";
                }
                continue;
            };
            let mut state = model.init();
            for &i in &prefix.order {
                if let Some(next) = model.step(&state, &history[i].input, history[i].known_output())
                {
                    state = next;
                }
            }
            out += &format!(
                "{} ({} operations): the longest linearizable prefix has {} operation{}",
                p.label,
                p.ops.len(),
                prefix.order.len(),
                if prefix.order.len() == 1 { "" } else { "s" }
            );
            let shown = prefix.order.len().saturating_sub(3);
            if !prefix.order.is_empty() {
                out += &format!(", ending{}", if shown > 0 { " ..." } else { "" });
                for &i in &prefix.order[shown..] {
                    out += &format!("\n    {}", describe(model, history, i));
                }
            }
            out += &format!(
                "\n  in state {}, none of these can go next:",
                model.describe_state(&state)
            );
            for &i in &prefix.stuck {
                out += &format!("\n    {}", describe(model, history, i));
            }
            out.push('\n');
        }
        out
    }
}

/// `client 3 [1200000, 1350000]: get("x") -> "1"`.
pub(crate) fn describe<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    i: usize,
) -> String {
    let op = &history[i];
    let ret = op
        .ret
        .map_or(String::from("never returned"), |r| r.to_string());
    format!(
        "client {} [{}, {}]: {}",
        op.client,
        op.call,
        ret,
        model.describe_operation(&op.input, op.known_output())
    )
}
