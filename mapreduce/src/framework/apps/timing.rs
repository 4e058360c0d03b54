//! Concurrency probes: did maps (reduces) run in parallel?
//!
//! 6.824's `nparallel`: a worker leaves a marker file named by its id,
//! counts the markers whose worker is alive, sleeps one second (so that
//! concurrent workers overlap), and removes its marker.

use std::time::Duration;

use crate::app::{App, Ctx, KeyValue, WorkerId};
use crate::files::list_dir;

/// How long a probe keeps its marker.
pub const PROBE_TIME: Duration = Duration::from_secs(1);

/// Counts the workers (this one included) in `phase` right now.
///
/// # Panics
/// If the job's directory cannot be written or listed (6.824 panics too).
pub async fn nparallel(ctx: &Ctx<'_>, phase: &str) -> usize {
    let prefix = format!("mr-worker-{phase}-");
    let mine = ctx.dir().join(format!("{prefix}{}", ctx.me()));
    std::fs::write(&mine, "x").unwrap_or_else(|e| panic!("cannot create {}: {e}", mine.display()));
    let names = list_dir(ctx.dir()).unwrap_or_else(|e| panic!("{e}"));
    let running = names
        .iter()
        .filter_map(|n| n.strip_prefix(&prefix)?.parse::<WorkerId>().ok())
        .filter(|&w| ctx.is_alive(w))
        .count();
    ctx.sleep(PROBE_TIME).await;
    std::fs::remove_file(&mine).unwrap_or_else(|e| panic!("cannot remove {}: {e}", mine.display()));
    running
}

/// Records when each map ran and how many ran at once.
#[derive(Clone, Copy, Debug, Default)]
pub struct MTiming;

impl App for MTiming {
    const NAME: &'static str = "mtiming";

    async fn map(&self, ctx: &Ctx<'_>, _filename: &str, _contents: &str) -> Vec<KeyValue> {
        let start = ctx.now();
        let n = nparallel(ctx, "map").await;
        let me = ctx.me();
        vec![
            KeyValue::new(format!("times-{me}"), format!("{:.1}", start.as_secs_f64())),
            KeyValue::new(format!("parallel-{me}"), n.to_string()),
        ]
    }

    async fn reduce(&self, _ctx: &Ctx<'_>, _key: &str, values: &[String]) -> String {
        let mut v = values.to_vec();
        v.sort();
        v.join(" ")
    }
}

/// Records how many reduces ran at once.
#[derive(Clone, Copy, Debug, Default)]
pub struct RTiming;

impl App for RTiming {
    const NAME: &'static str = "rtiming";

    async fn map(&self, _ctx: &Ctx<'_>, _filename: &str, _contents: &str) -> Vec<KeyValue> {
        ('a'..='j')
            .map(|c| KeyValue::new(c.to_string(), "1"))
            .collect()
    }

    async fn reduce(&self, ctx: &Ctx<'_>, _key: &str, _values: &[String]) -> String {
        nparallel(ctx, "reduce").await.to_string()
    }
}
