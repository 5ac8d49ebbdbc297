//! brine: run Bacalhau-style WebAssembly jobs on the wasmi interpreter, with a
//! hand-written WASI preview1 layer and no JIT anywhere.
//!
//! The library is what the `brine` binary is made of: [`engine`] loads, links
//! and runs modules under limits, [`wasi`] is the WASI preview1 layer and
//! [`host`] the boundary through which it reaches time, randomness, files and
//! (through [`wasi_http`], Bacalhau's `wasi:http/requests`) the network.
//! [`spec`] reads and validates job files (Bacalhau's Job, Task or engine block).
//! [`wast`] runs WebAssembly spec-test scripts.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod atomic;
pub mod cancel;
pub mod cli;
pub mod engine;
pub mod host;
pub mod inputs;
pub mod job;
pub mod outputs;
pub mod s3;
pub mod spec;
pub mod suite;
pub mod text;
pub mod units;
pub mod wasi;
pub mod wasi_http;
pub mod wast;
