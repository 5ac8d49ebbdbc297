//! The real host: the operating system's clocks, randomness and files.
//!
//! Files and directories are reached only through cap-std handles opened
//! from the preopened directories, so `..`, absolute paths and symlinks can
//! never lead outside a preopen: cap-std resolves every path component by
//! component beneath the directory handle.

use super::mounts::{
    guest_components, lexical_join, lowest_depth, MountKind, MountPoint, MountTable, Resolved,
};
use super::quota::{DiskQuota, ENTRY_COST};
use super::{Clock, DirEntry, Filestat, Filetype, Handle, Host, OpenRequest, Opened, SetTime};
use crate::net::client::Client;
use crate::net::{HttpError, HttpRequest, HttpResult, Policy};
use crate::wasi::errno::{Errno, WasiResult};
use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsSyncExt, SystemTimeSpec,
};
use cap_std::fs::{Dir, File, Metadata, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The guest's standard streams, as the embedder provides them.
pub struct Stdio {
    /// What the guest reads as stdin.
    pub stdin: Box<dyn Read + Send>,
    /// Where the guest's stdout goes (brine buffers it; see [`Host::flush`]).
    pub stdout: Box<dyn Write + Send>,
    /// Where the guest's stderr goes.
    pub stderr: Box<dyn Write + Send>,
    /// Which of stdin, stdout and stderr are terminals (the guest's libc
    /// line-buffers a terminal and fully buffers anything else).
    pub terminals: [bool; 3],
}

impl Stdio {
    /// The process's own stdin, stdout and stderr.
    pub fn inherit() -> Self {
        use std::io::IsTerminal;
        Stdio {
            stdin: match direct_stdin() {
                Some(file) => Box::new(file),
                None => Box::new(io::stdin()),
            },
            // The guest's libc buffers already, so a plain file write per guest write is
            // all that is needed; std's own stdout would scan every write for a newline.
            stdout: match direct_stdout() {
                Some(file) => Box::new(io::BufWriter::with_capacity(64 * 1024, file)),
                None => Box::new(io::BufWriter::with_capacity(64 * 1024, io::stdout())),
            },
            stderr: Box::new(io::stderr()),
            terminals: [
                io::stdin().is_terminal(),
                io::stdout().is_terminal(),
                io::stderr().is_terminal(),
            ],
        }
    }
}

/// stdin as a plain file (a duplicate of its descriptor), bypassing std's lock and buffer.
#[cfg(unix)]
fn direct_stdin() -> Option<std::fs::File> {
    use std::os::fd::AsFd;
    let owned = io::stdin().as_fd().try_clone_to_owned().ok()?;
    Some(std::fs::File::from(owned))
}

/// stdout as a plain file (a duplicate of its descriptor), bypassing std's line buffering.
#[cfg(unix)]
fn direct_stdout() -> Option<std::fs::File> {
    use std::os::fd::AsFd;
    let owned = io::stdout().as_fd().try_clone_to_owned().ok()?;
    Some(std::fs::File::from(owned))
}

#[cfg(not(unix))]
fn direct_stdin() -> Option<std::fs::File> {
    None
}

#[cfg(not(unix))]
fn direct_stdout() -> Option<std::fs::File> {
    None
}

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

/// Chunks of stdin read ahead by a thread.
struct StdinPump {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    pending: Vec<u8>,
    offset: usize,
    /// The stream ended (the reader thread is gone).
    ended: bool,
    /// A read error seen while waiting, reported by the next read.
    error: Option<io::Error>,
}

impl StdinPump {
    /// Starts a thread that reads `input` in chunks (a couple of chunks ahead at most).
    fn start(mut input: Box<dyn Read + Send>) -> Self {
        let (sender, chunks) = mpsc::sync_channel(2);
        std::thread::spawn(move || loop {
            let mut chunk = vec![0u8; 64 * 1024];
            match input.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => {
                    chunk.truncate(n);
                    if sender.send(Ok(chunk)).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = sender.send(Err(e));
                    return;
                }
            }
        });
        StdinPump {
            chunks,
            pending: Vec::new(),
            offset: 0,
            ended: false,
            error: None,
        }
    }

    /// Whether a read would return at once, waiting up to `timeout` for data or the end.
    fn wait(&mut self, timeout: Option<Duration>) -> bool {
        if self.offset < self.pending.len() || self.ended {
            return true;
        }
        let received = match timeout {
            Some(t) => self.chunks.recv_timeout(t),
            None => self
                .chunks
                .recv()
                .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(Ok(chunk)) => {
                self.pending = chunk;
                self.offset = 0;
                true
            }
            Ok(Err(e)) => {
                self.error = Some(e);
                true
            }
            Err(mpsc::RecvTimeoutError::Timeout) => false,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                self.ended = true;
                true
            }
        }
    }

    /// Reads what is available, waiting no later than `deadline`; `EINTR` when it passes.
    fn read(&mut self, buf: &mut [u8], deadline: Option<Instant>) -> WasiResult<usize> {
        if let Some(e) = self.error.take() {
            return Err(e.into());
        }
        if self.offset == self.pending.len() && self.ended {
            return Ok(0);
        }
        if self.offset == self.pending.len() {
            let received = match deadline {
                Some(d) => self
                    .chunks
                    .recv_timeout(d.saturating_duration_since(Instant::now())),
                None => self
                    .chunks
                    .recv()
                    .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            };
            match received {
                Ok(Ok(chunk)) => {
                    self.pending = chunk;
                    self.offset = 0;
                }
                Ok(Err(e)) => return Err(e.into()),
                Err(mpsc::RecvTimeoutError::Timeout) => return Err(Errno::Intr),
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len() - self.offset);
        buf[..n].copy_from_slice(&self.pending[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

/// Where a host directory handle sits inside a mount, so `..` can climb out of it.
#[derive(Debug, Clone)]
struct MountLoc {
    mount: usize,
    rel: Vec<String>,
}

/// The host side of a mount: a directory, or a file named in its parent directory.
enum HostMount {
    Dir(Dir),
    File { parent: Dir, name: String },
}

/// What a mount shows the guest: a host file or directory at a guest path.
#[derive(Debug, Clone)]
pub struct MountSpec {
    /// The guest path (absolute, e.g. `/inputs`).
    pub guest: String,
    /// The host file or directory.
    pub host: std::path::PathBuf,
    /// Whether the guest may modify it.
    pub read_only: bool,
}

/// The directory a host-side operation starts from.
#[derive(Debug, Clone, Copy)]
enum Base {
    Handle(Handle),
    Mount(usize),
}

/// Where a (directory handle, path) pair leads.
enum Target {
    Host {
        base: Base,
        path: String,
        read_only: bool,
        loc: Option<MountLoc>,
        /// The path names a mount's root (which cannot be removed or renamed).
        mount_root: bool,
    },
    Virtual(Vec<String>),
    VirtualMissing,
}

/// A [`Host`] backed by the operating system.
pub struct RealHost {
    objects: Vec<Option<Object>>,
    started: Instant,
    deadline: Option<Instant>,
    mounts: MountTable,
    mount_dirs: Vec<HostMount>,
    terminals: [bool; 3],
    /// The guest's HTTP client (`None`: the run has no network).
    network: Option<Client>,
    /// The cap on what the guest writes (`None`: no cap).
    quota: Option<Arc<DiskQuota>>,
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
            network: None,
            quota: None,
        }
    }

    /// Caps how much the guest may grow the files of its writable mounts and
    /// preopens; the runner reads back from `quota` whether the cap was reached.
    pub fn set_disk_quota(&mut self, quota: Arc<DiskQuota>) {
        self.quota = Some(quota);
    }

    /// Lets the guest's HTTP requests out, under `policy`.
    pub fn set_network(&mut self, policy: Policy) {
        self.network = Some(Client::new(policy));
    }

    /// Builds the mount tree from `specs` and returns the handle of its root `/`
    /// (to be preopened as `/`). Host paths are opened with ambient authority here,
    /// once; the guest reaches them only through these handles.
    pub fn mount_tree(&mut self, specs: &[MountSpec]) -> io::Result<Handle> {
        for spec in specs {
            let meta = std::fs::metadata(&spec.host)?;
            let host = if meta.is_dir() {
                HostMount::Dir(Dir::open_ambient_dir(
                    &spec.host,
                    cap_std::ambient_authority(),
                )?)
            } else {
                let parent = spec.host.parent().filter(|p| !p.as_os_str().is_empty());
                let parent = parent.unwrap_or_else(|| Path::new("."));
                let name = spec
                    .host
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| {
                        io::Error::new(
                            io::ErrorKind::InvalidInput,
                            "a file mount needs a file name",
                        )
                    })?;
                HostMount::File {
                    parent: Dir::open_ambient_dir(parent, cap_std::ambient_authority())?,
                    name,
                }
            };
            let kind = if meta.is_dir() {
                MountKind::Dir
            } else {
                MountKind::File
            };
            self.mounts.points.push(MountPoint {
                guest: guest_components(&spec.guest),
                kind,
                read_only: spec.read_only,
            });
            self.mount_dirs.push(host);
        }
        let root = match (self.mounts.mount_covering(&[]), self.mount_dirs.first()) {
            (Some(m), _) => match &self.mount_dirs[m] {
                HostMount::Dir(dir) => Object::Dir {
                    dir: dir.try_clone()?,
                    loc: Some(MountLoc {
                        mount: m,
                        rel: Vec::new(),
                    }),
                    read_only: self.mounts.points[m].read_only,
                },
                HostMount::File { .. } => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "a file cannot be mounted at /",
                    ))
                }
            },
            _ => Object::Virtual(Vec::new()),
        };
        Ok(self.insert(root))
    }

    /// Moves stdin's reads to a helper thread (once), so they can be waited for.
    fn pump_stdin(&mut self) {
        let slot = self.objects.get_mut(Handle::STDIN.0 as usize);
        if let Some(slot @ Some(Object::Stdin(_))) = slot {
            if let Some(Object::Stdin(input)) = slot.take() {
                *slot = Some(Object::StdinPump(StdinPump::start(input)));
            }
        }
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

    /// The host directory an operation starts from.
    fn base_dir(&self, base: Base) -> WasiResult<&Dir> {
        match base {
            Base::Handle(handle) => {
                match self.objects.get(handle.0 as usize).and_then(Option::as_ref) {
                    Some(Object::Dir { dir, .. }) => Ok(dir),
                    Some(_) => Err(Errno::Notdir),
                    None => Err(Errno::Badf),
                }
            }
            Base::Mount(m) => match self.mount_dirs.get(m) {
                Some(HostMount::Dir(dir)) => Ok(dir),
                Some(HostMount::File { parent, .. }) => Ok(parent),
                None => Err(Errno::Badf),
            },
        }
    }

    /// Resolves `path` under directory handle `start` to where the operation happens.
    fn target(&self, start: Handle, path: &str) -> WasiResult<Target> {
        match self.objects.get(start.0 as usize).and_then(Option::as_ref) {
            None => Err(Errno::Badf),
            Some(Object::Dir { loc: None, .. }) => Ok(Target::Host {
                base: Base::Handle(start),
                path: path.to_string(),
                read_only: false,
                loc: None,
                mount_root: false,
            }),
            Some(Object::Dir { loc: Some(loc), .. }) => {
                if lowest_depth(path) >= -(loc.rel.len() as isize) && !path.starts_with('/') {
                    let read_only = self
                        .mounts
                        .points
                        .get(loc.mount)
                        .is_some_and(|p| p.read_only);
                    let rel = lexical_join(&loc.rel, path);
                    return Ok(Target::Host {
                        base: Base::Handle(start),
                        path: path.to_string(),
                        read_only,
                        mount_root: rel.is_empty(),
                        loc: Some(MountLoc {
                            mount: loc.mount,
                            rel,
                        }),
                    });
                }
                let mut abs = self
                    .mounts
                    .points
                    .get(loc.mount)
                    .map(|p| p.guest.clone())
                    .unwrap_or_default();
                abs.extend(loc.rel.iter().cloned());
                self.target_from_tree(&abs, path)
            }
            Some(Object::Virtual(abs)) => self.target_from_tree(abs, path),
            Some(_) => Err(Errno::Notdir),
        }
    }

    fn target_from_tree(&self, abs: &[String], path: &str) -> WasiResult<Target> {
        Ok(match self.mounts.resolve(abs, path)? {
            Resolved::Virtual(abs) => Target::Virtual(abs),
            Resolved::VirtualMissing => Target::VirtualMissing,
            Resolved::InMount { mount, below, rel } => {
                let read_only = self.mounts.points[mount].read_only;
                let path = match &self.mount_dirs[mount] {
                    HostMount::File { name, .. } => name.clone(),
                    HostMount::Dir(_) => below,
                };
                Target::Host {
                    base: Base::Mount(mount),
                    path,
                    read_only,
                    mount_root: rel.is_empty(),
                    loc: Some(MountLoc { mount, rel }),
                }
            }
        })
    }

    /// Resolves a path for an operation that modifies it: read-only mounts refuse,
    /// virtual directories cannot change, a mount root cannot be removed or renamed.
    fn writable_target(&self, start: Handle, path: &str) -> WasiResult<(Base, String)> {
        match self.target(start, path)? {
            Target::Host {
                read_only: true, ..
            } => Err(Errno::Rofs),
            Target::Host {
                mount_root: true,
                loc: Some(_),
                ..
            } => Err(Errno::Busy),
            Target::Host { base, path, .. } => Ok((base, path)),
            Target::Virtual(_) => Err(Errno::Busy),
            Target::VirtualMissing => Err(Errno::Rofs),
        }
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
        options.follow(follow(req.follow_symlinks));
        dir.open_with(path, &options)
    }

    /// What unlinking `path` frees: a regular file's size (every name counts
    /// its size) unless this was its last name and the guest still holds a
    /// descriptor to it (an open file keeps its data); a symlink's
    /// [`ENTRY_COST`]; nothing otherwise.
    fn bytes_freed_by_unlink(&self, base: &Dir, path: &str) -> u64 {
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

/// Attributes of a standard stream: a terminal is a character device; a pipe
/// or file behind a stream is of unknown type, as wasi-common reports it.
fn stream_filestat(terminal: bool) -> Filestat {
    Filestat {
        dev: 0,
        ino: 0,
        filetype: if terminal {
            Filetype::CharacterDevice
        } else {
            Filetype::Unknown
        },
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
        let Some(quota) = &self.quota else {
            return Ok(base.hard_link(from.1, &target, to)?);
        };
        // A new name is copied and hashed like a new file: it costs the file's size.
        let cost = base.symlink_metadata(&from.1).map_or(0, |m| {
            if m.is_file() {
                m.len()
            } else {
                ENTRY_COST
            }
        });
        quota.reserve(cost)?;
        base.hard_link(from.1, &target, to).map_err(|e| {
            quota.credit(cost);
            Errno::from(e)
        })
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

    fn http_request(&mut self, req: &HttpRequest) -> HttpResult {
        match &self.network {
            Some(client) => client.send(req, self.deadline),
            None => Err(HttpError::NotAllowed("this run has no network".to_string())),
        }
    }
}

impl RealHost {
    /// Which mount (if any) an operation's base belongs to, for cross-mount renames.
    fn mount_of(&self, base: Base, start: Handle) -> Option<usize> {
        match base {
            Base::Mount(m) => Some(m),
            Base::Handle(_) => match self.objects.get(start.0 as usize).and_then(Option::as_ref) {
                Some(Object::Dir { loc: Some(loc), .. }) => Some(loc.mount),
                _ => None,
            },
        }
    }

    /// Resolves both paths of a rename or link for modification: the source
    /// (base, path), the target directory and the target path. Both must lie in
    /// one mount (or one plain preopen): anything else is `EXDEV`.
    fn same_mount_pair(
        &self,
        from_dir: Handle,
        from: &str,
        to_dir: Handle,
        to: &str,
    ) -> WasiResult<((Base, String), Dir, String)> {
        let (from_base, from_path) = self.writable_target(from_dir, from)?;
        let (to_base, to_path) = self.writable_target(to_dir, to)?;
        if self.mount_of(from_base, from_dir) != self.mount_of(to_base, to_dir) {
            return Err(Errno::Xdev);
        }
        let target = self.base_dir(to_base)?.try_clone()?;
        Ok(((from_base, from_path), target, to_path))
    }

    /// `.`, `..` and the mounts and virtual directories directly inside `abs`.
    fn read_virtual_dir(&self, abs: &[String]) -> WasiResult<Vec<DirEntry>> {
        let mut parent = abs.to_vec();
        parent.pop();
        let mut entries = vec![
            dot_entry(b".", virtual_ino(abs)),
            dot_entry(b"..", virtual_ino(&parent)),
        ];
        for (name, kind) in self.mounts.virtual_children(abs) {
            let mut child = abs.to_vec();
            child.push(name.clone());
            let filetype = match kind {
                MountKind::Dir => Filetype::Directory,
                MountKind::File => Filetype::RegularFile,
            };
            entries.push(DirEntry {
                name: name.into_bytes(),
                ino: virtual_ino(&child),
                filetype,
            });
        }
        Ok(entries)
    }
}

/// Where an opened object sits: its place in the mount tree and whether that mount is read-only.
struct Place {
    loc: Option<MountLoc>,
    read_only: bool,
}

/// Opens `path` under host directory `base`; a directory becomes a directory handle.
/// Only regular files and directories are ever opened (see [`refuse_special`]).
/// `O_TRUNC` happens after that check, so the quota can credit what it frees.
fn open_host(
    base: &Dir,
    path: &str,
    req: OpenRequest,
    place: Place,
    quota: Option<&DiskQuota>,
) -> WasiResult<(Object, Filetype)> {
    let Place { loc, read_only } = place;
    if req.directory {
        if req.create {
            return Err(Errno::Inval);
        }
        if req.write || req.truncate || req.append {
            return Err(Errno::Isdir);
        }
        let dir = if req.follow_symlinks {
            base.open_dir(path)?
        } else {
            base.open_dir_nofollow(path)?
        };
        let object = Object::Dir {
            dir,
            loc,
            read_only,
        };
        return Ok((object, Filetype::Directory));
    }
    refuse_special(base, path, req.follow_symlinks)?;
    let file = RealHost::open_file(base, path, req)?;
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
fn write_counted(
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

/// A file's apparent size and its number of names (at least 1: an unlinked
/// file the guest still holds counts once).
fn size_and_links(file: &File) -> io::Result<(u64, u64)> {
    use cap_fs_ext::MetadataExt;
    let meta = file.metadata()?;
    Ok((meta.len(), meta.nlink().max(1)))
}

/// Creates a directory or symlink with `create`, counting [`ENTRY_COST`] against `quota`.
fn grow_by_entry(
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

/// Every entry of a host directory, `.` and `..` first.
fn read_host_dir(dir: &Dir) -> WasiResult<Vec<DirEntry>> {
    use cap_fs_ext::MetadataExt;
    let own_ino = dir.dir_metadata()?.ino();
    // The parent of a preopen is out of reach, so `..` reports the directory itself.
    let parent_ino = dir.symlink_metadata("..").map_or(own_ino, |m| m.ino());
    let mut entries = vec![dot_entry(b".", own_ino), dot_entry(b"..", parent_ino)];
    for entry in dir.entries()? {
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

/// A stable inode number for a virtual directory, derived from its guest path.
fn virtual_ino(abs: &[String]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    abs.hash(&mut hasher);
    hasher.finish() | (1 << 63)
}

/// Attributes of a virtual directory: a read-only directory with zero times.
fn virtual_filestat(abs: &[String]) -> Filestat {
    Filestat {
        dev: 0,
        ino: virtual_ino(abs),
        filetype: Filetype::Directory,
        nlink: 1,
        size: 0,
        atim: 0,
        mtim: 0,
        ctim: 0,
    }
}

fn system_time(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

fn time_spec(time: SetTime) -> Option<SystemTimeSpec> {
    match time {
        SetTime::Keep => None,
        SetTime::Now => Some(SystemTimeSpec::SymbolicNow),
        SetTime::At(nanos) => Some(SystemTimeSpec::Absolute(
            cap_std::time::SystemTime::from_std(system_time(nanos)),
        )),
    }
}

fn file_times(atim: SetTime, mtim: SetTime) -> std::fs::FileTimes {
    let resolve = |t: SetTime| match t {
        SetTime::Keep => None,
        SetTime::Now => Some(SystemTime::now()),
        SetTime::At(nanos) => Some(system_time(nanos)),
    };
    let mut times = std::fs::FileTimes::new();
    if let Some(a) = resolve(atim) {
        times = times.set_accessed(a);
    }
    if let Some(m) = resolve(mtim) {
        times = times.set_modified(m);
    }
    times
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

#[cfg(test)]
mod tests {
    use super::*;

    fn host_with(
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

    fn read_only_request() -> OpenRequest {
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

    /// Unlinking credits a file's size only when no descriptor still holds its data.
    #[test]
    fn unlinking_credits_only_files_nobody_holds_open() {
        let (ro, rw) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let quota = DiskQuota::new(100, "Resources.Disk");
        let (mut host, root) = host_with(ro.path(), rw.path(), Some(quota.clone()));
        let create = OpenRequest {
            create: true,
            write: true,
            ..OpenRequest::default()
        };
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
        let create = OpenRequest {
            create: true,
            write: true,
            ..OpenRequest::default()
        };
        let file = host.open_at(root, "out/a", create).unwrap().handle;
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
