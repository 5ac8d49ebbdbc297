//! `brine replay`: run a recorded run again, serving the journal's answers.

use super::wasm_run::{report_outcome, split_dir, split_import};
use super::Failure;
use crate::api::wasm::{execute, Invocation, ModuleReport};
use crate::engine::Limits;
use crate::host::journal::{self, Entry};
use crate::host::real::{RealHost, Stdio};
use crate::host::replaying::Divergence;
use crate::host::stack::{self, Journaling};
use crate::job::execution::RunOptions;
use crate::job::job_hash;
use crate::job::partitions::run_partitions;
use crate::job::plan::{plan, PlanOptions};
use crate::job::reach::{protected_paths, refuse_paths_in_guest_reach};
use crate::outputs::hash::{file_hash, hex};
use crate::outputs::summary::Status;
use crate::outputs::Staging;
use anyhow::anyhow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arguments of `brine replay`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "A journal is untrusted input: brine takes from it only what the guest saw \
(argv, environment, the host's answers). The module or job file, every --dir and every --import \
come from this command line; the file's hash must match the journal's, and a replay that lacks a \
directory or import the recorded run had is refused, naming it."
)]
pub struct Args {
    /// The journal written by `--record` (untrusted: it never chooses a host path).
    journal: PathBuf,
    /// The recorded module (journal of `brine wasm run`) or job file (of `brine run`).
    #[arg(value_name = "MODULE|JOB")]
    target: Option<PathBuf>,
    /// For a recorded module: give the guest a host directory at GUEST, as the recorded run
    /// did (same GUEST paths, in any order). Repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// For a recorded module: the import module NAME from PATH, as the recorded run had. Repeatable.
    #[arg(long = "import", visible_alias = "preload", value_name = "NAME=PATH")]
    imports: Vec<String>,
    /// For a recorded job: the results directory of the replay.
    #[arg(long, short, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Replace an existing, non-empty results directory.
    #[arg(long)]
    force: bool,
    /// Print the result as JSON: a recorded job's brine.json on stdout (as
    /// `brine run --json`), a recorded module's report on stderr (as `brine wasm run --json`).
    #[arg(long)]
    pub(super) json: bool,
}

/// Replays and returns the guest's exit status (1 with a message on divergence).
pub fn run(args: Args) -> Result<i32, Failure> {
    let (header, entries) = journal::read(&args.journal).map_err(Failure::usage)?;
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
            let recorded = RecordedModule {
                module,
                module_hash,
                dirs,
                imports,
            };
            let invocation = Invocation {
                module: recorded.module_given(&args)?,
                argv,
                env,
                dirs: recorded.dirs_given(&args.dirs).map_err(Failure::usage)?,
                imports: recorded
                    .imports_given(&args.imports)
                    .map_err(Failure::usage)?,
                invoke,
                call_args,
            };
            replay_module(&invocation, entries, args.json)
        }
        journal::Invocation::Job {
            job_file,
            job_hash,
            argv,
            env,
        } => {
            let recorded = RecordedJob {
                job_file,
                job_hash,
                argv,
                env,
            };
            let (job_file, output) = recorded.paths_given(&args)?;
            let target = ReplayTarget {
                job_file: &job_file,
                output: &output,
                force: args.force,
                json: args.json,
            };
            replay_job(&recorded, &target, entries)
        }
    }
}

fn usage(message: impl std::fmt::Display) -> Failure {
    Failure::usage(anyhow!("{message}"))
}

/// A journal's text as it may be printed: control characters escaped.
fn shown(text: &str) -> String {
    text.escape_debug().to_string()
}

/// What a journal says about the module run it recorded. Its paths are only
/// shown as hints: the replay uses the command line's.
struct RecordedModule {
    module: PathBuf,
    module_hash: String,
    dirs: Vec<(String, String)>,
    imports: Vec<(String, String)>,
}

impl RecordedModule {
    /// The module from the command line, if it is the one that was recorded.
    fn module_given(&self, args: &Args) -> Result<PathBuf, Failure> {
        if args.output.is_some() {
            return Err(usage(
                "--output is for a recorded job; a recorded module writes where its --dir \
                 directories are",
            ));
        }
        let Some(module) = args.target.clone() else {
            return Err(usage(format!(
                "{} records a run of `{}`: give the module (brine replay {} MODULE, with the \
                 recorded run's --dir and --import); a journal is not trusted to choose host files",
                args.journal.display(),
                shown(&self.module.display().to_string()),
                args.journal.display()
            )));
        };
        let actual = file_hash(&module)
            .map_err(|e| usage(format!("cannot read {}: {e}", module.display())))?;
        if hex(&actual) != self.module_hash {
            return Err(usage(format!(
                "{} is not the module that was recorded (its hash differs from the journal's)",
                module.display()
            )));
        }
        Ok(module)
    }

    /// The recorded run's directories, in its order (which fixes the guest's
    /// descriptor numbers), each mapped to the host directory the command line gives.
    fn dirs_given(&self, specs: &[String]) -> anyhow::Result<Vec<(String, String)>> {
        let given: Vec<(String, String)> = specs.iter().map(|d| split_dir(d)).collect();
        let recorded: Vec<&str> = self.dirs.iter().map(|(_, guest)| guest.as_str()).collect();
        let hosts = match_by_key(&given, &recorded, "--dir HOST::GUEST", "directory")?;
        Ok(recorded
            .iter()
            .zip(hosts)
            .map(|(guest, host)| (host, guest.to_string()))
            .collect())
    }

    /// The recorded run's imports, in its order, each from the command line's file.
    fn imports_given(&self, specs: &[String]) -> anyhow::Result<Vec<(String, PathBuf)>> {
        let given: Vec<(String, String)> = specs
            .iter()
            .map(|i| split_import(i).map(|(name, path)| (name, path.display().to_string())))
            .collect::<anyhow::Result<_>>()?;
        let recorded: Vec<&str> = self.imports.iter().map(|(name, _)| name.as_str()).collect();
        let paths = match_by_key(&given, &recorded, "--import NAME=PATH", "import module")?;
        Ok(recorded
            .iter()
            .zip(paths)
            .map(|(name, path)| (name.to_string(), PathBuf::from(path)))
            .collect())
    }
}

/// For each recorded key, the value the command line gives it (`given` holds
/// (value, key) pairs, as `HOST::GUEST` does). Every recorded key must be given
/// once, and nothing else: another directory or import would change what the guest sees.
fn match_by_key(
    given: &[(String, String)],
    recorded: &[&str],
    flag: &str,
    what: &str,
) -> anyhow::Result<Vec<String>> {
    let option = flag.split(' ').next().unwrap_or(flag);
    for (i, (_, key)) in given.iter().enumerate() {
        if !recorded.contains(&key.as_str()) {
            return Err(anyhow!(
                "{option}: the recorded run had no {what} `{}` (it had: {})",
                shown(key),
                listing(recorded)
            ));
        }
        if given[..i].iter().any(|(_, k)| k == key) {
            return Err(anyhow!("{option}: {what} `{}` is given twice", shown(key)));
        }
    }
    let missing: Vec<&str> = recorded
        .iter()
        .copied()
        .filter(|key| !given.iter().any(|(_, k)| k == key))
        .collect();
    if !missing.is_empty() {
        return Err(anyhow!(
            "the recorded run had {what} {} that this replay does not give: give each with \
             {flag} (a journal is not trusted to choose host paths)",
            listing(&missing)
        ));
    }
    Ok(recorded
        .iter()
        .filter_map(|key| given.iter().find(|(_, k)| k == key))
        .map(|(value, _)| value.clone())
        .collect())
}

/// `a`, `b` (escaped, as they come from the journal), or "none".
fn listing(keys: &[&str]) -> String {
    if keys.is_empty() {
        return "none".to_string();
    }
    keys.iter()
        .map(|k| format!("`{}`", shown(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a journal says about the job it recorded (its job file is only shown as a hint).
struct RecordedJob {
    job_file: PathBuf,
    job_hash: String,
    argv: Vec<String>,
    env: Vec<(String, String)>,
}

impl RecordedJob {
    /// The job file and results directory from the command line.
    fn paths_given(&self, args: &Args) -> Result<(PathBuf, PathBuf), Failure> {
        if !args.dirs.is_empty() || !args.imports.is_empty() {
            return Err(usage(
                "--dir and --import are for a recorded module; a job's mounts and modules \
                 come from its job file",
            ));
        }
        let Some(job_file) = args.target.clone() else {
            return Err(usage(format!(
                "{} records the job `{}`: give its job file (brine replay {} JOB --output DIR); \
                 a journal is not trusted to choose host files",
                args.journal.display(),
                shown(&self.job_file.display().to_string()),
                args.journal.display()
            )));
        };
        let output = args.output.clone().ok_or_else(|| {
            usage(format!(
                "{} records a job: give the replay's results directory with --output DIR",
                args.journal.display()
            ))
        })?;
        Ok((job_file, output))
    }
}

/// Where a recorded job is replayed from and to, and how it is reported.
struct ReplayTarget<'a> {
    job_file: &'a Path,
    output: &'a Path,
    force: bool,
    json: bool,
}

fn replay_job(
    recorded: &RecordedJob,
    target: &ReplayTarget<'_>,
    entries: Vec<Entry>,
) -> Result<i32, Failure> {
    let ReplayTarget {
        job_file,
        output,
        force,
        json,
    } = *target;
    let job = crate::spec::load(job_file).map_err(Failure::usage)?;
    if job_hash(&job) != recorded.job_hash {
        return Err(Failure::usage(anyhow!(
            "{} is not the job that was recorded (its hash differs from the journal's)",
            job_file.display()
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
    let protected = protected_paths(job_file, &executions);
    refuse_paths_in_guest_reach(&protected, &executions, &[]).map_err(Failure::usage)?;
    let staging = Staging::prepare_guarded(output, force, &protected).map_err(Failure::usage)?;
    let failure = |e: anyhow::Error| Failure {
        status: 1,
        error: e,
    };
    let summaries =
        run_partitions(&executions, &staging, &opts, 1).map_err(|e| failure(e.into()))?;
    let published = staging.commit().map_err(|e| failure(e.into()))?;
    if let Some(message) = divergence.lock().ok().and_then(|d| d.clone()) {
        eoutln!("error: the replay diverged from the journal at {message}");
        return Ok(1);
    }
    let failed = summaries.iter().any(|s| s.status == Status::Failed);
    if json {
        if let Ok(text) = serde_json::to_string_pretty(&summaries) {
            outln!("{text}");
        }
        return Ok(i32::from(failed));
    }
    for s in &summaries {
        let code = s
            .exit_code
            .map_or_else(|| "none".to_string(), |c| c.to_string());
        outln!("job {}: replayed, {:?}, exit code {code}", s.job, s.status);
    }
    outln!("results: {}", published.display());
    Ok(i32::from(failed))
}

fn replay_module(invocation: &Invocation, entries: Vec<Entry>, json: bool) -> Result<i32, Failure> {
    let divergence = Divergence::default();
    let served = divergence.clone();
    let journal = Journaling::Replay(Arc::new(entries), served);
    let wrap = move |real: RealHost| stack::assemble(real, None, journal);
    // The journal serves every HTTP answer, so the module is defined whatever the
    // recorded run's network was (a run without it that imported it never started).
    let report = execute(invocation, Limits::default(), true, Stdio::inherit(), wrap)?;
    let status = report_outcome(invocation, &ModuleReport::of(report), json);
    let diverged = divergence.lock().ok().and_then(|d| d.clone());
    match diverged {
        Some(message) => {
            eoutln!("error: the replay diverged from the journal at {message}");
            Ok(1)
        }
        None => Ok(status),
    }
}
