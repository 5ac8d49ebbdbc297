//! `fd_*`: reading, writing, seeking and describing open descriptors.
//!
//! Reads and writes go straight between guest memory and the host, one
//! host call per iovec and no copies in between.

use super::ctx::{FdEntry, WasiCtx, WasiView};
use super::errno::{Errno, WasiResult};
use super::link::link_all;
use super::{mem, rights};
use crate::host::{Filestat, Filetype, Handle, SetTime};
use std::io::SeekFrom;
use wasmi::Linker;

/// `fdflags`: append mode.
pub const FDFLAGS_APPEND: u16 = 1;
/// `fdflags`: writes wait for data integrity.
pub const FDFLAGS_DSYNC: u16 = 2;
/// `fdflags`: non-blocking mode (accepted and ignored: brine's reads never block past the deadline).
#[allow(dead_code)]
pub const FDFLAGS_NONBLOCK: u16 = 4;
/// `fdflags`: reads wait for pending writes.
pub const FDFLAGS_RSYNC: u16 = 8;
/// `fdflags`: writes wait for file integrity.
pub const FDFLAGS_SYNC: u16 = 16;
const DIRENT_HEADER: usize = 24;

/// Registers this group's imports.
pub(super) fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
) -> Result<(), wasmi::Error> {
    link_all(
        linker,
        &[
            link_fd_write,
            link_fd_pwrite,
            link_fd_read,
            link_fd_pread,
            link_fd_seek,
            link_fd_tell,
            link_fd_close,
            link_fd_renumber,
            link_fd_fdstat_get,
            link_fd_fdstat_set_flags,
            link_fd_fdstat_set_rights,
            link_fd_filestat_get,
            link_fd_filestat_set_size,
            link_fd_filestat_set_times,
            link_fd_allocate,
            link_fd_advise,
            link_fd_sync,
            link_fd_datasync,
            link_fd_prestat_get,
            link_fd_prestat_dir_name,
            link_fd_readdir,
        ],
    )
}

/// Looks up `fd`, checks it holds `needed`, and returns its host handle.
fn handle_with(ctx: &mut WasiCtx, fd: u32, needed: u64) -> WasiResult<Handle> {
    let entry = ctx.fd(fd)?;
    entry.require(needed)?;
    Ok(entry.handle)
}

/// `fd_write(fd, iovs: ciovec_array, nwritten: *mut size) -> errno`.
/// Errors: `EBADF`, `ENOTCAPABLE` (no `FD_WRITE`), `EFAULT`, `EISDIR`, host I/O errors.
pub fn fd_write(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    iovs: u32,
    n: u32,
    out: u32,
) -> WasiResult<()> {
    let handle = handle_with(ctx, fd, rights::FD_WRITE)?;
    let total = transfer(m, iovs, n, 0, |data, _| ctx.host.write(handle, data))?;
    mem::write_u32(m, out, total)
}
wasi_fn!(link_fd_write: with_memory fd_write(fd, iovs, n, out));

/// `fd_pwrite(fd, iovs: ciovec_array, offset: filesize, nwritten: *mut size) -> errno`.
/// Errors: as `fd_write`, plus `ESPIPE` on streams and `ENOTCAPABLE` without `FD_SEEK`.
pub fn fd_pwrite(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    iovs: u32,
    n: u32,
    offset: u64,
    out: u32,
) -> WasiResult<()> {
    let handle = handle_with(ctx, fd, rights::FD_WRITE | rights::FD_SEEK)?;
    let total = transfer(m, iovs, n, offset, |data, at| {
        ctx.host.pwrite(handle, data, at)
    })?;
    mem::write_u32(m, out, total)
}
wasi_fn!(link_fd_pwrite: with_memory fd_pwrite(fd, iovs, n, offset, out));

/// `fd_read(fd, iovs: iovec_array, nread: *mut size) -> errno`.
/// Errors: `EBADF`, `ENOTCAPABLE` (no `FD_READ`), `EFAULT`, `EISDIR`, host I/O errors.
pub fn fd_read(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    iovs: u32,
    n: u32,
    out: u32,
) -> WasiResult<()> {
    let handle = handle_with(ctx, fd, rights::FD_READ)?;
    let total = transfer(m, iovs, n, 0, |buf, _| ctx.host.read(handle, buf))?;
    mem::write_u32(m, out, total)
}
wasi_fn!(link_fd_read: with_memory_blocking fd_read(fd, iovs, n, out));

/// `fd_pread(fd, iovs: iovec_array, offset: filesize, nread: *mut size) -> errno`.
/// Errors: as `fd_read`, plus `ESPIPE` on streams and `ENOTCAPABLE` without `FD_SEEK`.
pub fn fd_pread(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    iovs: u32,
    n: u32,
    offset: u64,
    out: u32,
) -> WasiResult<()> {
    let handle = handle_with(ctx, fd, rights::FD_READ | rights::FD_SEEK)?;
    let total = transfer(m, iovs, n, offset, |buf, at| {
        ctx.host.pread(handle, buf, at)
    })?;
    mem::write_u32(m, out, total)
}
wasi_fn!(link_fd_pread: with_memory fd_pread(fd, iovs, n, offset, out));

/// Checks every iovec (the array and each buffer) before any I/O, so a bad
/// pointer is EFAULT with nothing transferred, as POSIX `readv`/`writev` do.
fn check_iovecs(m: &[u8], iovs: u32, n: u32) -> WasiResult<()> {
    let array_len = n.checked_mul(8).ok_or(Errno::Fault)?;
    mem::range(m, iovs, array_len)?;
    for i in 0..n {
        let (buf, len) = mem::read_iovec(m, iovs, i)?;
        mem::range(m, buf, len)?;
    }
    Ok(())
}

/// Moves bytes between the host and each guest iovec in turn (`op` reads
/// into or writes from it) until one is short; an error after some bytes
/// moved is reported as the short count, as POSIX `readv`/`writev` do. `at`
/// is the file offset of the first byte for the positioned calls
/// (`fd_pread`/`fd_pwrite`); it advances by what each call moved.
fn transfer(
    m: &mut [u8],
    iovs: u32,
    n: u32,
    mut at: u64,
    mut op: impl FnMut(&mut [u8], u64) -> WasiResult<usize>,
) -> WasiResult<u32> {
    check_iovecs(m, iovs, n)?;
    let mut total: u32 = 0;
    for i in 0..n {
        let (buf, len) = mem::read_iovec(m, iovs, i)?;
        let chunk = mem::slice_mut(m, buf, len)?;
        let moved = match op(chunk, at) {
            Ok(moved) => moved,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total = total.saturating_add(moved as u32);
        at = at.saturating_add(moved as u64);
        if moved < len as usize {
            break;
        }
    }
    Ok(total)
}

/// `fd_seek(fd, offset: filedelta, whence, newoffset: *mut filesize) -> errno`.
/// Errors: `EBADF`, `ENOTCAPABLE`, `EINVAL` (bad whence or a negative result), `ESPIPE`, `EFAULT`.
pub fn fd_seek(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    offset: i64,
    whence: u32,
    out: u32,
) -> WasiResult<()> {
    let pos = match whence {
        0 => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?),
        1 => SeekFrom::Current(offset),
        2 => SeekFrom::End(offset),
        _ => return Err(Errno::Inval),
    };
    // Asking where we are is a tell, which needs only FD_TELL.
    let needed = if pos == SeekFrom::Current(0) {
        rights::FD_TELL
    } else {
        rights::FD_SEEK
    };
    let handle = handle_with(ctx, fd, needed)?;
    let new = ctx.host.seek(handle, pos)?;
    mem::write_u64(m, out, new)
}
wasi_fn!(link_fd_seek: with_memory fd_seek(fd, offset, whence, out));

/// `fd_tell(fd, offset: *mut filesize) -> errno`. Errors: `EBADF`, `ENOTCAPABLE`, `ESPIPE`, `EFAULT`.
pub fn fd_tell(ctx: &mut WasiCtx, m: &mut [u8], fd: u32, out: u32) -> WasiResult<()> {
    let handle = handle_with(ctx, fd, rights::FD_TELL)?;
    let pos = ctx.host.seek(handle, SeekFrom::Current(0))?;
    mem::write_u64(m, out, pos)
}
wasi_fn!(link_fd_tell: with_memory fd_tell(fd, out));

/// `fd_close(fd) -> errno`. Errors: `EBADF`.
pub fn fd_close(ctx: &mut WasiCtx, fd: u32) -> WasiResult<()> {
    let entry = ctx.remove(fd)?;
    ctx.host.close(entry.handle)
}
wasi_fn!(link_fd_close: without_memory fd_close(fd));

/// `fd_renumber(fd, to: fd) -> errno`: moves `fd` to `to`, closing what was there.
/// Errors: `EBADF` (either descriptor not open).
pub fn fd_renumber(ctx: &mut WasiCtx, fd: u32, to: u32) -> WasiResult<()> {
    ctx.fd(fd)?;
    ctx.fd(to)?;
    if fd == to {
        return Ok(());
    }
    let entry = ctx.remove(fd)?;
    if let Some(old) = ctx.replace(to, entry)? {
        ctx.host.close(old.handle)?;
    }
    Ok(())
}
wasi_fn!(link_fd_renumber: without_memory fd_renumber(fd, to));

/// `fd_fdstat_get(fd, stat: *mut fdstat) -> errno`. Errors: `EBADF`, `EFAULT`.
pub fn fd_fdstat_get(ctx: &mut WasiCtx, m: &mut [u8], fd: u32, out: u32) -> WasiResult<()> {
    let entry = ctx.fd(fd)?;
    let mut bytes = [0u8; 24];
    bytes[0] = entry.filetype as u8;
    bytes[2..4].copy_from_slice(&entry.flags.to_le_bytes());
    bytes[8..16].copy_from_slice(&entry.rights_base.to_le_bytes());
    bytes[16..24].copy_from_slice(&entry.rights_inheriting.to_le_bytes());
    mem::write_bytes(m, out, &bytes)
}
wasi_fn!(link_fd_fdstat_get: with_memory fd_fdstat_get(fd, out));

/// `fd_fdstat_set_flags(fd, flags: fdflags) -> errno`.
/// `APPEND` and `NONBLOCK` may change after opening; the synchronous-I/O
/// flags (`DSYNC`, `RSYNC`, `SYNC`) are fixed when the file is opened, so
/// changing them is `ENOTSUP`.
/// Errors: `EBADF`, `EINVAL` (unknown bits), `ENOTSUP`.
pub fn fd_fdstat_set_flags(ctx: &mut WasiCtx, fd: u32, flags: u32) -> WasiResult<()> {
    let flags = u16::try_from(flags).map_err(|_| Errno::Inval)?;
    if flags & !0x1f != 0 {
        return Err(Errno::Inval);
    }
    let entry = ctx.fd(fd)?;
    entry.require(rights::FD_FDSTAT_SET_FLAGS)?;
    if (entry.flags ^ flags) & (FDFLAGS_DSYNC | FDFLAGS_RSYNC | FDFLAGS_SYNC) != 0 {
        return Err(Errno::Notsup);
    }
    let handle = entry.handle;
    let append = flags & FDFLAGS_APPEND != 0;
    if (entry.flags & FDFLAGS_APPEND != 0) != append {
        ctx.host.set_append(handle, append)?;
    }
    ctx.fd(fd)?.flags = flags;
    Ok(())
}
wasi_fn!(link_fd_fdstat_set_flags: without_memory fd_fdstat_set_flags(fd, flags));

/// `fd_fdstat_set_rights(fd, base: rights, inheriting: rights) -> errno`:
/// rights can only be dropped, never gained. Errors: `EBADF`, `ENOTCAPABLE`.
pub fn fd_fdstat_set_rights(
    ctx: &mut WasiCtx,
    fd: u32,
    base: u64,
    inheriting: u64,
) -> WasiResult<()> {
    let entry = ctx.fd(fd)?;
    if base & !entry.rights_base != 0 || inheriting & !entry.rights_inheriting != 0 {
        return Err(Errno::Notcapable);
    }
    entry.rights_base = base;
    entry.rights_inheriting = inheriting;
    Ok(())
}
wasi_fn!(link_fd_fdstat_set_rights: without_memory fd_fdstat_set_rights(fd, base, inheriting));

/// Writes a WASI `filestat` (64 bytes) at `out`.
pub fn write_filestat(m: &mut [u8], out: u32, stat: &Filestat) -> WasiResult<()> {
    let mut bytes = [0u8; 64];
    bytes[0..8].copy_from_slice(&stat.dev.to_le_bytes());
    bytes[8..16].copy_from_slice(&stat.ino.to_le_bytes());
    bytes[16] = stat.filetype as u8;
    bytes[24..32].copy_from_slice(&stat.nlink.to_le_bytes());
    bytes[32..40].copy_from_slice(&stat.size.to_le_bytes());
    bytes[40..48].copy_from_slice(&stat.atim.to_le_bytes());
    bytes[48..56].copy_from_slice(&stat.mtim.to_le_bytes());
    bytes[56..64].copy_from_slice(&stat.ctim.to_le_bytes());
    mem::write_bytes(m, out, &bytes)
}

/// `fd_filestat_get(fd, buf: *mut filestat) -> errno`. Errors: `EBADF`, `ENOTCAPABLE`, `EFAULT`.
pub fn fd_filestat_get(ctx: &mut WasiCtx, m: &mut [u8], fd: u32, out: u32) -> WasiResult<()> {
    let handle = handle_with(ctx, fd, rights::FD_FILESTAT_GET)?;
    let stat = ctx.host.stat(handle)?;
    write_filestat(m, out, &stat)
}
wasi_fn!(link_fd_filestat_get: with_memory fd_filestat_get(fd, out));

/// `fd_filestat_set_size(fd, size: filesize) -> errno`. Errors: `EBADF`, `ENOTCAPABLE`, `EINVAL`, `EFBIG`.
pub fn fd_filestat_set_size(ctx: &mut WasiCtx, fd: u32, size: u64) -> WasiResult<()> {
    let handle = handle_with(ctx, fd, rights::FD_FILESTAT_SET_SIZE)?;
    if size > i64::MAX as u64 {
        return Err(Errno::Fbig);
    }
    ctx.host.set_size(handle, size)
}
wasi_fn!(link_fd_filestat_set_size: without_memory fd_filestat_set_size(fd, size));

/// Decodes `fstflags` (`ATIM` 1, `ATIM_NOW` 2, `MTIM` 4, `MTIM_NOW` 8) into the two new times.
/// Errors: `EINVAL` when a time is both given and `NOW`, or unknown bits are set.
pub fn decode_set_times(atim: u64, mtim: u64, flags: u32) -> WasiResult<(SetTime, SetTime)> {
    if flags & !0xf != 0 {
        return Err(Errno::Inval);
    }
    let pick = |at: u32, now: u32, value: u64| match (flags & at != 0, flags & now != 0) {
        (true, true) => Err(Errno::Inval),
        (true, false) => Ok(SetTime::At(value)),
        (false, true) => Ok(SetTime::Now),
        (false, false) => Ok(SetTime::Keep),
    };
    Ok((pick(1, 2, atim)?, pick(4, 8, mtim)?))
}

/// `fd_filestat_set_times(fd, atim: timestamp, mtim: timestamp, fst_flags) -> errno`.
/// Errors: `EBADF`, `ENOTCAPABLE`, `EINVAL` (bad flags), `EROFS`.
pub fn fd_filestat_set_times(
    ctx: &mut WasiCtx,
    fd: u32,
    atim: u64,
    mtim: u64,
    flags: u32,
) -> WasiResult<()> {
    let handle = handle_with(ctx, fd, rights::FD_FILESTAT_SET_TIMES)?;
    let (atim, mtim) = decode_set_times(atim, mtim, flags)?;
    ctx.host.set_times(handle, atim, mtim)
}
wasi_fn!(link_fd_filestat_set_times: without_memory fd_filestat_set_times(fd, atim, mtim, flags));

/// `fd_allocate(fd, offset: filesize, len: filesize) -> errno`: makes sure the
/// file is at least `offset + len` bytes long (it never shrinks).
/// Errors: `EBADF`, `ENOTCAPABLE`, `EINVAL` (zero length), `EFBIG`.
pub fn fd_allocate(ctx: &mut WasiCtx, fd: u32, offset: u64, len: u64) -> WasiResult<()> {
    let handle = handle_with(ctx, fd, rights::FD_ALLOCATE)?;
    if len == 0 {
        return Err(Errno::Inval);
    }
    let end = offset
        .checked_add(len)
        .filter(|&e| e <= i64::MAX as u64)
        .ok_or(Errno::Fbig)?;
    let stat = ctx.host.stat(handle)?;
    if stat.filetype == Filetype::Directory {
        return Err(Errno::Badf);
    }
    if end > stat.size {
        ctx.host.set_size(handle, end)?;
    }
    Ok(())
}
wasi_fn!(link_fd_allocate: without_memory fd_allocate(fd, offset, len));

/// `fd_advise(fd, offset, len, advice) -> errno`: accepted and ignored after checking.
/// Errors: `EBADF`, `ENOTCAPABLE`, `EINVAL` (unknown advice).
pub fn fd_advise(
    ctx: &mut WasiCtx,
    fd: u32,
    _offset: u64,
    _len: u64,
    advice: u32,
) -> WasiResult<()> {
    handle_with(ctx, fd, rights::FD_ADVISE)?;
    if advice > 5 {
        return Err(Errno::Inval);
    }
    Ok(())
}
wasi_fn!(link_fd_advise: without_memory fd_advise(fd, offset, len, advice));

/// `fd_sync(fd) -> errno`: waits until the file's data and metadata are stored.
/// Errors: `EBADF`, `ENOTCAPABLE` (no `FD_SYNC`), `EIO`.
pub fn fd_sync(ctx: &mut WasiCtx, fd: u32) -> WasiResult<()> {
    let handle = handle_with(ctx, fd, rights::FD_SYNC)?;
    ctx.host.sync(handle, false)
}
wasi_fn!(link_fd_sync: without_memory fd_sync(fd));

/// `fd_datasync(fd) -> errno`: waits until the file's data is stored.
/// Errors: `EBADF`, `ENOTCAPABLE` (no `FD_DATASYNC`), `EIO`.
pub fn fd_datasync(ctx: &mut WasiCtx, fd: u32) -> WasiResult<()> {
    let handle = handle_with(ctx, fd, rights::FD_DATASYNC)?;
    ctx.host.sync(handle, true)
}
wasi_fn!(link_fd_datasync: without_memory fd_datasync(fd));

/// `fd_prestat_get(fd, buf: *mut prestat) -> errno`.
/// Errors: `EBADF` (not open, or not a preopened directory), `EFAULT`.
pub fn fd_prestat_get(ctx: &mut WasiCtx, m: &mut [u8], fd: u32, out: u32) -> WasiResult<()> {
    let entry = ctx.fd(fd)?;
    let name = entry.preopen.as_ref().ok_or(Errno::Badf)?;
    let len = u32::try_from(name.len()).map_err(|_| Errno::Nametoolong)?;
    let mut bytes = [0u8; 8];
    bytes[4..8].copy_from_slice(&len.to_le_bytes());
    mem::write_bytes(m, out, &bytes)
}
wasi_fn!(link_fd_prestat_get: with_memory fd_prestat_get(fd, out));

/// `fd_prestat_dir_name(fd, path: *mut u8, path_len: size) -> errno`.
/// Errors: `EBADF`, `ENAMETOOLONG` (buffer shorter than the name), `EFAULT`.
pub fn fd_prestat_dir_name(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    buf: u32,
    len: u32,
) -> WasiResult<()> {
    let entry = ctx.fd(fd)?;
    let name = entry.preopen.as_ref().ok_or(Errno::Badf)?;
    if (len as usize) < name.len() {
        return Err(Errno::Nametoolong);
    }
    mem::write_bytes(m, buf, name.as_bytes())
}
wasi_fn!(link_fd_prestat_dir_name: with_memory fd_prestat_dir_name(fd, buf, len));

/// `fd_readdir(fd, buf: *mut u8, buf_len: size, cookie: dircookie, bufused: *mut size) -> errno`.
///
/// Entries (`.` and `..` first) are numbered; an entry's `d_next` is the cookie
/// of the one after it, so a guest can resume from any cookie. The listing is
/// taken when a read starts at cookie 0 and kept for the following reads, so
/// cookies stay stable while the guest pages through. A buffer that fills up
/// ends with a truncated entry, as the specification says.
/// Errors: `EBADF`, `ENOTCAPABLE` (no `FD_READDIR`), `ENOTDIR`, `EFAULT`.
pub fn fd_readdir(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    buf: u32,
    len: u32,
    cookie: u64,
    out: u32,
) -> WasiResult<()> {
    let target = mem::range(m, buf, len)?;
    let entry = ctx.fd(fd)?;
    entry.require(rights::FD_READDIR)?;
    if entry.filetype != Filetype::Directory {
        return Err(Errno::Notdir);
    }
    let handle = entry.handle;
    if cookie == 0 || entry.listing.is_none() {
        let listing = ctx.host.read_dir(handle)?;
        ctx.fd(fd)?.listing = Some(listing);
    }
    let entry: &FdEntry = ctx.fd(fd)?;
    let listing = entry.listing.as_deref().unwrap_or_default();
    let used = serialize_dirents(listing, cookie, &mut m[target])?;
    mem::write_u32(m, out, used as u32)
}
wasi_fn!(link_fd_readdir: with_memory fd_readdir(fd, buf, len, cookie, out));

/// Writes dirents from index `cookie` on into `buf`; returns the bytes used.
fn serialize_dirents(
    listing: &[crate::host::DirEntry],
    cookie: u64,
    buf: &mut [u8],
) -> WasiResult<usize> {
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    let mut used = 0;
    for (index, dirent) in listing.iter().enumerate().skip(start) {
        let namlen = u32::try_from(dirent.name.len()).map_err(|_| Errno::Nametoolong)?;
        let mut header = [0u8; DIRENT_HEADER];
        header[0..8].copy_from_slice(&(index as u64 + 1).to_le_bytes());
        header[8..16].copy_from_slice(&dirent.ino.to_le_bytes());
        header[16..20].copy_from_slice(&namlen.to_le_bytes());
        header[20] = dirent.filetype as u8;
        for part in [&header[..], &dirent.name[..]] {
            let room = buf.len() - used;
            let take = part.len().min(room);
            buf[used..used + take].copy_from_slice(&part[..take]);
            used += take;
            if take < part.len() {
                return Ok(used);
            }
        }
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasi::test_ctx;

    #[test]
    fn close_frees_the_descriptor_once() {
        let mut ctx = test_ctx();
        assert_eq!(fd_close(&mut ctx, 2), Ok(()));
        assert_eq!(fd_close(&mut ctx, 2), Err(Errno::Badf));
    }

    #[test]
    fn renumber_moves_and_needs_both_descriptors_open() {
        let mut ctx = test_ctx();
        assert_eq!(fd_renumber(&mut ctx, 1, 9), Err(Errno::Badf));
        assert_eq!(fd_renumber(&mut ctx, 1, 2), Ok(()));
        assert_eq!(fd_close(&mut ctx, 1), Err(Errno::Badf));
        assert_eq!(fd_close(&mut ctx, 2), Ok(()));
    }

    #[test]
    fn rights_can_be_dropped_but_not_regained() {
        let mut ctx = test_ctx();
        assert_eq!(fd_fdstat_set_rights(&mut ctx, 1, 0, 0), Ok(()));
        let regained = fd_fdstat_set_rights(&mut ctx, 1, rights::FD_WRITE, 0);
        assert_eq!(regained, Err(Errno::Notcapable));
    }

    #[test]
    fn fdstat_get_writes_the_rights_and_checks_bounds() {
        let mut ctx = test_ctx();
        let mut m = [0u8; 32];
        assert_eq!(fd_fdstat_get(&mut ctx, &mut m, 1, 8), Ok(()));
        let base = u64::from_le_bytes(m[16..24].try_into().unwrap());
        assert_eq!(base, ctx.fd(1).unwrap().rights_base);
        assert_eq!(fd_fdstat_get(&mut ctx, &mut m, 1, 9), Err(Errno::Fault));
    }

    #[test]
    fn set_times_flags_are_checked() {
        assert!(matches!(
            decode_set_times(1, 2, 1 | 4),
            Ok((SetTime::At(1), SetTime::At(2)))
        ));
        assert_eq!(decode_set_times(0, 0, 1 | 2).err(), Some(Errno::Inval));
        assert_eq!(decode_set_times(0, 0, 16).err(), Some(Errno::Inval));
    }
}
