//! The optional content cache (`--cache DIR`), shared by runs and partitions.
//!
//! A URL's entry remembers the validators (`ETag`, `Last-Modified`) its server
//! sent, so the next run asks `If-None-Match`/`If-Modified-Since` and reuses
//! the copy on a 304; a reply with neither is not cached, since it could never
//! be revalidated. IPFS content is immutable, so it is keyed by CID alone and
//! never asked for again. Every file is written under a temporary name and
//! renamed into place, so a reader never sees half an entry. The cache only
//! saves downloads: one that cannot be read or written costs a fetch, never a
//! failed job.
//!
//! ```text
//! DIR/urls/<key>.json     {url, etag, last_modified, size, data}
//! DIR/urls/<key>.<rand>   the body named by `data`
//! DIR/ipfs/<cid>.tar      a gateway's TAR reply for that CID
//! DIR/tmp/                files being written
//! ```

use std::io;
use std::path::{Path, PathBuf};

/// A content cache rooted at a directory (created when first written).
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// A cached copy of a URL's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedUrl {
    /// The version it is.
    pub validators: Validators,
    /// The file holding it.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
}

/// A URL entry's metadata file.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct UrlEntry {
    url: String,
    #[serde(flatten)]
    validators: Validators,
    size: u64,
    data: String,
}

impl Cache {
    /// A cache in `root`.
    pub fn new(root: PathBuf) -> Self {
        Cache { root }
    }

    /// The cached copy of `url`, if there is a complete one with validators.
    pub fn url(&self, url: &str) -> Option<CachedUrl> {
        let text = std::fs::read_to_string(self.url_meta(url)).ok()?;
        let entry: UrlEntry = serde_json::from_str(&text).ok()?;
        // The data name comes from a file on disk: it must stay inside `urls/`.
        let plain = !entry.data.is_empty()
            && entry
                .data
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.');
        if entry.url != url || entry.validators.is_empty() || !plain {
            return None;
        }
        let path = self.root.join("urls").join(&entry.data);
        let size = std::fs::metadata(&path).ok()?.len();
        (size == entry.size).then_some(CachedUrl {
            validators: entry.validators,
            path,
            size,
        })
    }

    /// Records `body` (a complete download) as the current copy of `url`.
    pub fn store_url(&self, url: &str, validators: &Validators, body: &Path) -> io::Result<()> {
        let dir = self.root.join("urls");
        std::fs::create_dir_all(&dir)?;
        let previous = self.url(url);
        let data = format!("{}.{}", key(url), random_hex(8));
        self.install(body, &dir.join(&data))?;
        let entry = UrlEntry {
            url: url.to_string(),
            validators: validators.clone(),
            size: std::fs::metadata(body)?.len(),
            data,
        };
        let text = serde_json::to_vec_pretty(&entry).map_err(io::Error::other)?;
        crate::atomic::write(&self.url_meta(url), &text, crate::atomic::Access::Shared)?;
        // The old body is unreachable now; a reader that already opened it keeps it.
        if let Some(old) = previous {
            let _ = std::fs::remove_file(old.path);
        }
        Ok(())
    }

    /// The cached TAR reply for `cid`, if present.
    pub fn ipfs(&self, cid: &str) -> Option<PathBuf> {
        let path = self.ipfs_path(cid);
        path.is_file().then_some(path)
    }

    /// Records `tar` (a complete gateway reply) for `cid`.
    pub fn store_ipfs(&self, cid: &str, tar: &Path) -> io::Result<()> {
        let path = self.ipfs_path(cid);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        self.install(tar, &path)
    }

    /// `DIR/ipfs/<cid>.tar` (a validated CID is a plain file name).
    fn ipfs_path(&self, cid: &str) -> PathBuf {
        self.root.join("ipfs").join(format!("{cid}.tar"))
    }

    fn url_meta(&self, url: &str) -> PathBuf {
        self.root.join("urls").join(format!("{}.json", key(url)))
    }

    /// Links (or copies) `from` to a temporary name, then renames it to `to`.
    fn install(&self, from: &Path, to: &Path) -> io::Result<()> {
        let tmp = self.temp_path()?;
        let scratch = crate::cancel::remove_on_signal(tmp.clone());
        let result =
            link_or_copy(from, &tmp).and_then(|()| scratch.settle(|| std::fs::rename(&tmp, to)));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// A fresh name in `DIR/tmp/` (same file system as the entries, so renames are atomic).
    fn temp_path(&self) -> io::Result<PathBuf> {
        let dir = self.root.join("tmp");
        std::fs::create_dir_all(&dir)?;
        Ok(dir.join(random_hex(12)))
    }
}

/// Makes `to` a hard link to `from` (no copy of a large body), or a copy where
/// links are impossible (another file system). `to` must not exist.
pub fn link_or_copy(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(_) => std::fs::copy(from, to).map(|_| ()),
    }
}

/// A URL's key: 128 bits of its BLAKE3 hash, in hex.
fn key(url: &str) -> String {
    let hash = blake3::hash(url.as_bytes());
    hash.to_hex().chars().take(32).collect()
}

/// `len` random bytes as hex, for temporary and data file names.
fn random_hex(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    // Without randomness the name is still unique enough with the process id and time.
    if getrandom::fill(&mut bytes).is_err() {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            ^ u128::from(std::process::id());
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (seed >> ((i % 16) * 8)) as u8;
        }
    }
    crate::text::hex(&bytes)
}

/// What identifies one version of a resource: sent back in conditional and
/// `If-Range` requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Validators {
    /// The `ETag` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The `Last-Modified` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Validators {
    /// Whether the server sent neither (then a copy cannot be revalidated).
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validators(etag: &str) -> Validators {
        Validators {
            etag: Some(etag.to_string()),
            last_modified: None,
        }
    }

    #[test]
    fn a_stored_url_is_found_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("cache"));
        let url = "http://example.test/a.csv";
        assert_eq!(cache.url(url), None);
        let body = dir.path().join("body");
        std::fs::write(&body, b"one").unwrap();
        cache.store_url(url, &validators("\"1\""), &body).unwrap();
        let first = cache.url(url).unwrap();
        assert_eq!(std::fs::read(&first.path).unwrap(), b"one");
        assert_eq!(first.validators, validators("\"1\""));

        let body2 = dir.path().join("body2");
        std::fs::write(&body2, b"two!").unwrap();
        cache.store_url(url, &validators("\"2\""), &body2).unwrap();
        let second = cache.url(url).unwrap();
        assert_eq!(std::fs::read(&second.path).unwrap(), b"two!");
        assert!(!first.path.exists(), "the old body is removed");
        assert_eq!(cache.url("http://example.test/other"), None);
    }

    #[test]
    fn an_entry_whose_body_changed_size_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        let body = dir.path().join("body");
        std::fs::write(&body, b"abc").unwrap();
        let url = "http://example.test/x";
        cache.store_url(url, &validators("\"e\""), &body).unwrap();
        let entry = cache.url(url).unwrap();
        std::fs::write(&entry.path, b"abcdef").unwrap();
        assert_eq!(cache.url(url), None);
    }

    #[test]
    fn ipfs_entries_are_keyed_by_cid() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("c"));
        let tar = dir.path().join("t.tar");
        std::fs::write(&tar, b"tar").unwrap();
        assert_eq!(cache.ipfs("bafyx"), None);
        cache.store_ipfs("bafyx", &tar).unwrap();
        assert_eq!(std::fs::read(cache.ipfs("bafyx").unwrap()).unwrap(), b"tar");
    }
}
