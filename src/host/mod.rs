//! The host boundary: everything the WASI layer asks of the outside world.
//!
//! WASI functions never call `std::time`, a random source or `std::fs`
//! directly, and `wasi:http/requests` never opens a connection itself; they
//! call the [`Host`] trait object held in the WASI context.
//! [`real::RealHost`] serves those calls from the operating system (files
//! through cap-std directories, so a guest path can never leave its preopen).
//! Deterministic, recording and replaying hosts implement the same trait.
//!
//! Open files and directories are named by opaque [`Handle`]s the host hands
//! out, so a replaying host can answer without any real file behind them.

pub mod abi;
pub mod answers;
pub mod deterministic;
pub mod journal;
pub mod mounts;
pub mod net;
pub mod quota;
pub mod real;
pub mod recording;
pub mod replaying;
pub mod stack;

use crate::host::abi::WasiResult;
use crate::host::net::{HttpRequest, HttpResult};
use serde::{Deserialize, Serialize};
use std::io::SeekFrom;

/// An open stream, file or directory, as the host numbers it.
///
/// Handles 0, 1 and 2 are the guest's stdin, stdout and stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Handle(pub u32);

impl Handle {
    /// The guest's standard input.
    pub const STDIN: Handle = Handle(0);
    /// The guest's standard output.
    pub const STDOUT: Handle = Handle(1);
    /// The guest's standard error.
    pub const STDERR: Handle = Handle(2);
}

/// The clocks of WASI preview1 (`clockid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Wall-clock time, nanoseconds since the Unix epoch.
    Realtime,
    /// A clock that never goes backwards, from an arbitrary origin.
    Monotonic,
    /// CPU time of the process.
    ProcessCputime,
    /// CPU time of the thread.
    ThreadCputime,
}

/// The kind of a file system object (WASI `filetype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum Filetype {
    /// Not one of the kinds below.
    Unknown = 0,
    /// A block device.
    BlockDevice = 1,
    /// A character device (a terminal, `/dev/null`).
    CharacterDevice = 2,
    /// A directory.
    Directory = 3,
    /// A regular file.
    RegularFile = 4,
    /// A datagram socket.
    SocketDgram = 5,
    /// A stream socket (also used for pipes, which WASI cannot name).
    SocketStream = 6,
    /// A symbolic link.
    SymbolicLink = 7,
}

/// File attributes (WASI `filestat`); times are nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filestat {
    /// Device id of the file system holding the file.
    pub dev: u64,
    /// File serial number.
    pub ino: u64,
    /// What the object is.
    pub filetype: Filetype,
    /// Number of hard links.
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// Last access time.
    pub atim: u64,
    /// Last data modification time.
    pub mtim: u64,
    /// Last status change time.
    pub ctim: u64,
}

/// One directory entry as `fd_readdir` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    /// The entry's name (bytes, as the file system holds them).
    pub name: Vec<u8>,
    /// File serial number.
    pub ino: u64,
    /// What the entry is (symlinks are not followed).
    pub filetype: Filetype,
}

/// How to open a path relative to a directory handle (`path_open`'s flags, decoded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenRequest {
    /// Fail unless the path is a directory (`O_DIRECTORY`).
    pub directory: bool,
    /// Create the file if it does not exist (`O_CREAT`).
    pub create: bool,
    /// With `create`: fail if it exists (`O_EXCL`).
    pub exclusive: bool,
    /// Truncate to zero length (`O_TRUNC`).
    pub truncate: bool,
    /// Open for reading.
    pub read: bool,
    /// Open for writing.
    pub write: bool,
    /// Every write appends (`FDFLAGS_APPEND`).
    pub append: bool,
    /// Follow a symlink in the last path component.
    pub follow_symlinks: bool,
    /// Writes wait for file integrity (`FDFLAGS_SYNC`).
    pub sync: bool,
    /// Writes wait for data integrity (`FDFLAGS_DSYNC`).
    pub dsync: bool,
    /// Reads wait for pending writes (`FDFLAGS_RSYNC`).
    pub rsync: bool,
}

/// A new access or modification time (`fstflags` decoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetTime {
    /// Leave it as it is.
    Keep,
    /// The host's current time.
    Now,
    /// Nanoseconds since the Unix epoch.
    At(u64),
}

/// What `open_at` opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opened {
    /// The new handle.
    pub handle: Handle,
    /// What it refers to.
    pub filetype: Filetype,
}

/// The [`Host`] methods, written once: each method's documentation and
/// signature, then how each wrapping host serves it, as
/// `[deterministic, recording, replaying]`:
/// - `forward`: passes the call to the wrapped host unchanged;
/// - `record`: passes it on and journals its arguments and answer;
/// - `observe`: answers from the journal without asking the wrapped host;
/// - `act`: lets the wrapped host do it and checks its answer against the journal;
/// - `own`: the wrapper writes that method by hand (the compiler insists on it).
///
/// `host_methods!([m])` hands the table to macro `m`; [`Host`] itself and each
/// wrapper's generic methods (see `wrapped_methods!`) are made from it. The
/// types are named as written here, so a wrapper imports the ones its rows use.
macro_rules! host_methods {
    ([$($callback:tt)*] $($prefix:tt)*) => {
        $($callback)*! { $($prefix)*
            /// The current time of `clock` in nanoseconds.
            fn clock_time(&mut self, clock: Clock, precision: u64) -> WasiResult<u64> = [own, record, observe];
            /// The resolution of `clock` in nanoseconds.
            fn clock_res(&mut self, clock: Clock) -> WasiResult<u64> = [own, record, observe];
            /// Fills `buf` with random bytes.
            fn random_fill(&mut self, buf: &mut [u8]) -> WasiResult<()> = [own, own, own];
            /// Blocks for `nanos` nanoseconds (`poll_oneoff` on clocks); may return
            /// early when the run's deadline passes.
            fn sleep(&mut self, nanos: u64) -> WasiResult<()> = [own, record, observe];

            /// Whether a read on `handle` would return without blocking (data, or the end),
            /// waiting up to `timeout_ns` (`None`: as long as it takes). Files are always readable.
            fn wait_readable(&mut self, handle: Handle, timeout_ns: Option<u64>) -> WasiResult<bool> = [forward, record, observe];
            /// Reads at the handle's position (stdin, a file); 0 means end of file.
            fn read(&mut self, handle: Handle, buf: &mut [u8]) -> WasiResult<usize> = [forward, own, own];
            /// Reads at `offset` without moving the position.
            fn pread(&mut self, handle: Handle, buf: &mut [u8], offset: u64) -> WasiResult<usize> = [forward, own, own];
            /// Writes at the handle's position (or its end, when opened for append).
            fn write(&mut self, handle: Handle, buf: &[u8]) -> WasiResult<usize> = [forward, own, own];
            /// Writes at `offset` without moving the position.
            fn pwrite(&mut self, handle: Handle, buf: &[u8], offset: u64) -> WasiResult<usize> = [forward, own, own];
            /// Moves the position; returns the new one.
            fn seek(&mut self, handle: Handle, pos: SeekFrom) -> WasiResult<u64> = [forward, record, act];
            /// Attributes of an open handle.
            fn stat(&mut self, handle: Handle) -> WasiResult<Filestat> = [own, record, observe];
            /// Flushes data (and metadata unless `data_only`) to storage.
            fn sync(&mut self, handle: Handle, data_only: bool) -> WasiResult<()> = [forward, record, act];
            /// Turns append mode of an open file on or off (every write goes to the end).
            fn set_append(&mut self, handle: Handle, append: bool) -> WasiResult<()> = [forward, record, act];
            /// Truncates or extends a file.
            fn set_size(&mut self, handle: Handle, size: u64) -> WasiResult<()> = [forward, record, act];
            /// Closes a handle.
            fn close(&mut self, handle: Handle) -> WasiResult<()> = [forward, record, act];

            /// Opens `path` under directory `dir`.
            fn open_at(&mut self, dir: Handle, path: &str, req: OpenRequest) -> WasiResult<Opened> = [forward, record, own];
            /// Attributes of `path` under `dir`; `follow` follows a final symlink.
            fn stat_at(&mut self, dir: Handle, path: &str, follow: bool) -> WasiResult<Filestat> = [own, record, observe];
            /// Every entry of directory `dir`, `.` and `..` first.
            fn read_dir(&mut self, dir: Handle) -> WasiResult<Vec<DirEntry>> = [own, record, observe];
            /// Creates directory `path` under `dir`.
            fn create_dir_at(&mut self, dir: Handle, path: &str) -> WasiResult<()> = [forward, record, act];
            /// Removes the empty directory `path` under `dir`.
            fn remove_dir_at(&mut self, dir: Handle, path: &str) -> WasiResult<()> = [forward, record, act];
            /// Removes the non-directory `path` under `dir`.
            fn unlink_at(&mut self, dir: Handle, path: &str) -> WasiResult<()> = [forward, record, act];
            /// Renames `from` under `from_dir` to `to` under `to_dir`.
            fn rename_at(&mut self, from_dir: Handle, from: &str, to_dir: Handle, to: &str) -> WasiResult<()> = [forward, record, act];
            /// The target of symlink `path` under `dir`.
            fn read_link_at(&mut self, dir: Handle, path: &str) -> WasiResult<Vec<u8>> = [forward, record, observe];
            /// Sets the access and modification times of an open handle.
            fn set_times(&mut self, handle: Handle, atim: SetTime, mtim: SetTime) -> WasiResult<()> = [forward, record, act];
            /// Sets the times of `path` under `dir` (of a final symlink itself unless `follow`).
            fn set_times_at(&mut self, dir: Handle, path: &str, follow: bool, atim: SetTime, mtim: SetTime) -> WasiResult<()> = [forward, record, act];
            /// Creates symlink `path` under `dir` whose contents are `target`.
            fn symlink_at(&mut self, target: &str, dir: Handle, path: &str) -> WasiResult<()> = [forward, record, act];
            /// Creates hard link `to` under `to_dir` to `from` under `from_dir`.
            fn link_at(&mut self, from_dir: Handle, from: &str, to_dir: Handle, to: &str) -> WasiResult<()> = [forward, record, act];

            /// Writes out anything buffered for stdout and stderr.
            fn flush(&mut self) -> WasiResult<()> = [forward, record, act];

            /// Performs a guest's HTTP request (`wasi:http/requests.http_request`)
            /// under the run's network policy, following allowed redirects.
            fn http_request(&mut self, req: &HttpRequest) -> HttpResult = [own, own, own];
        }
    };
}

/// Declares [`Host`] from the table of `host_methods!`.
macro_rules! declare_host {
    ($( $(#[$doc:meta])* fn $name:ident(&mut self $(, $arg:ident: $ty:ty)*) -> $ret:ty = [$($how:ident),*]; )*) => {
        /// Everything the WASI layer needs from the outside world.
        ///
        /// Paths are relative to a directory handle and are resolved by the host,
        /// which must never let them reach outside that directory's tree.
        pub trait Host {
            $( $(#[$doc])* fn $name(&mut self $(, $arg: $ty)*) -> $ret; )*

            /// Tells the host when the run must end, so calls that block (a read from
            /// stdin) give up at that moment instead of outliving the run's timeout.
            fn set_deadline(&mut self, deadline: Option<std::time::Instant>) {
                let _ = deadline;
            }

            /// Tells the host how much fuel the guest has used so far (called before
            /// time is read), so a deterministic host can advance its virtual clock.
            fn note_fuel(&mut self, consumed: u64) {
                let _ = consumed;
            }
        }
    };
}
host_methods!([declare_host]);

/// Writes a wrapping host's generic methods: for each row of `host_methods!`,
/// `$method!(how name(args) -> ret)` with `how` from the wrapper's column
/// (`deterministic`, `recording` or `replaying`). `$method!` must write
/// nothing for `own`.
macro_rules! wrapped_methods {
    ($column:ident, $method:ident) => {
        $crate::host::host_methods!([$crate::host::wrapped_methods] @pick $column $method;);
    };
    (@pick deterministic $method:ident; $( $(#[$doc:meta])* fn $name:ident(&mut self $(, $arg:ident: $ty:ty)*) -> $ret:ty = [$how:ident, $rec:ident, $rep:ident]; )*) => {
        $( $method!($how $name($($arg: $ty),*) -> $ret); )*
    };
    (@pick recording $method:ident; $( $(#[$doc:meta])* fn $name:ident(&mut self $(, $arg:ident: $ty:ty)*) -> $ret:ty = [$det:ident, $how:ident, $rep:ident]; )*) => {
        $( $method!($how $name($($arg: $ty),*) -> $ret); )*
    };
    (@pick replaying $method:ident; $( $(#[$doc:meta])* fn $name:ident(&mut self $(, $arg:ident: $ty:ty)*) -> $ret:ty = [$det:ident, $rec:ident, $how:ident]; )*) => {
        $( $method!($how $name($($arg: $ty),*) -> $ret); )*
    };
}
pub(crate) use {host_methods, wrapped_methods};
