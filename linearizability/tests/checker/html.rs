//! The HTML view: self-contained and safe to embed any history in.

use std::time::Duration;

use linearizability::{
    Annotation, CheckOptions, KvInput, KvModel, KvOutput, Operation, check, check_with,
    render_html, write_html,
};

fn stale_history() -> Vec<Operation<KvInput, KvOutput>> {
    vec![
        Operation::completed(
            0,
            KvInput::put("x", "</script><script>alert(1)</script>"),
            0,
            KvOutput::Done,
            10,
        ),
        Operation::completed(1, KvInput::get("x"), 20, KvOutput::value(""), 30),
        Operation::pending(2, KvInput::append("y", "b"), 5),
        Operation::completed(3, KvInput::put("y", "c"), 1, KvOutput::Done, 2),
        Operation::completed(3, KvInput::get("y"), 3, KvOutput::value("c"), 4),
    ]
}

fn data_of(page: &str) -> serde_json::Value {
    let start = page
        .find(r#"<script id="data" type="application/json">"#)
        .unwrap();
    let rest = &page[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest.find("</script>").unwrap();
    serde_json::from_str(&rest[open..close]).unwrap()
}

#[test]
fn page_is_self_contained() {
    let h = stale_history();
    let result = check(&KvModel, &h, Some(Duration::from_secs(1)));
    let page = render_html(
        &KvModel,
        &h,
        &result,
        &[Annotation::point(15, "server 3 crashed")],
    );
    for external in [
        "<link", " src=", "href=", "@import", "url(", "//cdn", "https://",
    ] {
        assert!(
            !page.contains(external),
            "page refers outside itself: {external}"
        );
    }
    // Only the data and the code close a script element: descriptions
    // containing "</script>" are escaped.
    assert_eq!(page.matches("</script>").count(), 2);
}

#[test]
fn page_carries_the_evidence() {
    let h = stale_history();
    let result = check(&KvModel, &h, Some(Duration::from_secs(1)));
    let notes = [
        Annotation::interval(0, 25, "partition {0,1} | {2,3,4}").tag("network"),
        Annotation::point(15, "server 3 crashed"),
    ];
    let page = render_html(&KvModel, &h, &result, &notes);
    let data = data_of(&page);
    assert_eq!(data["verdict"], "not linearizable");
    assert_eq!(data["ops"].as_array().unwrap().len(), 5);
    assert_eq!(data["ops"][2]["ret"], serde_json::Value::Null);
    let parts = data["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["label"], r#"key "x""#);
    let lin = &parts[0]["linearizations"][0];
    assert_eq!(lin["order"], serde_json::json!([0]));
    assert_eq!(lin["stuck"], serde_json::json!([1]));
    // The fast path stopped at the violation in "x" (the smaller
    // partition, searched first): "y" was not searched.
    assert_eq!(parts[1]["verdict"], "not checked");
    assert_eq!(data["annotations"][0]["tag"], "network");
    assert_eq!(data["annotations"][1]["end"], serde_json::Value::Null);

    let path =
        std::env::temp_dir().join(format!("linearizability-html-{}.html", std::process::id()));
    write_html(&path, &KvModel, &h, &result, &notes).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), page);
    std::fs::remove_file(&path).unwrap();

    // Explaining every partition: "y" is searched too.
    let all = CheckOptions {
        all: true,
        ..CheckOptions::default()
    };
    let data = data_of(&render_html(
        &KvModel,
        &h,
        &check_with(&KvModel, &h, &all),
        &notes,
    ));
    assert_eq!(data["partitions"][1]["verdict"], "linearizable");
    assert_eq!(data["partitions"][0]["verdict"], "not linearizable");
}
