//! An S3 server in the test process: s3s + s3s-fs serving a temporary
//! directory on 127.0.0.1 (a free port), in a thread with its own tokio
//! runtime, stopped when the [`Server`] is dropped.
//!
//! s3s-fs keeps bucket `b`'s object `k/x` as the file `ROOT/b/k/x`, so tests
//! seed objects and read uploads straight from the directory.

#![allow(dead_code)]

use assert_cmd::Command;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The access key the authenticating server accepts.
pub const ACCESS_KEY: &str = "brine-test-access";
/// Its secret.
pub const SECRET_KEY: &str = "brine-test-secret-key";

/// A running server.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    root: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// A server that checks SigV4 signatures against [`ACCESS_KEY`]/[`SECRET_KEY`].
    pub fn with_auth() -> Server {
        Server::start(true)
    }

    /// A server that accepts unsigned (anonymous) requests.
    pub fn anonymous() -> Server {
        Server::start(false)
    }

    fn start(auth: bool) -> Server {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().to_path_buf();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(serve(dir, auth, addr_tx, stop_rx));
        });
        let addr: std::net::SocketAddr = addr_rx.recv().expect("the S3 server starts");
        Server {
            endpoint: format!("http://{addr}"),
            root,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// The directory the server serves.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Creates a bucket.
    pub fn bucket(&self, name: &str) -> PathBuf {
        let dir = self.root().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Stores an object (creating its bucket).
    pub fn put(&self, bucket: &str, key: &str, bytes: impl AsRef<[u8]>) {
        let path = self.bucket(bucket).join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// The host path of an object.
    pub fn object(&self, bucket: &str, key: &str) -> PathBuf {
        self.root().join(bucket).join(key)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    root: PathBuf,
    auth: bool,
    addr_tx: std::sync::mpsc::Sender<std::net::SocketAddr>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let fs = s3s_fs::FileSystem::new(&root).unwrap();
    let mut builder = S3ServiceBuilder::new(fs);
    if auth {
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    }
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    addr_tx.send(listener.local_addr().unwrap()).unwrap();
    let http = ConnBuilder::new(TokioExecutor::new());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((socket, _)) = accepted else { continue };
                let conn = http.serve_connection(TokioIo::new(socket), service.clone()).into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut stop => return,
        }
    }
}

/// Variables that would let the AWS SDK find credentials or a region elsewhere,
/// or reach the instance metadata service; every brine run here drops them.
const AWS_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
];

/// Points `cmd` at no AWS configuration at all (no files, no instance metadata),
/// with the test credentials when `credentials` is true.
pub fn isolate(cmd: &mut Command, credentials: bool) {
    for name in AWS_VARIABLES {
        cmd.env_remove(name);
    }
    cmd.env("AWS_CONFIG_FILE", "/nonexistent/brine-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/brine-test/credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    if credentials {
        cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    }
}

/// The same for this process, once, for tests that call the library directly.
pub fn isolate_this_process() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        for name in AWS_VARIABLES {
            std::env::remove_var(name);
        }
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/brine-test/config");
        std::env::set_var(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/brine-test/credentials",
        );
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_ACCESS_KEY_ID", ACCESS_KEY);
        std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    });
}

/// The lowercase hex SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
