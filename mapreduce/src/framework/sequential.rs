//! The sequential reference (6.824's `mrsequential`): the single expected
//! output of a job, computed in one pass without workers or files between
//! phases.
//!
//! Reads every input whole, calls `map` on each in order, sorts all pairs
//! by key (stably), calls `reduce` once per distinct key in increasing
//! order, and produces the lines `key value`: exactly what the `mr-out-*`
//! files of a correct distributed run hold together, up to line order.

use std::path::Path;

use crate::app::{App, Ctx};
use crate::error::MrError;
use crate::files::{AtomicFile, read_input};

/// The `(key, value)` output lines of `app` over `inputs`, in key order.
///
/// # Errors
/// An input cannot be read or is not text.
pub async fn sequential<A: App>(
    app: &A,
    ctx: &Ctx<'_>,
    inputs: &[String],
) -> Result<Vec<(String, String)>, MrError> {
    let mut pairs = Vec::new();
    for file in inputs {
        let contents = read_input(file)?;
        pairs.extend(app.map(ctx, file, &contents).await);
    }
    pairs.sort_by(|a, b| a.key.cmp(&b.key));
    let mut out = Vec::new();
    let mut rest = &mut pairs[..];
    while let Some(first) = rest.first() {
        let n = rest.iter().position(|kv| kv.key != first.key);
        let (group, tail) = rest.split_at_mut(n.unwrap_or(rest.len()));
        let values: Vec<String> = group
            .iter_mut()
            .map(|kv| std::mem::take(&mut kv.value))
            .collect();
        let key = std::mem::take(&mut group[0].key);
        let value = app.reduce(ctx, &key, &values).await;
        out.push((key, value));
        rest = tail;
    }
    Ok(out)
}

/// The non-empty lines of `output`, as `key value` text, sorted: the form
/// in which [`crate::files::sorted_output`] returns a distributed run's
/// output, for comparison.
pub fn sorted_lines(output: &[(String, String)]) -> Vec<String> {
    let text: String = output.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    lines.sort_unstable();
    lines
}

/// Writes `output` as `dir/mr-out-0` (atomically), as `mrsequential` does.
pub fn write_output(dir: &Path, output: &[(String, String)]) -> Result<(), MrError> {
    let mut f = AtomicFile::create(dir, &crate::files::output_name(0), 0, 0)?;
    for (k, v) in output {
        f.write_output_line(k, v)?;
    }
    f.commit()
}
