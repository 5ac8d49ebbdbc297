//! `brine slurm submit`: a job's partitions as one Slurm array job; `brine
//! slurm retry`: its failed and missing partitions again. Slurm schedules; each
//! array element runs `brine run --partition` (see `job::sbatch` for the
//! script, `job::staged_inputs` for the inputs fetched once, `job::gather` for
//! the accounting).
//!
//! Exit status: 0 submitted (with `--wait`: every partition completed), 1 sbatch
//! missing or refusing, or a partition that did not complete; 2 an invalid job
//! or arguments.

use super::Failure;
#[cfg(feature = "http")]
use crate::inputs::http::{HttpOptions, RemoteOptions, DEFAULT_IPFS_GATEWAY};
#[cfg(feature = "http")]
use crate::inputs::url::parse_http_url;
use crate::job::gather::{gather, JobMeta, JobReport, PartitionStatus, META_DIR, META_FILE};
use crate::job::plan::PlanOptions;
use crate::job::replicas::{self, MAX_REPLICAS, RECEIPTS_DIR};
use crate::job::sbatch::{
    array_of, perform_copy, plan_copy, retry_script, script, ArrayJob, JobCopy, SlurmResources,
    SHARED_MARKER,
};
use crate::job::staged_inputs;
use crate::units::parse_duration;
#[cfg(feature = "http")]
use crate::units::parse_size;
use anyhow::anyhow;
#[cfg(feature = "http")]
use indicatif::{MultiProgress, ProgressDrawTarget};
#[cfg(feature = "http")]
use std::io::IsTerminal;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// `brine slurm …`.
#[derive(Debug, clap::Subcommand)]
pub enum SlurmCommand {
    /// Submit a job's partitions as one Slurm array job (one element per partition).
    Submit(super::lazy::Lazy<SubmitArgs>),
    /// Resubmit the failed and missing partitions of a submitted job as one array.
    Retry(super::lazy::Lazy<RetryArgs>),
}

/// Arguments of `brine slurm retry`.
#[derive(Debug, clap::Args)]
pub struct RetryArgs {
    /// The results directory `brine slurm submit` wrote.
    dir: PathBuf,
    /// Wait for the retried partitions to end, then gather (as `brine gather DIR`).
    #[arg(long)]
    wait: bool,
    /// Print one JSON object on stdout (Slurm job id, DIR, script, array, partitions;
    /// with --wait the gathered report too) instead of lines of text.
    #[arg(long)]
    pub(super) json: bool,
}

/// Arguments of `brine slurm submit`.
#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// The job file (YAML or JSON); its Count is the array's size.
    job: PathBuf,
    /// The results directory, on a file system every node shares (absent or empty):
    /// partition I writes DIR/I/, brine keeps the job's copy and script in DIR/.brine/.
    #[arg(long, short, value_name = "DIR")]
    output: PathBuf,
    /// Wait for every partition to end (sbatch --wait), then gather (as `brine gather DIR`).
    #[arg(long)]
    wait: bool,
    /// Let Slurm run at most K array elements at once (--array=0-(N-1)%K).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
    max_parallel: Option<u32>,
    /// Run each partition of a deterministic job R times (R array elements, each
    /// with a receipt); `brine gather` then says whether each partition's replicas agree.
    #[arg(long, value_name = "R", value_parser = clap::value_parser!(u32).range(2..=i64::from(MAX_REPLICAS)))]
    replicas: Option<u32>,
    /// Print one JSON object on stdout (Slurm job id, DIR, script, array, partitions;
    /// with --wait the gathered report too) instead of lines of text.
    #[arg(long)]
    pub(super) json: bool,
    /// One more #SBATCH option for the script, e.g. --sbatch-arg=--partition=gpu. Repeatable.
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true)]
    sbatch_args: Vec<String>,
    /// Prepare DIR/.brine (job copy, staged inputs, script) and print the script, but
    /// submit nothing (`sbatch DIR/.brine/job.sbatch` submits it later).
    #[arg(long)]
    dry_run: bool,
    #[cfg(feature = "http")]
    /// The largest download accepted when staging the job's inputs, e.g. 500MiB.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "10GiB")]
    max_download: u64,
    #[cfg(feature = "http")]
    /// The IPFS HTTP gateway that `ipfs` inputs are fetched through.
    #[arg(long, value_name = "URL", env = "BRINE_IPFS_GATEWAY", default_value = DEFAULT_IPFS_GATEWAY)]
    ipfs_gateway: String,
    #[cfg(feature = "http")]
    /// Take downloads from DIR and keep them there (as `brine run --cache`).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// How long staging the inputs at submit time may take.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30m")]
    staging_timeout: Duration,
    /// Let `env:NAME` values read NAME when it matches REGEX: checked here, then read
    /// by every `brine run` on its node (sbatch passes the submitter's environment
    /// on unless --export says otherwise). Repeatable.
    #[arg(long = "allow-env", value_name = "REGEX")]
    allow_env: Vec<String>,
    /// Trust the CA certificates in this PEM file too when staging the job's inputs at
    /// submit time (the elements' own HTTPS takes SSL_CERT_FILE from the environment sbatch
    /// passes on). Repeatable.
    #[arg(long = "ca-cert", value_name = "FILE")]
    ca_cert: Vec<PathBuf>,
}

impl SlurmCommand {
    /// Whether the subcommand was asked for JSON (its errors, too, are then JSON).
    pub fn json(&self) -> bool {
        match self {
            SlurmCommand::Submit(args) => args.json,
            SlurmCommand::Retry(args) => args.json,
        }
    }
}

/// Runs `brine slurm …`.
pub fn run(command: SlurmCommand) -> Result<i32, Failure> {
    match command {
        SlurmCommand::Submit(args) => submit(args.into_inner()),
        SlurmCommand::Retry(args) => retry(args.into_inner()),
    }
}

fn submit(args: SubmitArgs) -> Result<i32, Failure> {
    let job_file = std::path::absolute(&args.job)
        .map_err(|e| Failure::usage(anyhow!("{}: {e}", args.job.display())))?;
    let job = crate::spec::load(&job_file).map_err(Failure::usage)?;
    super::run::trust_ca_files(&args.ca_cert)?;
    let replicas = args.replicas.unwrap_or(1);
    refuse_nondeterministic_replicas(&job, replicas)?;
    let output = std::path::absolute(&args.output)
        .map_err(|e| Failure::usage(anyhow!("{}: {e}", args.output.display())))?;
    let meta = output.join(META_DIR);
    let copy = plan_copy(&job, &job_file, &meta.join("job")).map_err(Failure::usage)?;
    let array = ArrayJob {
        brine: std::env::current_exe()
            .map_err(|e| Failure::usage(anyhow!("cannot find brine's own binary: {e}")))?,
        job_file: copy.job_file.clone(),
        output: output.clone(),
        name: job.name.clone(),
        count: job.count,
        job_id: new_job_id(),
        max_parallel: args.max_parallel,
        replicas,
        resources: SlurmResources::of(&job).map_err(Failure::usage)?,
        extra: args.sbatch_args.clone(),
        allow_env: args.allow_env.clone(),
    };
    let text = script(&array).map_err(Failure::usage)?;
    let options = plan_options(&args)?;
    refuse_what_cannot_run(&job, &options)?;
    refuse_used_output(&output)?;
    let prepared = prepare(&job, &copy, &options, &meta, &text, replicas)
        .and_then(|()| write_shared(&meta.join(SHARED_MARKER), array.job_id.as_bytes()));
    if let Err(e) = prepared {
        forget(&output, &meta);
        return Err(Failure::failed(e));
    }
    let submitted = Submitted {
        slurm_job_id: None,
        dir: output.clone(),
        script: meta.join(SCRIPT_FILE),
        array: array_of(&text).unwrap_or_default().to_string(),
        partition_count: job.count,
        partitions: (0..job.count).collect(),
        replicas,
        dry_run: args.dry_run,
    };
    if args.dry_run {
        if args.json {
            return submitted.finish(None);
        }
        outln!("{}", text.trim_end());
        return Ok(0);
    }
    match sbatch(&submitted.script, args.wait, args.json) {
        Ok(id) => Submitted {
            slurm_job_id: Some(id),
            ..submitted
        }
        .finish_with(args.wait, args.json),
        Err(e) => {
            // Nothing was submitted: leave DIR as it was (absent or empty), so the same
            // command works once sbatch does.
            forget(&output, &meta);
            Err(Failure::failed(e))
        }
    }
}

/// Replicas compare receipts, which agree only when runs are reproducible.
fn refuse_nondeterministic_replicas(job: &crate::spec::Job, replicas: u32) -> Result<(), Failure> {
    if replicas > 1 && !job.task.engine.deterministic {
        return Err(Failure::usage(anyhow!(
            "--replicas {replicas}: job {} is not deterministic, so its replicas would differ by design; \
             set Deterministic: true in its engine's Params (seeded randomness, a virtual clock) or drop --replicas",
            crate::text::printable(&job.name)
        )));
    }
    Ok(())
}

/// What `slurm submit` or `slurm retry` submitted (their `--json` object).
#[derive(Debug, serde::Serialize)]
struct Submitted {
    /// Slurm's id for the array job (none for --dry-run).
    slurm_job_id: Option<String>,
    /// The results directory.
    dir: PathBuf,
    /// The batch script submitted.
    script: PathBuf,
    /// Its `--array` value.
    array: String,
    /// The job's Count.
    partition_count: u32,
    /// The partitions this submission runs.
    partitions: Vec<u32>,
    /// How many times each partition runs.
    replicas: u32,
    /// Whether nothing was submitted (--dry-run).
    dry_run: bool,
}

impl Submitted {
    /// Gathers with --wait (the report printed, or in the JSON), and returns the status.
    fn finish_with(self, wait: bool, json: bool) -> Result<i32, Failure> {
        if !wait {
            return if json { self.finish(None) } else { Ok(0) };
        }
        if !json {
            return super::gather::gather_and_report(&self.dir, false);
        }
        let report = super::gather::gather_and_write(&self.dir)?;
        self.finish(Some(&report))?;
        super::gather::verdict(&report)
    }

    /// Prints the JSON object, with the gathered report when there is one.
    fn finish(&self, report: Option<&JobReport>) -> Result<i32, Failure> {
        let mut object = serde_json::to_value(self).map_err(Failure::failed)?;
        if let Some(report) = report {
            object["gather"] = serde_json::to_value(report).map_err(Failure::failed)?;
        }
        outln!("{object}");
        Ok(0)
    }
}

/// The batch script's name in DIR/.brine/.
const SCRIPT_FILE: &str = "job.sbatch";

/// Removes what [`prepare`] wrote: DIR/.brine, the replicas' empty
/// directories, and DIR if it is then empty.
fn forget(output: &Path, meta: &Path) {
    let _ = std::fs::remove_dir_all(meta);
    let _ = std::fs::remove_dir(output.join(RECEIPTS_DIR));
    let replicas = output.join(replicas::REPLICAS_DIR);
    if let Ok(entries) = std::fs::read_dir(&replicas) {
        for entry in entries.flatten() {
            let _ = std::fs::remove_dir(entry.path());
        }
    }
    let _ = std::fs::remove_dir(replicas);
    let _ = std::fs::remove_dir(output);
}

/// Writes DIR/.brine: the job's copy, its fetched inputs staged once (and the
/// copy rewritten to mount them), the logs directory, the script, job.json.
fn prepare(
    job: &crate::spec::Job,
    copy: &JobCopy,
    options: &PlanOptions,
    meta: &Path,
    script_text: &str,
    replicas: u32,
) -> anyhow::Result<()> {
    perform_copy(copy)?;
    if staged_inputs::has_fetched_inputs(job) {
        let staged = staged_inputs::stage(job, options, meta)?;
        let rewritten = staged_inputs::job_file_text(job, &staged, &copy.job_file, meta);
        replace_shared(&copy.job_file, rewritten.as_bytes())?;
        write_shared(
            &meta.join(staged_inputs::MANIFEST_FILE),
            &staged_inputs::manifest_text(&staged),
        )?;
        eoutln!(
            "staged {} fetched input{} once into {}",
            staged.len(),
            if staged.len() == 1 { "" } else { "s" },
            meta.join(staged_inputs::INPUTS_DIR).display()
        );
    }
    create_dir(&meta.join("logs"))?;
    if replicas > 1 {
        let output = meta.parent().unwrap_or(meta);
        create_dir(&output.join(RECEIPTS_DIR))?;
        for k in 1..replicas {
            create_dir(&replicas::replica_output(output, k))?;
        }
    }
    write_shared(&meta.join(SCRIPT_FILE), script_text.as_bytes())?;
    let meta_json = serde_json::to_vec_pretty(&JobMeta {
        count: job.count,
        replicas: (replicas > 1).then_some(replicas),
    })?;
    write_shared(&meta.join(META_FILE), &meta_json)
}

fn create_dir(path: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(path).map_err(|e| anyhow!("cannot create {}: {e}", path.display()))
}

/// Fetching options for the inputs staged at submit time.
/// The deep checks `brine run` makes, made once before anything is copied,
/// fetched or submitted: a job every element would refuse (exit 2) or whose
/// modules cannot run (exit 1) is not sent to the cluster N times.
fn refuse_what_cannot_run(job: &crate::spec::Job, options: &PlanOptions) -> Result<(), Failure> {
    let problems = crate::job::check::check(job, options).problems;
    if problems.is_empty() {
        return Ok(());
    }
    if crate::job::check::has_job_problems(&problems) {
        return Err(Failure::usage(problems));
    }
    Err(Failure::failed(problems))
}

fn plan_options(args: &SubmitArgs) -> Result<PlanOptions, Failure> {
    Ok(PlanOptions {
        #[cfg(feature = "http")]
        remote: remote_options(args)?,
        staging_timeout: Some(args.staging_timeout),
        allow_env: super::run::allow_env_patterns(&args.allow_env)?,
        ..PlanOptions::default()
    })
}

/// Download settings for the inputs staged at submit time.
#[cfg(feature = "http")]
fn remote_options(args: &SubmitArgs) -> Result<RemoteOptions, Failure> {
    parse_http_url(&args.ipfs_gateway)
        .map_err(|e| Failure::usage(anyhow!("--ipfs-gateway: {e}")))?;
    Ok(RemoteOptions {
        http: HttpOptions {
            max_bytes: args.max_download,
            progress: std::io::stderr()
                .is_terminal()
                .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            ..HttpOptions::default()
        },
        ipfs_gateway: args.ipfs_gateway.clone(),
        cache: args.cache.clone(),
    })
}

/// Resubmits exactly the partitions (with replicas: the replicas) gather finds
/// failed or missing (a failed one's directory moved to
/// DIR/.brine/attempts/<n>/ first), with the script submit wrote, its array
/// narrowed to them.
fn retry(args: RetryArgs) -> Result<i32, Failure> {
    let output = std::path::absolute(&args.dir)
        .map_err(|e| Failure::usage(anyhow!("{}: {e}", args.dir.display())))?;
    let meta = output.join(META_DIR);
    let report = gather(&output).map_err(Failure::failed)?;
    let replicas = report.replicas.unwrap_or(1);
    let (redo, running) = runs_to_retry(&report);
    if !running.is_empty() {
        eoutln!(
            "left alone: partition{} {} still running (a brine is staging them)",
            if running.len() == 1 { "" } else { "s" },
            list(&running)
        );
    }
    let partitions = partitions_of(&redo);
    let script_text = read_script(&meta.join(SCRIPT_FILE)).map_err(Failure::failed)?;
    if redo.is_empty() {
        if args.json {
            let nothing = Submitted {
                slurm_job_id: None,
                dir: output,
                script: meta.join(SCRIPT_FILE),
                array: String::new(),
                partition_count: report.partition_count,
                partitions: Vec::new(),
                replicas,
                dry_run: false,
            };
            return nothing.finish(None);
        }
        outln!(
            "nothing to retry: {} of {} partitions completed",
            report.completed,
            report.partition_count
        );
        return Ok(0);
    }
    refuse_while_queued(&meta).map_err(Failure::failed)?;
    let elements: Vec<u64> = redo
        .iter()
        .map(|r| replicas::element(r.partition, r.replica, replicas))
        .collect();
    let narrowed = retry_script(&script_text, &elements).map_err(Failure::failed)?;
    staged_inputs::verify(&meta).map_err(Failure::failed)?;
    let attempt = next_attempt(&meta).map_err(Failure::failed)?;
    let moved = move_failed_aside(&output, &meta, attempt, &redo).map_err(Failure::failed)?;
    let script_path = meta.join(format!("retry-{attempt}.sbatch"));
    let submitted = write_shared(&script_path, narrowed.as_bytes()).and_then(|()| {
        let runs = if replicas > 1 {
            format!(" ({} replica runs)", redo.len())
        } else {
            String::new()
        };
        let line = format!(
            "retrying {} of {} partitions: {}{runs}",
            partitions.len(),
            report.partition_count,
            list(&partitions)
        );
        if args.json {
            eoutln!("{line}");
        } else {
            outln!("{line}");
        }
        sbatch(&script_path, args.wait, args.json)
    });
    match submitted {
        Ok(id) => Submitted {
            slurm_job_id: Some(id),
            dir: output,
            array: array_of(&narrowed).unwrap_or_default().to_string(),
            script: script_path,
            partition_count: report.partition_count,
            partitions,
            replicas,
            dry_run: false,
        }
        .finish_with(args.wait, args.json),
        Err(e) => {
            put_back(&output, &meta, attempt, &moved);
            let _ = std::fs::remove_file(&script_path);
            Err(Failure::failed(e))
        }
    }
}

/// The list of Slurm job ids submitted for DIR, one a line (retry's check that none is still queued).
const SLURM_JOBS_FILE: &str = "slurm-jobs";

/// Appends `id` to DIR/.brine/slurm-jobs (best effort: a missing line only
/// weakens retry's check).
fn record_slurm_job(meta: &Path, id: &str) {
    use std::io::Write;
    let plain = id.bytes().all(|b| b.is_ascii_digit());
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(meta.join(SLURM_JOBS_FILE));
    if let (true, Ok(mut file)) = (plain, file) {
        let _ = writeln!(file, "{id}");
    }
}

/// Refuses to retry while a Slurm job submitted for DIR is still queued or
/// running: its pending elements read as missing and would run twice.
fn refuse_while_queued(meta: &Path) -> anyhow::Result<()> {
    let recorded = std::fs::read_to_string(meta.join(SLURM_JOBS_FILE)).unwrap_or_default();
    let ids: Vec<&str> = recorded
        .lines()
        .filter(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let answer = Command::new("squeue")
        .args(["-h", "-o", "%F"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| anyhow!("cannot run squeue to see whether the job is still queued: {e}"))?;
    if !answer.status.success() {
        let text = String::from_utf8_lossy(&answer.stderr);
        return Err(anyhow!(
            "squeue failed ({}): {}",
            answer.status,
            crate::text::printable(text.trim())
        ));
    }
    let queued = String::from_utf8_lossy(&answer.stdout);
    if let Some(id) = ids
        .iter()
        .find(|id| queued.lines().any(|l| l.trim() == **id))
    {
        return Err(anyhow!(
            "Slurm job {id} of this DIR is still queued or running: wait for it to end (or scancel {id}), then retry"
        ));
    }
    Ok(())
}

/// One run of a partition to submit again: replica 0 unless the job has replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    partition: u32,
    replica: u32,
    /// Whether it failed (its directory is moved aside) rather than went missing.
    failed: bool,
}

/// The failed and missing runs (each replica of a replicated job on its own),
/// and the partitions with a run still running (left alone).
fn runs_to_retry(report: &JobReport) -> (Vec<Run>, Vec<u32>) {
    let (mut redo, mut running) = (Vec::new(), Vec::new());
    for p in &report.partitions {
        let statuses: Vec<(u32, PartitionStatus)> = match &p.replicas {
            Some(set) => set.replicas.iter().map(|r| (r.replica, r.status)).collect(),
            None => vec![(0, p.status)],
        };
        for (replica, status) in statuses {
            match status {
                PartitionStatus::Failed | PartitionStatus::Missing => redo.push(Run {
                    partition: p.partition,
                    replica,
                    failed: status == PartitionStatus::Failed,
                }),
                PartitionStatus::Running => running.push(p.partition),
                PartitionStatus::Completed => {}
            }
        }
    }
    running.dedup();
    (redo, running)
}

/// The partitions the runs belong to, each once.
fn partitions_of(runs: &[Run]) -> Vec<u32> {
    let mut partitions: Vec<u32> = runs.iter().map(|r| r.partition).collect();
    partitions.dedup();
    partitions
}

/// Indices as `1, 3, 5` (at most 20 named).
fn list(indices: &[u32]) -> String {
    let mut text: Vec<String> = indices.iter().take(20).map(u32::to_string).collect();
    if indices.len() > 20 {
        text.push(format!("and {} more", indices.len() - 20));
    }
    text.join(", ")
}

/// The batch script submit wrote: a regular file, not through a link, at most 1 MiB.
fn read_script(path: &Path) -> anyhow::Result<String> {
    let file = crate::outputs::nofollow::open_regular(path).map_err(|e| {
        anyhow!(
            "cannot read {}: {e}; retry needs a DIR that brine slurm submit prepared",
            path.display()
        )
    })?;
    let mut text = String::new();
    file.take(1 << 20)
        .read_to_string(&mut text)
        .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
    Ok(text)
}

/// The first n with no DIR/.brine/attempts/<n> nor retry-<n>.sbatch.
fn next_attempt(meta: &Path) -> anyhow::Result<u32> {
    (1..10_000)
        .find(|n| {
            std::fs::symlink_metadata(meta.join(format!("attempts/{n}"))).is_err()
                && std::fs::symlink_metadata(meta.join(format!("retry-{n}.sbatch"))).is_err()
        })
        .ok_or_else(|| anyhow!("{}: 10,000 retries already", meta.display()))
}

/// Where a run's results are, relative to DIR (and to DIR/.brine/attempts/<n>/
/// once moved aside): `<p>`, or `replicas/<k>/<p>` for replica k.
fn run_dir(run: &Run) -> PathBuf {
    replicas::replica_output(Path::new(""), run.replica).join(run.partition.to_string())
}

/// Renames each failed run's directory (DIR/<p>, or DIR/replicas/<k>/<p>) into
/// DIR/.brine/attempts/<attempt>/ (kept for a look at why it failed); returns those moved.
fn move_failed_aside(
    output: &Path,
    meta: &Path,
    attempt: u32,
    runs: &[Run],
) -> anyhow::Result<Vec<PathBuf>> {
    let aside = meta.join(format!("attempts/{attempt}"));
    let mut moved = Vec::new();
    for rel in runs.iter().filter(|r| r.failed).map(run_dir) {
        let to = aside.join(&rel);
        let parent = to.parent().unwrap_or(&aside);
        // rename moves the entry itself: a link in DIR is moved, never followed.
        let renamed =
            std::fs::create_dir_all(parent).and_then(|()| std::fs::rename(output.join(&rel), &to));
        if let Err(e) = renamed {
            put_back(output, meta, attempt, &moved);
            return Err(anyhow!(
                "cannot move the failed partition {} aside into {}: {e}",
                output.join(&rel).display(),
                aside.display()
            ));
        }
        moved.push(rel);
    }
    Ok(moved)
}

/// Undoes [`move_failed_aside`] when nothing was submitted.
fn put_back(output: &Path, meta: &Path, attempt: u32, moved: &[PathBuf]) {
    let aside = meta.join(format!("attempts/{attempt}"));
    for rel in moved {
        let _ = std::fs::rename(aside.join(rel), output.join(rel));
        // The directories made for it, if now empty (remove_dir removes nothing else).
        for dir in rel
            .ancestors()
            .skip(1)
            .filter(|d| !d.as_os_str().is_empty())
        {
            let _ = std::fs::remove_dir(aside.join(dir));
        }
    }
    let _ = std::fs::remove_dir(&aside);
}

/// A fresh job id, shaped as `brine run` makes them: `j-` and 32 hex digits.
fn new_job_id() -> String {
    let mut bytes = [0u8; 16];
    let _ = getrandom::fill(&mut bytes);
    format!("j-{}", crate::text::hex(&bytes))
}

/// DIR must be absent or empty: partitions of another job must not mix in.
fn refuse_used_output(output: &Path) -> Result<(), Failure> {
    let used = std::fs::read_dir(output).is_ok_and(|mut entries| entries.next().is_some());
    if used {
        return Err(Failure::usage(anyhow!(
            "the output directory {} exists and is not empty; choose another (each job gets its own)",
            output.display()
        )));
    }
    Ok(())
}

/// Replaces the copied job file (brine's own, just written) with the rewritten one.
fn replace_shared(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::remove_file(path).map_err(|e| anyhow!("cannot replace {}: {e}", path.display()))?;
    write_shared(path, bytes)
}

fn write_shared(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    crate::atomic::write(path, bytes, crate::atomic::Access::Shared)
        .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))
}

/// Submits the script with `sbatch --parsable` (and `--wait`), prints the job
/// id as soon as sbatch says it (on stderr under `--json`, whose object
/// carries it), and returns it once sbatch is done.
fn sbatch(script: &Path, wait: bool, json: bool) -> anyhow::Result<String> {
    let mut command = Command::new("sbatch");
    command.arg("--parsable");
    if wait {
        command.arg("--wait");
    }
    let mut child = command
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow!("sbatch not found: install Slurm's client (Debian: slurm-client) or submit from a machine of the cluster"),
            _ => anyhow!("cannot start sbatch: {e}"),
        })?;
    let mut first = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = BufReader::new(stdout).take(4096).read_line(&mut first);
    }
    let id = first.trim().split(';').next().unwrap_or("").to_string();
    if !id.is_empty() {
        let line = format!("submitted Slurm job {}", crate::text::printable(&id));
        if json {
            eoutln!("{line}");
        } else {
            outln!("{line}");
        }
        if let Some(meta) = script.parent() {
            record_slurm_job(meta, &id);
        }
    }
    let mut errors = String::new();
    if let Some(stderr) = child.stderr.take() {
        let _ = stderr.take(64 << 10).read_to_string(&mut errors);
    }
    let status = child.wait().map_err(|e| anyhow!("sbatch: {e}"))?;
    if id.is_empty() || (!status.success() && !wait) {
        let line = errors
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(anyhow!(
            "sbatch refused the job ({status}): {}",
            crate::text::printable(line.trim())
        ));
    }
    Ok(id)
}
