//! Execution receipts: what ran, on what, and what came out, as hashes.
//!
//! A receipt is JSON with a stable field order (struct order, sorted maps).
//! Two deterministic runs of the same job on the same inputs give byte-identical
//! receipts on any host; `brine verify` re-runs a job and compares.

use super::hash::{file_hashes, hex, tree_hash};
pub use crate::results::evidence::{Evidence, InputHashes};
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
    /// [`FORMAT`].
    pub format: String,
    /// The brine that produced it.
    pub brine_version: String,
    /// The job's name.
    pub job: String,
    /// The job file, as given on the command line.
    pub job_file: String,
    /// [`super::job_hash`] of the normalized job.
    pub job_hash: String,
    /// Deterministic settings (absent for an ordinary run).
    pub deterministic: Option<DeterministicInfo>,
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
    summary: &crate::results::Summary,
    results: &Path,
) -> std::io::Result<PartitionReceipt> {
    let stream = |name: &str| -> std::io::Result<String> {
        let path = results.join(name);
        if path.exists() {
            Ok(hex(&super::hash::file_hash(&path)?))
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
}
