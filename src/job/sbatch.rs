//! `brine slurm submit`: a job's partitions as one Slurm array job. This file
//! holds the pure parts — the batch script's text, the job's resources in
//! sbatch's terms — and the copy of the job file and its local files into
//! `DIR/.brine/job/`, so that every partition reads the same files wherever
//! the submitter's working directory was.
//!
//! Slurm schedules; each array element runs `brine run … --partition
//! $SLURM_ARRAY_TASK_ID` and writes `DIR/<index>/` on its own.

use crate::job::replicas::{RECEIPTS_DIR, REPLICAS_DIR};
use crate::spec::{Job, Source};
use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsSyncExt};
use cap_std::fs::Dir;
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// The file, in DIR/.brine/, holding the job id: each array element checks it
/// sees this job's copy before running, so a DIR that is not shared with the
/// node (or another job's DIR at the same path) fails the element saying so.
pub const SHARED_MARKER: &str = "shared";

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
    /// At most this many array elements running at once (`%K`).
    pub max_parallel: Option<u32>,
    /// How many times each partition runs (1: once; see `job::replicas`).
    pub replicas: u32,
    /// What sbatch is asked for.
    pub resources: SlurmResources,
    /// More `#SBATCH` options, as given.
    pub extra: Vec<String>,
    /// `--allow-env` patterns each element passes on (for `env:NAME` values,
    /// read from the node's environment at run time).
    pub allow_env: Vec<String>,
}

/// The batch script: `#SBATCH` options, then one `brine run` of the array
/// element's partition (and replica, see `job::replicas`). Refuses what a
/// script line cannot carry.
pub fn script(job: &ArrayJob) -> Result<String, SbatchError> {
    let output = script_path("the results directory", &job.output, true)?;
    let brine = script_path("the brine binary", &job.brine, false)?;
    let job_file = script_path("the job file", &job.job_file, false)?;
    let elements = u64::from(job.count) * u64::from(job.replicas.max(1));
    let mut array = format!("0-{}", elements.saturating_sub(1));
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
    let mut text = header(job, &output);
    for option in options {
        text.push_str(&format!("#SBATCH {option}\n"));
    }
    // A node that does not see DIR (not shared, or another job's at that path) stops here.
    let marker = shell_quote(&format!("{output}/.brine/{SHARED_MARKER}"));
    text.push_str(&format!(
        "if [ \"$(cat {marker} 2>/dev/null)\" != {id} ]; then\n  \
         printf 'brine: %s is missing or names another job on %s: the results directory must be on a file system every node shares (README, Running on a cluster)\\n' {marker} \"$(hostname)\" >&2\n  \
         exit 1\nfi\n",
        id = shell_quote(&job.job_id),
    ));
    text.push_str(&run_line(job, &brine, &job_file, &output));
    Ok(text)
}

/// The script's opening comment: what each element runs, and where.
fn header(job: &ArrayJob, output: &str) -> String {
    let name = job_name(&job.name);
    let count = job.count;
    if job.replicas > 1 {
        return format!(
            "#!/bin/sh\n\
             # Written by brine slurm submit: job {name}, Count {count}, {r} replicas of each partition.\n\
             # Element e runs partition e / {r}, replica e % {r}: replica 0 into {output}/<index>/,\n\
             # replica k into {output}/{REPLICAS_DIR}/<k>/<index>/, its receipt {output}/{RECEIPTS_DIR}/<index>.r<k>.json;\n\
             # `brine gather {output}` accounts for them all and compares the replicas.\n",
            r = job.replicas,
        );
    }
    format!(
        "#!/bin/sh\n\
         # Written by brine slurm submit: job {name}, Count {count}, one array element per partition.\n\
         # Each element runs partition $SLURM_ARRAY_TASK_ID into {output}/<index>/;\n\
         # `brine gather {output}` accounts for them all.\n",
    )
}

/// The `exec brine run` line: the element's partition (with replicas, its
/// partition and replica, each replica into its own output with a receipt).
fn run_line(job: &ArrayJob, brine: &str, job_file: &str, output: &str) -> String {
    let mut staging = job
        .resources
        .staging_timeout
        .map(|d| format!(" --staging-timeout {}s", d.as_secs()))
        .unwrap_or_default();
    for pattern in &job.allow_env {
        staging.push_str(&format!(" --allow-env {}", shell_quote(pattern)));
    }
    let (brine, job_file, id) = (
        shell_quote(brine),
        shell_quote(job_file),
        shell_quote(&job.job_id),
    );
    if job.replicas <= 1 {
        return format!(
            "exec {brine} run {job_file} --output {} --partition \"$SLURM_ARRAY_TASK_ID\" --job-id {id} --quiet{staging}\n",
            shell_quote(output),
        );
    }
    let r = job.replicas;
    format!(
        "partition=$((SLURM_ARRAY_TASK_ID / {r}))\n\
         replica=$((SLURM_ARRAY_TASK_ID % {r}))\n\
         output={out}\n\
         if [ \"$replica\" != 0 ]; then output={replicas}\"$replica\"; fi\n\
         exec {brine} run {job_file} --output \"$output\" --partition \"$partition\" --job-id {id} --quiet{staging} \
         --receipt {receipts}\"$partition.r$replica.json\"\n",
        out = shell_quote(output),
        replicas = shell_quote(&format!("{output}/{REPLICAS_DIR}/")),
        receipts = shell_quote(&format!("{output}/{RECEIPTS_DIR}/")),
    )
}

/// An `--array` value naming exactly `indices` (sorted, deduplicated), runs of
/// consecutive ones as ranges (`1,3-5,9`), with `%K` when `max_parallel` is given.
pub fn array_spec(indices: &[u64], max_parallel: Option<u32>) -> String {
    let mut sorted = indices.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut run: Option<(u64, u64)> = None;
    for index in sorted {
        run = match run {
            Some((first, last)) if last.checked_add(1) == Some(index) => Some((first, index)),
            Some(done) => {
                parts.push(range_text(done));
                Some((index, index))
            }
            None => Some((index, index)),
        };
    }
    parts.extend(run.map(range_text));
    let mut spec = parts.join(",");
    if let Some(k) = max_parallel {
        spec.push_str(&format!("%{k}"));
    }
    spec
}

fn range_text((first, last): (u64, u64)) -> String {
    if first == last {
        first.to_string()
    } else {
        format!("{first}-{last}")
    }
}

/// The value of the script's `#SBATCH --array=` line (`0-4%2`), when it has one.
pub fn array_of(text: &str) -> Option<&str> {
    text.lines()
        .find_map(|l| l.strip_prefix("#SBATCH --array="))
        .map(str::trim_end)
}

/// The batch script `text` (as `slurm submit` wrote it) running only
/// `indices`: its one `#SBATCH --array=` line replaced, a `%K` limit kept.
pub fn retry_script(text: &str, indices: &[u64]) -> Result<String, SbatchError> {
    const ARRAY: &str = "#SBATCH --array=";
    let unusable = |why| SbatchError::Unusable {
        what: "the batch script",
        value: "DIR/.brine/job.sbatch".to_string(),
        why,
    };
    if text.lines().filter(|l| l.starts_with(ARRAY)).count() != 1 {
        return Err(unusable(
            "does not have exactly one #SBATCH --array= line; submit the job again into a new DIR",
        ));
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match line.strip_prefix(ARRAY) {
            Some(old) => {
                let limit = old
                    .trim_end()
                    .split_once('%')
                    .and_then(|(_, k)| k.parse().ok());
                out.push_str(&format!("{ARRAY}{}\n", array_spec(indices, limit)));
            }
            None => out.push_str(line),
        }
    }
    Ok(out)
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
    // A file inside a copied directory is copied with it (sorted: parents first).
    let mut kept: Vec<(PathBuf, PathBuf)> = Vec::new();
    for (from, to) in copies {
        if !kept.iter().any(|(dir, _)| from.starts_with(dir)) {
            kept.push((from, to));
        }
    }
    let into_real = resolved(into);
    if let Some((from, _)) = kept.iter().find(|(from, _)| into_real.starts_with(from)) {
        return Err(SbatchError::Copy {
            path: from.clone(),
            into: into.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the results directory is inside this input, which would copy itself forever; put DIR elsewhere",
            ),
        });
    }
    Ok(JobCopy {
        job_file: copied_job,
        copies: kept,
    })
}

/// `path` with its longest existing ancestor canonicalized (the rest may not exist yet).
fn resolved(path: &Path) -> PathBuf {
    for ancestor in path.ancestors() {
        if let Ok(real) = std::fs::canonicalize(ancestor) {
            let rest = path.strip_prefix(ancestor).unwrap_or(Path::new(""));
            return real.join(rest);
        }
    }
    path.to_path_buf()
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

/// Copies `from` (a canonical path, as [`plan_copy`] made it) to `to`, a path
/// of brine's own in DIR/.brine/job/. Every source entry is opened once, not
/// through a link and without blocking, and what that handle is decides what is
/// copied: a file or a link put in place of an entry after it was planned or
/// listed is refused, never followed.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let (from_parent, from_name) = split(from)?;
    let (to_parent, to_name) = split(to)?;
    let source = Dir::open_ambient_dir(from_parent, cap_std::ambient_authority())?;
    std::fs::create_dir_all(to_parent)?;
    let dest = Dir::open_ambient_dir(to_parent, cap_std::ambient_authority())?;
    copy_entry(&source, from_name, &dest, to_name, from)
}

/// A path's parent directory and last component.
fn split(path: &Path) -> std::io::Result<(&Path, &OsStr)> {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => Ok((parent, name)),
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} names no file or directory to copy",
                crate::text::printable(&path.to_string_lossy())
            ),
        )),
    }
}

/// What a no-follow open found.
enum Opened {
    File(std::fs::File),
    Dir(Dir),
}

/// Opens `name` in `dir` without following a link or blocking on a FIFO, and
/// says what the handle is; anything but a regular file or a directory is refused.
fn open_entry(dir: &Dir, name: &OsStr, shown: &Path) -> std::io::Result<Opened> {
    let refused = |what: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} is {what}; brine copies regular files and directories only",
                crate::text::printable(&shown.to_string_lossy())
            ),
        )
    };
    let mut options = cap_std::fs::OpenOptions::new();
    options.read(true).follow(FollowSymlinks::No).nonblock(true);
    let file = match dir.open_with(name, &options) {
        Ok(file) => file,
        // O_NOFOLLOW on a link answers ELOOP (Linux) or EMLINK (BSDs).
        Err(e) if is_link_error(&e) => return Err(refused("a symbolic link")),
        Err(e) => return Err(e),
    };
    let kind = file.metadata()?.file_type();
    if kind.is_dir() {
        Ok(Opened::Dir(Dir::from_std_file(file.into_std())))
    } else if kind.is_file() {
        Ok(Opened::File(file.into_std()))
    } else {
        Err(refused("a special file (FIFO, socket or device)"))
    }
}

fn is_link_error(e: &std::io::Error) -> bool {
    let code = e.raw_os_error();
    code == Some(rustix::io::Errno::LOOP.raw_os_error())
        || code == Some(rustix::io::Errno::MLINK.raw_os_error())
}

/// Copies entry `name` of `source` to the new entry `to_name` of `dest`;
/// `shown` names the source in messages.
fn copy_entry(
    source: &Dir,
    name: &OsStr,
    dest: &Dir,
    to_name: &OsStr,
    shown: &Path,
) -> std::io::Result<()> {
    match open_entry(source, name, shown)? {
        Opened::File(mut file) => {
            let mut options = cap_std::fs::OpenOptions::new();
            options
                .write(true)
                .create_new(true)
                .follow(FollowSymlinks::No);
            let mut copy = dest.open_with(to_name, &options)?.into_std();
            std::io::copy(&mut file, &mut copy)?;
            Ok(())
        }
        Opened::Dir(dir) => {
            dest.create_dir(to_name)?;
            let into = dest.open_dir_nofollow(to_name)?;
            for entry in dir.entries()? {
                let child = entry?.file_name();
                copy_entry(&dir, &child, &into, &child, &shown.join(&child))?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn array_job() -> ArrayJob {
        ArrayJob {
            allow_env: Vec::new(),
            brine: "/opt/brine/bin/brine".into(),
            job_file: "/shared/out/.brine/job/jobs/sim.yaml".into(),
            output: "/shared/out".into(),
            name: "sim job".into(),
            count: 5,
            job_id: "j-0123".into(),
            max_parallel: Some(2),
            replicas: 1,
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
if [ \"$(cat '/shared/out/.brine/shared' 2>/dev/null)\" != 'j-0123' ]; then\n  \
printf 'brine: %s is missing or names another job on %s: the results directory must be on a file system every node shares (README, Running on a cluster)\\n' '/shared/out/.brine/shared' \"$(hostname)\" >&2\n  \
exit 1\nfi\n\
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
    fn with_replicas_each_element_runs_one_replica_of_one_partition_with_a_receipt() {
        let mut replicated = array_job();
        (replicated.replicas, replicated.max_parallel) = (3, None);
        let text = script(&replicated).unwrap();
        assert!(text.contains("#SBATCH --array=0-14\n"), "{text}");
        let run = "partition=$((SLURM_ARRAY_TASK_ID / 3))\n\
replica=$((SLURM_ARRAY_TASK_ID % 3))\n\
output='/shared/out'\n\
if [ \"$replica\" != 0 ]; then output='/shared/out/replicas/'\"$replica\"; fi\n\
exec '/opt/brine/bin/brine' run '/shared/out/.brine/job/jobs/sim.yaml' --output \"$output\" \
--partition \"$partition\" --job-id 'j-0123' --quiet --staging-timeout 600s \
--receipt '/shared/out/receipts/'\"$partition.r$replica.json\"\n";
        assert!(text.ends_with(run), "{text}");
        assert_eq!(array_of(&text), Some("0-14"));
        let retry = retry_script(&text, &[0, 5]).unwrap();
        assert_eq!(array_of(&retry), Some("0,5"));
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
    fn a_retry_runs_only_the_named_partitions_keeping_the_limit() {
        assert_eq!(array_spec(&[17, 5, 3, 4, 6, 9, 5], None), "3-6,9,17");
        assert_eq!(array_spec(&[0], Some(2)), "0%2");
        assert_eq!(
            array_spec(&[u64::from(u32::MAX), u64::from(u32::MAX) - 1], None),
            "4294967294-4294967295"
        );
        let text = script(&array_job()).unwrap();
        let retry = retry_script(&text, &[1, 3]).unwrap();
        assert!(retry.contains("#SBATCH --array=1,3%2\n"), "{retry}");
        assert_eq!(
            retry.replace("#SBATCH --array=1,3%2\n", "#SBATCH --array=0-4%2\n"),
            text,
            "nothing else changes"
        );
        assert!(retry_script("#!/bin/sh\nexec brine\n", &[1]).is_err());
        let twice = format!("{text}#SBATCH --array=0-1\n");
        assert!(retry_script(&twice, &[1]).is_err());
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

    /// A job in `root/src/jobs/j.yaml` naming `SourcePath` (relative to it).
    fn job_naming(root: &Path, source_path: &str) -> (PathBuf, Job) {
        std::fs::create_dir_all(root.join("src/jobs")).unwrap();
        let job_file = root.join("src/jobs/j.yaml");
        let text = format!("Name: j\nType: batch\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /data/m.wasm\n    InputSources:\n      - Source:\n          Type: localDirectory\n          Params:\n            SourcePath: {source_path}\n        Target: /data\n");
        std::fs::write(&job_file, text).unwrap();
        let job = crate::spec::load(&job_file).unwrap();
        (job_file, job)
    }

    #[test]
    fn a_link_inside_a_copied_directory_is_refused_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join("src/data/sub")).unwrap();
        std::fs::write(root.join("src/data/m.wasm"), "m").unwrap();
        std::fs::write(root.join("secret"), "SECRET").unwrap();
        std::os::unix::fs::symlink(root.join("secret"), root.join("src/data/sub/link")).unwrap();
        let (job_file, job) = job_naming(&root, "../data");
        let into = root.join("out/.brine/job");
        let copy = plan_copy(&job, &job_file, &into).unwrap();
        let error = perform_copy(&copy).unwrap_err().to_string();
        assert!(error.contains("sub/link is a symbolic link"), "{error}");
        assert!(!into.join("data/sub/link").exists());
    }

    #[test]
    fn a_link_put_in_place_of_a_planned_file_is_refused_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/m.wasm"), "m").unwrap();
        std::fs::write(root.join("secret"), "SECRET").unwrap();
        let (job_file, job) = job_naming(&root, "../m.wasm");
        let into = root.join("out/.brine/job");
        let copy = plan_copy(&job, &job_file, &into).unwrap();
        // Between the plan and the copy, the module becomes a link to a host file.
        std::fs::remove_file(root.join("src/m.wasm")).unwrap();
        std::os::unix::fs::symlink(root.join("secret"), root.join("src/m.wasm")).unwrap();
        let error = perform_copy(&copy).unwrap_err().to_string();
        assert!(error.contains("m.wasm is a symbolic link"), "{error}");
        assert!(std::fs::read(into.join("m.wasm")).is_err());
        // A FIFO is refused without blocking.
        std::fs::remove_file(root.join("src/m.wasm")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            root.join("src/m.wasm"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let _ = std::fs::remove_dir_all(&into);
        let error = perform_copy(&copy).unwrap_err().to_string();
        assert!(error.contains("special file"), "{error}");
    }

    #[test]
    fn a_directory_input_holding_the_job_and_the_results_is_handled() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        // `SourcePath: .` copies the job's directory once, the job file with it.
        let (job_file, job) = job_naming(&root, ".");
        std::fs::write(root.join("src/jobs/m.wasm"), "m").unwrap();
        let into = root.join("out/.brine/job");
        let copy = plan_copy(&job, &job_file, &into).unwrap();
        assert_eq!(copy.copies.len(), 1, "{copy:?}");
        perform_copy(&copy).unwrap();
        assert_eq!(std::fs::read_to_string(into.join("m.wasm")).unwrap(), "m");
        assert!(into.join("j.yaml").is_file());
        // Results inside that directory would copy themselves forever.
        let inside = root.join("src/jobs/out/.brine/job");
        let error = plan_copy(&job, &job_file, &inside).unwrap_err().to_string();
        assert!(error.contains("copy itself forever"), "{error}");
    }
}
