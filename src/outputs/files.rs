//! Result files (`stdout`, `stderr`, `exitCode`, `brine.json`) created and
//! read through one handle on a partition's results directory, never by path.
//!
//! Each file is created with `O_CREAT|O_EXCL` and read with `O_NOFOLLOW`: a
//! link planted in its place makes brine fail rather than write through it to
//! the host or copy a host file into the results.

use super::summary::HEAD_BYTES;
use super::ResultsError;
use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A partition's results directory, opened once.
#[derive(Debug)]
pub struct ResultFiles {
    dir: Dir,
    path: PathBuf,
}

impl ResultFiles {
    /// Opens the results directory `path` (brine's own staging, which no guest mounts).
    pub fn open(path: &Path) -> Result<Self, ResultsError> {
        let dir = Dir::open_ambient_dir(path, cap_std::ambient_authority())
            .map_err(|source| self::io("cannot open", path, source))?;
        Ok(ResultFiles {
            dir,
            path: path.to_path_buf(),
        })
    }

    /// Creates the result file `name`, which must not exist yet (not even as a link).
    pub fn create(&self, name: &str) -> Result<std::fs::File, ResultsError> {
        let mut options = OpenOptions::new();
        options
            .write(true)
            .create_new(true)
            .follow(FollowSymlinks::No);
        self.dir
            .open_with(name, &options)
            .map(cap_std::fs::File::into_std)
            .map_err(|source| self::io("cannot create", &self.path.join(name), source))
    }

    /// Creates the result file `name` holding `bytes`.
    pub fn write_new(&self, name: &str, bytes: &[u8]) -> Result<(), ResultsError> {
        let mut file = self.create(name)?;
        file.write_all(bytes)
            .map_err(|source| self::io("cannot write", &self.path.join(name), source))
    }

    /// The first [`HEAD_BYTES`] of the result file `name`, as text (empty when
    /// it is missing, or is anything but a regular file).
    pub fn head(&self, name: &str) -> String {
        let mut options = OpenOptions::new();
        options.read(true).follow(FollowSymlinks::No);
        let mut buf = Vec::with_capacity(HEAD_BYTES);
        if let Ok(file) = self.dir.open_with(name, &options) {
            if file.metadata().is_ok_and(|m| m.is_file()) {
                let _ = file.take(HEAD_BYTES as u64).read_to_end(&mut buf);
            }
        }
        String::from_utf8_lossy(&buf).into_owned()
    }
}

fn io(what: &'static str, path: &Path, source: std::io::Error) -> ResultsError {
    ResultsError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_planted_link_is_neither_written_through_nor_read() {
        let tmp = tempfile::tempdir().unwrap();
        let results = tmp.path().join("results");
        std::fs::create_dir(&results).unwrap();
        let host_file = tmp.path().join("host.txt");
        std::fs::write(&host_file, "SECRET").unwrap();
        for name in ["exitCode", "brine.json", "stdout"] {
            symlink(&host_file, results.join(name)).unwrap();
        }
        let files = ResultFiles::open(&results).unwrap();
        assert!(files.write_new("exitCode", b"0").is_err());
        assert!(files.create("brine.json").is_err());
        assert_eq!(files.head("stdout"), "", "a link is not read");
        assert_eq!(std::fs::read_to_string(&host_file).unwrap(), "SECRET");
        // A relative link escaping the directory is refused the same way.
        symlink("../host.txt", results.join("stderr")).unwrap();
        assert!(files.create("stderr").is_err());
        assert_eq!(files.head("stderr"), "");
        assert_eq!(std::fs::read_to_string(&host_file).unwrap(), "SECRET");

        files.write_new("fresh", b"ok").unwrap();
        assert_eq!(files.head("fresh"), "ok");
    }
}
