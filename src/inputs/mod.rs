//! Input sources: each type fetches or locates its data and stages it for mounting.
//!
//! One file per source type, each behind [`InputSource`]. Staging writes into
//! a `.partial` path inside the work directory and renames it into place only
//! when it is complete, so a half-written input is never mounted.
//!
//! Remote sources (`urlDownload`, `ipfs`) share one [`http::Downloader`] and
//! an optional [`cache::Cache`] through [`http::Remote`].

#[cfg(feature = "http")]
pub mod cache;
pub mod deadline;
pub mod extract;
#[cfg(feature = "http")]
pub mod http;
pub mod inline;
#[cfg(feature = "http")]
pub mod ipfs;
pub mod local;
pub mod once;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(feature = "http")]
pub mod url;

use deadline::{Deadline, Expired};
use std::path::{Path, PathBuf};

/// An input whose parameters cannot be used, found when the job is planned;
/// the message says what to change. (Every variant is about a remote source:
/// a build without the `http` feature has none.)
#[cfg(feature = "http")]
#[derive(Debug, thiserror::Error)]
pub enum ParamError {
    /// The URL does not parse.
    #[cfg(feature = "http")]
    #[error("`{url}` is not a valid URL: {source}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// Why it does not parse.
        source: ureq::http::uri::InvalidUri,
    },
    /// A URL of another scheme.
    #[cfg(feature = "http")]
    #[error("`{url}` is not an http or https URL")]
    NotHttp {
        /// The URL as given.
        url: String,
    },
    /// A URL without a host.
    #[cfg(feature = "http")]
    #[error("`{url}` has no host")]
    NoHost {
        /// The URL as given.
        url: String,
    },
    /// Not the syntax of a CID brine knows.
    #[cfg(feature = "http")]
    #[error("`{cid}` is not an IPFS CID (expected a CIDv0 `Qm...` of 46 base58 characters, or a CIDv1 such as `bafy...` in base32)")]
    BadCid {
        /// The CID as given.
        cid: String,
    },
    /// A custom S3 endpoint brine cannot use.
    #[cfg(feature = "s3")]
    #[error(transparent)]
    Endpoint(#[from] crate::s3::EndpointError),
    /// An S3 `Filter` that is not a regular expression.
    #[cfg(feature = "s3")]
    #[error("Filter `{filter}`: {source}")]
    BadFilter {
        /// The filter as given.
        filter: String,
        /// Why it does not compile.
        source: regex::Error,
    },
    /// `VersionID` with a prefix key.
    #[cfg(feature = "s3")]
    #[error("VersionID names one object's version; it cannot be used with a prefix Key (ending in `*` or `/`, or empty)")]
    VersionWithPrefix,
    /// `ChecksumSHA256` with a prefix key.
    #[cfg(feature = "s3")]
    #[error("ChecksumSHA256 verifies one object; it cannot be used with a prefix Key (ending in `*` or `/`, or empty)")]
    ChecksumWithPrefix,
}

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
    /// The failure of another partition's staging of the same input (its message as is).
    #[error("{0}")]
    Shared(std::sync::Arc<SourceError>),
    /// Content that cannot be decoded.
    #[error("input {target}: {message}")]
    Invalid {
        /// The guest target.
        target: String,
        /// What is wrong.
        message: String,
    },
    /// A remote input that could not be fetched; names the source, e.g.
    /// `input /inputs (urlDownload http://host/data.csv): HTTP 404 Not Found`.
    #[cfg(feature = "http")]
    #[error("input {target} ({kind} {location}): {error}")]
    Fetch {
        /// The guest target.
        target: String,
        /// The source type as written in job files.
        kind: &'static str,
        /// The URL, or the CID and gateway.
        location: String,
        /// What went wrong.
        error: http::FetchError,
    },
    /// Staging ran out of time; names the input and the limit to raise, e.g.
    /// `input /inputs (urlDownload http://host/x): stopped at the job's TotalTimeout of 3s; ...`.
    #[error("input {target} ({kind} {location}): {expired}")]
    Deadline {
        /// The guest target.
        target: String,
        /// The source type as written in job files.
        kind: &'static str,
        /// The URL, CID or bucket; empty for inline data.
        location: String,
        /// Which limit passed.
        expired: Expired,
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

#[cfg(feature = "http")]
impl SourceError {
    /// A failed fetch of a remote input; a passed deadline gets its own message.
    pub fn fetch(
        target: &str,
        kind: &'static str,
        location: String,
        error: http::FetchError,
    ) -> SourceError {
        let target = target.to_string();
        match error {
            http::FetchError::Deadline(expired) => SourceError::Deadline {
                target,
                kind,
                location,
                expired,
            },
            error => SourceError::Fetch {
                target,
                kind,
                location,
                error,
            },
        }
    }
}

/// An input, staged: the host file or directory to mount at its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    /// The host file or directory.
    pub host_path: PathBuf,
    /// Whether the guest may modify it.
    pub read_only: bool,
}

/// Where inputs are staged: a work directory private to one execution, and
/// the deadline staging must meet.
#[derive(Debug, Clone)]
pub struct StageArea {
    root: PathBuf,
    deadline: Deadline,
}

impl StageArea {
    /// A stage area in `root` (created by the caller), with no deadline.
    pub fn new(root: PathBuf) -> Self {
        StageArea {
            root,
            deadline: Deadline::none(),
        }
    }

    /// The same area, with staging bounded by `deadline`.
    pub fn with_deadline(mut self, deadline: Deadline) -> Self {
        self.deadline = deadline;
        self
    }

    /// When staging must be done by.
    pub fn deadline(&self) -> Deadline {
        self.deadline
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

/// A path in the stage area that is removed when dropped unless it was moved
/// into place: a failed fetch leaves nothing partial behind.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
    kept: bool,
}

impl Scratch {
    /// Claims `path`, removing whatever an earlier, interrupted attempt left there.
    pub fn new(path: PathBuf) -> Self {
        remove_any(&path);
        Scratch { path, kept: false }
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the finished file or directory to `to`; it is then no longer removed.
    pub fn persist(mut self, to: &Path) -> std::io::Result<()> {
        std::fs::rename(&self.path, to)?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.kept {
            remove_any(&self.path);
        }
    }
}

/// Removes a file or a directory tree, if present.
fn remove_any(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}

/// One input source type.
pub trait InputSource: std::fmt::Debug + Send + Sync {
    /// Makes input number `index` (mounted at guest `target`) available on the host.
    fn stage(&self, area: &StageArea, index: usize, target: &str) -> Result<Staged, SourceError>;

    /// What the input is, in a few words for logs and progress (its type and
    /// where it comes from; never its data).
    fn describe(&self) -> String;

    /// The host path this input mounts in place, and whether the guest may write
    /// to it (`None` for inputs copied into brine's staging area). The results
    /// directory is kept clear of these paths.
    fn local_path(&self) -> Option<(&Path, bool)> {
        None
    }
}
