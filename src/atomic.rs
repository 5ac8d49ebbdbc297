//! Writing a file so that a reader finds all of it or none of it: the bytes go
//! to a fresh temporary file beside the destination (same file system), which
//! is then renamed over it. The temporary name is unpredictable and created
//! exclusively, so nothing planted under a guessable name can redirect the
//! write, and nothing already there is truncated or deleted.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Who may read the finished file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only the user (0600): journals hold what the guest read.
    Private,
    /// As any file the user writes (0644 less the umask): receipts are for sharing.
    Shared,
}

/// Writes `path` atomically with what `fill` writes into the temporary file.
pub fn write_with(
    path: &Path,
    access: Access,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".brine-").suffix(".partial");
    #[cfg(unix)]
    if access == Access::Shared {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut temp = builder.tempfile_in(dir)?;
    let scratch = crate::cancel::remove_on_signal(temp.path().to_path_buf());
    fill(temp.as_file_mut())?;
    temp.as_file_mut().flush()?;
    scratch.settle(|| temp.persist(path).map_err(|e| e.error))?;
    Ok(())
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8], access: Access) -> io::Result<()> {
    write_with(path, access, |file| file.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_nothing_else() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("r.json");
        std::fs::write(&path, "old").unwrap();
        std::fs::write(tmp.path().join("r.json.partial"), "keep").unwrap();
        write(&path, b"new", Access::Shared).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let mut names: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["r.json", "r.json.partial"]);
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_for_the_user_only() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("j");
        write(&path, b"x", Access::Private).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
    }
}
