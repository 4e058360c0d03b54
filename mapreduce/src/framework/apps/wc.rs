//! Word count.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};

use crate::app::{App, Ctx, Emit, KeyValue};

/// Counts occurrences of each word.
///
/// Its combiner ([`App::map_combined`]) counts the words of one input in
/// memory and emits `(word, count)` once per distinct word; `reduce` sums
/// the values, so it gives the same count over `map`'s `"1"`s.
#[derive(Clone, Copy, Debug, Default)]
pub struct Wc;

/// The words of `text`: maximal runs of letters. 6.824 splits on
/// `!unicode.IsLetter`; Rust's `char::is_alphabetic` agrees on every
/// character of the bundled (ASCII) texts.
///
/// Scans bytes, decoding a character only for non-ASCII bytes; the words
/// are those of `text.split(|c: char| !c.is_alphabetic())`, empty ones
/// left out.
///
/// ```
/// let w: Vec<&str> = mapreduce::apps::words("Où est-il? l'été, 42x").collect();
/// assert_eq!(w, ["Où", "est", "il", "l", "été", "x"]);
/// ```
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    Words { text, pos: 0 }
}

struct Words<'a> {
    text: &'a str,
    /// Invariant: a character boundary of `text`.
    pos: usize,
}

impl Words<'_> {
    /// Whether the character at `i` (a boundary) is a letter, and its
    /// length in bytes.
    fn letter_at(&self, i: usize) -> (bool, usize) {
        let b = self.text.as_bytes()[i];
        if b.is_ascii() {
            return (b.is_ascii_alphabetic(), 1);
        }
        let c = self.text[i..].chars().next().expect("i is a boundary");
        (c.is_alphabetic(), c.len_utf8())
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let len = self.text.len();
        let mut i = self.pos;
        while i < len {
            let (letter, n) = self.letter_at(i);
            if letter {
                break;
            }
            i += n;
        }
        if i == len {
            self.pos = len;
            return None;
        }
        let start = i;
        while i < len {
            let (letter, n) = self.letter_at(i);
            if !letter {
                break;
            }
            i += n;
        }
        self.pos = i;
        Some(&self.text[start..i])
    }
}

/// A fast, deterministic hash for short keys (the Fx hash of `rustc`):
/// the combiner's table holds one entry per distinct word and is looked
/// up once per word. Not seeded, so the same input always gives the same
/// table (and the same intermediate files).
#[derive(Clone, Copy, Default)]
struct WordHasher(u64);

impl WordHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl App for Wc {
    const NAME: &'static str = "wc";

    async fn map(&self, _ctx: &Ctx<'_>, _filename: &str, contents: &str) -> Vec<KeyValue> {
        words(contents).map(|w| KeyValue::new(w, "1")).collect()
    }

    async fn reduce(&self, _ctx: &Ctx<'_>, key: &str, values: &[String]) -> String {
        let total: u64 = values
            .iter()
            .map(|v| {
                v.parse::<u64>()
                    .unwrap_or_else(|_| panic!("wc: the count {v:?} of {key:?} is not a number"))
            })
            .sum();
        total.to_string()
    }

    async fn map_combined(
        &self,
        _ctx: &Ctx<'_>,
        _filename: &str,
        contents: &str,
        out: &mut dyn Emit,
    ) {
        let mut counts: HashMap<&str, u64, BuildHasherDefault<WordHasher>> = HashMap::default();
        for w in words(contents) {
            *counts.entry(w).or_insert(0) += 1;
        }
        let mut n = String::new();
        for (w, c) in counts {
            n.clear();
            write!(n, "{c}").expect("writing to a String cannot fail");
            out.emit(w, &n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_split(text: &str) -> Vec<&str> {
        text.split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty())
            .collect()
    }

    #[test]
    fn words_are_the_runs_of_letters() {
        for text in [
            "",
            "   ",
            "one",
            " two words ",
            "don't stop-me now!",
            "Ünïcödé lëttërs, ǅ and 漢字 and ٣ digits ①",
            "a\tb\nc\r\\d",
            "end with letter",
            "ß",
            "1ß2",
        ] {
            assert_eq!(words(text).collect::<Vec<_>>(), by_split(text), "{text:?}");
        }
    }

    #[test]
    fn words_of_the_bundled_texts_are_those_of_split() {
        for name in ["data/pg-grimm.txt", "data/pg-being_ernest.txt"] {
            let text = std::fs::read_to_string(name).unwrap();
            assert!(words(&text).eq(by_split(&text)), "{name}");
        }
    }
}
