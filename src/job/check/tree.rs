//! The mount tree as far as it is known before anything is fetched: local
//! inputs in place, inline inputs that may hold a module staged into a
//! private temporary directory (by the same code a run stages them with),
//! result paths empty (nothing on disk), and remote inputs marked as not yet known.

use crate::engine::resolve::MountedModules;
use crate::inputs::inline::Inline;
use crate::inputs::{InputSource, StageArea};
use crate::spec::{Job, Source};
use cap_std::fs::Dir;
use std::io::ErrorKind;
use std::path::Path;

/// Whether host path `path` (a SourcePath) exists, looked up through a
/// cap-std handle on its parent (links followed, as staging does). Anything
/// else wrong with it (a FIFO, no permission) fails the run at staging, with
/// the input named, as it always has; so only "not found" says no here.
pub(super) fn local_exists(path: &Path) -> bool {
    let authority = cap_std::ambient_authority();
    let meta = match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            Dir::open_ambient_dir(parent, authority).and_then(|dir| dir.metadata(name))
        }
        // `/` or a path ending in `..`: only a directory can be named so.
        _ => Dir::open_ambient_dir(path, authority).and_then(|dir| dir.dir_metadata()),
    };
    !matches!(meta, Err(e) if e.kind() == ErrorKind::NotFound)
}

/// The mounts modules can be read through now.
pub(super) struct KnownTree {
    /// Reads modules by guest path, as the run's resolver does.
    pub resolver: MountedModules,
    /// Guest path components of every mount, and whether its content is known now.
    mounts: Vec<(Vec<String>, bool)>,
    /// Keeps the staged inline inputs alive (made only when a module lies
    /// in one: most jobs need none).
    _scratch: Option<CheckScratch>,
}

/// A private temporary directory, removed when dropped or on Ctrl-C.
struct CheckScratch {
    dir: tempfile::TempDir,
    _on_signal: crate::cancel::Scratch,
}

impl CheckScratch {
    /// The scratch directory in `slot`, made on first use.
    fn get(slot: &mut Option<CheckScratch>) -> Result<&Path, TreeError> {
        if slot.is_none() {
            let dir = tempfile::tempdir().map_err(|e| TreeError {
                index: None,
                message: format!("cannot create a temporary directory to check modules in: {e}"),
            })?;
            let on_signal = crate::cancel::remove_on_signal(dir.path().to_path_buf());
            *slot = Some(CheckScratch {
                dir,
                _on_signal: on_signal,
            });
        }
        Ok(slot.as_ref().map_or(Path::new(""), |s| s.dir.path()))
    }
}

/// Why the known tree could not be built: the input at `index`, and why.
pub(super) struct TreeError {
    /// Which input (`None`: none of them; the check itself could not be set up).
    pub index: Option<usize>,
    /// What went wrong staging it.
    pub message: String,
}

impl KnownTree {
    /// The tree of `job`; inline inputs are staged only when one of `modules`
    /// (guest paths) lies under them.
    pub fn build(job: &Job, modules: &[String]) -> Result<Self, TreeError> {
        let mut scratch = None;
        let mut resolver = MountedModules::default();
        let mut mounts = Vec::new();
        for (index, input) in job.task.inputs.iter().enumerate() {
            let target = parts(&input.target);
            let known = match &input.source {
                Source::Local { path, .. } => {
                    resolver.add(&input.target, path.clone());
                    true
                }
                Source::Inline { url } if modules.iter().any(|m| parts(m).starts_with(&target)) => {
                    let inline = Inline { url: url.clone() };
                    let area = StageArea::new(CheckScratch::get(&mut scratch)?.to_path_buf());
                    let staged =
                        inline
                            .stage(&area, index, &input.target)
                            .map_err(|e| TreeError {
                                index: Some(index),
                                message: e.to_string(),
                            })?;
                    resolver.add(&input.target, staged.host_path);
                    true
                }
                _ => false,
            };
            mounts.push((target, known));
        }
        for output in &job.task.result_paths {
            // Result paths start empty; an empty mount needs no directory on disk.
            resolver.add_empty(&output.path);
            mounts.push((parts(&output.path), true));
        }
        Ok(KnownTree {
            resolver,
            mounts,
            _scratch: scratch,
        })
    }

    /// Whether what lies at guest path `name` is known now (`false`: it is in
    /// an input fetched only at run time, and is checked after that fetch).
    pub fn is_known(&self, name: &str) -> bool {
        let name = parts(name);
        self.mounts
            .iter()
            .filter(|(guest, _)| name.starts_with(guest))
            .max_by_key(|(guest, _)| guest.len())
            .is_none_or(|(_, known)| *known)
    }
}

/// A guest path's components, as the run's resolver splits it.
pub(super) fn parts(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(str::to_string)
        .collect()
}
