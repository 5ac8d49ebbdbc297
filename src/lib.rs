//! brine: run Bacalhau-style WebAssembly jobs on the wasmi interpreter, with a
//! hand-written WASI preview1 layer and no JIT anywhere.
//!
//! The crate is what the `brine` binary is made of. Its rooms (ARCHITECTURE.md)
//! are private; what a program using brine as a library may rely on is the
//! surface below, kept small on purpose (the embedding API grows from it):
//! - a job: [`load_job`] reads and validates a job file, [`plan`] turns it into
//!   one [`Execution`] per partition, [`run_partitions`] runs them into a
//!   [`Staging`] results directory ([`Staging::commit`] moves it into place),
//!   each partition's [`Summary`] is what `brine.json` holds;
//! - [`sources`] stage one input, [`publishers`] publish a results directory;
//! - [`module`] runs one WebAssembly module on the WASI host (`brine wasm run`);
//! - [`journal`] reads record/replay journals; [`testsuite`] runs
//!   wasi-testsuite-style cases; [`wast`] runs WebAssembly spec-test scripts.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod atomic;
mod cancel;
pub mod cli;
mod engine;
pub mod fuzzing;
mod host;
mod inputs;
mod job;
mod outputs;
mod s3;
mod spec;
mod suite;
mod text;
mod units;
mod wasi;
mod wasi_http;
pub mod wast;

pub use job::execution::{Execution, Journaling, RunOptions};
pub use job::job_hash;
pub use job::partitions::run_partitions;
pub use job::plan::{plan, PlanError, PlanOptions};
pub use job::receipt::Receipt;
pub use outputs::{Staging, Summary};
pub use spec::{load as load_job, Job, SpecError, SpecErrors};

/// Input sources: fetch one input into a stage area, as a job run does.
pub mod sources {
    pub use crate::inputs::http::{HttpOptions, Remote, RemoteOptions};
    pub use crate::inputs::s3::S3;
    pub use crate::inputs::url::UrlDownload;
    pub use crate::inputs::{InputSource, SourceError, StageArea};
}

/// Publishers: copy a finished results directory somewhere else.
pub mod publishers {
    pub use crate::outputs::publish::s3::{Manifest, S3Publisher};
    pub use crate::outputs::publish::{Context, PublishError, Publisher};
}

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
