//! Opening files that a guest may have shaped, safely: never through a
//! symbolic link, never blocking on a FIFO or a device.
//!
//! Outputs, inputs and result files are read after the guest had its say over
//! them; a link could send brine anywhere on the host and a FIFO would block it
//! forever. `O_NOFOLLOW` refuses a link in the last component, `O_NONBLOCK`
//! makes opening a FIFO return at once, and the `fstat` that follows refuses
//! anything but a regular file.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Opens `path` for reading when it is a regular file, not through a link.
pub fn open_regular(path: &Path) -> io::Result<File> {
    open_checked(path, rustix::fs::OFlags::NOFOLLOW)
}

/// Opens `path` for reading when it resolves to a regular file (links in it are
/// followed: for paths brine resolved itself, such as a module's).
pub fn open_regular_following(path: &Path) -> io::Result<File> {
    open_checked(path, rustix::fs::OFlags::empty())
}

/// Opens `name` in directory `dir` for reading when it is a regular file, not
/// through a link (a walk by handle: the entry may have changed since it was listed).
pub fn open_regular_in(dir: &cap_std::fs::Dir, name: &std::ffi::OsStr) -> io::Result<File> {
    use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt, OpenOptionsSyncExt};
    let mut options = cap_std::fs::OpenOptions::new();
    options.read(true).follow(FollowSymlinks::No).nonblock(true);
    regular_only(dir.open_with(name, &options)?.into_std())
}

fn open_checked(path: &Path, extra: rustix::fs::OFlags) -> io::Result<File> {
    let flags = extra | rustix::fs::OFlags::NONBLOCK;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
        .map_err(|e| explain_loop(e, path))?;
    regular_only(file)
}

/// `file`, when what was opened is a regular file.
fn regular_only(file: File) -> io::Result<File> {
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (FIFOs, sockets and devices are never opened)",
        ));
    }
    Ok(file)
}

/// `O_NOFOLLOW` on a link answers ELOOP, "too many levels of symbolic links",
/// which misleads: say what happened.
fn explain_loop(e: io::Error, path: &Path) -> io::Error {
    if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
        let is_link = path
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink());
        if is_link {
            return io::Error::new(
                io::ErrorKind::InvalidInput,
                "a symbolic link (brine does not follow links here)",
            );
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_fifos_are_refused_without_blocking() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, "x").unwrap();
        std::os::unix::fs::symlink(&file, tmp.path().join("link")).unwrap();
        let fifo = tmp.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        assert!(open_regular(&file).is_ok());
        let link = open_regular(&tmp.path().join("link")).unwrap_err();
        assert!(link.to_string().contains("symbolic link"), "{link}");
        assert!(open_regular_following(&tmp.path().join("link")).is_ok());
        let fifo = open_regular(&fifo).unwrap_err();
        assert!(fifo.to_string().contains("not a regular file"), "{fifo}");
    }
}
