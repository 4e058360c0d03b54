//! The KV store of the kvsrv, kvraft and shardkv labs.
//!
//! Get / Put / Append on string keys; a missing key reads `""`. Keys are
//! independent, so the history is partitioned by key (sorted) and each
//! key's state is its value. An Append may also report the value it
//! replaced (kvsrv's Append returns the old value): then that must match.
//!
//! JSON (see [`crate::format`]): input `{"op": "get", "key": "k"}`,
//! `{"op": "put" | "append", "key": "k", "value": "v"}`; output
//! `{"value": "v"}` for a get, `{}` for a put, `{}` or `{"value": "old"}`
//! for an append.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::{Map, Value, json};

use crate::format::{JsonModel, as_object, only_fields, op_name, required_str};
use crate::history::Operation;
use crate::model::{Model, Partition};

/// A KV operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvInput {
    Get { key: String },
    Put { key: String, value: String },
    Append { key: String, value: String },
}

impl KvInput {
    pub fn get(key: impl Into<String>) -> Self {
        KvInput::Get { key: key.into() }
    }

    pub fn put(key: impl Into<String>, value: impl Into<String>) -> Self {
        KvInput::Put {
            key: key.into(),
            value: value.into(),
        }
    }

    pub fn append(key: impl Into<String>, value: impl Into<String>) -> Self {
        KvInput::Append {
            key: key.into(),
            value: value.into(),
        }
    }

    /// The key the operation touches.
    pub fn key(&self) -> &str {
        match self {
            KvInput::Get { key } | KvInput::Put { key, .. } | KvInput::Append { key, .. } => key,
        }
    }
}

/// A KV result.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOutput {
    /// A get's value, or the old value an append replaced.
    Value(String),
    /// A put or an append that reports nothing.
    Done,
}

impl KvOutput {
    pub fn value(value: impl Into<String>) -> Self {
        KvOutput::Value(value.into())
    }
}

/// The KV model; the state of one key is its value.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel;

impl Model for KvModel {
    type Input = KvInput;
    type Output = KvOutput;
    /// `Rc<str>`: a get clones the state by bumping a count, not by copying
    /// a value that appends make long.
    type State = Rc<str>;

    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Partition> {
        let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, op) in history.iter().enumerate() {
            by_key.entry(op.input.key()).or_default().push(i);
        }
        by_key
            .into_iter()
            .map(|(key, ops)| Partition {
                label: format!("key {key:?}"),
                ops,
            })
            .collect()
    }

    fn init(&self) -> Rc<str> {
        Rc::from("")
    }

    fn step(&self, state: &Rc<str>, input: &KvInput, output: Option<&KvOutput>) -> Option<Rc<str>> {
        match (input, output) {
            (KvInput::Get { .. }, None) => Some(Rc::clone(state)),
            (KvInput::Get { .. }, Some(KvOutput::Value(v))) => {
                (**state == **v).then(|| Rc::clone(state))
            }
            (KvInput::Put { value, .. }, None | Some(KvOutput::Done)) => Some(Rc::from(&**value)),
            (KvInput::Append { value, .. }, None | Some(KvOutput::Done)) => {
                Some(concat(state, value))
            }
            (KvInput::Append { value, .. }, Some(KvOutput::Value(old))) => {
                (**state == **old).then(|| concat(state, value))
            }
            (KvInput::Get { .. }, Some(KvOutput::Done))
            | (KvInput::Put { .. }, Some(KvOutput::Value(_))) => None,
        }
    }

    fn describe_operation(&self, input: &KvInput, output: Option<&KvOutput>) -> String {
        let call = match input {
            KvInput::Get { key } => format!("get({key:?})"),
            KvInput::Put { key, value } => format!("put({key:?}, {value:?})"),
            KvInput::Append { key, value } => format!("append({key:?}, {value:?})"),
        };
        match output {
            None => format!("{call} -> ?"),
            Some(KvOutput::Value(v)) => format!("{call} -> {v:?}"),
            Some(KvOutput::Done) => call,
        }
    }

    fn describe_state(&self, state: &Rc<str>) -> String {
        format!("{:?}", &**state)
    }
}

fn concat(state: &str, suffix: &str) -> Rc<str> {
    let mut s = String::with_capacity(state.len() + suffix.len());
    s.push_str(state);
    s.push_str(suffix);
    Rc::from(s)
}

impl JsonModel for KvModel {
    fn input_from_json(&self, input: &Value) -> Result<KvInput, String> {
        let map = as_object(input, "a kv input")?;
        match op_name(map, &["get", "put", "append"])? {
            "get" => {
                only_fields(map, &["op", "key"])?;
                Ok(KvInput::get(required_str(map, "key")?))
            }
            op => {
                only_fields(map, &["op", "key", "value"])?;
                let key = required_str(map, "key")?;
                let value = required_str(map, "value")?;
                Ok(if op == "put" {
                    KvInput::put(key, value)
                } else {
                    KvInput::append(key, value)
                })
            }
        }
    }

    fn output_from_json(&self, input: &KvInput, output: &Value) -> Result<KvOutput, String> {
        let map = as_object(output, "a kv output")?;
        match input {
            KvInput::Get { .. } => {
                only_fields(map, &["value"])?;
                Ok(KvOutput::value(required_str(map, "value").map_err(
                    |e| format!("{e}: a get's output is {{\"value\": \"...\"}}"),
                )?))
            }
            KvInput::Put { .. } => {
                only_fields(map, &[]).map_err(|e| format!("{e}: a put's output is {{}}"))?;
                Ok(KvOutput::Done)
            }
            KvInput::Append { .. } => {
                only_fields(map, &["value"])?;
                match map.get("value") {
                    None => Ok(KvOutput::Done),
                    Some(_) => Ok(KvOutput::value(required_str(map, "value")?)),
                }
            }
        }
    }

    fn input_to_json(&self, input: &KvInput) -> Value {
        match input {
            KvInput::Get { key } => json!({"op": "get", "key": key}),
            KvInput::Put { key, value } => json!({"op": "put", "key": key, "value": value}),
            KvInput::Append { key, value } => json!({"op": "append", "key": key, "value": value}),
        }
    }

    fn output_to_json(&self, output: &KvOutput) -> Value {
        match output {
            KvOutput::Value(v) => json!({ "value": v }),
            KvOutput::Done => Value::Object(Map::new()),
        }
    }
}
