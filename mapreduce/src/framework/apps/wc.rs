//! Word count.

use std::fmt::Write as _;

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

/// What an ASCII byte is: [`LETTER`] or not; [`OTHER`] marks the first
/// byte of a non-ASCII character (decoded to decide).
const NOT_LETTER: u8 = 0;
const LETTER: u8 = 1;
const OTHER: u8 = 2;

static CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = if (b as u8).is_ascii_alphabetic() {
            LETTER
        } else {
            NOT_LETTER
        };
        b += 1;
    }
    t
};

impl Words<'_> {
    /// The first position at or after `i` (a boundary) whose character is
    /// (`letter`) or is not a letter; `text.len()` if none.
    #[inline(always)]
    fn seek(&self, mut i: usize, letter: bool) -> usize {
        let bytes = self.text.as_bytes();
        let want = u8::from(letter);
        while let Some(&b) = bytes.get(i) {
            match CLASS[usize::from(b)] {
                OTHER => {
                    let c = self.text[i..].chars().next().expect("i is a boundary");
                    if c.is_alphabetic() == letter {
                        return i;
                    }
                    i += c.len_utf8();
                }
                class if class == want => return i,
                _ => i += 1,
            }
        }
        i
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let start = self.seek(self.pos, true);
        if start == self.text.len() {
            self.pos = start;
            return None;
        }
        let end = self.seek(start, false);
        self.pos = end;
        Some(&self.text[start..end])
    }
}

/// The Fx hash of `rustc` over 8-byte chunks: fast for short keys, not
/// seeded, so the same input always gives the same table (and the same
/// intermediate files).
#[inline(always)]
fn word_hash(word: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = word.len() as u64;
    let mut chunks = word.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K);
    }
    h
}

/// The combiner's table: the count of each distinct word of one input,
/// open addressing with linear probing, the hash kept to skip most
/// comparisons. One lookup per word of the input, so it is the map
/// task's inner loop.
struct Counts<'a> {
    /// Invariant: a power of two long; an empty slot has count 0; at most
    /// half full.
    slots: Vec<(u64, &'a str, u64)>,
    len: usize,
}

impl<'a> Counts<'a> {
    fn new() -> Counts<'a> {
        Counts {
            slots: vec![(0, "", 0); 1 << 12],
            len: 0,
        }
    }

    /// The slot index for `hash`: its top bits (Fx mixes upwards).
    #[inline(always)]
    fn home(&self, hash: u64) -> usize {
        let bits = self.slots.len().trailing_zeros();
        (hash >> (64 - bits)) as usize
    }

    #[inline]
    fn add(&mut self, word: &'a str) {
        let hash = word_hash(word);
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        loop {
            let slot = &mut self.slots[i];
            if slot.2 == 0 {
                *slot = (hash, word, 1);
                self.len += 1;
                if self.len * 2 > self.slots.len() {
                    self.grow();
                }
                return;
            }
            if slot.0 == hash && slot.1 == word {
                slot.2 += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let bigger = vec![(0, "", 0); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, bigger);
        let mask = self.slots.len() - 1;
        for entry in old.into_iter().filter(|e| e.2 > 0) {
            let mut i = self.home(entry.0);
            while self.slots[i].2 != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = entry;
        }
    }

    /// The words and their counts, in table order (deterministic for an
    /// input).
    fn iter(&self) -> impl Iterator<Item = (&'a str, u64)> + '_ {
        self.slots.iter().filter(|e| e.2 > 0).map(|e| (e.1, e.2))
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
        let mut counts = Counts::new();
        for w in words(contents) {
            counts.add(w);
        }
        let mut n = String::new();
        for (w, c) in counts.iter() {
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
    fn counts_are_those_of_a_hash_map() {
        let text = std::fs::read_to_string("data/pg-grimm.txt").unwrap();
        let mut counts = Counts::new();
        let mut expected = std::collections::BTreeMap::new();
        for w in words(&text) {
            counts.add(w);
            *expected.entry(w).or_insert(0u64) += 1;
        }
        assert!(counts.slots.len() > 1 << 12, "the table grew");
        let mut got: Vec<(&str, u64)> = counts.iter().collect();
        got.sort_unstable();
        assert_eq!(got, expected.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn words_of_the_bundled_texts_are_those_of_split() {
        for name in ["data/pg-grimm.txt", "data/pg-being_ernest.txt"] {
            let text = std::fs::read_to_string(name).unwrap();
            assert!(words(&text).eq(by_split(&text)), "{name}");
        }
    }
}
