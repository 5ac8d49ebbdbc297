//! The embedding API: what a program that links brine uses to run a job or
//! a module in-process. Re-exported at the crate root; everything else in the
//! crate is private, so these types are the surface that stays stable.
//!
//! The command line (`src/cli/`) drives the same functions: it only turns
//! flags into a [`RunConfig`] or a [`wasm::ModuleConfig`] and prints reports.

mod error;
mod job;
pub(crate) mod run;
#[cfg(feature = "http")]
mod trust;
pub(crate) mod verify;
pub mod wasm;

pub use error::Error;
pub use job::Job;
pub use run::{run, Report, RunConfig};
#[cfg(feature = "http")]
pub use trust::trust_ca_file;
pub use verify::{verify, Verdict};
