//! Which proxy a request goes through, from the environment, as curl reads it.
//!
//! An `https://` URL uses `https_proxy` or `HTTPS_PROXY`, an `http://` URL
//! `http_proxy` or `HTTP_PROXY`; either falls back to `all_proxy` /
//! `ALL_PROXY` (the lower-case form first, empty values unset). A proxy is an
//! `http://` or `https://` URL (no scheme: `http://`), reached with `CONNECT`
//! for every request, so the proxy never sees an `https` request's content.
//!
//! `no_proxy` / `NO_PROXY` lists hosts reached directly: entries separated by
//! commas or spaces; `*` alone is every host; a name matches itself and its
//! subdomains (a leading `.` or `*.` is ignored: `.corp.example` and
//! `corp.example` both match `a.corp.example` and `corp.example`); an IP
//! address matches itself, a CIDR block (`10.0.0.0/8`) the addresses in it;
//! `host:port` matches only that port. ureq's own `NO_PROXY` reading is not
//! used: it neither trims spaces, nor matches a bare domain's subdomains, nor
//! knows CIDR blocks.

use std::net::IpAddr;
use ureq::http::Uri;

/// A proxy variable that cannot be used; every request it would carry fails
/// with this (never retried: the setting will not change).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}={value} is not a usable proxy: {reason}")]
pub struct ProxyError {
    /// The variable.
    pub variable: String,
    /// Its value.
    pub value: String,
    /// Why.
    pub reason: String,
}

/// One configured proxy: its variable (for messages) and the ureq setting.
#[derive(Debug, Clone)]
struct Configured {
    variable: String,
    proxy: Result<ureq::Proxy, ProxyError>,
}

/// The proxy settings of the environment.
#[derive(Debug, Clone, Default)]
pub struct Proxies {
    https: Option<Configured>,
    http: Option<Configured>,
    no_proxy: Vec<Bypass>,
}

/// The proxy a request takes: which one (its variable, for messages) or none.
#[derive(Debug, Clone)]
pub struct Route {
    /// The ureq setting (`None`: connect directly).
    pub proxy: Option<ureq::Proxy>,
    /// The variable that named the proxy, when there is one.
    pub via: Option<String>,
}

impl Proxies {
    /// Reads the variables (see the module docs).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&str]| {
            names.iter().find_map(|name| {
                lookup(name)
                    .map(|value| value.trim().to_string())
                    .filter(|value| !value.is_empty())
                    .map(|value| (name.to_string(), value))
            })
        };
        let configure = |found: Option<(String, String)>| {
            found.map(|(variable, value)| Configured {
                proxy: parse_proxy(&variable, &value),
                variable,
            })
        };
        let https = first(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]);
        let http = first(&["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]);
        let no_proxy = first(&["no_proxy", "NO_PROXY"])
            .map(|(_, value)| parse_no_proxy(&value))
            .unwrap_or_default();
        Proxies {
            https: configure(https),
            http: configure(http),
            no_proxy,
        }
    }

    /// No proxy for any request.
    pub fn none() -> Self {
        Proxies::default()
    }

    /// The route to `uri`: its scheme's proxy unless `NO_PROXY` names its host.
    pub fn route(&self, uri: &Uri) -> Result<Route, ProxyError> {
        let direct = Route {
            proxy: None,
            via: None,
        };
        let https = uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("https"));
        let configured = if https { &self.https } else { &self.http };
        let Some(configured) = configured else {
            return Ok(direct);
        };
        let host = uri.host().unwrap_or_default();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        if self.no_proxy.iter().any(|b| b.matches(host, port)) {
            return Ok(direct);
        }
        let proxy = configured.proxy.clone()?;
        Ok(Route {
            proxy: Some(proxy),
            via: Some(configured.variable.clone()),
        })
    }
}

/// A proxy URL as ureq takes it: http or https (CONNECT), a host, no path.
fn parse_proxy(variable: &str, value: &str) -> Result<ureq::Proxy, ProxyError> {
    let error = |reason: &str| ProxyError {
        variable: variable.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let url = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let scheme = url.split("://").next().unwrap_or_default();
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return Err(error(
            "brine reaches proxies over http:// or https:// (CONNECT) only",
        ));
    }
    let uri: Uri = url
        .parse()
        .map_err(|_| error("expected a URL such as http://proxy.example:3128"))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(error("the URL has no host"));
    }
    ureq::Proxy::new(&url).map_err(|_| error("expected a URL such as http://proxy.example:3128"))
}

/// One `NO_PROXY` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Bypass {
    /// `*`: every host.
    All,
    /// A name and its subdomains, lower case, with an optional port.
    Domain(String, Option<u16>),
    /// An address block (a single address is a /32 or /128).
    Block(IpAddr, u8, Option<u16>),
}

/// The entries of a `NO_PROXY` value; ones that mean nothing are skipped.
fn parse_no_proxy(value: &str) -> Vec<Bypass> {
    value
        .split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .filter_map(parse_bypass)
        .collect()
}

fn parse_bypass(entry: &str) -> Option<Bypass> {
    if entry == "*" {
        return Some(Bypass::All);
    }
    if let Some((addr, bits)) = entry.split_once('/') {
        let addr: IpAddr = addr.trim_matches(['[', ']']).parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits: u8 = bits.parse().ok().filter(|b| *b <= max)?;
        return Some(Bypass::Block(addr, bits, None));
    }
    let (host, port) = split_port(entry);
    if let Ok(addr) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        return Some(Bypass::Block(addr, bits, port));
    }
    let name = host
        .trim_start_matches("*.")
        .trim_start_matches('.')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    (!name.is_empty()).then_some(Bypass::Domain(name, port))
}

/// `host:port` → (`host`, port); an IPv6 address without brackets has no port.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if entry.starts_with('[') {
        if let Some((host, port)) = entry.rsplit_once("]:") {
            return (host.trim_start_matches('['), port.parse().ok());
        }
        return (entry.trim_matches(['[', ']']), None);
    }
    match entry.split_once(':') {
        Some((host, port)) if !port.contains(':') => (host, port.parse().ok()),
        _ => (entry, None),
    }
}

impl Bypass {
    fn matches(&self, host: &str, port: u16) -> bool {
        let host = host.trim_matches(['[', ']']).trim_end_matches('.');
        match self {
            Bypass::All => true,
            Bypass::Domain(name, want) => {
                let host = host.to_ascii_lowercase();
                let named = host == *name || host.ends_with(&format!(".{name}"));
                named && want.is_none_or(|p| p == port)
            }
            Bypass::Block(block, bits, want) => {
                let Ok(addr) = host.parse::<IpAddr>() else {
                    return false;
                };
                in_block(addr, *block, *bits) && want.is_none_or(|p| p == port)
            }
        }
    }
}

/// Whether `addr` lies in `block`/`bits` (both of one family).
fn in_block(addr: IpAddr, block: IpAddr, bits: u8) -> bool {
    let (a, b, width) = match (addr, block) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    let mask = u128::MAX.checked_shl(shift).unwrap_or(0);
    let mask = if width == 32 {
        mask & u128::from(u32::MAX)
    } else {
        mask
    };
    a & mask == b & mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn proxies(vars: &[(&str, &str)]) -> Proxies {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Proxies::from_lookup(|name| map.get(name).cloned())
    }

    fn via(p: &Proxies, url: &str) -> Option<String> {
        p.route(&url.parse().unwrap()).unwrap().via
    }

    #[test]
    fn each_scheme_has_its_proxy() {
        let p = proxies(&[
            ("HTTPS_PROXY", "http://s.proxy:3128"),
            ("http_proxy", "p.proxy:8080"),
        ]);
        assert_eq!(
            via(&p, "https://a.example/x").as_deref(),
            Some("HTTPS_PROXY")
        );
        assert_eq!(via(&p, "http://a.example/x").as_deref(), Some("http_proxy"));
        let all = proxies(&[("ALL_PROXY", "http://all:1")]);
        assert_eq!(via(&all, "https://a/").as_deref(), Some("ALL_PROXY"));
        assert_eq!(via(&proxies(&[]), "https://a/"), None);
        assert_eq!(via(&proxies(&[("HTTPS_PROXY", " ")]), "https://a/"), None);
    }

    #[test]
    fn lower_case_wins() {
        let p = proxies(&[
            ("https_proxy", "http://low:1"),
            ("HTTPS_PROXY", "http://up:1"),
        ]);
        assert_eq!(via(&p, "https://a/").as_deref(), Some("https_proxy"));
    }

    #[test]
    fn no_proxy_names_domains_addresses_blocks_and_ports() {
        let p = proxies(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            (
                "NO_PROXY",
                " corp.example, .internal ,*.dev 10.0.0.0/8,127.0.0.1,[::1],svc:8443",
            ),
        ]);
        for direct in [
            "https://corp.example/",
            "https://a.b.corp.example/",
            "https://CORP.EXAMPLE./",
            "https://internal/",
            "https://x.internal/",
            "https://x.dev/",
            "https://10.1.2.3/",
            "https://127.0.0.1:9/",
            "https://[::1]:9/",
            "https://svc:8443/",
        ] {
            assert_eq!(via(&p, direct), None, "{direct}");
        }
        for proxied in [
            "https://notcorp.example/",
            "https://corp.example.evil/",
            "https://11.0.0.1/",
            "https://127.0.0.2/",
            "https://svc/",
        ] {
            assert!(via(&p, proxied).is_some(), "{proxied}");
        }
        let all = proxies(&[("HTTPS_PROXY", "http://p:1"), ("no_proxy", "*")]);
        assert_eq!(via(&all, "https://anything/"), None);
    }

    #[test]
    fn unusable_proxies_are_reported() {
        let p = proxies(&[("HTTPS_PROXY", "socks5://p:1080")]);
        let error = p.route(&"https://a/".parse().unwrap()).unwrap_err();
        assert_eq!(error.variable, "HTTPS_PROXY");
        assert!(error.to_string().contains("http:// or https://"), "{error}");
        // The bypass list still applies: a direct host never meets the bad proxy.
        let p = proxies(&[("HTTPS_PROXY", "socks5://p:1080"), ("NO_PROXY", "a")]);
        assert!(p.route(&"https://a/".parse().unwrap()).is_ok());
    }

    #[test]
    fn blocks_compare_prefixes() {
        let v4 = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_block(v4("192.168.5.1"), v4("192.168.0.0"), 16));
        assert!(!in_block(v4("192.169.0.1"), v4("192.168.0.0"), 16));
        assert!(in_block(v4("1.2.3.4"), v4("0.0.0.0"), 0));
        assert!(in_block(v4("fd00::1"), v4("fd00::"), 8));
        assert!(!in_block(v4("fe00::1"), v4("fd00::"), 8));
        assert!(!in_block(v4("::1"), v4("127.0.0.1"), 8));
    }
}
