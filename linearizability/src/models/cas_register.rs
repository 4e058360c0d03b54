//! A compare-and-set register of integers, initially absent (Jepsen's etcd
//! register).
//!
//! `cas(from, to)` succeeds, and sets `to`, iff the register holds `from`;
//! it fails on an absent register. JSON: input `{"op": "read"}`,
//! `{"op": "write", "value": 5}` or `{"op": "cas", "from": 1, "to": 2}`;
//! output `{"value": 5}` or `{"value": null}` (absent) for a read, `{}` for
//! a write, `{"ok": true | false}` for a cas.

use serde::{Deserialize, Deserializer, Serialize};

use crate::format::JsonModel;
use crate::model::Model;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "CasOp", into = "CasOp")]
pub enum CasInput {
    Read,
    Write(i64),
    Cas { from: i64, to: i64 },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "CasReply", into = "CasReply")]
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
    fn expected_output(&self, input: &CasInput, output: &CasOutput) -> Option<&'static str> {
        match (input, output) {
            (CasInput::Read, CasOutput::Value(_))
            | (CasInput::Write(_), CasOutput::Done)
            | (CasInput::Cas { .. }, CasOutput::Cas(_)) => None,
            (CasInput::Read, _) => Some("a read's output is {\"value\": 5} or {\"value\": null}"),
            (CasInput::Write(_), _) => Some("a write's output is {}"),
            (CasInput::Cas { .. }, _) => {
                Some("a cas's output is {\"ok\": true} or {\"ok\": false}")
            }
        }
    }
}

/// The JSON form of a cas-register input: `{"op": "read"}`, `{"op":
/// "write", "value": 5}`, `{"op": "cas", "from": 1, "to": 2}`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
enum CasOp {
    Read,
    Write { value: i64 },
    Cas { from: i64, to: i64 },
}

impl From<CasOp> for CasInput {
    fn from(op: CasOp) -> Self {
        match op {
            CasOp::Read => CasInput::Read,
            CasOp::Write { value } => CasInput::Write(value),
            CasOp::Cas { from, to } => CasInput::Cas { from, to },
        }
    }
}

impl From<CasInput> for CasOp {
    fn from(input: CasInput) -> Self {
        match input {
            CasInput::Read => CasOp::Read,
            CasInput::Write(value) => CasOp::Write { value },
            CasInput::Cas { from, to } => CasOp::Cas { from, to },
        }
    }
}

/// The JSON form of a cas-register output: `{"value": 5}` or `{"value":
/// null}` (a read), `{}` (a write), `{"ok": true}` (a cas).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CasReply {
    /// Missing, or present and maybe `null`.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    value: Option<Option<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ok: Option<bool>,
}

fn some<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::deserialize(d).map(Some)
}

impl TryFrom<CasReply> for CasOutput {
    type Error = &'static str;

    fn try_from(r: CasReply) -> Result<Self, Self::Error> {
        match (r.value, r.ok) {
            (Some(v), None) => Ok(CasOutput::Value(v)),
            (None, Some(ok)) => Ok(CasOutput::Cas(ok)),
            (None, None) => Ok(CasOutput::Done),
            (Some(_), Some(_)) => Err("a cas-register output has \"value\" or \"ok\", not both"),
        }
    }
}

impl From<CasOutput> for CasReply {
    fn from(o: CasOutput) -> Self {
        let (value, ok) = match o {
            CasOutput::Value(v) => (Some(v), None),
            CasOutput::Done => (None, None),
            CasOutput::Cas(ok) => (None, Some(ok)),
        };
        CasReply { value, ok }
    }
}
