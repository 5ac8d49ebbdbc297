//! Where a results directory may go: never over what a run needs or the user
//! keeps, never where a guest could see brine's staging.
//!
//! Paths are compared canonicalized (links in them resolved), so `.`, `..`,
//! `a/../b` or a link to the job's directory cannot hide a clash.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

/// A host path the results directory must keep clear of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    /// What it is, for messages: `the job file`, `input /data (read-write)`.
    pub what: String,
    /// Its host path (canonicalized when checked; a path that does not exist is skipped).
    pub path: PathBuf,
    /// Whether a guest mounts it: then the staging directory beside the
    /// results must not lie inside it either.
    pub mounted: bool,
    /// Whether the guest may write in it: then no other path brine uses may lie
    /// inside it (the guest could have replaced it with a link).
    pub read_write: bool,
}

/// The read-write input that `path` lies inside, if one does (one mounted at
/// exactly `path` does not count: a guest cannot replace its own mount's root).
/// A guest writing there could have replaced `path`, or a directory above it,
/// with a link to anywhere on the host, and brine reaches `path` by name.
pub fn read_write_input_over<'a>(path: &Path, protected: &'a [Protected]) -> Option<&'a Protected> {
    let path = canonical_lenient(&std::path::absolute(path).ok()?).ok()?;
    protected.iter().filter(|p| p.read_write).find(|p| {
        std::fs::canonicalize(&p.path).is_ok_and(|root| path != root && path.starts_with(&root))
    })
}

/// The results directory, resolved: its canonical parent and its name in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The directory holding DIR, its staging area and its lock.
    pub parent: PathBuf,
    /// DIR's name in `parent`.
    pub name: OsString,
}

impl Resolved {
    /// DIR's full canonical path.
    pub fn full(&self) -> PathBuf {
        self.parent.join(&self.name)
    }
}

/// Resolves `target` without following a link in its last component (a link
/// there is refused later, by name): the parent is canonicalized as far as it exists.
pub fn resolve(target: &Path) -> io::Result<Resolved> {
    let absolute = std::path::absolute(target)?;
    let last_is_name = matches!(
        absolute.components().next_back(),
        Some(Component::Normal(_))
    );
    let (parent, name) = match (last_is_name, absolute.parent(), absolute.file_name()) {
        (true, Some(parent), Some(name)) => (canonical_lenient(parent)?, name.to_os_string()),
        _ => {
            // `..`, or `/`: only the canonical form says which directory it is.
            let full = canonical_lenient(&absolute)?;
            match (full.parent(), full.file_name()) {
                (Some(parent), Some(name)) => (parent.to_path_buf(), name.to_os_string()),
                _ => (full.clone(), OsString::new()),
            }
        }
    };
    Ok(Resolved { parent, name })
}

/// `path` canonicalized as far as it exists, the rest appended lexically
/// (what does not exist yet holds no link, so `..` there means its parent).
fn canonical_lenient(path: &Path) -> io::Result<PathBuf> {
    for ancestor in path.ancestors() {
        let Ok(mut resolved) = std::fs::canonicalize(ancestor) else {
            continue;
        };
        let rest = path.strip_prefix(ancestor).unwrap_or(Path::new(""));
        for component in rest.components() {
            match component {
                Component::ParentDir => {
                    resolved.pop();
                }
                Component::Normal(name) => resolved.push(name),
                _ => {}
            }
        }
        return Ok(resolved);
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "no part of the path exists",
    ))
}

/// Why `dir` cannot be the results directory, if it cannot: it is `/`, the
/// current or home directory or one of their parents, or it holds (or lies in
/// a mounted) protected path. `--force` would delete what it holds; a guest
/// could reach the staging beside a DIR inside its mount.
pub fn refusal(dir: &Resolved, protected: &[Protected]) -> Option<String> {
    if dir.name.is_empty() {
        return Some("it is the root directory".to_string());
    }
    let full = dir.full();
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| d.canonicalize().ok());
    if cwd.is_some_and(|cwd| cwd.starts_with(&full)) {
        return Some("it is the current directory or one of its parents".to_string());
    }
    let home = std::env::var_os("HOME").and_then(|h| std::fs::canonicalize(h).ok());
    if home.is_some_and(|home| home.starts_with(&full)) {
        return Some("it is the home directory or one of its parents".to_string());
    }
    protected.iter().find_map(|p| clash(dir, &full, p))
}

fn clash(dir: &Resolved, full: &Path, protected: &Protected) -> Option<String> {
    let path = std::fs::canonicalize(&protected.path).ok()?;
    let what = &protected.what;
    if path.starts_with(full) {
        return Some(format!(
            "it holds {what} ({}), which replacing the results would delete",
            path.display()
        ));
    }
    if protected.mounted && dir.parent.starts_with(&path) {
        return Some(format!(
            "it lies inside {what} ({}), where the guest could reach brine's staging and results",
            path.display()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_dot_and_missing_parts_resolve_to_real_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().canonicalize().unwrap();
        std::fs::create_dir(base.join("a")).unwrap();
        let r = resolve(&base.join("a/../b/c/../d")).unwrap();
        assert_eq!(r.full(), base.join("b/d"));
        let r = resolve(&base.join("a/..")).unwrap();
        assert_eq!(r.full(), base);
        assert!(resolve(Path::new("/")).unwrap().name.is_empty());
    }

    #[test]
    fn a_dir_holding_or_inside_a_mounted_input_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(base.join("job/data")).unwrap();
        let input = Protected {
            what: "input /data".into(),
            path: base.join("job/data"),
            mounted: true,
            read_write: false,
        };
        let inputs = [input];
        let inside = resolve(&base.join("job/data/out")).unwrap();
        assert!(refusal(&inside, &inputs).unwrap().contains("lies inside"));
        let holding = resolve(&base.join("job")).unwrap();
        assert!(refusal(&holding, &inputs).unwrap().contains("it holds"));
        let beside = resolve(&base.join("job/out")).unwrap();
        assert_eq!(refusal(&beside, &inputs), None);
    }
}
