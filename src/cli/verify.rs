//! `brine verify`: re-run a job deterministically and compare with its receipt,
//! or compare receipts from several hosts.

use super::Failure;
use crate::job::execution::RunOptions;
use crate::job::job_hash;
use crate::job::partitions::run_partitions;
use crate::job::plan::{plan, PlanOptions};
use crate::job::reach::{protected_paths, refuse_paths_in_guest_reach};
use crate::job::receipt::build_receipt;
use crate::job::receipt::{parse_seed, PartitionReceipt, Receipt};
use crate::job::verify::{consensus, first_difference};
use crate::outputs::hash::{file_hashes, hex};
use crate::outputs::Staging;
use crate::spec::Job;
use anyhow::{anyhow, Context};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

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
    let job_file = args.job.clone().ok_or_else(|| {
        Failure::usage(anyhow!(
            "give the job file to re-run: brine verify {} JOB (the receipt names `{}`; a receipt \
             is not trusted to choose what brine runs)",
            path.display(),
            expected.job_file.escape_debug()
        ))
    })?;
    let job = crate::spec::load(&job_file).map_err(Failure::usage)?;
    if job_hash(&job) != expected.job_hash {
        // Nothing to re-run: a different job cannot reproduce the receipt.
        return Ok(report(
            args.json,
            Some("the job differs (its normalized hash changed)"),
        ));
    }
    let actual = rerun(&expected, &job)?;
    let difference = first_difference(&expected, &actual);
    Ok(report(args.json, difference.as_deref()))
}

/// The most a receipt file may hold: receipts list one hash per output file,
/// far below this; a larger file is not a receipt and is not read into memory.
const MAX_RECEIPT: u64 = 256 << 20;

fn read_receipt(path: &Path) -> anyhow::Result<Receipt> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut json = Vec::new();
    file.take(MAX_RECEIPT + 1)
        .read_to_end(&mut json)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if json.len() as u64 > MAX_RECEIPT {
        return Err(anyhow!(
            "{} is not a brine receipt: it is larger than {} MiB",
            path.display(),
            MAX_RECEIPT >> 20
        ));
    }
    Receipt::parse(&json)
        .with_context(|| format!("{} is not a valid brine receipt", path.display()))
}

/// A fresh scratch directory for a re-run, removed when dropped. `tempfile`
/// creates it under an unpredictable name, exclusively and private (0700), so
/// nothing planted in the temporary directory is followed, reused or deleted.
fn scratch_dir() -> std::io::Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("brine-verify-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tempfile's default is 0777 less the umask; the re-run's inputs and results are private.
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    builder.tempdir()
}

/// How a re-run is planned: deterministic, with the receipt's seed and epoch.
pub(crate) fn rerun_options(expected: &Receipt) -> Result<PlanOptions, Failure> {
    let deterministic = expected.deterministic.as_ref().ok_or_else(|| {
        Failure::usage(anyhow!(
            "the receipt is not from a deterministic run; only those can be verified by re-running"
        ))
    })?;
    Ok(PlanOptions {
        deterministic: true,
        seed_key: Some(parse_seed(&deterministic.seed).map_err(Failure::usage)?),
        epoch_ns: Some(deterministic.epoch_ns),
        overrides: expected.limits.unwrap_or_default(),
        ..PlanOptions::default()
    })
}

/// Runs the job again with the receipt's deterministic settings, in a scratch directory.
fn rerun(expected: &Receipt, job: &Job) -> Result<Receipt, Failure> {
    let options = rerun_options(expected)?;
    let executions = plan(job, &options).map_err(Failure::usage)?;
    let scratch = scratch_dir().map_err(|e| {
        Failure::usage(anyhow!(
            "cannot create a scratch directory in {}: {e} (set TMPDIR to a writable directory)",
            std::env::temp_dir().display()
        ))
    })?;
    let protected = protected_paths(&job.file, &executions);
    refuse_paths_in_guest_reach(&protected, &executions, &[]).map_err(Failure::usage)?;
    let _remove_on_signal = crate::cancel::remove_on_signal(scratch.path().to_path_buf());
    let staging = Staging::prepare_guarded(&scratch.path().join("results"), false, &protected)
        .map_err(Failure::usage)?;
    let opts = RunOptions {
        evidence: true,
        ..RunOptions::default()
    };
    let parallel = std::thread::available_parallelism().map_or(1, usize::from);
    let failure = |e: anyhow::Error| Failure {
        status: 1,
        error: e,
    };
    let summaries =
        run_partitions(&executions, &staging, &opts, parallel).map_err(|e| failure(e.into()))?;
    let dir = staging.commit().map_err(|e| failure(e.into()))?;
    build_receipt(
        Path::new(&expected.job_file),
        job,
        &options,
        &dir,
        &summaries,
    )
    .map_err(|e| failure(e.into()))
}

/// Checks a results directory against the receipt: streams and every output file.
/// Output paths were validated when the receipt was read; each file read must
/// also resolve inside DIR, so a link in the results cannot make brine read elsewhere.
fn check_results(receipt: &Receipt, dir: &Path) -> anyhow::Result<Option<String>> {
    let root = dir
        .canonicalize()
        .with_context(|| format!("cannot read the results directory {}", dir.display()))?;
    let many = receipt.partitions.len() > 1;
    for p in &receipt.partitions {
        let results = if many {
            dir.join(p.index.to_string())
        } else {
            dir.to_path_buf()
        };
        if let Some(difference) = check_partition(p, &root, &results)? {
            return Ok(Some(difference));
        }
    }
    Ok(None)
}

fn check_partition(
    p: &PartitionReceipt,
    root: &Path,
    results: &Path,
) -> anyhow::Result<Option<String>> {
    for (name, expected) in [("stdout", &p.stdout), ("stderr", &p.stderr)] {
        let path = results.join(name);
        if let Some(outside) = outside(root, &path) {
            return Ok(Some(outside));
        }
        let actual = hex(&crate::outputs::hash::file_hash(&path)
            .with_context(|| format!("cannot read {}", path.display()))?);
        if &actual != expected {
            return Ok(Some(format!("{}: content differs", path.display())));
        }
    }
    // One listing per output name (a receipt lists each of its files).
    let mut listings: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    for (path, expected) in &p.outputs {
        let (name, rel) = path.split_once('/').unwrap_or((path, ""));
        if !listings.contains_key(name) {
            let top = results.join(name);
            if let Some(outside) = outside(root, &top) {
                return Ok(Some(outside));
            }
            listings.insert(name, file_hashes(&top).unwrap_or_default());
        }
        if listings.get(name).and_then(|l| l.get(rel)) != Some(expected) {
            return Ok(Some(format!("outputs/{path}: content differs")));
        }
    }
    Ok(None)
}

/// A difference when `path` exists and resolves outside `root` (through a link);
/// `None` when it stays inside or is missing (a missing file is a difference found later).
fn outside(root: &Path, path: &Path) -> Option<String> {
    let resolved = path.canonicalize().ok()?;
    (!resolved.starts_with(root)).then(|| {
        format!(
            "{}: resolves outside the results directory {} (not read)",
            path.display(),
            root.display()
        )
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scratch_directory_is_fresh_and_private() {
        let a = scratch_dir().unwrap();
        let b = scratch_dir().unwrap();
        assert_ne!(a.path(), b.path());
        for dir in [&a, &b] {
            let name = dir
                .path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            assert!(name.starts_with("brine-verify-"), "{name}");
            // Not the old predictable name.
            assert_ne!(name, format!("brine-verify-{}", std::process::id()));
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
            let meta = std::fs::symlink_metadata(dir.path()).unwrap();
            assert!(meta.is_dir() && !meta.file_type().is_symlink());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(meta.permissions().mode() & 0o777, 0o700);
            }
        }
        let path = a.path().to_path_buf();
        drop(a);
        assert!(!path.exists(), "the scratch directory is removed when done");
    }
}
