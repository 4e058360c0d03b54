//! A crashing app and its well-behaved twin, the crash test's reference.

use std::time::Duration;

use crate::app::{App, Ctx, KeyValue};

/// Before each map and reduce call: with probability 0.33 crash the
/// worker (6.824: `os.Exit(1)`; here the worker's node, not the process),
/// with probability 0.33 stall for U(0..10) s, else go on. Output as
/// [`NoCrash`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Crash;

/// The output of [`Crash`] without the crashes: a=filename,
/// b=len(filename), c=len(contents), d="xyzzy"; reduce sorts the values
/// and joins them with spaces.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCrash;

async fn maybe_crash(ctx: &Ctx<'_>) {
    let dice = ctx.random_below(1000);
    if dice < 330 {
        ctx.crash().await;
    } else if dice < 660 {
        let ms = ctx.random_below(10_000);
        ctx.sleep(Duration::from_millis(ms)).await;
    }
}

fn map_pairs(filename: &str, contents: &str) -> Vec<KeyValue> {
    vec![
        KeyValue::new("a", filename),
        KeyValue::new("b", filename.len().to_string()),
        KeyValue::new("c", contents.len().to_string()),
        KeyValue::new("d", "xyzzy"),
    ]
}

fn reduce_values(values: &[String]) -> String {
    let mut v = values.to_vec();
    v.sort();
    v.join(" ")
}

impl App for Crash {
    const NAME: &'static str = "crash";

    async fn map(&self, ctx: &Ctx<'_>, filename: &str, contents: &str) -> Vec<KeyValue> {
        maybe_crash(ctx).await;
        map_pairs(filename, contents)
    }

    async fn reduce(&self, ctx: &Ctx<'_>, _key: &str, values: &[String]) -> String {
        maybe_crash(ctx).await;
        reduce_values(values)
    }
}

impl App for NoCrash {
    const NAME: &'static str = "nocrash";

    async fn map(&self, _ctx: &Ctx<'_>, filename: &str, contents: &str) -> Vec<KeyValue> {
        map_pairs(filename, contents)
    }

    async fn reduce(&self, _ctx: &Ctx<'_>, _key: &str, values: &[String]) -> String {
        reduce_values(values)
    }
}
