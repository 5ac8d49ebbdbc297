//! The real host: the operating system's clocks, randomness and files.
//!
//! Files and directories are reached only through cap-std handles opened
//! from the preopened directories, so `..`, absolute paths and symlinks can
//! never lead outside a preopen: cap-std resolves every path component by
//! component beneath the directory handle.
//!
//! This file holds [`RealHost`] and its [`Host`] impl; the pieces it delegates
//! to live beside it: `stdio` (standard streams and the stdin pump), `tree`
//! (resolving guest paths through the mount tree), `files` (opening host files
//! and changing them under the disk quota) and `stat` (metadata conversion).

mod files;
mod stat;
mod stdio;
mod tree;

pub use stdio::Stdio;
pub use tree::MountSpec;

use self::files::{grow_by_entry, link_counted, open_host, resize_counted, write_counted, Place};
use self::stat::{file_times, filestat_of, os_bytes, read_host_dir, time_spec};
use self::stdio::{stream_filestat, StdinPump};
use self::tree::{virtual_filestat, HostMount, MountLoc, Target};
use super::mounts::MountTable;
use super::quota::{DiskQuota, ENTRY_COST};
use super::{Clock, DirEntry, Filestat, Filetype, Handle, Host, OpenRequest, Opened, SetTime};
use crate::cancel::CancelToken;
use crate::host::abi::{Errno, WasiResult};
#[cfg(feature = "http")]
use crate::host::net::client::Client;
use crate::host::net::{HttpError, HttpRequest, HttpResult, Policy};
use cap_fs_ext::DirExt;
use cap_std::fs::{Dir, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// An object a [`Handle`] names.
enum Object {
    Stdin(Box<dyn Read + Send>),
    /// stdin read by a helper thread, so a read can give up at the deadline.
    StdinPump(StdinPump),
    Output(Box<dyn Write + Send>),
    File {
        file: File,
        append: bool,
        /// It lies in a read-only mount: its data and metadata never change.
        read_only: bool,
    },
    /// A host directory; `loc` places it in the mount tree (None: a plain preopen).
    Dir {
        dir: Dir,
        loc: Option<MountLoc>,
        /// It lies in a read-only mount: its metadata never changes.
        read_only: bool,
    },
    /// A synthesized directory of the mount tree (guest path components).
    Virtual(Vec<String>),
}

/// A `Host` backed by the operating system.
pub struct RealHost {
    objects: Vec<Option<Object>>,
    started: Instant,
    deadline: Option<Instant>,
    mounts: MountTable,
    mount_dirs: Vec<HostMount>,
    terminals: [bool; 3],
    /// The guest's HTTP client (`None`: the run has no network).
    #[cfg(feature = "http")]
    network: Option<Client>,
    /// The cap on what the guest writes (`None`: no cap).
    quota: Option<Arc<DiskQuota>>,
    /// Wakes the guest's sleeps when the run is cancelled.
    cancel: Option<CancelToken>,
}
impl RealHost {
    /// A host whose handles 0, 1 and 2 are the given standard streams.
    pub fn new(stdio: Stdio) -> Self {
        RealHost {
            objects: vec![
                Some(Object::Stdin(stdio.stdin)),
                Some(Object::Output(stdio.stdout)),
                Some(Object::Output(stdio.stderr)),
            ],
            started: Instant::now(),
            deadline: None,
            mounts: MountTable::default(),
            mount_dirs: Vec::new(),
            terminals: stdio.terminals,
            #[cfg(feature = "http")]
            network: None,
            quota: None,
            cancel: None,
        }
    }

    /// Cuts the guest's sleeps short when `token` is cancelled (the engine
    /// then stops the run, as it does at the deadline).
    pub fn set_cancel(&mut self, token: Option<CancelToken>) {
        self.cancel = token;
    }

    /// Caps how much the guest may grow the files of its writable mounts and
    /// preopens; the runner reads back from `quota` whether the cap was reached.
    pub fn set_disk_quota(&mut self, quota: Arc<DiskQuota>) {
        self.quota = Some(quota);
    }

    /// Lets the guest's HTTP requests out, under `policy`.
    #[cfg(feature = "http")]
    pub fn set_network(&mut self, policy: Policy) {
        self.network = Some(Client::new(policy));
    }

    /// This build has no HTTP client (no `http` feature): the policy is not
    /// used and every request is refused. Only a replayed run gets this far
    /// with a network, and its answers come from its journal.
    #[cfg(not(feature = "http"))]
    pub fn set_network(&mut self, policy: Policy) {
        drop(policy);
    }

    /// Opens the host directory `path` (with the process's ambient authority:
    /// this is the one place a host path is trusted) and returns its handle.
    pub fn open_host_dir(&mut self, path: &Path) -> io::Result<Handle> {
        let dir = Dir::open_ambient_dir(path, cap_std::ambient_authority())?;
        Ok(self.insert(Object::Dir {
            dir,
            loc: None,
            read_only: false,
        }))
    }

    fn insert(&mut self, object: Object) -> Handle {
        if let Some(free) = self.objects.iter().position(Option::is_none) {
            self.objects[free] = Some(object);
            return Handle(free as u32);
        }
        self.objects.push(Some(object));
        Handle((self.objects.len() - 1) as u32)
    }

    fn object(&mut self, handle: Handle) -> WasiResult<&mut Object> {
        self.objects
            .get_mut(handle.0 as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::Badf)
    }

    fn file(&mut self, handle: Handle) -> WasiResult<&mut File> {
        match self.object(handle)? {
            Object::File { file, .. } => Ok(file),
            Object::Dir { .. } | Object::Virtual(_) => Err(Errno::Isdir),
            _ => Err(Errno::Spipe),
        }
    }

    /// A file whose data or metadata is about to change: `EROFS` in a read-only
    /// mount, whatever the descriptor's rights or the host file's permissions say.
    fn file_to_change(&mut self, handle: Handle) -> WasiResult<&mut File> {
        match self.object(handle)? {
            Object::File {
                read_only: true, ..
            } => Err(Errno::Rofs),
            Object::File { file, .. } => Ok(file),
            Object::Dir { .. } | Object::Virtual(_) => Err(Errno::Isdir),
            _ => Err(Errno::Spipe),
        }
    }
}

impl Host for RealHost {
    fn clock_time(&mut self, clock: Clock, _precision: u64) -> WasiResult<u64> {
        match clock {
            Clock::Realtime => Ok(SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))),
            // The interpreter runs on one thread, so elapsed time is the best
            // portable measure of its CPU time, as it is for the monotonic clock.
            Clock::Monotonic | Clock::ProcessCputime | Clock::ThreadCputime => {
                Ok(u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX))
            }
        }
    }

    fn clock_res(&mut self, clock: Clock) -> WasiResult<u64> {
        match clock {
            Clock::Realtime | Clock::Monotonic => Ok(1),
            Clock::ProcessCputime | Clock::ThreadCputime => Ok(1_000),
        }
    }

    fn random_fill(&mut self, buf: &mut [u8]) -> WasiResult<()> {
        getrandom::fill(buf).map_err(|_| Errno::Io)
    }

    fn sleep(&mut self, nanos: u64) -> WasiResult<()> {
        let mut wake = Duration::from_nanos(nanos);
        if let Some(deadline) = self.deadline {
            wake = wake.min(deadline.saturating_duration_since(Instant::now()));
        }
        match &self.cancel {
            Some(token) => {
                token.sleep(wake);
            }
            None => std::thread::sleep(wake),
        }
        Ok(())
    }

    fn wait_readable(&mut self, handle: Handle, timeout_ns: Option<u64>) -> WasiResult<bool> {
        if handle == Handle::STDIN {
            // Only a read on another thread can be waited for with a timeout.
            self.pump_stdin();
        }
        // Like sleeps and stdin reads, a wait never outlives the run's deadline.
        let mut timeout = timeout_ns.map(Duration::from_nanos);
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            timeout = Some(timeout.map_or(left, |t| t.min(left)));
        }
        match self.object(handle)? {
            Object::StdinPump(pump) => Ok(pump.wait(timeout)),
            _ => Ok(true),
        }
    }

    fn read(&mut self, handle: Handle, buf: &mut [u8]) -> WasiResult<usize> {
        if handle == Handle::STDIN {
            // A prompt written before reading must be visible to whoever answers it.
            self.flush()?;
        }
        let deadline = self.deadline;
        match self.object(handle)? {
            Object::Stdin(input) => Ok(input.read(buf)?),
            Object::StdinPump(pump) => pump.read(buf, deadline),
            Object::File { file, .. } => Ok(file.read(buf)?),
            Object::Dir { .. } | Object::Virtual(_) => Err(Errno::Isdir),
            Object::Output(_) => Err(Errno::Badf),
        }
    }

    fn pread(&mut self, handle: Handle, buf: &mut [u8], offset: u64) -> WasiResult<usize> {
        use cap_std::fs::FileExt;
        Ok(self.file(handle)?.read_at(buf, offset)?)
    }

    fn write(&mut self, handle: Handle, buf: &[u8]) -> WasiResult<usize> {
        let quota = self.quota.clone();
        match self.object(handle)? {
            Object::Output(out) => {
                out.write_all(buf)?;
                Ok(buf.len())
            }
            Object::File {
                read_only: true, ..
            } => Err(Errno::Rofs),
            Object::File { file, append, .. } => {
                let position = if *append {
                    file.seek(SeekFrom::End(0))?
                } else if quota.is_some() {
                    file.stream_position()?
                } else {
                    0
                };
                write_counted(quota.as_deref(), file, position, buf, |f, b| f.write(b))
            }
            Object::Dir { .. } | Object::Virtual(_) => Err(Errno::Isdir),
            Object::Stdin(_) | Object::StdinPump(_) => Err(Errno::Badf),
        }
    }

    fn set_append(&mut self, handle: Handle, on: bool) -> WasiResult<()> {
        match self.object(handle)? {
            Object::File { append, .. } => {
                *append = on;
                Ok(())
            }
            Object::Dir { .. } | Object::Virtual(_) => Err(Errno::Isdir),
            // Standard streams always write at their end.
            _ => Ok(()),
        }
    }

    fn pwrite(&mut self, handle: Handle, buf: &[u8], offset: u64) -> WasiResult<usize> {
        use cap_std::fs::FileExt;
        // pwrite writes at the offset it is given, append mode or not.
        let quota = self.quota.clone();
        let file = self.file_to_change(handle)?;
        write_counted(quota.as_deref(), file, offset, buf, |f, b| {
            f.write_at(b, offset)
        })
    }

    fn seek(&mut self, handle: Handle, pos: SeekFrom) -> WasiResult<u64> {
        match self.object(handle)? {
            Object::File { file, .. } => Ok(file.seek(pos)?),
            Object::Dir { .. } | Object::Virtual(_) => Err(Errno::Isdir),
            _ => Err(Errno::Spipe),
        }
    }

    fn stat(&mut self, handle: Handle) -> WasiResult<Filestat> {
        match self.object(handle)? {
            Object::File { file, .. } => Ok(filestat_of(&file.metadata()?)),
            Object::Dir { dir, .. } => Ok(filestat_of(&dir.dir_metadata()?)),
            Object::Virtual(abs) => Ok(virtual_filestat(abs)),
            Object::Stdin(_) | Object::StdinPump(_) | Object::Output(_) => {
                let terminal = self
                    .terminals
                    .get(handle.0 as usize)
                    .copied()
                    .unwrap_or(false);
                Ok(stream_filestat(terminal))
            }
        }
    }

    fn sync(&mut self, handle: Handle, data_only: bool) -> WasiResult<()> {
        match self.object(handle)? {
            Object::File { file, .. } if data_only => Ok(file.sync_data()?),
            Object::File { file, .. } => Ok(file.sync_all()?),
            Object::Dir { .. } | Object::Virtual(_) => Ok(()),
            Object::Output(out) => Ok(out.flush()?),
            Object::Stdin(_) | Object::StdinPump(_) => Err(Errno::Inval),
        }
    }

    fn set_size(&mut self, handle: Handle, size: u64) -> WasiResult<()> {
        let quota = self.quota.clone();
        let file = self.file_to_change(handle)?;
        resize_counted(quota.as_deref(), file, size)
    }

    fn close(&mut self, handle: Handle) -> WasiResult<()> {
        let slot = self.objects.get_mut(handle.0 as usize).ok_or(Errno::Badf)?;
        match slot.take() {
            Some(Object::Output(mut out)) => out.flush().map_err(Errno::from),
            Some(_) => Ok(()),
            None => Err(Errno::Badf),
        }
    }

    fn open_at(&mut self, dir: Handle, path: &str, req: OpenRequest) -> WasiResult<Opened> {
        let modifies = req.write || req.create || req.truncate || req.append;
        let (object, filetype) = match self.target(dir, path)? {
            Target::Virtual(abs) => {
                if req.create && req.exclusive {
                    return Err(Errno::Exist);
                }
                if modifies {
                    return Err(Errno::Isdir);
                }
                (Object::Virtual(abs), Filetype::Directory)
            }
            Target::VirtualMissing if req.create => return Err(Errno::Rofs),
            Target::VirtualMissing => return Err(Errno::Noent),
            Target::Host {
                read_only: true, ..
            } if modifies => return Err(Errno::Rofs),
            Target::Host {
                base,
                path,
                loc,
                read_only,
                ..
            } => {
                let quota = self.quota.clone();
                let base = self.base_dir(base)?;
                let place = Place { loc, read_only };
                open_host(base, &path, req, place, quota.as_deref())?
            }
        };
        let handle = self.insert(object);
        Ok(Opened { handle, filetype })
    }

    fn stat_at(&mut self, dir: Handle, path: &str, follow: bool) -> WasiResult<Filestat> {
        let (base, path) = match self.target(dir, path)? {
            Target::Virtual(abs) => return Ok(virtual_filestat(&abs)),
            Target::VirtualMissing => return Err(Errno::Noent),
            Target::Host { base, path, .. } => (base, path),
        };
        let base = self.base_dir(base)?;
        let meta = if follow {
            base.metadata(&path)?
        } else {
            base.symlink_metadata(&path)?
        };
        Ok(filestat_of(&meta))
    }

    fn read_dir(&mut self, dir: Handle) -> WasiResult<Vec<DirEntry>> {
        match self.object(dir)? {
            Object::Dir { dir, .. } => read_host_dir(dir),
            Object::Virtual(abs) => {
                let abs = abs.clone();
                self.read_virtual_dir(&abs)
            }
            _ => Err(Errno::Notdir),
        }
    }

    fn create_dir_at(&mut self, dir: Handle, path: &str) -> WasiResult<()> {
        match self.target(dir, path)? {
            Target::Virtual(_) => Err(Errno::Exist),
            Target::Host {
                mount_root: true,
                loc: Some(_),
                ..
            } => Err(Errno::Exist),
            _ => {
                let (base, path) = self.writable_target(dir, path)?;
                let base = self.base_dir(base)?;
                grow_by_entry(self.quota.as_deref(), || base.create_dir(path))
            }
        }
    }

    fn remove_dir_at(&mut self, dir: Handle, path: &str) -> WasiResult<()> {
        let (base, path) = self.writable_target(dir, path)?;
        self.base_dir(base)?.remove_dir(path)?;
        if let Some(quota) = &self.quota {
            quota.credit(ENTRY_COST);
        }
        Ok(())
    }

    fn unlink_at(&mut self, dir: Handle, path: &str) -> WasiResult<()> {
        if let Target::Virtual(_) = self.target(dir, path)? {
            return Err(Errno::Isdir);
        }
        let (base, path) = self.writable_target(dir, path)?;
        let freed = match &self.quota {
            Some(_) => self.bytes_freed_by_unlink(self.base_dir(base)?, &path),
            None => 0,
        };
        self.base_dir(base)?.remove_file_or_symlink(path)?;
        if let Some(quota) = &self.quota {
            quota.credit(freed);
        }
        Ok(())
    }

    fn rename_at(
        &mut self,
        from_dir: Handle,
        from: &str,
        to_dir: Handle,
        to: &str,
    ) -> WasiResult<()> {
        let (from, target, to) = self.same_mount_pair(from_dir, from, to_dir, to)?;
        Ok(self.base_dir(from.0)?.rename(from.1, &target, to)?)
    }

    fn read_link_at(&mut self, dir: Handle, path: &str) -> WasiResult<Vec<u8>> {
        let (base, path) = match self.target(dir, path)? {
            Target::Virtual(_) => return Err(Errno::Inval),
            Target::VirtualMissing => return Err(Errno::Noent),
            Target::Host { base, path, .. } => (base, path),
        };
        let target = self.base_dir(base)?.read_link_contents(path)?;
        Ok(os_bytes(target.as_os_str()))
    }

    fn set_times(&mut self, handle: Handle, atim: SetTime, mtim: SetTime) -> WasiResult<()> {
        match self.object(handle)? {
            // A descriptor opened read-only may still change times on the host
            // (futimens needs ownership, not write access): the mount decides.
            Object::File {
                read_only: true, ..
            }
            | Object::Dir {
                read_only: true, ..
            } => Err(Errno::Rofs),
            Object::File { file, .. } => {
                let std_file = file.try_clone()?.into_std();
                Ok(std_file.set_times(file_times(atim, mtim))?)
            }
            Object::Dir { dir, .. } => Ok(dir.set_times(".", time_spec(atim), time_spec(mtim))?),
            Object::Virtual(_) => Err(Errno::Rofs),
            Object::Stdin(_) | Object::StdinPump(_) | Object::Output(_) => Err(Errno::Badf),
        }
    }

    fn set_times_at(
        &mut self,
        dir: Handle,
        path: &str,
        follow: bool,
        atim: SetTime,
        mtim: SetTime,
    ) -> WasiResult<()> {
        let (base, path) = match self.target(dir, path)? {
            Target::Host {
                read_only: true, ..
            } => return Err(Errno::Rofs),
            Target::Host { base, path, .. } => (base, path),
            Target::Virtual(_) => return Err(Errno::Rofs),
            Target::VirtualMissing => return Err(Errno::Noent),
        };
        let base = self.base_dir(base)?;
        if follow {
            Ok(base.set_times(path, time_spec(atim), time_spec(mtim))?)
        } else {
            Ok(base.set_symlink_times(path, time_spec(atim), time_spec(mtim))?)
        }
    }

    fn symlink_at(&mut self, target: &str, dir: Handle, path: &str) -> WasiResult<()> {
        let (base, path) = self.writable_target(dir, path)?;
        let base = self.base_dir(base)?;
        grow_by_entry(self.quota.as_deref(), || base.symlink(target, path))
    }

    fn link_at(
        &mut self,
        from_dir: Handle,
        from: &str,
        to_dir: Handle,
        to: &str,
    ) -> WasiResult<()> {
        let (from, target, to) = self.same_mount_pair(from_dir, from, to_dir, to)?;
        let base = self.base_dir(from.0)?;
        link_counted(self.quota.as_deref(), base, &from.1, &target, &to)
    }

    fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
        if deadline.is_some() {
            // Only a read on another thread can be abandoned at the deadline.
            self.pump_stdin();
        }
    }

    fn flush(&mut self) -> WasiResult<()> {
        for object in self.objects.iter_mut().take(3).flatten() {
            if let Object::Output(out) = object {
                out.flush()?;
            }
        }
        Ok(())
    }

    #[cfg(feature = "http")]
    fn http_request(&mut self, req: &HttpRequest) -> HttpResult {
        match &self.network {
            Some(client) => client.send(req, self.deadline),
            None => Err(HttpError::NotAllowed("this run has no network".to_string())),
        }
    }

    /// Never reached in a run (the checks refuse a module importing
    /// `wasi:http/requests` in this build), but a host must answer.
    #[cfg(not(feature = "http"))]
    fn http_request(&mut self, _req: &HttpRequest) -> HttpResult {
        Err(HttpError::NotAllowed(format!(
            "guest networking {}",
            crate::features::missing("http")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn host_with(
        read_only: &Path,
        writable: &Path,
        quota: Option<Arc<DiskQuota>>,
    ) -> (RealHost, Handle) {
        let mut host = RealHost::new(Stdio {
            stdin: Box::new(io::empty()),
            stdout: Box::new(io::sink()),
            stderr: Box::new(io::sink()),
            terminals: [false; 3],
        });
        if let Some(quota) = quota {
            host.set_disk_quota(quota);
        }
        let spec = |guest: &str, host: &Path, read_only| MountSpec {
            guest: guest.to_string(),
            host: host.to_path_buf(),
            read_only,
        };
        let root = host
            .mount_tree(&[spec("/in", read_only, true), spec("/out", writable, false)])
            .unwrap();
        (host, root)
    }

    pub(super) fn read_only_request() -> OpenRequest {
        OpenRequest {
            read: true,
            ..OpenRequest::default()
        }
    }

    /// Whatever a descriptor's rights, nothing changes a file or directory of a read-only mount.
    #[test]
    fn every_change_through_a_read_only_mount_handle_is_erofs() {
        let (ro, rw) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(ro.path().join("f"), "data").unwrap();
        let (mut host, root) = host_with(ro.path(), rw.path(), None);
        let file = host
            .open_at(root, "in/f", read_only_request())
            .unwrap()
            .handle;
        assert_eq!(
            host.set_times(file, SetTime::At(0), SetTime::At(0)),
            Err(Errno::Rofs)
        );
        assert_eq!(host.set_size(file, 0), Err(Errno::Rofs));
        assert_eq!(host.pwrite(file, b"x", 0), Err(Errno::Rofs));
        assert_eq!(host.write(file, b"x"), Err(Errno::Rofs));
        let dir = host
            .open_at(root, "in", read_only_request())
            .unwrap()
            .handle;
        assert_eq!(
            host.set_times(dir, SetTime::Now, SetTime::Now),
            Err(Errno::Rofs)
        );
        assert_eq!(std::fs::read(ro.path().join("f")).unwrap(), b"data");
        // The same file in a writable mount may change its times.
        std::fs::write(rw.path().join("f"), "data").unwrap();
        let file = host
            .open_at(root, "out/f", read_only_request())
            .unwrap()
            .handle;
        assert_eq!(host.set_times(file, SetTime::At(0), SetTime::At(0)), Ok(()));
    }
}
