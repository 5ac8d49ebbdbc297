//! brine's hand-written WASI preview1 (`wasi_snapshot_preview1`).
//!
//! One file per group of functions, each function documented with its
//! signature and the errnos it returns. Every function body is a plain Rust
//! function over the [`WasiCtx`] and the guest memory slice, returning
//! [`WasiResult`]; the wasmi glue that turns it into an import lives in each
//! group's `add_to_linker`.

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

pub use ctx::{FdEntry, WasiCtx, WasiView};
pub use errno::{Errno, WasiResult};
pub use proc::{DeadlineExceeded, ProcExit};

use wasmi::{Caller, Extern, Linker};

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

/// Turns a function body's result into the errno the guest receives.
fn errno_of(result: WasiResult<()>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => e.code(),
    }
}

/// Runs `body` with the context and the caller's exported `memory`.
///
/// A module that calls WASI without exporting its memory is broken; that is
/// a trap, as in wasmtime, not an errno the guest could act on.
fn with_memory<T: WasiView>(
    caller: &mut Caller<'_, T>,
    body: impl FnOnce(&mut WasiCtx, &mut [u8]) -> WasiResult<()>,
) -> Result<i32, wasmi::Error> {
    let memory = caller
        .get_export("memory")
        .and_then(Extern::into_memory)
        .ok_or_else(|| {
            wasmi::Error::new("a WASI function was called by a module that exports no `memory`")
        })?;
    let (mem, data) = memory.data_and_store_mut(caller);
    Ok(errno_of(body(data.wasi(), mem)))
}

/// Like [`with_memory`], for calls that can block: when the run's deadline
/// passed during the call, the whole run stops (the guest must not carry on
/// as if its sleep or read had simply finished).
fn with_memory_blocking<T: WasiView>(
    caller: &mut Caller<'_, T>,
    body: impl FnOnce(&mut WasiCtx, &mut [u8]) -> WasiResult<()>,
) -> Result<i32, wasmi::Error> {
    let errno = with_memory(caller, body)?;
    if caller.data_mut().wasi().deadline_passed() {
        return Err(wasmi::Error::host(DeadlineExceeded));
    }
    Ok(errno)
}

/// Tells the host how much fuel the guest has used, before it reads the time
/// (a deterministic host's clocks run on fuel).
fn note_fuel<T: WasiView>(caller: &mut Caller<'_, T>) {
    let Ok(left) = caller.get_fuel() else { return };
    let ctx = caller.data_mut().wasi();
    if let Some(consumed) = ctx.fuel_consumed(left) {
        ctx.host.note_fuel(consumed);
    }
}

/// Runs `body` with the context only (for functions that take no pointers).
fn without_memory<T: WasiView>(
    caller: &mut Caller<'_, T>,
    body: impl FnOnce(&mut WasiCtx) -> WasiResult<()>,
) -> Result<i32, wasmi::Error> {
    Ok(errno_of(body(caller.data_mut().wasi())))
}
