//! The results directory: capped stdout/stderr, `exitCode`, `brine.json`,
//! and the outputs, published atomically.
//!
//! Everything is written into a staging directory beside the requested one
//! (same file system), and renamed into place at the end, so a reader never
//! sees half a result. Outputs (the ResultPaths) are moved in only when the
//! execution completed.

pub mod capped;
pub mod evidence;
pub mod summary;

pub use capped::CappedFile;
pub use summary::Summary;

use std::io;
use std::path::{Path, PathBuf};

/// Errors while preparing or publishing results.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// The output directory exists and holds something.
    #[error("the output directory {0} exists and is not empty; choose another or pass --force to replace it")]
    NotEmpty(PathBuf),
    /// A file system operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What brine was doing.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

fn io_error<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> ResultsError + 'a {
    move |source| ResultsError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// A results directory being assembled.
#[derive(Debug)]
pub struct Staging {
    root: PathBuf,
    target: PathBuf,
    force: bool,
}

impl Staging {
    /// Checks `target` can be written (absent, empty, or `force`) and creates a
    /// staging directory beside it.
    pub fn prepare(target: &Path, force: bool) -> Result<Self, ResultsError> {
        if !force && !is_absent_or_empty(target) {
            return Err(ResultsError::NotEmpty(target.to_path_buf()));
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io_error("cannot create", &parent))?;
        let name = target
            .file_name()
            .map_or_else(|| "results".into(), |n| n.to_string_lossy().into_owned());
        let root = parent.join(format!(".brine-{name}-{}", unique_suffix()));
        for sub in ["results", "work"] {
            let dir = root.join(sub);
            std::fs::create_dir_all(&dir).map_err(io_error("cannot create", &dir))?;
        }
        Ok(Staging {
            root,
            target: target.to_path_buf(),
            force,
        })
    }

    /// Where results (stdout, stderr, outputs...) are assembled.
    pub fn results(&self) -> PathBuf {
        self.root.join("results")
    }

    /// A private work directory (staged inputs, output directories while the guest writes).
    pub fn work(&self) -> PathBuf {
        self.root.join("work")
    }

    /// Moves the assembled results into the target directory and removes the staging area.
    pub fn publish(self) -> Result<PathBuf, ResultsError> {
        if self.target.exists() {
            if self.force {
                remove_any(&self.target).map_err(io_error("cannot replace", &self.target))?;
            } else {
                // Checked empty in `prepare`; remove_dir fails safely if that changed since.
                std::fs::remove_dir(&self.target)
                    .map_err(io_error("cannot replace", &self.target))?;
            }
        }
        let results = self.results();
        std::fs::rename(&results, &self.target)
            .map_err(io_error("cannot publish", &self.target))?;
        let _ = std::fs::remove_dir_all(&self.root);
        Ok(self.target.clone())
    }

    /// Drops everything staged (nothing reaches the target).
    pub fn discard(self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn remove_any(path: &Path) -> io::Result<()> {
    if std::fs::symlink_metadata(path)?.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

fn is_absent_or_empty(path: &Path) -> bool {
    match std::fs::read_dir(path) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) => e.kind() == io::ErrorKind::NotFound,
    }
}

/// A suffix unique enough for concurrent brine processes on one machine.
pub(crate) fn unique_suffix() -> String {
    let mut bytes = [0u8; 6];
    let _ = getrandom::fill(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", std::process::id())
}

/// Moves a finished output directory into the results (same file system: a rename).
pub fn move_output(from: &Path, to: &Path) -> Result<(), ResultsError> {
    std::fs::rename(from, to).map_err(io_error("cannot move output to", to))
}

/// Writes `exitCode`: decimal text, no newline, as Bacalhau does.
pub fn write_exit_code(results: &Path, code: i64) -> Result<(), ResultsError> {
    let path = results.join("exitCode");
    std::fs::write(&path, code.to_string()).map_err(io_error("cannot write", &path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_non_empty_target_unless_forced() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), "x").unwrap();
        assert!(matches!(
            Staging::prepare(&target, false),
            Err(ResultsError::NotEmpty(_))
        ));
        let staging = Staging::prepare(&target, true).unwrap();
        std::fs::write(staging.results().join("stdout"), "hi").unwrap();
        staging.publish().unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("stdout")).unwrap(),
            "hi"
        );
        assert!(!target.join("keep").exists());
    }

    #[test]
    fn publishing_leaves_no_staging_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        let staging = Staging::prepare(&target, false).unwrap();
        staging.publish().unwrap();
        let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }
}
