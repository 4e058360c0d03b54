//! A read/write register of integers, initially 0.
//!
//! JSON: input `{"op": "read"}` or `{"op": "write", "value": 5}`; output
//! `{"value": 5}` for a read, `{}` for a write.

use serde_json::{Map, Value, json};

use crate::format::{JsonModel, as_object, only_fields, op_name, required_i64};
use crate::model::Model;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterInput {
    Read,
    Write(i64),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOutput {
    /// A read's value.
    Value(i64),
    /// A write's acknowledgement.
    Done,
}

/// The register model; one partition, state = the value.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegisterModel;

impl Model for RegisterModel {
    type Input = RegisterInput;
    type Output = RegisterOutput;
    type State = i64;

    fn init(&self) -> i64 {
        0
    }

    fn step(
        &self,
        state: &i64,
        input: &RegisterInput,
        output: Option<&RegisterOutput>,
    ) -> Option<i64> {
        match (input, output) {
            (RegisterInput::Read, None) => Some(*state),
            (RegisterInput::Read, Some(RegisterOutput::Value(v))) => (v == state).then_some(*state),
            (RegisterInput::Write(v), None | Some(RegisterOutput::Done)) => Some(*v),
            (RegisterInput::Read, Some(RegisterOutput::Done))
            | (RegisterInput::Write(_), Some(RegisterOutput::Value(_))) => None,
        }
    }

    fn is_read_only(&self, input: &RegisterInput, _output: Option<&RegisterOutput>) -> bool {
        matches!(input, RegisterInput::Read)
    }

    fn describe_operation(&self, input: &RegisterInput, output: Option<&RegisterOutput>) -> String {
        match (input, output) {
            (RegisterInput::Read, None) => String::from("read() -> ?"),
            (RegisterInput::Read, Some(RegisterOutput::Value(v))) => format!("read() -> {v}"),
            (RegisterInput::Read, Some(RegisterOutput::Done)) => {
                String::from("read() -> (nothing)")
            }
            (RegisterInput::Write(v), _) => format!("write({v})"),
        }
    }

    fn describe_state(&self, state: &i64) -> String {
        state.to_string()
    }
}

impl JsonModel for RegisterModel {
    fn input_from_json(&self, input: &Value) -> Result<RegisterInput, String> {
        let map = as_object(input, "a register input")?;
        match op_name(map, &["read", "write"])? {
            "read" => {
                only_fields(map, &["op"])?;
                Ok(RegisterInput::Read)
            }
            _ => {
                only_fields(map, &["op", "value"])?;
                Ok(RegisterInput::Write(required_i64(map, "value")?))
            }
        }
    }

    fn output_from_json(
        &self,
        input: &RegisterInput,
        output: &Value,
    ) -> Result<RegisterOutput, String> {
        let map = as_object(output, "a register output")?;
        match input {
            RegisterInput::Read => {
                only_fields(map, &["value"])?;
                Ok(RegisterOutput::Value(required_i64(map, "value").map_err(
                    |e| format!("{e}: a read's output is {{\"value\": 5}}"),
                )?))
            }
            RegisterInput::Write(_) => {
                only_fields(map, &[]).map_err(|e| format!("{e}: a write's output is {{}}"))?;
                Ok(RegisterOutput::Done)
            }
        }
    }

    fn input_to_json(&self, input: &RegisterInput) -> Value {
        match input {
            RegisterInput::Read => json!({"op": "read"}),
            RegisterInput::Write(v) => json!({"op": "write", "value": v}),
        }
    }

    fn output_to_json(&self, output: &RegisterOutput) -> Value {
        match output {
            RegisterOutput::Value(v) => json!({ "value": v }),
            RegisterOutput::Done => Value::Object(Map::new()),
        }
    }
}
