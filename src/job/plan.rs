//! Job → executions: the mount table, module paths, argv, environment,
//! limits and network policy of every partition, decided before anything is
//! fetched or run.
//! Pure apart from reading brine's own environment for `env:NAME` values.

use crate::engine::Limits;
use crate::host::deterministic::{Settings, DEFAULT_EPOCH_NS};
use crate::host::net::Policy;
use crate::inputs::deadline::{TimeBudget, DEFAULT_STAGING_TIMEOUT};
#[cfg(feature = "http")]
use crate::inputs::http::{Remote, RemoteOptions};
use crate::inputs::{inline::Inline, local::Local, once::StagedOnce, InputSource};
#[cfg(feature = "http")]
use crate::inputs::{ipfs::Ipfs, url::UrlDownload};
use crate::job::execution::{Execution, PlannedInput, PlannedOutput};
use crate::job::job_hash;
use crate::outputs::hash::hex;
use crate::outputs::publish::{self, Publisher};
use crate::outputs::summary::Placement;
use crate::spec::{Job, Network, NetworkType, Source};
use regex::Regex;
#[cfg(feature = "http")]
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The largest memory a wasm32 guest can have: 65536 pages of 64 KiB.
const MAX_PAGES: u64 = 65_536;
const PAGE: u64 = 65_536;

/// Why a valid job cannot be planned on this runner.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// An `env:NAME` value that the runner does not allow or does not have.
    #[error("{file}: Tasks[0].Env.{name}: {message}")]
    Env {
        /// The job file.
        file: String,
        /// The variable.
        name: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A deterministic run that asks for the network.
    #[error("{file}: Tasks[0].Network: {message}")]
    Network {
        /// The job file.
        file: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A source type this build was compiled without (a cargo feature).
    #[error("{file}: input {target}: {kind} {}", crate::features::missing(feature))]
    NotBuilt {
        /// The job file.
        file: String,
        /// The input's target.
        target: String,
        /// The source type.
        kind: &'static str,
        /// The cargo feature it needs.
        feature: &'static str,
    },
    /// A source type this build cannot fetch yet.
    #[error("{file}: input {target}: source type `{kind}` is not supported by this brine")]
    Unsupported {
        /// The job file.
        file: String,
        /// The input's target.
        target: String,
        /// The source type.
        kind: &'static str,
    },
    /// An input whose parameters cannot be used together.
    #[error("{file}: input {target}: {message}")]
    Input {
        /// The job file.
        file: String,
        /// The input's target.
        target: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A publisher this runner cannot use as given.
    #[error("{file}: Tasks[0].Publisher: {message}")]
    Publisher {
        /// The job file.
        file: String,
        /// What is wrong and what to do.
        message: String,
    },
}

/// Runner-side settings that shape a plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Patterns of runner environment variables a job may read with `env:NAME`.
    pub allow_env: Vec<Regex>,
    /// Run deterministically even if the job does not ask for it.
    pub deterministic: bool,
    /// The random seed of a deterministic run (default: derived from the job's hash).
    pub seed: Option<u64>,
    /// The exact base seed (as a receipt records it); wins over `seed`.
    pub seed_key: Option<[u8; 32]>,
    /// The virtual realtime clock's start, ns since the Unix epoch (default 2020-01-01).
    pub epoch_ns: Option<u64>,
    /// How remote inputs (urlDownload, ipfs) are fetched: timeouts, retries,
    /// size cap, IPFS gateway, cache.
    #[cfg(feature = "http")]
    pub remote: RemoteOptions,
    /// Refuse loopback, private, link-local and metadata addresses (after DNS)
    /// unless a `Domains` entry names the host (`--block-private`).
    pub block_private: bool,
    /// A journal is being replayed: the network is never used, so a
    /// deterministic job may have it enabled.
    pub replaying: bool,
    /// How long staging may take when the job gives no TotalTimeout
    /// (`--staging-timeout`; default `DEFAULT_STAGING_TIMEOUT`).
    pub staging_timeout: Option<Duration>,
    /// Limits the command line sets in place of the job's.
    pub overrides: LimitOverrides,
}

/// Limits `brine run --timeout/--max-memory/--fuel` set in place of the job's
/// ExecutionTimeout and Resources.Memory (a job has no fuel of its own). A
/// receipt records them, so `brine verify` re-runs under the same ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LimitOverrides {
    /// Fuel units the guest may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// Wall-clock time the run may take, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// The memory budget of all memories and tables, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memory: Option<u64>,
}

impl LimitOverrides {
    /// Whether no limit is overridden.
    pub fn is_empty(&self) -> bool {
        *self == LimitOverrides::default()
    }
}

/// The deterministic settings of a job (the base seed partitions derive theirs from).
pub fn deterministic_settings(job: &Job, options: &PlanOptions) -> Option<Settings> {
    if !(options.deterministic || job.task.engine.deterministic) {
        return None;
    }
    let epoch = options.epoch_ns.unwrap_or(DEFAULT_EPOCH_NS);
    if let Some(key) = options.seed_key {
        return Some(Settings {
            epoch_ns: epoch,
            seed: key,
        });
    }
    Some(match options.seed {
        Some(seed) => Settings::from_seed(seed, epoch),
        None => Settings {
            epoch_ns: epoch,
            seed: blake3::derive_key("brine 2026 job seed", job_hash(job).as_bytes()),
        },
    })
}

/// A partition's own settings: the job's, with a seed of its own.
fn partition_settings(base: Settings, index: u32) -> Settings {
    let mut material = base.seed.to_vec();
    material.extend_from_slice(&index.to_le_bytes());
    Settings {
        seed: blake3::derive_key("brine 2026 partition seed", &material),
        ..base
    }
}

/// Plans every partition of `job`.
pub fn plan(job: &Job, options: &PlanOptions) -> Result<Vec<Execution>, PlanError> {
    let file = job.file.display().to_string();
    let inputs = plan_inputs(job, &file, options)?;
    let user_env = resolve_env(&job.task.env, options, &file)?;
    let settings = deterministic_settings(job, options);
    let network = network_policy(job, options, settings.is_some(), &file)?;
    // A deterministic job's ids come from its hash, so its environment is reproducible too.
    let hash = settings.map(|_| job_hash(job));
    let job_id = match &hash {
        Some(h) => format!("j-{}", &h[..32]),
        None => format!("j-{}", random_hex(16)),
    };
    let publisher = plan_publisher(job, &file)?;
    let outputs: Vec<PlannedOutput> = job
        .task
        .result_paths
        .iter()
        .map(|r| PlannedOutput {
            name: r.name.clone(),
            path: r.path.clone(),
        })
        .collect();
    let mut argv = vec![String::new()];
    argv.extend(job.task.engine.parameters.iter().cloned());
    tracing::info!(
        job = %job.name,
        file = %file,
        partitions = job.count,
        inputs = inputs.len(),
        deterministic = settings.is_some(),
        network = network.is_some(),
        "planned"
    );
    Ok((0..job.count)
        .map(|index| {
            let execution_id = match &hash {
                Some(h) => format!(
                    "e-{}",
                    &hex(&blake3::hash(format!("{h}/{index}").as_bytes()))[..32]
                ),
                None => format!("e-{}", random_hex(16)),
            };
            Execution {
                job_name: job.name.clone(),
                job_id: job_id.clone(),
                env: environment(&user_env, job, &job_id, &execution_id, index),
                execution_id,
                partition_index: index,
                partition_count: job.count,
                inputs: inputs.clone(),
                outputs: outputs.clone(),
                entry_module: job.task.engine.entry_module.clone(),
                import_modules: job.task.engine.import_modules.clone(),
                entrypoint: job.task.engine.entrypoint.clone(),
                argv: argv.clone(),
                limits: limits(job, settings.is_some(), &options.overrides),
                time_budget: time_budget(job, options),
                disk_limit: Some(job.task.resources.disk_limit()),
                deterministic: settings.map(|s| partition_settings(s, index)),
                publisher: publisher.clone(),
                network: network.clone(),
                placement: Placement::default(),
            }
        })
        .collect())
}

/// The task's network policy. A job that gives no `Network` gets Bacalhau's
/// default for WASM, `Host`, except in a deterministic run, where it gets
/// none; a deterministic run that asks for the network is refused (unless a
/// journal is replayed: then answers come from the journal).
pub fn network_policy(
    job: &Job,
    options: &PlanOptions,
    deterministic: bool,
    file: &str,
) -> Result<Option<Policy>, PlanError> {
    let network = match (&job.task.network, deterministic) {
        (Some(network), _) => network.clone(),
        (None, false) => Network {
            kind: NetworkType::Host,
            domains: Vec::new(),
        },
        (None, true) => return Ok(None),
    };
    let Some(policy) = Policy::from_network(&network) else {
        return Ok(None);
    };
    if deterministic && !options.replaying {
        return Err(PlanError::Network {
            file: file.to_string(),
            message: format!(
                "a deterministic run cannot use the network (Type: {}): its answers are not \
                 reproducible; set Type: None, or run without --deterministic (a run recorded \
                 with --record can be replayed exactly with brine replay)",
                type_name(network.kind)
            ),
        });
    }
    if cfg!(not(feature = "http")) && !options.replaying {
        // No HTTP client in this build: the guest gets no `wasi:http/requests`,
        // and the checks refuse a module importing it, saying why.
        return Ok(None);
    }
    Ok(Some(policy.with_block_private(options.block_private)))
}

/// A network type as job files spell it.
fn type_name(kind: NetworkType) -> &'static str {
    match kind {
        NetworkType::None => "None",
        NetworkType::Host => "Host",
        NetworkType::Full => "Full",
        NetworkType::Http => "HTTP",
    }
}

fn plan_inputs(
    job: &Job,
    file: &str,
    options: &PlanOptions,
) -> Result<Vec<PlannedInput>, PlanError> {
    let shared = SharedRemote::default();
    job.task
        .inputs
        .iter()
        .map(|input| plan_input(job, input, file, options, &shared))
        .collect()
}

/// What the remote inputs of one plan share: one downloader (one connection
/// pool) and cache, made when the first remote input is planned. Empty in a
/// build without the `http` feature, which has no remote inputs.
#[derive(Default)]
pub(crate) struct SharedRemote {
    #[cfg(feature = "http")]
    remote: OnceCell<Arc<Remote>>,
}

impl SharedRemote {
    /// The shared state, made from `options` on first use.
    #[cfg(feature = "http")]
    fn get(&self, options: &RemoteOptions) -> Arc<Remote> {
        Arc::clone(self.remote.get_or_init(|| Arc::new(Remote::new(options))))
    }
}

/// One input's source, its parameters checked; remote ones use `shared`'s
/// downloader. A source this build was compiled without is refused.
#[cfg_attr(not(feature = "http"), allow(unused_variables))]
pub(crate) fn plan_input(
    job: &Job,
    input: &crate::spec::InputSource,
    file: &str,
    options: &PlanOptions,
    shared: &SharedRemote,
) -> Result<PlannedInput, PlanError> {
    #[cfg(feature = "http")]
    let invalid = |error: crate::inputs::ParamError| PlanError::Input {
        file: file.to_string(),
        target: input.target.clone(),
        message: error.to_string(),
    };
    let source: Arc<dyn InputSource> = match &input.source {
        Source::Local { path, read_write } => Arc::new(Local {
            path: path.clone(),
            read_write: *read_write,
        }),
        Source::Inline { url } => Arc::new(Inline { url: url.clone() }),
        #[cfg(feature = "http")]
        Source::UrlDownload { url } => {
            Arc::new(UrlDownload::new(url, shared.get(&options.remote)).map_err(invalid)?)
        }
        #[cfg(feature = "http")]
        Source::Ipfs { cid } => {
            Arc::new(Ipfs::new(cid, shared.get(&options.remote)).map_err(invalid)?)
        }
        #[cfg(feature = "s3")]
        Source::S3 { .. } => s3_source(
            &input.source,
            &input.target,
            file,
            options.remote.http.max_bytes,
        )?,
        #[cfg(not(feature = "s3"))]
        other => return Err(not_built(other, &input.target, file)),
    };
    // Partitions share one staged copy of anything fetched; a local input
    // is mounted in place (and may be writable), so it needs no sharing.
    let source: Arc<dyn InputSource> = match (&input.source, job.count) {
        (Source::Local { .. }, _) | (_, 0 | 1) => source,
        _ => Arc::new(StagedOnce::new(source)),
    };
    Ok(PlannedInput {
        target: input.target.clone(),
        source,
    })
}

/// The error for a source this build cannot fetch: the feature it needs.
#[cfg(not(feature = "s3"))]
fn not_built(source: &Source, target: &str, file: &str) -> PlanError {
    let feature = match source {
        Source::S3 { .. } => "s3",
        _ => "http",
    };
    PlanError::NotBuilt {
        file: file.to_string(),
        target: target.to_string(),
        kind: source.type_name(),
        feature,
    }
}

/// An S3 input, its parameters checked.
#[cfg(feature = "s3")]
fn s3_source(
    source: &Source,
    target: &str,
    file: &str,
    max_bytes: u64,
) -> Result<Arc<dyn InputSource>, PlanError> {
    let mut s3 =
        crate::inputs::s3::S3::from_source(source).ok_or_else(|| PlanError::Unsupported {
            file: file.to_string(),
            target: target.to_string(),
            kind: source.type_name(),
        })?;
    s3.check().map_err(|message| PlanError::Input {
        file: file.to_string(),
        target: target.to_string(),
        message: message.to_string(),
    })?;
    s3.max_bytes = Some(max_bytes);
    Ok(Arc::new(s3))
}

/// The task's publisher, if it has one; relative paths are against the job file's directory.
pub(crate) fn plan_publisher(
    job: &Job,
    file: &str,
) -> Result<Option<Arc<dyn Publisher>>, PlanError> {
    let Some(spec) = &job.task.publisher else {
        return Ok(None);
    };
    let base = job.file.parent().unwrap_or(std::path::Path::new(""));
    publish::from_spec(spec, base)
        .map(Some)
        .map_err(|message| PlanError::Publisher {
            file: file.to_string(),
            message: message.to_string(),
        })
}

/// The task's variables, with `env:NAME` values read from brine's own environment
/// when `NAME` matches an `--allow-env` pattern.
fn resolve_env(
    env: &BTreeMap<String, String>,
    options: &PlanOptions,
    file: &str,
) -> Result<BTreeMap<String, String>, PlanError> {
    let mut resolved = BTreeMap::new();
    for (name, value) in env {
        let value = match value.strip_prefix("env:") {
            None => value.clone(),
            Some(host_name) => host_value(name, host_name, options, file)?,
        };
        resolved.insert(name.clone(), value);
    }
    Ok(resolved)
}

fn host_value(
    name: &str,
    host_name: &str,
    options: &PlanOptions,
    file: &str,
) -> Result<String, PlanError> {
    env_reference(host_name, options).map_err(|e| PlanError::Env {
        file: file.to_string(),
        name: name.to_string(),
        message: e.to_string(),
    })
}

/// Why an `env:NAME` value cannot be read on this runner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvReferenceError {
    /// No `--allow-env` pattern matches NAME.
    #[error("`env:{0}` reads the runner's environment, which is not allowed; pass --allow-env '{0}' to allow it")]
    NotAllowed(String),
    /// NAME is allowed but not set.
    #[error("`env:{0}`: `{0}` is not set in brine's environment")]
    NotSet(String),
}

/// The value `env:{host_name}` reads from brine's environment, if an
/// `--allow-env` pattern matches all of `host_name` and it is set.
pub fn env_reference(host_name: &str, options: &PlanOptions) -> Result<String, EnvReferenceError> {
    let allowed = options.allow_env.iter().any(|re| {
        re.find(host_name)
            .is_some_and(|m| m.start() == 0 && m.end() == host_name.len())
    });
    if !allowed {
        return Err(EnvReferenceError::NotAllowed(host_name.to_string()));
    }
    std::env::var(host_name).map_err(|_| EnvReferenceError::NotSet(host_name.to_string()))
}

/// User variables plus Bacalhau's system variables (which win), sorted by name.
fn environment(
    user: &BTreeMap<String, String>,
    job: &Job,
    job_id: &str,
    execution_id: &str,
    index: u32,
) -> Vec<(String, String)> {
    let mut env = user.clone();
    let system = [
        ("BACALHAU_EXECUTION_ID", execution_id.to_string()),
        ("BACALHAU_JOB_ID", job_id.to_string()),
        ("BACALHAU_JOB_TYPE", job.job_type.as_str().to_string()),
        ("BACALHAU_PARTITION_INDEX", index.to_string()),
        ("BACALHAU_PARTITION_COUNT", job.count.to_string()),
    ];
    for (name, value) in system {
        env.insert(name.to_string(), value);
    }
    env.into_iter().collect()
}

/// Time from ExecutionTimeout; the memory budget (all memories and tables of the
/// run together) from Resources.Memory, in whole pages, at most 4 GiB: as much as
/// `brine wasm run` allows by default, and all one wasm32 memory can use.
/// The command line's `overrides` win over the job's values.
pub(crate) fn limits(job: &Job, deterministic: bool, overrides: &LimitOverrides) -> Limits {
    let bytes = overrides
        .max_memory
        .unwrap_or_else(|| job.task.resources.memory_limit());
    let pages = bytes.div_ceil(PAGE).clamp(1, MAX_PAGES);
    let timeout = match overrides.timeout_ms {
        Some(ms) => Some(Duration::from_millis(ms)),
        None => job.task.timeouts.execution,
    };
    Limits {
        fuel: overrides.fuel,
        timeout: timeout.filter(|d| *d > Duration::ZERO),
        max_memory: Some(pages * PAGE),
        deterministic,
        cancel: None,
    }
}

/// `Timeouts.TotalTimeout` covers staging and the run; without it staging
/// alone gets `--staging-timeout`. (QueueTimeout is accepted and has no
/// effect: a local runner has no queue to wait in.)
fn time_budget(job: &Job, options: &PlanOptions) -> TimeBudget {
    match job.task.timeouts.total {
        Some(total) => TimeBudget::Total(total),
        None => TimeBudget::Staging(options.staging_timeout.unwrap_or(DEFAULT_STAGING_TIMEOUT)),
    }
}

/// `len` random bytes as hex, for job and execution ids.
fn random_hex(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    let _ = getrandom::fill(&mut bytes);
    crate::text::hex(&bytes)
}
