//! `args_*` and `environ_*`: the guest's argv and environment.
//!
//! Both are lists of NUL-terminated strings: `*_sizes_get` reports the count
//! and the total bytes, `*_get` writes a pointer array and the string bytes.

use super::ctx::{WasiCtx, WasiView};
use super::errno::{Errno, WasiResult};
use super::link::link_all;
use super::mem;
use wasmi::Linker;

/// Registers this group's imports.
pub(super) fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
) -> Result<(), wasmi::Error> {
    link_all(
        linker,
        &[
            link_args_sizes_get,
            link_args_get,
            link_environ_sizes_get,
            link_environ_get,
        ],
    )
}

/// `args_sizes_get(argc: *mut u32, argv_buf_size: *mut u32) -> errno`.
/// Errors: `EFAULT`.
pub fn args_sizes_get(ctx: &WasiCtx, m: &mut [u8], count: u32, size: u32) -> WasiResult<()> {
    sizes_get(&ctx.args, m, count, size)
}
wasi_fn!(link_args_sizes_get: with_memory args_sizes_get(count, size));

/// `args_get(argv: *mut *mut u8, argv_buf: *mut u8) -> errno`.
/// Errors: `EFAULT`.
pub fn args_get(ctx: &WasiCtx, m: &mut [u8], ptrs: u32, buf: u32) -> WasiResult<()> {
    strings_get(&ctx.args, m, ptrs, buf)
}
wasi_fn!(link_args_get: with_memory args_get(ptrs, buf));

/// `environ_sizes_get(count: *mut u32, buf_size: *mut u32) -> errno`.
/// Errors: `EFAULT`.
pub fn environ_sizes_get(ctx: &WasiCtx, m: &mut [u8], count: u32, size: u32) -> WasiResult<()> {
    sizes_get(&ctx.env, m, count, size)
}
wasi_fn!(link_environ_sizes_get: with_memory environ_sizes_get(count, size));

/// `environ_get(environ: *mut *mut u8, environ_buf: *mut u8) -> errno`.
/// Errors: `EFAULT`.
pub fn environ_get(ctx: &WasiCtx, m: &mut [u8], ptrs: u32, buf: u32) -> WasiResult<()> {
    strings_get(&ctx.env, m, ptrs, buf)
}
wasi_fn!(link_environ_get: with_memory environ_get(ptrs, buf));

fn sizes_get(list: &[Vec<u8>], m: &mut [u8], count: u32, size: u32) -> WasiResult<()> {
    let total: usize = list.iter().map(Vec::len).sum();
    let total = u32::try_from(total).map_err(|_| Errno::Overflow)?;
    let len = u32::try_from(list.len()).map_err(|_| Errno::Overflow)?;
    mem::write_u32(m, count, len)?;
    mem::write_u32(m, size, total)
}

fn strings_get(list: &[Vec<u8>], m: &mut [u8], ptrs: u32, buf: u32) -> WasiResult<()> {
    let mut cursor = buf;
    for (i, bytes) in list.iter().enumerate() {
        let slot = u32::try_from(i * 4)
            .ok()
            .and_then(|off| ptrs.checked_add(off))
            .ok_or(Errno::Fault)?;
        mem::write_u32(m, slot, cursor)?;
        mem::write_bytes(m, cursor, bytes)?;
        cursor = u32::try_from(bytes.len())
            .ok()
            .and_then(|len| cursor.checked_add(len))
            .ok_or(Errno::Fault)?;
    }
    Ok(())
}
