//! The job model after parsing: Bacalhau's Job normalized to the current form
//! (v1.7+), with defaults filled in and every field checked.

use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The memory limit when `Resources.Memory` is not given: 512 MiB, as in Bacalhau.
pub const DEFAULT_MEMORY: u64 = 512 << 20;

/// The disk limit when `Resources.Disk` is not given: 10 GiB.
///
/// Bacalhau sizes disk by what the compute node offers; brine writes results
/// to the local disk it runs on, so it needs a cap of its own: big enough for
/// any batch job's results, small enough that a runaway or hostile guest
/// cannot fill the host's disk (a one-byte write at offset 16 TiB is refused).
pub const DEFAULT_DISK: u64 = 10 << 30;

/// Where the spec form's entry module is mounted in the guest.
pub const LEGACY_ENTRY_TARGET: &str = "/wasm/entry.wasm";

/// Where the spec form's import module `i` is mounted in the guest.
pub fn legacy_import_target(i: usize) -> String {
    format!("/wasm/imports/module_{i}.wasm")
}

/// A job: what to run, how many times, with what inputs and limits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// The job's name (the file stem when the file holds only a Task or an engine block).
    pub name: String,
    /// The namespace (`default` unless given).
    pub namespace: String,
    /// The job type; only batch and ops jobs get past validation.
    #[serde(rename = "type")]
    pub job_type: JobType,
    /// How many partitions run (at least 1).
    pub count: u32,
    /// Labels, as given.
    pub labels: BTreeMap<String, String>,
    /// Meta, as given.
    pub meta: BTreeMap<String, String>,
    /// The one task.
    pub task: Task,
    /// The job file this came from, as it was named.
    pub file: PathBuf,
    /// Where its fields are in that file (not part of the job's meaning: not
    /// serialized, so not hashed).
    #[serde(skip)]
    pub sites: super::sites::Sites,
}

/// Bacalhau's job types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobType {
    /// Runs to completion once (per partition).
    Batch,
    /// Like batch, on every matching node.
    Ops,
    /// Long-running on every node (brine refuses it).
    Daemon,
    /// Long-running service (brine refuses it).
    Service,
}

impl JobType {
    /// The lowercase name, as written in job files.
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::Batch => "batch",
            JobType::Ops => "ops",
            JobType::Daemon => "daemon",
            JobType::Service => "service",
        }
    }
}

/// The one task of a job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Task {
    /// The task's name (`main` unless given).
    pub name: String,
    /// The WASM engine's parameters, in the current form.
    pub engine: WasmEngine,
    /// Where results are published, if anywhere.
    pub publisher: Option<Publisher>,
    /// The guest's user environment (spec-form EnvironmentVariables merged in;
    /// values may be `env:NAME`, resolved at run time).
    pub env: BTreeMap<String, String>,
    /// The inputs, including the spec form's module sources.
    pub inputs: Vec<InputSource>,
    /// The guest directories whose contents become results.
    pub result_paths: Vec<ResultPath>,
    /// Resource limits.
    pub resources: Resources,
    /// Network access, if configured.
    pub network: Option<Network>,
    /// Time limits.
    pub timeouts: Timeouts,
}

/// The WASM engine block in the current form: modules are guest paths of inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WasmEngine {
    /// Guest path of the entry module (an input target, or a path under one).
    pub entry_module: String,
    /// The function to call (`_start` unless given).
    pub entrypoint: String,
    /// `argv[1..]` (`argv[0]` is the empty string, as in Bacalhau).
    pub parameters: Vec<String>,
    /// Guest paths of modules instantiated before the entry module, in order.
    pub import_modules: Vec<String>,
    /// Whether the run is deterministic (seeded randomness, virtual clock).
    pub deterministic: bool,
}

/// An engine with no modules yet: entrypoint `_start`, no parameters.
impl Default for WasmEngine {
    fn default() -> Self {
        WasmEngine {
            entry_module: String::new(),
            entrypoint: "_start".into(),
            parameters: Vec::new(),
            import_modules: Vec::new(),
            deterministic: false,
        }
    }
}

/// Where results are published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Publisher {
    /// The publisher type, lowercased (`local`, `s3`, `ipfs`, `noop`).
    pub kind: String,
    /// Its parameters, as given.
    pub params: BTreeMap<String, serde_json::Value>,
}

/// An input mounted into the guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputSource {
    /// Where the data comes from.
    pub source: Source,
    /// An optional name for the input.
    pub alias: Option<String>,
    /// The guest path it is mounted at; always starts with `/`.
    pub target: String,
}

/// Where an input's data comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum Source {
    /// A host file or directory (`localDirectory` or `local`).
    #[serde(rename = "localDirectory")]
    Local {
        /// The host path; a relative `SourcePath` is resolved against the job file's directory.
        path: PathBuf,
        /// Whether the guest may write to it.
        read_write: bool,
    },
    /// Data carried in the job file as a `data:` URL.
    #[serde(rename = "inline")]
    Inline {
        /// The `data:` URL.
        url: String,
    },
    /// A file downloaded over HTTP(S).
    #[serde(rename = "urlDownload")]
    UrlDownload {
        /// The http or https URL.
        url: String,
    },
    /// An S3 object or prefix.
    #[serde(rename = "s3")]
    S3 {
        /// The bucket.
        bucket: String,
        /// A key, or a prefix ending in `*`; empty means the whole bucket.
        key: String,
        /// A regex that keys must match.
        filter: Option<String>,
        /// The region.
        region: Option<String>,
        /// A custom endpoint URL.
        endpoint: Option<String>,
        /// An object version.
        version_id: Option<String>,
        /// The expected SHA-256 of a single object, 64 hex digits.
        checksum_sha256: Option<String>,
    },
    /// Content addressed by an IPFS CID.
    #[serde(rename = "ipfs")]
    Ipfs {
        /// The CID.
        cid: String,
    },
}

impl Source {
    /// The source type's name as written in job files.
    pub fn type_name(&self) -> &'static str {
        match self {
            Source::Local { .. } => "localDirectory",
            Source::Inline { .. } => "inline",
            Source::UrlDownload { .. } => "urlDownload",
            Source::S3 { .. } => "s3",
            Source::Ipfs { .. } => "ipfs",
        }
    }

    /// Whether the guest may write to this input.
    pub fn is_writable(&self) -> bool {
        matches!(
            self,
            Source::Local {
                read_write: true,
                ..
            }
        )
    }
}

/// A guest directory whose contents become a named result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultPath {
    /// The result's name (one safe path component).
    pub name: String,
    /// The guest path; always starts with `/`.
    pub path: String,
}

/// Resource limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Resources {
    /// CPU, as given (`500m`, `1`).
    pub cpu: Option<String>,
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// Disk limit in bytes.
    pub disk: Option<u64>,
    /// GPU, as given.
    pub gpu: Option<String>,
}

impl Resources {
    /// The memory limit in bytes: `memory`, or [`DEFAULT_MEMORY`].
    pub fn memory_limit(&self) -> u64 {
        self.memory.unwrap_or(DEFAULT_MEMORY)
    }

    /// The disk limit in bytes: `disk`, or `DEFAULT_DISK` (10 GiB). It caps how much the
    /// guest's writes may grow its outputs and writable inputs (see `host::quota`).
    pub fn disk_limit(&self) -> u64 {
        self.disk.unwrap_or(DEFAULT_DISK)
    }
}

/// Network access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Network {
    /// The kind of access.
    #[serde(rename = "type")]
    pub kind: NetworkType,
    /// Allowed domains (HTTP only).
    pub domains: Vec<String>,
}

/// Bacalhau's network types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NetworkType {
    /// No network.
    None,
    /// The host's network.
    Host,
    /// Full access.
    Full,
    /// HTTP to the listed domains.
    #[serde(rename = "HTTP")]
    Http,
}

/// Time limits; `None` (or 0 in the file) means no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timeouts {
    /// How long the guest may run.
    #[serde(serialize_with = "seconds")]
    pub execution: Option<Duration>,
    /// How long the whole job may take.
    #[serde(serialize_with = "seconds")]
    pub total: Option<Duration>,
    /// How long the job may wait to start.
    #[serde(serialize_with = "seconds")]
    pub queue: Option<Duration>,
}

/// Serializes a timeout as whole seconds (or null).
fn seconds<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(d) => s.serialize_u64(d.as_secs()),
        None => s.serialize_none(),
    }
}
