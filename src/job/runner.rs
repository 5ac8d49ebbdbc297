//! Runs one planned [`Execution`]: stage its inputs, build the guest's mount
//! tree, run the entry module, and write the results directory.
//!
//! This is the embeddable heart of `brine run`; `plan` turns a job into
//! executions (one per partition), and `Staging::commit` moves what this
//! writes into place.

use super::check::{check_staged_modules, UnrunnableModules};
use super::execution::{Execution, RunOptions};
use super::progress::Progress;
use crate::engine::resolve::MountedModules;
use crate::engine::run::{run as run_module, EntryModule, RunSpec, DEFAULT_ENTRYPOINT};
use crate::engine::{EngineError, Limits, Outcome};
use crate::host::quota::DiskQuota;
use crate::host::real::{MountSpec, RealHost, Stdio};
use crate::host::stack;
use crate::inputs::deadline::{Deadline, Expired};
use crate::inputs::{SourceError, StageArea, Staged};
use crate::outputs::evidence::{Evidence, InputHashes};
use crate::outputs::hash::{hex, tree_hash, tree_listing};
use crate::outputs::live::{LiveStream, Stream, Tee};
use crate::outputs::publish::Context;
use crate::outputs::summary::{Durations, Status};
use crate::outputs::{self, CappedFile, Captured, ResultFiles, Summary};
use crate::wasi::WasiCtx;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Why an execution ended before the guest's own outcome: the words end up in
/// `brine.json`'s `error`, so each variant says what failed and where.
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    /// A result file could not be created.
    #[error(transparent)]
    Results(#[from] outputs::ResultsError),
    /// A work directory could not be created.
    #[error("cannot create {}: {source}", path.display())]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An input could not be staged.
    #[error(transparent)]
    Input(#[from] SourceError),
    /// Staging took longer than its deadline.
    #[error("staging the inputs: {0}")]
    Staging(Expired),
    /// An input could not be hashed for the receipt.
    #[error("cannot hash input {target}: {source}")]
    Hash {
        /// The input's target.
        target: String,
        /// Why.
        source: std::io::Error,
    },
    /// The thread hashing read-only inputs stopped without an answer.
    #[error("input hashing failed")]
    HashingStopped,
    /// The guest's mount tree could not be built.
    #[error("cannot build the guest's file system: {0}")]
    MountTree(std::io::Error),
    /// The entrypoint is not exported (Bacalhau's wording).
    #[error("unable to find the entrypoint '{0}' in the WASM module")]
    MissingEntrypoint(String),
    /// The module could not be loaded, linked or instantiated.
    #[error(transparent)]
    Engine(EngineError),
    /// A module fetched with the inputs cannot run (checked before any guest runs).
    #[error(transparent)]
    Modules(#[from] UnrunnableModules),
}

/// What running the module produced, beyond its outcome.
struct Ran {
    outcome: Outcome,
    /// The TotalTimeout, not ExecutionTimeout, set the run's time limit.
    limited_by_total: Option<Deadline>,
    fuel: Option<u64>,
    /// The guest was refused disk space: the run fails, whatever its exit code.
    disk_full: Option<String>,
    /// The guest was refused memory (memory.grow answered -1) by the run's budget.
    memory_refusal: Option<crate::engine::budget::Refusal>,
}

/// Runs `exec`, writing `stdout`, `stderr`, `exitCode`, outputs and `brine.json`
/// into `results` (which must exist) and using `work` as scratch space.
/// Outputs are moved into `results`, and the results published, only when the
/// execution completed; a publish failure fails it.
pub fn execute(exec: &Execution, results: &Path, work: &Path, opts: &RunOptions) -> Summary {
    let _partition = tracing::info_span!("partition", index = exec.partition_index).entered();
    if let Some(progress) = &opts.progress {
        progress.started();
    }
    let summary = execute_partition(exec, results, work, opts);
    if let Some(progress) = &opts.progress {
        progress.ended(summary.status == Status::Completed);
    }
    summary
}

/// [`execute`]'s work, between reporting the partition started and ended.
fn execute_partition(exec: &Execution, results: &Path, work: &Path, opts: &RunOptions) -> Summary {
    let started = Instant::now();
    let mut summary = new_summary(exec);
    let files = match ResultFiles::open(results) {
        Ok(files) => files,
        Err(e) => {
            summary.error = Some(e.to_string());
            return summary;
        }
    };
    let mut captured = None;
    let run = captured_stdio(exec, &files, opts).and_then(|(stdio, kept)| {
        captured = Some(kept);
        stage_and_run(exec, stdio, work, opts, &mut summary)
    });
    match run {
        Ok(ran) => {
            summary.fuel_consumed = ran.fuel;
            apply_outcome(&mut summary, exec, &ran.outcome, opts);
            if let (Outcome::Trapped(_), Some(refusal), Some(error)) =
                (&ran.outcome, &ran.memory_refusal, summary.error.as_mut())
            {
                // The guest saw only -1 from memory.grow, then trapped: say which limit it met.
                error.push_str(&format!(" (the guest was refused memory: {refusal})"));
            }
            if let (Outcome::TimedOut(_), Some(deadline)) = (&ran.outcome, ran.limited_by_total) {
                summary.error = Some(format!("Job timed out: {}", deadline.expired_error()));
            }
            if let Some(message) = ran.disk_full {
                summary.status = Status::Failed;
                summary.error = Some(match summary.error.take() {
                    Some(other) => format!("{message} (then: {other})"),
                    None => message,
                });
            }
        }
        Err(error) => summary.error = Some(error.to_string()),
    }
    if summary.status == Status::Completed {
        match move_outputs_in(exec, results, work) {
            Ok(dropped) => {
                summary.outputs = exec.outputs.iter().map(|o| o.name.clone()).collect();
                summary.dropped_links = dropped;
            }
            Err(e) => {
                summary.status = Status::Failed;
                summary.error = Some(e.to_string());
            }
        }
    }
    if let Some(code) = summary.exit_code {
        if let Err(e) = files.write_new("exitCode", code.to_string().as_bytes()) {
            summary.error.get_or_insert(e.to_string());
        }
    }
    if summary.status == Status::Completed {
        publish_results(exec, results, &mut summary);
    }
    if let Some([stdout, stderr]) = &captured {
        // Kept as the guest wrote them: the result files are never read back.
        (summary.stdout, summary.stdout_truncated) = (stdout.head(), stdout.truncated());
        (summary.stderr, summary.stderr_truncated) = (stderr.head(), stderr.truncated());
    }
    summary.durations_ms.total = millis(started);
    if exec.deterministic.is_some() {
        // Wall-clock durations are the one thing a deterministic run cannot repeat;
        // leaving them out keeps its results directory byte-identical.
        summary.durations_ms = Durations::default();
    }
    write_summary(&files, &mut summary);
    summary
}

/// Writes the results of an execution refused before anything was fetched or
/// run (its modules cannot run): empty `stdout` and `stderr`, and `brine.json`
/// with status failed and `error`.
pub fn refuse(exec: &Execution, results: &Path, error: String) -> Summary {
    let mut summary = new_summary(exec);
    summary.error = Some(error);
    let files = match ResultFiles::open(results) {
        Ok(files) => files,
        Err(e) => {
            summary.error = Some(e.to_string());
            return summary;
        }
    };
    for name in ["stdout", "stderr"] {
        if let Err(e) = files.create(name) {
            summary.error = Some(e.to_string());
        }
    }
    write_summary(&files, &mut summary);
    summary
}

fn new_summary(exec: &Execution) -> Summary {
    Summary {
        brine_version: env!("CARGO_PKG_VERSION").to_string(),
        job: exec.job_name.clone(),
        job_id: exec.job_id.clone(),
        execution_id: exec.execution_id.clone(),
        partition_index: exec.partition_index,
        partition_count: exec.partition_count,
        status: Status::Failed,
        exit_code: None,
        error: None,
        stdout: String::new(),
        stdout_truncated: false,
        stderr: String::new(),
        stderr_truncated: false,
        outputs: Vec::new(),
        dropped_links: Vec::new(),
        fuel_consumed: None,
        published: None,
        durations_ms: Durations::default(),
        placement: exec.placement.clone(),
        evidence: None,
    }
}

/// Sets status, exit code and error from how the guest's run ended, with Bacalhau's messages.
fn apply_outcome(summary: &mut Summary, exec: &Execution, outcome: &Outcome, opts: &RunOptions) {
    match outcome {
        Outcome::Exited(code) => {
            summary.status = Status::Completed;
            summary.exit_code = Some(i64::from(*code));
        }
        Outcome::Returned(_) => {
            summary.status = Status::Completed;
            summary.exit_code = Some(if opts.bacalhau_exit_codes { -1 } else { 0 });
        }
        Outcome::Trapped(trap) => {
            summary.exit_code = Some(1);
            summary.error = Some(format!(
                "wasm trap in '{}' of {}: {}",
                exec.entrypoint, exec.entry_module, trap.message
            ));
        }
        Outcome::OutOfFuel { budget } => {
            summary.exit_code = Some(1);
            summary.error = Some(format!("out of fuel: the guest used all {budget} units"));
        }
        Outcome::TimedOut(_) => {
            summary.error = Some("Execution timed out".to_string());
        }
        Outcome::Cancelled => {
            summary.error = Some("Execution cancelled".to_string());
        }
    }
}

/// Stages the inputs, prepares the outputs and runs the module.
fn stage_and_run(
    exec: &Execution,
    stdio: Stdio,
    work: &Path,
    opts: &RunOptions,
    summary: &mut Summary,
) -> Result<Ran, ExecutionError> {
    let staging_started = Instant::now();
    let deadline = exec.time_budget.start();
    let mounts = stage_mounts(exec, work, deadline, opts.progress.as_deref())?;
    let mut resolver = MountedModules::default();
    for mount in &mounts {
        resolver.add(&mount.guest, mount.host.clone());
    }
    if let Some(compiled) = &opts.compiled {
        resolver.reuse(compiled.clone());
    }
    // Modules that came with fetched inputs get the checks local ones got
    // before anything was fetched, before any guest code runs.
    check_staged_modules(exec, &mut resolver)?;
    let mut read_only_inputs = Vec::new();
    if opts.evidence {
        let (evidence, read_only) = gather_evidence(exec, &mounts, &mut resolver)?;
        summary.evidence = Some(evidence);
        read_only_inputs = read_only;
    }
    summary.durations_ms.staging = millis(staging_started);
    deadline.check().map_err(ExecutionError::Staging)?;
    let (run_timeout, by_total) = deadline.run_timeout(exec.limits.timeout);
    let run_started = Instant::now();
    let quota = exec
        .disk_limit
        .map(|limit| DiskQuota::new(limit, "Resources.Disk"));
    let wasi = guest_world(exec, stdio, &mounts, opts, quota.clone())?;
    let spec = RunSpec {
        entry: EntryModule::Named(exec.entry_module.clone()),
        invoke: (exec.entrypoint != DEFAULT_ENTRYPOINT).then(|| exec.entrypoint.clone()),
        call_args: Vec::new(),
        preload: exec.import_modules.clone(),
        resolver,
        limits: Limits {
            timeout: run_timeout,
            cancel: opts.cancel.clone(),
            ..exec.limits.clone()
        },
        network: exec.network.is_some(),
    };
    let (report, input_hashes) = run_while_hashing(spec, wasi, read_only_inputs);
    if let (Some(evidence), Some(hashes)) = (summary.evidence.as_mut(), input_hashes) {
        evidence.inputs.extend(hashes?);
    }
    let report = report.map_err(|e| engine_failure(exec, e))?;
    let durations = &mut summary.durations_ms;
    durations.run = millis(run_started);
    tracing::info!(
        outcome = ?report.outcome,
        fuel = report.fuel_consumed,
        ms = durations.run,
        "ran"
    );
    Ok(Ran {
        outcome: report.outcome,
        limited_by_total: by_total.then_some(deadline),
        fuel: report.fuel_consumed,
        disk_full: quota.filter(|q| q.reached()).map(|q| q.message()),
        memory_refusal: report.memory_refusal,
    })
}

/// The guest's stdio: no stdin, stdout and stderr into capped result files
/// (with the flags that say whether each was truncated), and with `--follow`
/// also to brine's own as they are written.
fn captured_stdio(
    exec: &Execution,
    results: &ResultFiles,
    opts: &RunOptions,
) -> Result<(Stdio, [Arc<Captured>; 2]), ExecutionError> {
    let (stdout, stdout_kept) = capture(results, "stdout", opts.max_output)?;
    let (stderr, stderr_kept) = capture(results, "stderr", opts.max_output)?;
    let stdout = std::io::BufWriter::with_capacity(64 * 1024, stdout);
    let stderr = std::io::BufWriter::with_capacity(8 * 1024, stderr);
    let (mut stdout, mut stderr) = (
        followed(stdout, Stream::Stdout, exec, opts),
        followed(stderr, Stream::Stderr, exec, opts),
    );
    if let Some(progress) = &opts.progress {
        stdout = progress.counting(stdout);
        stderr = progress.counting(stderr);
    }
    let stdio = Stdio {
        stdin: Box::new(std::io::empty()),
        stdout,
        stderr,
        terminals: [false; 3],
    };
    Ok((stdio, [stdout_kept, stderr_kept]))
}

/// A result file's writer, teed to brine's own `stream` when following.
fn followed(
    file: impl Write + Send + 'static,
    stream: Stream,
    exec: &Execution,
    opts: &RunOptions,
) -> Box<dyn Write + Send> {
    let Some(sink) = &opts.follow else {
        return Box::new(file);
    };
    let live = LiveStream {
        stream,
        partition: exec.partition_index,
        partitions: exec.partition_count,
    };
    Box::new(Tee::new(file, sink.open(live)))
}

/// The input hashes a run adds to its evidence, when it gathers any.
type HashedInputs = Option<Result<Vec<(String, InputHashes)>, ExecutionError>>;

/// Runs the module while another thread hashes the read-only inputs: they
/// cannot change while the guest runs (modules and writable inputs were hashed first).
fn run_while_hashing(
    spec: RunSpec<MountedModules>,
    wasi: WasiCtx,
    read_only_inputs: Vec<(String, PathBuf)>,
) -> (
    Result<crate::engine::run::Report, EngineError>,
    HashedInputs,
) {
    std::thread::scope(|scope| {
        let hashing = (!read_only_inputs.is_empty())
            .then(|| scope.spawn(move || hash_inputs(read_only_inputs)));
        let report = run_module(spec, wasi);
        let hashes = hashing.map(|h| h.join().unwrap_or(Err(ExecutionError::HashingStopped)));
        (report, hashes)
    })
}

/// Hashes the modules and inputs the execution is about to run on.
/// Module hashes and writable inputs' hashes, plus the read-only inputs left to hash.
/// Modules are read through `resolver`, which then runs those same bytes.
fn gather_evidence(
    exec: &Execution,
    mounts: &[MountSpec],
    resolver: &mut MountedModules,
) -> Result<(Evidence, Vec<(String, PathBuf)>), ExecutionError> {
    let mut evidence = Evidence::default();
    for name in std::iter::once(&exec.entry_module).chain(&exec.import_modules) {
        // A module that cannot be read fails the run itself, with the engine's message.
        if let Ok(Some(bytes)) = resolver.read_module(name) {
            evidence
                .modules
                .insert(name.clone(), hex(&blake3::hash(&bytes)));
        }
    }
    let mut read_only = Vec::new();
    let mut writable = Vec::new();
    for (input, mount) in exec.inputs.iter().zip(mounts) {
        let entry = (input.target.clone(), mount.host.clone());
        if mount.read_only {
            read_only.push(entry);
        } else {
            writable.push(entry);
        }
    }
    evidence.inputs.extend(hash_inputs(writable)?);
    Ok((evidence, read_only))
}

/// The hashes of staged inputs, by target.
fn hash_inputs(
    inputs: Vec<(String, PathBuf)>,
) -> Result<Vec<(String, InputHashes)>, ExecutionError> {
    inputs
        .into_iter()
        .map(|(target, host)| {
            let listing = tree_listing(&host).map_err(|source| ExecutionError::Hash {
                target: target.clone(),
                source,
            })?;
            let tree = tree_hash(&listing.files);
            let (files, skipped) = (listing.files, listing.skipped);
            Ok((
                target,
                InputHashes {
                    tree,
                    files,
                    skipped,
                },
            ))
        })
        .collect()
}

/// Bacalhau's wording where it has one.
fn engine_failure(exec: &Execution, err: EngineError) -> ExecutionError {
    match err {
        EngineError::MissingEntrypoint { .. } => {
            ExecutionError::MissingEntrypoint(exec.entrypoint.clone())
        }
        other => ExecutionError::Engine(other),
    }
}

fn capture(
    results: &ResultFiles,
    name: &str,
    cap: u64,
) -> Result<(CappedFile, Arc<Captured>), ExecutionError> {
    let file = results.create(name)?;
    Ok(CappedFile::new(file, cap))
}

/// Stages every input before `deadline` and creates every output directory; returns the mounts.
fn stage_mounts(
    exec: &Execution,
    work: &Path,
    deadline: Deadline,
    progress: Option<&Progress>,
) -> Result<Vec<MountSpec>, ExecutionError> {
    let inputs_dir = create_dir(work.join("inputs"))?;
    let area = StageArea::new(inputs_dir).with_deadline(deadline);
    let mut mounts = Vec::new();
    for (index, input) in exec.inputs.iter().enumerate() {
        let started = Instant::now();
        let source = input.source.describe();
        if let Some(progress) = progress {
            progress.staging(exec.partition_index, Some(source.clone()));
        }
        let staged = input.source.stage(&area, index, &input.target);
        if let Some(progress) = progress {
            progress.staging(exec.partition_index, None);
        }
        let staged = staged?;
        log_staged(&source, &input.target, &staged, started);
        mounts.push(MountSpec {
            guest: input.target.clone(),
            host: staged.host_path,
            read_only: staged.read_only,
        });
    }
    for output in &exec.outputs {
        let dir = create_dir(output_dir(work, &output.name))?;
        mounts.push(MountSpec {
            guest: output.path.clone(),
            host: dir,
            read_only: false,
        });
    }
    Ok(mounts)
}

/// `path`, created with its parents.
fn create_dir(path: PathBuf) -> Result<PathBuf, ExecutionError> {
    match std::fs::create_dir_all(&path) {
        Ok(()) => Ok(path),
        Err(source) => Err(ExecutionError::Directory { path, source }),
    }
}

fn output_dir(work: &Path, name: &str) -> PathBuf {
    work.join("outputs").join(name)
}

/// argv, environment and the one preopen `/` over the mount tree.
fn guest_world(
    exec: &Execution,
    stdio: Stdio,
    mounts: &[MountSpec],
    opts: &RunOptions,
    quota: Option<Arc<DiskQuota>>,
) -> Result<WasiCtx, ExecutionError> {
    let mut host = RealHost::new(stdio);
    host.set_cancel(opts.cancel.clone());
    if let Some(quota) = quota {
        host.set_disk_quota(quota);
    }
    let root = host.mount_tree(mounts).map_err(ExecutionError::MountTree)?;
    if let Some(policy) = &exec.network {
        host.set_network(policy.clone());
    }
    let host = stack::assemble(host, exec.deterministic, opts.journal.clone());
    let mut wasi = WasiCtx::new(host);
    wasi.preopen(root, "/", false);
    wasi.set_args(&exec.argv);
    wasi.set_env(&exec.env);
    Ok(wasi)
}

/// Logs a staged input: where from, its size when it is one file, how long it took.
fn log_staged(source: &str, target: &str, staged: &Staged, started: Instant) {
    if !tracing::enabled!(tracing::Level::INFO) {
        return;
    }
    // The entry itself, no link followed, only read: logging must not open inputs.
    let meta = std::fs::symlink_metadata(&staged.host_path);
    let size = match meta {
        Ok(meta) if meta.is_file() => format!("{} bytes", meta.len()),
        Ok(meta) if meta.is_dir() => "a directory".to_string(),
        _ => "?".to_string(),
    };
    tracing::info!(
        source,
        target,
        size,
        read_only = staged.read_only,
        ms = millis(started),
        "staged input"
    );
}

/// Moves each output into the results, without the links the guest left in it; returns those.
fn move_outputs_in(
    exec: &Execution,
    results: &Path,
    work: &Path,
) -> Result<Vec<String>, outputs::ResultsError> {
    let mut dropped = Vec::new();
    for output in &exec.outputs {
        let dir = output_dir(work, &output.name);
        dropped.extend(outputs::links::drop_links(&dir, &output.name)?);
        outputs::move_output(&dir, &results.join(&output.name))?;
    }
    Ok(dropped)
}

/// Runs the execution's publisher over `results`, recording what it wrote.
fn publish_results(exec: &Execution, results: &Path, summary: &mut Summary) {
    let Some(publisher) = &exec.publisher else {
        return;
    };
    let started = Instant::now();
    let cx = Context {
        job_id: exec.job_id.clone(),
        execution_id: exec.execution_id.clone(),
        partition_index: exec.partition_index,
        partition_count: exec.partition_count,
    };
    match publisher.publish(results, &cx) {
        Ok(published) => {
            if let Some(p) = &published {
                tracing::info!(kind = %p.kind, location = %p.location, files = p.objects.len(), "published");
            }
            summary.published = published;
        }
        Err(e) => {
            summary.status = Status::Failed;
            summary.error = Some(e.to_string());
        }
    }
    summary.durations_ms.publish = millis(started);
}

/// Writes `brine.json`; a failure to create it is recorded in the returned summary.
fn write_summary(results: &ResultFiles, summary: &mut Summary) {
    let Ok(text) = serde_json::to_string_pretty(summary) else {
        return;
    };
    if let Err(e) = results.write_new("brine.json", (text + "\n").as_bytes()) {
        summary.status = Status::Failed;
        summary.error.get_or_insert(e.to_string());
    }
    tracing::info!(
        status = ?summary.status,
        exit_code = summary.exit_code,
        error = summary.error.as_deref(),
        "results written"
    );
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
