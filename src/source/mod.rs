//! Input sources: each type fetches or locates its data and stages it for mounting.
//!
//! One file per source type, each behind [`InputSource`]. Staging writes into
//! a `.partial` path inside the work directory and renames it into place only
//! when it is complete, so a half-written input is never mounted.

pub mod inline;
pub mod local;
pub mod s3;

use std::path::{Path, PathBuf};

/// What went wrong while staging an input.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A local path that does not exist or cannot be read.
    #[error("input {target}: {path}: {source}")]
    Local {
        /// The guest target.
        target: String,
        /// The host path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Content that cannot be decoded.
    #[error("input {target}: {message}")]
    Invalid {
        /// The guest target.
        target: String,
        /// What is wrong.
        message: String,
    },
    /// Writing into the work directory failed.
    #[error("input {target}: cannot stage it in {path}: {source}")]
    Stage {
        /// The guest target.
        target: String,
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// An input, staged: the host file or directory to mount at its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    /// The host file or directory.
    pub host_path: PathBuf,
    /// Whether the guest may modify it.
    pub read_only: bool,
}

/// Where inputs are staged: a work directory private to one execution.
#[derive(Debug, Clone)]
pub struct StageArea {
    root: PathBuf,
}

impl StageArea {
    /// A stage area in `root` (created by the caller).
    pub fn new(root: PathBuf) -> Self {
        StageArea { root }
    }

    /// The final path of input number `index` (with `suffix`, e.g. `.bin`).
    pub fn input_path(&self, index: usize, suffix: &str) -> PathBuf {
        self.root.join(format!("input-{index}{suffix}"))
    }

    /// The stage area's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// One input source type.
pub trait InputSource: std::fmt::Debug + Send + Sync {
    /// Makes input number `index` (mounted at guest `target`) available on the host.
    fn stage(&self, area: &StageArea, index: usize, target: &str) -> Result<Staged, SourceError>;
}
