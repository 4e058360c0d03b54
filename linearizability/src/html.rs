//! The HTML view of a checked history: one self-contained file (inline CSS
//! and JavaScript, no network) that shows, per partition, each client's
//! operations on a time axis, the linearization found (or the longest
//! partial ones and the operations that cannot go next), and annotations
//! such as network partitions and crashes.
//!
//! Times are shown relative to the earliest event and formatted as
//! nanoseconds (the labs' virtual time unit). The page offers two scales:
//! event order (every distinct timestamp one step apart, like porcupine's
//! view; the default) and real time, plus zoom.

use std::io;
use std::path::Path;

use serde_json::{Value, json};

use crate::history::Operation;
use crate::model::Model;
use crate::result::{CheckResult, Outcome, PartialLinearization};

/// Something that happened during the run, drawn beside the operations: an
/// interval (a partition, a leader's term) or a point event (a crash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// The row it is drawn in; annotations with the same tag share a row.
    pub tag: String,
    pub start: u64,
    /// `None` for a point event.
    pub end: Option<u64>,
    pub text: String,
}

impl Annotation {
    /// An interval `[start, end]` in the default row `"events"`.
    pub fn interval(start: u64, end: u64, text: impl Into<String>) -> Self {
        Annotation {
            tag: String::from("events"),
            start,
            end: Some(end.max(start)),
            text: text.into(),
        }
    }

    /// A point event in the default row `"events"`.
    pub fn point(time: u64, text: impl Into<String>) -> Self {
        Annotation {
            tag: String::from("events"),
            start: time,
            end: None,
            text: text.into(),
        }
    }

    /// The same annotation in row `tag`.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = tag.into();
        self
    }
}

/// Writes [`render_html`]'s page to `path`.
pub fn write_html<M: Model>(
    path: impl AsRef<Path>,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    result: &CheckResult,
    annotations: &[Annotation],
) -> io::Result<()> {
    std::fs::write(path, render_html(model, history, result, annotations))
}

/// The view as one HTML document. `result` must come from checking
/// `history` against `model`.
pub fn render_html<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    result: &CheckResult,
    annotations: &[Annotation],
) -> String {
    let data = view_data(model, history, result, annotations);
    // `<` never appears in JSON outside strings, and `\u003c` inside a
    // string means the same: the data cannot close the script element.
    let data = serde_json::to_string(&data)
        .expect("view data serializes")
        .replace('<', "\\u003c");
    let title = format!("Linearizability: {}", result.verdict);
    format!(
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<title>{title}</title>\n<style>\n{css}</style>\n</head>\n<body>\n",
            "<div id=\"app\"></div>\n",
            "<noscript>This view draws the history with JavaScript; enable it to see the timeline.</noscript>\n",
            "<script id=\"data\" type=\"application/json\">{data}</script>\n",
            "<script>\n{js}</script>\n</body>\n</html>\n"
        ),
        title = escape_html(&title),
        css = include_str!("html/view.css"),
        data = data,
        js = include_str!("html/view.js"),
    )
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn view_data<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    result: &CheckResult,
    annotations: &[Annotation],
) -> Value {
    let ops: Vec<Value> = history
        .iter()
        .map(|op| {
            json!({
                "client": op.client,
                "call": op.call,
                "ret": op.ret,
                "desc": model.describe_operation(&op.input, op.known_output()),
            })
        })
        .collect();
    let initial = model.describe_state(&model.init());
    let partitions: Vec<Value> = result
        .partitions
        .iter()
        .map(|p| {
            let (complete, prefixes): (bool, Vec<PartialLinearization>) = match &p.outcome {
                Outcome::Linearizable { order } => (
                    true,
                    vec![PartialLinearization {
                        order: order.clone(),
                        stuck: Vec::new(),
                    }],
                ),
                Outcome::NotLinearizable { longest } | Outcome::Unknown { longest } => {
                    (false, longest.clone())
                }
                Outcome::NotChecked => (false, Vec::new()),
            };
            let linearizations: Vec<Value> = prefixes
                .iter()
                .map(|lin| {
                    json!({
                        "order": lin.order,
                        "states": states_after(model, history, &lin.order),
                        "stuck": lin.stuck,
                    })
                })
                .collect();
            json!({
                "label": p.label,
                "verdict": match p.outcome {
                    Outcome::NotChecked => String::from("not checked"),
                    _ => p.outcome.verdict().to_string(),
                },
                "complete": complete,
                "ops": p.ops,
                "linearizations": linearizations,
            })
        })
        .collect();
    let annotations: Vec<Value> = annotations
        .iter()
        .map(|a| json!({"tag": a.tag, "start": a.start, "end": a.end, "text": a.text}))
        .collect();
    json!({
        "verdict": result.verdict.to_string(),
        "explanation": result.explain(model, history),
        "elapsedMs": result.elapsed.as_secs_f64() * 1e3,
        "initial": initial,
        "ops": ops,
        "partitions": partitions,
        "annotations": annotations,
    })
}

/// The description of the state after each operation of `order`.
fn states_after<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    order: &[usize],
) -> Vec<String> {
    let mut state = model.init();
    order
        .iter()
        .map(|&i| {
            let op = &history[i];
            match model.step(&state, &op.input, op.known_output()) {
                Some(next) => {
                    state = next;
                    model.describe_state(&state)
                }
                None => String::from("(illegal step: the result does not match this history)"),
            }
        })
        .collect()
}
