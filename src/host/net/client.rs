//! Performs a guest's request for the real host, under its [`Policy`].
//!
//! Built on ureq with its automatic redirects off: redirects (301, 302, 303,
//! 307, 308) are followed here, at most [`MAX_REDIRECTS`], and every hop's
//! host is checked against the policy (a redirect to a host the policy does
//! not allow is "host not allowed"). As in Go's client, 301/302/303 turn the
//! request into a GET without body (HEAD stays HEAD), 307/308 keep method and
//! body, and credentials (`Authorization`, `Cookie`...) are dropped when a
//! redirect leaves the original host and its subdomains.
//!
//! When the policy blocks internal addresses, the check runs in the resolver,
//! on the very addresses the connection is then made to (so a name cannot
//! resolve to a public address for the check and a private one for the
//! connection), and proxies from the environment are not used.
//!
//! Otherwise `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` route the request
//! (`crate::transport::proxy`; loopback never goes through a proxy, as in
//! Go). The proxy is the host's, not the guest's: the policy still checks the
//! host the guest named, on every hop, before anything is sent to the proxy.
//! The client trusts the process's CAs (`crate::transport::trust`).

use super::policy::{normalize_host, Policy};
use super::{HttpError, HttpRequest, HttpResponse, HttpResult};
use crate::transport::{failure, proxy::Proxies, trust};
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use ureq::http::{self, Method as HttpMethod, Request, Response, Uri};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use ureq::{Agent, AsSendBody, Body};

/// The most redirects one request follows.
pub const MAX_REDIRECTS: usize = 10;

/// Headers that carry credentials, dropped when a redirect leaves the site.
const CREDENTIALS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "www-authenticate",
    "cookie",
    "cookie2",
];

/// An HTTP client bound to one policy.
pub struct Client {
    /// Made at the first request: building it reads the platform's trust
    /// store (tens of millions of instructions), which a guest that never
    /// sends a request (most of them: every job gets a client) must not pay.
    agent: OnceLock<Agent>,
    policy: Arc<Policy>,
    proxies: Proxies,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("policy", &self.policy)
            .finish()
    }
}

/// One request of a redirect chain.
struct Hop<'a> {
    method: HttpMethod,
    uri: Uri,
    headers: Vec<(String, String)>,
    body: &'a [u8],
}

impl Client {
    /// A client that enforces `policy`.
    pub fn new(policy: Policy) -> Self {
        let policy = Arc::new(policy);
        // Through a proxy the resolver would see the proxy's address, not the target's.
        let proxies = if policy.block_private {
            Proxies::none()
        } else {
            Proxies::from_env()
        };
        Client {
            agent: OnceLock::new(),
            policy,
            proxies,
        }
    }

    /// The agent, made on first use.
    fn agent(&self) -> &Agent {
        self.agent.get_or_init(|| {
            let config = Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .tls_config(trust::ureq_tls())
                // The route is chosen per hop (`Client::run`), not by ureq.
                .proxy(None)
                .user_agent(concat!("brine/", env!("CARGO_PKG_VERSION")))
                .build();
            let resolver = GuardedResolver {
                inner: DefaultResolver::default(),
                policy: self.policy.clone(),
            };
            Agent::with_parts(config, DefaultConnector::default(), resolver)
        })
    }

    /// Sends `request` and reads its response, following allowed redirects;
    /// gives up at the policy's timeout or at `deadline`, whichever is first.
    pub fn send(&self, request: &HttpRequest, deadline: Option<Instant>) -> HttpResult {
        let until = self.until(deadline);
        let hop = Hop {
            method: to_http_method(request.method),
            uri: parse_url(&request.url)?,
            headers: request.headers.clone(),
            body: &request.body,
        };
        let result = self.follow(hop, request.max_body, until);
        if let Err(HttpError::Timeout(_)) = &result {
            // A timeout means the limit has passed: never report one a moment early
            // (a run's deadline is checked right after the request).
            let early = until.saturating_duration_since(Instant::now());
            std::thread::sleep(early.min(Duration::from_secs(1)));
        }
        result
    }

    /// When the request must be done: the policy's timeout from now, or the
    /// run's `deadline` if that comes first.
    fn until(&self, deadline: Option<Instant>) -> Instant {
        let now = Instant::now();
        // A timeout too long to add is as good as none: a day will do.
        let limit = now
            .checked_add(self.policy.timeout)
            .or_else(|| now.checked_add(Duration::from_secs(86_400)))
            .unwrap_or(now);
        deadline.map_or(limit, |d| d.min(limit))
    }

    /// Sends `hop` and the redirects it leads to; reads the final response.
    fn follow(&self, mut hop: Hop<'_>, max_body: u64, until: Instant) -> HttpResult {
        for _ in 0..=MAX_REDIRECTS {
            self.check_host(&hop.uri)?;
            let response = self.exchange(&hop, until)?;
            match next_hop(&hop, &response)? {
                Some(next) => hop = next,
                None => return read_response(response, max_body),
            }
        }
        Err(HttpError::Network(format!(
            "stopped after {MAX_REDIRECTS} redirects"
        )))
    }

    fn check_host(&self, uri: &Uri) -> Result<(), HttpError> {
        let host = uri.host().unwrap_or_default();
        if self.policy.allows_host(host) {
            return Ok(());
        }
        Err(HttpError::NotAllowed(format!(
            "{host} (the job's network allows {})",
            self.policy.describe()
        )))
    }

    /// Sends one hop, with the time left until `until`.
    fn exchange(&self, hop: &Hop<'_>, until: Instant) -> Result<Response<Body>, HttpError> {
        let left = until
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| HttpError::Timeout("the request's time ran out".to_string()))?;
        let mut builder = Request::builder()
            .method(hop.method.clone())
            .uri(hop.uri.clone());
        for (name, value) in &hop.headers {
            builder = builder.header(name, value);
        }
        let wants_length = matches!(
            hop.method,
            HttpMethod::POST | HttpMethod::PUT | HttpMethod::PATCH
        );
        if hop.body.is_empty() && !wants_length {
            self.run(builder.body(()), left, &hop.uri)
        } else {
            self.run(builder.body(hop.body), left, &hop.uri)
        }
    }

    fn run<B: AsSendBody>(
        &self,
        request: Result<Request<B>, http::Error>,
        left: Duration,
        uri: &Uri,
    ) -> Result<Response<Body>, HttpError> {
        let request = request.map_err(|e| HttpError::Network(e.to_string()))?;
        let host = uri.host().unwrap_or_default();
        // Like Go's client: loopback is never reached through a proxy.
        let route = if is_loopback_name(host) {
            Proxies::none().route(uri)
        } else {
            self.proxies.route(uri)
        }
        .map_err(|e| HttpError::Network(e.to_string()))?;
        let config = self
            .agent()
            .configure_request(request)
            .timeout_global(Some(left))
            .proxy(route.proxy);
        self.agent()
            .run(config.build())
            .map_err(|e| classify(e, host, route.via.as_deref()))
    }
}

/// An absolute `http`/`https` URL with a host (a `#fragment` is dropped).
fn parse_url(url: &str) -> Result<Uri, HttpError> {
    let url = url.split('#').next().unwrap_or_default();
    let uri: Uri = url
        .parse()
        .map_err(|e| HttpError::InvalidUrl(format!("{url}: {e}")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(HttpError::InvalidUrl(format!(
            "{url}: the scheme must be http or https"
        )));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(HttpError::InvalidUrl(format!("{url}: no host")));
    }
    Ok(uri)
}

fn to_http_method(method: super::Method) -> HttpMethod {
    use super::Method;
    match method {
        Method::Get => HttpMethod::GET,
        Method::Post => HttpMethod::POST,
        Method::Put => HttpMethod::PUT,
        Method::Delete => HttpMethod::DELETE,
        Method::Head => HttpMethod::HEAD,
        Method::Options => HttpMethod::OPTIONS,
        Method::Patch => HttpMethod::PATCH,
    }
}

/// The request a redirect response leads to, `None` when it is not a redirect.
fn next_hop<'a>(hop: &Hop<'a>, response: &Response<Body>) -> Result<Option<Hop<'a>>, HttpError> {
    let status = response.status().as_u16();
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let Some(location) = response.headers().get(http::header::LOCATION) else {
        return Ok(None);
    };
    let invalid = || HttpError::Network(format!("a redirect ({status}) to an invalid location"));
    let location = location.to_str().map_err(|_| invalid())?;
    let uri = resolve_location(&hop.uri, location).ok_or_else(invalid)?;
    let keep = matches!(status, 307 | 308);
    let method = if keep || hop.method == HttpMethod::HEAD {
        hop.method.clone()
    } else {
        HttpMethod::GET
    };
    let same_site = same_site(&hop.uri, &uri);
    let headers = hop
        .headers
        .iter()
        .filter(|(name, _)| same_site || !CREDENTIALS.contains(&name.to_ascii_lowercase().as_str()))
        .cloned()
        .collect();
    Ok(Some(Hop {
        method,
        uri,
        headers,
        body: if keep { hop.body } else { &[] },
    }))
}

/// `location` (absolute, scheme-relative, absolute-path or relative) against `base`.
fn resolve_location(base: &Uri, location: &str) -> Option<Uri> {
    let location = location.trim();
    let scheme = base.scheme_str()?;
    let authority = base.authority()?.as_str();
    let text = if has_scheme(location) {
        location.to_string()
    } else if location.starts_with("//") {
        format!("{scheme}:{location}")
    } else if location.starts_with('/') {
        format!("{scheme}://{authority}{location}")
    } else if location.starts_with('?') {
        format!("{scheme}://{authority}{}{location}", base.path())
    } else {
        let path = base.path();
        let dir = path.rfind('/').map_or("/", |i| &path[..=i]);
        format!("{scheme}://{authority}{dir}{location}")
    };
    parse_url(&text).ok()
}

/// Whether `text` starts with `scheme:` (RFC 3986: a letter, then letters, digits, `+-.`).
fn has_scheme(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// Whether `to` is the host of `from` or one of its subdomains.
fn same_site(from: &Uri, to: &Uri) -> bool {
    let from = normalize_host(from.host().unwrap_or_default());
    let to = normalize_host(to.host().unwrap_or_default());
    to == from || to.ends_with(&format!(".{from}"))
}

fn is_loopback_name(host: &str) -> bool {
    let host = normalize_host(host);
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Status, headers (names canonicalized, as Go reports them) and at most
/// `max_body` bytes of body (more is [`HttpError::TooLarge`]).
fn read_response(response: Response<Body>, max_body: u64) -> HttpResult {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (canonical_name(name.as_str()), value)
        })
        .collect();
    let body = response
        .into_body()
        .into_with_config()
        .limit(max_body)
        .read_to_vec()
        .map_err(|e| classify(e, "", None))?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// `content-type` → `Content-Type` (Go's canonical MIME header key).
fn canonical_name(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// The [`HttpError`] (and so the result code) of a ureq error of a request
/// to `host` (through the proxy `via` names, if any).
fn classify(err: ureq::Error, host: &str, via: Option<&str>) -> HttpError {
    match err {
        ureq::Error::Timeout(t) => HttpError::Timeout(format!("{t} timed out")),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            HttpError::Timeout(e.to_string())
        }
        ureq::Error::BodyExceedsLimit(limit) => HttpError::TooLarge(format!(
            "the body is longer than {limit} bytes (80% of the guest's memory, at most 100 MiB)"
        )),
        ureq::Error::BadUri(m) => HttpError::InvalidUrl(m),
        ureq::Error::Other(e) => match e.downcast::<Blocked>() {
            Ok(blocked) => HttpError::NotAllowed(blocked.to_string()),
            Err(e) => HttpError::Network(e.to_string()),
        },
        other => HttpError::Network(failure::classify(&other, host, via).reason),
    }
}

/// A host that resolved to an address the policy blocks.
#[derive(Debug)]
struct Blocked {
    host: String,
    ip: IpAddr,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} resolves to {}, an internal address (brine runs with --block-private)",
            self.host, self.ip
        )
    }
}

impl std::error::Error for Blocked {}

/// Resolves as usual, then refuses the host if any of its addresses is blocked.
#[derive(Debug)]
struct GuardedResolver {
    inner: DefaultResolver,
    policy: Arc<Policy>,
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let host = uri.host().unwrap_or_default();
        let blocked = addrs
            .iter()
            .find(|a| !self.policy.allows_address(host, a.ip()));
        match blocked {
            Some(addr) => Err(ureq::Error::Other(Box::new(Blocked {
                host: host.to_string(),
                ip: addr.ip(),
            }))),
            None => Ok(addrs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_reads_no_trust_store_until_its_first_request() {
        // Every job's guest gets a client; loading the platform's certificates
        // cost ~4 ms of CPU per run before the agent was made lazily.
        let client = Client::new(Policy::any());
        assert!(client.agent.get().is_none());
        let _ = client.agent();
        assert!(client.agent.get().is_some());
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(parse_url("http://example.com/x?y#frag").is_ok());
        assert!(parse_url("HTTPS://Example.com").is_ok());
        for bad in [
            "",
            "example.com",
            "/path",
            "ftp://x/",
            "http://",
            "http://a b/",
        ] {
            assert!(
                matches!(parse_url(bad), Err(HttpError::InvalidUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn locations_resolve_against_the_request() {
        let base = uri("http://a.example:8080/dir/page?q=1");
        let resolve = |l: &str| resolve_location(&base, l).map(|u| u.to_string());
        for (location, want) in [
            ("https://b.example/x", "https://b.example/x"),
            ("//c.example/y", "http://c.example/y"),
            ("/root", "http://a.example:8080/root"),
            ("next", "http://a.example:8080/dir/next"),
            ("?p=2", "http://a.example:8080/dir/page?p=2"),
        ] {
            assert_eq!(resolve(location).as_deref(), Some(want), "{location}");
        }
        assert_eq!(resolve("ftp://x/"), None);
    }

    #[test]
    fn credentials_stay_on_the_site() {
        assert!(same_site(
            &uri("http://example.com/"),
            &uri("http://api.example.com/")
        ));
        assert!(!same_site(
            &uri("http://example.com/"),
            &uri("http://badexample.com/")
        ));
    }

    #[test]
    fn header_names_are_canonical() {
        assert_eq!(canonical_name("content-type"), "Content-Type");
        assert_eq!(canonical_name("x-a-b"), "X-A-B");
        assert_eq!(canonical_name("etag"), "Etag");
    }

    #[test]
    fn loopback_names() {
        assert!(is_loopback_name("localhost:80"));
        assert!(is_loopback_name("127.0.0.1"));
        assert!(is_loopback_name("[::1]"));
        assert!(!is_loopback_name("example.com"));
    }
}
