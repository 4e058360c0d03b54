//! The worker: asks the coordinator for tasks, runs them, reports them
//! done, and exits when the job is done or the coordinator is gone.
//!
//! Guarantees (6.824 Lab 1):
//! - a map task reads its input whole, calls `map` once, and writes every
//!   `mr-X-Y` for Y in `0..n_reduce` (empty ones too), each atomically;
//! - a reduce task reads `mr-X-Y` for every X, sorts the pairs by key
//!   (stably: values keep map-task order), calls `reduce` once per key in
//!   increasing key order, and writes `mr-out-Y` atomically;
//! - a task is reported done only after all its files are in place, so a
//!   worker that crashes never has a task counted as done;
//! - the worker exits when told to (`Exit`) or when a call to the
//!   coordinator fails ([`crate::rpc::CoordinatorGone`]): as 6.824's Unix
//!   socket, the MapReduce network is reliable, so a failed call means the
//!   coordinator exited or crashed;
//! - told to `Wait`, it asks again after [`WAIT_PAUSE`].

use std::time::Duration;

use crate::app::{App, Ctx};
use crate::error::MrError;
use crate::rpc::CoordinatorLink;
// SOLUTION BEGIN
use crate::coordinator::{Assignment, TaskId};
use crate::files::{AtomicFile, MapOutput, output_name, read_input, read_intermediate};
use crate::rpc::{CoordinatorGone, GetTaskArgs, TaskDoneArgs};
// SOLUTION END
// HANDOUT: // Your imports here.

/// How long a worker told to `Wait` pauses before asking again.
pub const WAIT_PAUSE: Duration = Duration::from_millis(200);

/// What one worker did before it exited.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Map tasks it ran to completion.
    pub maps: u64,
    /// Reduce tasks it ran to completion.
    pub reduces: u64,
}

/// Runs a worker of `app` in `ctx` until the job is done or the
/// coordinator is gone; then returns what it did.
///
/// # Errors
/// A file it must read or write fails (e.g. an input was deleted).
pub async fn run_worker<A: App, L: CoordinatorLink>(
    app: &A,
    ctx: &Ctx<'_>,
    link: &L,
) -> Result<WorkerReport, MrError> {
    // SOLUTION BEGIN
    let me = ctx.me();
    let mut report = WorkerReport::default();
    // Makes temporary file names unique among this worker's attempts.
    let mut attempt = 0;
    loop {
        let assignment = match link.get_task(&GetTaskArgs { worker: me }).await {
            Ok(a) => a,
            Err(CoordinatorGone) => return Ok(report),
        };
        attempt += 1;
        let task = match assignment {
            Assignment::Map {
                task,
                file,
                n_reduce,
            } => {
                run_map(app, ctx, task, &file, n_reduce, attempt).await?;
                report.maps += 1;
                TaskId::Map(task)
            }
            Assignment::Reduce { task, n_map } => {
                run_reduce(app, ctx, task, n_map, attempt).await?;
                report.reduces += 1;
                TaskId::Reduce(task)
            }
            Assignment::Wait => {
                ctx.sleep(WAIT_PAUSE).await;
                continue;
            }
            Assignment::Exit => return Ok(report),
        };
        if link
            .task_done(&TaskDoneArgs { worker: me, task })
            .await
            .is_err()
        {
            return Ok(report);
        }
    }
    // SOLUTION END
    // HANDOUT: let _ = (app, ctx, link);
    // HANDOUT: labrpc::not_implemented!("MapReduce (worker): run_worker")
}

// SOLUTION BEGIN
async fn run_map<A: App>(
    app: &A,
    ctx: &Ctx<'_>,
    task: usize,
    file: &str,
    n_reduce: usize,
    attempt: u64,
) -> Result<(), MrError> {
    let contents = read_input(file)?;
    // The pairs go straight into one buffer per reduce task, combined
    // first if the app has a combiner (wc).
    let mut out = MapOutput::new(n_reduce);
    app.map_combined(ctx, file, &contents, &mut out).await;
    drop(contents);
    out.commit(ctx.dir(), task, ctx.me(), attempt)
}

async fn run_reduce<A: App>(
    app: &A,
    ctx: &Ctx<'_>,
    task: usize,
    n_map: usize,
    attempt: u64,
) -> Result<(), MrError> {
    let mut pairs = Vec::new();
    for map in 0..n_map {
        read_intermediate(ctx.dir(), map, task, &mut pairs)?;
    }
    pairs.sort_by(|a, b| a.key.cmp(&b.key));
    let mut out = AtomicFile::create(ctx.dir(), &output_name(task), ctx.me(), attempt)?;
    let mut rest = &mut pairs[..];
    while let Some(first) = rest.first() {
        let n = rest.iter().position(|kv| kv.key != first.key);
        let (group, tail) = rest.split_at_mut(n.unwrap_or(rest.len()));
        let values: Vec<String> = group
            .iter_mut()
            .map(|kv| std::mem::take(&mut kv.value))
            .collect();
        let key = &group[0].key;
        let value = app.reduce(ctx, key, &values).await;
        out.write_output_line(key, &value)?;
        rest = tail;
    }
    out.commit()
}
// SOLUTION END
// HANDOUT: // Your helper functions here.
