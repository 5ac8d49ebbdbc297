//! One partition of a job run by a cluster's engine (Slurm array element,
//! Kubernetes Indexed Job pod, AWS Batch array child): which partition this
//! process runs (`--partition I` or `auto` from the engine's environment),
//! and where it ran (host name, engine task id), stamped into its brine.json.
//!
//! brine schedules nothing here: the engine starts one brine per partition,
//! each writes `DIR/<index>/` on its own (its own lock and staging beside it,
//! see `outputs::Staging`), and `brine gather` accounts for them all.

use crate::job::execution::Execution;
pub use crate::outputs::summary::Placement;
use std::path::{Path, PathBuf};

/// The variables that tell a process its index in an array job, in the order
/// they are looked at: Slurm, Kubernetes Indexed Jobs, AWS Batch.
pub const INDEX_VARIABLES: [&str; 3] = [
    "SLURM_ARRAY_TASK_ID",
    "JOB_COMPLETION_INDEX",
    "AWS_BATCH_JOB_ARRAY_INDEX",
];

/// The longest host name or task id kept (both come from the environment).
const MAX_PLACEMENT_CHARS: usize = 256;

/// Why the partition to run could not be chosen.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PartitionError {
    /// `--partition` is neither a number nor `auto`.
    #[error("--partition {0}: expected a partition index (0, 1, ...) or `auto`")]
    NotAnIndex(String),
    /// `--partition auto` found none of the engines' variables.
    #[error("--partition auto: none of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX is set; run inside an array job or give the index")]
    NoIndexInEnvironment,
    /// The engine's variable holds something else than an index.
    #[error("--partition auto: {name}={value} is not a partition index")]
    BadVariable {
        /// The variable.
        name: &'static str,
        /// Its value, printable.
        value: String,
    },
    /// `--job-id` is not of the form brine gives ids.
    #[error("--job-id {0}: expected j- and at most 64 lowercase letters, digits or dashes")]
    BadJobId(String),
    /// The index is past the job's last partition.
    #[error(
        "partition {index} does not exist: the job has Count {count} (partitions 0 to {last})"
    )]
    OutOfRange {
        /// The index asked for.
        index: u32,
        /// The job's Count.
        count: u32,
        /// The last index.
        last: u32,
    },
}

/// Which partition `--partition` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionChoice {
    /// This index.
    Index(u32),
    /// The index the array job's engine gives in the environment.
    Auto,
}

impl std::str::FromStr for PartitionChoice {
    type Err = PartitionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "auto" {
            return Ok(PartitionChoice::Auto);
        }
        parse_index(text)
            .map(PartitionChoice::Index)
            .ok_or_else(|| PartitionError::NotAnIndex(crate::text::printable(text)))
    }
}

/// A plain decimal index (no sign, no spaces inside).
fn parse_index(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl PartitionChoice {
    /// The index, reading the environment through `var` for `Auto`.
    pub fn resolve(self, var: impl Fn(&str) -> Option<String>) -> Result<u32, PartitionError> {
        match self {
            PartitionChoice::Index(index) => Ok(index),
            PartitionChoice::Auto => index_from_env(var),
        }
    }
}

/// The array index from the first engine variable that is set.
pub fn index_from_env(var: impl Fn(&str) -> Option<String>) -> Result<u32, PartitionError> {
    for name in INDEX_VARIABLES {
        if let Some(value) = var(name) {
            return parse_index(&value).ok_or_else(|| PartitionError::BadVariable {
                name,
                value: crate::text::printable(&value),
            });
        }
    }
    Err(PartitionError::NoIndexInEnvironment)
}

/// Keeps only the execution of partition `index` (planning made all of them).
pub fn select_partition(
    executions: Vec<Execution>,
    index: u32,
) -> Result<Vec<Execution>, PartitionError> {
    let count = u32::try_from(executions.len()).unwrap_or(u32::MAX);
    let chosen: Vec<Execution> = executions
        .into_iter()
        .filter(|exec| exec.partition_index == index)
        .collect();
    if chosen.is_empty() {
        return Err(PartitionError::OutOfRange {
            index,
            count,
            last: count.saturating_sub(1),
        });
    }
    Ok(chosen)
}

/// For `--partition`: the one execution to run, placed on this node (its
/// brine.json says where it ran), and its results directory `output/<index>`
/// (the layout of a local run with Count > 1).
pub fn one_partition(
    choice: PartitionChoice,
    executions: Vec<Execution>,
    output: &Path,
) -> Result<(Vec<Execution>, PathBuf), PartitionError> {
    let index = choice.resolve(|name| std::env::var(name).ok())?;
    let mut chosen = select_partition(executions, index)?;
    for exec in &mut chosen {
        exec.placement = Placement::here();
    }
    Ok((chosen, output.join(index.to_string())))
}

/// Gives every execution the job id `id` (and `BACALHAU_JOB_ID`), so that
/// partitions planned in separate processes share one, as a local run's do.
/// A deterministic job keeps its own: its ids come from the job's hash, the
/// same in every process.
pub fn adopt_job_id(executions: &mut [Execution], id: &str) -> Result<(), PartitionError> {
    let valid = id.strip_prefix("j-").is_some_and(|rest| {
        (1..=64).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    if !valid {
        return Err(PartitionError::BadJobId(crate::text::printable(id)));
    }
    for exec in executions.iter_mut().filter(|e| e.deterministic.is_none()) {
        exec.job_id = id.to_string();
        for (name, value) in &mut exec.env {
            if name == "BACALHAU_JOB_ID" {
                *value = id.to_string();
            }
        }
    }
    Ok(())
}

impl Placement {
    /// This process's placement: the host name and the engine's task id.
    pub fn here() -> Self {
        let var = |name: &str| std::env::var(name).ok();
        Placement {
            node: host_name().or_else(|| var("HOSTNAME")).map(|n| bounded(&n)),
            task_id: task_id_from_env(var).map(|t| bounded(&t)),
        }
    }
}

/// The kernel's host name (Linux), trimmed.
fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// The engine's task id, from its variables (see [`Placement::task_id`]).
pub fn task_id_from_env(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    if let (Some(job), Some(task)) = (var("SLURM_ARRAY_JOB_ID"), var("SLURM_ARRAY_TASK_ID")) {
        return Some(format!("{job}_{task}"));
    }
    if let Some(job) = var("SLURM_JOB_ID") {
        return Some(job);
    }
    if var("JOB_COMPLETION_INDEX").is_some() {
        if let Some(pod) = var("HOSTNAME") {
            return Some(pod);
        }
    }
    var("AWS_BATCH_JOB_ID")
}

/// `text`, printable and at most [`MAX_PLACEMENT_CHARS`] characters.
fn bounded(text: &str) -> String {
    crate::text::printable(text)
        .chars()
        .take(MAX_PLACEMENT_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn partition_flag_takes_an_index_or_auto() {
        assert_eq!("3".parse(), Ok(PartitionChoice::Index(3)));
        assert_eq!("auto".parse(), Ok(PartitionChoice::Auto));
        for bad in ["-1", "x", "", "1e3", "+2", "99999999999"] {
            assert!(
                bad.parse::<PartitionChoice>().is_err(),
                "{bad} is not an index"
            );
        }
    }

    #[test]
    fn auto_reads_slurm_then_kubernetes_then_aws() {
        let all = env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("JOB_COMPLETION_INDEX", "5"),
            ("AWS_BATCH_JOB_ARRAY_INDEX", "6"),
        ]);
        assert_eq!(index_from_env(all), Ok(4));
        assert_eq!(index_from_env(env(&[("JOB_COMPLETION_INDEX", "5")])), Ok(5));
        assert_eq!(
            index_from_env(env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "6")])),
            Ok(6)
        );
        assert_eq!(
            index_from_env(env(&[])),
            Err(PartitionError::NoIndexInEnvironment)
        );
        let bad = index_from_env(env(&[("SLURM_ARRAY_TASK_ID", "4\u{1b}[2J")])).unwrap_err();
        assert!(
            bad.to_string().contains("SLURM_ARRAY_TASK_ID=4\\u{1b}[2J"),
            "{bad}"
        );
    }

    #[test]
    fn task_ids_name_the_engines_element() {
        let slurm_array = env(&[
            ("SLURM_JOB_ID", "17"),
            ("SLURM_ARRAY_JOB_ID", "12"),
            ("SLURM_ARRAY_TASK_ID", "5"),
        ]);
        assert_eq!(task_id_from_env(slurm_array).as_deref(), Some("12_5"));
        assert_eq!(
            task_id_from_env(env(&[("SLURM_JOB_ID", "17")])).as_deref(),
            Some("17")
        );
        let pod = env(&[("JOB_COMPLETION_INDEX", "2"), ("HOSTNAME", "sim-2-x7k")]);
        assert_eq!(task_id_from_env(pod).as_deref(), Some("sim-2-x7k"));
        let aws = env(&[("AWS_BATCH_JOB_ID", "ab-cd:3")]);
        assert_eq!(task_id_from_env(aws).as_deref(), Some("ab-cd:3"));
        assert_eq!(task_id_from_env(env(&[("HOSTNAME", "laptop")])), None);
    }

    #[test]
    fn a_shared_job_id_has_the_shape_brine_gives_ids() {
        assert_eq!(adopt_job_id(&mut [], "j-0123abcd"), Ok(()));
        for bad in [
            "",
            "j-",
            "0123",
            "j-ABC",
            "j-a b",
            "j-a\nb",
            &format!("j-{}", "a".repeat(65)),
        ] {
            assert!(adopt_job_id(&mut [], bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn placement_is_left_out_of_json_when_unknown() {
        let none = serde_json::to_string(&Placement::default()).unwrap();
        assert_eq!(none, "{}");
        let long = bounded(&"x".repeat(1000));
        assert_eq!(long.len(), MAX_PLACEMENT_CHARS);
    }
}
