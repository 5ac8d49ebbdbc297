//! `clock_res_get` and `clock_time_get`, answered by the host.

use super::ctx::{WasiCtx, WasiView};
use super::errno::{Errno, WasiResult};
use super::link::link_all;
use super::mem;
use crate::host::Clock;
use wasmi::Linker;

/// Registers this group's imports.
pub(super) fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
) -> Result<(), wasmi::Error> {
    link_all(linker, &[link_clock_res_get, link_clock_time_get])
}

/// Decodes a WASI `clockid`; unknown ids are `EINVAL`.
pub fn clock_of(id: u32) -> WasiResult<Clock> {
    match id {
        0 => Ok(Clock::Realtime),
        1 => Ok(Clock::Monotonic),
        2 => Ok(Clock::ProcessCputime),
        3 => Ok(Clock::ThreadCputime),
        _ => Err(Errno::Inval),
    }
}

/// `clock_res_get(id: clockid, resolution: *mut timestamp) -> errno`.
/// Errors: `EINVAL` (unknown clock), `EFAULT`.
pub fn clock_res_get(ctx: &mut WasiCtx, m: &mut [u8], id: u32, out: u32) -> WasiResult<()> {
    let res = ctx.host.clock_res(clock_of(id)?)?;
    mem::write_u64(m, out, res)
}
wasi_fn!(link_clock_res_get: with_memory clock_res_get(id, out));

/// `clock_time_get(id: clockid, precision: timestamp, time: *mut timestamp) -> errno`.
/// Errors: `EINVAL` (unknown clock), `EFAULT`.
pub fn clock_time_get(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    id: u32,
    precision: u64,
    out: u32,
) -> WasiResult<()> {
    let now = ctx.host.clock_time(clock_of(id)?, precision)?;
    mem::write_u64(m, out, now)
}
wasi_fn!(link_clock_time_get: with_memory_clocked clock_time_get(id, precision, out));
