//! The versioned KV store of the kvsrv lab (and of the labs built on it).
//!
//! Each key holds a value and a version, the number of times it has been
//! written; a key that was never written is absent (version 0). Keys are
//! independent, so the history is partitioned by key (sorted).
//!
//! - `get(k)` returns the key's value **and** version, or `ErrNoKey` if the
//!   key is absent. (Both are checked: a server answers a Get with the pair
//!   it holds at one instant.)
//! - `put(k, v, ver)`:
//!   - the key's version is `ver` (0 for an absent key): the put applies,
//!     the key becomes `(v, ver + 1)`; the answer is `OK` or `ErrMaybe`;
//!   - the key is present at another version: nothing changes; the answer
//!     is `ErrVersion` or `ErrMaybe`;
//!   - the key is absent and `ver > 0`: nothing changes; the answer is
//!     `ErrNoKey`.
//!
//! `ErrMaybe` is what a clerk reports when a **retry** of its put got
//! `ErrVersion`: an earlier copy may have been applied, or not. The model
//! needs no branching for it: a correct service applies such a put exactly
//! when the key's version matched at the moment it took effect, so the
//! checker decides "applied or not" by where it places the operation.
//! (Porcupine's kvsrv model does the same.) An operation whose output is
//! unknown (a client that crashed) is treated the same way: it applies iff
//! the version matches where it is placed.
//!
//! This model is stricter than 6.5840's porcupine model in two ways, both
//! sound for a correct server: a get's version must match too, and a put
//! answered `ErrNoKey` is legal exactly when the key is absent and `ver >
//! 0` (porcupine's model never accepts one).
//!
//! JSON (see [`crate::format`]): input `{"op": "get", "key": "k"}` or
//! `{"op": "put", "key": "k", "value": "v", "version": 3}`; output
//! `{"value": "v", "version": 3}` for a get that found the key, otherwise
//! `{"err": E}` with E one of `"OK"` (a put that applied), `"ErrNoKey"`,
//! `"ErrVersion"`, `"ErrMaybe"`.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::format::JsonModel;
use crate::history::Operation;
use crate::model::{Model, Partition};

/// A versioned KV operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
pub enum VersionedKvInput {
    /// Read a key's value and version.
    Get { key: String },
    /// Write `value` if the key's version is `version`.
    Put {
        key: String,
        value: String,
        version: u64,
    },
}

impl VersionedKvInput {
    pub fn get(key: impl Into<String>) -> Self {
        VersionedKvInput::Get { key: key.into() }
    }

    pub fn put(key: impl Into<String>, value: impl Into<String>, version: u64) -> Self {
        VersionedKvInput::Put {
            key: key.into(),
            value: value.into(),
            version,
        }
    }

    /// The key the operation touches.
    pub fn key(&self) -> &str {
        match self {
            VersionedKvInput::Get { key } | VersionedKvInput::Put { key, .. } => key,
        }
    }
}

/// A versioned KV result.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "VersionedReply", into = "VersionedReply")]
pub enum VersionedKvOutput {
    /// A get that found the key: its value and version.
    Value { value: String, version: u64 },
    /// A put that applied (`OK`).
    Done,
    /// The key is absent (a get; a put at a version above 0).
    ErrNoKey,
    /// A put at the wrong version, surely not applied.
    ErrVersion,
    /// A put that may or may not have applied.
    ErrMaybe,
}

impl VersionedKvOutput {
    pub fn value(value: impl Into<String>, version: u64) -> Self {
        VersionedKvOutput::Value {
            value: value.into(),
            version,
        }
    }

    fn err_name(&self) -> Option<&'static str> {
        match self {
            VersionedKvOutput::Value { .. } => None,
            VersionedKvOutput::Done => Some("OK"),
            VersionedKvOutput::ErrNoKey => Some("ErrNoKey"),
            VersionedKvOutput::ErrVersion => Some("ErrVersion"),
            VersionedKvOutput::ErrMaybe => Some("ErrMaybe"),
        }
    }
}

/// One key: its value and version (0: absent, with value `""`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VersionedKvState {
    value: Rc<str>,
    version: u64,
}

impl VersionedKvState {
    /// The value (`""` if absent).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The version (0 if absent).
    pub fn version(&self) -> u64 {
        self.version
    }
}

/// The versioned KV model; the state of one key is its value and version.
#[derive(Clone, Copy, Debug, Default)]
pub struct VersionedKvModel;

impl Model for VersionedKvModel {
    type Input = VersionedKvInput;
    type Output = VersionedKvOutput;
    type State = VersionedKvState;

    fn partition(
        &self,
        history: &[Operation<VersionedKvInput, VersionedKvOutput>],
    ) -> Vec<Partition> {
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

    fn init(&self) -> VersionedKvState {
        VersionedKvState {
            value: Rc::from(""),
            version: 0,
        }
    }

    fn heap_bytes(&self, before: &VersionedKvState, after: &VersionedKvState) -> usize {
        if Rc::ptr_eq(&before.value, &after.value) {
            0
        } else {
            super::kv::allocation(16 + after.value.len())
        }
    }

    fn step(
        &self,
        state: &VersionedKvState,
        input: &VersionedKvInput,
        output: Option<&VersionedKvOutput>,
    ) -> Option<VersionedKvState> {
        use VersionedKvOutput as O;
        match input {
            VersionedKvInput::Get { .. } => {
                let legal = match output {
                    None => true,
                    Some(O::Value { value, version }) => {
                        state.version > 0 && *version == state.version && **value == *state.value
                    }
                    Some(O::ErrNoKey) => state.version == 0,
                    Some(_) => false,
                };
                legal.then(|| state.clone())
            }
            VersionedKvInput::Put { value, version, .. } => {
                if *version == state.version {
                    matches!(output, None | Some(O::Done | O::ErrMaybe)).then(|| VersionedKvState {
                        value: Rc::from(value.as_str()),
                        version: version + 1,
                    })
                } else if state.version == 0 {
                    matches!(output, None | Some(O::ErrNoKey)).then(|| state.clone())
                } else {
                    matches!(output, None | Some(O::ErrVersion | O::ErrMaybe))
                        .then(|| state.clone())
                }
            }
        }
    }

    /// A put that may not have applied (`ErrMaybe`, or no output) at a
    /// version below the key's: versions only grow, so it can no longer
    /// apply anywhere.
    fn is_inert(
        &self,
        state: &VersionedKvState,
        input: &VersionedKvInput,
        output: Option<&VersionedKvOutput>,
    ) -> bool {
        match input {
            VersionedKvInput::Get { .. } => false,
            VersionedKvInput::Put { version, .. } => {
                state.version > 0
                    && *version < state.version
                    && matches!(
                        output,
                        None | Some(VersionedKvOutput::ErrMaybe | VersionedKvOutput::ErrVersion)
                    )
            }
        }
    }

    /// Gets, and puts known to have been refused (`ErrVersion`,
    /// `ErrNoKey`).
    fn is_read_only(&self, input: &VersionedKvInput, output: Option<&VersionedKvOutput>) -> bool {
        match input {
            VersionedKvInput::Get { .. } => true,
            VersionedKvInput::Put { .. } => matches!(
                output,
                Some(VersionedKvOutput::ErrVersion | VersionedKvOutput::ErrNoKey)
            ),
        }
    }

    fn describe_operation(
        &self,
        input: &VersionedKvInput,
        output: Option<&VersionedKvOutput>,
    ) -> String {
        let call = match input {
            VersionedKvInput::Get { key } => format!("get({key:?})"),
            VersionedKvInput::Put {
                key,
                value,
                version,
            } => format!("put({key:?}, {value:?}, {version})"),
        };
        match output {
            None => format!("{call} -> ?"),
            Some(VersionedKvOutput::Value { value, version }) => {
                format!("{call} -> ({value:?}, {version})")
            }
            Some(err) => format!("{call} -> {}", err.err_name().unwrap_or_default()),
        }
    }

    fn describe_state(&self, state: &VersionedKvState) -> String {
        if state.version == 0 {
            String::from("absent")
        } else {
            format!("({:?}, {})", &*state.value, state.version)
        }
    }
}

impl JsonModel for VersionedKvModel {
    fn expected_output(
        &self,
        input: &VersionedKvInput,
        output: &VersionedKvOutput,
    ) -> Option<&'static str> {
        use VersionedKvOutput as O;
        match (input, output) {
            (VersionedKvInput::Get { .. }, O::Value { .. } | O::ErrNoKey) => None,
            (VersionedKvInput::Get { .. }, _) => Some(
                "a get's output is {\"value\": \"v\", \"version\": 3} or {\"err\": \"ErrNoKey\"}",
            ),
            (VersionedKvInput::Put { .. }, O::Value { .. }) => {
                Some("a put's output is {\"err\": \"OK\"} (or ErrNoKey, ErrVersion, ErrMaybe)")
            }
            (VersionedKvInput::Put { .. }, _) => None,
        }
    }
}

/// The answers a versioned KV operation can carry in `"err"`.
#[derive(Clone, Copy, Serialize, Deserialize)]
enum Answer {
    #[serde(rename = "OK")]
    Ok,
    ErrNoKey,
    ErrVersion,
    ErrMaybe,
}

/// The JSON form of an output: `{"value": "v", "version": 3}` or `{"err":
/// E}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionedReply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    err: Option<Answer>,
}

impl TryFrom<VersionedReply> for VersionedKvOutput {
    type Error = &'static str;

    fn try_from(r: VersionedReply) -> Result<Self, Self::Error> {
        Ok(match (r.value, r.version, r.err) {
            (Some(value), Some(version), None) => VersionedKvOutput::Value { value, version },
            (None, None, Some(Answer::Ok)) => VersionedKvOutput::Done,
            (None, None, Some(Answer::ErrNoKey)) => VersionedKvOutput::ErrNoKey,
            (None, None, Some(Answer::ErrVersion)) => VersionedKvOutput::ErrVersion,
            (None, None, Some(Answer::ErrMaybe)) => VersionedKvOutput::ErrMaybe,
            _ => {
                return Err(
                    "a versioned-kv output is {\"value\": \"v\", \"version\": 3} or {\"err\": E}",
                );
            }
        })
    }
}

impl From<VersionedKvOutput> for VersionedReply {
    fn from(o: VersionedKvOutput) -> Self {
        let err = |e| VersionedReply {
            value: None,
            version: None,
            err: Some(e),
        };
        match o {
            VersionedKvOutput::Value { value, version } => VersionedReply {
                value: Some(value),
                version: Some(version),
                err: None,
            },
            VersionedKvOutput::Done => err(Answer::Ok),
            VersionedKvOutput::ErrNoKey => err(Answer::ErrNoKey),
            VersionedKvOutput::ErrVersion => err(Answer::ErrVersion),
            VersionedKvOutput::ErrMaybe => err(Answer::ErrMaybe),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{Verdict, check};

    use VersionedKvInput as I;
    use VersionedKvOutput as O;

    fn state(value: &str, version: u64) -> VersionedKvState {
        VersionedKvState {
            value: Rc::from(value),
            version,
        }
    }

    fn step(s: &VersionedKvState, i: I, o: O) -> Option<VersionedKvState> {
        VersionedKvModel.step(s, &i, Some(&o))
    }

    #[test]
    fn every_row_of_the_put_table() {
        let absent = VersionedKvModel.init();
        let one = state("a", 1);
        // Absent, version 0: created at version 1.
        assert_eq!(
            step(&absent, I::put("k", "a", 0), O::Done),
            Some(one.clone())
        );
        assert_eq!(
            step(&absent, I::put("k", "a", 0), O::ErrMaybe),
            Some(one.clone())
        );
        assert_eq!(step(&absent, I::put("k", "a", 0), O::ErrVersion), None);
        assert_eq!(step(&absent, I::put("k", "a", 0), O::ErrNoKey), None);
        // Absent, version > 0: ErrNoKey, nothing else.
        assert_eq!(
            step(&absent, I::put("k", "a", 3), O::ErrNoKey),
            Some(absent.clone())
        );
        for o in [O::Done, O::ErrVersion, O::ErrMaybe] {
            assert_eq!(step(&absent, I::put("k", "a", 3), o), None);
        }
        // Present, matching version: applies.
        assert_eq!(
            step(&one, I::put("k", "b", 1), O::Done),
            Some(state("b", 2))
        );
        assert_eq!(
            step(&one, I::put("k", "b", 1), O::ErrMaybe),
            Some(state("b", 2))
        );
        assert_eq!(step(&one, I::put("k", "b", 1), O::ErrVersion), None);
        assert_eq!(step(&one, I::put("k", "b", 1), O::ErrNoKey), None);
        // Present, another version: refused.
        for ver in [0, 2, 7] {
            assert_eq!(
                step(&one, I::put("k", "b", ver), O::ErrVersion),
                Some(one.clone())
            );
            assert_eq!(
                step(&one, I::put("k", "b", ver), O::ErrMaybe),
                Some(one.clone())
            );
            assert_eq!(step(&one, I::put("k", "b", ver), O::Done), None);
            assert_eq!(step(&one, I::put("k", "b", ver), O::ErrNoKey), None);
        }
        // Unknown output: applies iff the version matches.
        let m = VersionedKvModel;
        assert_eq!(
            m.step(&one, &I::put("k", "b", 1), None),
            Some(state("b", 2))
        );
        assert_eq!(m.step(&one, &I::put("k", "b", 5), None), Some(one.clone()));
        assert_eq!(m.step(&absent, &I::put("k", "b", 5), None), Some(absent));
    }

    #[test]
    fn gets_check_value_and_version() {
        let absent = VersionedKvModel.init();
        let s = state("a", 2);
        assert_eq!(step(&s, I::get("k"), O::value("a", 2)), Some(s.clone()));
        assert_eq!(step(&s, I::get("k"), O::value("a", 1)), None);
        assert_eq!(step(&s, I::get("k"), O::value("b", 2)), None);
        assert_eq!(step(&s, I::get("k"), O::ErrNoKey), None);
        assert_eq!(
            step(&absent, I::get("k"), O::ErrNoKey),
            Some(absent.clone())
        );
        assert_eq!(step(&absent, I::get("k"), O::value("", 0)), None);
        for o in [O::Done, O::ErrVersion, O::ErrMaybe] {
            assert_eq!(step(&s, I::get("k"), o), None);
        }
        // A key written with "" is present.
        let empty = step(&absent, I::put("k", "", 0), O::Done).unwrap();
        assert_eq!(
            step(&empty, I::get("k"), O::value("", 1)),
            Some(empty.clone())
        );
        assert_eq!(step(&empty, I::get("k"), O::ErrNoKey), None);
    }

    #[test]
    fn read_only_operations() {
        let m = VersionedKvModel;
        let at3 = VersionedKvState {
            value: Rc::from("v"),
            version: 3,
        };
        assert!(m.is_inert(&at3, &I::put("k", "v", 2), Some(&O::ErrMaybe)));
        assert!(m.is_inert(&at3, &I::put("k", "v", 0), None));
        assert!(!m.is_inert(&at3, &I::put("k", "v", 3), Some(&O::ErrMaybe)));
        assert!(!m.is_inert(&at3, &I::put("k", "v", 4), None));
        assert!(!m.is_inert(&at3, &I::put("k", "v", 2), Some(&O::Done)));
        assert!(!m.is_inert(&m.init(), &I::put("k", "v", 0), None));
        assert!(m.is_read_only(&I::get("k"), None));
        assert!(m.is_read_only(&I::put("k", "v", 1), Some(&O::ErrVersion)));
        assert!(m.is_read_only(&I::put("k", "v", 1), Some(&O::ErrNoKey)));
        assert!(!m.is_read_only(&I::put("k", "v", 1), Some(&O::ErrMaybe)));
        assert!(!m.is_read_only(&I::put("k", "v", 1), Some(&O::Done)));
        assert!(!m.is_read_only(&I::put("k", "v", 1), None));
    }

    fn op(client: u64, input: I, call: u64, output: O, ret: u64) -> Operation<I, O> {
        Operation::completed(client, input, call, output, ret)
    }

    fn verdict(h: &[Operation<I, O>]) -> Verdict {
        check(&VersionedKvModel, h, Some(Duration::from_secs(5))).verdict
    }

    #[test]
    fn known_histories() {
        // A retried put that applied, then a retry that saw ErrVersion:
        // ErrMaybe, and the read after it sees the put.
        let h = vec![
            op(0, I::put("k", "a", 0), 0, O::ErrMaybe, 10),
            op(0, I::get("k"), 11, O::value("a", 1), 12),
        ];
        assert_eq!(verdict(&h), Verdict::Linearizable);
        // ... or did not apply (another client's put got there first).
        let h = vec![
            op(0, I::put("k", "a", 0), 0, O::ErrMaybe, 10),
            op(1, I::put("k", "b", 0), 1, O::Done, 5),
            op(0, I::get("k"), 11, O::value("b", 1), 12),
        ];
        assert_eq!(verdict(&h), Verdict::Linearizable);
        // ErrVersion on the first (only) attempt of the only client: the
        // key was at that version, so it is a lie (the clerk should have
        // said ErrMaybe after a retry).
        let h = vec![
            op(0, I::put("k", "a", 0), 0, O::Done, 1),
            op(0, I::put("k", "b", 1), 2, O::Done, 3),
            op(0, I::put("k", "c", 2), 4, O::ErrVersion, 5),
        ];
        assert_eq!(verdict(&h), Verdict::NotLinearizable);
        // Two puts at the same version cannot both be OK.
        let h = vec![
            op(0, I::put("k", "a", 0), 0, O::Done, 10),
            op(1, I::put("k", "b", 0), 0, O::Done, 10),
        ];
        assert_eq!(verdict(&h), Verdict::NotLinearizable);
        // A stale read after a completed put.
        let h = vec![
            op(0, I::put("k", "a", 0), 0, O::Done, 1),
            op(0, I::put("k", "b", 1), 2, O::Done, 3),
            op(1, I::get("k"), 4, O::value("a", 1), 5),
        ];
        assert_eq!(verdict(&h), Verdict::NotLinearizable);
        // The same read concurrent with the second put is fine.
        let h = vec![
            op(0, I::put("k", "a", 0), 0, O::Done, 1),
            op(0, I::put("k", "b", 1), 2, O::Done, 6),
            op(1, I::get("k"), 4, O::value("a", 1), 5),
        ];
        assert_eq!(verdict(&h), Verdict::Linearizable);
        // Keys are independent: "x" is absent whatever "k" does.
        let h = vec![
            op(0, I::put("k", "a", 0), 0, O::Done, 1),
            op(1, I::get("x"), 2, O::ErrNoKey, 3),
            op(1, I::put("x", "v", 1), 4, O::ErrNoKey, 5),
            op(1, I::get("k"), 6, O::value("a", 1), 7),
        ];
        assert_eq!(verdict(&h), Verdict::Linearizable);
        let result = check(&VersionedKvModel, &h, None);
        assert_eq!(result.partitions.len(), 2);
        assert_eq!(result.partitions[0].label, "key \"k\"");
    }

    #[test]
    fn descriptions() {
        let m = VersionedKvModel;
        assert_eq!(
            m.describe_operation(&I::put("k", "v", 3), Some(&O::ErrMaybe)),
            "put(\"k\", \"v\", 3) -> ErrMaybe"
        );
        assert_eq!(
            m.describe_operation(&I::get("k"), Some(&O::value("v", 4))),
            "get(\"k\") -> (\"v\", 4)"
        );
        assert_eq!(m.describe_operation(&I::get("k"), None), "get(\"k\") -> ?");
        assert_eq!(m.describe_state(&m.init()), "absent");
        assert_eq!(m.describe_state(&state("v", 4)), "(\"v\", 4)");
    }

    #[test]
    fn json_round_trips() {
        let m = VersionedKvModel;
        let inputs = [I::get("k"), I::put("k", "v", 3)];
        for i in &inputs {
            let text = serde_json::to_string(i).unwrap();
            assert_eq!(&serde_json::from_str::<I>(&text).unwrap(), i, "{text}");
        }
        assert_eq!(
            serde_json::to_string(&inputs[1]).unwrap(),
            r#"{"op":"put","key":"k","value":"v","version":3}"#
        );
        let (get, put) = (&inputs[0], &inputs[1]);
        for (i, o) in [
            (get, O::value("v", 2)),
            (get, O::ErrNoKey),
            (put, O::Done),
            (put, O::ErrNoKey),
            (put, O::ErrVersion),
            (put, O::ErrMaybe),
        ] {
            let text = serde_json::to_string(&o).unwrap();
            assert_eq!(serde_json::from_str::<O>(&text).unwrap(), o, "{text}");
            assert_eq!(m.expected_output(i, &o), None, "{text}");
        }
        assert_eq!(serde_json::to_string(&O::Done).unwrap(), r#"{"err":"OK"}"#);
        assert!(m.expected_output(get, &O::ErrMaybe).is_some());
        assert!(m.expected_output(put, &O::value("v", 1)).is_some());
        assert!(serde_json::from_str::<O>("{}").is_err());
        assert!(serde_json::from_str::<O>(r#"{"err":"ErrSomething"}"#).is_err());
        assert!(serde_json::from_str::<I>(r#"{"op":"put","key":"k","value":"v"}"#).is_err());
    }
}
