//! brine's hand-written WASI preview1 (`wasi_snapshot_preview1`).
//!
//! One file per group of functions, each function documented with its
//! signature and the errnos it returns. Every function body is a plain Rust
//! function over the [`WasiCtx`] and the guest memory slice, returning
//! [`WasiResult`]. Beside each one, a one-line `wasi_fn!` registration says
//! how the import reaches it (see `link.rs`); each group's `add_to_linker` is
//! the list of its registrations.
//!
//! To add a function: write it in its group's file with its signature and
//! errnos in the doc comment, add its `wasi_fn!` line below it, and its
//! registrar to the group's `add_to_linker`.

#[macro_use]
mod link;

pub mod args_env;
pub mod clock;
pub mod ctx;
pub mod errno;
pub mod fd;
pub mod mem;
pub mod path;
pub mod poll;
pub mod proc;
pub mod random;
pub mod rights;
pub mod sock;

pub use ctx::{WasiCtx, WasiView};
pub use link::{DeadlineExceeded, ProcExit};

use wasmi::Linker;

/// The import module name of WASI preview1.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// Defines every `wasi_snapshot_preview1` function in `linker`.
pub fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> Result<(), wasmi::Error> {
    args_env::add_to_linker(linker)?;
    clock::add_to_linker(linker)?;
    random::add_to_linker(linker)?;
    fd::add_to_linker(linker)?;
    path::add_to_linker(linker)?;
    poll::add_to_linker(linker)?;
    proc::add_to_linker(linker)?;
    sock::add_to_linker(linker)?;
    Ok(())
}

/// A context over a real host whose stdin is empty and whose output is
/// dropped, with no preopens: for the groups' unit tests.
#[cfg(test)]
fn test_ctx() -> WasiCtx {
    use crate::host::real::{RealHost, Stdio};
    WasiCtx::new(Box::new(RealHost::new(Stdio {
        stdin: Box::new(std::io::empty()),
        stdout: Box::new(std::io::sink()),
        stderr: Box::new(std::io::sink()),
        terminals: [false; 3],
    })))
}

/// Every preview1 import with its core-wasm signature, from the
/// specification's witx: `i` is an `i32`, `I` an `i64`; after the space,
/// the results (every function but `proc_exit` returns an errno).
pub const PREVIEW1: &[(&str, &str)] = &[
    ("args_get", "ii i"),
    ("args_sizes_get", "ii i"),
    ("environ_get", "ii i"),
    ("environ_sizes_get", "ii i"),
    ("clock_res_get", "ii i"),
    ("clock_time_get", "iIi i"),
    ("fd_advise", "iIIi i"),
    ("fd_allocate", "iII i"),
    ("fd_close", "i i"),
    ("fd_datasync", "i i"),
    ("fd_fdstat_get", "ii i"),
    ("fd_fdstat_set_flags", "ii i"),
    ("fd_fdstat_set_rights", "iII i"),
    ("fd_filestat_get", "ii i"),
    ("fd_filestat_set_size", "iI i"),
    ("fd_filestat_set_times", "iIIi i"),
    ("fd_pread", "iiiIi i"),
    ("fd_prestat_get", "ii i"),
    ("fd_prestat_dir_name", "iii i"),
    ("fd_pwrite", "iiiIi i"),
    ("fd_read", "iiii i"),
    ("fd_readdir", "iiiIi i"),
    ("fd_renumber", "ii i"),
    ("fd_seek", "iIii i"),
    ("fd_sync", "i i"),
    ("fd_tell", "ii i"),
    ("fd_write", "iiii i"),
    ("path_create_directory", "iii i"),
    ("path_filestat_get", "iiiii i"),
    ("path_filestat_set_times", "iiiiIIi i"),
    ("path_link", "iiiiiii i"),
    ("path_open", "iiiiiIIii i"),
    ("path_readlink", "iiiiii i"),
    ("path_remove_directory", "iii i"),
    ("path_rename", "iiiiii i"),
    ("path_symlink", "iiiii i"),
    ("path_unlink_file", "iii i"),
    ("poll_oneoff", "iiii i"),
    ("proc_exit", "i "),
    ("proc_raise", "i i"),
    ("sched_yield", " i"),
    ("random_get", "ii i"),
    ("sock_accept", "iii i"),
    ("sock_recv", "iiiiii i"),
    ("sock_send", "iiiii i"),
    ("sock_shutdown", "ii i"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use wasmi::{Engine, Module, Store};

    /// The WAT type of a signature letter.
    fn wat_type(letter: char) -> &'static str {
        if letter == 'I' {
            "i64"
        } else {
            "i32"
        }
    }

    /// A module importing `name` from [`MODULE`] with `signature`.
    fn importer(name: &str, signature: &str) -> String {
        let (params, results) = signature.split_once(' ').unwrap_or_default();
        let params: Vec<_> = params.chars().map(wat_type).collect();
        let results: Vec<_> = results.chars().map(wat_type).collect();
        format!(
            "(module (import \"{MODULE}\" \"{name}\" (func (param {}) (result {}))))",
            params.join(" "),
            results.join(" ")
        )
    }

    /// Instantiating checks each import's type against what the linker holds.
    #[test]
    fn every_import_has_its_preview1_signature() {
        let engine = Engine::default();
        let mut linker = Linker::<WasiCtx>::new(&engine);
        add_to_linker(&mut linker).unwrap();
        let mut store = Store::new(&engine, test_ctx());
        for (name, signature) in PREVIEW1 {
            let wasm = wat::parse_str(importer(name, signature)).unwrap();
            let module = Module::new(&engine, wasm).unwrap();
            let linked = linker.instantiate_and_start(&mut store, &module);
            assert!(linked.is_ok(), "{name}: {:?}", linked.err());
        }
    }
}
