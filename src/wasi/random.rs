//! `random_get`: random bytes from the host.

use super::ctx::{WasiCtx, WasiView};
use super::errno::WasiResult;
use super::{mem, with_memory, MODULE};
use wasmi::{Caller, Linker};

/// `random_get(buf: *mut u8, buf_len: size) -> errno`.
/// Fills the guest buffer straight from the host's source. Errors: `EFAULT`, `EIO`.
pub fn random_get(ctx: &mut WasiCtx, m: &mut [u8], buf: u32, len: u32) -> WasiResult<()> {
    let target = mem::slice_mut(m, buf, len)?;
    ctx.host.random_fill(target)
}

pub(super) fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
) -> Result<(), wasmi::Error> {
    linker.func_wrap(
        MODULE,
        "random_get",
        |mut c: Caller<'_, T>, buf: i32, len: i32| {
            with_memory(&mut c, |ctx, m| random_get(ctx, m, buf as u32, len as u32))
        },
    )?;
    Ok(())
}
