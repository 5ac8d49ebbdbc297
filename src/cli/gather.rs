//! `brine gather DIR`: the table of a job's partitions (each run by `brine run
//! --partition`), DIR/brine.json summarizing them, exit 0 iff all completed.

use super::Failure;
use crate::job::gather::{gather, name_not_completed, render_table, write_report, JobReport};
use anyhow::anyhow;
use std::path::{Path, PathBuf};

/// Arguments of `brine gather`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The results directory whose partitions (DIR/0, DIR/1, ...) to account for.
    dir: PathBuf,
    /// Print the job summary (DIR/brine.json) on stdout instead of the table.
    #[arg(long)]
    pub(super) json: bool,
}

/// Gathers DIR and returns the exit status: 0 when every partition completed, else 1.
pub fn run(args: Args) -> Result<i32, Failure> {
    gather_and_report(&args.dir, args.json)
}

/// Gathers `dir`, writes its brine.json, prints the table (or the JSON) and
/// says which partitions did not complete. Shared with `brine slurm submit --wait`.
pub fn gather_and_report(dir: &Path, json: bool) -> Result<i32, Failure> {
    let report = gather(dir).map_err(|e| Failure {
        status: 1,
        error: e.into(),
    })?;
    write_report(dir, &report).map_err(|e| Failure {
        status: 1,
        error: e.into(),
    })?;
    print(&report, json);
    if report.not_completed().next().is_none() {
        return Ok(0);
    }
    Err(Failure {
        status: 1,
        error: anyhow!(
            "{} of {} partitions did not complete: {}",
            report.partition_count - report.completed,
            report.partition_count,
            name_not_completed(&report)
        ),
    })
}

fn print(report: &JobReport, json: bool) {
    if json {
        if let Ok(text) = serde_json::to_string_pretty(report) {
            outln!("{text}");
        }
    } else {
        outln!("{}", render_table(report));
    }
}
