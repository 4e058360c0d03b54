//! Slow reduces, to catch workers or a coordinator that exit too early.

use std::time::Duration;

use crate::app::{App, Ctx, KeyValue};

/// Emits (filename, "1"); the reduces of keys containing "sherlock" or
/// "tom" take 3 s, so a process that exits before every reduce is done
/// exits while output is still missing.
#[derive(Clone, Copy, Debug, Default)]
pub struct EarlyExit;

impl App for EarlyExit {
    const NAME: &'static str = "early_exit";

    async fn map(&self, _ctx: &Ctx<'_>, filename: &str, _contents: &str) -> Vec<KeyValue> {
        vec![KeyValue::new(filename, "1")]
    }

    async fn reduce(&self, ctx: &Ctx<'_>, key: &str, values: &[String]) -> String {
        if key.contains("sherlock") || key.contains("tom") {
            ctx.sleep(Duration::from_secs(3)).await;
        }
        values.len().to_string()
    }
}
