//! `random_get`: random bytes from the host.

use super::ctx::{WasiCtx, WasiView};
use super::errno::WasiResult;
use super::link::link_all;
use super::mem;
use wasmi::Linker;

/// Registers this group's imports.
pub(super) fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
) -> Result<(), wasmi::Error> {
    link_all(linker, &[link_random_get])
}

/// `random_get(buf: *mut u8, buf_len: size) -> errno`.
/// Fills the guest buffer straight from the host's source. Errors: `EFAULT`, `EIO`.
pub fn random_get(ctx: &mut WasiCtx, m: &mut [u8], buf: u32, len: u32) -> WasiResult<()> {
    let target = mem::slice_mut(m, buf, len)?;
    ctx.host.random_fill(target)
}
wasi_fn!(link_random_get: with_memory random_get(buf, len));
