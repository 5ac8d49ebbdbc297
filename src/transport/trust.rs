//! Which certificate authorities brine's HTTPS clients trust.
//!
//! The roots are, together:
//! - the platform's store, as rustls-native-certs reads it (on Linux and the
//!   BSDs the OpenSSL locations, e.g. `/etc/ssl/certs`; the keychain on macOS;
//!   the system store on Windows);
//! - the PEM certificates in `SSL_CERT_FILE` and in the directories of
//!   `SSL_CERT_DIR` (`:`-separated). Unlike OpenSSL, these add to the
//!   platform's store instead of replacing it (on Linux and the BSDs; on macOS
//!   and Windows they replace it, as rustls-native-certs has it), so pointing
//!   `SSL_CERT_FILE` at a company CA alone does not break public downloads;
//! - every `--ca-cert FILE` ([`add_ca_file`]).
//!
//! When the platform has no store at all (a bare container), the Mozilla roots
//! bundled in brine (webpki-root-certs) take its place; they are never used
//! beside a platform store, whose administrator may have removed a CA.
//!
//! Why rustls-native-certs and not rustls-platform-verifier (ureq's
//! `platform-verifier` feature): ureq builds that verifier without extra roots,
//! so `--ca-cert` could not be added to it; a root list can hold both. The
//! platform's store is read once per process (a few hundred certificates
//! parsed from disk) and shared by every client built after.

use base64::Engine;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};
use tracing::{debug, warn};

/// The variable naming a PEM file of extra CAs.
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
/// The variable naming directories (`:`-separated) of PEM files of extra CAs.
pub const SSL_CERT_DIR: &str = "SSL_CERT_DIR";

/// Why a CA file (`--ca-cert`, `brine::trust_ca_file`) cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The file cannot be read.
    #[error("CA file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds no usable certificate.
    #[error(
        "CA file {}: no usable PEM certificate in it (expected -----BEGIN CERTIFICATE-----)",
        path.display()
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
}

/// The certificates `--ca-cert` added, in the order given.
static ADDED: Mutex<Vec<CertificateDer<'static>>> = Mutex::new(Vec::new());

/// The platform's store with `SSL_CERT_FILE`/`SSL_CERT_DIR`, read at first use.
static SYSTEM: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();

/// Trusts the CA certificates in the PEM file `path` from now on, in every
/// client built after; returns how many it holds. The file is the operator's
/// (a command-line argument), read by name.
pub fn add_ca_file(path: &Path) -> Result<usize, TrustError> {
    let pem = std::fs::read(path).map_err(|source| TrustError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let certs = parsable(pem_certificates(&pem));
    if certs.is_empty() {
        return Err(TrustError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    let count = certs.len();
    ADDED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .extend(certs);
    Ok(count)
}

/// Every trusted root: the platform's (or the bundled ones), the
/// environment's and `--ca-cert`'s.
pub fn roots() -> Vec<CertificateDer<'static>> {
    let mut roots = system().to_vec();
    roots.extend(
        ADDED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned(),
    );
    roots
}

/// ureq's TLS settings with [`roots`].
pub fn ureq_tls() -> ureq::tls::TlsConfig {
    let certs: Vec<ureq::tls::Certificate<'static>> = roots()
        .iter()
        .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::from(certs))
        .build()
}

/// The PEM certificates in `pem` that are valid trust anchors; others are
/// dropped (a broken entry in a bundle must not stop the rest from working).
pub fn parse_pem_bundle(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    parsable(pem_certificates(pem))
}

/// `certs` as PEM text (what the AWS SDK's trust store takes).
pub fn to_pem(certs: &[CertificateDer<'_>]) -> String {
    let mut text = String::new();
    for cert in certs {
        let encoded = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
        text.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in encoded.as_bytes().chunks(64) {
            text.push_str(&String::from_utf8_lossy(line));
            text.push('\n');
        }
        text.push_str("-----END CERTIFICATE-----\n");
    }
    text
}

/// The platform's store plus the environment's CAs, loaded once.
fn system() -> &'static [CertificateDer<'static>] {
    SYSTEM.get_or_init(load_system)
}

fn load_system() -> Vec<CertificateDer<'static>> {
    let mut platform = platform_store();
    if platform.is_empty() {
        warn!("no platform certificate store found; trusting the Mozilla roots bundled in brine");
        platform = webpki_root_certs::TLS_SERVER_ROOT_CERTS.to_vec();
    }
    let from_env = environment_cas();
    debug!(
        platform = platform.len(),
        environment = from_env.len(),
        "trusted roots loaded"
    );
    platform.extend(from_env);
    parsable(platform)
}

/// The platform's own store, whatever `SSL_CERT_FILE`/`SSL_CERT_DIR` say.
fn platform_store() -> Vec<CertificateDer<'static>> {
    let env_set = std::env::var_os(SSL_CERT_FILE).is_some_and(|v| !v.is_empty())
        || std::env::var_os(SSL_CERT_DIR).is_some_and(|v| !v.is_empty());
    if !env_set {
        let result = rustls_native_certs::load_native_certs();
        for error in &result.errors {
            debug!(%error, "part of the platform certificate store cannot be read");
        }
        return result.certs;
    }
    platform_dirs()
}

/// With the variables set, rustls-native-certs reads only them: the
/// platform's directories are read here instead (Linux and the BSDs).
#[cfg(all(unix, not(target_os = "macos")))]
fn platform_dirs() -> Vec<CertificateDer<'static>> {
    let mut certs = Vec::new();
    for dir in openssl_probe::candidate_cert_dirs() {
        certs.extend(rustls_native_certs::load_certs_from_paths(None, Some(dir)).certs);
    }
    certs.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
    certs.dedup();
    certs
}

/// macOS and Windows: the variables replace the platform's store.
#[cfg(not(all(unix, not(target_os = "macos"))))]
fn platform_dirs() -> Vec<CertificateDer<'static>> {
    Vec::new()
}

/// The certificates `SSL_CERT_FILE` and `SSL_CERT_DIR` name; what cannot be
/// read is reported once, in the log.
fn environment_cas() -> Vec<CertificateDer<'static>> {
    let file = std::env::var_os(SSL_CERT_FILE)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let dirs: Vec<PathBuf> = std::env::var_os(SSL_CERT_DIR)
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    let mut certs = Vec::new();
    if let Some(file) = &file {
        let result = rustls_native_certs::load_certs_from_paths(Some(file), None);
        report(SSL_CERT_FILE, &result);
        certs.extend(result.certs);
    }
    for dir in dirs.iter().filter(|d| !d.as_os_str().is_empty()) {
        let result = rustls_native_certs::load_certs_from_paths(None, Some(dir));
        report(SSL_CERT_DIR, &result);
        certs.extend(result.certs);
    }
    certs
}

fn report(variable: &str, result: &rustls_native_certs::CertificateResult) {
    for error in &result.errors {
        warn!(%error, "{variable}: cannot read every certificate");
    }
}

/// The `CERTIFICATE` blocks of a PEM text (other blocks skipped).
fn pem_certificates(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

/// The certificates rustls can use as trust anchors.
fn parsable(certs: Vec<CertificateDer<'static>>) -> Vec<CertificateDer<'static>> {
    certs
        .into_iter()
        .filter(|cert| {
            let mut store = rustls::RootCertStore::empty();
            store.add(cert.clone()).is_ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trips() {
        let some = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>();
        let text = to_pem(&some);
        assert_eq!(parse_pem_bundle(text.as_bytes()), some);
    }

    #[test]
    fn garbage_holds_no_certificate() {
        assert!(parse_pem_bundle(b"not a certificate").is_empty());
        let broken = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(parse_pem_bundle(broken).is_empty());
    }

    #[test]
    fn a_missing_ca_file_is_named() {
        let error = add_ca_file(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(error
            .to_string()
            .starts_with("CA file /nonexistent/ca.pem: "));
    }
}
