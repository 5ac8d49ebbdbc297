//! `s3`: one object, or every object under a prefix, fetched with the official
//! AWS SDK.
//!
//! Credentials come from the SDK's default chain (environment, profile, web
//! identity, container and instance metadata); when it finds none, requests
//! go unsigned (anonymous access to public buckets). A custom `Endpoint`
//! (MinIO and other S3-compatible stores) uses path-style addressing.
//!
//! A `Key` ending in `*` (or `/`, or empty) is a prefix: every object under it
//! whose key matches `Filter` becomes a file in a directory mounted at the
//! target, named by its key with the prefix's directory part stripped. Any
//! other key is one object, mounted as a file. Downloads run concurrently (at
//! most [`MAX_CONCURRENT`]) into a `.partial` path that is renamed into place
//! only when every object arrived and verified.

use super::deadline::Expired;
use super::{InputSource, ParamError, Scratch, SourceError, StageArea, Staged};
use crate::s3::{chain, check_endpoint, client, describe, s3_url};
use crate::spec::Source;
use aws_sdk_s3::Client;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Most objects downloaded at once.
pub const MAX_CONCURRENT: usize = 8;

/// Most keys a prefix may list (a guard against a runaway listing).
pub const MAX_OBJECTS: usize = 1_000_000;

/// What went wrong talking to S3 or writing what it sent.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// The async runtime the SDK runs on could not start.
    #[error("cannot start the S3 client: {0}")]
    Runtime(std::io::Error),
    /// The credential chain failed (other than by finding no credentials).
    #[error("cannot load AWS credentials: {0}")]
    Credentials(String),
    /// A request failed.
    #[error("{url}: {message}")]
    Request {
        /// `s3://bucket/key` (or the bucket and prefix listed).
        url: String,
        /// What S3 or the connection said.
        message: String,
    },
    /// The downloaded bytes do not have the SHA-256 the job expects.
    #[error(
        "{url}: SHA-256 mismatch: the job expects {expected}, the downloaded object has {actual}"
    )]
    Checksum {
        /// The object.
        url: String,
        /// The job's `ChecksumSHA256`.
        expected: String,
        /// The SHA-256 of what arrived.
        actual: String,
    },
    /// A listed key that cannot be a path under the target.
    #[error("{url}: the key cannot be mounted as a file: {reason}")]
    UnsafeKey {
        /// The object.
        url: String,
        /// Why.
        reason: String,
    },
    /// The parameters do not make sense together.
    #[error(transparent)]
    Params(#[from] ParamError),
    /// A download task ended without an answer (it panicked or was cancelled).
    #[error("a download task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
    /// Staging's deadline passed before every object arrived.
    #[error("{0}")]
    Deadline(Expired),
    /// Writing a downloaded object failed.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl S3Error {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> S3Error + '_ {
        move |source| S3Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// An S3 input.
#[derive(Debug, Clone, Default)]
pub struct S3 {
    /// The bucket.
    pub bucket: String,
    /// A key, or a prefix ending in `*` (or `/`); empty means the whole bucket.
    pub key: String,
    /// A regex keys under a prefix must match.
    pub filter: Option<String>,
    /// The region (else the SDK's default chain, else `crate::s3::DEFAULT_REGION`).
    pub region: Option<String>,
    /// A custom endpoint URL (path-style addressing).
    pub endpoint: Option<String>,
    /// The version of a single object.
    pub version_id: Option<String>,
    /// The SHA-256 a single object must have, as hex.
    pub checksum_sha256: Option<String>,
    /// The most bytes this input may download in all (`--max-download`; `None`: no cap).
    pub max_bytes: Option<u64>,
}

/// What is left of an input's download cap, shared by its concurrent downloads.
#[derive(Debug)]
struct ByteBudget {
    limit: u64,
    used: std::sync::atomic::AtomicU64,
}

impl ByteBudget {
    fn new(limit: Option<u64>) -> std::sync::Arc<ByteBudget> {
        std::sync::Arc::new(ByteBudget {
            limit: limit.unwrap_or(u64::MAX),
            used: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Books `n` more bytes; false once the total passes the limit.
    fn take(&self, n: usize) -> bool {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        let before = self.used.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        before.saturating_add(n) <= self.limit
    }
}

/// One object to download.
#[derive(Debug, Clone)]
struct Object {
    bucket: String,
    key: String,
    version_id: Option<String>,
}

impl Object {
    fn url(&self) -> String {
        s3_url(&self.bucket, &self.key)
    }
}

impl S3 {
    /// The input a job's `s3` source describes (`None` for other source types).
    pub fn from_source(source: &Source) -> Option<S3> {
        let Source::S3 {
            bucket,
            key,
            filter,
            region,
            endpoint,
            version_id,
            checksum_sha256,
        } = source.clone()
        else {
            return None;
        };
        Some(S3 {
            bucket,
            key,
            filter,
            region,
            endpoint,
            version_id,
            checksum_sha256,
            max_bytes: None,
        })
    }

    /// Checks the parameters fit together; the message says what to change.
    pub fn check(&self) -> Result<(), ParamError> {
        if let Some(endpoint) = &self.endpoint {
            check_endpoint(endpoint)?;
        }
        self.filter_regex()?;
        if self.prefix().is_some() {
            if self.version_id.is_some() {
                return Err(ParamError::VersionWithPrefix);
            }
            if self.checksum_sha256.is_some() {
                return Err(ParamError::ChecksumWithPrefix);
            }
        }
        Ok(())
    }

    /// `Filter`, compiled.
    fn filter_regex(&self) -> Result<Option<regex::Regex>, ParamError> {
        let Some(filter) = &self.filter else {
            return Ok(None);
        };
        regex::Regex::new(filter)
            .map(Some)
            .map_err(|source| ParamError::BadFilter {
                filter: filter.clone(),
                source,
            })
    }

    /// The prefix to list, when `key` names a prefix rather than one object.
    pub fn prefix(&self) -> Option<&str> {
        if let Some(prefix) = self.key.strip_suffix('*') {
            return Some(prefix);
        }
        (self.key.is_empty() || self.key.ends_with('/')).then_some(self.key.as_str())
    }

    /// Downloads the object or prefix before the area's deadline; returns the
    /// staged file or directory.
    pub fn fetch(&self, area: &StageArea, index: usize) -> Result<PathBuf, S3Error> {
        self.check().map_err(S3Error::Params)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(S3Error::Runtime)?;
        let deadline = area.deadline();
        let fetch = async {
            let client = client(self.region.as_deref(), self.endpoint.as_deref())
                .await
                .map_err(|e| S3Error::Credentials(e.0))?;
            match self.prefix() {
                None => self.fetch_object(&client, area, index).await,
                Some(prefix) => self.fetch_prefix(&client, prefix, area, index).await,
            }
        };
        let Some(left) = deadline.remaining() else {
            return runtime.block_on(fetch);
        };
        // The timer is made inside the runtime: it needs its time driver.
        match runtime.block_on(async { tokio::time::timeout(left, fetch).await }) {
            Ok(fetched) => fetched,
            Err(_) => {
                // The downloads were dropped mid-way: nothing partial may stay.
                drop(Scratch::new(area.input_path(index, ".bin.partial")));
                drop(Scratch::new(area.input_path(index, ".partial")));
                Err(S3Error::Deadline(deadline.expired_error()))
            }
        }
    }

    async fn fetch_object(
        &self,
        client: &Client,
        area: &StageArea,
        index: usize,
    ) -> Result<PathBuf, S3Error> {
        let object = Object {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            version_id: self.version_id.clone(),
        };
        let file = area.input_path(index, ".bin");
        let partial = area.input_path(index, ".bin.partial");
        let budget = ByteBudget::new(self.max_bytes);
        let result = download(client, &object, &partial, &budget).await;
        let verified = result.and_then(|actual| self.verify(&object, actual));
        if let Err(e) = verified {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
        std::fs::rename(&partial, &file).map_err(S3Error::io(&file))?;
        Ok(file)
    }

    /// Compares a download's SHA-256 with `ChecksumSHA256`, if given.
    fn verify(&self, object: &Object, actual: String) -> Result<(), S3Error> {
        match &self.checksum_sha256 {
            Some(expected) if !expected.eq_ignore_ascii_case(&actual) => Err(S3Error::Checksum {
                url: object.url(),
                expected: expected.to_ascii_lowercase(),
                actual,
            }),
            _ => Ok(()),
        }
    }

    async fn fetch_prefix(
        &self,
        client: &Client,
        prefix: &str,
        area: &StageArea,
        index: usize,
    ) -> Result<PathBuf, S3Error> {
        let filter = self.filter_regex()?;
        let keys = list(client, &self.bucket, prefix).await?;
        let keys = keys
            .into_iter()
            .filter(|k| !k.ends_with('/') && filter.as_ref().is_none_or(|re| re.is_match(k)));
        let strip = prefix.rfind('/').map_or(0, |i| i + 1);
        let mut planned = Vec::new();
        for key in keys {
            let relative = relative_path(&self.bucket, &key, strip)?;
            let object = Object {
                bucket: self.bucket.clone(),
                key,
                version_id: None,
            };
            planned.push((object, relative));
        }
        let dir = area.input_path(index, "");
        let partial = area.input_path(index, ".partial");
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial).map_err(S3Error::io(&partial))?;
        let budget = ByteBudget::new(self.max_bytes);
        if let Err(e) = download_all(client, planned, &partial, budget).await {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
        std::fs::rename(&partial, &dir).map_err(S3Error::io(&dir))?;
        Ok(dir)
    }
}

impl InputSource for S3 {
    fn describe(&self) -> String {
        s3_url(&self.bucket, &self.key)
    }

    fn stage(&self, area: &StageArea, index: usize, target: &str) -> Result<Staged, SourceError> {
        let host_path = self.fetch(area, index).map_err(|e| match e {
            S3Error::Deadline(expired) => SourceError::Deadline {
                target: target.to_string(),
                kind: "s3",
                location: s3_url(&self.bucket, &self.key),
                expired,
            },
            e => SourceError::Invalid {
                target: target.to_string(),
                message: e.to_string(),
            },
        })?;
        Ok(Staged {
            host_path,
            read_only: true,
        })
    }
}

/// The path of `key` under the target: the key with its first `strip` bytes
/// (the prefix's directory part) removed; every component must be a plain name.
fn relative_path(bucket: &str, key: &str, strip: usize) -> Result<PathBuf, S3Error> {
    let unsafe_key = |reason: &str| S3Error::UnsafeKey {
        url: s3_url(bucket, key),
        reason: reason.to_string(),
    };
    let rest = key
        .get(strip..)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| unsafe_key("it is not under the listed prefix"))?;
    let mut path = PathBuf::new();
    for part in rest.split('/') {
        match part {
            "" => {
                return Err(unsafe_key(
                    "it has an empty path component (`//` or a leading `/`)",
                ))
            }
            "." | ".." => return Err(unsafe_key("it has a `.` or `..` component")),
            p if p.contains(['\0', '\\']) => {
                return Err(unsafe_key("it contains a NUL or a backslash"))
            }
            p => path.push(p),
        }
    }
    Ok(path)
}

/// Every key under `prefix`, following ListObjectsV2 continuation tokens.
async fn list(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<String>, S3Error> {
    let url = format!("{}*", s3_url(bucket, prefix));
    let failed = |message: String| S3Error::Request {
        url: url.clone(),
        message,
    };
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token.clone())
            .send()
            .await
            .map_err(|e| failed(describe(&e)))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(String::from),
        );
        if keys.len() > MAX_OBJECTS {
            return Err(failed(format!("more than {MAX_OBJECTS} objects")));
        }
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => {
                if token.as_deref() == Some(next) {
                    return Err(failed("the listing repeats its continuation token".into()));
                }
                token = Some(next.to_string());
            }
            _ => return Ok(keys),
        }
    }
}

/// Downloads every object to its path under `dir`, at most [`MAX_CONCURRENT`] at once.
async fn download_all(
    client: &Client,
    objects: Vec<(Object, PathBuf)>,
    dir: &Path,
    budget: std::sync::Arc<ByteBudget>,
) -> Result<(), S3Error> {
    let mut pending = objects.into_iter();
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < MAX_CONCURRENT {
            let Some((object, relative)) = pending.next() else {
                break;
            };
            let client = client.clone();
            let dest = dir.join(relative);
            let budget = std::sync::Arc::clone(&budget);
            running
                .spawn(async move { download(&client, &object, &dest, &budget).await.map(drop) });
        }
        match running.join_next().await {
            None => return Ok(()),
            Some(Ok(Ok(()))) => {}
            Some(Ok(Err(e))) => return Err(e),
            Some(Err(e)) => return Err(S3Error::Task(e)),
        }
    }
}

/// Downloads one object to `dest`; returns the SHA-256 of its bytes, as hex.
async fn download(
    client: &Client,
    object: &Object,
    dest: &Path,
    budget: &ByteBudget,
) -> Result<String, S3Error> {
    let failed = |message: String| S3Error::Request {
        url: object.url(),
        message,
    };
    let response = client
        .get_object()
        .bucket(&object.bucket)
        .key(&object.key)
        .set_version_id(object.version_id.clone())
        .send()
        .await
        .map_err(|e| failed(describe(&e)))?;
    if let Some(parent) = dest.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(S3Error::io(parent))?;
    }
    let mut file = tokio::fs::File::create(dest)
        .await
        .map_err(S3Error::io(dest))?;
    let mut body = response.body;
    let mut hasher = Sha256::new();
    while let Some(chunk) = body
        .try_next()
        .await
        .map_err(|e| failed(format!("the download broke off: {}", chain(&e))))?
    {
        if !budget.take(chunk.len()) {
            return Err(failed(format!(
                "the input is larger than --max-download ({}); raise --max-download",
                crate::units::format_size(budget.limit)
            )));
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(S3Error::io(dest))?;
    }
    file.flush().await.map_err(S3Error::io(dest))?;
    Ok(crate::text::hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(key: &str) -> S3 {
        S3 {
            bucket: "b".into(),
            key: key.into(),
            ..S3::default()
        }
    }

    #[test]
    fn a_trailing_star_slash_or_empty_key_is_a_prefix() {
        assert_eq!(source("data/in*").prefix(), Some("data/in"));
        assert_eq!(source("data/").prefix(), Some("data/"));
        assert_eq!(source("").prefix(), Some(""));
        assert_eq!(source("data/in.csv").prefix(), None);
    }

    #[test]
    fn the_prefix_directory_part_is_stripped() {
        let strip = "data/in".rfind('/').map_or(0, |i| i + 1);
        assert_eq!(
            relative_path("b", "data/inputs/a.csv", strip).unwrap(),
            PathBuf::from("inputs/a.csv")
        );
        assert_eq!(relative_path("b", "x/y", 0).unwrap(), PathBuf::from("x/y"));
    }

    #[test]
    fn keys_that_would_escape_are_refused() {
        for key in ["../etc/passwd", "a/../../b", "a//b", "/abs", "./a", "a\\b"] {
            assert!(relative_path("b", key, 0).is_err(), "{key}");
        }
        assert!(relative_path("b", "p/", 2).is_err());
    }

    #[test]
    fn version_and_checksum_need_a_single_object() {
        let mut s = source("data/*");
        s.version_id = Some("v1".into());
        assert!(s.check().unwrap_err().to_string().contains("VersionID"));
        let mut s = source("data/");
        s.checksum_sha256 = Some("0".repeat(64));
        assert!(s
            .check()
            .unwrap_err()
            .to_string()
            .contains("ChecksumSHA256"));
        s.key = "data/a".into();
        assert!(s.check().is_ok());
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        let mut s = source("k");
        s.endpoint = Some("localhost:9000".into());
        assert!(s.check().unwrap_err().to_string().contains("http://"));
        s.endpoint = Some("http://".into());
        assert!(s.check().is_err());
        s.endpoint = Some("http://127.0.0.1:9000".into());
        assert!(s.check().is_ok());
    }
}
