//! The WASI context: arguments, environment, the fd table and the host.

use super::errno::{Errno, WasiResult};
use super::rights;
use crate::cancel::CancelToken;
use crate::host::{DirEntry, Filetype, Handle, Host};
use std::time::Instant;

/// One open file descriptor as the guest sees it.
pub struct FdEntry {
    /// The host object behind the descriptor.
    pub handle: Handle,
    /// What it is.
    pub filetype: Filetype,
    /// Rights of this descriptor (`fs_rights_base`).
    pub rights_base: u64,
    /// The rights it was opened with (what `fd_fdstat_set_rights` may since have dropped).
    pub rights_at_open: u64,
    /// Rights descriptors opened from this one may have (`fs_rights_inheriting`).
    pub rights_inheriting: u64,
    /// `fdflags` (append, nonblock, ...).
    pub flags: u16,
    /// For a preopened directory: the guest path it is mounted at.
    pub preopen: Option<String>,
    /// The listing `fd_readdir` serves cookies from; refreshed when a read starts at cookie 0.
    pub listing: Option<Vec<DirEntry>>,
}

impl FdEntry {
    /// Fails unless the descriptor holds every right in `needed`.
    ///
    /// A missing `path_*` right, or one dropped with `fd_fdstat_set_rights`, is
    /// `ENOTCAPABLE`, as the specification says. An `fd_*` right the descriptor
    /// never had (reading a file not opened for reading) is `EBADF`: what POSIX
    /// programs expect, what wasmtime answers and what the official
    /// wasi-testsuite checks (`path_open_read_without_rights`).
    pub fn require(&self, needed: u64) -> WasiResult<()> {
        let missing = needed & !self.rights_base;
        if missing == 0 {
            Ok(())
        } else if missing & (rights::PATH_RIGHTS | self.rights_at_open) != 0 {
            Err(Errno::Notcapable)
        } else {
            Err(Errno::Badf)
        }
    }
}

/// Everything a WASI guest can reach: its argv, environment and descriptors,
/// and the `Host` that answers for the outside world.
pub struct WasiCtx {
    /// argv, each entry NUL-terminated as `args_get` writes it.
    pub(crate) args: Vec<Vec<u8>>,
    /// `KEY=VALUE` entries, each NUL-terminated.
    pub(crate) env: Vec<Vec<u8>>,
    fds: Vec<Option<FdEntry>>,
    /// When the run must end (checked after calls that can block).
    deadline: Option<Instant>,
    /// Ends the run when cancelled, as the deadline does.
    cancel: Option<CancelToken>,
    /// The run's fuel budget, when fuel is metered (see [`WasiCtx::fuel_consumed`]).
    pub fuel_budget: Option<u64>,
    /// Fuel of the budget not yet handed to the store (the engine feeds fuel in slices).
    pub fuel_reserve: u64,
    /// The host boundary.
    pub host: Box<dyn Host + Send>,
}

impl WasiCtx {
    /// A context over `host` with stdin, stdout and stderr as fds 0, 1 and 2.
    pub fn new(mut host: Box<dyn Host + Send>) -> Self {
        let stdio = [Handle::STDIN, Handle::STDOUT, Handle::STDERR];
        let fds = stdio
            .iter()
            .map(|&handle| {
                let filetype = host.stat(handle).map_or(Filetype::Unknown, |s| s.filetype);
                // A terminal has no seek rights: that is how wasi-libc's isatty()
                // recognizes it. Anything else may be asked to seek (and says ESPIPE).
                let seek = if filetype == Filetype::CharacterDevice {
                    0
                } else {
                    rights::FD_SEEK | rights::FD_TELL
                };
                Some(FdEntry {
                    handle,
                    filetype,
                    rights_base: rights::STDIO | seek,
                    rights_at_open: rights::STDIO | seek,
                    rights_inheriting: 0,
                    flags: 0,
                    preopen: None,
                    listing: None,
                })
            })
            .collect();
        WasiCtx {
            args: Vec::new(),
            env: Vec::new(),
            fds,
            deadline: None,
            cancel: None,
            fuel_budget: None,
            fuel_reserve: 0,
            host,
        }
    }

    /// Sets when the run must end; blocking calls (sleeps, stdin) stop there.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
        self.host.set_deadline(deadline);
    }

    /// Fuel used so far, given the fuel left in the store (`None` when unmetered).
    pub fn fuel_consumed(&self, left_in_store: u64) -> Option<u64> {
        let budget = self.fuel_budget?;
        Some(budget.saturating_sub(self.fuel_reserve.saturating_add(left_in_store)))
    }

    /// Sets the token that ends the run the way its deadline does.
    pub fn set_cancel(&mut self, token: Option<CancelToken>) {
        self.cancel = token;
    }

    /// Whether the run's deadline has passed (or the run was cancelled: the
    /// engine tells the two apart by the token).
    pub fn deadline_passed(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
            || self.cancel.as_ref().is_some_and(CancelToken::is_cancelled)
    }

    /// Sets argv (`argv[0]` included).
    pub fn set_args<S: AsRef<str>>(&mut self, args: &[S]) {
        self.args = args.iter().map(|a| nul_terminated(a.as_ref())).collect();
    }

    /// Sets the environment from `(name, value)` pairs, in the order given.
    pub fn set_env<K: AsRef<str>, V: AsRef<str>>(&mut self, vars: &[(K, V)]) {
        self.env = vars
            .iter()
            .map(|(k, v)| nul_terminated(&format!("{}={}", k.as_ref(), v.as_ref())))
            .collect();
    }

    /// Makes the host directory `handle` visible to the guest at `guest_path`.
    /// `read_only` withholds every right that would modify it.
    pub fn preopen(&mut self, handle: Handle, guest_path: &str, read_only: bool) -> u32 {
        let mask = if read_only {
            rights::READ_ONLY_MASK
        } else {
            u64::MAX
        };
        self.insert(FdEntry {
            handle,
            filetype: Filetype::Directory,
            rights_base: rights::DIRECTORY_BASE & mask,
            rights_at_open: rights::DIRECTORY_BASE & mask,
            rights_inheriting: (rights::DIRECTORY_BASE | rights::FILE_BASE) & mask,
            flags: 0,
            preopen: Some(guest_path.to_string()),
            listing: None,
        })
    }

    /// Adds a descriptor at the lowest free number.
    pub fn insert(&mut self, entry: FdEntry) -> u32 {
        if let Some(free) = self.fds.iter().position(Option::is_none) {
            self.fds[free] = Some(entry);
            return free as u32;
        }
        self.fds.push(Some(entry));
        (self.fds.len() - 1) as u32
    }

    /// The descriptor `fd`, or `EBADF`.
    pub fn fd(&mut self, fd: u32) -> WasiResult<&mut FdEntry> {
        self.fds
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::Badf)
    }

    /// Removes descriptor `fd` from the table and returns it.
    pub fn remove(&mut self, fd: u32) -> WasiResult<FdEntry> {
        self.fds
            .get_mut(fd as usize)
            .and_then(Option::take)
            .ok_or(Errno::Badf)
    }

    /// Puts `entry` at number `fd`, returning what was there.
    pub fn replace(&mut self, fd: u32, entry: FdEntry) -> WasiResult<Option<FdEntry>> {
        let index = fd as usize;
        if index >= self.fds.len() {
            return Err(Errno::Badf);
        }
        Ok(self.fds[index].replace(entry))
    }
}

fn nul_terminated(s: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(s.len() + 1);
    bytes.extend_from_slice(s.as_bytes());
    bytes.push(0);
    bytes
}

/// Lets the WASI functions find the context inside a wasmi store's data.
pub trait WasiView {
    /// The guest's WASI context.
    fn wasi(&mut self) -> &mut WasiCtx;
}

impl WasiView for WasiCtx {
    fn wasi(&mut self) -> &mut WasiCtx {
        self
    }
}
