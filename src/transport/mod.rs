//! What every HTTPS client brine makes shares, so downloads (`urlDownload`,
//! IPFS gateways), the guest's HTTP requests and S3 behave alike in a company
//! network:
//!
//! - [`trust`]: which certificate authorities are trusted: the platform's store,
//!   plus `SSL_CERT_FILE`, `SSL_CERT_DIR` and `--ca-cert` (S3 also
//!   `AWS_CA_BUNDLE`); the bundled Mozilla roots only when the platform has no
//!   store at all.
//! - [`proxy`]: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (either
//!   case), chosen per URL.
//! - [`failure`]: a transport error as one plain-English line, and whether
//!   trying again can help (a reset or a timeout can; a certificate or a name
//!   that does not exist cannot).
//!
//! A shared leaf: it uses nothing of brine's above it.

pub mod failure;
pub mod proxy;
pub mod trust;
