//! `ipfs`: content addressed by a CID, fetched through an HTTP gateway.
//!
//! brine asks the gateway (`--ipfs-gateway`, default a local node's
//! `http://127.0.0.1:8080`) for the trustless TAR form of the CID:
//! `GET {gateway}/ipfs/{CID}?format=tar` with `Accept: application/x-tar`.
//! The tar's single top-level entry is the CID itself: a file becomes a file
//! at Target, a directory becomes a directory at Target. Extraction (see
//! [`super::extract`]) accepts only relative paths without `..`, regular files and
//! directories (links are refused, so nothing written can land outside the
//! input), caps the extracted size at the download limit, and stops at the
//! staging deadline. Content under a CID never changes, so a cached TAR is
//! used without asking the gateway again.

use super::deadline::Deadline;
use super::extract::{self, ExtractError, Rules};
use super::http::{FetchError, Get, Remote};
use super::{InputSource, ParamError, Scratch, SourceError, StageArea, Staged};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::{info, warn};

/// An `ipfs` input.
#[derive(Debug, Clone)]
pub struct Ipfs {
    cid: String,
    remote: Arc<Remote>,
}

impl Ipfs {
    /// Checks the CID's syntax.
    pub fn new(cid: &str, remote: Arc<Remote>) -> Result<Self, ParamError> {
        validate_cid(cid)?;
        Ok(Ipfs {
            cid: cid.to_string(),
            remote,
        })
    }

    /// The gateway URL of the CID's TAR form.
    pub fn url(&self) -> String {
        format!("{}/ipfs/{}?format=tar", self.remote.ipfs_gateway, self.cid)
    }

    /// The TAR for the CID: the cached one, or a download into `scratch`.
    fn tar(&self, scratch: &Path, deadline: Deadline) -> Result<PathBuf, FetchError> {
        let cache = self.remote.cache.as_ref();
        if let Some(cached) = cache.and_then(|c| c.ipfs(&self.cid)) {
            info!(cid = %self.cid, "using the cached copy");
            return Ok(cached);
        }
        let url = self.url();
        let get = Get {
            url: &url,
            accept: Some("application/x-tar"),
            revalidate: None,
            label: &self.cid,
            deadline,
        };
        self.remote.downloader.fetch(&get, scratch)?;
        if let Some(cache) = cache {
            if let Err(e) = cache.store_ipfs(&self.cid, scratch) {
                warn!(cid = %self.cid, error = %e, "cannot write the cache");
            }
        }
        Ok(scratch.to_path_buf())
    }

    /// Fetches, extracts and moves the content into place; returns its host path.
    fn fetch_into(&self, area: &StageArea, index: usize) -> Result<PathBuf, FetchError> {
        let download = Scratch::new(area.input_path(index, ".tar.partial"));
        let tar = self.tar(download.path(), area.deadline())?;
        let extracted = Scratch::new(area.input_path(index, ".partial"));
        let cap = self.remote.downloader.options().max_bytes;
        extract(&tar, extracted.path(), cap, area.deadline())?;
        place(extracted, area, index)
    }
}

impl InputSource for Ipfs {
    fn describe(&self) -> String {
        format!("ipfs {}", self.cid)
    }

    fn stage(&self, area: &StageArea, index: usize, target: &str) -> Result<Staged, SourceError> {
        let host_path = self.fetch_into(area, index).map_err(|error| {
            let location = format!("{} via {}", self.cid, self.remote.ipfs_gateway);
            SourceError::fetch(target, "ipfs", location, error)
        })?;
        Ok(Staged {
            host_path,
            read_only: true,
        })
    }
}

/// Moves the extracted content into place: its one top-level file or
/// directory (the CID's root), or the whole tree if there are several.
fn place(extracted: Scratch, area: &StageArea, index: usize) -> Result<PathBuf, FetchError> {
    let local = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FetchError::Local { path, source }
    };
    let top = top_level(extracted.path()).map_err(local(extracted.path()))?;
    let (from, to) = match top.as_slice() {
        [] => {
            return Err(FetchError::Content(
                "the gateway sent an empty archive".into(),
            ))
        }
        [one] if one.is_file() => (one.clone(), area.input_path(index, ".bin")),
        [one] => (one.clone(), area.input_path(index, "")),
        _ => {
            let dir = area.input_path(index, "");
            extracted.persist(&dir).map_err(local(&dir))?;
            return Ok(dir);
        }
    };
    std::fs::rename(&from, &to).map_err(local(&to))?;
    Ok(to)
}

/// The entries directly inside `dir`.
fn top_level(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        entries.push(entry?.path());
    }
    Ok(entries)
}

/// Checks a CID's syntax: CIDv0 (`Qm` + 44 base58btc characters) or CIDv1 in
/// a multibase brine knows (`b` base32, `z` base58btc, `k` base36, `f` base16).
pub fn validate_cid(cid: &str) -> Result<(), ParamError> {
    const BASE58: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let in_alphabet = |body: &str, alphabet: &dyn Fn(char) -> bool| {
        body.len() >= 8 && body.len() <= 256 && body.chars().all(alphabet)
    };
    let body = cid.get(1..).unwrap_or("");
    let valid = match cid.as_bytes().first() {
        _ if cid.starts_with("Qm") => cid.len() == 46 && cid.chars().all(|c| BASE58.contains(c)),
        Some(b'b') => in_alphabet(body, &|c| matches!(c, 'a'..='z' | '2'..='7')),
        Some(b'z') => in_alphabet(body, &|c| BASE58.contains(c)),
        Some(b'k') => in_alphabet(body, &|c| c.is_ascii_digit() || c.is_ascii_lowercase()),
        Some(b'f') => in_alphabet(body, &|c| matches!(c, '0'..='9' | 'a'..='f')),
        _ => false,
    };
    if valid {
        Ok(())
    } else {
        Err(ParamError::BadCid {
            cid: cid.to_string(),
        })
    }
}

/// Unpacks the tar at `tar` into the new directory `dir`, safely (see the module docs).
fn extract(tar: &Path, dir: &Path, cap: u64, deadline: Deadline) -> Result<(), FetchError> {
    let file = File::open(tar).map_err(|source| FetchError::Local {
        path: tar.to_path_buf(),
        source,
    })?;
    let rules = Rules {
        max_bytes: cap,
        max_bytes_name: "the download limit (--max-download)",
        links: false,
    };
    extract::unpack(BufReader::new(file), dir, rules, deadline).map_err(|e| match e {
        ExtractError::Deadline(expired) => FetchError::Deadline(expired),
        ExtractError::NotTar(e) => FetchError::Content(format!(
            "the gateway's reply is not a valid tar archive: {e}"
        )),
        other => FetchError::Content(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cid_syntax_is_checked() {
        assert!(validate_cid("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG").is_ok());
        assert!(
            validate_cid("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi").is_ok()
        );
        assert!(validate_cid("QmTooShort").is_err());
        assert!(validate_cid("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbd0").is_err());
        assert!(validate_cid("bafyBAD").is_err());
        assert!(validate_cid("").is_err());
        assert!(validate_cid("../etc/passwd").is_err());
        assert!(
            validate_cid("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/x").is_err()
        );
    }
}
