//! Every partition of a job: one results directory each (`DIR/<index>/` when
//! there are several), run at most `parallel` at a time on a small pool.
//! `brine run`, `brine verify` and `brine replay` all run jobs through here.

use crate::job::check::NO_ENTRYPOINT;
use crate::job::execution::{Execution, RunOptions};
use crate::job::runner::{execute, refuse};
use crate::outputs::{Staging, Summary};
use crate::spec::SpecErrors;
use std::path::PathBuf;
use std::sync::Mutex;

/// Why the partitions could not all be run.
#[derive(Debug, thiserror::Error)]
pub enum PartitionsError {
    /// A partition's results or work directory could not be created.
    #[error("cannot create {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A partition's thread ended without a summary (it panicked).
    #[error("a partition did not report (its thread stopped)")]
    NotReported,
}

/// Runs every execution, at most `parallel` at a time; returns their summaries
/// in partition order.
pub fn run_partitions(
    executions: &[Execution],
    staging: &Staging,
    opts: &RunOptions,
    parallel: usize,
) -> Result<Vec<Summary>, PartitionsError> {
    let dirs = partition_dirs(executions, staging)?;
    if let ([exec], [(results, work)]) = (executions, dirs.as_slice()) {
        // One partition (the usual case) runs right here: no thread to start and wait for.
        return Ok(vec![execute(exec, results, work, opts)]);
    }
    let next = Mutex::new(0usize);
    let done: Mutex<Vec<Option<Summary>>> = Mutex::new(vec![None; executions.len()]);
    std::thread::scope(|scope| {
        for _ in 0..parallel.max(1).min(executions.len()) {
            scope.spawn(|| {
                while let Some(index) = take_next(&next) {
                    let (Some(exec), Some((results, work))) =
                        (executions.get(index), dirs.get(index))
                    else {
                        return;
                    };
                    let summary = execute(exec, results, work, opts);
                    if let Ok(mut done) = done.lock() {
                        if let Some(slot) = done.get_mut(index) {
                            *slot = Some(summary);
                        }
                    }
                }
            });
        }
    });
    let done = done
        .into_inner()
        .map_err(|_| PartitionsError::NotReported)?;
    done.into_iter()
        .map(|s| s.ok_or(PartitionsError::NotReported))
        .collect()
}

/// The next partition index to run, or `None` when the pool's lock is poisoned.
fn take_next(next: &Mutex<usize>) -> Option<usize> {
    let mut next = next.lock().ok()?;
    let index = *next;
    *next += 1;
    Some(index)
}

/// Each partition's (results, work) directories, created.
pub(crate) fn partition_dirs(
    executions: &[Execution],
    staging: &Staging,
) -> Result<Vec<(PathBuf, PathBuf)>, PartitionsError> {
    let many = executions.len() > 1;
    let create = |path: PathBuf| {
        std::fs::create_dir_all(&path)
            .map(|()| path.clone())
            .map_err(|source| PartitionsError::Directory { path, source })
    };
    executions
        .iter()
        .map(|exec| {
            let index = exec.partition_index.to_string();
            let results = if many {
                staging.results().join(&index)
            } else {
                staging.results()
            };
            Ok((create(results)?, create(staging.work().join(&index))?))
        })
        .collect()
}

/// Fails every partition of a job whose modules cannot run, as Bacalhau fails
/// such a job: each results directory gets `brine.json` with status failed and
/// the located problems (a missing entrypoint in Bacalhau's own words).
pub fn refuse_partitions(
    executions: &[Execution],
    staging: &Staging,
    errors: &SpecErrors,
) -> Result<Vec<Summary>, PartitionsError> {
    let dirs = partition_dirs(executions, staging)?;
    let summaries = executions.iter().zip(dirs).map(|(exec, (results, _work))| {
        let lines: Vec<String> = errors
            .iter()
            .map(|e| {
                if e.message.starts_with(NO_ENTRYPOINT) {
                    format!("{} '{}' in the WASM module", NO_ENTRYPOINT, exec.entrypoint)
                } else {
                    e.to_string()
                }
            })
            .collect();
        refuse(exec, &results, lines.join("\n"))
    });
    Ok(summaries.collect())
}
