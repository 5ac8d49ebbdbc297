//! Verifying a receipt: re-running its job deterministically in a scratch
//! directory and comparing, or checking a results directory against it.

use super::{Error, Job};
use crate::job::execution::RunOptions;
use crate::job::job_hash;
use crate::job::partitions::run_partitions;
use crate::job::plan::{plan, PlanOptions};
use crate::job::reach::{protected_paths, refuse_paths_in_guest_reach};
use crate::job::receipt::{build_receipt, parse_seed, PartitionReceipt, Receipt};
use crate::job::verify::first_difference;
use crate::outputs::hash::{file_hashes, hex};
use crate::outputs::Staging;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// What verifying a receipt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The re-run (or the results directory) matches the receipt.
    Verified,
    /// The first difference found.
    Differs(String),
}

/// Re-runs `job` with the deterministic settings and limits the receipt at
/// `receipt` records, in a scratch directory, and compares the outcome (exit
/// codes, stdout, stderr, every output file) with it. The job is the
/// caller's to choose: a receipt is not trusted to name what runs.
///
/// ```
/// let job = brine::Job::from_path("fixtures/jobs/demo/job.yaml")?;
/// let config = brine::RunConfig::new("results/doc-verify")
///     .force(true)
///     .deterministic(None)
///     .receipt_file("results/doc-verify.receipt.json");
/// brine::run(&job, &config)?;
/// let verdict = brine::verify("results/doc-verify.receipt.json", &job)?;
/// assert_eq!(verdict, brine::Verdict::Verified);
/// # Ok::<(), brine::Error>(())
/// ```
pub fn verify(receipt: impl AsRef<Path>, job: &Job) -> Result<Verdict, Error> {
    let expected = read_receipt(receipt.as_ref())?;
    verify_receipt(&expected, job)
}

/// Re-runs `job` as `expected` records and compares.
pub(crate) fn verify_receipt(expected: &Receipt, job: &Job) -> Result<Verdict, Error> {
    if job_hash(&job.0) != expected.job_hash {
        // Nothing to re-run: a different job cannot reproduce the receipt.
        return Ok(Verdict::Differs(
            "the job differs (its normalized hash changed)".to_string(),
        ));
    }
    let actual = rerun(expected, &job.0)?;
    let difference =
        rerun_failure(expected, &actual).or_else(|| first_difference(expected, &actual));
    Ok(match difference {
        None => Verdict::Verified,
        Some(difference) => Verdict::Differs(difference),
    })
}

/// A partition the receipt says completed but whose re-run failed, with the
/// re-run's error: a download or staging failure there (a certificate not
/// trusted, a server gone) would otherwise show only as its consequence, a
/// module or an input "missing".
fn rerun_failure(expected: &Receipt, actual: &Receipt) -> Option<String> {
    let several = expected.partitions.len() > 1;
    expected
        .partitions
        .iter()
        .zip(&actual.partitions)
        .find_map(|(e, a)| {
            let failed = e.status == "completed" && a.status != "completed";
            let error = a.error.as_deref().filter(|_| failed)?;
            Some(match several {
                true => format!("the re-run of partition {} failed: {error}", a.index),
                false => format!("the re-run failed: {error}"),
            })
        })
}

/// The most a receipt file may hold: receipts list one hash per output file,
/// far below this; a larger file is not a receipt and is not read into memory.
const MAX_RECEIPT: u64 = 256 << 20;

/// Reads and parses the receipt at `path` (hostile: its size is capped and
/// every path in it checked).
pub(crate) fn read_receipt(path: &Path) -> Result<Receipt, Error> {
    let cannot = |e: std::io::Error| Error::Refused(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut json = Vec::new();
    file.take(MAX_RECEIPT + 1)
        .read_to_end(&mut json)
        .map_err(cannot)?;
    if json.len() as u64 > MAX_RECEIPT {
        return Err(Error::Refused(format!(
            "{} is not a brine receipt: it is larger than {} MiB",
            path.display(),
            MAX_RECEIPT >> 20
        )));
    }
    Receipt::parse(&json).map_err(|e| {
        Error::Refused(format!(
            "{} is not a valid brine receipt: {e}",
            path.display()
        ))
    })
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

/// How a re-run is planned: deterministic, with the receipt's seed, epoch and limits.
pub(crate) fn rerun_options(expected: &Receipt) -> Result<PlanOptions, Error> {
    let deterministic = expected.deterministic.as_ref().ok_or_else(|| {
        Error::Refused(
            "the receipt is not from a deterministic run; only those can be verified by re-running"
                .to_string(),
        )
    })?;
    Ok(PlanOptions {
        deterministic: true,
        seed_key: Some(parse_seed(&deterministic.seed).map_err(Error::refused)?),
        epoch_ns: Some(deterministic.epoch_ns),
        overrides: expected.limits.unwrap_or_default(),
        ..PlanOptions::default()
    })
}

/// Runs the job again with the receipt's deterministic settings, in a scratch directory.
fn rerun(expected: &Receipt, job: &crate::spec::Job) -> Result<Receipt, Error> {
    let options = rerun_options(expected)?;
    let executions = plan(job, &options).map_err(Error::refused)?;
    let scratch = scratch_dir().map_err(|e| {
        Error::Refused(format!(
            "cannot create a scratch directory in {}: {e} (set TMPDIR to a writable directory)",
            std::env::temp_dir().display()
        ))
    })?;
    let protected = protected_paths(&job.file, &executions);
    refuse_paths_in_guest_reach(&protected, &executions, &[]).map_err(Error::refused)?;
    let _remove_on_signal = crate::cancel::remove_on_signal(scratch.path().to_path_buf());
    let staging = Staging::prepare_guarded(&scratch.path().join("results"), false, &protected)
        .map_err(Error::refused)?;
    let opts = RunOptions {
        evidence: true,
        ..RunOptions::default()
    };
    let parallel = std::thread::available_parallelism().map_or(1, usize::from);
    let summaries =
        run_partitions(&executions, &staging, &opts, parallel).map_err(Error::failed)?;
    let dir = staging.commit().map_err(Error::failed)?;
    build_receipt(
        Path::new(&expected.job_file),
        job,
        &options,
        &dir,
        &summaries,
    )
    .map_err(Error::failed)
}

/// Checks a results directory against the receipt: streams and every output file.
/// Output paths were validated when the receipt was read; each file read must
/// also resolve inside DIR, so a link in the results cannot make brine read elsewhere.
pub(crate) fn check_results(receipt: &Receipt, dir: &Path) -> Result<Option<String>, Error> {
    let root = dir.canonicalize().map_err(|e| {
        Error::Refused(format!(
            "cannot read the results directory {}: {e}",
            dir.display()
        ))
    })?;
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
) -> Result<Option<String>, Error> {
    for (name, expected) in [("stdout", &p.stdout), ("stderr", &p.stderr)] {
        let path = results.join(name);
        if let Some(outside) = outside(root, &path) {
            return Ok(Some(outside));
        }
        let actual = hex(&crate::outputs::hash::file_hash(&path)
            .map_err(|e| Error::Refused(format!("cannot read {}: {e}", path.display())))?);
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
