//! How a WASI function becomes a `wasi_snapshot_preview1` import.
//!
//! Every function body is a plain Rust function over the [`WasiCtx`] (and the
//! guest memory when it takes pointers). Beside each one, a one-line
//! `wasi_fn!` defines its registrar; each group's `add_to_linker` is the
//! list of its registrars. The glue functions here (`with_memory`,
//! `without_memory`, …) are what a registration names to say how the call
//! reaches its body.

use super::ctx::{WasiCtx, WasiView};
use super::errno::WasiResult;
use wasmi::{Caller, Extern, Linker};

/// The guest called `proc_exit(code)`: carried out of the wasm call as a host error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcExit(pub u32);

impl std::fmt::Display for ProcExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the guest exited with status {}", self.0)
    }
}

impl wasmi::errors::HostError for ProcExit {}

/// The run's deadline passed while the guest was blocked in a host call
/// (a sleep or a read): carried out of the wasm call like `proc_exit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineExceeded;

impl std::fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the run's time limit passed while the guest waited")
    }
}

impl wasmi::errors::HostError for DeadlineExceeded {}

/// Defines a registrar: `fn $link<T: WasiView>(&mut Linker<T>)` that adds one
/// import to [`super::MODULE`].
///
/// When the Rust function has the import's name and takes the import's
/// parameters in order after the context (and the memory, unless the glue is
/// `without_memory`), the line names the glue and the parameters:
///
/// ```text
/// wasi_fn!(link_fd_write: with_memory fd_write(fd, iovs, n, out));
/// ```
///
/// The import's wasm types are the Rust function's parameter types (`u32` is
/// an `i32`, `u64` an `i64`, bit for bit), so the signature is written once.
/// When the call differs (pointer/length pairs grouped, a shared body, an
/// ignored argument), the line spells out the import's name, its parameters
/// (typed where the call does not use them) and the call:
///
/// ```text
/// wasi_fn!(link_proc_raise: without_memory "proc_raise"(sig) |_| proc_raise(sig));
/// ```
macro_rules! wasi_fn {
    ($link:ident: without_memory $name:ident($($arg:ident),*)) => {
        wasi_fn!(@define $link, without_memory, stringify!($name), ($($arg),*),
            |ctx| $name(ctx, $($arg),*));
    };
    ($link:ident: $glue:ident $name:ident($($arg:ident),*)) => {
        wasi_fn!(@define $link, $glue, stringify!($name), ($($arg),*),
            |ctx, m| $name(ctx, m, $($arg),*));
    };
    ($link:ident: $glue:ident $name:literal($($arg:ident $(: $ty:ty)?),*) $body:expr) => {
        wasi_fn!(@define $link, $glue, $name, ($($arg $(: $ty)?),*), $body);
    };
    (@define $link:ident, $glue:ident, $name:expr, ($($arg:ident $(: $ty:ty)?),*), $body:expr) => {
        fn $link<T: $crate::wasi::WasiView + 'static>(
            linker: &mut ::wasmi::Linker<T>,
        ) -> Result<(), ::wasmi::Error> {
            linker.func_wrap(
                $crate::wasi::MODULE,
                $name,
                |mut caller: ::wasmi::Caller<'_, T>, $($arg $(: $ty)?),*| {
                    $crate::wasi::link::$glue(&mut caller, $body)
                },
            )?;
            Ok(())
        }
    };
}

/// Adds one import to a linker (what `wasi_fn!` defines).
pub(super) type Registrar<T> = fn(&mut Linker<T>) -> Result<(), wasmi::Error>;

/// Runs each registrar of a group, in order.
pub(super) fn link_all<T>(
    linker: &mut Linker<T>,
    registrars: &[Registrar<T>],
) -> Result<(), wasmi::Error> {
    registrars.iter().try_for_each(|link| link(linker))
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
pub(super) fn with_memory<T: WasiView>(
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
pub(super) fn with_memory_blocking<T: WasiView>(
    caller: &mut Caller<'_, T>,
    body: impl FnOnce(&mut WasiCtx, &mut [u8]) -> WasiResult<()>,
) -> Result<i32, wasmi::Error> {
    let errno = with_memory(caller, body)?;
    if caller.data_mut().wasi().deadline_passed() {
        return Err(wasmi::Error::host(DeadlineExceeded));
    }
    Ok(errno)
}

/// Like [`with_memory`], for calls that read a clock: the host first learns
/// how much fuel the guest has used (a deterministic host's clocks run on fuel).
pub(super) fn with_memory_clocked<T: WasiView>(
    caller: &mut Caller<'_, T>,
    body: impl FnOnce(&mut WasiCtx, &mut [u8]) -> WasiResult<()>,
) -> Result<i32, wasmi::Error> {
    note_fuel(caller);
    with_memory(caller, body)
}

/// Both [`with_memory_clocked`] and [`with_memory_blocking`]: for a call that
/// reads clocks and may sleep until one is due.
pub(super) fn with_memory_clocked_blocking<T: WasiView>(
    caller: &mut Caller<'_, T>,
    body: impl FnOnce(&mut WasiCtx, &mut [u8]) -> WasiResult<()>,
) -> Result<i32, wasmi::Error> {
    note_fuel(caller);
    with_memory_blocking(caller, body)
}

/// Tells the host how much fuel the guest has used, before it reads the time.
fn note_fuel<T: WasiView>(caller: &mut Caller<'_, T>) {
    let Ok(left) = caller.get_fuel() else { return };
    let ctx = caller.data_mut().wasi();
    if let Some(consumed) = ctx.fuel_consumed(left) {
        ctx.host.note_fuel(consumed);
    }
}

/// Runs `body` with the context only (for functions that take no pointers).
pub(super) fn without_memory<T: WasiView>(
    caller: &mut Caller<'_, T>,
    body: impl FnOnce(&mut WasiCtx) -> WasiResult<()>,
) -> Result<i32, wasmi::Error> {
    Ok(errno_of(body(caller.data_mut().wasi())))
}

/// For `proc_exit`, which returns no errno: the status `body` gives unwinds
/// the whole wasm call as a host error.
pub(super) fn exiting<T>(
    _caller: &mut Caller<'_, T>,
    body: impl FnOnce() -> ProcExit,
) -> Result<(), wasmi::Error> {
    Err(wasmi::Error::host(body()))
}
