//! `brine gather DIR`: accounts for every partition of a job whose partitions
//! ran as separate processes (`brine run --partition`, e.g. a Slurm array),
//! each into `DIR/<index>/`.
//!
//! Every partition's brine.json is hostile input: it is read through handles
//! (a link for `DIR/<index>` or its brine.json is never followed), at most
//! [`MAX_SUMMARY_BYTES`] of it, and only the fields gather needs are kept,
//! each made printable.

use crate::job::cluster::Placement;
use crate::job::replicas::{self, Agreement, ReplicaResults, MAX_REPLICAS};
use cap_fs_ext::DirExt;
use cap_std::fs::Dir;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};

/// The largest brine.json read (a partition's lists its published files).
pub const MAX_SUMMARY_BYTES: u64 = 8 << 20;
/// The most partitions gather accounts for: a hostile `partition_count` must
/// not make it walk billions of names.
pub const MAX_PARTITIONS: u32 = 1_000_000;
/// Where `brine slurm submit` keeps the job's copy, script and metadata.
pub const META_DIR: &str = ".brine";
/// The metadata file in [`META_DIR`] that names the job's partition count.
pub const META_FILE: &str = "job.json";

/// Why gathering failed (as opposed to partitions that did not complete).
#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    /// DIR cannot be opened.
    #[error("cannot open the results directory {dir}: {source}")]
    Open {
        /// DIR.
        dir: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Neither metadata nor any partition says how many partitions there are.
    #[error("{0} holds no partition results (no <index>/brine.json) and no .brine/job.json: nothing to gather")]
    Nothing(PathBuf),
    /// The partition count is beyond what gather walks.
    #[error(
        "{dir}: the job claims Count {count}, more than brine gather handles ({MAX_PARTITIONS})"
    )]
    TooMany {
        /// DIR.
        dir: PathBuf,
        /// The claimed count.
        count: u32,
    },
    /// The job claims more replicas than `--replicas` accepts.
    #[error("{dir}: the job claims {replicas} replicas per partition, more than brine gather handles ({MAX_REPLICAS})")]
    TooManyReplicas {
        /// DIR.
        dir: PathBuf,
        /// The claimed number.
        replicas: u32,
    },
    /// DIR/brine.json is some other file (a single-partition run's summary).
    #[error("{0}/brine.json is not a gathered job summary (a single-partition run's results?); gather only a directory of partitions")]
    NotAJobSummary(PathBuf),
    /// The job summary could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// DIR/brine.json.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// What happened to one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PartitionStatus {
    /// Its brine.json says completed.
    Completed,
    /// Its brine.json says failed, or its results are unreadable.
    Failed,
    /// No results and nothing running.
    Missing,
    /// A brine is staging it (its staging directory is beside DIR/<index>).
    Running,
}

impl PartitionStatus {
    /// The word used in the table and in brine.json.
    pub fn as_str(self) -> &'static str {
        match self {
            PartitionStatus::Completed => "completed",
            PartitionStatus::Failed => "failed",
            PartitionStatus::Missing => "missing",
            PartitionStatus::Running => "running",
        }
    }
}

/// One row of the table: a partition and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionReport {
    /// Its index.
    pub partition: u32,
    /// Its status.
    pub status: PartitionStatus,
    /// The guest's exit code, when it ran to one.
    pub exit_code: Option<i64>,
    /// How long the partition took (staging, run, publish), in milliseconds.
    pub duration_ms: Option<u64>,
    /// Where it ran, and the engine's task id.
    #[serde(flatten)]
    pub placement: Placement,
    /// Why it failed (its brine.json's error, or why that could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its replicas and whether they agree (a job submitted with `--replicas`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<ReplicaSet>,
}

/// One replica of a partition: how it ended and where it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplicaReport {
    /// The replica (0 is DIR/<p>/, k is DIR/replicas/<k>/<p>/).
    pub replica: u32,
    /// Its status.
    pub status: PartitionStatus,
    /// The guest's exit code, when it ran to one.
    pub exit_code: Option<i64>,
    /// Where it ran, and the engine's task id.
    #[serde(flatten)]
    pub placement: Placement,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A partition's replicas and the verdict on their receipts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplicaSet {
    /// Whether every replica completed and their receipts all agree.
    pub agree: bool,
    /// The majority and the dissenters among the completed replicas.
    #[serde(flatten)]
    pub agreement: Agreement,
    /// Every replica, in order.
    pub replicas: Vec<ReplicaReport>,
}

/// The job as a whole: DIR/brine.json after gathering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobReport {
    /// brine's version.
    pub brine_version: String,
    /// The job's name (from the partitions).
    pub job: Option<String>,
    /// The job id, when every partition that reported shares one.
    pub job_id: Option<String>,
    /// How many partitions the job has.
    pub partition_count: u32,
    /// `completed` when every partition completed (and its replicas agree),
    /// `disputed` when all completed but some replicas disagree, else `incomplete`.
    pub status: String,
    /// How many times each partition ran (a job submitted with `--replicas`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// How many partitions have a replica that disagrees with their majority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disputed: Option<u32>,
    /// How many partitions completed.
    pub completed: u32,
    /// How many failed.
    pub failed: u32,
    /// How many left no results.
    pub missing: u32,
    /// How many are still running.
    pub running: u32,
    /// Every partition, in index order.
    pub partitions: Vec<PartitionReport>,
}

impl JobReport {
    /// The partitions that did not complete.
    pub fn not_completed(&self) -> impl Iterator<Item = &PartitionReport> {
        self.partitions
            .iter()
            .filter(|p| p.status != PartitionStatus::Completed)
    }

    /// The partitions with a replica that disagrees with their majority.
    pub fn disputed(&self) -> impl Iterator<Item = &PartitionReport> {
        self.partitions.iter().filter(|p| {
            p.replicas
                .as_ref()
                .is_some_and(|r| !r.agreement.dissenters.is_empty())
        })
    }
}

/// The fields of a partition's brine.json that gather reads.
#[derive(Debug, Deserialize)]
struct PartitionFile {
    job: String,
    job_id: String,
    partition_index: u32,
    partition_count: u32,
    status: String,
    exit_code: Option<i64>,
    error: Option<String>,
    durations_ms: Option<FileDurations>,
    #[serde(default)]
    node: Option<String>,
    #[serde(default)]
    task_id: Option<String>,
    #[serde(default)]
    outputs: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct FileDurations {
    total: u64,
}

/// `DIR/.brine/job.json`, written by `brine slurm submit`.
#[derive(Debug, Deserialize, Serialize)]
pub struct JobMeta {
    /// The job's partition count.
    pub count: u32,
    /// How many times each partition runs (`--replicas`), when more than once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
}

/// Reads every partition of DIR into a report (writes nothing); with
/// replicas (`.brine/job.json` says how many), every replica of every
/// partition and whether they agree.
pub fn gather(dir: &Path) -> Result<JobReport, GatherError> {
    let root = Dir::open_ambient_dir(dir, cap_std::ambient_authority()).map_err(|source| {
        GatherError::Open {
            dir: dir.to_path_buf(),
            source,
        }
    })?;
    let meta = read_meta(&root);
    let files = read_partitions(&root);
    let count = meta
        .as_ref()
        .map(|m| m.count)
        .or_else(|| {
            files
                .0
                .iter()
                .filter_map(|(_, f)| f.as_ref().ok())
                .map(|f| f.partition_count)
                .max()
        })
        .ok_or_else(|| GatherError::Nothing(dir.to_path_buf()))?;
    if count > MAX_PARTITIONS {
        return Err(GatherError::TooMany {
            dir: dir.to_path_buf(),
            count,
        });
    }
    let mut report = assemble(count, files.0, &files.1);
    match meta.and_then(|m| m.replicas).filter(|&r| r > 1) {
        Some(replicas) if replicas > MAX_REPLICAS => {
            return Err(GatherError::TooManyReplicas {
                dir: dir.to_path_buf(),
                replicas,
            })
        }
        Some(replicas) => add_replicas(&root, dir, &mut report, replicas),
        None => {}
    }
    Ok(report)
}

/// What a directory of partitions holds: each index's brine.json (or why it
/// cannot be used), and the indices being staged.
type Found = (Vec<(u32, Result<PartitionFile, Unreadable>)>, BTreeSet<u32>);

fn read_partitions(root: &Dir) -> Found {
    let listing = Listing::read(root);
    let files = listing
        .indices
        .iter()
        .map(|&i| (i, read_partition(root, i)))
        .collect();
    (files, listing.staging)
}

/// Builds the report of a job of `count` partitions from what was read.
fn assemble(
    count: u32,
    mut files: Vec<(u32, Result<PartitionFile, Unreadable>)>,
    staging: &BTreeSet<u32>,
) -> JobReport {
    files.sort_by_key(|(i, _)| *i);
    let mut found = files.into_iter().peekable();
    let mut partitions = Vec::with_capacity(count as usize);
    let (mut names, mut ids) = (BTreeSet::new(), BTreeSet::new());
    for index in 0..count {
        while found.peek().is_some_and(|(i, _)| *i < index) {
            found.next();
        }
        let file = found.next_if(|(i, _)| *i == index).map(|(_, f)| f);
        if let Some(Ok(f)) = &file {
            names.insert(crate::text::printable(&f.job));
            ids.insert(crate::text::printable(&f.job_id));
        }
        partitions.push(row(index, count, file, staging.contains(&index)));
    }
    let mut report = JobReport {
        brine_version: env!("CARGO_PKG_VERSION").to_string(),
        job: names.into_iter().next(),
        job_id: (ids.len() == 1).then(|| ids.into_iter().next()).flatten(),
        partition_count: count,
        status: String::new(),
        replicas: None,
        disputed: None,
        completed: 0,
        failed: 0,
        missing: 0,
        running: 0,
        partitions,
    };
    tally(&mut report);
    report
}

/// Sets the report's counts and status from its partitions.
fn tally(report: &mut JobReport) {
    let count = |s| {
        let n = report.partitions.iter().filter(|p| p.status == s).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    report.completed = count(PartitionStatus::Completed);
    report.failed = count(PartitionStatus::Failed);
    report.missing = count(PartitionStatus::Missing);
    report.running = count(PartitionStatus::Running);
    if report.replicas.is_some() {
        let disputed = report.disputed().count();
        report.disputed = Some(u32::try_from(disputed).unwrap_or(u32::MAX));
    }
    report.status = if report.completed != report.partition_count {
        "incomplete"
    } else if report.disputed.unwrap_or(0) > 0 {
        "disputed"
    } else {
        "completed"
    }
    .to_string();
}

/// Reads replicas 1..R of every partition (DIR/replicas/<k>/), gives each
/// partition its replicas and their agreement, and makes a partition
/// completed only when all its replicas are.
fn add_replicas(root: &Dir, dir: &Path, report: &mut JobReport, replicas: u32) {
    let count = report.partition_count;
    let mut others: Vec<Vec<PartitionReport>> = Vec::new();
    for k in 1..replicas {
        let (files, staging) = replicas::open_replica_root(root, k)
            .map(|d| read_partitions(&d))
            .unwrap_or_default();
        others.push(assemble(count, files, &staging).partitions);
    }
    let receipts = root.open_dir_nofollow(replicas::RECEIPTS_DIR).ok();
    for (index, partition) in report.partitions.iter_mut().enumerate() {
        let mut rows = vec![replica_row(0, partition)];
        for (k, other) in (1..).zip(&others) {
            if let Some(p) = other.get(index) {
                rows.push(replica_row(k, p));
            }
        }
        let agreement = agree(root, dir, receipts.as_ref(), partition.partition, &rows);
        let worst = rows.iter().max_by_key(|r| severity(r.status));
        if let Some(worst) = worst.filter(|w| w.status != partition.status) {
            partition.status = worst.status;
            partition.error = Some(format!(
                "replica {} {}{}",
                worst.replica,
                worst.status.as_str(),
                worst
                    .error
                    .as_ref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ));
        }
        let all_completed = rows.iter().all(|r| r.status == PartitionStatus::Completed);
        partition.replicas = Some(ReplicaSet {
            agree: all_completed && agreement.dissenters.is_empty(),
            agreement,
            replicas: rows,
        });
    }
    report.replicas = Some(replicas);
    tally(report);
}

/// The replicas' statuses from best to worst: a partition is as its worst replica.
fn severity(status: PartitionStatus) -> u8 {
    match status {
        PartitionStatus::Completed => 0,
        PartitionStatus::Missing => 1,
        PartitionStatus::Running => 2,
        PartitionStatus::Failed => 3,
    }
}

fn replica_row(replica: u32, p: &PartitionReport) -> ReplicaReport {
    ReplicaReport {
        replica,
        status: p.status,
        exit_code: p.exit_code,
        placement: p.placement.clone(),
        error: p.error.clone(),
    }
}

/// The agreement of a partition's completed replicas, from their receipts and
/// what their directories hold now.
fn agree(
    root: &Dir,
    dir: &Path,
    receipts: Option<&Dir>,
    partition: u32,
    rows: &[ReplicaReport],
) -> Agreement {
    let mut results = Vec::new();
    let mut unreadable = Vec::new();
    for row in rows
        .iter()
        .filter(|r| r.status == PartitionStatus::Completed)
    {
        let opened = replicas::open_replica_root(root, row.replica).and_then(|d| {
            let file = read_partition(&d, partition).map_err(io::Error::other)?;
            Ok((d.open_dir_nofollow(partition.to_string())?, file.outputs))
        });
        match opened {
            Ok((opened, outputs)) => results.push(ReplicaResults {
                replica: row.replica,
                path: replicas::replica_output(dir, row.replica).join(partition.to_string()),
                dir: opened,
                outputs,
            }),
            Err(e) => unreadable.push(replicas::Dissenter {
                replica: row.replica,
                difference: format!("its results cannot be read again: {e}"),
                changed_after_run: false,
            }),
        }
    }
    let mut agreement = replicas::agreement(receipts, partition, &results);
    agreement.dissenters.extend(unreadable);
    agreement.dissenters.sort_by_key(|d| d.replica);
    agreement
}

/// One partition's row: from its brine.json, or missing/running when it has none.
fn row(
    index: u32,
    count: u32,
    file: Option<Result<PartitionFile, Unreadable>>,
    staging: bool,
) -> PartitionReport {
    let mut report = PartitionReport {
        partition: index,
        status: PartitionStatus::Failed,
        exit_code: None,
        duration_ms: None,
        placement: Placement::default(),
        error: None,
        replicas: None,
    };
    let f = match file {
        // A rerun (retry) may be staging while old results are still there: it is running.
        _ if staging => {
            report.status = PartitionStatus::Running;
            return report;
        }
        None => {
            report.status = PartitionStatus::Missing;
            return report;
        }
        Some(Err(why)) => {
            report.error = Some(why.to_string());
            return report;
        }
        Some(Ok(f)) => f,
    };
    report.exit_code = f.exit_code;
    report.duration_ms = f.durations_ms.map(|d| d.total);
    report.placement = Placement {
        node: f.node.as_deref().map(short),
        task_id: f.task_id.as_deref().map(short),
    };
    report.error = f.error.as_deref().map(short);
    report.status = match f.status.as_str() {
        "completed" => PartitionStatus::Completed,
        _ => PartitionStatus::Failed,
    };
    if f.partition_index != index || f.partition_count != count {
        report.status = PartitionStatus::Failed;
        report.error = Some(format!(
            "its brine.json says partition {} of {}, not {index} of {count}",
            f.partition_index, f.partition_count
        ));
    }
    report
}

/// Untrusted text, printable and at most 512 characters.
fn short(text: &str) -> String {
    let printable = crate::text::printable(text);
    match printable.char_indices().nth(512) {
        Some((cut, _)) => format!("{}…", &printable[..cut]),
        None => printable,
    }
}

/// What DIR holds: partition directories' indices and the indices being staged.
struct Listing {
    indices: Vec<u32>,
    staging: BTreeSet<u32>,
}

impl Listing {
    fn read(root: &Dir) -> Listing {
        let mut listing = Listing {
            indices: Vec::new(),
            staging: BTreeSet::new(),
        };
        let Ok(entries) = root.entries() else {
            return listing;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(index) = parse_index(name) {
                listing.indices.push(index);
            } else if let Some(index) = staging_index(name) {
                listing.staging.insert(index);
            }
        }
        listing
    }
}

/// A partition directory's name: a plain decimal index, no leading zeros.
fn parse_index(name: &str) -> Option<u32> {
    let canonical = name == "0" || (!name.starts_with('0') && !name.is_empty());
    if !canonical || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// The partition whose staging directory this is: `.brine-<index>-<pid>-<12 hex>`
/// (see `outputs::Staging`), created once a brine holds the partition's lock.
fn staging_index(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(".brine-")?;
    let mut parts = rest.splitn(3, '-');
    let (index, pid, hex) = (parts.next()?, parts.next()?, parts.next()?);
    let pid_ok = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    let hex_ok = hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    (pid_ok && hex_ok).then(|| parse_index(index)).flatten()
}

/// Why a partition's brine.json cannot be used (its words go in the table).
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    /// The partition's directory cannot be opened without following a link.
    #[error("{index}/ cannot be opened (brine follows no links): {source}")]
    Dir {
        /// The partition.
        index: u32,
        /// Why.
        source: io::Error,
    },
    /// Its brine.json cannot be read (absent, a link, too large).
    #[error("{index}/brine.json: {source}")]
    File {
        /// The partition.
        index: u32,
        /// Why.
        source: io::Error,
    },
    /// Its brine.json is not a partition summary.
    #[error("{index}/brine.json is not a partition summary: {source}")]
    Json {
        /// The partition.
        index: u32,
        /// Why.
        source: serde_json::Error,
    },
}

/// Partition `index`'s brine.json, or why it cannot be used.
fn read_partition(root: &Dir, index: u32) -> Result<PartitionFile, Unreadable> {
    let dir = root
        .open_dir_nofollow(index.to_string())
        .map_err(|source| Unreadable::Dir { index, source })?;
    let text = read_capped(&dir, OsStr::new("brine.json"))
        .map_err(|source| Unreadable::File { index, source })?;
    serde_json::from_slice(&text).map_err(|source| Unreadable::Json { index, source })
}

/// `.brine/job.json`, when there is a readable one.
fn read_meta(root: &Dir) -> Option<JobMeta> {
    let meta = root.open_dir_nofollow(META_DIR).ok()?;
    let text = read_capped(&meta, OsStr::new(META_FILE)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// A regular file in `dir`, not through a link, at most [`MAX_SUMMARY_BYTES`].
fn read_capped(dir: &Dir, name: &OsStr) -> io::Result<Vec<u8>> {
    replicas::read_capped(dir, name, MAX_SUMMARY_BYTES)
}

/// Writes the report to DIR/brine.json atomically, refusing to replace a
/// brine.json that is not a gathered job summary.
pub fn write_report(dir: &Path, report: &JobReport) -> Result<(), GatherError> {
    let path = dir.join("brine.json");
    let root = Dir::open_ambient_dir(dir, cap_std::ambient_authority()).map_err(|source| {
        GatherError::Open {
            dir: dir.to_path_buf(),
            source,
        }
    })?;
    match read_capped(&root, OsStr::new("brine.json")) {
        Ok(text) => {
            let previous: serde_json::Value = serde_json::from_slice(&text).unwrap_or_default();
            if previous.get("partitions").is_none_or(|p| !p.is_array()) {
                return Err(GatherError::NotAJobSummary(dir.to_path_buf()));
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(_) => return Err(GatherError::NotAJobSummary(dir.to_path_buf())),
    }
    let text = serde_json::to_string_pretty(report).map_err(|e| GatherError::Write {
        path: path.clone(),
        source: io::Error::other(e),
    })?;
    crate::atomic::write(
        &path,
        (text + "\n").as_bytes(),
        crate::atomic::Access::Shared,
    )
    .map_err(|source| GatherError::Write { path, source })
}

/// The report as a table: one line per partition (with replicas, how many of
/// them agree), a line per dissenting replica, then a line of totals.
pub fn render_table(report: &JobReport) -> String {
    let agree_head = if report.replicas.is_some() {
        "  agree"
    } else {
        ""
    };
    let head = format!(
        "{:<9}  {:<9}  {:>4}  {:>8}  {:<16}  {:<12}{agree_head}",
        "partition", "status", "exit", "duration", "node", "task"
    );
    let mut lines = vec![head.trim_end().to_string()];
    for p in &report.partitions {
        let dash = || "-".to_string();
        let agree = p
            .replicas
            .as_ref()
            .map(|r| format!("  {}/{}", r.agreement.majority.len(), r.replicas.len()))
            .unwrap_or_default();
        let line = format!(
            "{:<9}  {:<9}  {:>4}  {:>8}  {:<16}  {:<12}{agree}",
            p.partition,
            p.status.as_str(),
            p.exit_code.map_or_else(dash, |c| c.to_string()),
            p.duration_ms.map_or_else(dash, format_duration),
            p.placement.node.clone().unwrap_or_else(dash),
            p.placement.task_id.clone().unwrap_or_else(dash),
        );
        lines.push(line.trim_end().to_string());
    }
    for p in report.disputed() {
        for d in p.replicas.iter().flat_map(|r| &r.agreement.dissenters) {
            lines.push(format!(
                "partition {} replica {} dissents: {}",
                p.partition, d.replica, d.difference
            ));
        }
    }
    let job = report.job.as_deref().unwrap_or("(unknown)");
    let mut totals = format!(
        "job {job}: {} partitions: {} completed, {} failed, {} missing, {} running",
        report.partition_count, report.completed, report.failed, report.missing, report.running
    );
    if let Some(replicas) = report.replicas {
        totals.push_str(&format!(
            "; {replicas} replicas each, {} disputed",
            report.disputed.unwrap_or(0)
        ));
    }
    lines.push(totals);
    lines.join("\n")
}

/// `850ms`, `12.3s`, `5m07s`.
fn format_duration(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms}ms"),
        1_000..=59_999 => format!("{}.{}s", ms / 1000, ms % 1000 / 100),
        _ => format!("{}m{:02}s", ms / 60_000, ms % 60_000 / 1000),
    }
}

/// The partitions whose replicas disagree, for one line: `1 (replica 2: outputs/x:
/// content differs)`, the first 20 of them and how many more.
pub fn name_disputed(report: &JobReport) -> String {
    let all: Vec<String> = report
        .disputed()
        .map(|p| {
            let dissenters = p.replicas.iter().flat_map(|r| &r.agreement.dissenters);
            let named: Vec<String> = dissenters
                .map(|d| format!("replica {}: {}", d.replica, d.difference))
                .collect();
            format!("{} ({})", p.partition, named.join("; "))
        })
        .collect();
    let mut text = all.iter().take(20).cloned().collect::<Vec<_>>().join(", ");
    if all.len() > 20 {
        text.push_str(&format!(" and {} more", all.len() - 20));
    }
    text
}

/// The partitions that did not complete, for one line: `3 (failed), 7 (missing)`,
/// the first 20 of them and how many more.
pub fn name_not_completed(report: &JobReport) -> String {
    let all: Vec<String> = report
        .not_completed()
        .map(|p| format!("{} ({})", p.partition, p.status.as_str()))
        .collect();
    let mut text = all.iter().take(20).cloned().collect::<Vec<_>>().join(", ");
    if all.len() > 20 {
        text.push_str(&format!(" and {} more", all.len() - 20));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partition_json(index: u32, count: u32, status: &str, node: &str) -> String {
        serde_json::json!({
            "brine_version": "0", "job": "sim", "job_id": "j-1", "execution_id": "e",
            "partition_index": index, "partition_count": count, "status": status,
            "exit_code": if status == "completed" { Some(0) } else { None },
            "error": if status == "failed" { Some("wasm trap") } else { None },
            "durations_ms": { "staging": 1, "run": 2, "publish": 0, "total": 1500 },
            "node": node, "task_id": format!("7_{index}"),
        })
        .to_string()
    }

    fn fixture(count: u32, layout: &[(u32, &str)]) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        for (index, status) in layout {
            let dir = tmp.path().join(index.to_string());
            std::fs::create_dir(&dir).unwrap();
            let text = partition_json(*index, count, status, "node-a");
            std::fs::write(dir.join("brine.json"), text).unwrap();
        }
        tmp
    }

    fn statuses(report: &JobReport) -> Vec<&str> {
        report
            .partitions
            .iter()
            .map(|p| p.status.as_str())
            .collect()
    }

    #[test]
    fn every_partition_is_named_completed_failed_missing_or_running() {
        let tmp = fixture(5, &[(0, "completed"), (1, "failed"), (4, "completed")]);
        std::fs::create_dir(tmp.path().join(".brine-3-42-0123456789ab")).unwrap();
        let report = gather(tmp.path()).unwrap();
        let statuses = statuses(&report);
        assert_eq!(
            statuses,
            ["completed", "failed", "missing", "running", "completed"]
        );
        assert_eq!(
            (
                report.completed,
                report.failed,
                report.missing,
                report.running
            ),
            (2, 1, 1, 1)
        );
        assert_eq!(report.status, "incomplete");
        assert_eq!(report.job_id.as_deref(), Some("j-1"));
        assert_eq!(
            name_not_completed(&report),
            "1 (failed), 2 (missing), 3 (running)"
        );
        let table = render_table(&report);
        let first = table.lines().nth(1).unwrap();
        assert_eq!(
            first.split_whitespace().collect::<Vec<_>>(),
            ["0", "completed", "0", "1.5s", "node-a", "7_0"]
        );
        assert!(
            table.ends_with("job sim: 5 partitions: 2 completed, 1 failed, 1 missing, 1 running"),
            "{table}"
        );
    }

    #[test]
    fn the_count_comes_from_the_submit_metadata_when_no_partition_reported() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(matches!(gather(tmp.path()), Err(GatherError::Nothing(_))));
        std::fs::create_dir(tmp.path().join(META_DIR)).unwrap();
        std::fs::write(tmp.path().join(META_DIR).join(META_FILE), r#"{"count": 3}"#).unwrap();
        let report = gather(tmp.path()).unwrap();
        assert_eq!(report.missing, 3);
    }

    #[test]
    fn hostile_summaries_fail_their_partition_and_nothing_else() {
        let tmp = fixture(4, &[(0, "completed")]);
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(
            outside.path().join("brine.json"),
            partition_json(1, 4, "completed", "x"),
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.path(), tmp.path().join("1")).unwrap();
        std::fs::create_dir(tmp.path().join("2")).unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("brine.json"),
            tmp.path().join("2/brine.json"),
        )
        .unwrap();
        std::fs::create_dir(tmp.path().join("3")).unwrap();
        let huge = format!(
            "{{\"pad\": \"{}\"}}",
            "x".repeat(MAX_SUMMARY_BYTES as usize)
        );
        std::fs::write(tmp.path().join("3/brine.json"), huge).unwrap();
        let report = gather(tmp.path()).unwrap();
        let statuses = statuses(&report);
        assert_eq!(statuses, ["completed", "failed", "failed", "failed"]);
        assert!(report.partitions[3]
            .error
            .as_deref()
            .unwrap()
            .contains("larger than"));
    }

    #[test]
    fn a_partition_claiming_another_index_or_an_absurd_count_is_refused() {
        let tmp = fixture(2, &[(0, "completed")]);
        std::fs::create_dir(tmp.path().join("1")).unwrap();
        std::fs::write(
            tmp.path().join("1/brine.json"),
            partition_json(0, 2, "completed", "n"),
        )
        .unwrap();
        let report = gather(tmp.path()).unwrap();
        assert_eq!(report.partitions[1].status, PartitionStatus::Failed);
        let absurd = fixture(u32::MAX, &[(0, "completed")]);
        assert!(matches!(
            gather(absurd.path()),
            Err(GatherError::TooMany { .. })
        ));
    }

    #[test]
    fn the_report_replaces_only_a_report() {
        let tmp = fixture(1, &[(0, "completed")]);
        let report = gather(tmp.path()).unwrap();
        write_report(tmp.path(), &report).unwrap();
        write_report(tmp.path(), &report).unwrap();
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(tmp.path().join("brine.json")).unwrap()).unwrap();
        assert_eq!(written["partitions"][0]["status"], "completed");
        std::fs::write(
            tmp.path().join("brine.json"),
            partition_json(0, 1, "completed", "n"),
        )
        .unwrap();
        assert!(matches!(
            write_report(tmp.path(), &report),
            Err(GatherError::NotAJobSummary(_))
        ));
    }

    #[test]
    fn names_are_indices_and_staging_directories_are_recognised() {
        assert_eq!(parse_index("0"), Some(0));
        assert_eq!(parse_index("12"), Some(12));
        for bad in ["", "01", "-1", "a", "1a"] {
            assert_eq!(parse_index(bad), None, "{bad}");
        }
        assert_eq!(staging_index(".brine-3-42-0123456789ab"), Some(3));
        assert_eq!(staging_index(".brine-3.lock"), None);
        assert_eq!(staging_index(".brine-old-3-42-0123456789ab"), None);
        assert_eq!(format_duration(850), "850ms");
        assert_eq!(format_duration(307_000), "5m07s");
    }
}
