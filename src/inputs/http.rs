//! The HTTP downloader shared by `urlDownload` and the IPFS gateway source.
//!
//! One GET, retried: 5xx/408/429 replies, connection errors and bodies that end
//! early are tried again after an exponentially growing pause. A retry resumes
//! with `Range` when the server said it can (`Accept-Ranges: bytes`, or it
//! already answered a range with 206), guarded by `If-Range` so the pieces
//! belong to one version; otherwise it starts over. The body goes into a file
//! the caller names inside the staging area, and it is complete only when
//! [`Downloader::fetch`] returns `Ok`: every byte the server announced arrived.
//!
//! Trust and proxies are the process's (see `crate::transport`): the
//! platform's CAs plus `SSL_CERT_FILE`, `SSL_CERT_DIR` and `--ca-cert`;
//! `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`, chosen per URL (a redirect keeps
//! the first URL's route). Only what can succeed later is retried (see
//! [`FetchError::is_retryable`]); a `Retry-After` on a 429 or 503 sets the
//! pause, and one that lands past staging's deadline fails at once.
//!
//! Why ureq (3, rustls): staging is blocking work on a partition's own thread,
//! so a blocking client needs no async runtime; it has rustls without OpenSSL,
//! per-read timeouts (stall detection that does not cap a long download), and
//! a small dependency tree. Its gzip support is left off so Content-Length and
//! Range count the bytes on the wire.

use super::cache::{Cache, Validators};
use super::deadline::{Deadline, Expired};
use crate::transport::failure::classify;
use crate::transport::proxy::{Proxies, Route};
use crate::transport::trust;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tracing::{info, warn};
use ureq::http::{HeaderMap, Response, Uri};

/// The default cap on one download (`--max-download`): 10 GiB.
pub const DEFAULT_MAX_DOWNLOAD: u64 = 10 << 30;
/// The default IPFS gateway: a local Kubo node's gateway port.
pub const DEFAULT_IPFS_GATEWAY: &str = "http://127.0.0.1:8080";
/// The longest pause between two attempts, however many have failed.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured when staging has no deadline to cap it.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);
/// How much of a body is read (and written) at a time.
const CHUNK: usize = 64 * 1024;

/// How downloads behave: timeouts, retries, the size cap and progress bars.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// How long to wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// How long one read may wait for data: a stalled server fails an attempt.
    pub read_timeout: Duration,
    /// Attempts after the first one for errors worth retrying.
    pub retries: u32,
    /// The pause before the first retry; it doubles for each later one.
    pub retry_base: Duration,
    /// The largest body accepted, in bytes.
    pub max_bytes: u64,
    /// Where to draw progress bars (the caller's, on a terminal's stderr);
    /// `None` draws none.
    pub progress: Option<MultiProgress>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            retries: 5,
            retry_base: Duration::from_millis(500),
            max_bytes: DEFAULT_MAX_DOWNLOAD,
            progress: None,
        }
    }
}

/// Runner settings for remote inputs, as given on the command line.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    /// Downloads.
    pub http: HttpOptions,
    /// The IPFS HTTP gateway's base URL (`http://HOST:PORT`).
    pub ipfs_gateway: String,
    /// A content cache directory shared by runs, if any.
    pub cache: Option<PathBuf>,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            http: HttpOptions::default(),
            ipfs_gateway: DEFAULT_IPFS_GATEWAY.to_string(),
            cache: None,
        }
    }
}

/// What every remote input of a plan shares: one downloader (one connection
/// pool), the cache and the gateway.
#[derive(Debug)]
pub struct Remote {
    /// Fetches URLs into files.
    pub downloader: Downloader,
    /// The content cache, when `--cache` was given.
    pub cache: Option<Cache>,
    /// The IPFS gateway's base URL, without a trailing `/`.
    pub ipfs_gateway: String,
}

impl Remote {
    /// Builds the shared state; its only I/O is reading the trust store, once
    /// per process (made only when a plan has a remote input).
    pub fn new(options: &RemoteOptions) -> Self {
        Remote {
            downloader: Downloader::new(options.http.clone()),
            cache: options.cache.clone().map(Cache::new),
            ipfs_gateway: options.ipfs_gateway.trim_end_matches('/').to_string(),
        }
    }
}

/// One download to make.
#[derive(Debug, Clone, Copy)]
pub struct Get<'a> {
    /// The http or https URL.
    pub url: &'a str,
    /// The `Accept` header, if one is needed (the IPFS gateway's TAR format).
    pub accept: Option<&'a str>,
    /// Validators of a cached copy: ask with `If-None-Match`/`If-Modified-Since`.
    pub revalidate: Option<&'a Validators>,
    /// What the progress bar calls it.
    pub label: &'a str,
    /// When staging must be done: no attempt, pause or read outlasts it.
    pub deadline: Deadline,
}

/// How a download ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The server answered 304 to a conditional request: the cached copy is current.
    NotModified,
    /// The whole body is in the file.
    Complete {
        /// Its size.
        bytes: u64,
        /// The version it is, for the cache.
        validators: Validators,
    },
}

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server answered with an error status.
    #[error("HTTP {status} {reason}")]
    Status {
        /// The status code.
        status: u16,
        /// Its reason phrase.
        reason: String,
        /// How long the server asked to wait (`Retry-After`), if it did.
        retry_after: Option<Duration>,
    },
    /// A connection failed, was reset or timed out (worth retrying).
    #[error("network error: {0}")]
    Network(String),
    /// The host cannot be reached at all, or the request cannot be made: a
    /// certificate, a name that does not exist, a proxy setting (not retried).
    #[error("{0}")]
    Unreachable(String),
    /// The server asked to wait (`Retry-After`) past staging's deadline.
    #[error("{last}; the server asks to try again in {} s, after staging's deadline", wait.as_secs())]
    WaitPastDeadline {
        /// The reply that asked.
        last: Box<FetchError>,
        /// How long it asked to wait.
        wait: Duration,
    },
    /// The body ended before the size the server announced.
    #[error("the body ended after {received} of {expected} bytes")]
    Truncated {
        /// Bytes received.
        received: u64,
        /// Bytes announced.
        expected: u64,
    },
    /// The body is larger than `--max-download`.
    #[error("larger than the download limit of {limit} bytes (--max-download)")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// A reply that breaks the protocol (e.g. a 206 for the wrong range).
    #[error("bad reply: {0}")]
    BadReply(String),
    /// Writing the downloaded data failed.
    #[error("cannot write {}: {source}", path.display())]
    Local {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Content that arrived whole but cannot be used (e.g. not a tar archive).
    #[error("{0}")]
    Content(String),
    /// Staging's deadline passed during the download.
    #[error("{0}")]
    Deadline(Expired),
    /// A retryable error that kept happening.
    #[error("{last} (gave up after {attempts} attempts)")]
    GaveUp {
        /// How many attempts were made.
        attempts: u32,
        /// The last attempt's error.
        last: Box<FetchError>,
    },
}

impl FetchError {
    /// Whether another attempt may succeed: server errors, throttling, network
    /// trouble (resets, timeouts, bodies cut short); never a 4xx other than
    /// 408/429, a certificate, a missing host or a setting.
    fn is_retryable(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            FetchError::Network(_) | FetchError::Truncated { .. } | FetchError::BadReply(_) => true,
            _ => false,
        }
    }

    /// The wait the server asked for, on a reply that may be retried.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Maps a ureq error of a request to `url` (routed by `route`): transport
/// trouble is retryable, a request that cannot succeed is not.
fn transport_error(error: &ureq::Error, url: &str, route: &Route) -> FetchError {
    let host = url
        .parse::<Uri>()
        .ok()
        .and_then(|uri| uri.host().map(str::to_string))
        .unwrap_or_default();
    let failure = classify(error, &host, route.via.as_deref());
    if failure.retry {
        FetchError::Network(failure.reason)
    } else {
        FetchError::Unreachable(failure.reason)
    }
}

/// What is known about one download across its attempts.
#[derive(Debug, Default)]
struct Transfer {
    /// Bytes in the file so far.
    have: u64,
    /// The full size, once a reply announced it.
    total: Option<u64>,
    /// Whether the server takes `Range` requests.
    ranges: bool,
    /// The version the bytes so far belong to.
    validators: Validators,
}

/// Fetches URLs into files, with retries, resumption, a size cap and progress bars.
#[derive(Debug, Clone)]
pub struct Downloader {
    agent: ureq::Agent,
    options: HttpOptions,
    proxies: Proxies,
}

impl Downloader {
    /// A downloader; statuses are handled here, not turned into errors by ureq.
    /// It trusts the process's CAs and takes the environment's proxies
    /// (`crate::transport`), both read now.
    pub fn new(options: HttpOptions) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(trust::ureq_tls())
            // The route is chosen per request (`Proxies::route`), not by ureq.
            .proxy(None)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_per_read(Some(options.read_timeout))
            .max_redirects(10)
            .user_agent(concat!("brine/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Downloader {
            agent,
            options,
            proxies: Proxies::from_env(),
        }
    }

    /// The settings in force.
    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// Downloads `get.url` into `dest` (created or truncated). On an error the
    /// file may hold part of the body: the caller removes it.
    pub fn fetch(&self, get: &Get<'_>, dest: &Path) -> Result<Fetched, FetchError> {
        let mut file = File::create(dest).map_err(|source| FetchError::Local {
            path: dest.to_path_buf(),
            source,
        })?;
        let bar = self.progress_bar(get.label);
        let mut transfer = Transfer::default();
        let mut attempt: u32 = 1;
        let result = loop {
            if let Err(expired) = get.deadline.check() {
                break Err(FetchError::Deadline(expired));
            }
            info!(url = get.url, attempt, offset = transfer.have, "GET");
            if attempt > 1 {
                bar.set_message(format!("{} (attempt {attempt})", get.label));
            }
            let error = match self.attempt(get, &mut file, dest, &mut transfer, &bar) {
                Ok(fetched) => break Ok(fetched),
                // Whatever failed (a timeout, a reset), the deadline is the reason to stop.
                Err(_) if get.deadline.expired() => break Err(deadline_error(get.deadline)),
                Err(error) => error,
            };
            if !error.is_retryable() {
                break Err(error);
            }
            if attempt > self.options.retries {
                break Err(give_up(attempt, error));
            }
            let pause = match error.retry_after() {
                Some(wait) if get.deadline.remaining().is_some_and(|left| wait >= left) => {
                    break Err(FetchError::WaitPastDeadline {
                        last: Box::new(error),
                        wait,
                    });
                }
                Some(wait) => wait.min(MAX_RETRY_AFTER),
                None => backoff(self.options.retry_base, attempt),
            };
            let retry_in_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX);
            warn!(url = get.url, attempt, error = %error, retry_in_ms, "download failed; retrying");
            bar.set_message(format!(
                "{} (attempt {attempt} failed: {error}; retrying in {retry_in_ms} ms)",
                get.label
            ));
            std::thread::sleep(get.deadline.cap(pause));
            attempt += 1;
        };
        bar.finish_and_clear();
        result
    }

    /// One request and as much of its body as arrives.
    fn attempt(
        &self,
        get: &Get<'_>,
        file: &mut File,
        dest: &Path,
        transfer: &mut Transfer,
        bar: &ProgressBar,
    ) -> Result<Fetched, FetchError> {
        let resume = transfer.have > 0 && transfer.ranges;
        let response = self.request(get, transfer, resume)?;
        let status = response.status().as_u16();
        let conditional = get.revalidate.is_some() && !resume;
        let range_start = match status {
            304 if conditional => return Ok(Fetched::NotModified),
            200 => None,
            206 if resume => Some(content_range(response.headers())?.0),
            416 if resume => {
                // The resource no longer has the bytes we hold: start over next time.
                transfer.ranges = false;
                return Err(FetchError::BadReply("416 to a range request".into()));
            }
            _ => return Err(status_error(&response)),
        };
        if range_start.is_some_and(|start| start != transfer.have) {
            // A range other than the one asked for: start over next time.
            transfer.ranges = false;
            return Err(FetchError::BadReply(format!(
                "asked for bytes from {}, got another range",
                transfer.have
            )));
        }
        self.begin_body(&response, status, file, dest, transfer)?;
        match transfer.total {
            Some(total) => bar.set_length(total),
            None => bar.unset_length(),
        }
        self.receive(response, file, dest, transfer, bar, get.deadline)?;
        Ok(Fetched::Complete {
            bytes: transfer.have,
            validators: transfer.validators.clone(),
        })
    }

    /// Sends the GET: a range request when resuming, else conditional when revalidating.
    fn request(
        &self,
        get: &Get<'_>,
        transfer: &Transfer,
        resume: bool,
    ) -> Result<Response<ureq::Body>, FetchError> {
        let route = match get.url.parse::<Uri>() {
            Ok(uri) => self
                .proxies
                .route(&uri)
                .map_err(|e| FetchError::Unreachable(e.to_string()))?,
            Err(_) => Route {
                proxy: None,
                via: None,
            },
        };
        // The whole exchange (connect, headers, body) ends at the deadline, and
        // no single read waits past it.
        let mut request = self
            .agent
            .get(get.url)
            .config()
            .proxy(route.proxy.clone())
            .timeout_global(get.deadline.remaining())
            .timeout_per_read(Some(get.deadline.cap(self.options.read_timeout)))
            .build();
        if let Some(accept) = get.accept {
            request = request.header("Accept", accept);
        }
        if resume {
            request = request.header("Range", format!("bytes={}-", transfer.have));
            if let Some(version) = if_range(&transfer.validators) {
                request = request.header("If-Range", version);
            }
        } else if let Some(cached) = get.revalidate {
            if let Some(etag) = &cached.etag {
                request = request.header("If-None-Match", etag);
            }
            if let Some(date) = &cached.last_modified {
                request = request.header("If-Modified-Since", date);
            }
        }
        request
            .call()
            .map_err(|e| transport_error(&e, get.url, &route))
    }

    /// Records what a 200 or 206 announces and, for a 200, empties the file.
    fn begin_body(
        &self,
        response: &Response<ureq::Body>,
        status: u16,
        file: &mut File,
        dest: &Path,
        transfer: &mut Transfer,
    ) -> Result<(), FetchError> {
        let headers = response.headers();
        let length = header(headers, "content-length").and_then(|v| v.parse::<u64>().ok());
        if status == 200 {
            // A full body: whatever an earlier attempt wrote is discarded.
            file.set_len(0)
                .and_then(|()| file.rewind())
                .map_err(|source| FetchError::Local {
                    path: dest.to_path_buf(),
                    source,
                })?;
            transfer.have = 0;
            transfer.total = length;
            transfer.validators = validators_from(headers);
        } else {
            let (start, total) = content_range(headers)?;
            transfer.total = total.or_else(|| length.map(|l| start.saturating_add(l)));
        }
        transfer.ranges = status == 206
            || header(headers, "accept-ranges").is_some_and(|v| v.eq_ignore_ascii_case("bytes"));
        match transfer.total {
            Some(total) if total > self.options.max_bytes => Err(FetchError::TooLarge {
                limit: self.options.max_bytes,
            }),
            _ => Ok(()),
        }
    }

    /// Copies the body into the file, counting against the cap, until it ends.
    fn receive(
        &self,
        response: Response<ureq::Body>,
        file: &mut File,
        dest: &Path,
        transfer: &mut Transfer,
        bar: &ProgressBar,
        deadline: Deadline,
    ) -> Result<(), FetchError> {
        let mut reader = response.into_body().into_reader();
        let mut buf = vec![0u8; CHUNK];
        loop {
            // A server trickling bytes never trips the per-read timeout: check between reads.
            deadline.check().map_err(FetchError::Deadline)?;
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(body_error(&e, transfer)),
            };
            let chunk = buf.get(..n).unwrap_or_default();
            let have = transfer.have.saturating_add(chunk.len() as u64);
            if have > self.options.max_bytes {
                return Err(FetchError::TooLarge {
                    limit: self.options.max_bytes,
                });
            }
            file.write_all(chunk).map_err(|source| FetchError::Local {
                path: dest.to_path_buf(),
                source,
            })?;
            transfer.have = have;
            bar.set_position(have);
        }
        match transfer.total {
            Some(expected) if transfer.have < expected => Err(FetchError::Truncated {
                received: transfer.have,
                expected,
            }),
            _ => Ok(()),
        }
    }

    /// A bar on stderr when enabled, else a hidden one (which costs nothing).
    fn progress_bar(&self, label: &str) -> ProgressBar {
        let Some(bars) = &self.options.progress else {
            return ProgressBar::hidden();
        };
        let bar = bars.add(ProgressBar::no_length());
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(label.to_string());
        bar
    }
}

/// The error for a download the deadline stopped.
fn deadline_error(deadline: Deadline) -> FetchError {
    FetchError::Deadline(deadline.expired_error())
}

/// The error after the last of several attempts; a first-attempt error stays as it is.
fn give_up(attempts: u32, last: FetchError) -> FetchError {
    if attempts <= 1 {
        return last;
    }
    FetchError::GaveUp {
        attempts,
        last: Box::new(last),
    }
}

/// The pause before retry number `attempt` (1-based): base × 2^(attempt−1), capped.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(16);
    base.saturating_mul(factor).min(MAX_BACKOFF)
}

/// A body that stopped early: a truncation when the server announced a size.
fn body_error(error: &std::io::Error, transfer: &Transfer) -> FetchError {
    match transfer.total {
        Some(expected) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            FetchError::Truncated {
                received: transfer.have,
                expected,
            }
        }
        _ => FetchError::Network(error.to_string()),
    }
}

/// `HTTP <code> <reason>` for a reply we cannot use, with the wait a 429 or
/// 503 asks for.
fn status_error(response: &Response<ureq::Body>) -> FetchError {
    let status = response.status().as_u16();
    let retry_after = match status {
        429 | 503 => header(response.headers(), "retry-after").and_then(parse_retry_after),
        _ => None,
    };
    FetchError::Status {
        status,
        reason: response
            .status()
            .canonical_reason()
            .unwrap_or("")
            .to_string(),
        retry_after,
    }
}

/// `Retry-After`: seconds, or an HTTP date (the wait until then; none if past).
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = parse_http_date(value)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(Duration::from_secs(when.saturating_sub(now)))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) as seconds since 1970.
fn parse_http_date(value: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = value.split_whitespace().skip(1);
    let day: i64 = parts.next()?.parse().ok()?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)?;
    let year: i64 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (clock.next()??, clock.next()??, clock.next()??);
    // The year is bounded so that the arithmetic below cannot overflow.
    let valid = (1970..=9999).contains(&year) && (1..=31).contains(&day);
    if parts.next()? != "GMT" || !valid || !(0..=23).contains(&h) || !(0..=59).contains(&m) {
        return None;
    }
    if !(0..=60).contains(&s) {
        return None;
    }
    let month = i64::try_from(month).ok()? + 1;
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + m * 60 + s).ok()
}

/// A header as text, if present and printable.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The start and (if known) total size from a 206's `Content-Range: bytes S-E/T`.
fn content_range(headers: &HeaderMap) -> Result<(u64, Option<u64>), FetchError> {
    let value = header(headers, "content-range").unwrap_or("");
    parse_content_range(value)
        .ok_or_else(|| FetchError::BadReply(format!("a 206 with Content-Range `{value}`")))
}

/// Parses `bytes S-E/T` or `bytes S-E/*`.
fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.strip_prefix("bytes ")?.trim();
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = end.trim().parse().ok()?;
    if end < start {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse::<u64>().ok()?),
    };
    Some((start, total))
}

/// Reads `ETag` and `Last-Modified` from a reply.
fn validators_from(headers: &HeaderMap) -> Validators {
    Validators {
        etag: header(headers, "etag").map(str::to_string),
        last_modified: header(headers, "last-modified").map(str::to_string),
    }
}

/// The value for `If-Range`: a strong ETag, else the date (weak ETags may not be used).
fn if_range(validators: &Validators) -> Option<&str> {
    match &validators.etag {
        Some(etag) if !etag.starts_with("W/") => Some(etag),
        _ => validators.last_modified.as_deref(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_millis(100);
        assert_eq!(backoff(base, 1), Duration::from_millis(100));
        assert_eq!(backoff(base, 2), Duration::from_millis(200));
        assert_eq!(backoff(base, 4), Duration::from_millis(800));
        assert_eq!(backoff(base, 40), MAX_BACKOFF);
        assert_eq!(backoff(Duration::ZERO, 3), Duration::ZERO);
    }

    #[test]
    fn content_ranges_parse() {
        assert_eq!(parse_content_range("bytes 10-19/20"), Some((10, Some(20))));
        assert_eq!(parse_content_range("bytes 0-0/*"), Some((0, None)));
        assert_eq!(parse_content_range("bytes 5-1/9"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
        assert_eq!(parse_content_range(""), None);
    }

    #[test]
    fn only_transient_errors_are_retried() {
        let status = |status| FetchError::Status {
            status,
            reason: String::new(),
            retry_after: None,
        };
        assert!(status(500).is_retryable());
        assert!(status(503).is_retryable());
        assert!(status(429).is_retryable());
        assert!(!status(404).is_retryable());
        assert!(FetchError::Network("reset".into()).is_retryable());
        assert!(!FetchError::TooLarge { limit: 1 }.is_retryable());
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST"), None);
        assert_eq!(parse_http_date("soon"), None);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 99999999999999 08:49:37 GMT"),
            None
        );
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 -8:49:37 GMT"), None);
        // A date in the past asks for no wait at all.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn if_range_prefers_a_strong_etag() {
        let v = Validators {
            etag: Some("W/\"x\"".into()),
            last_modified: Some("date".into()),
        };
        assert_eq!(if_range(&v), Some("date"));
        let v = Validators {
            etag: Some("\"x\"".into()),
            last_modified: None,
        };
        assert_eq!(if_range(&v), Some("\"x\""));
    }
}
