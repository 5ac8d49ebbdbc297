//! `brine replay`: run a recorded run again, serving the journal's answers.

use super::run::run_partitions;
use super::wasm_run::{execute, report_outcome, Invocation};
use super::Failure;
use crate::engine::Limits;
use crate::host::real::RealHost;
use crate::host::replaying::{Divergence, ReplayingHost};
use crate::host::Host;
use crate::plan::{plan, PlanOptions};
use crate::replay::hash::{file_hash, hex};
use crate::replay::job_hash;
use crate::replay::journal::{self, Entry};
use crate::results::summary::Status;
use crate::results::Staging;
use crate::runner::{Journaling, RunOptions};
use anyhow::anyhow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arguments of `brine replay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The journal written by `--record`.
    journal: PathBuf,
    /// For a recorded job: the results directory of the replay.
    #[arg(long, short, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Replace an existing, non-empty results directory.
    #[arg(long)]
    force: bool,
}

/// Replays and returns the guest's exit status (1 with a message on divergence).
pub fn run(args: Args) -> Result<i32, Failure> {
    let (header, entries) = journal::read(&args.journal).map_err(|e| Failure::usage(anyhow!(e)))?;
    match header.invocation {
        journal::Invocation::WasmRun {
            module,
            module_hash,
            argv,
            env,
            dirs,
            imports,
            invoke,
            call_args,
        } => {
            let actual = file_hash(&module)
                .map_err(|e| Failure::usage(anyhow!("cannot read {}: {e}", module.display())))?;
            if hex(&actual) != module_hash {
                return Err(Failure::usage(anyhow!(
                    "{} is not the module that was recorded (its hash changed)",
                    module.display()
                )));
            }
            let invocation = Invocation {
                module,
                argv,
                env,
                dirs,
                imports: imports
                    .into_iter()
                    .map(|(n, p)| (n, PathBuf::from(p)))
                    .collect(),
                invoke,
                call_args,
            };
            replay_module(&invocation, entries)
        }
        journal::Invocation::Job {
            job_file,
            job_hash,
            argv,
            env,
        } => {
            let output = args.output.clone().ok_or_else(|| {
                Failure::usage(anyhow!(
                    "{} records a job: give the replay's results directory with --output DIR",
                    args.journal.display()
                ))
            })?;
            let recorded = RecordedJob {
                job_file,
                job_hash,
                argv,
                env,
            };
            replay_job(&recorded, entries, &output, args.force)
        }
    }
}

/// What a journal says about the job it recorded.
struct RecordedJob {
    job_file: PathBuf,
    job_hash: String,
    argv: Vec<String>,
    env: Vec<(String, String)>,
}

fn replay_job(
    recorded: &RecordedJob,
    entries: Vec<Entry>,
    output: &Path,
    force: bool,
) -> Result<i32, Failure> {
    let job = crate::spec::load(&recorded.job_file)
        .map_err(|errors| Failure::usage(anyhow!("{errors}")))?;
    if job_hash(&job) != recorded.job_hash {
        return Err(Failure::usage(anyhow!(
            "{} is not the job that was recorded (its hash changed)",
            recorded.job_file.display()
        )));
    }
    let options = PlanOptions {
        replaying: true,
        ..PlanOptions::default()
    };
    let mut executions = plan(&job, &options).map_err(Failure::usage)?;
    executions.truncate(1);
    for exec in &mut executions {
        // The recorded run's ids and variables, so the guest sees the same environment.
        exec.argv = recorded.argv.clone();
        exec.env = recorded.env.clone();
        exec.deterministic = None;
    }
    let divergence = Divergence::default();
    let opts = RunOptions {
        journal: Journaling::Replay(Arc::new(entries), divergence.clone()),
        ..RunOptions::default()
    };
    let staging = Staging::prepare(output, force).map_err(Failure::usage)?;
    let failure = |e: anyhow::Error| Failure {
        status: 1,
        error: e,
    };
    let summaries = run_partitions(&executions, &staging, &opts, 1).map_err(failure)?;
    let published = staging.publish().map_err(|e| failure(e.into()))?;
    if let Some(message) = divergence.lock().ok().and_then(|d| d.clone()) {
        eoutln!("error: the replay diverged from the journal at {message}");
        return Ok(1);
    }
    let failed = summaries.iter().any(|s| s.status == Status::Failed);
    for s in &summaries {
        let code = s
            .exit_code
            .map_or_else(|| "none".to_string(), |c| c.to_string());
        outln!("job {}: replayed, {:?}, exit code {code}", s.job, s.status);
    }
    outln!("results: {}", published.display());
    Ok(i32::from(failed))
}

fn replay_module(invocation: &Invocation, entries: Vec<Entry>) -> Result<i32, Failure> {
    let divergence = Divergence::default();
    let served = divergence.clone();
    let wrap = move |real: RealHost| -> Box<dyn Host + Send> {
        Box::new(ReplayingHost::new(Box::new(real), entries, served))
    };
    // The journal serves every HTTP answer, so the module is defined whatever the
    // recorded run's network was (a run without it that imported it never started).
    let report = execute(invocation, Limits::default(), true, wrap)?;
    let status = report_outcome(invocation, report);
    let diverged = divergence.lock().ok().and_then(|d| d.clone());
    match diverged {
        Some(message) => {
            eoutln!("error: the replay diverged from the journal at {message}");
            Ok(1)
        }
        None => Ok(status),
    }
}
