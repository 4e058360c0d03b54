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

use serde_json::{Map, Value};

use crate::history::Operation;
use crate::model::{History, Model};

/// A model whose inputs and outputs have a JSON form.
pub trait JsonModel: Model {
    /// Parses an `input` object; the error says what is wrong with it.
    fn input_from_json(&self, input: &Value) -> Result<Self::Input, String>;
    /// Parses the `output` object of an operation with `input`.
    fn output_from_json(&self, input: &Self::Input, output: &Value)
    -> Result<Self::Output, String>;
    /// The JSON form of an input; `input_from_json` inverts it.
    fn input_to_json(&self, input: &Self::Input) -> Value;
    /// The JSON form of an output; `output_from_json` inverts it.
    fn output_to_json(&self, output: &Self::Output) -> Value;
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
    line: &str,
) -> Result<Operation<M::Input, M::Output>, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let map = as_object(&value, "an operation")?;
    only_fields(map, &["client", "call", "return", "input", "output"])?;
    let client = required_u64(map, "client")?;
    let call = required_u64(map, "call")?;
    let ret = match required(map, "return")? {
        Value::Null => None,
        v => Some(
            v.as_u64()
                .ok_or("\"return\" must be a non-negative integer or null")?,
        ),
    };
    if let Some(ret) = ret
        && ret < call
    {
        return Err(format!("returns at {ret}, before its call at {call}"));
    }
    let input = model
        .input_from_json(required(map, "input")?)
        .map_err(|e| format!("input: {e}"))?;
    let output = match required(map, "output")? {
        Value::Null => None,
        _ if ret.is_none() => {
            return Err(String::from(
                "an operation that never returned (\"return\": null) cannot have an output; use \"output\": null",
            ));
        }
        v => Some(
            model
                .output_from_json(&input, v)
                .map_err(|e| format!("output: {e}"))?,
        ),
    };
    Ok(Operation {
        client,
        input,
        call,
        output,
        ret,
    })
}

/// Writes `history` as JSON lines, one operation a line.
pub fn write_history<M: JsonModel>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    mut writer: impl Write,
) -> io::Result<()> {
    for op in history {
        let mut map = Map::new();
        map.insert("client".into(), op.client.into());
        map.insert("call".into(), op.call.into());
        map.insert("return".into(), op.ret.map_or(Value::Null, Value::from));
        map.insert("input".into(), model.input_to_json(&op.input));
        let output = op
            .known_output()
            .map_or(Value::Null, |o| model.output_to_json(o));
        map.insert("output".into(), output);
        serde_json::to_writer(&mut writer, &Value::Object(map))?;
        writer.write_all(b"\n")?;
    }
    writer.flush()
}

// Helpers for models' JSON forms.

pub(crate) fn as_object<'a>(
    value: &'a Value,
    what: &str,
) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{what} must be a JSON object, not {value}"))
}

pub(crate) fn only_fields(map: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) if allowed.is_empty() => Err(format!("unexpected field \"{k}\"")),
        Some(k) => Err(format!(
            "unknown field \"{k}\" (expected {})",
            allowed
                .iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        None => Ok(()),
    }
}

pub(crate) fn required<'a>(map: &'a Map<String, Value>, field: &str) -> Result<&'a Value, String> {
    map.get(field)
        .ok_or_else(|| format!("missing field \"{field}\""))
}

pub(crate) fn required_u64(map: &Map<String, Value>, field: &str) -> Result<u64, String> {
    required(map, field)?
        .as_u64()
        .ok_or_else(|| format!("\"{field}\" must be a non-negative integer"))
}

pub(crate) fn required_i64(map: &Map<String, Value>, field: &str) -> Result<i64, String> {
    required(map, field)?
        .as_i64()
        .ok_or_else(|| format!("\"{field}\" must be an integer"))
}

pub(crate) fn required_str<'a>(
    map: &'a Map<String, Value>,
    field: &str,
) -> Result<&'a str, String> {
    required(map, field)?
        .as_str()
        .ok_or_else(|| format!("\"{field}\" must be a string"))
}

pub(crate) fn op_name<'a>(map: &'a Map<String, Value>, ops: &[&str]) -> Result<&'a str, String> {
    let op = required_str(map, "op")?;
    if ops.contains(&op) {
        Ok(op)
    } else {
        Err(format!(
            "unknown op \"{op}\" (expected {})",
            ops.iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}
