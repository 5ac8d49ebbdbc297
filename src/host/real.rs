//! The real host: the operating system's clocks, randomness and files.
//!
//! Files and directories are reached only through cap-std handles opened
//! from the preopened directories, so `..`, absolute paths and symlinks can
//! never lead outside a preopen: cap-std resolves every path component by
//! component beneath the directory handle.

use super::{Clock, DirEntry, Filestat, Filetype, Handle, Host, OpenRequest, Opened};
use crate::wasi::errno::{Errno, WasiResult};
use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, File, Metadata, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The guest's standard streams, as the embedder provides them.
pub struct Stdio {
    /// What the guest reads as stdin.
    pub stdin: Box<dyn Read + Send>,
    /// Where the guest's stdout goes (brine buffers it; see [`Host::flush`]).
    pub stdout: Box<dyn Write + Send>,
    /// Where the guest's stderr goes.
    pub stderr: Box<dyn Write + Send>,
}

impl Stdio {
    /// The process's own stdin, stdout and stderr.
    pub fn inherit() -> Self {
        Stdio {
            stdin: Box::new(io::stdin()),
            stdout: Box::new(io::BufWriter::with_capacity(64 * 1024, io::stdout())),
            stderr: Box::new(io::stderr()),
        }
    }
}

/// An object a [`Handle`] names.
enum Object {
    Stdin(Box<dyn Read + Send>),
    Output(Box<dyn Write + Send>),
    File { file: File, append: bool },
    Dir(Dir),
}

/// A [`Host`] backed by the operating system.
pub struct RealHost {
    objects: Vec<Option<Object>>,
    started: Instant,
    deadline: Option<Instant>,
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
        }
    }

    /// Stops sleeps at `deadline`, so a guest blocked in `poll_oneoff` cannot
    /// outlive the run's wall-clock timeout.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Opens the host directory `path` (with the process's ambient authority:
    /// this is the one place a host path is trusted) and returns its handle.
    pub fn open_host_dir(&mut self, path: &Path) -> io::Result<Handle> {
        let dir = Dir::open_ambient_dir(path, cap_std::ambient_authority())?;
        Ok(self.insert(Object::Dir(dir)))
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
            Object::Dir(_) => Err(Errno::Isdir),
            _ => Err(Errno::Spipe),
        }
    }

    fn dir(&mut self, handle: Handle) -> WasiResult<&Dir> {
        match self.object(handle)? {
            Object::Dir(dir) => Ok(dir),
            _ => Err(Errno::Notdir),
        }
    }

    fn open_file(dir: &Dir, path: &str, req: OpenRequest) -> io::Result<File> {
        let mut options = OpenOptions::new();
        // An open with neither right (for fstat, say) still needs an access mode.
        options
            .read(req.read || !req.write)
            .write(req.write && !req.append)
            .append(req.append)
            .truncate(req.truncate);
        if req.create && req.exclusive {
            options.create_new(true);
        } else if req.create {
            options.create(true);
        }
        options.follow(follow(req.follow_symlinks));
        dir.open_with(path, &options)
    }
}

fn follow(yes: bool) -> FollowSymlinks {
    if yes {
        FollowSymlinks::Yes
    } else {
        FollowSymlinks::No
    }
}

fn nanos_since_epoch(time: io::Result<cap_std::time::SystemTime>) -> u64 {
    time.ok()
        .and_then(|t| t.into_std().duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn filetype_of(ft: cap_std::fs::FileType) -> Filetype {
    #[cfg(unix)]
    {
        use cap_std::fs::FileTypeExt;
        if ft.is_block_device() {
            return Filetype::BlockDevice;
        }
        if ft.is_char_device() {
            return Filetype::CharacterDevice;
        }
        if ft.is_fifo() || ft.is_socket() {
            return Filetype::SocketStream;
        }
    }
    if ft.is_dir() {
        Filetype::Directory
    } else if ft.is_file() {
        Filetype::RegularFile
    } else if ft.is_symlink() {
        Filetype::SymbolicLink
    } else {
        Filetype::Unknown
    }
}

fn filestat_of(meta: &Metadata) -> Filestat {
    use cap_fs_ext::MetadataExt;
    let mtim = nanos_since_epoch(meta.modified());
    Filestat {
        dev: meta.dev(),
        ino: meta.ino(),
        filetype: filetype_of(meta.file_type()),
        nlink: meta.nlink(),
        size: meta.len(),
        atim: nanos_since_epoch(meta.accessed()),
        mtim,
        ctim: change_time(meta).unwrap_or(mtim),
    }
}

#[cfg(unix)]
fn change_time(meta: &Metadata) -> Option<u64> {
    use cap_std::fs::MetadataExt;
    let secs = u64::try_from(meta.ctime()).ok()?;
    let nanos = u64::try_from(meta.ctime_nsec()).ok()?;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

#[cfg(not(unix))]
fn change_time(_meta: &Metadata) -> Option<u64> {
    None
}

/// Attributes of a standard stream: a character device, as a terminal or pipe looks to WASI.
fn stream_filestat() -> Filestat {
    Filestat {
        dev: 0,
        ino: 0,
        filetype: Filetype::CharacterDevice,
        nlink: 1,
        size: 0,
        atim: 0,
        mtim: 0,
        ctim: 0,
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
        std::thread::sleep(wake);
        Ok(())
    }

    fn read(&mut self, handle: Handle, buf: &mut [u8]) -> WasiResult<usize> {
        if handle == Handle::STDIN {
            // A prompt written before reading must be visible to whoever answers it.
            self.flush()?;
        }
        match self.object(handle)? {
            Object::Stdin(input) => Ok(input.read(buf)?),
            Object::File { file, .. } => Ok(file.read(buf)?),
            Object::Dir(_) => Err(Errno::Isdir),
            Object::Output(_) => Err(Errno::Badf),
        }
    }

    fn pread(&mut self, handle: Handle, buf: &mut [u8], offset: u64) -> WasiResult<usize> {
        use cap_std::fs::FileExt;
        Ok(self.file(handle)?.read_at(buf, offset)?)
    }

    fn write(&mut self, handle: Handle, buf: &[u8]) -> WasiResult<usize> {
        match self.object(handle)? {
            Object::Output(out) => {
                out.write_all(buf)?;
                Ok(buf.len())
            }
            Object::File { file, .. } => Ok(file.write(buf)?),
            Object::Dir(_) => Err(Errno::Isdir),
            Object::Stdin(_) => Err(Errno::Badf),
        }
    }

    fn pwrite(&mut self, handle: Handle, buf: &[u8], offset: u64) -> WasiResult<usize> {
        use cap_std::fs::FileExt;
        if let Object::File { append: true, .. } = self.object(handle)? {
            // POSIX pwrite on an O_APPEND file appends on Linux; WASI asks for the offset.
            return Err(Errno::Notsup);
        }
        Ok(self.file(handle)?.write_at(buf, offset)?)
    }

    fn seek(&mut self, handle: Handle, pos: SeekFrom) -> WasiResult<u64> {
        match self.object(handle)? {
            Object::File { file, .. } => Ok(file.seek(pos)?),
            Object::Dir(_) => Err(Errno::Isdir),
            _ => Err(Errno::Spipe),
        }
    }

    fn stat(&mut self, handle: Handle) -> WasiResult<Filestat> {
        match self.object(handle)? {
            Object::File { file, .. } => Ok(filestat_of(&file.metadata()?)),
            Object::Dir(dir) => Ok(filestat_of(&dir.dir_metadata()?)),
            Object::Stdin(_) | Object::Output(_) => Ok(stream_filestat()),
        }
    }

    fn sync(&mut self, handle: Handle, data_only: bool) -> WasiResult<()> {
        match self.object(handle)? {
            Object::File { file, .. } if data_only => Ok(file.sync_data()?),
            Object::File { file, .. } => Ok(file.sync_all()?),
            Object::Dir(_) => Ok(()),
            Object::Output(out) => Ok(out.flush()?),
            Object::Stdin(_) => Err(Errno::Inval),
        }
    }

    fn set_size(&mut self, handle: Handle, size: u64) -> WasiResult<()> {
        Ok(self.file(handle)?.set_len(size)?)
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
        let base = self.dir(dir)?;
        let object = if req.directory {
            if req.create || req.write || req.truncate {
                return Err(Errno::Inval);
            }
            let opened = if req.follow_symlinks {
                base.open_dir(path)?
            } else {
                base.open_dir_nofollow(path)?
            };
            Object::Dir(opened)
        } else {
            let file = Self::open_file(base, path, req)?;
            if file.metadata()?.is_dir() {
                Object::Dir(Dir::from_std_file(file.into_std()))
            } else {
                Object::File {
                    file,
                    append: req.append,
                }
            }
        };
        let filetype = match &object {
            Object::Dir(_) => Filetype::Directory,
            Object::File { file, .. } => filetype_of(file.metadata()?.file_type()),
            _ => Filetype::Unknown,
        };
        let handle = self.insert(object);
        Ok(Opened { handle, filetype })
    }

    fn stat_at(&mut self, dir: Handle, path: &str, follow: bool) -> WasiResult<Filestat> {
        let base = self.dir(dir)?;
        let meta = if follow {
            base.metadata(path)?
        } else {
            base.symlink_metadata(path)?
        };
        Ok(filestat_of(&meta))
    }

    fn read_dir(&mut self, dir: Handle) -> WasiResult<Vec<DirEntry>> {
        use cap_fs_ext::MetadataExt;
        let base = self.dir(dir)?;
        let own_ino = base.dir_metadata()?.ino();
        // The parent of a preopen is out of reach, so `..` reports the directory itself.
        let parent_ino = base.symlink_metadata("..").map_or(own_ino, |m| m.ino());
        let mut entries = vec![dot_entry(b".", own_ino), dot_entry(b"..", parent_ino)];
        for entry in base.entries()? {
            let entry = entry?;
            let meta = entry.metadata()?;
            entries.push(DirEntry {
                name: os_bytes(&entry.file_name()),
                ino: meta.ino(),
                filetype: filetype_of(meta.file_type()),
            });
        }
        Ok(entries)
    }

    fn create_dir_at(&mut self, dir: Handle, path: &str) -> WasiResult<()> {
        Ok(self.dir(dir)?.create_dir(path)?)
    }

    fn remove_dir_at(&mut self, dir: Handle, path: &str) -> WasiResult<()> {
        Ok(self.dir(dir)?.remove_dir(path)?)
    }

    fn unlink_at(&mut self, dir: Handle, path: &str) -> WasiResult<()> {
        Ok(self.dir(dir)?.remove_file_or_symlink(path)?)
    }

    fn rename_at(
        &mut self,
        from_dir: Handle,
        from: &str,
        to_dir: Handle,
        to: &str,
    ) -> WasiResult<()> {
        let target = self.dir(to_dir)?.try_clone()?;
        Ok(self.dir(from_dir)?.rename(from, &target, to)?)
    }

    fn read_link_at(&mut self, dir: Handle, path: &str) -> WasiResult<Vec<u8>> {
        let target = self.dir(dir)?.read_link_contents(path)?;
        Ok(os_bytes(target.as_os_str()))
    }

    fn flush(&mut self) -> WasiResult<()> {
        for object in self.objects.iter_mut().take(3).flatten() {
            if let Object::Output(out) = object {
                out.flush()?;
            }
        }
        Ok(())
    }
}

fn dot_entry(name: &[u8], ino: u64) -> DirEntry {
    DirEntry {
        name: name.to_vec(),
        ino,
        filetype: Filetype::Directory,
    }
}

#[cfg(unix)]
fn os_bytes(name: &std::ffi::OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    name.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(name: &std::ffi::OsStr) -> Vec<u8> {
    name.to_string_lossy().into_owned().into_bytes()
}
