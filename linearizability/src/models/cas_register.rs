//! A compare-and-set register of integers, initially absent (Jepsen's etcd
//! register).
//!
//! `cas(from, to)` succeeds, and sets `to`, iff the register holds `from`;
//! it fails on an absent register. JSON: input `{"op": "read"}`,
//! `{"op": "write", "value": 5}` or `{"op": "cas", "from": 1, "to": 2}`;
//! output `{"value": 5}` or `{"value": null}` (absent) for a read, `{}` for
//! a write, `{"ok": true | false}` for a cas.

use serde_json::{Map, Value, json};

use crate::format::{JsonModel, as_object, only_fields, op_name, required, required_i64};
use crate::model::Model;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CasInput {
    Read,
    Write(i64),
    Cas { from: i64, to: i64 },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CasOutput {
    /// A read's value; `None` if absent.
    Value(Option<i64>),
    /// A write's acknowledgement.
    Done,
    /// Whether a cas succeeded.
    Cas(bool),
}

/// The compare-and-set register model; one partition.
#[derive(Clone, Copy, Debug, Default)]
pub struct CasRegisterModel;

impl Model for CasRegisterModel {
    type Input = CasInput;
    type Output = CasOutput;
    type State = Option<i64>;

    fn init(&self) -> Option<i64> {
        None
    }

    fn step(
        &self,
        state: &Option<i64>,
        input: &CasInput,
        output: Option<&CasOutput>,
    ) -> Option<Option<i64>> {
        match (input, output) {
            (CasInput::Read, None) => Some(*state),
            (CasInput::Read, Some(CasOutput::Value(v))) => (v == state).then_some(*state),
            (CasInput::Write(v), None | Some(CasOutput::Done)) => Some(Some(*v)),
            (CasInput::Cas { from, to }, output) => {
                let matches = *state == Some(*from);
                let next = if matches { Some(*to) } else { *state };
                match output {
                    None => Some(next),
                    Some(CasOutput::Cas(ok)) => (*ok == matches).then_some(next),
                    Some(_) => None,
                }
            }
            (CasInput::Read, Some(_)) | (CasInput::Write(_), Some(_)) => None,
        }
    }

    /// Reads, and compare-and-sets known to have failed.
    fn is_read_only(&self, input: &CasInput, output: Option<&CasOutput>) -> bool {
        matches!(
            (input, output),
            (CasInput::Read, _) | (CasInput::Cas { .. }, Some(CasOutput::Cas(false)))
        )
    }

    fn describe_operation(&self, input: &CasInput, output: Option<&CasOutput>) -> String {
        let call = match input {
            CasInput::Read => String::from("read()"),
            CasInput::Write(v) => format!("write({v})"),
            CasInput::Cas { from, to } => format!("cas({from}, {to})"),
        };
        match output {
            None => format!("{call} -> ?"),
            Some(CasOutput::Value(Some(v))) => format!("{call} -> {v}"),
            Some(CasOutput::Value(None)) => format!("{call} -> absent"),
            Some(CasOutput::Done) => call,
            Some(CasOutput::Cas(ok)) => format!("{call} -> {ok}"),
        }
    }

    fn describe_state(&self, state: &Option<i64>) -> String {
        match state {
            Some(v) => v.to_string(),
            None => String::from("absent"),
        }
    }
}

impl JsonModel for CasRegisterModel {
    fn input_from_json(&self, input: &Value) -> Result<CasInput, String> {
        let map = as_object(input, "a cas-register input")?;
        match op_name(map, &["read", "write", "cas"])? {
            "read" => {
                only_fields(map, &["op"])?;
                Ok(CasInput::Read)
            }
            "write" => {
                only_fields(map, &["op", "value"])?;
                Ok(CasInput::Write(required_i64(map, "value")?))
            }
            _ => {
                only_fields(map, &["op", "from", "to"])?;
                Ok(CasInput::Cas {
                    from: required_i64(map, "from")?,
                    to: required_i64(map, "to")?,
                })
            }
        }
    }

    fn output_from_json(&self, input: &CasInput, output: &Value) -> Result<CasOutput, String> {
        let map = as_object(output, "a cas-register output")?;
        match input {
            CasInput::Read => {
                only_fields(map, &["value"])?;
                match required(map, "value")? {
                    Value::Null => Ok(CasOutput::Value(None)),
                    v => v.as_i64().map(|v| CasOutput::Value(Some(v))).ok_or_else(|| {
                        String::from("\"value\" must be an integer or null: a read's output is {\"value\": 5} or {\"value\": null}")
                    }),
                }
            }
            CasInput::Write(_) => {
                only_fields(map, &[]).map_err(|e| format!("{e}: a write's output is {{}}"))?;
                Ok(CasOutput::Done)
            }
            CasInput::Cas { .. } => {
                only_fields(map, &["ok"])?;
                required(map, "ok")?
                    .as_bool()
                    .map(CasOutput::Cas)
                    .ok_or_else(|| String::from("\"ok\" must be true or false"))
            }
        }
    }

    fn input_to_json(&self, input: &CasInput) -> Value {
        match input {
            CasInput::Read => json!({"op": "read"}),
            CasInput::Write(v) => json!({"op": "write", "value": v}),
            CasInput::Cas { from, to } => json!({"op": "cas", "from": from, "to": to}),
        }
    }

    fn output_to_json(&self, output: &CasOutput) -> Value {
        match output {
            CasOutput::Value(v) => json!({ "value": v }),
            CasOutput::Done => Value::Object(Map::new()),
            CasOutput::Cas(ok) => json!({ "ok": ok }),
        }
    }
}
