//! `urlDownload`: one file fetched over http or https.
//!
//! As in Bacalhau, the mount at Target is a directory holding the file under
//! the basename of the URL's path (`http://h/d/data.csv` → `Target/data.csv`),
//! percent-decoded; a URL with no usable basename (`http://h/`, `.../..`, a
//! name that decodes to a `/`) gets [`DEFAULT_FILE_NAME`]. The name comes from
//! the URL in the job, not from where redirects lead, so it is known before
//! anything is fetched. The file is downloaded into `input-N.partial/` and that
//! directory is renamed to `input-N/` only once the download is complete.

use super::cache::link_or_copy;
use super::deadline::Deadline;
use super::http::{FetchError, Fetched, Get, Remote};
use super::{InputSource, ParamError, Scratch, SourceError, StageArea, Staged};
use percent_encoding::percent_decode_str;
use std::path::Path;
use std::sync::Arc;
use tracing::{info, warn};
use ureq::http::Uri;

/// The file name used when the URL's path has no usable basename.
pub const DEFAULT_FILE_NAME: &str = "download";

/// A `urlDownload` input.
#[derive(Debug, Clone)]
pub struct UrlDownload {
    url: String,
    file_name: String,
    remote: Arc<Remote>,
}

impl UrlDownload {
    /// Checks `url` (http or https with a host) and works out the file's name.
    pub fn new(url: &str, remote: Arc<Remote>) -> Result<Self, ParamError> {
        let uri = parse_http_url(url)?;
        Ok(UrlDownload {
            url: url.to_string(),
            file_name: file_name(&uri),
            remote,
        })
    }

    /// The name of the file inside the Target directory.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// Downloads (or takes from the cache) the body into `dest` before `deadline`.
    fn fetch(&self, dest: &Path, deadline: Deadline) -> Result<(), FetchError> {
        let cache = self.remote.cache.as_ref();
        let cached = cache.and_then(|c| c.url(&self.url));
        let get = Get {
            url: &self.url,
            accept: None,
            revalidate: cached.as_ref().map(|c| &c.validators),
            label: &self.file_name,
            deadline,
        };
        match self.remote.downloader.fetch(&get, dest)? {
            Fetched::NotModified => {
                let Some(cached) = cached else {
                    return Err(FetchError::BadReply("304 to a plain GET".to_string()));
                };
                info!(url = %self.url, "not modified: using the cached copy");
                self.take_cached(&cached.path, dest, deadline)
            }
            Fetched::Complete { validators, .. } => {
                if let Some(cache) = cache.filter(|_| !validators.is_empty()) {
                    if let Err(e) = cache.store_url(&self.url, &validators, dest) {
                        warn!(url = %self.url, error = %e, "cannot write the cache");
                    }
                }
                Ok(())
            }
        }
    }

    /// Puts the cached body at `dest`; if another run replaced the entry
    /// meanwhile, downloads it again instead.
    fn take_cached(
        &self,
        cached: &Path,
        dest: &Path,
        deadline: Deadline,
    ) -> Result<(), FetchError> {
        let _ = std::fs::remove_file(dest);
        if link_or_copy(cached, dest).is_ok() {
            return Ok(());
        }
        warn!(url = %self.url, "the cached copy vanished; downloading again");
        let get = Get {
            url: &self.url,
            accept: None,
            revalidate: None,
            label: &self.file_name,
            deadline,
        };
        self.remote.downloader.fetch(&get, dest).map(|_| ())
    }
}

impl InputSource for UrlDownload {
    fn describe(&self) -> String {
        format!("urlDownload {}", self.url)
    }

    fn stage(&self, area: &StageArea, index: usize, target: &str) -> Result<Staged, SourceError> {
        let stage_error = |path: &Path, source| SourceError::Stage {
            target: target.to_string(),
            path: path.to_path_buf(),
            source,
        };
        let dir = area.input_path(index, "");
        let partial = Scratch::new(area.input_path(index, ".partial"));
        std::fs::create_dir(partial.path()).map_err(|e| stage_error(partial.path(), e))?;
        self.fetch(&partial.path().join(&self.file_name), area.deadline())
            .map_err(|error| SourceError::fetch(target, "urlDownload", self.url.clone(), error))?;
        partial.persist(&dir).map_err(|e| stage_error(&dir, e))?;
        Ok(Staged {
            host_path: dir,
            read_only: true,
        })
    }
}

/// Parses an http or https URL with a host, or says what is wrong with it.
pub fn parse_http_url(url: &str) -> Result<Uri, ParamError> {
    let uri: Uri = url.parse().map_err(|source| ParamError::BadUrl {
        url: url.to_string(),
        source,
    })?;
    let scheme = uri.scheme_str().unwrap_or("");
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return Err(ParamError::NotHttp {
            url: url.to_string(),
        });
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(ParamError::NoHost {
            url: url.to_string(),
        });
    }
    Ok(uri)
}

/// The last segment of the URL's path, percent-decoded, when it is a usable
/// file name; else [`DEFAULT_FILE_NAME`].
fn file_name(uri: &Uri) -> String {
    let path = uri.path().trim_end_matches('/');
    let last = path.rsplit('/').next().unwrap_or("");
    let decoded = percent_decode_str(last).decode_utf8().ok();
    match decoded {
        Some(name) if is_usable_name(&name) => name.into_owned(),
        _ => DEFAULT_FILE_NAME.to_string(),
    }
}

/// A single, ordinary path component that every file system takes.
fn is_usable_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 255
        && !name.chars().any(|c| matches!(c, '/' | '\\' | '\0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(url: &str) -> String {
        file_name(&parse_http_url(url).unwrap())
    }

    #[test]
    fn the_file_is_named_by_the_url_path() {
        assert_eq!(name("http://h/data.csv"), "data.csv");
        assert_eq!(name("https://h/a/b/c.tar.gz?x=1#frag"), "c.tar.gz");
        assert_eq!(name("http://h/dir/"), "dir");
        assert_eq!(name("http://h/with%20space.txt"), "with space.txt");
    }

    #[test]
    fn urls_without_a_usable_basename_get_the_default() {
        assert_eq!(name("http://h"), DEFAULT_FILE_NAME);
        assert_eq!(name("http://h/"), DEFAULT_FILE_NAME);
        assert_eq!(name("http://h/a/.."), DEFAULT_FILE_NAME);
        assert_eq!(name("http://h/a%2Fb"), DEFAULT_FILE_NAME);
        assert_eq!(name("http://h/%00"), DEFAULT_FILE_NAME);
        assert_eq!(name("http://h/%FF"), DEFAULT_FILE_NAME);
    }

    #[test]
    fn only_http_urls_with_a_host_are_accepted() {
        assert!(parse_http_url("HTTPS://example.com/x").is_ok());
        assert!(parse_http_url("ftp://example.com/x").is_err());
        assert!(parse_http_url("http:///x").is_err());
        assert!(parse_http_url("not a url").is_err());
    }
}
