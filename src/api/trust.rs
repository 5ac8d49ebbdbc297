//! Extra certificate authorities for the process's HTTPS (downloads, IPFS
//! gateways, the guest's HTTPS and S3), as `--ca-cert` gives them on the CLI.

use super::Error;
use std::path::Path;

/// Trusts the CA certificates in the PEM file `path` from now on, beside the
/// platform's store and `SSL_CERT_FILE` / `SSL_CERT_DIR`, in every run started
/// after the call (the setting is the process's, like the environment's);
/// returns how many certificates the file holds.
///
/// A company network's internal servers are signed by its own CA; call this
/// once at start-up with that CA's file.
///
/// ```no_run
/// let added = brine::trust_ca_file("/etc/company/ca.pem").expect("a PEM file of CAs");
/// assert!(added > 0);
/// ```
///
/// # Errors
/// [`Error::Refused`] when the file cannot be read or holds no certificate.
pub fn trust_ca_file(path: impl AsRef<Path>) -> Result<usize, Error> {
    crate::transport::trust::add_ca_file(path.as_ref()).map_err(Error::refused)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_missing_or_empty_ca_file_is_refused_naming_it() {
        let err = super::trust_ca_file("/nonexistent/ca.pem").unwrap_err();
        assert!(matches!(err, crate::Error::Refused(_)), "{err:?}");
        assert!(
            err.to_string().starts_with("CA file /nonexistent/ca.pem: "),
            "{err}"
        );
        let tmp = tempfile::tempdir().unwrap();
        let junk = tmp.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let err = super::trust_ca_file(&junk).unwrap_err();
        assert!(
            err.to_string().contains("no usable PEM certificate"),
            "{err}"
        );
    }
}
