//! Running a job: the pipeline `brine run` drives (check, plan, stage, run
//! every partition, commit the results directory, write the proofs), with
//! its settings in a [`RunConfig`] and what came of it in a [`Report`].

use super::{Error, Job};
use crate::cancel::CancelToken;
use crate::engine::compiled::CompiledModules;
use crate::host::recording::Log;
#[cfg(feature = "http")]
use crate::inputs::http::RemoteOptions;
use crate::job::check::{check, has_job_problems};
use crate::job::cluster::{adopt_job_id, one_partition, PartitionChoice};
use crate::job::execution::{Execution, Journaling, RunOptions};
use crate::job::journal::write_job_journal;
use crate::job::partitions::{refuse_partitions, run_partitions};
use crate::job::plan::{plan, LimitOverrides, PlanOptions};
use crate::job::progress::Progress;
use crate::job::reach::{protected_paths, refuse_paths_in_guest_reach};
use crate::job::receipt::{build_receipt, Receipt};
use crate::outputs::live::LiveSink;
use crate::outputs::summary::Status;
use crate::outputs::{Staging, Summary};
use crate::spec::SpecErrors;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How to run a job: where its results go, the limits that replace the
/// job's own, determinism, cancellation, live output and progress.
///
/// ```
/// use std::time::Duration;
///
/// let token = brine::CancelToken::new();
/// let config = brine::RunConfig::new("results/doc-config")
///     .force(true)
///     .timeout(Duration::from_secs(30))
///     .max_memory(64 << 20)
///     .deterministic(Some(7))
///     .cancel(token.clone());
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub(crate) output: PathBuf,
    pub(crate) force: bool,
    pub(crate) overrides: LimitOverrides,
    pub(crate) max_output: u64,
    pub(crate) parallel: Option<usize>,
    pub(crate) allow_env: Vec<regex::Regex>,
    pub(crate) block_private: bool,
    pub(crate) deterministic: bool,
    pub(crate) seed: Option<u64>,
    pub(crate) epoch_ns: Option<u64>,
    pub(crate) bacalhau_exit_codes: bool,
    pub(crate) receipt: bool,
    pub(crate) receipt_file: Option<PathBuf>,
    pub(crate) record: Option<PathBuf>,
    pub(crate) cancel: Option<CancelToken>,
    pub(crate) follow: Option<LiveSink>,
    pub(crate) progress: Option<Arc<Progress>>,
    #[cfg(feature = "http")]
    pub(crate) remote: RemoteOptions,
    pub(crate) staging_timeout: Option<Duration>,
    pub(crate) partition: Option<PartitionChoice>,
    pub(crate) job_id: Option<String>,
}

impl RunConfig {
    /// Results go to `output` (absent or empty unless [`RunConfig::force`]);
    /// every other setting has `brine run`'s default.
    pub fn new(output: impl Into<PathBuf>) -> Self {
        RunConfig {
            output: output.into(),
            force: false,
            overrides: LimitOverrides::default(),
            max_output: 1 << 30,
            parallel: None,
            allow_env: Vec::new(),
            block_private: false,
            deterministic: false,
            seed: None,
            epoch_ns: None,
            bacalhau_exit_codes: false,
            receipt: false,
            receipt_file: None,
            record: None,
            cancel: None,
            follow: None,
            progress: None,
            #[cfg(feature = "http")]
            remote: RemoteOptions::default(),
            staging_timeout: None,
            partition: None,
            job_id: None,
        }
    }

    /// Replace an existing, non-empty results directory.
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// Stop the guest after this much wall-clock time, in place of the job's
    /// `Timeouts.ExecutionTimeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.overrides.timeout_ms = Some(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// The bytes all of the guest's memories and tables may hold together, in
    /// place of the job's `Resources.Memory`.
    pub fn max_memory(mut self, bytes: u64) -> Self {
        self.overrides.max_memory = Some(bytes);
        self
    }

    /// Stop the guest after this many units of fuel (about one per instruction).
    pub fn fuel(mut self, units: u64) -> Self {
        self.overrides.fuel = Some(units);
        self
    }

    /// Keep at most this many bytes of each of stdout and stderr (default 1 GiB).
    pub fn max_output(mut self, bytes: u64) -> Self {
        self.max_output = bytes;
        self
    }

    /// Run at most `n` partitions at once (default: the number of cores).
    pub fn parallel(mut self, n: usize) -> Self {
        self.parallel = Some(n.max(1));
        self
    }

    /// Let `env:NAME` values read NAME from this process's environment when
    /// NAME matches `pattern`.
    pub fn allow_env(mut self, pattern: regex::Regex) -> Self {
        self.allow_env.push(pattern);
        self
    }

    /// Refuse the guest's HTTP requests to loopback, private, link-local and
    /// cloud-metadata addresses unless the job's `Network.Domains` names the
    /// host. (Whether a guest has a network at all is the job's `Network` field.)
    pub fn block_private(mut self, block: bool) -> Self {
        self.block_private = block;
        self
    }

    /// Run reproducibly: virtual clocks on fuel, seeded randomness, ids from
    /// the job's hash; `seed` `None` derives the seed from the job's hash.
    pub fn deterministic(mut self, seed: Option<u64>) -> Self {
        self.deterministic = true;
        self.seed = seed;
        self
    }

    /// The realtime clock at the start of a deterministic run, seconds since the Unix epoch.
    pub fn epoch(mut self, seconds: u64) -> Self {
        self.epoch_ns = Some(seconds.saturating_mul(1_000_000_000));
        self
    }

    /// Report a normal return from the entrypoint as exit code -1, as Bacalhau does.
    pub fn bacalhau_exit_codes(mut self, on: bool) -> Self {
        self.bacalhau_exit_codes = on;
        self
    }

    /// Build an execution receipt (hashes of job, modules, inputs, outputs)
    /// into the [`Report`]; [`verify`](crate::verify) re-runs a deterministic one.
    pub fn receipt(mut self, on: bool) -> Self {
        self.receipt = on;
        self
    }

    /// Also write the receipt to `path`.
    pub fn receipt_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.receipt = true;
        self.receipt_file = Some(path.into());
        self
    }

    /// Journal every answer the host gives the guest to `path`, for
    /// `brine replay` (a job of one partition).
    pub fn record(mut self, path: impl Into<PathBuf>) -> Self {
        self.record = Some(path.into());
        self
    }

    /// Stop the run when `token` is cancelled: the guests stop within a fuel
    /// slice (or as their sleep is cut short), their partitions fail as
    /// cancelled, and the results directory is still written. (Inputs being
    /// fetched are not interrupted: their own timeouts bound them.)
    pub fn cancel(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Pass the guest's stdout and stderr, as it writes them, to the writers
    /// `sink` makes (besides the capped result files).
    pub fn live_output(mut self, sink: LiveSink) -> Self {
        self.follow = Some(sink);
        self
    }

    /// Count the run's progress into `progress` (read it from another thread;
    /// its partition count is set once the job is planned).
    pub fn progress(mut self, progress: Arc<Progress>) -> Self {
        self.progress = Some(progress);
        self
    }

    /// How long staging the inputs may take when the job sets no `Timeouts.TotalTimeout`.
    pub fn staging_timeout(mut self, timeout: Duration) -> Self {
        self.staging_timeout = Some(timeout);
        self
    }

    /// The planner's options from this configuration.
    pub(crate) fn plan_options(&self) -> PlanOptions {
        PlanOptions {
            allow_env: self.allow_env.clone(),
            deterministic: self.deterministic,
            seed: self.seed,
            seed_key: None,
            epoch_ns: self.epoch_ns,
            block_private: self.block_private,
            replaying: false,
            #[cfg(feature = "http")]
            remote: self.remote.clone(),
            staging_timeout: self.staging_timeout,
            overrides: self.overrides,
        }
    }
}

/// What a run did: each partition's summary (what its `brine.json` holds),
/// where the results are, and the receipt when one was asked for.
#[derive(Debug, Clone)]
pub struct Report {
    /// The results directory (`DIR/<index>/` per partition when there are several).
    pub dir: PathBuf,
    /// Each partition's summary, in partition order.
    pub summaries: Vec<Summary>,
    /// The receipt, when [`RunConfig::receipt`] asked for one.
    pub receipt: Option<Receipt>,
    /// Problems with the job's modules that failed every partition before
    /// anything ran (each partition's error says so too).
    pub problems: Option<SpecErrors>,
}

impl Report {
    /// Failed when any partition failed (a trap, a timeout, cancelled, a
    /// fetch error), else completed, whatever the guests' exit codes.
    pub fn status(&self) -> Status {
        if self.summaries.iter().any(|s| s.status == Status::Failed) {
            Status::Failed
        } else {
            Status::Completed
        }
    }

    /// The guest's exit code: the first partition's that is not 0, else 0;
    /// `None` when no partition ran to an exit.
    pub fn exit_code(&self) -> Option<i64> {
        let codes = || self.summaries.iter().filter_map(|s| s.exit_code);
        codes().find(|&code| code != 0).or_else(|| codes().next())
    }

    /// Whether the run was stopped by its [`CancelToken`].
    pub fn cancelled(&self) -> bool {
        self.summaries
            .iter()
            .any(|s| s.error.as_deref() == Some(CANCELLED))
    }

    /// The directory of partition `index`'s results (`stdout`, `stderr`,
    /// `exitCode`, `brine.json` and one directory per ResultPath).
    pub fn partition_dir(&self, index: u32) -> PathBuf {
        if self.summaries.len() > 1 {
            self.dir.join(index.to_string())
        } else {
            self.dir.clone()
        }
    }

    /// Every published output directory: (partition, ResultPath name, path).
    pub fn outputs(&self) -> Vec<(u32, String, PathBuf)> {
        self.summaries
            .iter()
            .flat_map(|s| {
                let dir = self.partition_dir(s.partition_index);
                s.outputs
                    .iter()
                    .map(move |name| (s.partition_index, name.clone(), dir.join(name)))
            })
            .collect()
    }
}

/// The error a cancelled partition reports (`Outcome::Cancelled`).
const CANCELLED: &str = "Execution cancelled";

/// Runs `job` as `config` says: checks it (nothing is fetched when it is
/// invalid), plans one execution per partition, stages the inputs where no
/// guest can see them, runs every partition and moves the results directory
/// into place. A guest that fails is in the [`Report`], not an error.
///
/// ```
/// let job = brine::Job::from_path("fixtures/jobs/demo/job.yaml")?;
/// let report = brine::run(&job, &brine::RunConfig::new("results/doc-run").force(true))?;
/// assert_eq!(report.status(), brine::Status::Completed);
/// assert_eq!(report.exit_code(), Some(0));
/// assert!(report.outputs()[0].2.join("summary.csv").exists());
/// # Ok::<(), brine::Error>(())
/// ```
pub fn run(job: &Job, config: &RunConfig) -> Result<Report, Error> {
    let prepared = prepare(job, config)?;
    let progress = config.progress.clone();
    if let Some(progress) = &progress {
        progress.plan(prepared.partitions());
    }
    prepared.run(progress)
}

/// A job checked and planned, its results directory locked: what is left
/// is to run it. `brine run` starts its status line in between.
pub(crate) struct Prepared<'a> {
    job: &'a Job,
    config: &'a RunConfig,
    options: PlanOptions,
    problems: SpecErrors,
    /// Modules the checks compiled, for the run to reuse.
    compiled: Option<Arc<CompiledModules>>,
    executions: Vec<Execution>,
    staging: Staging,
}

/// Checks and plans `job` and prepares its results directory.
pub(crate) fn prepare<'a>(job: &'a Job, config: &'a RunConfig) -> Result<Prepared<'a>, Error> {
    let options = config.plan_options();
    // Everything checkable is checked before anything is fetched: a job-file
    // problem refuses the job; unrunnable modules fail it (in `run`).
    let checked = check(&job.0, &options);
    let problems = checked.problems;
    if has_job_problems(&problems) {
        return Err(Error::Invalid(problems));
    }
    let (executions, output) = executions_to_run(config, job, &options)?;
    let protected = protected_paths(&job.0.file, &executions);
    refuse_paths_in_guest_reach(
        &protected,
        &executions,
        &[
            ("the receipt", config.receipt_file.as_deref()),
            ("the journal", config.record.as_deref()),
            #[cfg(feature = "http")]
            ("the download cache", config.remote.cache.as_deref()),
        ],
    )
    .map_err(Error::refused)?;
    let staging =
        Staging::prepare_guarded(&output, config.force, &protected).map_err(Error::refused)?;
    Ok(Prepared {
        job,
        config,
        options,
        problems,
        compiled: checked.compiled,
        executions,
        staging,
    })
}

/// The executions this process runs (all, or the one `partition` names) and
/// the directory their results go to.
fn executions_to_run(
    config: &RunConfig,
    job: &Job,
    options: &PlanOptions,
) -> Result<(Vec<Execution>, PathBuf), Error> {
    let executions = plan(&job.0, options).map_err(Error::refused)?;
    let (mut executions, output) = match config.partition {
        Some(choice) => {
            one_partition(choice, executions, &config.output).map_err(Error::refused)?
        }
        None => (executions, config.output.clone()),
    };
    if let Some(id) = &config.job_id {
        adopt_job_id(&mut executions, id).map_err(Error::refused)?;
    }
    if config.record.is_some() && executions.len() != 1 {
        return Err(Error::Refused(format!(
            "--record journals one execution; this job has Count {}",
            executions.len()
        )));
    }
    Ok((executions, output))
}

impl Prepared<'_> {
    /// How many partitions this process runs.
    pub(crate) fn partitions(&self) -> usize {
        self.executions.len()
    }

    /// Runs every partition, commits the results directory, writes the proofs.
    pub(crate) fn run(self, progress: Option<Arc<Progress>>) -> Result<Report, Error> {
        let log = Log::default();
        let opts = self.run_options(&log, progress);
        let summaries = if self.problems.is_empty() {
            run_partitions(&self.executions, &self.staging, &opts, self.parallelism())
        } else {
            refuse_partitions(&self.executions, &self.staging, &self.problems)
        }
        .map_err(Error::refused)?;
        let dir = self.staging.commit().map_err(Error::failed)?;
        let receipt = if self.config.receipt {
            let receipt = build_receipt(
                &self.job.0.file,
                &self.job.0,
                &self.options,
                &dir,
                &summaries,
            )
            .map_err(Error::failed)?;
            Some(receipt)
        } else {
            None
        };
        write_proofs(
            self.config,
            receipt.as_ref(),
            self.job,
            &self.executions,
            &log,
        )?;
        Ok(Report {
            dir,
            summaries,
            receipt,
            problems: (!self.problems.is_empty()).then_some(self.problems),
        })
    }

    /// How the runner writes results.
    fn run_options(&self, log: &Log, progress: Option<Arc<Progress>>) -> RunOptions {
        let config = self.config;
        RunOptions {
            max_output: config.max_output,
            bacalhau_exit_codes: config.bacalhau_exit_codes,
            evidence: config.receipt,
            journal: if config.record.is_some() {
                Journaling::Record(log.clone())
            } else {
                Journaling::Off
            },
            follow: config.follow.clone(),
            cancel: config.cancel.clone(),
            progress,
            compiled: self.compiled.clone(),
        }
    }

    fn parallelism(&self) -> usize {
        if self.executions.len() <= 1 {
            // Asking the OS for its cores reads cgroup files: not worth it for one partition.
            return 1;
        }
        self.config
            .parallel
            .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
            .unwrap_or(1)
            .max(1)
    }
}

/// Writes the receipt file and the journal a run was asked for.
fn write_proofs(
    config: &RunConfig,
    receipt: Option<&Receipt>,
    job: &Job,
    executions: &[Execution],
    log: &Log,
) -> Result<(), Error> {
    if let (Some(path), Some(receipt)) = (&config.receipt_file, receipt) {
        crate::atomic::write(
            path,
            receipt.to_json().as_bytes(),
            crate::atomic::Access::Shared,
        )
        .map_err(|e| Error::Failed(format!("cannot write the receipt {}: {e}", path.display())))?;
    }
    if let (Some(path), Some(exec)) = (&config.record, executions.first()) {
        write_job_journal(path, &job.0, exec, log).map_err(Error::failed)?;
    }
    Ok(())
}

/// Settings only the command line gives (a cluster partition, download
/// progress bars, the IPFS gateway and download options).
impl RunConfig {
    /// Runs only partition `choice` into `DIR/<index>/`, with the job id `job_id`.
    pub(crate) fn cluster(
        mut self,
        choice: Option<PartitionChoice>,
        job_id: Option<String>,
    ) -> Self {
        self.partition = choice;
        self.job_id = job_id;
        self
    }

    /// How remote inputs are fetched.
    #[cfg(feature = "http")]
    pub(crate) fn remote(mut self, remote: RemoteOptions) -> Self {
        self.remote = remote;
        self
    }
}
