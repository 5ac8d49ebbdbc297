//! Downloads in a company network, through the real binary, on loopback with
//! real TLS: a private CA trusted with `--ca-cert`, `SSL_CERT_FILE` or
//! `SSL_CERT_DIR`; certificate errors (unknown issuer, a self-signed CA as the
//! server's certificate, expired, another host's name) that fail at once, on
//! the first connection, with one plain line; a CONNECT proxy downloads go
//! through and `NO_PROXY` bypasses; which HTTP statuses are retried
//! (404 never, 503 yes, 429 after its `Retry-After`); and the guest's HTTPS
//! through the host's proxy while the job's network policy still checks the
//! host the guest named.

mod common;
mod http_fixture;
mod tls_fixture;

use common::job::{module_job, source_input, Job};
use common::{brine, describe, stderr, stdout, ROOT};
use http_fixture::{Reply, Server};
use std::process::Output;
use std::time::{Duration, Instant};
use tls_fixture::{self_signed, ConnectProxy, Identity, TestCa, TlsServer};

/// What every download serves.
const BODY: &[u8] = b"city,sales\nlisbon,7\n";

/// The variables that would change trust or routing, cleared for every run.
const NETWORK_ENV: [&str; 11] = [
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "BRINE_IPFS_GATEWAY",
];

/// A job that prints the file `url` downloads to /inputs/data.csv.
fn download_job(url: &str) -> Job {
    let module = format!("{ROOT}/fixtures/cat_file.wasm");
    let source = format!("{{Type: urlDownload, Params: {{URL: '{url}'}}}}");
    let inputs = source_input(&source, "/inputs");
    Job::new(&module_job(module, &["/inputs/data.csv"], &inputs, ""))
}

/// Runs `job` with `extra` flags and `env`, nothing else from the
/// environment's network settings; returns the output and how long it took.
fn run(job: &Job, extra: &[&str], env: &[(&str, &str)]) -> (Output, Duration) {
    let mut command = job.command();
    command.arg("--quiet").args(extra);
    for name in NETWORK_ENV {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let started = Instant::now();
    let output = command.output().expect("brine runs");
    (output, started.elapsed())
}

/// The download worked: the guest printed the body.
#[track_caller]
fn assert_downloaded(job: &Job, o: &Output) {
    assert_eq!(o.status.code(), Some(0), "{}", describe(o));
    assert_eq!(job.read_bytes("stdout"), BODY, "{}", describe(o));
}

/// The run failed with one error line holding `needle`, at once (well under
/// the retries' pauses), after exactly one connection, with no Rust Debug text.
#[track_caller]
fn assert_failed_at_once(o: &Output, took: Duration, server: &TlsServer, needle: &str) {
    assert_eq!(o.status.code(), Some(1), "{}", describe(o));
    let err = stderr(o);
    let line = err
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with `{needle}`:\n{}", describe(o)));
    assert!(
        line.contains("urlDownload https://"),
        "names the input and URL: {line}"
    );
    for debug in [
        "Other(",
        "OtherError",
        "InvalidCertificate",
        "Custom {",
        "kind:",
    ] {
        assert!(!err.contains(debug), "Debug text `{debug}` in: {err}");
    }
    assert!(took < Duration::from_secs(5), "took {took:?}: retried?");
    assert_eq!(
        server.connections(),
        1,
        "one connection, no retry: {}",
        describe(o)
    );
}

fn serve_body(_: &str, _: usize) -> (u16, Vec<u8>) {
    (200, BODY.to_vec())
}

#[test]
fn a_private_ca_is_trusted_with_ca_cert() {
    let ca = TestCa::new();
    let server = TlsServer::start(ca.leaf(&["localhost"]), serve_body);
    let job = download_job(&server.url("localhost", "/data.csv"));
    let ca_file = ca.write(job.dir(), "ca.pem");
    let (o, _) = run(&job, &["--ca-cert", ca_file.to_str().unwrap()], &[]);
    assert_downloaded(&job, &o);
    assert_eq!(server.paths(), ["/data.csv"]);
}

#[test]
fn verify_re_runs_a_private_ca_download_with_ca_cert() {
    let ca = TestCa::new();
    let server = TlsServer::start(ca.leaf(&["localhost"]), serve_body);
    let job = download_job(&server.url("localhost", "/data.csv"));
    let ca_file = ca.write(job.dir(), "ca.pem");
    let receipt = job.path("receipt.json");
    let receipt_arg = receipt.to_str().unwrap();
    let ca_arg = ca_file.to_str().unwrap();
    let flags = [
        "--deterministic",
        "--receipt",
        receipt_arg,
        "--ca-cert",
        ca_arg,
    ];
    let (o, _) = run(&job, &flags, &[]);
    assert_downloaded(&job, &o);
    let verify = |extra: &[&str]| {
        let mut command = brine();
        command
            .arg("verify")
            .arg(&receipt)
            .arg(job.file())
            .args(extra);
        for name in NETWORK_ENV {
            command.env_remove(name);
        }
        command.output().unwrap()
    };
    let o = verify(&["--ca-cert", ca_arg]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_eq!(stdout(&o).trim(), "verified");
    let o = verify(&[]);
    assert_ne!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(describe(&o).contains("unknown issuer"), "{}", describe(&o));
}

#[test]
fn a_private_ca_is_trusted_with_ssl_cert_file_and_ssl_cert_dir() {
    let ca = TestCa::new();
    let server = TlsServer::start(ca.leaf(&["localhost"]), serve_body);
    let job = download_job(&server.url("localhost", "/data.csv"));
    let ca_file = ca.write(job.dir(), "ca.pem");
    let (o, _) = run(&job, &[], &[("SSL_CERT_FILE", ca_file.to_str().unwrap())]);
    assert_downloaded(&job, &o);

    let job = download_job(&server.url("localhost", "/data.csv"));
    let dir = job.dir().join("cas");
    std::fs::create_dir(&dir).unwrap();
    ca.write(&dir, "company.pem");
    let (o, _) = run(&job, &[], &[("SSL_CERT_DIR", dir.to_str().unwrap())]);
    assert_downloaded(&job, &o);
}

#[test]
fn an_unknown_issuer_fails_at_once_and_says_how_to_trust_it() {
    let ca = TestCa::new();
    let server = TlsServer::start(ca.leaf(&["localhost"]), serve_body);
    let job = download_job(&server.url("localhost", "/data.csv"));
    let (o, took) = run(&job, &[], &[]);
    assert_failed_at_once(
        &o,
        took,
        &server,
        "certificate for localhost is signed by an unknown issuer; \
         add its CA with --ca-cert or SSL_CERT_FILE",
    );
}

#[test]
fn a_self_signed_ca_certificate_as_the_server_s_own_is_explained() {
    let identity = self_signed(&["localhost"]);
    let pem = identity.pem.clone();
    let server = TlsServer::start(identity, serve_body);
    let job = download_job(&server.url("localhost", "/data.csv"));
    let cert_file = job.dir().join("self.pem");
    std::fs::write(&cert_file, pem).unwrap();
    let (o, took) = run(&job, &["--ca-cert", cert_file.to_str().unwrap()], &[]);
    assert_failed_at_once(
        &o,
        took,
        &server,
        "certificate for localhost is a CA certificate (self-signed?) used as the server's own",
    );
}

/// A server with `identity` (issued by `ca`), a download trusting `ca` with
/// `--ca-cert`: it fails at once, saying `needle`.
fn assert_refused_despite_the_ca(ca: &TestCa, identity: Identity, needle: &str) {
    let server = TlsServer::start(identity, serve_body);
    let job = download_job(&server.url("localhost", "/data.csv"));
    let ca_file = ca.write(job.dir(), "ca.pem");
    let (o, took) = run(&job, &["--ca-cert", ca_file.to_str().unwrap()], &[]);
    assert_failed_at_once(&o, took, &server, needle);
}

#[test]
fn an_expired_certificate_fails_at_once_with_its_date() {
    let ca = TestCa::new();
    let leaf = ca.expired_leaf(&["localhost"]);
    assert_refused_despite_the_ca(&ca, leaf, "certificate for localhost expired on 2020-01-02");
}

#[test]
fn a_certificate_for_another_name_fails_at_once_naming_its_names() {
    let ca = TestCa::new();
    let leaf = ca.leaf(&["files.corp.example"]);
    assert_refused_despite_the_ca(
        &ca,
        leaf,
        "certificate for localhost is not valid for that name: it is for files.corp.example",
    );
}

#[test]
fn a_bad_ca_cert_file_is_bad_usage() {
    let job = download_job("https://localhost:1/data.csv");
    let junk = job.dir().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let (o, _) = run(&job, &["--ca-cert", junk.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        stderr(&o).contains("no usable PEM certificate"),
        "{}",
        describe(&o)
    );
}

#[test]
fn downloads_go_through_the_https_proxy_unless_no_proxy_names_the_host() {
    let ca = TestCa::new();
    let server = TlsServer::start(ca.leaf(&["localhost"]), serve_body);
    let proxy = ConnectProxy::start(None);
    let job = download_job(&server.url("localhost", "/data.csv"));
    let ca_file = ca.write(job.dir(), "ca.pem");
    let ca_flag = ["--ca-cert", ca_file.to_str().unwrap()];
    let (o, _) = run(&job, &ca_flag, &[("HTTPS_PROXY", &proxy.url())]);
    assert_downloaded(&job, &o);
    assert_eq!(proxy.targets(), [format!("localhost:{}", server.port())]);

    for no_proxy in ["localhost", "example.org, .localhost ,localhost", "*"] {
        let job = download_job(&server.url("localhost", "/data.csv"));
        let env = [
            ("https_proxy", proxy.url()),
            ("NO_PROXY", no_proxy.to_string()),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (o, _) = run(&job, &ca_flag, &env);
        assert_downloaded(&job, &o);
        assert_eq!(
            proxy.targets().len(),
            1,
            "NO_PROXY={no_proxy} bypasses the proxy"
        );
    }
    assert_eq!(server.connections(), 4);
}

#[test]
fn a_proxy_setting_brine_cannot_use_fails_at_once() {
    let job = download_job("https://localhost:1/data.csv");
    let (o, took) = run(&job, &[], &[("HTTPS_PROXY", "socks5://127.0.0.1:1080")]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        stderr(&o).contains("HTTPS_PROXY=socks5://127.0.0.1:1080 is not a usable proxy"),
        "{}",
        describe(&o)
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

// ---- statuses: what is retried ----

/// A job downloading `path` from the plain HTTP test server.
fn http_job(server: &Server, path: &str) -> Job {
    download_job(&server.url(path))
}

#[test]
fn a_404_is_not_retried() {
    let server = Server::start(|_, _| Reply::status(404));
    let job = http_job(&server, "/data.csv");
    let (o, took) = run(&job, &[], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        stderr(&o).contains("HTTP 404 Not Found"),
        "{}",
        describe(&o)
    );
    assert_eq!(server.targets().len(), 1, "no retry");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn a_503_is_retried_until_the_200() {
    let server = Server::start(|_, n| match n {
        0 => Reply::status(503),
        _ => Reply::ok(BODY),
    });
    let job = http_job(&server, "/data.csv");
    let (o, _) = run(&job, &[], &[("BRINE_RETRY_BASE_MS", "1")]);
    assert_downloaded(&job, &o);
    assert_eq!(server.targets().len(), 2);
}

#[test]
fn a_429_waits_for_its_retry_after() {
    let server = Server::start(|_, n| match n {
        0 => Reply::status(429).header("Retry-After", "1"),
        _ => Reply::ok(BODY),
    });
    let job = http_job(&server, "/data.csv");
    // The backoff alone would wait 1 ms: the second second is Retry-After's.
    let (o, took) = run(&job, &[], &[("BRINE_RETRY_BASE_MS", "1")]);
    assert_downloaded(&job, &o);
    assert_eq!(server.targets().len(), 2);
    assert!(took >= Duration::from_secs(1), "took {took:?}");
}

#[test]
fn a_retry_after_past_the_staging_deadline_fails_at_once() {
    let server = Server::start(|_, _| Reply::status(429).header("Retry-After", "3600"));
    let job = http_job(&server, "/data.csv");
    let (o, took) = run(&job, &["--staging-timeout", "20s"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        stderr(&o).contains("HTTP 429 Too Many Requests; the server asks to try again in 3600 s"),
        "{}",
        describe(&o)
    );
    assert_eq!(server.targets().len(), 1);
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

// ---- the guest's HTTPS: the host's proxy, the job's policy ----

const GET: &str = "fixtures/net/http_get.wasm";

/// `brine wasm run --allow-host guest.test --ca-cert CA GET URL` through `proxy`.
fn guest_get(url: &str, ca_file: &str, proxy: &ConnectProxy) -> Output {
    let mut command = brine();
    command.args([
        "wasm",
        "run",
        "--allow-host",
        "guest.test",
        "--ca-cert",
        ca_file,
        GET,
        url,
    ]);
    for name in NETWORK_ENV {
        command.env_remove(name);
    }
    command
        .env("HTTPS_PROXY", proxy.url())
        .output()
        .expect("brine runs")
}

#[test]
fn the_guest_s_https_goes_through_the_proxy_and_the_policy_still_checks_the_host() {
    let ca = TestCa::new();
    let server = TlsServer::start(ca.leaf(&["guest.test"]), |_, _| (200, b"hi guest".to_vec()));
    // `guest.test` does not resolve: only the proxy's tunnel can reach the server.
    let proxy = ConnectProxy::start(Some(server.addr()));
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(dir.path(), "ca.pem");
    let ca_file = ca_file.to_str().unwrap();

    let url = format!("https://guest.test:{}/hello", server.port());
    let o = guest_get(&url, ca_file, &proxy);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(
        stdout(&o).contains("Status Code: 200\n"),
        "{}",
        describe(&o)
    );
    assert!(stdout(&o).contains("hi guest"), "{}", describe(&o));
    assert_eq!(proxy.targets(), [format!("guest.test:{}", server.port())]);

    let denied = format!("https://other.test:{}/hello", server.port());
    let o = guest_get(&denied, ca_file, &proxy);
    assert!(stdout(&o).contains("host not allowed"), "{}", describe(&o));
    assert_eq!(
        proxy.targets().len(),
        1,
        "a host the policy refuses never reaches the proxy"
    );
    assert_eq!(server.connections(), 1);
}

// ---- S3 over HTTPS: AWS_CA_BUNDLE and --ca-cert ----

/// A job whose input is the object `b/data.csv` of the S3 endpoint `endpoint`.
fn s3_job(endpoint: &str) -> Job {
    let module = format!("{ROOT}/fixtures/cat_file.wasm");
    let source = format!(
        "{{Type: s3, Params: {{Bucket: b, Key: data.csv, Endpoint: '{endpoint}', Region: us-east-1}}}}"
    );
    let inputs = source_input(&source, "/inputs/data.csv");
    Job::new(&module_job(module, &["/inputs/data.csv"], &inputs, ""))
}

/// No AWS configuration but test credentials, as tests/s3_support isolates.
const AWS_ENV: [(&str, &str); 5] = [
    ("AWS_CONFIG_FILE", "/nonexistent/brine-test/config"),
    (
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/brine-test/credentials",
    ),
    ("AWS_EC2_METADATA_DISABLED", "true"),
    ("AWS_ACCESS_KEY_ID", "brine-test"),
    ("AWS_SECRET_ACCESS_KEY", "brine-test-secret"),
];

/// Runs an S3 job with `extra` flags and `env` on top of [`AWS_ENV`].
fn run_s3(job: &Job, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all: Vec<(&str, &str)> = AWS_ENV.to_vec();
    all.extend_from_slice(env);
    let mut command = job.command();
    command.arg("--quiet").args(extra);
    for name in NETWORK_ENV
        .iter()
        .chain(&["AWS_CA_BUNDLE", "AWS_PROFILE", "AWS_ENDPOINT_URL"])
    {
        command.env_remove(name);
    }
    for (name, value) in all {
        command.env(name, value);
    }
    command.output().expect("brine runs")
}

#[test]
fn s3_over_https_trusts_aws_ca_bundle_and_ca_cert() {
    let ca = TestCa::new();
    let server = TlsServer::start(ca.leaf(&["localhost"]), serve_body);
    let endpoint = format!("https://localhost:{}", server.port());

    let job = s3_job(&endpoint);
    let ca_file = ca.write(job.dir(), "ca.pem");
    let o = run_s3(&job, &[], &[("AWS_CA_BUNDLE", ca_file.to_str().unwrap())]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_eq!(job.read_bytes("stdout"), BODY);

    let job = s3_job(&endpoint);
    let ca_file = ca.write(job.dir(), "ca.pem");
    let o = run_s3(&job, &["--ca-cert", ca_file.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_eq!(job.read_bytes("stdout"), BODY);
    assert!(
        server.paths().iter().all(|p| p.starts_with("/b/data.csv")),
        "{:?}",
        server.paths()
    );

    let job = s3_job(&endpoint);
    let o = run_s3(&job, &[], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let err = stderr(&o);
    assert!(
        err.contains("certificate for the S3 endpoint is signed by an unknown issuer"),
        "{err}"
    );
    assert!(!err.contains("Other("), "{err}");
}

#[test]
fn an_ipfs_gateway_over_https_gets_the_same_trust_and_no_retry() {
    let ca = TestCa::new();
    let server = TlsServer::start(ca.leaf(&["localhost"]), serve_body);
    let module = format!("{ROOT}/fixtures/cat_file.wasm");
    let cid = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG";
    let source = format!("{{Type: ipfs, Params: {{CID: {cid}}}}}");
    let inputs = source_input(&source, "/inputs");
    let job = Job::new(&module_job(module, &["/inputs"], &inputs, ""));
    let gateway = format!("https://localhost:{}", server.port());
    let (o, took) = run(&job, &["--ipfs-gateway", &gateway], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "(ipfs {cid} via {gateway}): certificate for localhost is signed by an unknown issuer"
        )),
        "{err}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(server.connections(), 1);
}
