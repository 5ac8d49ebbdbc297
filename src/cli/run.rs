//! `brine run`: run a Bacalhau job and write its results directory.
//!
//! Exit status: 0 when every partition completed (whatever the guest's exit
//! code, which is in `exitCode`), 1 when one failed, 2 when the job is invalid
//! or cannot be planned (then nothing is fetched or run and DIR is not created).

use super::status::StatusLine;
use super::Failure;
use crate::api::run::prepare;
use crate::api::{Job, RunConfig};
use crate::host::net::policy::block_private_from_env;
#[cfg(feature = "http")]
use crate::inputs::http::{HttpOptions, RemoteOptions, DEFAULT_IPFS_GATEWAY};
#[cfg(feature = "http")]
use crate::inputs::url::parse_http_url;
use crate::job::cluster::PartitionChoice;
use crate::job::progress::Progress;
use crate::outputs::live::LiveSink;
use crate::outputs::summary::Status;
use crate::outputs::Summary;
use crate::units::{parse_duration, parse_size};
use anyhow::anyhow;
use indicatif::{MultiProgress, ProgressDrawTarget};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `brine run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job file (YAML or JSON): a whole Job, one Task, or a bare wasm engine block.
    job: PathBuf,
    /// The results directory (must be absent or empty unless --force).
    #[arg(long, short, value_name = "DIR")]
    output: PathBuf,
    /// Replace an existing, non-empty results directory.
    #[arg(long)]
    force: bool,
    /// Print brine.json on stdout instead of a human summary.
    #[arg(long)]
    pub(super) json: bool,
    /// Stream the guest's stdout and stderr to brine's own as they are written
    /// (besides the results files); with several partitions, each line is prefixed `[i] `.
    #[arg(long, short = 'f')]
    follow: bool,
    /// Exit with the guest's exit code (the first partition's that is not 0;
    /// 1 when a partition failed without one) instead of 0/1, for shell scripts.
    #[arg(long)]
    exit_code: bool,
    /// Stop the guest after this much wall-clock time (e.g. 30s, 5m), in place of
    /// the job's Timeouts.ExecutionTimeout; recorded in a receipt.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// The memory all the guest's memories and tables may hold together (e.g. 64MiB),
    /// in place of the job's Resources.Memory; recorded in a receipt.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<u64>,
    /// Stop the guest after N units of fuel (about one per instruction; a job sets
    /// none); recorded in a receipt, so `brine verify` re-runs with the same.
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Keep at most this much of each of stdout and stderr (e.g. 10MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "1GiB")]
    max_output: u64,
    /// Run at most N partitions at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    parallel: Option<usize>,
    /// Let `env:NAME` values read NAME from brine's environment when NAME matches REGEX. Repeatable.
    #[arg(long = "allow-env", value_name = "REGEX")]
    allow_env: Vec<String>,
    /// Report a normal return from the entrypoint as exit code -1, as Bacalhau does.
    #[arg(long)]
    bacalhau_exit_codes: bool,
    /// Run reproducibly (also `Deterministic: true` in the engine params): virtual
    /// clocks on fuel, seeded randomness, ids from the job's hash.
    #[arg(long)]
    deterministic: bool,
    /// The random seed of a deterministic run (default: derived from the job's hash).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// The realtime clock at the start of a deterministic run, seconds since the Unix epoch.
    #[arg(long, value_name = "SECONDS")]
    epoch: Option<u64>,
    /// Write an execution receipt (hashes of job, modules, inputs, outputs) to FILE.
    #[arg(long, value_name = "FILE")]
    receipt: Option<PathBuf>,
    /// Journal every answer the host gives the guest to FILE, for `brine replay` (one partition).
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Draw no progress: no download bars, no status line (both are drawn only
    /// when stderr is a terminal).
    #[arg(long, short)]
    quiet: bool,
    #[cfg(feature = "http")]
    /// The largest download accepted (a urlDownload file, an IPFS archive), e.g. 500MiB.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "10GiB")]
    max_download: u64,
    #[cfg(feature = "http")]
    /// The IPFS HTTP gateway that `ipfs` inputs are fetched through.
    #[arg(long, value_name = "URL", env = "BRINE_IPFS_GATEWAY", default_value = DEFAULT_IPFS_GATEWAY)]
    ipfs_gateway: String,
    #[cfg(feature = "http")]
    /// Keep downloads in DIR and reuse them (URLs revalidated by ETag/Last-Modified, IPFS by CID).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    #[cfg(feature = "http")]
    /// How many times a failed download is retried (5xx, connection errors, truncated bodies).
    #[arg(long, value_name = "N", default_value_t = 5)]
    retries: u32,
    #[cfg(feature = "http")]
    /// The pause before the first retry, in milliseconds; it doubles for each later one.
    #[arg(
        long,
        value_name = "MS",
        env = "BRINE_RETRY_BASE_MS",
        default_value_t = 500
    )]
    retry_base_ms: u64,
    #[cfg(feature = "http")]
    /// How long a download may take to connect.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s")]
    connect_timeout: Duration,
    #[cfg(feature = "http")]
    /// How long a download may wait for more data before the attempt fails.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    read_timeout: Duration,
    /// How long staging the inputs (downloads, extraction) may take when the job
    /// sets no Timeouts.TotalTimeout (which covers staging and the run together).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30m")]
    staging_timeout: Duration,
    /// Run only partition I of a Count=N job, into DIR/I/ (`auto`: I from SLURM_ARRAY_TASK_ID,
    /// JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX); brine.json records node and task id.
    #[arg(long, value_name = "I|auto")]
    partition: Option<PartitionChoice>,
    /// The job id every --partition process of one job shares (`brine slurm submit` sets it).
    #[arg(long, value_name = "ID", requires = "partition")]
    job_id: Option<String>,
    /// Refuse the guest's HTTP requests to loopback, private, link-local and cloud-metadata
    /// addresses unless a Network.Domains entry names the host (also BRINE_BLOCK_PRIVATE=1).
    #[arg(long)]
    block_private: bool,
    /// Trust the CA certificates in this PEM file too, beside the platform's store and
    /// SSL_CERT_FILE / SSL_CERT_DIR: for downloads, IPFS gateways, the guest's HTTPS and S3.
    /// Repeatable.
    #[arg(long = "ca-cert", value_name = "FILE")]
    ca_cert: Vec<PathBuf>,
}

/// Runs the job and returns the exit status.
pub fn run(args: Args) -> Result<i32, Failure> {
    let job = Job::from_path(&args.job)?;
    trust_ca_files(&args.ca_cert)?;
    let bars = draws_progress(&args)
        .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    let config = run_config(&args, bars.clone())?;
    let prepared = prepare(&job, &config)?;
    let status = status_line(&args, bars.as_ref(), prepared.partitions());
    let report = prepared.run(status.as_ref().map(|(progress, _)| progress.clone()))?;
    drop(status);
    if let Some(problems) = &report.problems {
        eoutln!("{problems}");
    }
    print_report(&args, &report.dir, &report.summaries);
    Ok(exit_status(&report.summaries, args.exit_code))
}

/// 0 when every partition completed, else 1; with `guest_code`, the first
/// partition's non-zero guest exit code instead (1 when a failed one has none).
fn exit_status(summaries: &[Summary], guest_code: bool) -> i32 {
    let failed = summaries.iter().any(|s| s.status == Status::Failed);
    if !guest_code {
        return i32::from(failed);
    }
    let first_nonzero = summaries
        .iter()
        .filter_map(|s| s.exit_code)
        .find(|&code| code != 0);
    // A WASI exit code fits an i32; anything else is reported as a failure.
    first_nonzero.map_or(i32::from(failed), |code| i32::try_from(code).unwrap_or(1))
}

/// Trusts the `--ca-cert` files from now on (the process's trust: every
/// HTTPS client built after, see `crate::transport::trust`); a file that
/// cannot be read or holds no certificate is bad usage.
#[cfg(feature = "http")]
pub(crate) fn trust_ca_files(files: &[PathBuf]) -> Result<(), Failure> {
    for file in files {
        crate::transport::trust::add_ca_file(file).map_err(|e| Failure::usage(anyhow!(e)))?;
    }
    Ok(())
}

/// A build without the `http` feature has no TLS client to give the
/// `--ca-cert` files to: giving one is bad usage.
#[cfg(not(feature = "http"))]
pub(crate) fn trust_ca_files(files: &[PathBuf]) -> Result<(), Failure> {
    match files.first() {
        None => Ok(()),
        Some(_) => Err(Failure::usage(anyhow!(
            "--ca-cert: TLS {}",
            crate::features::missing("http")
        ))),
    }
}

/// The `--allow-env` patterns, compiled.
pub(crate) fn allow_env_patterns(patterns: &[String]) -> Result<Vec<regex::Regex>, Failure> {
    patterns
        .iter()
        .map(|pattern| {
            regex::Regex::new(pattern).map_err(|e| {
                Failure::usage(anyhow!("--allow-env {pattern}: not a valid regex: {e}"))
            })
        })
        .collect()
}

/// The run's configuration from the flags; download bars in `bars`.
#[cfg_attr(not(feature = "http"), allow(unused_variables))]
fn run_config(args: &Args, bars: Option<MultiProgress>) -> Result<RunConfig, Failure> {
    let mut config = RunConfig::new(&args.output)
        .force(args.force)
        .max_output(args.max_output)
        .block_private(args.block_private || block_private_from_env())
        .bacalhau_exit_codes(args.bacalhau_exit_codes)
        .staging_timeout(args.staging_timeout)
        .cluster(args.partition, args.job_id.clone());
    #[cfg(feature = "http")]
    {
        config = config.remote(remote_options(args, bars)?);
    }
    for pattern in allow_env_patterns(&args.allow_env)? {
        config = config.allow_env(pattern);
    }
    if let Some(timeout) = args.timeout {
        config = config.timeout(timeout);
    }
    if let Some(bytes) = args.max_memory {
        config = config.max_memory(bytes);
    }
    if let Some(units) = args.fuel {
        config = config.fuel(units);
    }
    if let Some(n) = args.parallel {
        config = config.parallel(n);
    }
    if args.deterministic {
        config = config.deterministic(args.seed);
    }
    if let Some(seconds) = args.epoch {
        config = config.epoch(seconds);
    }
    if let Some(path) = &args.receipt {
        config = config.receipt_file(path);
    }
    if let Some(path) = &args.record {
        config = config.record(path);
    }
    if args.follow {
        config = config.live_output(LiveSink::terminal());
    }
    Ok(config)
}

/// Progress (download bars, the status line) is drawn only on a terminal and not with --quiet.
fn draws_progress(args: &Args) -> bool {
    !args.quiet && std::io::stderr().is_terminal()
}

/// The status line while the job runs, when progress is drawn and neither
/// --follow (the guest's output is the progress) nor -v (logs are) is given.
fn status_line(
    args: &Args,
    bars: Option<&MultiProgress>,
    partitions: usize,
) -> Option<(Arc<Progress>, StatusLine)> {
    let bars = bars.filter(|_| !args.follow && !tracing::enabled!(tracing::Level::INFO))?;
    let progress = Progress::new(u32::try_from(partitions).unwrap_or(u32::MAX));
    let line = StatusLine::start(progress.clone(), bars);
    Some((progress, line))
}

/// Download settings from the flags; progress bars in `bars`.
#[cfg(feature = "http")]
fn remote_options(args: &Args, bars: Option<MultiProgress>) -> Result<RemoteOptions, Failure> {
    parse_http_url(&args.ipfs_gateway)
        .map_err(|e| Failure::usage(anyhow!("--ipfs-gateway: {e}")))?;
    Ok(RemoteOptions {
        http: HttpOptions {
            connect_timeout: args.connect_timeout,
            read_timeout: args.read_timeout,
            retries: args.retries,
            retry_base: Duration::from_millis(args.retry_base_ms),
            max_bytes: args.max_download,
            progress: bars,
        },
        ipfs_gateway: args.ipfs_gateway.clone(),
        cache: args.cache.clone(),
    })
}

/// The summary: each partition's status (failures on stderr, where errors
/// go), what was published, and the results directory's tree on stdout.
pub(crate) fn print_report(args: &Args, dir: &Path, summaries: &[Summary]) {
    warn_left_out(summaries);
    if args.json {
        let text = match summaries {
            [one] => serde_json::to_string_pretty(one),
            many => serde_json::to_string_pretty(many),
        };
        if let Ok(text) = text {
            outln!("{text}");
        }
        return;
    }
    for s in summaries {
        let partition = if s.partition_count > 1 {
            format!(" partition {}", s.partition_index)
        } else {
            String::new()
        };
        let code = s
            .exit_code
            .map_or_else(|| "none".to_string(), |c| c.to_string());
        match (&s.status, &s.error) {
            (Status::Completed, _) => {
                outln!("job {}{partition}: completed, exit code {code}", s.job)
            }
            (Status::Failed, Some(error)) => eoutln!("job {}{partition}: failed: {error}", s.job),
            (Status::Failed, None) => eoutln!("job {}{partition}: failed", s.job),
        }
        if let Some(p) = &s.published {
            let files = p.objects.len();
            outln!("published ({}): {} ({files} files)", p.kind, p.location);
        }
    }
    outln!("results: {}", dir.display());
    print_tree(dir, 1, &truncated_streams(dir, summaries));
}

/// The stdout/stderr files the `--max-output` cap cut short.
fn truncated_streams(dir: &Path, summaries: &[Summary]) -> Vec<PathBuf> {
    let mut cut = Vec::new();
    for s in summaries {
        let results = if summaries.len() > 1 {
            dir.join(s.partition_index.to_string())
        } else {
            dir.to_path_buf()
        };
        let streams = [
            ("stdout", s.stdout_truncated),
            ("stderr", s.stderr_truncated),
        ];
        for (name, truncated) in streams {
            if truncated {
                cut.push(results.join(name));
            }
        }
    }
    cut
}

/// Lists the results directory, two levels deep, so a user sees what was
/// written. Nothing is followed: a link is listed as a link.
fn print_tree(dir: &Path, depth: usize, truncated: &[PathBuf]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let indent = "  ".repeat(depth);
        // DirEntry's file type and metadata describe the entry itself, not a link's target.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            outln!("{indent}{name}/");
            if depth < 3 {
                print_tree(&entry.path(), depth + 1, truncated);
            }
        } else if kind.is_file() {
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            let cut = if truncated.contains(&entry.path()) {
                ", truncated at --max-output"
            } else {
                ""
            };
            outln!("{indent}{name} ({size} bytes{cut})");
        } else if kind.is_symlink() {
            outln!("{indent}{name} (symbolic link, not followed)");
        } else {
            outln!("{indent}{name} (special file)");
        }
    }
}

/// Says on stderr what brine left out: links dropped from outputs, special
/// files in inputs that the receipt does not cover.
fn warn_left_out(summaries: &[Summary]) {
    for s in summaries {
        if !s.dropped_links.is_empty() {
            eoutln!(
                "warning: job {}: dropped {} symbolic link(s) from the outputs (brine publishes no links): {}",
                s.job,
                s.dropped_links.len(),
                s.dropped_links.join(", ")
            );
        }
        let inputs = s.evidence.iter().flat_map(|e| &e.inputs);
        for (target, hashes) in inputs {
            if !hashes.skipped.is_empty() {
                eoutln!(
                    "warning: input {target}: {} special file(s) not hashed for the receipt (never opened): {}",
                    hashes.skipped.len(),
                    hashes.skipped.join(", ")
                );
            }
        }
    }
}
