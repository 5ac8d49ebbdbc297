//! Which hosts and addresses a guest's HTTP requests may reach.
//!
//! A task's `Network` decides it, as in Bacalhau: `None` gives the guest no
//! network at all (the `wasi:http/requests` module is not even registered),
//! `Host` and `Full` let it reach any host, and `HTTP` only the hosts its
//! `Domains` name. A domain is an exact host name or a glob where `*` stands
//! for any run of characters (`*.example.com`, `api.*.org`); ports are
//! ignored and case does not matter.
//!
//! On top of that the operator may block internal addresses
//! ([`Policy::block_private`]): loopback, private, link-local, shared and
//! cloud-metadata addresses are then refused after DNS resolution, unless a
//! `Domains` entry names the host exactly.

use crate::spec::{Network, NetworkType};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// How long one request may take, redirects and reading the body included (Bacalhau: 30 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The environment variable that turns [`Policy::block_private`] on when it is `1` (or `true`).
pub const BLOCK_PRIVATE_ENV: &str = "BRINE_BLOCK_PRIVATE";

/// Which hosts a guest may address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Any host (`Network.Type` `Host` or `Full`).
    Any,
    /// Only hosts matching one of these patterns (`Network.Type: HTTP`), normalized.
    Domains(Vec<String>),
}

/// What a guest's HTTP requests may reach, and how long they may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The hosts a guest may address.
    pub access: Access,
    /// Refuse internal addresses (after DNS) unless a `Domains` entry names the host.
    pub block_private: bool,
    /// The limit on one request, redirects and body included.
    pub timeout: Duration,
}

impl Policy {
    /// Any host may be reached.
    pub fn any() -> Self {
        Policy {
            access: Access::Any,
            block_private: false,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Only hosts matching `patterns` may be reached.
    pub fn domains<S: AsRef<str>>(patterns: &[S]) -> Self {
        let patterns = patterns
            .iter()
            .map(|p| normalize_host(p.as_ref()))
            .filter(|p| !p.is_empty())
            .collect();
        Policy {
            access: Access::Domains(patterns),
            ..Policy::any()
        }
    }

    /// The policy of a task's `Network`; `None` when the network is disabled.
    pub fn from_network(network: &Network) -> Option<Self> {
        match network.kind {
            NetworkType::None => None,
            NetworkType::Host | NetworkType::Full => Some(Policy::any()),
            NetworkType::Http => Some(Policy::domains(&network.domains)),
        }
    }

    /// The same policy, blocking internal addresses or not.
    pub fn with_block_private(self, block_private: bool) -> Self {
        Policy {
            block_private,
            ..self
        }
    }

    /// Whether a request may address `host` (a URL's host, with or without port).
    pub fn allows_host(&self, host: &str) -> bool {
        match &self.access {
            Access::Any => true,
            Access::Domains(patterns) => {
                let host = normalize_host(host);
                patterns.iter().any(|p| glob(p.as_bytes(), host.as_bytes()))
            }
        }
    }

    /// Whether a `Domains` entry names `host` exactly (no wildcard), which lets
    /// it reach internal addresses even when they are blocked.
    pub fn names_host(&self, host: &str) -> bool {
        match &self.access {
            Access::Any => false,
            Access::Domains(patterns) => {
                let host = normalize_host(host);
                patterns.iter().any(|p| !p.contains('*') && *p == host)
            }
        }
    }

    /// Whether a connection to `ip`, which `host` resolved to, may be made.
    pub fn allows_address(&self, host: &str, ip: IpAddr) -> bool {
        !self.block_private || !is_internal(ip) || self.names_host(host)
    }

    /// The policy in a few words, for messages.
    pub fn describe(&self) -> String {
        match &self.access {
            Access::Any => "any host".to_string(),
            Access::Domains(patterns) if patterns.is_empty() => "no host".to_string(),
            Access::Domains(patterns) => format!("only {}", patterns.join(", ")),
        }
    }
}

/// Whether `BRINE_BLOCK_PRIVATE` asks for internal addresses to be blocked.
pub fn block_private_from_env() -> bool {
    std::env::var(BLOCK_PRIVATE_ENV)
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// A host or pattern without port, IPv6 brackets, surrounding space or a
/// final dot, in lower case (`API.Example.com:8080` → `api.example.com`).
pub fn normalize_host(host: &str) -> String {
    let host = host.trim();
    let bare = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or(host)
    } else {
        host
    };
    bare.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `text` matches `pattern`, where `*` matches any run of bytes.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it currently stands for.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// Whether `ip` is internal: unspecified, loopback, private, link-local
/// (cloud metadata at 169.254.169.254 and fe80::/10), shared (100.64.0.0/10,
/// Alibaba's metadata), IETF-reserved 192.0.0.0/24 (Oracle's), unique-local
/// IPv6 (fd00:ec2::254, AWS's) or an IPv4 address embedded in IPv6.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_internal(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => v4_internal(v4),
            None => v6_internal(v6),
        },
    }
}

fn v4_internal(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || (a == 100 && (b & 0xc0) == 64)
        || (a == 192 && b == 0 && c == 0)
}

fn v6_internal(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_unspecified()
        || ip.is_loopback()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) or 6to4 (`2002::/16`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    match s {
        [0, 0, 0, 0, 0, 0, hi, lo] if !ip.is_loopback() && !ip.is_unspecified() => {
            Some(tail(hi, lo))
        }
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(tail(hi, lo)),
        [0x2002, hi, lo, ..] => Some(tail(hi, lo)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(domains: &[&str]) -> Policy {
        Policy::domains(domains)
    }

    #[test]
    fn exact_domains_ignore_case_and_ports() {
        let p = http(&["Example.COM:8080"]);
        assert!(p.allows_host("example.com"));
        assert!(p.allows_host("EXAMPLE.com:443"));
        assert!(p.allows_host("example.com."));
        assert!(!p.allows_host("www.example.com"));
        assert!(!p.allows_host("example.org"));
    }

    #[test]
    fn globs_match_any_run_of_characters() {
        let p = http(&["*.example.com", "api.*.org"]);
        assert!(p.allows_host("a.example.com"));
        assert!(p.allows_host("a.b.example.com:80"));
        assert!(!p.allows_host("example.com"));
        assert!(!p.allows_host("badexample.com"));
        assert!(p.allows_host("api.v1.org"));
        assert!(!p.allows_host("api.org"));
        assert!(!p.allows_host("www.api.v1.org"));
        assert!(http(&["*"]).allows_host("anything"));
        assert!(http(&["a*b*c"]).allows_host("axxbyyc"));
        assert!(!http(&["a*b*c"]).allows_host("axxbyy"));
    }

    #[test]
    fn ipv6_hosts_and_patterns() {
        let p = http(&["[::1]:8080"]);
        assert!(p.allows_host("[::1]"));
        assert!(p.allows_host("[::1]:9000"));
        assert!(http(&["::1"]).allows_host("[::1]"));
        assert!(!p.allows_host("[::2]"));
    }

    #[test]
    fn full_allows_everything_and_empty_domains_nothing() {
        assert!(Policy::any().allows_host("whatever.example"));
        assert!(!http(&[]).allows_host("example.com"));
        assert!(!http(&[""]).allows_host(""));
    }

    #[test]
    fn network_types_map_to_policies() {
        let net = |kind, domains: &[&str]| Network {
            kind,
            domains: domains.iter().map(|d| d.to_string()).collect(),
        };
        assert_eq!(Policy::from_network(&net(NetworkType::None, &[])), None);
        assert_eq!(
            Policy::from_network(&net(NetworkType::Full, &[])),
            Some(Policy::any())
        );
        assert_eq!(
            Policy::from_network(&net(NetworkType::Host, &[])),
            Some(Policy::any())
        );
        let p = Policy::from_network(&net(NetworkType::Http, &[" A.org "])).unwrap();
        assert_eq!(p.access, Access::Domains(vec!["a.org".to_string()]));
    }

    #[test]
    fn internal_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "192.0.0.192",
            "0.0.0.0",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn named_hosts_may_reach_internal_addresses() {
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        let blocked = Policy::any().with_block_private(true);
        assert!(!blocked.allows_address("localhost", loopback));
        assert!(blocked.allows_address("example.com", "8.8.8.8".parse().unwrap()));
        let named = http(&["localhost", "*.internal"]).with_block_private(true);
        assert!(named.allows_address("localhost:8080", loopback));
        assert!(!named.allows_address("db.internal", loopback));
        assert!(Policy::any().allows_address("localhost", loopback));
    }
}
