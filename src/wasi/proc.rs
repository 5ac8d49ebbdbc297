//! `proc_exit`, `proc_raise` and `sched_yield`.

use super::ctx::WasiView;
use super::errno::Errno;
use super::{without_memory, MODULE};
use wasmi::{Caller, Linker};

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

pub(super) fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
) -> Result<(), wasmi::Error> {
    // `proc_exit(rval: exitcode)`: never returns; unwinds the whole call.
    linker.func_wrap(
        MODULE,
        "proc_exit",
        |_c: Caller<'_, T>, code: i32| -> Result<(), wasmi::Error> {
            Err(wasmi::Error::host(ProcExit(code as u32)))
        },
    )?;
    // `proc_raise(sig: signal) -> errno`: a wasm guest has no signal handlers, so a
    // valid signal is ENOSYS; a number outside the `signal` enum (0..=30) is EINVAL.
    linker.func_wrap(MODULE, "proc_raise", |mut c: Caller<'_, T>, sig: i32| {
        without_memory(&mut c, |_| {
            if (0..=30).contains(&sig) {
                Err(Errno::Nosys)
            } else {
                Err(Errno::Inval)
            }
        })
    })?;
    // `sched_yield() -> errno`: lets other host threads run; always succeeds.
    linker.func_wrap(MODULE, "sched_yield", |mut c: Caller<'_, T>| {
        without_memory(&mut c, |_| {
            std::thread::yield_now();
            Ok(())
        })
    })?;
    Ok(())
}
