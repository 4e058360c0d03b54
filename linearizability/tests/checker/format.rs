//! The JSON-lines history format: round trips and clear errors.

use linearizability::{
    CasInput, CasOutput, CasRegisterModel, JsonModel, KvInput, KvModel, KvOutput, Operation,
    RegisterInput, RegisterModel, RegisterOutput, parse_history, write_history,
};

fn round_trip<M: JsonModel>(model: &M, history: &[Operation<M::Input, M::Output>])
where
    M::Input: PartialEq + std::fmt::Debug,
    M::Output: PartialEq + std::fmt::Debug,
{
    let mut out = Vec::new();
    write_history(model, history, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), history.len());
    assert_eq!(parse_history(model, &text).unwrap(), history);
}

#[test]
fn histories_round_trip() {
    round_trip(
        &KvModel,
        &[
            Operation::completed(
                3,
                KvInput::get("k"),
                1_200_000,
                KvOutput::value("a\"b\n"),
                1_350_000,
            ),
            Operation::completed(1, KvInput::put("k", "v"), 5, KvOutput::Done, 6),
            Operation::completed(1, KvInput::append("k", "w"), 7, KvOutput::value("v"), 8),
            Operation::unknown(2, KvInput::append("k", "x"), 9, 10),
            Operation::pending(2, KvInput::get("k"), 11),
        ],
    );
    round_trip(
        &RegisterModel,
        &[
            Operation::completed(0, RegisterInput::Write(-5), 0, RegisterOutput::Done, 1),
            Operation::completed(0, RegisterInput::Read, 2, RegisterOutput::Value(-5), 3),
        ],
    );
    round_trip(
        &CasRegisterModel,
        &[
            Operation::completed(0, CasInput::Read, 0, CasOutput::Value(None), 1),
            Operation::completed(
                0,
                CasInput::Cas { from: 1, to: 2 },
                2,
                CasOutput::Cas(false),
                3,
            ),
            Operation::completed(0, CasInput::Write(1), 4, CasOutput::Done, 5),
            Operation::completed(0, CasInput::Read, 6, CasOutput::Value(Some(1)), 7),
        ],
    );
}

#[test]
fn the_documented_examples_parse() {
    let text = r#"{"client": 3, "call": 1200000, "return": 1350000, "input": {"op": "get", "key": "k"}, "output": {"value": ""}}

{"client": 4, "call": 1200000, "return": null, "input": {"op": "put", "key": "k", "value": "v"}, "output": null}
{"client": 5, "call": 1300000, "return": 1400000, "input": {"op": "append", "key": "k", "value": "v"}, "output": {}}
"#;
    let h = parse_history(&KvModel, text).unwrap();
    assert_eq!(h.len(), 3);
    assert!(h[1].is_pending());
    assert_eq!(h[2].output, Some(KvOutput::Done));
}

fn error_of<M: JsonModel>(model: &M, text: &str) -> String {
    match parse_history(model, text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_lines_are_named_with_the_reason() {
    let ok =
        r#"{"client": 0, "call": 1, "return": 2, "input": {"op": "read"}, "output": {"value": 0}}"#;
    let cases = [
        ("{not json", "line 3: invalid JSON"),
        (r#"[1, 2]"#, "line 3: an operation must be a JSON object"),
        (
            r#"{"client": 0, "call": 1, "input": {"op": "read"}, "output": null}"#,
            "line 3: missing field `return`",
        ),
        (
            r#"{"client": -1, "call": 1, "return": 2, "input": {"op": "read"}, "output": null}"#,
            "invalid value: integer `-1`, expected u64",
        ),
        (
            r#"{"client": 0, "call": 5, "return": 2, "input": {"op": "read"}, "output": null}"#,
            "returns at 2, before its call at 5",
        ),
        (
            r#"{"client": 0, "call": 1, "return": null, "input": {"op": "read"}, "output": {"value": 1}}"#,
            "never returned",
        ),
        (
            r#"{"client": 0, "call": 1, "return": 2, "input": {"op": "rread"}, "output": null}"#,
            "line 3: unknown variant `rread`, expected `read` or `write`",
        ),
        (
            r#"{"client": 0, "call": 1, "return": 2, "input": {"op": "read"}, "output": {}}"#,
            r#"line 3: output {} does not fit its input: a read's output is {"value": 5}"#,
        ),
        (
            r#"{"client": 0, "call": 1, "return": 2, "input": {"op": "write", "value": 1}, "output": {"value": 1}}"#,
            r#"output {"value":1} does not fit its input: a write's output is {}"#,
        ),
        (
            r#"{"client": 0, "call": 1, "retrun": 2, "input": {"op": "read"}, "output": null}"#,
            "unknown field `retrun`, expected one of `client`, `call`, `return`, `input`, `output`",
        ),
    ];
    for (line, expected) in cases {
        let text = format!("{ok}\n\n{line}\n{ok}\n");
        let err = error_of(&RegisterModel, &text);
        assert!(
            err.contains(expected),
            "{line}\n  gave: {err}\n  want: {expected}"
        );
    }
    let get_without_value = r#"{"client": 0, "call": 1, "return": 2, "input": {"op": "get", "key": "k"}, "output": {}}"#;
    assert!(
        error_of(&KvModel, get_without_value).contains(r#"a get's output is {"value": "..."}"#)
    );
    let cas_bad = r#"{"client": 0, "call": 1, "return": 2, "input": {"op": "cas", "from": 1, "to": 2}, "output": {"ok": 1}}"#;
    let err = error_of(&CasRegisterModel, cas_bad);
    assert!(
        err.contains("invalid type: integer `1`, expected a boolean"),
        "{err}"
    );
    let cas_both = r#"{"client": 0, "call": 1, "return": 2, "input": {"op": "read"}, "output": {"value": 1, "ok": true}}"#;
    let err = error_of(&CasRegisterModel, cas_both);
    assert!(err.contains(r#"has "value" or "ok", not both"#), "{err}");
}
