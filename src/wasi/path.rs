//! `path_*`: opening, inspecting and changing paths under a directory descriptor.
//!
//! Paths are handed to the host relative to the directory's handle; the host
//! resolves them without ever leaving that directory (see `host::real`).

use super::ctx::{FdEntry, WasiCtx, WasiView};
use super::errno::{Errno, WasiResult};
use super::fd::{
    decode_set_times, write_filestat, FDFLAGS_APPEND, FDFLAGS_DSYNC, FDFLAGS_RSYNC, FDFLAGS_SYNC,
};
use super::link::link_all;
use super::{mem, rights};
use crate::host::{Filetype, Handle, OpenRequest};
use wasmi::Linker;

const LOOKUP_SYMLINK_FOLLOW: u32 = 1;
const OFLAGS_CREAT: u32 = 1;
const OFLAGS_DIRECTORY: u32 = 2;
const OFLAGS_EXCL: u32 = 4;
const OFLAGS_TRUNC: u32 = 8;

/// Registers this group's imports.
pub(super) fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
) -> Result<(), wasmi::Error> {
    link_all(
        linker,
        &[
            link_path_open,
            link_path_filestat_get,
            link_path_create_directory,
            link_path_remove_directory,
            link_path_unlink_file,
            link_path_rename,
            link_path_readlink,
            link_path_filestat_set_times,
            link_path_link,
            link_path_symlink,
        ],
    )
}

/// Looks up directory descriptor `fd` holding `needed`; returns it with its inheriting rights.
fn dir_with(ctx: &mut WasiCtx, fd: u32, needed: u64) -> WasiResult<(Handle, u64)> {
    let entry = ctx.fd(fd)?;
    if entry.filetype != Filetype::Directory {
        return Err(Errno::Notdir);
    }
    entry.require(needed)?;
    Ok((entry.handle, entry.rights_inheriting))
}

/// The directory handle of `fd` (which must hold `needed`) and the guest
/// path `(ptr, len)` it names: the checks every one-path call starts with,
/// in the order that decides which errno wins.
fn dir_and_path<'m>(
    ctx: &mut WasiCtx,
    m: &'m [u8],
    fd: u32,
    needed: u64,
    path: (u32, u32),
) -> WasiResult<(Handle, &'m str)> {
    let (dir, _) = dir_with(ctx, fd, needed)?;
    Ok((dir, read_path(m, path.0, path.1)?))
}

/// Reads a guest path; an embedded NUL can never name a file (`EINVAL`, as
/// POSIX strings cannot hold one), and bytes that are not UTF-8 are `EILSEQ`.
fn read_path(m: &[u8], ptr: u32, len: u32) -> WasiResult<&str> {
    let path = mem::read_str(m, ptr, len)?;
    if path.contains('\0') {
        return Err(Errno::Inval);
    }
    Ok(path)
}

/// `lookupflags` has one defined bit; any other is `EINVAL`.
fn check_lookup_flags(flags: u32) -> WasiResult<()> {
    if flags & !LOOKUP_SYMLINK_FOLLOW != 0 {
        return Err(Errno::Inval);
    }
    Ok(())
}

/// The arguments of `path_open` after the directory and path.
#[derive(Debug, Clone, Copy)]
pub struct OpenArgs {
    /// `lookupflags`.
    pub dirflags: u32,
    /// `oflags`.
    pub oflags: u32,
    /// Requested `fs_rights_base`.
    pub base: u64,
    /// Requested `fs_rights_inheriting`.
    pub inheriting: u64,
    /// `fdflags`.
    pub fdflags: u32,
}

/// `path_open(fd, dirflags: lookupflags, path: string, oflags, fs_rights_base: rights,
/// fs_rights_inheriting: rights, fdflags, opened_fd: *mut fd) -> errno`.
///
/// The new descriptor gets the requested rights limited to what the directory
/// may hand on. Read or write access follows the requested rights, as in
/// wasi-common: `FD_READ`/`FD_READDIR` read, `FD_WRITE` and its kin write.
/// Errors: `EBADF`, `ENOTDIR`, `ENOTCAPABLE`, `EINVAL`, `EFAULT`, `EILSEQ`,
/// `EPERM` (the path would leave the preopen), and the host's `ENOENT`,
/// `EEXIST`, `EISDIR`, `ELOOP`, `EACCES`.
pub fn path_open(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    path: (u32, u32),
    args: OpenArgs,
    out: u32,
) -> WasiResult<()> {
    let mut needed = rights::PATH_OPEN;
    if args.oflags & OFLAGS_CREAT != 0 {
        needed |= rights::PATH_CREATE_FILE;
    }
    let (dir, dir_inheriting) = dir_with(ctx, fd, needed)?;
    // Truncating without the right is EPERM (the official wasi-testsuite's
    // truncation_rights), not ENOTCAPABLE.
    if args.oflags & OFLAGS_TRUNC != 0
        && ctx.fd(fd)?.require(rights::PATH_FILESTAT_SET_SIZE).is_err()
    {
        return Err(Errno::Perm);
    }
    if args.oflags & !0xf != 0 || args.fdflags & !0x1f != 0 {
        return Err(Errno::Inval);
    }
    check_lookup_flags(args.dirflags)?;
    let path = read_path(m, path.0, path.1)?;
    let req = open_request(&args);
    let opened = ctx.host.open_at(dir, path, req)?;
    let kind_rights = if opened.filetype == Filetype::Directory {
        rights::DIRECTORY_BASE
    } else {
        rights::FILE_BASE
    };
    let rights_base = args.base & dir_inheriting & kind_rights;
    let new_fd = ctx.insert(FdEntry {
        handle: opened.handle,
        filetype: opened.filetype,
        rights_base,
        rights_at_open: rights_base,
        rights_inheriting: args.inheriting & dir_inheriting,
        flags: (args.fdflags & 0x1f) as u16,
        preopen: None,
        listing: None,
    });
    if let Err(e) = mem::write_u32(m, out, new_fd) {
        if let Ok(entry) = ctx.remove(new_fd) {
            let _ = ctx.host.close(entry.handle);
        }
        return Err(e);
    }
    Ok(())
}
#[rustfmt::skip] // rustfmt would flatten the body's indentation
wasi_fn!(link_path_open: with_memory
    "path_open"(fd, dirflags, path, len, oflags, base, inheriting, fdflags, out)
    |ctx, m| {
        let args = OpenArgs { dirflags, oflags, base, inheriting, fdflags };
        path_open(ctx, m, fd, (path, len), args, out)
    });

fn open_request(args: &OpenArgs) -> OpenRequest {
    let read_rights = rights::FD_READ | rights::FD_READDIR;
    let write_rights =
        rights::FD_DATASYNC | rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE;
    let append = args.fdflags & u32::from(FDFLAGS_APPEND) != 0;
    let truncate = args.oflags & OFLAGS_TRUNC != 0;
    OpenRequest {
        directory: args.oflags & OFLAGS_DIRECTORY != 0,
        create: args.oflags & OFLAGS_CREAT != 0,
        exclusive: args.oflags & OFLAGS_EXCL != 0,
        truncate,
        read: args.base & read_rights != 0,
        write: args.base & write_rights != 0 || truncate || append,
        append,
        follow_symlinks: args.dirflags & LOOKUP_SYMLINK_FOLLOW != 0,
        sync: args.fdflags & u32::from(FDFLAGS_SYNC) != 0,
        dsync: args.fdflags & u32::from(FDFLAGS_DSYNC) != 0,
        rsync: args.fdflags & u32::from(FDFLAGS_RSYNC) != 0,
    }
}

/// `path_filestat_get(fd, flags: lookupflags, path: string, buf: *mut filestat) -> errno`.
/// Errors: `EBADF`, `ENOTDIR`, `ENOTCAPABLE`, `EFAULT`, `EPERM`, host errors.
pub fn path_filestat_get(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    flags: u32,
    path: (u32, u32),
    out: u32,
) -> WasiResult<()> {
    let (dir, _) = dir_with(ctx, fd, rights::PATH_FILESTAT_GET)?;
    check_lookup_flags(flags)?;
    let path = read_path(m, path.0, path.1)?;
    let stat = ctx
        .host
        .stat_at(dir, path, flags & LOOKUP_SYMLINK_FOLLOW != 0)?;
    write_filestat(m, out, &stat)
}
wasi_fn!(link_path_filestat_get: with_memory "path_filestat_get"(fd, flags, path, len, out)
    |ctx, m| path_filestat_get(ctx, m, fd, flags, (path, len), out));

/// `path_create_directory(fd, path: string) -> errno`.
/// Errors: `EBADF`, `ENOTDIR`, `ENOTCAPABLE`, `EEXIST`, `ENOENT`, `EPERM`.
pub fn path_create_directory(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    path: (u32, u32),
) -> WasiResult<()> {
    let (dir, path) = dir_and_path(ctx, m, fd, rights::PATH_CREATE_DIRECTORY, path)?;
    ctx.host.create_dir_at(dir, path)
}
wasi_fn!(link_path_create_directory: with_memory "path_create_directory"(fd, path, len)
    |ctx, m| path_create_directory(ctx, m, fd, (path, len)));

/// `path_remove_directory(fd, path: string) -> errno`.
/// Errors: `EBADF`, `ENOTDIR`, `ENOTCAPABLE`, `ENOTEMPTY`, `ENOENT`, `EPERM`.
pub fn path_remove_directory(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    path: (u32, u32),
) -> WasiResult<()> {
    let (dir, path) = dir_and_path(ctx, m, fd, rights::PATH_REMOVE_DIRECTORY, path)?;
    ctx.host.remove_dir_at(dir, path)
}
wasi_fn!(link_path_remove_directory: with_memory "path_remove_directory"(fd, path, len)
    |ctx, m| path_remove_directory(ctx, m, fd, (path, len)));

/// `path_unlink_file(fd, path: string) -> errno`.
/// Errors: `EBADF`, `ENOTDIR`, `ENOTCAPABLE`, `EISDIR`, `ENOENT`, `EPERM`.
pub fn path_unlink_file(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    path: (u32, u32),
) -> WasiResult<()> {
    let (dir, path) = dir_and_path(ctx, m, fd, rights::PATH_UNLINK_FILE, path)?;
    ctx.host.unlink_at(dir, path)
}
wasi_fn!(link_path_unlink_file: with_memory "path_unlink_file"(fd, path, len)
    |ctx, m| path_unlink_file(ctx, m, fd, (path, len)));

/// `path_rename(fd, old_path: string, new_fd: fd, new_path: string) -> errno`.
/// Errors: `EBADF`, `ENOTDIR`, `ENOTCAPABLE`, `ENOENT`, `EXDEV`, `EPERM`, host errors.
pub fn path_rename(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    old: (u32, u32),
    new_fd: u32,
    new: (u32, u32),
) -> WasiResult<()> {
    let (from_dir, _) = dir_with(ctx, fd, rights::PATH_RENAME_SOURCE)?;
    let (to_dir, _) = dir_with(ctx, new_fd, rights::PATH_RENAME_TARGET)?;
    let old = read_path(m, old.0, old.1)?;
    let new = read_path(m, new.0, new.1)?;
    if old.ends_with('/') || new.ends_with('/') {
        // A trailing slash says "directory": renaming a file that way is ENOTDIR,
        // which the host's path handling (it drops the slash) would not notice.
        let source = ctx
            .host
            .stat_at(from_dir, old.trim_end_matches('/'), false)?;
        if source.filetype != Filetype::Directory {
            return Err(Errno::Notdir);
        }
    }
    ctx.host.rename_at(from_dir, old, to_dir, new)
}
wasi_fn!(link_path_rename: with_memory "path_rename"(fd, old, old_len, new_fd, new, new_len)
    |ctx, m| path_rename(ctx, m, fd, (old, old_len), new_fd, (new, new_len)));

/// `path_readlink(fd, path: string, buf: *mut u8, buf_len: size, bufused: *mut size) -> errno`.
/// A target longer than the buffer is truncated to it.
/// Errors: `EBADF`, `ENOTDIR`, `ENOTCAPABLE`, `EINVAL` (not a symlink), `ENOENT`, `EFAULT`.
pub fn path_readlink(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    path: (u32, u32),
    buf: u32,
    len: u32,
    out: u32,
) -> WasiResult<()> {
    let (dir, path) = dir_and_path(ctx, m, fd, rights::PATH_READLINK, path)?;
    let target = ctx.host.read_link_at(dir, path)?;
    let take = target.len().min(len as usize);
    mem::write_bytes(m, buf, &target[..take])?;
    mem::write_u32(m, out, take as u32)
}
wasi_fn!(link_path_readlink: with_memory "path_readlink"(fd, path, len, buf, buf_len, out)
    |ctx, m| path_readlink(ctx, m, fd, (path, len), buf, buf_len, out));

/// `path_filestat_set_times(fd, flags: lookupflags, path: string, atim, mtim, fst_flags) -> errno`.
/// Errors: `EBADF`, `ENOTDIR`, `ENOTCAPABLE`, `EINVAL` (bad flags), `ENOENT`, `EROFS`, `EPERM`.
pub fn path_filestat_set_times(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    fd: u32,
    flags: u32,
    path: (u32, u32),
    (atim, mtim, fst): (u64, u64, u32),
) -> WasiResult<()> {
    let (dir, path) = dir_and_path(ctx, m, fd, rights::PATH_FILESTAT_SET_TIMES, path)?;
    let (atim, mtim) = decode_set_times(atim, mtim, fst)?;
    check_lookup_flags(flags)?;
    let follow = flags & LOOKUP_SYMLINK_FOLLOW != 0;
    ctx.host.set_times_at(dir, path, follow, atim, mtim)
}
wasi_fn!(link_path_filestat_set_times: with_memory
    "path_filestat_set_times"(fd, flags, path, len, atim, mtim, fst)
    |ctx, m| path_filestat_set_times(ctx, m, fd, flags, (path, len), (atim, mtim, fst)));

/// `path_link(old_fd, old_flags: lookupflags, old_path: string, new_fd, new_path: string) -> errno`.
/// Following a symlink in the source is not supported (`EINVAL`), as in wasi-common.
/// Errors: `EBADF`, `ENOTDIR`, `ENOTCAPABLE`, `EINVAL`, `EEXIST`, `ENOENT`, `EXDEV`, `EPERM`.
pub fn path_link(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    (fd, flags): (u32, u32),
    old: (u32, u32),
    new_fd: u32,
    new: (u32, u32),
) -> WasiResult<()> {
    let (from_dir, _) = dir_with(ctx, fd, rights::PATH_LINK_SOURCE)?;
    let (to_dir, _) = dir_with(ctx, new_fd, rights::PATH_LINK_TARGET)?;
    if flags & LOOKUP_SYMLINK_FOLLOW != 0 {
        return Err(Errno::Inval);
    }
    let old = read_path(m, old.0, old.1)?;
    let new = read_path(m, new.0, new.1)?;
    ctx.host.link_at(from_dir, old, to_dir, new)
}
wasi_fn!(link_path_link: with_memory "path_link"(fd, flags, old, old_len, new_fd, new, new_len)
    |ctx, m| path_link(ctx, m, (fd, flags), (old, old_len), new_fd, (new, new_len)));

/// `path_symlink(old_path: string, fd, new_path: string) -> errno`: creates
/// `new_path` holding `old_path`. The link's text is not checked (it is only
/// text); following it can never leave the preopen.
/// Errors: `EBADF`, `ENOTDIR`, `ENOTCAPABLE`, `EEXIST`, `ENOENT`, `EPERM`, `EROFS`.
pub fn path_symlink(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    old: (u32, u32),
    fd: u32,
    new: (u32, u32),
) -> WasiResult<()> {
    let (dir, _) = dir_with(ctx, fd, rights::PATH_SYMLINK)?;
    let target = read_path(m, old.0, old.1)?;
    let path = read_path(m, new.0, new.1)?;
    ctx.host.symlink_at(target, dir, path)
}
wasi_fn!(link_path_symlink: with_memory "path_symlink"(old, old_len, fd, new, new_len)
    |ctx, m| path_symlink(ctx, m, (old, old_len), fd, (new, new_len)));
