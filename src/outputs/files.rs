//! Result files (`stdout`, `stderr`, `exitCode`, `brine.json`) created
//! through one handle on a partition's results directory, never by path.
//!
//! Each file is created with `O_CREAT|O_EXCL` and `O_NOFOLLOW`: a link planted
//! in its place makes brine fail rather than write through it to the host.
//! They are never read back (`brine.json`'s stdout and stderr heads are kept
//! as written, see `capped.rs`).

use super::ResultsError;
use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, OpenOptions};
use std::io::Write;
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
    fn a_planted_link_is_not_written_through() {
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
        assert_eq!(std::fs::read_to_string(&host_file).unwrap(), "SECRET");
        // A relative link escaping the directory is refused the same way.
        symlink("../host.txt", results.join("stderr")).unwrap();
        assert!(files.create("stderr").is_err());
        assert_eq!(std::fs::read_to_string(&host_file).unwrap(), "SECRET");

        files.write_new("fresh", b"ok").unwrap();
        assert_eq!(
            std::fs::read_to_string(results.join("fresh")).unwrap(),
            "ok"
        );
    }
}
