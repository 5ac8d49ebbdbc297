//! `brine.json`: what ran and how it ended, for people and machines.

use serde::Serialize;

/// Bytes of stdout/stderr kept in the summary, as Bacalhau keeps in its own.
pub const HEAD_BYTES: usize = 2048;

/// Where a partition ran, recorded in its brine.json.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Placement {
    /// The host name of the machine that ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The engine's id for this task: `JOBID_INDEX` (Slurm array), `JOBID`
    /// (Slurm), the pod name (Kubernetes), `JOBID:INDEX` (AWS Batch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
}

/// The summary of one execution (one partition of a job).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// brine's version.
    pub brine_version: String,
    /// The job's name.
    pub job: String,
    /// The job id.
    pub job_id: String,
    /// This execution's id.
    pub execution_id: String,
    /// The partition index.
    pub partition_index: u32,
    /// The number of partitions.
    pub partition_count: u32,
    /// `completed` or `failed`.
    pub status: Status,
    /// The guest's exit code (absent when it never ran to an exit).
    pub exit_code: Option<i64>,
    /// Why the execution failed.
    pub error: Option<String>,
    /// The first bytes of stdout.
    pub stdout: String,
    /// Whether stdout went past the cap.
    pub stdout_truncated: bool,
    /// The first bytes of stderr.
    pub stderr: String,
    /// Whether stderr went past the cap.
    pub stderr_truncated: bool,
    /// The ResultPath names published.
    pub outputs: Vec<String>,
    /// Symbolic links the guest left in its outputs, removed before publishing
    /// (brine publishes no links: they could point anywhere on the host).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped_links: Vec<String>,
    /// Fuel used, when metering was on.
    pub fuel_consumed: Option<u64>,
    /// Where the results were published (absent without a publisher, or for `noop`).
    pub published: Option<Published>,
    /// How long staging and running took.
    pub durations_ms: Durations,
    /// Where it ran, when the run was one partition of a cluster job (`--partition`).
    #[serde(flatten)]
    pub placement: Placement,
    /// Module and input hashes, gathered when a receipt was asked for (not in brine.json).
    #[serde(skip)]
    pub evidence: Option<super::evidence::Evidence>,
}

/// What a publisher wrote, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Published {
    /// The publisher type (`local` or `s3`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Where: a directory, a `.tar.gz` file, or `s3://bucket/prefix/`.
    pub location: String,
    /// Every file published, in name order.
    pub objects: Vec<PublishedObject>,
}

/// One published file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PublishedObject {
    /// Its path in the results (local) or its key (s3).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-256 of its bytes, as hex.
    pub sha256: String,
}

/// The execution's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The guest ran to its end (any exit code).
    Completed,
    /// A trap, a timeout, a missing entrypoint or module, a failed input.
    Failed,
}

/// Durations in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Durations {
    /// Staging the inputs.
    pub staging: u64,
    /// Running the module.
    pub run: u64,
    /// Publishing the results.
    pub publish: u64,
    /// Everything.
    pub total: u64,
}
