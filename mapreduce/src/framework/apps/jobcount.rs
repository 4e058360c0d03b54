//! Counts map executions, to catch needless re-execution.

use std::cell::Cell;
use std::time::Duration;

use crate::app::{App, Ctx, KeyValue};
use crate::files::list_dir;

/// Each map leaves a marker file `mr-worker-jobcount-W-N` and takes 2-5 s
/// (below the 10 s re-issue timeout); the reduce counts the markers, so
/// the output is the number of map executions.
///
/// One value per worker: `N` counts this worker's maps (6.824 keeps a
/// per-process counter).
#[derive(Debug, Default)]
pub struct JobCount {
    maps: Cell<u64>,
}

impl App for JobCount {
    const NAME: &'static str = "jobcount";

    async fn map(&self, ctx: &Ctx<'_>, _filename: &str, _contents: &str) -> Vec<KeyValue> {
        let n = self.maps.replace(self.maps.get() + 1);
        let marker = ctx
            .dir()
            .join(format!("mr-worker-jobcount-{}-{n}", ctx.me()));
        std::fs::write(&marker, "x")
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", marker.display()));
        ctx.sleep(Duration::from_millis(2000 + ctx.random_below(3000)))
            .await;
        vec![KeyValue::new("a", "x")]
    }

    async fn reduce(&self, ctx: &Ctx<'_>, _key: &str, _values: &[String]) -> String {
        let names = list_dir(ctx.dir()).unwrap_or_else(|e| panic!("{e}"));
        names
            .iter()
            .filter(|n| n.starts_with("mr-worker-jobcount"))
            .count()
            .to_string()
    }
}
