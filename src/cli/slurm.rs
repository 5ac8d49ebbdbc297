//! `brine slurm submit`: a job's partitions as one Slurm array job. Slurm
//! schedules; each array element runs `brine run --partition` (see
//! `job::sbatch` for the script, `job::gather` for the accounting).
//!
//! Exit status: 0 submitted (with `--wait`: every partition completed), 1 sbatch
//! missing or refusing, or a partition that did not complete; 2 an invalid job
//! or arguments.

use super::Failure;
use crate::job::gather::{JobMeta, META_DIR, META_FILE};
use crate::job::sbatch::{perform_copy, plan_copy, script, ArrayJob, SlurmResources};
use anyhow::anyhow;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `brine slurm …`.
#[derive(Debug, clap::Subcommand)]
pub enum SlurmCommand {
    /// Submit a job's partitions as one Slurm array job (one element per partition).
    Submit(SubmitArgs),
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
    /// Let Slurm run at most K partitions at once (--array=0-(N-1)%K).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
    max_parallel: Option<u32>,
    /// One more #SBATCH option for the script, e.g. --sbatch-arg=--partition=gpu. Repeatable.
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true)]
    sbatch_args: Vec<String>,
    /// Print the batch script and submit nothing (nothing is written).
    #[arg(long)]
    dry_run: bool,
}

/// Runs `brine slurm …`.
pub fn run(command: SlurmCommand) -> Result<i32, Failure> {
    match command {
        SlurmCommand::Submit(args) => submit(args),
    }
}

fn submit(args: SubmitArgs) -> Result<i32, Failure> {
    let job_file = std::path::absolute(&args.job)
        .map_err(|e| Failure::usage(anyhow!("{}: {e}", args.job.display())))?;
    let job = crate::spec::load(&job_file).map_err(|errors| Failure::usage(anyhow!("{errors}")))?;
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
        resources: SlurmResources::of(&job).map_err(Failure::usage)?,
        extra: args.sbatch_args.clone(),
    };
    let text = script(&array).map_err(Failure::usage)?;
    if args.dry_run {
        outln!("{}", text.trim_end());
        return Ok(0);
    }
    refuse_used_output(&output)?;
    let failed = |e: anyhow::Error| Failure {
        status: 1,
        error: e,
    };
    perform_copy(&copy).map_err(|e| failed(e.into()))?;
    std::fs::create_dir_all(meta.join("logs")).map_err(|e| {
        failed(anyhow!(
            "cannot create {}: {e}",
            meta.join("logs").display()
        ))
    })?;
    let script_path = meta.join("job.sbatch");
    write_shared(&script_path, text.as_bytes()).map_err(failed)?;
    let meta_json =
        serde_json::to_vec_pretty(&JobMeta { count: job.count }).map_err(|e| failed(e.into()))?;
    write_shared(&meta.join(META_FILE), &meta_json).map_err(failed)?;
    if let Err(e) = sbatch(&script_path, args.wait) {
        // Nothing was submitted: leave DIR as it was (absent or empty), so the same
        // command works once sbatch does.
        let _ = std::fs::remove_dir_all(&meta);
        let _ = std::fs::remove_dir(&output);
        return Err(failed(e));
    }
    if !args.wait {
        return Ok(0);
    }
    super::gather::gather_and_report(&output, false)
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

fn write_shared(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    crate::atomic::write(path, bytes, crate::atomic::Access::Shared)
        .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))
}

/// Submits the script with `sbatch --parsable` (and `--wait`), prints the job
/// id as soon as sbatch says it, and returns it once sbatch is done.
fn sbatch(script: &Path, wait: bool) -> anyhow::Result<String> {
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
        outln!("submitted Slurm job {}", crate::text::printable(&id));
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
