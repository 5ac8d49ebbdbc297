//! `brine verify`: re-run a job deterministically and compare with its receipt,
//! or compare receipts from several hosts.

use super::Failure;
use crate::api::verify::{check_results, read_receipt, verify_receipt, Verdict};
use crate::api::Job;
use crate::job::verify::consensus;
use anyhow::anyhow;
use std::path::PathBuf;

/// Arguments of `brine verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The receipt to verify (written by `brine run --receipt`).
    #[arg(required_unless_present = "receipts")]
    receipt: Option<PathBuf>,
    /// The job file to re-run. Required to re-run: a receipt is not trusted to choose
    /// which file brine runs (the one it names is shown as a hint).
    job: Option<PathBuf>,
    /// Also check that this results directory holds what the receipt says.
    #[arg(long, value_name = "DIR")]
    results: Option<PathBuf>,
    /// Compare receipts from several hosts instead: report the majority and the dissenters.
    #[arg(long, num_args = 2.., value_name = "RECEIPT", conflicts_with_all = ["receipt", "job", "results"])]
    receipts: Vec<PathBuf>,
    /// Print one JSON object (`verified`, `difference`; or `majority`, `dissenters`).
    #[arg(long)]
    pub(super) json: bool,
    /// Trust the CA certificates in this PEM file too, for the re-run's downloads (as
    /// `brine run --ca-cert`). Repeatable.
    #[arg(long = "ca-cert", value_name = "FILE")]
    ca_cert: Vec<PathBuf>,
}

/// Prints a verdict: `verified`, or `differs: ...` (or the JSON form).
fn report(json: bool, difference: Option<&str>) -> i32 {
    if json {
        let object =
            serde_json::json!({ "verified": difference.is_none(), "difference": difference });
        outln!("{object}");
    } else {
        match difference {
            None => outln!("verified"),
            Some(d) => outln!("differs: {d}"),
        }
    }
    i32::from(difference.is_some())
}

/// Verifies and returns the exit status: 0 verified, 1 a difference, 2 bad input.
pub fn run(args: Args) -> Result<i32, Failure> {
    super::run::trust_ca_files(&args.ca_cert)?;
    if !args.receipts.is_empty() {
        return compare_receipts(&args.receipts, args.json);
    }
    let path = args
        .receipt
        .clone()
        .ok_or_else(|| Failure::usage(anyhow!("give a receipt")))?;
    let expected = read_receipt(&path).map_err(Failure::from)?;
    if let Some(dir) = &args.results {
        if let Some(difference) = check_results(&expected, dir).map_err(Failure::from)? {
            return Ok(report(args.json, Some(&difference)));
        }
    }
    let job_file = args.job.clone().ok_or_else(|| {
        Failure::usage(anyhow!(
            "give the job file to re-run: brine verify {} JOB (the receipt names `{}`; a receipt \
             is not trusted to choose what brine runs)",
            path.display(),
            expected.job_file.escape_debug()
        ))
    })?;
    let job = Job::from_path(&job_file).map_err(Failure::from)?;
    match verify_receipt(&expected, &job).map_err(Failure::from)? {
        Verdict::Verified => Ok(report(args.json, None)),
        Verdict::Differs(difference) => Ok(report(args.json, Some(&difference))),
    }
}

fn compare_receipts(paths: &[PathBuf], json: bool) -> Result<i32, Failure> {
    let receipts = paths
        .iter()
        .map(|p| read_receipt(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::from)?;
    let verdict = consensus(&receipts);
    let names: Vec<String> = verdict
        .majority
        .iter()
        .map(|&i| paths[i].display().to_string())
        .collect();
    if json {
        let dissenters: Vec<serde_json::Value> = verdict
            .dissenters
            .iter()
            .map(|(i, d)| serde_json::json!({ "receipt": paths[*i].display().to_string(), "difference": d }))
            .collect();
        outln!(
            "{}",
            serde_json::json!({ "majority": names, "of": receipts.len(), "dissenters": dissenters })
        );
    } else {
        outln!(
            "majority: {} of {} ({})",
            verdict.majority.len(),
            receipts.len(),
            names.join(", ")
        );
        for (i, difference) in &verdict.dissenters {
            outln!("dissenter {}: {difference}", paths[*i].display());
        }
    }
    Ok(i32::from(!verdict.dissenters.is_empty()))
}
