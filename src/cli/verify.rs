//! `brine verify`: re-run a job deterministically and compare with its receipt,
//! or compare receipts from several hosts.

use super::run::{build_receipt, run_partitions};
use super::Failure;
use crate::plan::{plan, PlanOptions};
use crate::replay::hash::{file_hashes, hex};
use crate::replay::receipt::Receipt;
use crate::replay::verify::{consensus, first_difference};
use crate::results::Staging;
use crate::runner::RunOptions;
use anyhow::{anyhow, Context};
use std::path::{Path, PathBuf};

/// Arguments of `brine verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The receipt to verify (written by `brine run --receipt`).
    #[arg(required_unless_present = "receipts")]
    receipt: Option<PathBuf>,
    /// The job file (default: the one the receipt names).
    job: Option<PathBuf>,
    /// Also check that this results directory holds what the receipt says.
    #[arg(long, value_name = "DIR")]
    results: Option<PathBuf>,
    /// Compare receipts from several hosts instead: report the majority and the dissenters.
    #[arg(long, num_args = 2.., value_name = "RECEIPT", conflicts_with_all = ["receipt", "job", "results"])]
    receipts: Vec<PathBuf>,
    /// Print one JSON object (`verified`, `difference`; or `majority`, `dissenters`).
    #[arg(long)]
    json: bool,
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
    if !args.receipts.is_empty() {
        return compare_receipts(&args.receipts, args.json);
    }
    let path = args
        .receipt
        .clone()
        .ok_or_else(|| Failure::usage(anyhow!("give a receipt")))?;
    let expected = read_receipt(&path).map_err(Failure::usage)?;
    if let Some(dir) = &args.results {
        if let Some(difference) = check_results(&expected, dir).map_err(Failure::usage)? {
            return Ok(report(args.json, Some(&difference)));
        }
    }
    let job_file = args
        .job
        .clone()
        .unwrap_or_else(|| PathBuf::from(&expected.job_file));
    let actual = rerun(&expected, &job_file)?;
    let difference = first_difference(&expected, &actual);
    Ok(report(args.json, difference.as_deref()))
}

fn read_receipt(path: &Path) -> anyhow::Result<Receipt> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a brine receipt", path.display()))
}

/// Runs the job again with the receipt's deterministic settings, in a scratch directory.
fn rerun(expected: &Receipt, job_file: &Path) -> Result<Receipt, Failure> {
    let job = crate::spec::load(job_file).map_err(|errors| Failure::usage(anyhow!("{errors}")))?;
    let deterministic = expected.deterministic.as_ref().ok_or_else(|| {
        Failure::usage(anyhow!(
            "the receipt is not from a deterministic run; only those can be verified by re-running"
        ))
    })?;
    let options = PlanOptions {
        deterministic: true,
        seed_key: Some(parse_seed(&deterministic.seed).map_err(Failure::usage)?),
        epoch_ns: Some(deterministic.epoch_ns),
        ..PlanOptions::default()
    };
    let executions = plan(&job, &options).map_err(Failure::usage)?;
    let scratch = std::env::temp_dir().join(format!("brine-verify-{}", std::process::id()));
    let staging = Staging::prepare(&scratch.join("results"), true).map_err(Failure::usage)?;
    let opts = RunOptions {
        evidence: true,
        ..RunOptions::default()
    };
    let parallel = std::thread::available_parallelism().map_or(1, usize::from);
    let failure = |e: anyhow::Error| Failure {
        status: 1,
        error: e,
    };
    let summaries = run_partitions(&executions, &staging, &opts, parallel).map_err(failure)?;
    let dir = staging.publish().map_err(|e| failure(e.into()))?;
    let receipt = build_receipt(
        Path::new(&expected.job_file),
        &job,
        &options,
        &dir,
        &summaries,
    )
    .map_err(failure);
    let _ = std::fs::remove_dir_all(&scratch);
    receipt
}

fn parse_seed(text: &str) -> anyhow::Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    if text.len() != 64 {
        return Err(anyhow!("the receipt's seed is not 64 hex digits"));
    }
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
            .map_err(|_| anyhow!("the receipt's seed is not hex"))?;
    }
    Ok(seed)
}

/// Checks a results directory against the receipt: streams and every output file.
fn check_results(receipt: &Receipt, dir: &Path) -> anyhow::Result<Option<String>> {
    let many = receipt.partitions.len() > 1;
    for p in &receipt.partitions {
        let results = if many {
            dir.join(p.index.to_string())
        } else {
            dir.to_path_buf()
        };
        for (name, expected) in [("stdout", &p.stdout), ("stderr", &p.stderr)] {
            let actual = hex(&crate::replay::hash::file_hash(&results.join(name))?);
            if &actual != expected {
                return Ok(Some(format!(
                    "{}: content differs",
                    results.join(name).display()
                )));
            }
        }
        for (path, expected) in &p.outputs {
            let name = path.split('/').next().unwrap_or_default();
            let rel = path
                .strip_prefix(name)
                .unwrap_or_default()
                .trim_start_matches('/');
            let listing = file_hashes(&results.join(name)).unwrap_or_default();
            if listing.get(rel) != Some(expected) {
                return Ok(Some(format!("outputs/{path}: content differs")));
            }
        }
    }
    Ok(None)
}

fn compare_receipts(paths: &[PathBuf], json: bool) -> Result<i32, Failure> {
    let receipts = paths
        .iter()
        .map(|p| read_receipt(p))
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(Failure::usage)?;
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
