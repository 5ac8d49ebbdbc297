//! Publishers: where a completed execution's results go besides `--output`.
//!
//! A task's `Publisher` runs only when the execution completed, after the
//! outputs were moved into the results directory and `exitCode` was written;
//! it publishes `stdout`, `stderr`, `exitCode` and every output directory
//! (not `brine.json`, which records what was published). `local` copies them
//! to a directory or a `.tar.gz`, `s3` uploads them under a key prefix with a
//! manifest written last, `noop` does nothing, and `ipfs` is refused when the
//! job is planned. A publish failure fails the execution.
//!
//! Locations may hold `{jobID}`, `{executionID}` and `{partitionIndex}`. When
//! a job has several partitions and the location names neither of the last
//! two, each partition publishes under `<location>/<index>` (a `.tar.gz`
//! becomes `<name>-<index>.tar.gz`), so partitions never collide.

pub mod local;
#[cfg(feature = "s3")]
pub mod s3;

pub use crate::outputs::summary::{Published, PublishedObject};

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What went wrong while publishing.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// A file system operation failed.
    #[error("publishing to {location}: {path}: {source}")]
    Io {
        /// Where the results were going.
        location: String,
        /// The file involved.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An upload to S3 failed: the destination refused, a request failed.
    #[cfg(feature = "s3")]
    #[error("publishing to {location}: {source}")]
    Upload {
        /// Where the results were going.
        location: String,
        /// What went wrong.
        #[source]
        source: s3::UploadError,
    },
}

/// A `Publisher` block brine cannot use; the message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `ipfs` publishing needs an IPFS node.
    #[error("publisher type `ipfs` is not supported by brine (it has no IPFS node to publish to); use local, s3 or noop")]
    Ipfs,
    /// A type brine does not know.
    #[error("unknown publisher type `{kind}`; expected local, s3 or noop")]
    UnknownType {
        /// The type as written.
        kind: String,
    },
    /// A parameter the publisher does not take.
    #[error(
        "Publisher.Params.{name}: the {kind} publisher has no such parameter (it takes {known})"
    )]
    UnknownParam {
        /// The parameter as written.
        name: String,
        /// The publisher type.
        kind: String,
        /// The parameters it takes, comma-separated.
        known: String,
    },
    /// A parameter that should be a string.
    #[error("Publisher.Params.{name}: expected a string, found {found}")]
    NotAString {
        /// The parameter.
        name: String,
        /// The value found, as JSON.
        found: String,
    },
    /// A required parameter is missing.
    #[error("Publisher.Params.{name}: the {kind} publisher needs {what}")]
    Missing {
        /// The parameter.
        name: String,
        /// The publisher type.
        kind: String,
        /// What the parameter names.
        what: String,
    },
    /// A custom S3 endpoint that is not a URL brine can use.
    #[cfg(feature = "s3")]
    #[error("Publisher.Params.{0}")]
    Endpoint(#[source] crate::s3::EndpointError),
    /// A publisher type this build of brine was compiled without.
    #[error("publisher type `{kind}` {}", crate::features::missing(feature))]
    NotBuilt {
        /// The publisher type.
        kind: &'static str,
        /// The cargo feature it needs.
        feature: &'static str,
    },
}

/// The execution being published: fills placeholders and partition suffixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The job id.
    pub job_id: String,
    /// The execution id.
    pub execution_id: String,
    /// The partition index.
    pub partition_index: u32,
    /// How many partitions the job has.
    pub partition_count: u32,
}

/// A result publisher.
pub trait Publisher: std::fmt::Debug + Send + Sync {
    /// Publishes the results directory `results`; `None` when nothing was published.
    fn publish(&self, results: &Path, cx: &Context) -> Result<Option<Published>, PublishError>;

    /// The host directory a local publisher writes under (up to its first
    /// placeholder), so a run can refuse one that a guest could reach.
    fn local_destination(&self) -> Option<PathBuf> {
        None
    }
}

/// `noop`: publishes nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Noop;

impl Publisher for Noop {
    fn publish(&self, _results: &Path, _cx: &Context) -> Result<Option<Published>, PublishError> {
        Ok(None)
    }
}

/// The publisher a job's `Publisher` block asks for; relative local paths are
/// resolved against `base` (the job file's directory). The error says what to change.
pub fn from_spec(
    spec: &crate::spec::Publisher,
    base: &Path,
) -> Result<Arc<dyn Publisher>, ConfigError> {
    let params = Params::new(&spec.params);
    match spec.kind.as_str() {
        "noop" => Ok(Arc::new(Noop)),
        "local" => Ok(Arc::new(local::Local::from_params(&params, base)?)),
        #[cfg(feature = "s3")]
        "s3" => Ok(Arc::new(s3::S3Publisher::from_params(&params)?)),
        #[cfg(not(feature = "s3"))]
        "s3" => Err(ConfigError::NotBuilt {
            kind: "s3",
            feature: "s3",
        }),
        "ipfs" => Err(ConfigError::Ipfs),
        other => Err(ConfigError::UnknownType {
            kind: other.to_string(),
        }),
    }
}

/// A publisher's parameters, looked up by name in any case.
#[derive(Debug)]
pub struct Params<'a> {
    map: &'a BTreeMap<String, Value>,
}

impl<'a> Params<'a> {
    /// Wraps a `Publisher.Params` mapping.
    pub fn new(map: &'a BTreeMap<String, Value>) -> Self {
        Params { map }
    }

    /// Refuses parameters not in `known`.
    pub fn only(&self, kind: &str, known: &[&str]) -> Result<(), ConfigError> {
        for name in self.map.keys() {
            if !known.iter().any(|k| k.eq_ignore_ascii_case(name)) {
                return Err(ConfigError::UnknownParam {
                    name: name.clone(),
                    kind: kind.to_string(),
                    known: known.join(", "),
                });
            }
        }
        Ok(())
    }

    /// A string parameter, if present (and not empty).
    pub fn string(&self, name: &str) -> Result<Option<String>, ConfigError> {
        let value = self
            .map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v);
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(ConfigError::NotAString {
                name: name.to_string(),
                found: other.to_string(),
            }),
        }
    }

    /// A required string parameter.
    pub fn required(&self, kind: &str, name: &str, what: &str) -> Result<String, ConfigError> {
        self.string(name)?.ok_or_else(|| ConfigError::Missing {
            name: name.to_string(),
            kind: kind.to_string(),
            what: what.to_string(),
        })
    }
}

/// Fills `{jobID}`, `{executionID}` and `{partitionIndex}` in `template`.
pub fn expand(template: &str, cx: &Context) -> String {
    template
        .replace("{jobID}", &cx.job_id)
        .replace("{executionID}", &cx.execution_id)
        .replace("{partitionIndex}", &cx.partition_index.to_string())
}

/// Whether partitions of a job with several need their own suffix on `template`.
pub fn needs_partition_suffix(template: &str, cx: &Context) -> bool {
    cx.partition_count > 1
        && !template.contains("{executionID}")
        && !template.contains("{partitionIndex}")
}

/// A file or directory in the results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its path relative to the results directory, `/`-separated.
    pub name: String,
    /// Its host path.
    pub path: PathBuf,
    /// Whether it is a directory.
    pub is_dir: bool,
}

/// How deep a results tree may nest.
const MAX_DEPTH: usize = 512;

/// Every file and directory under `results`, parents first, in name order.
/// Symbolic links are skipped (they could point anywhere on the host), and so
/// is a top-level `brine.json`.
pub fn entries(results: &Path) -> std::io::Result<Vec<Entry>> {
    let mut found = Vec::new();
    walk(results, "", 0, &mut found)?;
    found.retain(|e| e.name != "brine.json");
    Ok(found)
}

fn walk(dir: &Path, prefix: &str, depth: usize, found: &mut Vec<Entry>) -> std::io::Result<()> {
    if depth > MAX_DEPTH {
        return Err(std::io::Error::other(format!(
            "{}: nested more than {MAX_DEPTH} directories deep",
            dir.display()
        )));
    }
    let mut children = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    children.sort_by_key(|c| c.file_name());
    for child in children {
        let path = child.path();
        let file_name = child.file_name();
        let Some(file_name) = file_name.to_str() else {
            return Err(std::io::Error::other(format!(
                "{}: the name is not UTF-8",
                path.display()
            )));
        };
        let name = format!("{prefix}{file_name}");
        let kind = child.file_type()?;
        if kind.is_dir() {
            found.push(Entry {
                name: name.clone(),
                path: path.clone(),
                is_dir: true,
            });
            walk(&path, &format!("{name}/"), depth + 1, found)?;
        } else if kind.is_file() {
            found.push(Entry {
                name,
                path,
                is_dir: false,
            });
        }
    }
    Ok(())
}

/// The most a published file may hold in holes (bytes of its length not on
/// disk). Every published file is read in full to hash it, and most
/// destinations (an S3 object, a tar archive) store the zeros: a guest's one
/// byte at offset 1 TiB would take hours. Set `Resources.Disk` to bound what a
/// guest may write.
pub const MAX_HOLE_BYTES: u64 = 1 << 30;

/// Opens a result file to publish: a regular file, not through a link, not mostly holes.
pub fn open_result(path: &Path) -> std::io::Result<std::fs::File> {
    let file = crate::outputs::nofollow::open_regular(path)?;
    let meta = file.metadata()?;
    let holes = crate::outputs::sparse::hole_bytes(&meta);
    if holes > MAX_HOLE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "a sparse file of {} bytes with only {} on disk; brine publishes at most {MAX_HOLE_BYTES} bytes of holes per file (set Resources.Disk to stop a guest earlier)",
                meta.len(),
                meta.len() - holes
            ),
        ));
    }
    Ok(file)
}

/// The size and SHA-256 (hex) of a file (opened with [`open_result`]).
pub fn digest(path: &Path) -> std::io::Result<(u64, String)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = open_result(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(buf.get(..n).unwrap_or_default());
        size += n as u64;
    }
    Ok((size, crate::text::hex(&hasher.finalize())))
}

/// Every file among `entries`, with its size and SHA-256, named by `name`.
pub fn describe_files(
    entries: &[Entry],
    name: impl Fn(&Entry) -> String,
) -> std::io::Result<Vec<PublishedObject>> {
    entries
        .iter()
        .filter(|e| !e.is_dir)
        .map(|e| {
            let (size, sha256) = digest(&e.path)
                .map_err(|err| std::io::Error::new(err.kind(), format!("{}: {err}", e.name)))?;
            Ok(PublishedObject {
                name: name(e),
                size,
                sha256,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(count: u32) -> Context {
        Context {
            job_id: "j-1".into(),
            execution_id: "e-2".into(),
            partition_index: 1,
            partition_count: count,
        }
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            expand("out/{jobID}/{executionID}/{partitionIndex}", &cx(2)),
            "out/j-1/e-2/1"
        );
        assert!(needs_partition_suffix("out", &cx(2)));
        assert!(!needs_partition_suffix("out/{partitionIndex}", &cx(2)));
        assert!(!needs_partition_suffix("out", &cx(1)));
    }

    #[test]
    fn params_are_case_insensitive_and_checked() {
        let mut map = BTreeMap::new();
        map.insert("path".to_string(), Value::String("x".into()));
        let params = Params::new(&map);
        assert_eq!(params.string("Path").unwrap().as_deref(), Some("x"));
        assert!(params.only("local", &["Path"]).is_ok());
        assert!(params
            .only("local", &["URL"])
            .unwrap_err()
            .to_string()
            .contains("no such parameter"));
        map.insert("Bucket".to_string(), Value::Bool(true));
        assert!(Params::new(&map).string("bucket").is_err());
    }

    #[test]
    fn entries_skip_links_and_the_summary() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("stdout"), "hi").unwrap();
        std::fs::write(tmp.path().join("brine.json"), "{}").unwrap();
        std::fs::create_dir_all(tmp.path().join("out/sub")).unwrap();
        std::fs::write(tmp.path().join("out/sub/a"), "a").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc/passwd", tmp.path().join("out/link")).unwrap();
        let names: Vec<_> = entries(tmp.path())
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["out", "out/sub", "out/sub/a", "stdout"]);
    }
}
