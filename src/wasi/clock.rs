//! `clock_res_get` and `clock_time_get`, answered by the host.

use super::ctx::{WasiCtx, WasiView};
use super::errno::{Errno, WasiResult};
use super::{mem, note_fuel, with_memory, MODULE};
use crate::host::Clock;
use wasmi::{Caller, Linker};

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

pub(super) fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
) -> Result<(), wasmi::Error> {
    linker.func_wrap(
        MODULE,
        "clock_res_get",
        |mut c: Caller<'_, T>, id: i32, out: i32| {
            with_memory(&mut c, |ctx, m| {
                clock_res_get(ctx, m, id as u32, out as u32)
            })
        },
    )?;
    linker.func_wrap(
        MODULE,
        "clock_time_get",
        |mut c: Caller<'_, T>, id: i32, precision: i64, out: i32| {
            note_fuel(&mut c);
            with_memory(&mut c, |ctx, m| {
                clock_time_get(ctx, m, id as u32, precision as u64, out as u32)
            })
        },
    )?;
    Ok(())
}
