//! The results directory: capped stdout/stderr, `exitCode`, `brine.json`,
//! and the outputs, published atomically.
//!
//! Everything is written into a staging directory beside the requested one
//! (same file system), and renamed into place at the end, so a reader never
//! sees half a result. Outputs (the ResultPaths) are moved in only when the
//! execution completed.

pub mod capped;
pub mod evidence;
pub mod files;
pub mod hash;
pub mod layout;
pub mod links;
pub mod live;
pub mod nofollow;
pub mod publish;
pub mod sparse;
pub mod summary;

pub use capped::{CappedFile, Captured};
pub use files::ResultFiles;
pub use layout::Protected;
pub use summary::Summary;

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::Dir;
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Errors while preparing or publishing results.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// The output directory exists and holds something.
    #[error("the output directory {0} exists and is not empty; choose another or pass --force to replace it")]
    NotEmpty(PathBuf),
    /// The output path names something brine must not use or replace.
    #[error("cannot use {dir} as the results directory: {reason}; choose another")]
    Refused {
        /// The results directory as given.
        dir: PathBuf,
        /// Why not.
        reason: String,
    },
    /// Another brine run holds the lock on the results directory.
    #[error("{dir} is in use by another brine run ({holder}); wait for it to finish or choose another results directory")]
    InUse {
        /// The results directory as given.
        dir: PathBuf,
        /// `pid N`, or `pid unknown`.
        holder: String,
    },
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
///
/// Everything happens through a handle on DIR's parent: the staging directory
/// `.brine-<name>-PID-HEX`, the lock `.brine-<name>.lock` and the final
/// renames, so nothing is looked up by path twice. The lock is held until the
/// `Staging` is dropped; an unpublished staging directory is removed then.
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    parent: Dir,
    parent_path: PathBuf,
    name: OsString,
    root_name: String,
    force: bool,
    done: bool,
    /// Removes the staging directory if a signal ends brine before `commit`.
    scratch: Option<crate::cancel::Scratch>,
    _lock: Lock,
}

impl Staging {
    /// Checks `target` can be written (absent, empty, or `force`), locks it
    /// and creates a staging directory beside it (the tests' shorthand).
    #[cfg(test)]
    pub fn prepare(target: &Path, force: bool) -> Result<Self, ResultsError> {
        Self::prepare_guarded(target, force, &[])
    }

    /// Checks `target` can be written (absent, empty, or `force`), locks it
    /// and creates a staging directory beside it, refusing a `target` that holds one of
    /// `protected` or lies inside a mounted one (see `layout::refusal`).
    pub fn prepare_guarded(
        target: &Path,
        force: bool,
        protected: &[Protected],
    ) -> Result<Self, ResultsError> {
        let mut staging = Self::lock_target(target, force, protected)?;
        let root = staging.parent_path.join(&staging.root_name);
        staging
            .parent
            .create_dir(&staging.root_name)
            .map_err(io_error("cannot create", &root))?;
        staging.scratch = Some(crate::cancel::remove_on_signal(root));
        for sub in ["results", "work"] {
            let dir = format!("{}/{sub}", staging.root_name);
            staging
                .parent
                .create_dir(&dir)
                .map_err(io_error("cannot create", &staging.parent_path.join(&dir)))?;
        }
        Ok(staging)
    }

    /// Checks `target` (see [`Staging::prepare_guarded`]) and locks it; the
    /// staging directory is not created yet.
    fn lock_target(
        target: &Path,
        force: bool,
        protected: &[Protected],
    ) -> Result<Self, ResultsError> {
        let resolved = layout::resolve(target).map_err(io_error("cannot resolve", target))?;
        if let Some(reason) = layout::refusal(&resolved, protected) {
            return Err(ResultsError::Refused {
                dir: target.to_path_buf(),
                reason,
            });
        }
        let parent_path = resolved.parent;
        std::fs::create_dir_all(&parent_path).map_err(io_error("cannot create", &parent_path))?;
        let parent = Dir::open_ambient_dir(&parent_path, cap_std::ambient_authority())
            .map_err(io_error("cannot open", &parent_path))?;
        let name = resolved.name;
        let lock = Lock::acquire(&parent, &name, target)?;
        remove_stale_staging(&parent, &name);
        check_target(&parent, &name, target, force)?;
        let root_name = format!(".brine-{}-{}", name.to_string_lossy(), unique_suffix());
        Ok(Staging {
            target: target.to_path_buf(),
            parent,
            parent_path,
            name,
            root_name,
            force,
            done: false,
            scratch: None,
            _lock: lock,
        })
    }

    /// Where results (stdout, stderr, outputs...) are assembled.
    pub fn results(&self) -> PathBuf {
        self.parent_path.join(&self.root_name).join("results")
    }

    /// A private work directory (staged inputs, output directories while the guest writes).
    pub fn work(&self) -> PathBuf {
        self.parent_path.join(&self.root_name).join("work")
    }

    /// Moves the assembled results into the target directory and removes the
    /// staging area. With `force`, an existing DIR is first renamed aside and
    /// deleted only once the new results are in place: a failure leaves the
    /// old results, never neither. A signal waits for this to finish.
    pub fn commit(mut self) -> Result<PathBuf, ResultsError> {
        match self.scratch.take() {
            Some(scratch) => scratch.settle(|| self.place()),
            None => self.place(),
        }
    }

    /// Renames the results into place (see [`Staging::commit`]).
    fn place(&mut self) -> Result<PathBuf, ResultsError> {
        let aside = self.clear_target()?;
        let results = format!("{}/results", self.root_name);
        let placed = self.parent.rename(&results, &self.parent, &self.name);
        if let Err(e) = placed {
            if let Some(aside) = &aside {
                let _ = self.parent.rename(aside, &self.parent, &self.name);
            }
            return Err(io_error("cannot publish", &self.target)(e));
        }
        if let Some(aside) = aside {
            let _ = self.parent.remove_dir_all(aside);
        }
        let _ = self.parent.remove_dir_all(&self.root_name);
        self.done = true;
        tracing::info!(dir = %self.target.display(), "results in place");
        Ok(self.target.clone())
    }

    /// Makes room for the results: moves an existing DIR aside (`force`,
    /// returning its new name) or removes it when empty.
    fn clear_target(&self) -> Result<Option<String>, ResultsError> {
        let meta = match self.parent.symlink_metadata(&self.name) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("cannot replace", &self.target)(e)),
        };
        if !meta.is_dir() {
            return Err(not_a_directory(&self.target, &meta));
        }
        if !self.force {
            // Checked empty in `prepare`; remove_dir fails safely if that changed since.
            self.parent
                .remove_dir(&self.name)
                .map_err(io_error("cannot replace", &self.target))?;
            return Ok(None);
        }
        let aside = format!(
            ".brine-old-{}-{}",
            self.name.to_string_lossy(),
            unique_suffix()
        );
        self.parent
            .rename(&self.name, &self.parent, &aside)
            .map_err(io_error("cannot move aside", &self.target))?;
        Ok(Some(aside))
    }

    /// Drops everything staged (nothing reaches the target).
    #[cfg(test)]
    pub fn discard(self) {}
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.parent.remove_dir_all(&self.root_name);
        }
    }
}

/// Refuses a target that is a link, not a directory, or (without `force`) not empty.
fn check_target(
    parent: &Dir,
    name: &OsString,
    target: &Path,
    force: bool,
) -> Result<(), ResultsError> {
    let meta = match parent.symlink_metadata(name) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("cannot inspect", target)(e)),
    };
    if !meta.is_dir() {
        return Err(not_a_directory(target, &meta));
    }
    let empty = parent
        .open_dir_nofollow(name)
        .and_then(|dir| dir.entries().map(|mut e| e.next().is_none()))
        .map_err(io_error("cannot read", target))?;
    if !force && !empty {
        return Err(ResultsError::NotEmpty(target.to_path_buf()));
    }
    Ok(())
}

fn not_a_directory(target: &Path, meta: &cap_std::fs::Metadata) -> ResultsError {
    let reason = if meta.is_symlink() {
        "it is a symbolic link (brine does not follow links for its results; give the real path)"
    } else {
        "it exists and is not a directory"
    };
    ResultsError::Refused {
        dir: target.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// An exclusive lock on a results directory: `.brine-<name>.lock` beside it,
/// holding the pid of the run that holds it. Removed (while still held) on drop.
#[derive(Debug)]
struct Lock {
    parent: Dir,
    name: String,
    _file: std::fs::File,
    /// Removes the lock file if a signal ends brine.
    _scratch: crate::cancel::Scratch,
}

/// How often a lock is retried when its holder removed the file as we opened it.
const LOCK_ATTEMPTS: usize = 8;

impl Lock {
    fn acquire(parent: &Dir, dir_name: &OsString, target: &Path) -> Result<Lock, ResultsError> {
        let name = format!(".brine-{}.lock", dir_name.to_string_lossy());
        let lock_path = target.with_file_name(&name);
        let failed = |e| io_error("cannot lock", &lock_path)(e);
        for _ in 0..LOCK_ATTEMPTS {
            let mut file = parent
                .open_with(
                    &name,
                    cap_std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create(true)
                        .follow(FollowSymlinks::No),
                )
                .map_err(failed)?
                .into_std();
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(ResultsError::InUse {
                        dir: target.to_path_buf(),
                        holder: holder(&mut file),
                    })
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(failed(e)),
            }
            // The previous holder removes the file as it finishes: only a lock on
            // the file the name still points at counts.
            if same_file(parent, &name, &file) {
                file.set_len(0).map_err(failed)?;
                write!(file, "{}", std::process::id()).map_err(failed)?;
                return Ok(Lock {
                    parent: parent.try_clone().map_err(failed)?,
                    name,
                    _file: file,
                    _scratch: crate::cancel::remove_on_signal(lock_path.clone()),
                });
            }
        }
        Err(failed(io::Error::other("the lock file keeps changing")))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.parent.remove_file(&self.name);
    }
}

fn holder(file: &mut std::fs::File) -> String {
    let mut text = String::new();
    let _ = file.take(32).read_to_string(&mut text);
    match text.trim().parse::<u32>() {
        Ok(pid) => format!("pid {pid}"),
        Err(_) => "pid unknown".to_string(),
    }
}

fn same_file(parent: &Dir, name: &str, file: &std::fs::File) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(by_name), Ok(held)) = (parent.symlink_metadata(name), file.metadata()) else {
        return false;
    };
    cap_std::fs::MetadataExt::dev(&by_name) == held.dev()
        && cap_std::fs::MetadataExt::ino(&by_name) == held.ino()
}

/// Removes staging directories an earlier run on the same DIR left behind
/// when it was killed (SIGKILL, a crash): with DIR's lock held, no live brine
/// owns one. Only exact `.brine-<name>-<pid>-<12 hex>` names are touched;
/// `.brine-old-*` (an earlier DIR moved aside by `--force`) may hold the only
/// copy of old results and is kept.
fn remove_stale_staging(parent: &Dir, name: &OsString) {
    let prefix = format!(".brine-{}-", name.to_string_lossy());
    let Ok(entries) = parent.entries() else {
        return;
    };
    for entry in entries.flatten() {
        let entry_name = entry.file_name();
        let stale = entry_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .is_some_and(is_pid_and_suffix);
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if stale && is_dir {
            let _ = parent.remove_dir_all(&entry_name);
        }
    }
}

/// `<pid>-<12 hex digits>`, the tail of a staging directory's name.
fn is_pid_and_suffix(tail: &str) -> bool {
    let Some((pid, hex)) = tail.split_once('-') else {
        return false;
    };
    !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && hex.len() == 12
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A suffix unique enough for concurrent brine processes on one machine.
pub(crate) fn unique_suffix() -> String {
    let mut bytes = [0u8; 6];
    let _ = getrandom::fill(&mut bytes);
    format!("{}-{}", std::process::id(), crate::text::hex(&bytes))
}

/// Moves a finished output directory into the results (same file system: a rename).
pub fn move_output(from: &Path, to: &Path) -> Result<(), ResultsError> {
    std::fs::rename(from, to).map_err(io_error("cannot move output to", to))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_killed_runs_staging_is_removed_by_the_next_run_on_the_same_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let stale = tmp.path().join(".brine-out-4242-0123456789ab");
        let other_dir = tmp.path().join(".brine-out-1-4242-0123456789ab");
        let aside = tmp.path().join(".brine-old-out-4242-0123456789ab");
        for dir in [&stale, &other_dir, &aside] {
            std::fs::create_dir_all(dir.join("results")).unwrap();
        }
        let staging = Staging::prepare(&tmp.path().join("out"), false).unwrap();
        assert!(!stale.exists(), "the killed run's staging is removed");
        assert!(other_dir.exists(), "staging of DIR out-1 is not this run's");
        assert!(aside.exists(), "old results moved aside are kept");
        staging.discard();
    }

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
        staging.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("stdout")).unwrap(),
            "hi"
        );
        assert!(!target.join("keep").exists());
    }

    #[test]
    fn a_failed_publish_puts_the_old_results_back() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("old"), "old").unwrap();
        let staging = Staging::prepare(&target, true).unwrap();
        // The new results vanish: the rename into place fails.
        std::fs::remove_dir_all(staging.results()).unwrap();
        assert!(staging.commit().is_err());
        assert_eq!(std::fs::read_to_string(target.join("old")).unwrap(), "old");
        let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(
            names.len(),
            1,
            "no staging, lock or moved-aside copy is left"
        );
    }

    #[test]
    fn a_second_staging_of_one_target_is_refused_while_the_first_lives() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        let first = Staging::prepare(&target, false).unwrap();
        let second = Staging::prepare(&target, true).unwrap_err();
        let expected = format!("(pid {})", std::process::id());
        assert!(second.to_string().contains(&expected), "{second}");
        first.discard();
        Staging::prepare(&target, false).unwrap().discard();
    }

    #[test]
    fn publishing_leaves_no_staging_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        let staging = Staging::prepare(&target, false).unwrap();
        staging.commit().unwrap();
        let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }
}
