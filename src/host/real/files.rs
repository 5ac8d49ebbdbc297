//! Host files: opening them (never a FIFO, socket or device) and changing
//! them under the run's disk quota.

use super::tree::MountLoc;
use super::{Object, RealHost};
use crate::host::abi::{Errno, WasiResult};
use crate::host::quota::{DiskQuota, ENTRY_COST};
use crate::host::{Filetype, OpenRequest};
use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsSyncExt};
use cap_std::fs::{Dir, File, OpenOptions};
use std::io;

/// Where an opened object sits: its place in the mount tree and whether that mount is read-only.
pub(super) struct Place {
    pub(super) loc: Option<MountLoc>,
    pub(super) read_only: bool,
}

/// Opens `path` under host directory `base`; a directory becomes a directory handle.
/// Only regular files and directories are ever opened (see [`refuse_special`]).
/// `O_TRUNC` happens after that check, so the quota can credit what it frees.
pub(super) fn open_host(
    base: &Dir,
    path: &str,
    req: OpenRequest,
    place: Place,
    quota: Option<&DiskQuota>,
) -> WasiResult<(Object, Filetype)> {
    let Place { loc, read_only } = place;
    if req.directory {
        let dir = open_dir(base, path, req)?;
        let object = Object::Dir {
            dir,
            loc,
            read_only,
        };
        return Ok((object, Filetype::Directory));
    }
    refuse_special(base, path, req.follow_symlinks)?;
    let file = open_file(base, path, req)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        let dir = Dir::from_std_file(file.into_std());
        let object = Object::Dir {
            dir,
            loc,
            read_only,
        };
        return Ok((object, Filetype::Directory));
    }
    if !meta.is_file() {
        // Swapped in between the check above and the open.
        return Err(SPECIAL_FILE);
    }
    if req.truncate && meta.len() > 0 {
        let (old, links) = size_and_links(&file)?;
        file.set_len(0)?;
        if let Some(quota) = quota {
            quota.credit(old.saturating_mul(links));
        }
    }
    let object = Object::File {
        file,
        append: req.append,
        read_only,
    };
    Ok((object, Filetype::RegularFile))
}

/// Opens a directory for `O_DIRECTORY`, which can neither create nor write.
fn open_dir(base: &Dir, path: &str, req: OpenRequest) -> WasiResult<Dir> {
    if req.create {
        return Err(Errno::Inval);
    }
    if req.write || req.truncate || req.append {
        return Err(Errno::Isdir);
    }
    Ok(if req.follow_symlinks {
        base.open_dir(path)?
    } else {
        base.open_dir_nofollow(path)?
    })
}

fn open_file(dir: &Dir, path: &str, req: OpenRequest) -> io::Result<File> {
    let mut options = OpenOptions::new();
    // An open with neither right (for fstat, say) still needs an access mode.
    // Append mode is emulated (seek to the end before each write) rather than
    // O_APPEND, so fd_fdstat_set_flags can turn it on and off later.
    // std refuses to create or truncate without write access, which POSIX allows
    // (O_RDONLY|O_CREAT); the descriptor's WASI rights still forbid writing.
    let write = req.write || req.append || req.create || req.truncate;
    options.read(req.read || !write).write(write);
    // Non-blocking, so that even a FIFO swapped in after `refuse_special`
    // looked cannot hang the open; regular files ignore the flag.
    options
        .sync(req.sync)
        .dsync(req.dsync)
        .rsync(req.rsync)
        .nonblock(true);
    if req.create && req.exclusive {
        options.create_new(true);
    } else if req.create {
        options.create(true);
    }
    options.follow(if req.follow_symlinks {
        FollowSymlinks::Yes
    } else {
        FollowSymlinks::No
    });
    dir.open_with(path, &options)
}

/// What the guest gets for opening a FIFO, socket or device: `ENOTSUP`.
///
/// wasmtime opens them and blocks (a FIFO without a writer never answers, past
/// every timeout); brine refuses them instead. `ENOTSUP` says what happened:
/// the file exists and is readable, brine just does not serve that kind of
/// file (`EACCES` would send the user to permissions, `ENXIO` is obscure).
const SPECIAL_FILE: Errno = Errno::Notsup;

/// Refuses a FIFO, socket or device before opening it: opening one can block
/// (a FIFO waits for its other end) or have effects (a tape rewinds).
/// The open that follows is non-blocking and checked again, so a file swapped
/// in between cannot block either.
fn refuse_special(base: &Dir, path: &str, follow_symlinks: bool) -> WasiResult<()> {
    let meta = if follow_symlinks {
        base.metadata(path)
    } else {
        base.symlink_metadata(path)
    };
    match meta {
        Ok(meta) if is_special(meta.file_type()) => Err(SPECIAL_FILE),
        // A missing file is created (or reported) by the open itself.
        _ => Ok(()),
    }
}

/// Whether a file is neither a regular file, a directory nor a symlink.
fn is_special(ft: cap_std::fs::FileType) -> bool {
    !(ft.is_file() || ft.is_dir() || ft.is_symlink())
}

/// Writes `buf` at `offset` with `write`, letting the file grow only as far as
/// `quota` allows (a short write up to the limit, then `ENOSPC`).
pub(super) fn write_counted(
    quota: Option<&DiskQuota>,
    file: &mut File,
    offset: u64,
    buf: &[u8],
    write: impl FnOnce(&mut File, &[u8]) -> io::Result<usize>,
) -> WasiResult<usize> {
    let Some(quota) = quota else {
        return Ok(write(file, buf)?);
    };
    let (size, links) = size_and_links(file)?;
    let fits = quota.writable(size, offset, buf.len(), links)?;
    let written = write(file, &buf[..fits])?;
    let growth = (offset + written as u64).saturating_sub(size);
    quota.charge(growth.saturating_mul(links));
    Ok(written)
}

/// Truncates or extends `file`, counting the change of every name it has against `quota`.
pub(super) fn resize_counted(quota: Option<&DiskQuota>, file: &File, size: u64) -> WasiResult<()> {
    let Some(quota) = quota else {
        return Ok(file.set_len(size)?);
    };
    // Every name of the file shows the new size.
    let (old, links) = size_and_links(file)?;
    if size > old {
        let growth = (size - old).saturating_mul(links);
        quota.reserve(growth)?;
        if let Err(e) = file.set_len(size) {
            quota.credit(growth);
            return Err(e.into());
        }
    } else {
        file.set_len(size)?;
        quota.credit((old - size).saturating_mul(links));
    }
    Ok(())
}

/// A file's apparent size and its number of names (at least 1: an unlinked
/// file the guest still holds counts once).
fn size_and_links(file: &File) -> io::Result<(u64, u64)> {
    use cap_fs_ext::MetadataExt;
    let meta = file.metadata()?;
    Ok((meta.len(), meta.nlink().max(1)))
}

/// Creates a directory or symlink with `create`, counting [`ENTRY_COST`] against `quota`.
pub(super) fn grow_by_entry(
    quota: Option<&DiskQuota>,
    create: impl FnOnce() -> io::Result<()>,
) -> WasiResult<()> {
    if let Some(quota) = quota {
        quota.reserve(ENTRY_COST)?;
    }
    create().map_err(|e| {
        if let Some(quota) = quota {
            quota.credit(ENTRY_COST);
        }
        Errno::from(e)
    })
}

/// Creates hard link `to` (under `target`) to `from` (under `base`): a new name
/// is copied and hashed like a new file, so it costs the file's size.
pub(super) fn link_counted(
    quota: Option<&DiskQuota>,
    base: &Dir,
    from: &str,
    target: &Dir,
    to: &str,
) -> WasiResult<()> {
    let Some(quota) = quota else {
        return Ok(base.hard_link(from, target, to)?);
    };
    let cost =
        base.symlink_metadata(from)
            .map_or(0, |m| if m.is_file() { m.len() } else { ENTRY_COST });
    quota.reserve(cost)?;
    base.hard_link(from, target, to).map_err(|e| {
        quota.credit(cost);
        Errno::from(e)
    })
}

impl RealHost {
    /// What unlinking `path` frees: a regular file's size (every name counts
    /// its size) unless this was its last name and the guest still holds a
    /// descriptor to it (an open file keeps its data); a symlink's
    /// [`ENTRY_COST`]; nothing otherwise.
    pub(super) fn bytes_freed_by_unlink(&self, base: &Dir, path: &str) -> u64 {
        use cap_fs_ext::MetadataExt;
        let Ok(meta) = base.symlink_metadata(path) else {
            return 0;
        };
        if meta.file_type().is_symlink() {
            return ENTRY_COST;
        }
        if !meta.is_file() {
            return 0;
        }
        if meta.nlink() > 1 {
            return meta.len();
        }
        let held_open = self.objects.iter().flatten().any(|object| match object {
            Object::File { file, .. } => file
                .metadata()
                .is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino()),
            _ => false,
        });
        if held_open {
            0
        } else {
            meta.len()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{host_with, read_only_request};
    use super::*;
    use crate::host::Host;

    fn create_request() -> OpenRequest {
        OpenRequest {
            create: true,
            write: true,
            ..OpenRequest::default()
        }
    }

    /// Unlinking credits a file's size only when no descriptor still holds its data.
    #[test]
    fn unlinking_credits_only_files_nobody_holds_open() {
        let (ro, rw) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let quota = DiskQuota::new(100, "Resources.Disk");
        let (mut host, root) = host_with(ro.path(), rw.path(), Some(quota.clone()));
        let create = create_request();
        let held = host.open_at(root, "out/held", create).unwrap().handle;
        assert_eq!(host.write(held, &[b'h'; 40]), Ok(40));
        let closed = host.open_at(root, "out/closed", create).unwrap().handle;
        assert_eq!(host.write(closed, &[b'c'; 40]), Ok(40));
        host.close(closed).unwrap();
        assert_eq!(quota.available(), 20);
        host.unlink_at(root, "out/held").unwrap();
        assert_eq!(quota.available(), 20, "an open file keeps its data");
        host.unlink_at(root, "out/closed").unwrap();
        assert_eq!(quota.available(), 60);
        // Truncating on open credits what it drops.
        assert_eq!(host.write(held, &[b'h'; 10]), Ok(10));
        assert_eq!(quota.available(), 50);
        let again = host.open_at(root, "out/new", create).unwrap().handle;
        assert_eq!(host.write(again, &[b'n'; 50]), Ok(50));
        assert_eq!(host.write(again, b"!"), Err(Errno::Nospc));
        let truncating = OpenRequest {
            truncate: true,
            ..create
        };
        host.open_at(root, "out/new", truncating).unwrap();
        assert_eq!(quota.available(), 50);
        assert!(quota.reached());
    }

    /// Hard links cannot multiply what the results copy: each name costs the file's size.
    #[test]
    fn every_name_of_a_file_counts_against_the_quota() {
        let (ro, rw) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let quota = DiskQuota::new(100, "Resources.Disk");
        let (mut host, root) = host_with(ro.path(), rw.path(), Some(quota.clone()));
        let file = host
            .open_at(root, "out/a", create_request())
            .unwrap()
            .handle;
        assert_eq!(host.write(file, &[b'a'; 40]), Ok(40));
        host.link_at(root, "out/a", root, "out/b").unwrap();
        assert_eq!(quota.available(), 20);
        assert_eq!(
            host.link_at(root, "out/a", root, "out/c"),
            Err(Errno::Nospc)
        );
        // Growing a file with two names grows both.
        assert_eq!(host.write(file, &[b'a'; 20]), Ok(10));
        assert_eq!(quota.available(), 0);
        host.unlink_at(root, "out/b").unwrap();
        assert_eq!(quota.available(), 50);
    }

    /// A FIFO is refused before it is opened, so the open cannot block.
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let (ro, rw) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let status = std::process::Command::new("mkfifo")
            .arg(ro.path().join("pipe"))
            .status()
            .unwrap();
        assert!(status.success());
        let (mut host, root) = host_with(ro.path(), rw.path(), None);
        assert_eq!(
            host.open_at(root, "in/pipe", read_only_request())
                .map(|o| o.handle),
            Err(SPECIAL_FILE)
        );
    }
}
