//! `brine run`: run a Bacalhau job and write its results directory.
//!
//! Exit status: 0 when every partition completed (whatever the guest's exit
//! code, which is in `exitCode`), 1 when one failed, 2 when the job is invalid
//! or cannot be planned (then nothing is fetched or run and DIR is not created).

use super::Failure;
use crate::plan::{plan, PlanOptions};
use crate::results::summary::Status;
use crate::results::{Staging, Summary};
use crate::runner::{execute, Execution, RunOptions};
use crate::units::parse_size;
use anyhow::anyhow;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
    json: bool,
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
}

/// Runs the job and returns the exit status.
pub fn run(args: Args) -> Result<i32, Failure> {
    let job = crate::spec::load(&args.job).map_err(|errors| Failure::usage(anyhow!("{errors}")))?;
    let options = plan_options(&args)?;
    let executions = plan(&job, &options).map_err(Failure::usage)?;
    let staging = Staging::prepare(&args.output, args.force).map_err(Failure::usage)?;
    let opts = RunOptions {
        max_output: args.max_output,
        bacalhau_exit_codes: args.bacalhau_exit_codes,
    };
    let summaries =
        run_partitions(&executions, &staging, &opts, parallelism(&args)).map_err(Failure::usage)?;
    let published = staging.publish().map_err(|e| Failure {
        status: 1,
        error: e.into(),
    })?;
    report(&args, &published, &summaries);
    let failed = summaries.iter().any(|s| s.status == Status::Failed);
    Ok(i32::from(failed))
}

fn plan_options(args: &Args) -> Result<PlanOptions, Failure> {
    let allow_env = args
        .allow_env
        .iter()
        .map(|pattern| {
            regex::Regex::new(pattern).map_err(|e| {
                Failure::usage(anyhow!("--allow-env {pattern}: not a valid regex: {e}"))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(PlanOptions { allow_env })
}

fn parallelism(args: &Args) -> usize {
    args.parallel
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
        .max(1)
}

/// Runs every partition, at most `parallel` at a time; one results directory each
/// (`DIR/<index>/` when there are several).
fn run_partitions(
    executions: &[Execution],
    staging: &Staging,
    opts: &RunOptions,
    parallel: usize,
) -> anyhow::Result<Vec<Summary>> {
    let many = executions.len() > 1;
    let mut dirs = Vec::new();
    for exec in executions {
        let index = exec.partition_index.to_string();
        let results = if many {
            staging.results().join(&index)
        } else {
            staging.results()
        };
        let work = staging.work().join(&index);
        std::fs::create_dir_all(&results)?;
        std::fs::create_dir_all(&work)?;
        dirs.push((results, work));
    }
    let next = Mutex::new(0usize);
    let done: Mutex<Vec<Option<Summary>>> = Mutex::new(vec![None; executions.len()]);
    std::thread::scope(|scope| {
        for _ in 0..parallel.min(executions.len()) {
            scope.spawn(|| loop {
                let index = {
                    let Ok(mut next) = next.lock() else { return };
                    let index = *next;
                    *next += 1;
                    index
                };
                let (Some(exec), Some((results, work))) = (executions.get(index), dirs.get(index))
                else {
                    return;
                };
                let summary = execute(exec, results, work, opts);
                if let Ok(mut done) = done.lock() {
                    done[index] = Some(summary);
                }
            });
        }
    });
    let done = done
        .into_inner()
        .map_err(|_| anyhow!("a partition's thread panicked"))?;
    done.into_iter()
        .map(|s| s.ok_or_else(|| anyhow!("a partition did not report")))
        .collect()
}

fn report(args: &Args, dir: &Path, summaries: &[Summary]) {
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
            (Status::Failed, Some(error)) => outln!("job {}{partition}: failed: {error}", s.job),
            (Status::Failed, None) => outln!("job {}{partition}: failed", s.job),
        }
        if let Some(p) = &s.published {
            let files = p.objects.len();
            outln!("published ({}): {} ({files} files)", p.kind, p.location);
        }
    }
    outln!("results: {}", dir.display());
    print_tree(dir, 1);
}

/// Lists the results directory, two levels deep, so a user sees what was written.
fn print_tree(dir: &Path, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    names.sort();
    for path in names {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let indent = "  ".repeat(depth);
        if path.is_dir() {
            outln!("{indent}{name}/");
            if depth < 3 {
                print_tree(&path, depth + 1);
            }
        } else {
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            outln!("{indent}{name} ({size} bytes)");
        }
    }
}
