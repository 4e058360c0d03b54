//! The checker's tests, one binary (a binary per file would link and
//! instantiate the checker once per file): `known` histories with known
//! verdicts, `generated` ones against a brute-force oracle, the
//! `fast_path` of the search, `timeout` and memory limits, the
//! `versioned_kv` model, the history `format`, the `html` view, and the
//! `lincheck` command (`cli`).

mod common;

mod cli;
mod fast_path;
mod format;
mod generated;
mod html;
mod known;
mod timeout;
mod versioned_kv;
