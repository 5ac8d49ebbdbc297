//! `localDirectory` / `local`: a host file or directory, mounted in place.
//!
//! Nothing is copied: the path is mounted directly, read-only unless the
//! job says `ReadWrite: true` (then the guest's writes reach the host path,
//! as in Bacalhau).

use super::{InputSource, SourceError, StageArea, Staged};
use std::path::{Path, PathBuf};

/// A local file or directory input.
#[derive(Debug, Clone)]
pub struct Local {
    /// The host path (already resolved against the job file's directory).
    pub path: PathBuf,
    /// Whether the guest may write to it.
    pub read_write: bool,
}

impl InputSource for Local {
    fn describe(&self) -> String {
        format!("localDirectory {}", self.path.display())
    }

    fn stage(&self, _area: &StageArea, _index: usize, target: &str) -> Result<Staged, SourceError> {
        let error = |source| SourceError::Local {
            target: target.to_string(),
            path: self.path.clone(),
            source,
        };
        let meta = std::fs::metadata(&self.path).map_err(error)?;
        if !(meta.is_dir() || meta.is_file()) {
            return Err(error(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file or directory (FIFOs, sockets and devices cannot be inputs)",
            )));
        }
        let host_path = std::fs::canonicalize(&self.path).map_err(error)?;
        Ok(Staged {
            host_path,
            read_only: !self.read_write,
        })
    }

    fn local_path(&self) -> Option<(&Path, bool)> {
        Some((&self.path, self.read_write))
    }
}
