//! A transport error in one line of plain English, and whether trying again
//! can help.
//!
//! Worth another attempt: connection resets, refusals and timeouts, a body cut
//! short, a temporary DNS failure, a proxy that is down (5xx) and a broken
//! HTTP reply. Never: certificate and other TLS errors, a host name that does
//! not exist, a bad URL or proxy setting, a proxy that refuses (4xx), too
//! many redirects. rustls reports through `io::Error`s (ureq's `Error::Io`),
//! which is why a certificate error used to look like network trouble.

use std::io::ErrorKind;
use webpki::Error as Pki;

/// What went wrong, and whether to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Another attempt may succeed.
    pub retry: bool,
    /// One line, e.g. `certificate for localhost is signed by an unknown issuer; …`.
    pub reason: String,
}

impl Failure {
    fn retry(reason: impl Into<String>) -> Self {
        Failure {
            retry: true,
            reason: reason.into(),
        }
    }

    fn fatal(reason: impl Into<String>) -> Self {
        Failure {
            retry: false,
            reason: reason.into(),
        }
    }
}

/// Classifies a ureq error of a request to `host`; `via` names the proxy's
/// variable when the request went through one.
pub fn classify(error: &ureq::Error, host: &str, via: Option<&str>) -> Failure {
    use ureq::Error as E;
    match error {
        E::Io(io) => io_failure(io, host, via),
        E::Rustls(tls) => Failure::fatal(tls_reason(tls, host)),
        E::Tls(what) => Failure::fatal(format!("TLS with {host} failed: {what}")),
        E::Timeout(which) => Failure::retry(format!("timed out ({which})")),
        E::HostNotFound => Failure::fatal(format!("cannot resolve {host}: no such host")),
        E::ConnectProxyFailed(reason) => proxy_failure(reason, host, via),
        E::ConnectionFailed => Failure::retry(format!("cannot connect to {host}")),
        E::Protocol(e) => Failure::retry(format!("bad HTTP reply from {host}: {e}")),
        E::BodyStalled => Failure::retry(format!("{host} stopped sending")),
        other => Failure::fatal(other.to_string()),
    }
}

/// An I/O error: a TLS error inside, a DNS failure, or network trouble. Through
/// a proxy (`via`: the variable that set it), a DNS failure or a refused or
/// broken connection is the proxy's, and is said so.
fn io_failure(io: &std::io::Error, host: &str, via: Option<&str>) -> Failure {
    if let Some(tls) = io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        return Failure::fatal(tls_reason(tls, host));
    }
    let text = io.to_string();
    let whose = via.map_or(host.to_string(), |v| format!("the proxy set by {v}"));
    if text.contains("failed to lookup address") {
        return if text.contains("Temporary failure") || text.contains("try again") {
            Failure::retry(format!("cannot resolve {whose} (a temporary DNS failure)"))
        } else {
            Failure::fatal(format!("cannot resolve {whose}: no such host"))
        };
    }
    let what = match io.kind() {
        ErrorKind::ConnectionReset => "the connection was reset",
        ErrorKind::ConnectionRefused => "the connection was refused",
        ErrorKind::ConnectionAborted => "the connection was aborted",
        ErrorKind::BrokenPipe => "the connection broke",
        ErrorKind::UnexpectedEof => "the connection closed early",
        ErrorKind::TimedOut | ErrorKind::WouldBlock => "timed out",
        _ => return Failure::retry(text),
    };
    match via {
        Some(_) => Failure::retry(format!("{what} ({whose}, on the way to {host})")),
        None if host.is_empty() => Failure::retry(what),
        None => Failure::retry(format!("{what} ({host})")),
    }
}

/// A CONNECT the proxy did not answer with 200: 5xx and silence may pass.
fn proxy_failure(reason: &str, host: &str, via: Option<&str>) -> Failure {
    let proxy = via.map_or("the proxy".to_string(), |v| format!("the proxy ({v})"));
    let status: Option<u16> = reason
        .strip_prefix("proxy server responded ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    match status {
        Some(code @ 500..=599) => Failure::retry(format!(
            "{proxy} could not open a tunnel to {host}: it answered {code}"
        )),
        Some(407) => Failure::fatal(format!(
            "{proxy} wants credentials (407): put them in the proxy URL, http://user:password@host:port"
        )),
        Some(code) => Failure::fatal(format!(
            "{proxy} refused a tunnel to {host}: it answered {code}"
        )),
        None => Failure::retry(format!("{proxy} did not answer the CONNECT to {host}")),
    }
}

/// A rustls error as a sentence about `host`'s certificate or handshake.
pub fn tls_reason(error: &rustls::Error, host: &str) -> String {
    match error {
        rustls::Error::InvalidCertificate(cert) => certificate_reason(cert, host),
        rustls::Error::NoCertificatesPresented => format!("{host} presented no certificate"),
        rustls::Error::AlertReceived(alert) => format!(
            "the TLS handshake with {host} failed: the server sent the alert \"{}\"",
            words(&format!("{alert:?}"))
        ),
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. } => format!(
            "{host} does not answer in TLS on this port (is the URL's scheme or port wrong?)"
        ),
        rustls::Error::PeerIncompatible(_) => {
            format!("the TLS handshake with {host} failed: no TLS version or cipher in common")
        }
        _ => format!("the TLS handshake with {host} failed"),
    }
}

/// What is wrong with the server's certificate.
fn certificate_reason(error: &rustls::CertificateError, host: &str) -> String {
    use rustls::CertificateError as C;
    let cert = format!("certificate for {host}");
    match error {
        C::UnknownIssuer => format!(
            "{cert} is signed by an unknown issuer; add its CA with --ca-cert or SSL_CERT_FILE"
        ),
        C::ExpiredContext { not_after, .. } => {
            format!("{cert} expired on {}", date(not_after.as_secs()))
        }
        C::Expired => format!("{cert} has expired"),
        C::NotValidYetContext { not_before, .. } => format!(
            "{cert} is not valid before {} (is this machine's clock right?)",
            date(not_before.as_secs())
        ),
        C::NotValidYet => format!("{cert} is not valid yet (is this machine's clock right?)"),
        C::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
            let names: Vec<String> = presented.iter().map(|n| presented_name(n)).collect();
            format!(
                "{cert} is not valid for that name: it is for {}",
                names.join(", ")
            )
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            format!("{cert} is not valid for that name")
        }
        C::Revoked => format!("{cert} has been revoked"),
        C::BadSignature => format!("{cert} has a bad signature"),
        C::BadEncoding => format!("{cert} is malformed"),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            format!("{cert} is not meant for TLS servers")
        }
        C::Other(other) => match other.0.downcast_ref::<Pki>() {
            Some(pki) => pki_reason(pki, &cert),
            None => format!("{cert} cannot be verified"),
        },
        _ => format!("{cert} cannot be verified"),
    }
}

/// webpki's own errors that rustls passes on unmapped.
fn pki_reason(error: &Pki, cert: &str) -> String {
    match error {
        Pki::CaUsedAsEndEntity => format!(
            "{cert} is a CA certificate (self-signed?) used as the server's own; \
             the server needs a certificate issued by a CA for its name"
        ),
        Pki::EndEntityUsedAsCa => {
            format!("{cert} is issued by a certificate that is not a CA")
        }
        Pki::PathLenConstraintViolated => {
            format!("{cert} is issued through more CAs than its root allows")
        }
        Pki::NameConstraintViolation => {
            format!("{cert} names a host its CA may not issue for")
        }
        _ => format!("{cert} cannot be verified"),
    }
}

/// `DnsName("a.example")` → `a.example`, `IpAddress(127.0.0.1)` → `127.0.0.1`.
fn presented_name(name: &str) -> String {
    let inner = name
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(name);
    inner.trim_matches('"').to_string()
}

/// `HandshakeFailure` → `handshake failure`.
fn words(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Seconds since 1970 as `YYYY-MM-DD` (UTC).
fn date(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn tls_io(error: rustls::Error) -> ureq::Error {
        ureq::Error::Io(io::Error::new(io::ErrorKind::InvalidData, error))
    }

    #[test]
    fn certificate_errors_are_plain_and_final() {
        let unknown = tls_io(rustls::CertificateError::UnknownIssuer.into());
        assert_eq!(
            classify(&unknown, "localhost", None),
            Failure::fatal(
                "certificate for localhost is signed by an unknown issuer; \
                 add its CA with --ca-cert or SSL_CERT_FILE"
            )
        );
        let ca = rustls::CertificateError::Other(rustls::OtherError(std::sync::Arc::new(
            Pki::CaUsedAsEndEntity,
        )));
        let failure = classify(&tls_io(ca.into()), "h", None);
        assert!(!failure.retry);
        assert!(failure.reason.contains("self-signed"), "{}", failure.reason);
        let named = rustls::CertificateError::NotValidForNameContext {
            expected: rustls::pki_types::ServerName::try_from("b.example").unwrap(),
            presented: vec![
                "DnsName(\"a.example\")".into(),
                "IpAddress(10.0.0.1)".into(),
            ],
        };
        assert_eq!(
            classify(&tls_io(named.into()), "b.example", None).reason,
            "certificate for b.example is not valid for that name: it is for a.example, 10.0.0.1"
        );
    }

    #[test]
    fn network_trouble_is_retried() {
        let reset = ureq::Error::Io(io::Error::from(io::ErrorKind::ConnectionReset));
        assert!(classify(&reset, "h", None).retry);
        let timeout = ureq::Error::Timeout(ureq::Timeout::Connect);
        assert!(classify(&timeout, "h", None).retry);
        assert!(!classify(&ureq::Error::HostNotFound, "h", None).retry);
        let nxdomain =
            io::Error::other("failed to lookup address information: Name or service not known");
        assert!(!classify(&ureq::Error::Io(nxdomain), "h", None).retry);
        let again = io::Error::other(
            "failed to lookup address information: Temporary failure in name resolution",
        );
        assert!(classify(&ureq::Error::Io(again), "h", None).retry);
    }

    #[test]
    fn proxies_that_refuse_are_final() {
        let refused = ureq::Error::ConnectProxyFailed("proxy server responded 403/403".into());
        assert!(!classify(&refused, "h", Some("HTTPS_PROXY")).retry);
        let down = ureq::Error::ConnectProxyFailed("proxy server responded 502/502".into());
        let failure = classify(&down, "h", Some("HTTPS_PROXY"));
        assert!(failure.retry);
        assert!(
            failure.reason.starts_with("the proxy (HTTPS_PROXY)"),
            "{}",
            failure.reason
        );
    }

    #[test]
    fn a_connection_through_a_proxy_names_the_proxy() {
        let refused = ureq::Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused));
        let failure = classify(&refused, "files.example", Some("HTTPS_PROXY"));
        assert!(failure.retry);
        assert_eq!(
            failure.reason,
            "the connection was refused (the proxy set by HTTPS_PROXY, on the way to files.example)"
        );
        let nxdomain =
            io::Error::other("failed to lookup address information: Name or service not known");
        let failure = classify(
            &ureq::Error::Io(nxdomain),
            "files.example",
            Some("HTTP_PROXY"),
        );
        assert_eq!(
            failure.reason,
            "cannot resolve the proxy set by HTTP_PROXY: no such host"
        );
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_735_689_600), "2025-01-01");
    }
}
