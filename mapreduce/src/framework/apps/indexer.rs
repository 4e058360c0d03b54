//! Inverted index.

use std::collections::BTreeSet;

use crate::app::{App, Ctx, KeyValue};
use crate::apps::words;

/// For each word, the documents that contain it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Indexer;

impl App for Indexer {
    const NAME: &'static str = "indexer";

    async fn map(&self, _ctx: &Ctx<'_>, filename: &str, contents: &str) -> Vec<KeyValue> {
        let distinct: BTreeSet<&str> = words(contents).collect();
        distinct
            .into_iter()
            .map(|w| KeyValue::new(w, filename))
            .collect()
    }

    async fn reduce(&self, _ctx: &Ctx<'_>, _key: &str, values: &[String]) -> String {
        let mut docs = values.to_vec();
        docs.sort();
        format!("{} {}", docs.len(), docs.join(","))
    }
}
