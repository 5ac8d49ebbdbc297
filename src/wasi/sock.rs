//! `sock_accept`, `sock_recv`, `sock_send`, `sock_shutdown`.
//!
//! brine never preopens a socket, so every descriptor a guest can hold is
//! not a socket: these return `EBADF` for a closed descriptor and
//! `ENOTSOCK` for any open one, as the specification's errno table says.

use super::ctx::{WasiCtx, WasiView};
use super::errno::{Errno, WasiResult};
use super::{without_memory, MODULE};
use wasmi::{Caller, Linker};

/// Checks that `fd` is a socket; no descriptor brine hands out is one.
pub fn require_socket(ctx: &mut WasiCtx, fd: u32) -> WasiResult<()> {
    ctx.fd(fd)?;
    Err(Errno::Notsock)
}

pub(super) fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
) -> Result<(), wasmi::Error> {
    // `sock_accept(fd, flags: fdflags, ro_fd: *mut fd) -> errno`.
    linker.func_wrap(
        MODULE,
        "sock_accept",
        |mut c: Caller<'_, T>, fd: i32, _flags: i32, _out: i32| {
            without_memory(&mut c, |ctx| require_socket(ctx, fd as u32))
        },
    )?;
    // `sock_recv(fd, ri_data: iovec_array, ri_flags, ro_datalen: *mut size, ro_flags: *mut roflags) -> errno`.
    linker.func_wrap(
        MODULE,
        "sock_recv",
        |mut c: Caller<'_, T>,
         fd: i32,
         _iovs: i32,
         _n: i32,
         _flags: i32,
         _len: i32,
         _oflags: i32| { without_memory(&mut c, |ctx| require_socket(ctx, fd as u32)) },
    )?;
    // `sock_send(fd, si_data: ciovec_array, si_flags, so_datalen: *mut size) -> errno`.
    linker.func_wrap(
        MODULE,
        "sock_send",
        |mut c: Caller<'_, T>, fd: i32, _iovs: i32, _n: i32, _flags: i32, _len: i32| {
            without_memory(&mut c, |ctx| require_socket(ctx, fd as u32))
        },
    )?;
    // `sock_shutdown(fd, how: sdflags) -> errno`.
    linker.func_wrap(
        MODULE,
        "sock_shutdown",
        |mut c: Caller<'_, T>, fd: i32, _how: i32| {
            without_memory(&mut c, |ctx| require_socket(ctx, fd as u32))
        },
    )?;
    Ok(())
}
