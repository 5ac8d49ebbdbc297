//! `brine slurm submit`: a job's partitions as one Slurm array job. This file
//! holds the pure parts — the batch script's text, the job's resources in
//! sbatch's terms — and the copy of the job file and its local files into
//! `DIR/.brine/job/`, so that every partition reads the same files wherever
//! the submitter's working directory was.
//!
//! Slurm schedules; each array element runs `brine run … --partition
//! $SLURM_ARRAY_TASK_ID` and writes `DIR/<index>/` on its own.

use crate::spec::{Job, Source};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// Memory added to Resources.Memory for brine itself (interpreter, buffers):
/// the job's figure bounds only the guest's memories and tables.
pub const BRINE_MEMORY_MIB: u64 = 64;
/// Time added to ExecutionTimeout for staging the inputs (and passed to
/// `brine run --staging-timeout`, so staging cannot eat the run's time).
pub const STAGING_MARGIN: Duration = Duration::from_secs(10 * 60);
/// Time added to TotalTimeout for brine's own start and commit.
pub const TOTAL_MARGIN: Duration = Duration::from_secs(60);

/// Why the array job could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum SbatchError {
    /// A path or argument that a batch script cannot carry safely.
    #[error("{what} {value}: {why}")]
    Unusable {
        /// What it is (`the results directory`, `--sbatch-arg`).
        what: &'static str,
        /// It, printable.
        value: String,
        /// Why it cannot go in the script.
        why: &'static str,
    },
    /// Resources.CPU is not a number of CPUs.
    #[error("Resources.CPU {0}: expected a number of CPUs (2, 0.5, 500m)")]
    Cpu(String),
    /// A local input the job names cannot be copied.
    #[error("cannot copy {path} into {into}: {source}")]
    Copy {
        /// The job's file or directory.
        path: PathBuf,
        /// Where it was going.
        into: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What sbatch is asked for, from the job's Resources and Timeouts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlurmResources {
    /// `--mem`, in MiB.
    pub mem_mib: Option<u64>,
    /// `--cpus-per-task`.
    pub cpus: Option<u32>,
    /// `--time`, in whole minutes.
    pub time_minutes: Option<u64>,
    /// `--staging-timeout` for `brine run`, when the time limit counted on it.
    pub staging_timeout: Option<Duration>,
}

impl SlurmResources {
    /// The job's resources: Memory (+ brine's own) → `--mem`, CPU → `--cpus-per-task`
    /// (rounded up), TotalTimeout (+ a minute) or ExecutionTimeout (+ staging) → `--time`.
    pub fn of(job: &Job) -> Result<Self, SbatchError> {
        let resources = &job.task.resources;
        let mem_mib = resources
            .memory
            .map(|bytes| bytes.div_ceil(1 << 20).saturating_add(BRINE_MEMORY_MIB));
        let cpus = resources.cpu.as_deref().map(cpus_of).transpose()?;
        let timeouts = &job.task.timeouts;
        let (limit, staging_timeout) = match (timeouts.total, timeouts.execution) {
            (Some(total), _) => (Some(total.saturating_add(TOTAL_MARGIN)), None),
            (None, Some(run)) => (
                Some(run.saturating_add(STAGING_MARGIN)),
                Some(STAGING_MARGIN),
            ),
            (None, None) => (None, None),
        };
        Ok(SlurmResources {
            mem_mib,
            cpus,
            time_minutes: limit.map(|d| d.as_secs().div_ceil(60).max(1)),
            staging_timeout,
        })
    }
}

/// Resources.CPU as whole CPUs, rounded up: `500m` → 1, `1.5` → 2, `4` → 4.
fn cpus_of(text: &str) -> Result<u32, SbatchError> {
    let bad = || SbatchError::Cpu(crate::text::printable(text));
    let trimmed = text.trim();
    let cpus = match trimmed.strip_suffix('m') {
        Some(millis) => millis.parse::<f64>().map_err(|_| bad())? / 1000.0,
        None => trimmed.parse::<f64>().map_err(|_| bad())?,
    };
    if !cpus.is_finite() || cpus <= 0.0 || cpus > 4096.0 {
        return Err(bad());
    }
    Ok(cpus.ceil() as u32)
}

/// Everything the batch script says.
#[derive(Debug, Clone)]
pub struct ArrayJob {
    /// The brine binary, absolute.
    pub brine: PathBuf,
    /// The job file every partition reads (the copy in DIR/.brine/job/), absolute.
    pub job_file: PathBuf,
    /// The results directory DIR, absolute.
    pub output: PathBuf,
    /// The job's name (made safe for `--job-name`).
    pub name: String,
    /// The job's Count.
    pub count: u32,
    /// The job id every partition shares (`j-…`).
    pub job_id: String,
    /// At most this many partitions running at once (`%K`).
    pub max_parallel: Option<u32>,
    /// What sbatch is asked for.
    pub resources: SlurmResources,
    /// More `#SBATCH` options, as given.
    pub extra: Vec<String>,
}

/// The batch script: `#SBATCH` options, then one `brine run` of the array
/// element's partition. Refuses what a script line cannot carry.
pub fn script(job: &ArrayJob) -> Result<String, SbatchError> {
    let output = script_path("the results directory", &job.output, true)?;
    let brine = script_path("the brine binary", &job.brine, false)?;
    let job_file = script_path("the job file", &job.job_file, false)?;
    let mut array = format!("0-{}", job.count.saturating_sub(1));
    if let Some(k) = job.max_parallel {
        array.push_str(&format!("%{k}"));
    }
    let mut options = vec![
        format!("--job-name=brine-{}", job_name(&job.name)),
        format!("--array={array}"),
        format!("--output={output}/.brine/logs/%A_%a.out"),
        format!("--chdir={output}/.brine"),
    ];
    let r = &job.resources;
    options.extend(r.mem_mib.map(|m| format!("--mem={m}M")));
    options.extend(r.cpus.map(|c| format!("--cpus-per-task={c}")));
    options.extend(r.time_minutes.map(|t| format!("--time={t}")));
    for extra in &job.extra {
        options.push(sbatch_arg(extra)?);
    }
    let mut text = format!(
        "#!/bin/sh\n\
         # Written by brine slurm submit: job {name}, Count {count}, one array element per partition.\n\
         # Each element runs partition $SLURM_ARRAY_TASK_ID into {output}/<index>/;\n\
         # `brine gather {output}` accounts for them all.\n",
        name = job_name(&job.name),
        count = job.count,
    );
    for option in options {
        text.push_str(&format!("#SBATCH {option}\n"));
    }
    let staging = r
        .staging_timeout
        .map(|d| format!(" --staging-timeout {}s", d.as_secs()))
        .unwrap_or_default();
    text.push_str(&format!(
        "exec {} run {} --output {} --partition \"$SLURM_ARRAY_TASK_ID\" --job-id {} --quiet{staging}\n",
        shell_quote(&brine),
        shell_quote(&job_file),
        shell_quote(&output),
        shell_quote(&job.job_id),
    ));
    Ok(text)
}

/// A path as script text: UTF-8 and no control characters; `in_options` paths
/// go on `#SBATCH` lines, which take no quoting, so no spaces or quotes either.
fn script_path(what: &'static str, path: &Path, in_options: bool) -> Result<String, SbatchError> {
    let unusable = |why| SbatchError::Unusable {
        what,
        value: crate::text::printable(&path.to_string_lossy()),
        why,
    };
    let text = path
        .to_str()
        .ok_or_else(|| unusable("not UTF-8, which a batch script cannot name"))?;
    if text.chars().any(char::is_control) {
        return Err(unusable("control characters cannot go in a batch script"));
    }
    if in_options
        && text
            .chars()
            .any(|c| c.is_whitespace() || "\"'\\%".contains(c))
    {
        return Err(unusable(
            "#SBATCH lines cannot carry spaces, quotes, backslashes or %; choose a plainer path",
        ));
    }
    Ok(text.to_string())
}

/// An `--sbatch-arg`: an option (starts with `-`) on one line.
fn sbatch_arg(arg: &str) -> Result<String, SbatchError> {
    let unusable = |why| SbatchError::Unusable {
        what: "--sbatch-arg",
        value: crate::text::printable(arg),
        why,
    };
    if !arg.starts_with('-') {
        return Err(unusable(
            "expected an sbatch option such as --partition=NAME",
        ));
    }
    if arg.chars().any(char::is_control) {
        return Err(unusable("control characters cannot go on an #SBATCH line"));
    }
    Ok(arg.to_string())
}

/// The job's name for `--job-name`: letters, digits, `.`, `_` and `-`.
fn job_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() {
        "job".to_string()
    } else {
        safe
    }
}

/// `text` in single quotes for sh.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// What to copy so the job reads the same files from `DIR/.brine/job/`: the
/// job file and every local input it names relative to itself, laid out as
/// they are relative to each other (a relative SourcePath such as
/// `../env.wasm` then finds its copy). Inputs named by absolute path are read
/// where they are (on a file system the nodes share).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobCopy {
    /// Where the copied job file goes.
    pub job_file: PathBuf,
    /// (from, to) pairs: files and directories, copied whole.
    pub copies: Vec<(PathBuf, PathBuf)>,
}

/// Plans the copy of the job (loaded from `job_file`, an absolute path) into `into`.
pub fn plan_copy(job: &Job, job_file: &Path, into: &Path) -> Result<JobCopy, SbatchError> {
    let canonical = |path: &Path| {
        std::fs::canonicalize(path).map_err(|e| SbatchError::Copy {
            path: path.to_path_buf(),
            into: into.to_path_buf(),
            source: e,
        })
    };
    let job_dir = job_file.parent().unwrap_or(Path::new("/"));
    let locals: Vec<PathBuf> = job
        .task
        .inputs
        .iter()
        .filter_map(|input| match &input.source {
            Source::Local { path, .. } if path.starts_with(job_dir) => Some(path.clone()),
            _ => None,
        })
        .collect();
    let job_canonical = canonical(job_file)?;
    let locals = locals
        .iter()
        .map(|p| canonical(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut base = job_canonical
        .parent()
        .unwrap_or(Path::new("/"))
        .to_path_buf();
    for local in &locals {
        base = common_ancestor(&base, local);
    }
    let under = |path: &Path| into.join(path.strip_prefix(&base).unwrap_or(path));
    let copied_job = under(&job_canonical);
    let mut copies = vec![(job_canonical.clone(), copied_job.clone())];
    copies.extend(locals.iter().map(|l| (l.clone(), under(l))));
    copies.sort();
    copies.dedup();
    Ok(JobCopy {
        job_file: copied_job,
        copies,
    })
}

/// The longest path both `a` and `b` start with.
fn common_ancestor(a: &Path, b: &Path) -> PathBuf {
    let mut common = PathBuf::new();
    for (x, y) in a.components().zip(b.components()) {
        if x != y {
            break;
        }
        common.push(x);
    }
    if common.as_os_str().is_empty() {
        common.push(Component::RootDir);
    }
    common
}

/// Copies what [`plan_copy`] planned: regular files and directories only (a
/// link or a special file is refused, naming it).
pub fn perform_copy(copy: &JobCopy) -> Result<(), SbatchError> {
    for (from, to) in &copy.copies {
        copy_tree(from, to).map_err(|source| SbatchError::Copy {
            path: from.clone(),
            into: to.clone(),
            source,
        })?;
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if meta.is_file() {
        std::fs::copy(from, to)?;
        return Ok(());
    }
    if !meta.is_dir() {
        return Err(std::io::Error::other(format!(
            "{} is a link or a special file; brine copies regular files and directories only",
            crate::text::printable(&from.to_string_lossy())
        )));
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        copy_tree(&entry.path(), &to.join(entry.file_name()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn array_job() -> ArrayJob {
        ArrayJob {
            brine: "/opt/brine/bin/brine".into(),
            job_file: "/shared/out/.brine/job/jobs/sim.yaml".into(),
            output: "/shared/out".into(),
            name: "sim job".into(),
            count: 5,
            job_id: "j-0123".into(),
            max_parallel: Some(2),
            resources: SlurmResources {
                mem_mib: Some(128),
                cpus: Some(1),
                time_minutes: Some(11),
                staging_timeout: Some(STAGING_MARGIN),
            },
            extra: vec!["--partition=brine".into()],
        }
    }

    #[test]
    fn the_script_runs_the_array_elements_partition_with_the_jobs_resources() {
        let text = script(&array_job()).unwrap();
        let expected = "#!/bin/sh\n\
# Written by brine slurm submit: job sim_job, Count 5, one array element per partition.\n\
# Each element runs partition $SLURM_ARRAY_TASK_ID into /shared/out/<index>/;\n\
# `brine gather /shared/out` accounts for them all.\n\
#SBATCH --job-name=brine-sim_job\n\
#SBATCH --array=0-4%2\n\
#SBATCH --output=/shared/out/.brine/logs/%A_%a.out\n\
#SBATCH --chdir=/shared/out/.brine\n\
#SBATCH --mem=128M\n\
#SBATCH --cpus-per-task=1\n\
#SBATCH --time=11\n\
#SBATCH --partition=brine\n\
exec '/opt/brine/bin/brine' run '/shared/out/.brine/job/jobs/sim.yaml' --output '/shared/out' \
--partition \"$SLURM_ARRAY_TASK_ID\" --job-id 'j-0123' --quiet --staging-timeout 600s\n";
        assert_eq!(text, expected);
        let mut one = array_job();
        (one.count, one.max_parallel, one.resources) = (1, None, SlurmResources::default());
        let text = script(&one).unwrap();
        assert!(text.contains("#SBATCH --array=0-0\n"), "{text}");
        assert!(
            !text.contains("--mem") && !text.contains("--staging-timeout"),
            "{text}"
        );
    }

    #[test]
    fn what_a_script_cannot_carry_is_refused() {
        let mut spaced = array_job();
        spaced.output = "/shared/my out".into();
        assert!(script(&spaced)
            .unwrap_err()
            .to_string()
            .contains("#SBATCH lines"));
        let mut newline = array_job();
        newline.extra = vec!["--comment=x\nrm -rf /".into()];
        assert!(script(&newline).is_err());
        let mut quoted = array_job();
        quoted.job_file = "/jobs/it's.yaml".into();
        assert!(script(&quoted).unwrap().contains(r"'/jobs/it'\''s.yaml'"));
        let mut not_option = array_job();
        not_option.extra = vec!["echo".into()];
        assert!(script(&not_option).is_err());
    }

    #[test]
    fn cpus_round_up_and_nonsense_is_refused() {
        assert_eq!(cpus_of("500m").unwrap(), 1);
        assert_eq!(cpus_of("1.5").unwrap(), 2);
        assert_eq!(cpus_of("4").unwrap(), 4);
        for bad in ["", "-1", "0", "lots", "NaN", "1e9"] {
            assert!(cpus_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resources_and_timeouts_map_to_sbatch_with_margins() {
        let text = "Name: r\nType: batch\nCount: 2\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /wasm/m.wasm\n    InputSources:\n      - Source:\n          Type: localDirectory\n          Params:\n            SourcePath: m.wasm\n        Target: /wasm/m.wasm\n    Resources:\n      CPU: 500m\n      Memory: 100MiB\n    Timeouts:\n      ExecutionTimeout: 90\n";
        let job = crate::spec::parse(text, Path::new("/j/r.yaml")).unwrap();
        let r = SlurmResources::of(&job).unwrap();
        assert_eq!(r.mem_mib, Some(100 + BRINE_MEMORY_MIB));
        assert_eq!(r.cpus, Some(1));
        assert_eq!(
            r.time_minutes,
            Some(12),
            "90 s + 10 min of staging, rounded up"
        );
        assert_eq!(r.staging_timeout, Some(STAGING_MARGIN));
    }

    #[test]
    fn the_copy_keeps_relative_paths_between_the_job_and_its_files() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join("src/jobs")).unwrap();
        std::fs::write(root.join("src/m.wasm"), "m").unwrap();
        let job_file = root.join("src/jobs/j.yaml");
        let text = "Name: j\nType: batch\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /wasm/m.wasm\n    InputSources:\n      - Source:\n          Type: localDirectory\n          Params:\n            SourcePath: ../m.wasm\n        Target: /wasm/m.wasm\n";
        std::fs::write(&job_file, text).unwrap();
        let job = crate::spec::load(&job_file).unwrap();
        let into = root.join("out/.brine/job");
        let copy = plan_copy(&job, &job_file, &into).unwrap();
        assert_eq!(copy.job_file, into.join("jobs/j.yaml"));
        perform_copy(&copy).unwrap();
        let copied = crate::spec::load(&copy.job_file).unwrap();
        assert_eq!(crate::job::job_hash(&copied), crate::job::job_hash(&job));
        assert_eq!(std::fs::read_to_string(into.join("m.wasm")).unwrap(), "m");
    }
}
