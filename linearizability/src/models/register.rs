//! A read/write register of integers, initially 0.
//!
//! JSON: input `{"op": "read"}` or `{"op": "write", "value": 5}`; output
//! `{"value": 5}` for a read, `{}` for a write.

use serde::{Deserialize, Serialize};

use crate::format::{JsonModel, MaybeValue};
use crate::model::Model;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "RegisterOp", into = "RegisterOp")]
pub enum RegisterInput {
    Read,
    Write(i64),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "MaybeValue<i64>", into = "MaybeValue<i64>")]
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
    fn expected_output(
        &self,
        input: &RegisterInput,
        output: &RegisterOutput,
    ) -> Option<&'static str> {
        match (input, output) {
            (RegisterInput::Read, RegisterOutput::Done) => {
                Some("a read's output is {\"value\": 5}")
            }
            (RegisterInput::Write(_), RegisterOutput::Value(_)) => Some("a write's output is {}"),
            _ => None,
        }
    }
}

/// The JSON form of a register input: `{"op": "read"}`, `{"op": "write",
/// "value": 5}`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
enum RegisterOp {
    Read,
    Write { value: i64 },
}

impl From<RegisterOp> for RegisterInput {
    fn from(op: RegisterOp) -> Self {
        match op {
            RegisterOp::Read => RegisterInput::Read,
            RegisterOp::Write { value } => RegisterInput::Write(value),
        }
    }
}

impl From<RegisterInput> for RegisterOp {
    fn from(input: RegisterInput) -> Self {
        match input {
            RegisterInput::Read => RegisterOp::Read,
            RegisterInput::Write(value) => RegisterOp::Write { value },
        }
    }
}

impl From<MaybeValue<i64>> for RegisterOutput {
    fn from(m: MaybeValue<i64>) -> Self {
        m.value.map_or(RegisterOutput::Done, RegisterOutput::Value)
    }
}

impl From<RegisterOutput> for MaybeValue<i64> {
    fn from(o: RegisterOutput) -> Self {
        MaybeValue {
            value: match o {
                RegisterOutput::Value(v) => Some(v),
                RegisterOutput::Done => None,
            },
        }
    }
}
