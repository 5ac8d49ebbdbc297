//! What S3 inputs and the S3 publisher share: the AWS client (default
//! credential chain, anonymous when it finds none, path-style for custom
//! endpoints), `s3://` URLs, endpoint checks and SDK errors in one line.
//!
//! Its HTTPS client trusts what brine's other clients trust (the platform's
//! store, `SSL_CERT_FILE`, `SSL_CERT_DIR`, `--ca-cert`: `crate::transport::trust`)
//! and the PEM bundle `AWS_CA_BUNDLE` names, which the Rust SDK itself does
//! not read; proxies are the SDK's own reading of `HTTPS_PROXY`, `HTTP_PROXY`,
//! `ALL_PROXY` and `NO_PROXY`.

use crate::transport::trust;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::SharedHttpClient;
use aws_sdk_s3::config::{
    BehaviorVersion, ProvideCredentials, Region, RequestChecksumCalculation,
    ResponseChecksumValidation,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::Client;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use tracing::warn;

/// The variable naming a PEM bundle of extra CAs for S3 (as the AWS CLI reads it).
pub const AWS_CA_BUNDLE: &str = "AWS_CA_BUNDLE";

/// The credential chain failed (other than by finding no credentials).
#[derive(Debug, thiserror::Error)]
#[error("cannot load AWS credentials: {0}")]
pub struct CredentialsError(pub String);

/// `s3://bucket/key`.
pub fn s3_url(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// A custom endpoint that is not an http or https URL with a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Not an http:// or https:// URL.
    #[error(
        "Endpoint `{endpoint}`: expected an http:// or https:// URL, e.g. http://127.0.0.1:9000"
    )]
    NotHttp {
        /// The endpoint as given.
        endpoint: String,
    },
    /// Nothing (or whitespace) where the host goes.
    #[error("Endpoint `{endpoint}`: the URL has no host")]
    NoHost {
        /// The endpoint as given.
        endpoint: String,
    },
}

/// An endpoint must be an http or https URL with a host.
pub fn check_endpoint(endpoint: &str) -> Result<(), EndpointError> {
    let rest = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .ok_or_else(|| EndpointError::NotHttp {
            endpoint: endpoint.to_string(),
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(EndpointError::NoHost {
            endpoint: endpoint.to_string(),
        });
    }
    Ok(())
}

/// An S3 client for `region` and `endpoint`, signed with the default credential
/// chain's credentials, or anonymous when the chain finds none.
pub async fn client(
    region: Option<&str>,
    endpoint: Option<&str>,
) -> Result<Client, CredentialsError> {
    let mut config = loader(region, endpoint).load().await;
    if !has_credentials(&config).await? {
        config = loader(region, endpoint).no_credentials().load().await;
    }
    let mut builder = aws_sdk_s3::config::Builder::from(&config);
    if endpoint.is_some() {
        builder = builder
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    }
    Ok(Client::from_conf(builder.build()))
}

fn loader(region: Option<&str>, endpoint: Option<&str>) -> aws_config::ConfigLoader {
    use aws_config::meta::region::RegionProviderChain;
    let regions = RegionProviderChain::first_try(region.map(|r| Region::new(r.to_string())))
        .or_default_provider()
        .or_else(Region::from_static(DEFAULT_REGION));
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(regions);
    if let Some(client) = https_client() {
        loader = loader.http_client(client);
    }
    match endpoint {
        Some(url) => loader.endpoint_url(url),
        None => loader,
    }
}

/// The SDK's default HTTPS client (rustls with aws-lc, proxies from the
/// environment) trusting [`trust::roots`] and `AWS_CA_BUNDLE`; `None` (the
/// SDK's default) if the TLS settings cannot be built.
fn https_client() -> Option<SharedHttpClient> {
    let mut roots = trust::roots();
    roots.extend(aws_ca_bundle());
    // Every certificate passed here parses: the SDK panics on one that does not.
    let store = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(trust::to_pem(&roots).into_bytes());
    let context = match TlsContext::builder().with_trust_store(store).build() {
        Ok(context) => context,
        Err(error) => {
            warn!(%error, "cannot set S3's trusted CAs; using the SDK's defaults");
            return None;
        }
    };
    let client = Builder::new().build_with_connector_fn(move |settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.tls_context(context.clone()).build()
    });
    Some(client)
}

/// The CAs in the `AWS_CA_BUNDLE` file, if it names one; a file that cannot
/// be read is reported (S3 over HTTPS to a private CA will then fail).
fn aws_ca_bundle() -> Vec<rustls::pki_types::CertificateDer<'static>> {
    let Some(path) = std::env::var_os(AWS_CA_BUNDLE).filter(|p| !p.is_empty()) else {
        return Vec::new();
    };
    let path = std::path::PathBuf::from(path);
    match std::fs::read(&path) {
        Ok(pem) => {
            let certs = trust::parse_pem_bundle(&pem);
            if certs.is_empty() {
                warn!(
                    "{AWS_CA_BUNDLE}={}: no PEM certificate in it",
                    path.display()
                );
            }
            certs
        }
        Err(error) => {
            warn!("{AWS_CA_BUNDLE}={}: {error}", path.display());
            Vec::new()
        }
    }
}

/// Whether the default chain finds credentials; an error other than "none found" is reported.
async fn has_credentials(config: &aws_config::SdkConfig) -> Result<bool, CredentialsError> {
    use aws_credential_types::provider::error::CredentialsError;
    let Some(provider) = config.credentials_provider() else {
        return Ok(false);
    };
    match provider.provide_credentials().await {
        Ok(_) => Ok(true),
        Err(CredentialsError::CredentialsNotLoaded(_)) => Ok(false),
        Err(e) => Err(CredentialsError(chain(&e))),
    }
}

/// What an SDK error means, in one line.
pub fn describe<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let SdkError::ServiceError(service) = err else {
        if let Some(tls) = tls_error(err) {
            return format!(
                "request failed: {} (S3 also trusts the CAs in AWS_CA_BUNDLE)",
                crate::transport::failure::tls_reason(tls, "the S3 endpoint")
            );
        }
        return format!("request failed: {}", chain(err));
    };
    let status = service.raw().status().as_u16();
    let error = service.err();
    let code = error.code().unwrap_or("error");
    let meaning = match code {
        "NoSuchKey" => "no such object",
        "NoSuchBucket" => "no such bucket",
        "AccessDenied" => {
            "access denied (check the credentials brine finds: AWS_ACCESS_KEY_ID, AWS_PROFILE, ...)"
        }
        _ if status == 404 => "not found",
        _ => "",
    };
    let detail = match error.message() {
        Some(message) => format!("HTTP {status}: {message}"),
        None => format!("HTTP {status}"),
    };
    if meaning.is_empty() {
        format!("{code} ({detail})")
    } else {
        format!("{meaning} ({code}, {detail})")
    }
}

/// The rustls error somewhere in `err`'s sources. An `io::Error` hides its
/// payload from `source()` (hyper-rustls nests the rustls error two
/// `io::Error`s deep), so payloads are looked into as well.
fn tls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(err);
    while let Some(e) = next {
        let mut payload = Some(e);
        while let Some(p) = payload {
            if let Some(tls) = p.downcast_ref::<rustls::Error>() {
                return Some(tls);
            }
            payload = p
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
                .map(|inner| inner as &(dyn std::error::Error + 'static));
        }
        next = e.source();
    }
    None
}

/// An error and its sources, one `: `-separated line, repeats dropped.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The region used when neither the job nor the environment names one.
pub const DEFAULT_REGION: &str = "us-east-1";
