//! Writes the HTML view of a small failing KV history with annotations:
//! `cargo run -p linearizability --example html_demo -- /tmp/view.html`.

use std::time::Duration;

use linearizability::{Annotation, KvInput, KvModel, KvOutput, Operation, check, write_html};

fn main() {
    let ms = 1_000_000u64;
    let op = |c, i, s, o: Option<KvOutput>, e: Option<u64>| Operation {
        client: c,
        input: i,
        call: s * ms,
        output: o,
        ret: e.map(|e| e * ms),
    };
    let mut h = vec![
        op(0, KvInput::put("x", "1"), 0, Some(KvOutput::Done), Some(12)),
        op(
            1,
            KvInput::get("x"),
            5,
            Some(KvOutput::value("1")),
            Some(20),
        ),
        op(
            2,
            KvInput::append("x", "2"),
            22,
            Some(KvOutput::Done),
            Some(40),
        ),
        op(
            3,
            KvInput::get("x"),
            30,
            Some(KvOutput::value("12")),
            Some(45),
        ),
        op(1, KvInput::append("x", "3"), 48, None, None),
        op(
            0,
            KvInput::get("x"),
            60,
            Some(KvOutput::value("1")),
            Some(70),
        ),
        op(
            4,
            KvInput::get("x"),
            65,
            Some(KvOutput::value("123")),
            Some(90),
        ),
    ];
    for k in 0..4u64 {
        h.push(op(
            k,
            KvInput::append("y", format!("v{k}")),
            10 * k,
            Some(KvOutput::Done),
            Some(10 * k + 15),
        ));
    }
    h.push(op(
        2,
        KvInput::get("y"),
        50,
        Some(KvOutput::value("v0v1v2v3")),
        Some(55),
    ));
    let result = check(&KvModel, &h, Some(Duration::from_secs(1)));
    print!("{}", result.explain(&KvModel, &h));
    let notes = [
        Annotation::interval(25 * ms, 58 * ms, "partition {0,1} | {2,3,4}").tag("network"),
        Annotation::point(47 * ms, "server 3 crashed").tag("servers"),
        Annotation::interval(58 * ms, 95 * ms, "leader: server 1").tag("servers"),
    ];
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| String::from("view.html"));
    write_html(&out, &KvModel, &h, &result, &notes).expect("writable");
    println!("view: {out}");
}
