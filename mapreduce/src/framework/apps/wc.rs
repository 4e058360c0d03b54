//! Word count.

use crate::app::{App, Ctx, KeyValue};

/// Counts occurrences of each word.
#[derive(Clone, Copy, Debug, Default)]
pub struct Wc;

/// The words of `text`: maximal runs of letters. 6.824 splits on
/// `!unicode.IsLetter`; Rust's `char::is_alphabetic` agrees on every
/// character of the bundled (ASCII) texts.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
}

impl App for Wc {
    const NAME: &'static str = "wc";

    async fn map(&self, _ctx: &Ctx<'_>, _filename: &str, contents: &str) -> Vec<KeyValue> {
        words(contents).map(|w| KeyValue::new(w, "1")).collect()
    }

    async fn reduce(&self, _ctx: &Ctx<'_>, _key: &str, values: &[String]) -> String {
        values.len().to_string()
    }
}
