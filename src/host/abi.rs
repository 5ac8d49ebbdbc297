//! What the host boundary and the WASI layer share: WASI preview1 `errno`
//! values and the mapping from host I/O errors. It lives with the host, the
//! lower room, so the host never imports from the WASI layer above it.

use std::io;

/// A WASI preview1 error number (`errno`), as returned to the guest.
///
/// Only the values brine produces are named; the numbers are the
/// specification's (`wasi_snapshot_preview1.witx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Errno {
    /// Argument list too long.
    TooBig = 1,
    /// Permission denied.
    Acces = 2,
    /// Resource unavailable, try again.
    Again = 6,
    /// Bad file descriptor.
    Badf = 8,
    /// Device or resource busy.
    Busy = 10,
    /// File exists.
    Exist = 20,
    /// Bad address (a guest pointer outside its memory).
    Fault = 21,
    /// File too large.
    Fbig = 22,
    /// Illegal byte sequence (a path that is not UTF-8).
    Ilseq = 25,
    /// Interrupted function.
    Intr = 27,
    /// Invalid argument.
    Inval = 28,
    /// I/O error.
    Io = 29,
    /// Is a directory.
    Isdir = 31,
    /// Too many levels of symbolic links.
    Loop = 32,
    /// File descriptor value too large.
    Mfile = 33,
    /// Too many links.
    Mlink = 34,
    /// Filename too long.
    Nametoolong = 37,
    /// No such file or directory.
    Noent = 44,
    /// Not enough space.
    Nomem = 48,
    /// No space left on device.
    Nospc = 51,
    /// Function not supported.
    Nosys = 52,
    /// Not a directory.
    Notdir = 54,
    /// Directory not empty.
    Notempty = 55,
    /// Not a socket.
    Notsock = 57,
    /// Not supported.
    Notsup = 58,
    /// Value too large to be stored in data type.
    Overflow = 61,
    /// Operation not permitted (also: a path that would escape its preopen).
    Perm = 63,
    /// Broken pipe.
    Pipe = 64,
    /// Read-only file system.
    Rofs = 69,
    /// Invalid seek.
    Spipe = 70,
    /// Cross-device link.
    Xdev = 75,
    /// Capabilities insufficient (the fd lacks the right for this call).
    Notcapable = 76,
}

impl Errno {
    /// The number the guest sees.
    pub fn code(self) -> i32 {
        self as u16 as i32
    }

    /// The errno with number `code` (one brine produces), else `EIO`.
    pub fn from_code(code: u16) -> Errno {
        const ALL: [Errno; 33] = [
            Errno::TooBig,
            Errno::Acces,
            Errno::Again,
            Errno::Badf,
            Errno::Busy,
            Errno::Exist,
            Errno::Fault,
            Errno::Fbig,
            Errno::Ilseq,
            Errno::Intr,
            Errno::Inval,
            Errno::Io,
            Errno::Isdir,
            Errno::Loop,
            Errno::Mfile,
            Errno::Mlink,
            Errno::Nametoolong,
            Errno::Noent,
            Errno::Nomem,
            Errno::Nospc,
            Errno::Nosys,
            Errno::Notdir,
            Errno::Notempty,
            Errno::Notsock,
            Errno::Notsup,
            Errno::Overflow,
            Errno::Perm,
            Errno::Pipe,
            Errno::Rofs,
            Errno::Spipe,
            Errno::Xdev,
            Errno::Notcapable,
            Errno::Io,
        ];
        ALL.into_iter()
            .find(|e| *e as u16 == code)
            .unwrap_or(Errno::Io)
    }
}

/// The result type of every WASI function body: `Ok` becomes errno 0.
pub type WasiResult<T> = Result<T, Errno>;

impl From<io::Error> for Errno {
    fn from(err: io::Error) -> Self {
        if let Some(code) = err.raw_os_error() {
            return from_os_code(code);
        }
        from_kind(err.kind())
    }
}

/// Maps an OS error number (POSIX names, Linux and BSD values agree for these) to WASI.
fn from_os_code(code: i32) -> Errno {
    match code {
        libc_codes::EPERM => Errno::Perm,
        libc_codes::ENOENT => Errno::Noent,
        libc_codes::EINTR => Errno::Intr,
        libc_codes::EIO => Errno::Io,
        libc_codes::EBADF => Errno::Badf,
        libc_codes::EAGAIN => Errno::Again,
        libc_codes::ENOMEM => Errno::Nomem,
        libc_codes::EACCES => Errno::Acces,
        libc_codes::EFAULT => Errno::Fault,
        libc_codes::EBUSY => Errno::Busy,
        libc_codes::EEXIST => Errno::Exist,
        libc_codes::EXDEV => Errno::Xdev,
        libc_codes::ENOTDIR => Errno::Notdir,
        libc_codes::EISDIR => Errno::Isdir,
        libc_codes::EINVAL => Errno::Inval,
        libc_codes::EMFILE | libc_codes::ENFILE => Errno::Mfile,
        libc_codes::EFBIG => Errno::Fbig,
        libc_codes::ENOSPC => Errno::Nospc,
        libc_codes::ESPIPE => Errno::Spipe,
        libc_codes::EROFS => Errno::Rofs,
        libc_codes::EMLINK => Errno::Mlink,
        libc_codes::EPIPE => Errno::Pipe,
        libc_codes::ENAMETOOLONG => Errno::Nametoolong,
        libc_codes::ENOSYS => Errno::Nosys,
        libc_codes::ENOTEMPTY => Errno::Notempty,
        libc_codes::ELOOP => Errno::Loop,
        libc_codes::EOVERFLOW => Errno::Overflow,
        libc_codes::ENOTSUP => Errno::Notsup,
        _ => Errno::Io,
    }
}

/// Maps an error without an OS code (cap-std's own refusals, std's synthetic errors).
fn from_kind(kind: io::ErrorKind) -> Errno {
    use io::ErrorKind as K;
    match kind {
        K::NotFound => Errno::Noent,
        // cap-std reports a path that would leave its directory as PermissionDenied.
        K::PermissionDenied => Errno::Perm,
        K::AlreadyExists => Errno::Exist,
        K::InvalidInput => Errno::Inval,
        K::InvalidData => Errno::Ilseq,
        K::Interrupted => Errno::Intr,
        K::WouldBlock => Errno::Again,
        K::BrokenPipe => Errno::Pipe,
        K::Unsupported => Errno::Notsup,
        K::OutOfMemory => Errno::Nomem,
        K::NotADirectory => Errno::Notdir,
        K::IsADirectory => Errno::Isdir,
        K::DirectoryNotEmpty => Errno::Notempty,
        K::ReadOnlyFilesystem => Errno::Rofs,
        K::InvalidFilename => Errno::Inval,
        _ => Errno::Io,
    }
}

/// The POSIX error numbers brine maps, as Linux defines them (macOS and iOS agree
/// on all but the few marked, which take their BSD values there).
mod libc_codes {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const EINTR: i32 = 4;
    pub const EIO: i32 = 5;
    pub const EBADF: i32 = 9;
    #[cfg(not(target_vendor = "apple"))]
    pub const EAGAIN: i32 = 11;
    #[cfg(target_vendor = "apple")]
    pub const EAGAIN: i32 = 35;
    pub const ENOMEM: i32 = 12;
    pub const EACCES: i32 = 13;
    pub const EFAULT: i32 = 14;
    pub const EBUSY: i32 = 16;
    pub const EEXIST: i32 = 17;
    pub const EXDEV: i32 = 18;
    pub const ENOTDIR: i32 = 20;
    pub const EISDIR: i32 = 21;
    pub const EINVAL: i32 = 22;
    pub const ENFILE: i32 = 23;
    pub const EMFILE: i32 = 24;
    pub const EFBIG: i32 = 27;
    pub const ENOSPC: i32 = 28;
    pub const ESPIPE: i32 = 29;
    pub const EROFS: i32 = 30;
    pub const EMLINK: i32 = 31;
    pub const EPIPE: i32 = 32;
    #[cfg(not(target_vendor = "apple"))]
    pub const ENAMETOOLONG: i32 = 36;
    #[cfg(target_vendor = "apple")]
    pub const ENAMETOOLONG: i32 = 63;
    #[cfg(not(target_vendor = "apple"))]
    pub const ENOSYS: i32 = 38;
    #[cfg(target_vendor = "apple")]
    pub const ENOSYS: i32 = 78;
    #[cfg(not(target_vendor = "apple"))]
    pub const ENOTEMPTY: i32 = 39;
    #[cfg(target_vendor = "apple")]
    pub const ENOTEMPTY: i32 = 66;
    #[cfg(not(target_vendor = "apple"))]
    pub const ELOOP: i32 = 40;
    #[cfg(target_vendor = "apple")]
    pub const ELOOP: i32 = 62;
    #[cfg(not(target_vendor = "apple"))]
    pub const EOVERFLOW: i32 = 75;
    #[cfg(target_vendor = "apple")]
    pub const EOVERFLOW: i32 = 84;
    #[cfg(not(target_vendor = "apple"))]
    pub const ENOTSUP: i32 = 95;
    #[cfg(target_vendor = "apple")]
    pub const ENOTSUP: i32 = 45;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_attempts_become_perm() {
        let err = io::Error::new(io::ErrorKind::PermissionDenied, "a path led outside");
        assert_eq!(Errno::from(err), Errno::Perm);
    }

    #[test]
    fn os_codes_map_by_number() {
        assert_eq!(Errno::from(io::Error::from_raw_os_error(2)), Errno::Noent);
        assert_eq!(Errno::from(io::Error::from_raw_os_error(13)), Errno::Acces);
        // Spot checks against wasi_snapshot_preview1.witx (65..67 are the PROTO* errnos).
        assert_eq!(Errno::Perm.code(), 63);
        assert_eq!(Errno::Pipe.code(), 64);
        assert_eq!(Errno::Rofs.code(), 69);
        assert_eq!(Errno::Spipe.code(), 70);
        assert_eq!(Errno::Xdev.code(), 75);
        assert_eq!(Errno::Notcapable.code(), 76);
    }
}
