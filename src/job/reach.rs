//! Host paths a guest must not reach: what the results directory keeps clear
//! of, and the paths brine itself reaches by name (receipt, journal, cache,
//! another input's root, the publisher's destination), which may not lie
//! inside a read-write input.

use super::execution::Execution;
use crate::outputs::layout::read_write_input_over;
use crate::outputs::Protected;
use std::path::{Path, PathBuf};

/// A path brine reaches by name lies inside a read-write input.
#[derive(Debug, thiserror::Error)]
#[error(
    "{what} ({}) lies inside {input} ({}): a guest writing there could replace it \
     with a link to anywhere on the host; keep it outside every read-write input",
    path.display(),
    input_path.display()
)]
pub struct InGuestReach {
    /// What the path is for ("the receipt", "the read-only input /data").
    pub what: String,
    /// The path.
    pub path: PathBuf,
    /// The read-write input it lies in.
    pub input: String,
    /// That input's host path.
    pub input_path: PathBuf,
}

/// What the results directory must keep clear of: the job file and every
/// input mounted in place from the host.
pub fn protected_paths(job_file: &Path, executions: &[Execution]) -> Vec<Protected> {
    let mut protected = vec![Protected {
        what: "the job file".to_string(),
        path: job_file.to_path_buf(),
        mounted: false,
        read_write: false,
    }];
    let inputs = executions.iter().flat_map(|exec| &exec.inputs);
    for input in inputs {
        let Some((path, read_write)) = input.source.local_path() else {
            continue;
        };
        if protected.iter().any(|p| p.path == path) {
            continue;
        }
        let access = if read_write {
            "read-write"
        } else {
            "read-only"
        };
        protected.push(Protected {
            what: format!("the {access} input {}", input.target),
            path: path.to_path_buf(),
            mounted: true,
            read_write,
        });
    }
    protected
}

/// Refuses host paths brine reaches by name that lie inside a read-write
/// input: another local input's root, the local publisher's destination, the
/// receipt, the journal, the download cache. A guest (of this run, an earlier
/// one or another partition) could have replaced them with links to anywhere.
pub fn refuse_paths_in_guest_reach(
    protected: &[Protected],
    executions: &[Execution],
    own_files: &[(&str, Option<&Path>)],
) -> Result<(), InGuestReach> {
    let mounted = protected
        .iter()
        .filter(|p| p.mounted)
        .map(|p| (p.what.clone(), p.path.clone()));
    let destinations = executions
        .iter()
        .filter_map(|exec| exec.publisher.as_ref()?.local_destination())
        .map(|path| ("the local publisher's destination".to_string(), path));
    let files = own_files
        .iter()
        .filter_map(|(what, path)| Some((what.to_string(), (*path)?.to_path_buf())));
    for (what, path) in mounted.chain(destinations).chain(files) {
        if let Some(input) = read_write_input_over(&path, protected) {
            return Err(InGuestReach {
                what,
                path,
                input: input.what.clone(),
                input_path: input.path.clone(),
            });
        }
    }
    Ok(())
}
