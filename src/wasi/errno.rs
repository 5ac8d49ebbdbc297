//! WASI preview1 `errno` values: defined beside the host boundary
//! ([`crate::host::abi`]), which produces them, and named here for the WASI layer.

pub use crate::host::abi::{Errno, WasiResult};
