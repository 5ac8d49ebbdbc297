//! A job from plan to proof: one [`execution::Execution`] per partition
//! ([`plan`]), each staged, run and published by [`runner`] on the partition
//! pool ([`partitions`]), and the receipts that prove what ran ([`receipt`],
//! [`verify`]).

pub mod check;
pub mod cluster;
pub mod execution;
pub mod gather;
pub mod journal;
pub mod partitions;
pub mod plan;
pub mod progress;
pub mod reach;
pub mod receipt;
pub mod replicas;
pub mod runner;
pub mod sbatch;
pub mod staged_inputs;
pub mod verify;

use crate::spec::Job;

/// The hash of the normalized job, independent of where it was run from:
/// the job file's own path is left out and local source paths are made
/// relative to the job file's directory.
pub fn job_hash(job: &Job) -> String {
    let mut value = serde_json::to_value(job).unwrap_or_default();
    let base = job
        .file
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.remove("file");
    }
    if let Some(inputs) = value
        .pointer_mut("/task/inputs")
        .and_then(serde_json::Value::as_array_mut)
    {
        for (input, spec) in inputs.iter_mut().zip(&job.task.inputs) {
            if let crate::spec::Source::Local { path, .. } = &spec.source {
                let relative = path.strip_prefix(&base).unwrap_or(path);
                if let Some(slot) = input.pointer_mut("/source/path") {
                    *slot = serde_json::Value::String(relative.to_string_lossy().into_owned());
                }
            }
        }
    }
    let text = serde_json::to_string(&value).unwrap_or_default();
    blake3::hash(text.as_bytes()).to_hex().to_string()
}
