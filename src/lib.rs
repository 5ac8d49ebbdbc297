//! brine: run Bacalhau-style WebAssembly jobs on the wasmi interpreter, with
//! a hand-written WASI preview1 layer and no JIT anywhere, so it runs where a
//! JIT is not allowed (iOS, consoles, locked-down appliances).
//!
//! The crate is what the `brine` binary is made of; its rooms (ARCHITECTURE.md)
//! are private. What a program embedding brine may rely on is the surface
//! below, kept small on purpose:
//! - a job: [`Job::from_path`] / [`Job::parse`] load one (errors located at
//!   file:line:column), [`Job::validate`] checks it, [`run`] runs it as a
//!   [`RunConfig`] says (results directory, limits, determinism, a
//!   [`CancelToken`], live output through a [`LiveSink`], [`Progress`]) and
//!   returns a [`Report`] (status, exit code, outputs, each partition's
//!   [`Summary`], the [`Receipt`]); [`verify`] re-runs a receipt's job;
//! - [`wasm::run`] runs one module (argv, env, directories, limits);
//! - [`sources`] stage one input, [`publishers`] publish a results directory;
//!   [`module`] is the engine under [`wasm::run`]; [`journal`] reads
//!   record/replay journals; [`testsuite`] runs wasi-testsuite-style cases;
//!   [`wast`] runs WebAssembly spec-test scripts.
//!
//! ```
//! let job = brine::Job::from_path("fixtures/jobs/demo/job.yaml")?;
//! let config = brine::RunConfig::new("results/doc-lib").force(true);
//! let report = brine::run(&job, &config)?;
//! assert_eq!(report.status(), brine::Status::Completed);
//! println!("results in {}", report.dir.display());
//! # Ok::<(), brine::Error>(())
//! ```
//!
//! `examples/run_job.rs` and `examples/run_module.rs` are whole programs;
//! the C ABI over this API is the `brine-capi` crate (`capi/`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod atomic;
mod cancel;
pub mod cli;
mod engine;
mod features;
pub mod fuzzing;
mod host;
mod inputs;
mod job;
mod outputs;
#[cfg(feature = "s3")]
mod s3;
mod spec;
mod suite;
mod text;
#[cfg(feature = "http")]
mod transport;
mod units;
mod wasi;
mod wasi_http;
pub mod wast;

#[cfg(feature = "http")]
pub use api::trust_ca_file;
pub use api::{run, verify, wasm, Error, Job, Report, RunConfig, Verdict};
pub use cancel::CancelToken;
pub use job::progress::Progress;
pub use job::receipt::Receipt;
pub use outputs::live::{LiveSink, LiveStream, Stream};
pub use outputs::summary::{Published, Status};
pub use outputs::Summary;
pub use spec::{SpecError, SpecErrors};

/// Input sources: fetch one input into a stage area, as a job run does.
/// (Remote sources need the `http` feature, S3 the `s3` feature.)
pub mod sources {
    #[cfg(feature = "http")]
    pub use crate::inputs::http::{HttpOptions, Remote, RemoteOptions};
    #[cfg(feature = "s3")]
    pub use crate::inputs::s3::S3;
    #[cfg(feature = "http")]
    pub use crate::inputs::url::UrlDownload;
    pub use crate::inputs::{InputSource, SourceError, StageArea};
}

/// Publishers: copy a finished results directory somewhere else.
/// (The S3 publisher needs the `s3` feature.)
pub mod publishers {
    #[cfg(feature = "s3")]
    pub use crate::outputs::publish::s3::{Manifest, S3Publisher};
    pub use crate::outputs::publish::{Context, PublishError, Publisher};
}

/// The optional cargo features this build of brine was compiled with, in
/// the order `Cargo.toml` lists them (`s3`, `http`); empty for the minimal
/// build (`--no-default-features`), which runs local and inline inputs only.
///
/// ```
/// # #[cfg(all(feature = "s3", feature = "http"))]
/// assert_eq!(brine::FEATURES, ["s3", "http"]);
/// ```
pub const FEATURES: &[&str] = features::ENABLED;

/// Running one WebAssembly module on the WASI host, as `brine wasm run` does.
pub mod module {
    pub use crate::engine::resolve::NamedModules;
    pub use crate::engine::run::{run, EntryModule, RunSpec};
    pub use crate::engine::{EngineError, Limits, Outcome};
    pub use crate::host::net::Policy;
    pub use crate::host::real::{RealHost, Stdio};
    pub use crate::wasi::WasiCtx;
}

/// Record/replay journals (`--record`): reading one back.
pub mod journal {
    pub use crate::host::journal::{read, Entry, Header, Invocation, JournalError};
}

/// wasi-testsuite-style cases (`brine test`): one case at a time.
pub mod testsuite {
    pub use crate::suite::{preopens, run_case, scratch_copies, snapshot, CaseOutput, TestSpec};
}
