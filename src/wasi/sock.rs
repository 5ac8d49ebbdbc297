//! `sock_accept`, `sock_recv`, `sock_send`, `sock_shutdown`.
//!
//! brine never preopens a socket, so every descriptor a guest can hold is
//! not a socket: these return `EBADF` for a closed descriptor and
//! `ENOTSOCK` for any open one, as the specification's errno table says.

use super::ctx::{WasiCtx, WasiView};
use super::errno::{Errno, WasiResult};
use super::link::link_all;
use wasmi::Linker;

/// Registers this group's imports.
pub(super) fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
) -> Result<(), wasmi::Error> {
    link_all(
        linker,
        &[
            link_sock_accept,
            link_sock_recv,
            link_sock_send,
            link_sock_shutdown,
        ],
    )
}

/// Checks that `fd` is a socket; no descriptor brine hands out is one.
pub fn require_socket(ctx: &mut WasiCtx, fd: u32) -> WasiResult<()> {
    ctx.fd(fd)?;
    Err(Errno::Notsock)
}

/// `sock_accept(fd, flags: fdflags, ro_fd: *mut fd) -> errno`.
/// Errors: `EBADF` (not open), `ENOTSOCK` (open, so not a socket).
pub fn sock_accept(ctx: &mut WasiCtx, fd: u32, _flags: u32, _out: u32) -> WasiResult<()> {
    require_socket(ctx, fd)
}
wasi_fn!(link_sock_accept: without_memory sock_accept(fd, flags, out));

/// `sock_recv(fd, ri_data: iovec_array, ri_flags: riflags, ro_datalen: *mut size,
/// ro_flags: *mut roflags) -> errno`.
/// Errors: `EBADF` (not open), `ENOTSOCK` (open, so not a socket).
pub fn sock_recv(
    ctx: &mut WasiCtx,
    fd: u32,
    _iovs: u32,
    _n: u32,
    _flags: u32,
    _len: u32,
    _oflags: u32,
) -> WasiResult<()> {
    require_socket(ctx, fd)
}
wasi_fn!(link_sock_recv: without_memory sock_recv(fd, iovs, n, flags, len, oflags));

/// `sock_send(fd, si_data: ciovec_array, si_flags: siflags, so_datalen: *mut size) -> errno`.
/// Errors: `EBADF` (not open), `ENOTSOCK` (open, so not a socket).
pub fn sock_send(
    ctx: &mut WasiCtx,
    fd: u32,
    _iovs: u32,
    _n: u32,
    _flags: u32,
    _len: u32,
) -> WasiResult<()> {
    require_socket(ctx, fd)
}
wasi_fn!(link_sock_send: without_memory sock_send(fd, iovs, n, flags, len));

/// `sock_shutdown(fd, how: sdflags) -> errno`.
/// Errors: `EBADF` (not open), `ENOTSOCK` (open, so not a socket).
pub fn sock_shutdown(ctx: &mut WasiCtx, fd: u32, _how: u32) -> WasiResult<()> {
    require_socket(ctx, fd)
}
wasi_fn!(link_sock_shutdown: without_memory sock_shutdown(fd, how));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasi::test_ctx;

    #[test]
    fn no_descriptor_is_a_socket() {
        let mut ctx = test_ctx();
        assert_eq!(sock_shutdown(&mut ctx, 1, 0), Err(Errno::Notsock));
        assert_eq!(sock_accept(&mut ctx, 9, 0, 0), Err(Errno::Badf));
        assert_eq!(sock_send(&mut ctx, 2, 0, 0, 0, 0), Err(Errno::Notsock));
        assert_eq!(sock_recv(&mut ctx, 7, 0, 0, 0, 0, 0), Err(Errno::Badf));
    }
}
