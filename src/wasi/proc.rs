//! `proc_exit`, `proc_raise` and `sched_yield`.

use super::ctx::WasiView;
use super::errno::{Errno, WasiResult};
use super::link::{link_all, ProcExit};
use wasmi::Linker;

/// Registers this group's imports.
pub(super) fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
) -> Result<(), wasmi::Error> {
    link_all(linker, &[link_proc_exit, link_proc_raise, link_sched_yield])
}

/// `proc_exit(rval: exitcode)`: never returns; the status unwinds the whole
/// call as [`ProcExit`]. Errors: none.
pub fn proc_exit(code: u32) -> ProcExit {
    ProcExit(code)
}
wasi_fn!(link_proc_exit: exiting "proc_exit"(code) || proc_exit(code));

/// `proc_raise(sig: signal) -> errno`: a wasm guest has no signal handlers.
/// Errors: `ENOSYS` (a valid signal), `EINVAL` (a number outside the `signal`
/// enum, 0..=30).
pub fn proc_raise(sig: u32) -> WasiResult<()> {
    if sig <= 30 {
        Err(Errno::Nosys)
    } else {
        Err(Errno::Inval)
    }
}
wasi_fn!(link_proc_raise: without_memory "proc_raise"(sig) |_| proc_raise(sig));

/// `sched_yield() -> errno`: lets other host threads run. Errors: none.
pub fn sched_yield() -> WasiResult<()> {
    std::thread::yield_now();
    Ok(())
}
wasi_fn!(link_sched_yield: without_memory "sched_yield"() |_| sched_yield());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_raise_knows_the_signal_range() {
        assert_eq!(proc_raise(9), Err(Errno::Nosys));
        assert_eq!(proc_raise(30), Err(Errno::Nosys));
        assert_eq!(proc_raise(31), Err(Errno::Inval));
        assert_eq!(proc_raise(u32::MAX), Err(Errno::Inval));
    }
}
