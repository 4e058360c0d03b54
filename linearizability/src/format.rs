//! History files: JSON lines, one operation a line (docs/history-format.md).
//!
//! ```text
//! {"client": 3, "call": 1200000, "return": 1350000, "input": {...}, "output": {...}}
//! ```
//!
//! - `client`, `call`: non-negative integers; `return`: an integer not below
//!   `call`, or `null` if the operation never returned.
//! - `output`: the model's output object, or `null` if unknown. An
//!   operation that never returned must have `"output": null`.
//! - `input`/`output` objects are model-specific (see each model's docs);
//!   unknown fields are rejected so that typos do not pass silently.
//! - Blank lines are skipped. Line numbers in errors count from 1 and
//!   include blank lines.
//!
//! [`write_history`] writes the same format, so a lab can save a failing
//! history and replay it with `lincheck`.

use std::fmt;
use std::io::{self, BufRead, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::history::Operation;
use crate::model::{History, Model};

/// A model whose operations have a JSON form: its inputs and outputs are
/// serde types (each model's docs give their shapes; unknown fields are
/// refused). An output is read on its own, then checked against its input.
pub trait JsonModel:
    Model<Input: Serialize + DeserializeOwned, Output: Serialize + DeserializeOwned>
{
    /// `None` if `output` is one an operation with `input` can have; else
    /// the shape it should have (`a get's output is {"value": "..."}`).
    fn expected_output(&self, input: &Self::Input, output: &Self::Output) -> Option<&'static str>;
}

/// One line of a history file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(bound(deserialize = "I: Deserialize<'de>, O: Deserialize<'de>"))]
struct Line<I, O> {
    client: u64,
    call: u64,
    /// Required, `null` if the operation never returned.
    #[serde(rename = "return", deserialize_with = "present")]
    ret: Option<u64>,
    input: I,
    /// Required, `null` if unknown.
    #[serde(deserialize_with = "present")]
    output: Option<O>,
}

/// A field that must be present but may be `null` (serde would otherwise
/// read a missing `Option` field as `None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::deserialize(d)
}

/// `{"value": V}` or `{}`: the output of the models whose operations
/// return a value or nothing.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MaybeValue<V> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<V>,
}

/// A bad history file: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for FormatError {}

/// Parses a whole history file held in memory.
pub fn parse_history<M: JsonModel>(model: &M, text: &str) -> Result<History<M>, FormatError> {
    read_history(model, text.as_bytes())
}

/// Reads a history file; stops at the first bad line.
pub fn read_history<M: JsonModel>(
    model: &M,
    reader: impl BufRead,
) -> Result<History<M>, FormatError> {
    let mut ops = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line_no = index + 1;
        let line = line.map_err(|e| FormatError {
            line: line_no,
            message: format!("cannot read: {e}"),
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let op = parse_line(model, &line).map_err(|message| FormatError {
            line: line_no,
            message,
        })?;
        ops.push(op);
    }
    Ok(ops)
}

fn parse_line<M: JsonModel>(
    model: &M,
    text: &str,
) -> Result<Operation<M::Input, M::Output>, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        // The position is within the line: say "column", not "line 1".
        let message = e.to_string();
        let at = format!(" at line {} column {}", e.line(), e.column());
        let m = message.strip_suffix(&at).unwrap_or(&message);
        format!("invalid JSON: {m} (column {})", e.column())
    })?;
    if !value.is_object() {
        return Err(format!("an operation must be a JSON object, not {value}"));
    }
    let line: Line<M::Input, M::Output> =
        serde_json::from_value(value).map_err(|e| e.to_string())?;
    if let Some(ret) = line.ret
        && ret < line.call
    {
        return Err(format!(
            "returns at {ret}, before its call at {}",
            line.call
        ));
    }
    if let Some(output) = &line.output {
        if line.ret.is_none() {
            return Err(String::from(
                "an operation that never returned (\"return\": null) cannot have an output; use \"output\": null",
            ));
        }
        if let Some(shape) = model.expected_output(&line.input, output) {
            let found = serde_json::to_string(output).unwrap_or_default();
            return Err(format!("output {found} does not fit its input: {shape}"));
        }
    }
    Ok(Operation {
        client: line.client,
        input: line.input,
        call: line.call,
        output: line.output,
        ret: line.ret,
    })
}

/// Writes `history` as JSON lines, one operation a line.
pub fn write_history<M: JsonModel>(
    _model: &M,
    history: &[Operation<M::Input, M::Output>],
    mut writer: impl Write,
) -> io::Result<()> {
    for op in history {
        let line = Line {
            client: op.client,
            call: op.call,
            ret: op.ret,
            input: &op.input,
            output: op.known_output(),
        };
        serde_json::to_writer(&mut writer, &line)?;
        writer.write_all(b"\n")?;
    }
    writer.flush()
}
