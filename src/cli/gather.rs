//! `brine gather DIR`: the table of a job's partitions (each run by `brine run
//! --partition`), DIR/brine.json summarizing them, exit 0 iff all completed
//! (and, for a job submitted with `--replicas`, all replicas agree).

use super::Failure;
use crate::job::gather::{
    gather, name_disputed, name_not_completed, render_table, write_report, JobReport,
};
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

/// Gathers DIR and returns the exit status: 0 when every partition completed
/// (and its replicas agree), else 1.
pub fn run(args: Args) -> Result<i32, Failure> {
    gather_and_report(&args.dir, args.json)
}

/// Gathers `dir`, writes its brine.json, prints the table (or the JSON) and
/// says which partitions did not complete. Shared with `brine slurm submit --wait`.
pub fn gather_and_report(dir: &Path, json: bool) -> Result<i32, Failure> {
    let report = gather_and_write(dir)?;
    print(&report, json);
    verdict(&report)
}

/// Gathers `dir` and writes its brine.json.
pub fn gather_and_write(dir: &Path) -> Result<JobReport, Failure> {
    let report = gather(dir).map_err(Failure::failed)?;
    write_report(dir, &report).map_err(Failure::failed)?;
    Ok(report)
}

/// 0 when every partition completed and no replica dissents; else a failure
/// (exit 1) naming the partitions that did not complete or are disputed.
pub fn verdict(report: &JobReport) -> Result<i32, Failure> {
    let incomplete = report.partition_count - report.completed;
    let disputed = report.disputed.unwrap_or(0);
    let mut problems = Vec::new();
    if incomplete > 0 {
        problems.push(format!(
            "{incomplete} of {} partitions did not complete: {}",
            report.partition_count,
            name_not_completed(report)
        ));
    }
    if disputed > 0 {
        problems.push(format!(
            "{disputed} of {} partitions have replicas that disagree: {}",
            report.partition_count,
            name_disputed(report)
        ));
    }
    if problems.is_empty() {
        return Ok(0);
    }
    Err(Failure::failed(anyhow!("{}", problems.join("; "))))
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
