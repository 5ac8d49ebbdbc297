//! Execution receipts: what ran, on what, and what came out, as hashes.
//!
//! A receipt is JSON with a stable field order (struct order, sorted maps).
//! Two deterministic runs of the same job on the same inputs give byte-identical
//! receipts on any host; `brine verify` re-runs a job and compares.

use super::plan::{deterministic_settings, LimitOverrides, PlanOptions};
pub use crate::outputs::evidence::InputHashes;
use crate::outputs::hash::{file_hashes, hex, tree_hash};
use crate::outputs::Summary;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The receipt format this brine writes.
pub const FORMAT: &str = "brine-receipt/1";

/// The deterministic settings a run used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeterministicInfo {
    /// Realtime clock at the start, ns since the Unix epoch.
    pub epoch_ns: u64,
    /// The job's random seed (each partition derives its own from it), hex.
    pub seed: String,
    /// Fuel per unit of virtual time: 1 unit of fuel is 1 ns.
    pub ns_per_fuel: u64,
}

/// What one partition produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionReceipt {
    /// The partition index.
    pub index: u32,
    /// `completed` or `failed`.
    pub status: String,
    /// The exit code, if the guest got that far.
    pub exit_code: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// Fuel used.
    pub fuel_consumed: Option<u64>,
    /// BLAKE3 of stdout.
    pub stdout: String,
    /// BLAKE3 of stderr.
    pub stderr: String,
    /// Every output file's hash, by path under the results directory (`NAME/...`).
    pub outputs: BTreeMap<String, String>,
    /// The tree hash over all outputs.
    pub output_tree: String,
}

/// A whole receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// `FORMAT`.
    pub format: String,
    /// The brine that produced it.
    pub brine_version: String,
    /// The job's name.
    pub job: String,
    /// The job file, as given on the command line.
    pub job_file: String,
    /// The job hash (`Job::hash`) of the normalized job.
    pub job_hash: String,
    /// Deterministic settings (absent for an ordinary run).
    pub deterministic: Option<DeterministicInfo>,
    /// Limits the command line set in place of the job's (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitOverrides>,
    /// Module hashes, by guest path.
    pub modules: BTreeMap<String, String>,
    /// Input hashes, by target.
    pub inputs: BTreeMap<String, InputHashes>,
    /// One entry per partition.
    pub partitions: Vec<PartitionReceipt>,
}

/// Hashes what one partition left in its results directory.
pub fn partition_receipt(
    index: u32,
    summary: &Summary,
    results: &Path,
) -> std::io::Result<PartitionReceipt> {
    let stream = |name: &str| -> std::io::Result<String> {
        let path = results.join(name);
        if path.exists() {
            Ok(hex(&crate::outputs::hash::file_hash(&path)?))
        } else {
            Ok(hex(&blake3::hash(b"")))
        }
    };
    let mut outputs = BTreeMap::new();
    for name in &summary.outputs {
        for (rel, hash) in file_hashes(&results.join(name))? {
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{name}/{rel}")
            };
            outputs.insert(path, hash);
        }
    }
    Ok(PartitionReceipt {
        index,
        status: format!("{:?}", summary.status).to_lowercase(),
        exit_code: summary.exit_code,
        error: summary.error.clone(),
        fuel_consumed: summary.fuel_consumed,
        stdout: stream("stdout")?,
        stderr: stream("stderr")?,
        output_tree: tree_hash(&outputs),
        outputs,
    })
}

impl Receipt {
    /// The receipt as pretty JSON (the bytes that are compared for identity).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Reads a receipt from untrusted JSON: the format is checked first, then
    /// every field brine acts on (output paths, the seed) is validated.
    pub fn parse(json: &[u8]) -> Result<Receipt, ReceiptError> {
        #[derive(Deserialize)]
        struct Format {
            format: Option<String>,
        }
        let format: Format =
            serde_json::from_slice(json).map_err(|e| ReceiptError::Invalid(e.to_string()))?;
        match format.format {
            Some(f) if f == FORMAT => {}
            Some(found) => return Err(ReceiptError::Format(found.escape_debug().to_string())),
            None => {
                return Err(ReceiptError::Invalid(format!(
                    "it has no format (expected {FORMAT})"
                )))
            }
        }
        let receipt: Receipt =
            serde_json::from_slice(json).map_err(|e| ReceiptError::Invalid(e.to_string()))?;
        receipt.validate()?;
        Ok(receipt)
    }

    fn validate(&self) -> Result<(), ReceiptError> {
        if let Some(deterministic) = &self.deterministic {
            parse_seed(&deterministic.seed)?;
        }
        let keys = self.partitions.iter().flat_map(|p| p.outputs.keys());
        match keys.into_iter().find(|key| !is_output_path(key)) {
            Some(key) => Err(ReceiptError::OutputPath(key.escape_debug().to_string())),
            None => Ok(()),
        }
    }
}

/// Why a receipt is refused.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// Not JSON, or not a receipt's fields.
    #[error("{0}")]
    Invalid(String),
    /// A format this brine does not read.
    #[error("it is a `{0}` receipt; this brine reads {FORMAT} only")]
    Format(String),
    /// An output path that is not a plain relative path.
    #[error("output path `{0}` is not a relative path inside the results directory")]
    OutputPath(String),
    /// The seed is not 32 bytes of hex.
    #[error("its seed is not 64 hex digits")]
    Seed,
}

/// The seed of a deterministic run, from its receipt's 64 hex digits.
pub fn parse_seed(text: &str) -> Result<[u8; 32], ReceiptError> {
    // Checked as ASCII hex first: slicing text with multi-byte characters by byte index would panic.
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ReceiptError::Seed);
    }
    let bytes = crate::host::journal::from_hex(text).ok_or(ReceiptError::Seed)?;
    bytes.try_into().map_err(|_| ReceiptError::Seed)
}

/// Whether `key` is an output path as brine writes them: `NAME` or `NAME/...`
/// (a directory ends in one `/`), with no empty, `.` or `..` component, no
/// leading `/`, backslash or NUL, so joining it to a directory stays inside.
pub fn is_output_path(key: &str) -> bool {
    let body = key.strip_suffix('/').unwrap_or(key);
    !body.is_empty()
        && !body.contains(['\\', '\0'])
        && body
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// The receipt of a finished job, from what the partitions left in `dir`.
pub fn build_receipt(
    job_file: &Path,
    job: &crate::spec::Job,
    options: &PlanOptions,
    dir: &Path,
    summaries: &[Summary],
) -> std::io::Result<Receipt> {
    let many = summaries.len() > 1;
    let mut partitions = Vec::new();
    for s in summaries {
        let results = if many {
            dir.join(s.partition_index.to_string())
        } else {
            dir.to_path_buf()
        };
        partitions.push(partition_receipt(s.partition_index, s, &results)?);
    }
    let evidence = summaries
        .iter()
        .find_map(|s| s.evidence.clone())
        .unwrap_or_default();
    let deterministic = deterministic_settings(job, options).map(|s| DeterministicInfo {
        epoch_ns: s.epoch_ns,
        seed: crate::text::hex(&s.seed),
        ns_per_fuel: 1,
    });
    Ok(Receipt {
        format: FORMAT.to_string(),
        brine_version: env!("CARGO_PKG_VERSION").to_string(),
        job: job.name.clone(),
        // Absolute, so the hint `brine verify` prints works from any directory.
        job_file: std::path::absolute(job_file)
            .unwrap_or_else(|_| job_file.to_path_buf())
            .display()
            .to_string(),
        job_hash: super::job_hash(job),
        deterministic,
        limits: (!options.overrides.is_empty()).then_some(options.overrides),
        modules: evidence.modules,
        inputs: evidence.inputs,
        partitions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths_stay_inside() {
        for good in [
            "outputs",
            "outputs/a.csv",
            "outputs/sub/",
            "o/.hidden",
            "o/..x",
        ] {
            assert!(is_output_path(good), "{good}");
        }
        for bad in [
            "",
            "/",
            "../x",
            "/etc/passwd",
            "o/../x",
            "o//x",
            "o/./x",
            "o\\x",
            "o/\0",
            "o//",
            ".",
            "o/.",
        ] {
            assert!(!is_output_path(bad), "{bad:?}");
        }
    }

    #[test]
    fn seeds_are_ascii_hex_of_the_right_length() {
        assert_eq!(parse_seed(&"0f".repeat(32)).unwrap(), [15u8; 32]);
        // 64 bytes, but multi-byte characters: refused, not a panic on a char boundary.
        let multibyte = format!("{}{}", "é".repeat(2), "0".repeat(60));
        assert_eq!(multibyte.len(), 64);
        for bad in [
            multibyte.as_str(),
            &"0".repeat(63),
            &"g".repeat(64),
            "+1".repeat(32).as_str(),
        ] {
            assert!(matches!(parse_seed(bad), Err(ReceiptError::Seed)), "{bad}");
        }
    }
}
