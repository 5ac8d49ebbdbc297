//! Writing a job run's journal (`brine run --record`): the invocation, so
//! `brine replay` can find the job again, and the host's answers.

use super::execution::Execution;
use super::job_hash;
use crate::host::journal::{self, Header};
use crate::host::recording::Log;
use std::path::{Path, PathBuf};

/// The journal file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the journal {}: {source}", path.display())]
pub struct JournalWriteError {
    /// The journal's path.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

/// Writes the journal of a job's one execution: its header and every host answer in `log`.
pub fn write_job_journal(
    path: &Path,
    job: &crate::spec::Job,
    exec: &Execution,
    log: &Log,
) -> Result<(), JournalWriteError> {
    let header = Header {
        format: journal::FORMAT.to_string(),
        brine_version: env!("CARGO_PKG_VERSION").to_string(),
        invocation: journal::Invocation::Job {
            // Absolute, so the hint `brine replay` prints works from any directory.
            job_file: std::path::absolute(&job.file).unwrap_or_else(|_| job.file.clone()),
            job_hash: job_hash(job),
            argv: exec.argv.clone(),
            env: exec.env.clone(),
        },
        deterministic: exec.deterministic.is_some(),
    };
    let entries = log.lock().map(|l| l.clone()).unwrap_or_default();
    journal::write(path, &header, &entries).map_err(|source| JournalWriteError {
        path: path.to_path_buf(),
        source,
    })
}
