//! Where import modules come from: names given on the command line, or
//! paths in a job's mount tree (as Bacalhau's loader resolves them).

use super::compiled::CompiledModules;
use super::link::ModuleResolver;
use super::{load, EngineError, Limits};
use cap_std::fs::{Dir, File};
use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmi::{Engine, Module};

/// Resolves the import modules named on the command line (`--import NAME=PATH`).
#[derive(Debug, Default)]
pub struct NamedModules {
    paths: HashMap<String, PathBuf>,
}

impl NamedModules {
    /// Registers the module file `path` under `name`.
    pub fn add(&mut self, name: &str, path: PathBuf) {
        self.paths.insert(name.to_string(), path);
    }
}

impl ModuleResolver for NamedModules {
    fn resolve(
        &mut self,
        engine: &Engine,
        name: &str,
    ) -> Result<Option<(String, Module)>, EngineError> {
        let Some(path) = self.paths.get(name) else {
            return Ok(None);
        };
        let module = load::load_file(engine, path)?;
        Ok(Some((path.display().to_string(), module)))
    }

    fn knows(&self, name: &str) -> bool {
        self.paths.contains_key(name)
    }

    fn unknown_hint(&self, name: &str) -> String {
        format!("no module named `{name}` was given (add --import {name}=PATH)")
    }
}

/// Resolves module names as guest paths in a job's mount tree: a file at that
/// path, or a directory holding exactly one `.wasm` file.
///
/// Paths resolve by the guest's own rules: each mount's host root is opened
/// once and everything below it through cap-std, so a symlink that leads out
/// of its mount (an absolute link in an archive, `../..`) is refused exactly as
/// the guest's `path_open` refuses it. A module is read once and its bytes are
/// kept until it is compiled, so a receipt hashes the very bytes that run.
#[derive(Debug, Default)]
pub struct MountedModules {
    /// (guest path components, host path) of every mount; `None` for an empty
    /// directory (a result path, before the run), which needs nothing on disk.
    mounts: Vec<(Vec<String>, Option<PathBuf>)>,
    /// Modules read but not yet compiled, by canonical name.
    read: HashMap<String, Arc<[u8]>>,
    /// Modules compiled before the run (by the checks), reused when unchanged.
    compiled: Option<Arc<CompiledModules>>,
}

impl MountedModules {
    /// Reuses `compiled` modules where the bytes read are the ones they were compiled from.
    pub fn reuse(&mut self, compiled: Arc<CompiledModules>) {
        self.compiled = Some(compiled);
    }

    /// Adds the mount of host `host` at guest path `guest`.
    pub fn add(&mut self, guest: &str, host: PathBuf) {
        self.mounts.push((guest_parts(guest), Some(host)));
    }

    /// Adds an empty directory at guest path `guest`, as a result path is
    /// before the run: nothing below it names a module.
    pub fn add_empty(&mut self, guest: &str) {
        self.mounts.push((guest_parts(guest), None));
    }

    /// The bytes of the module at guest path `name` (`Ok(None)`: nothing is
    /// mounted there). They are read once; compiling the module later uses
    /// these same bytes.
    pub fn read_module(&mut self, name: &str) -> Result<Option<Arc<[u8]>>, EngineError> {
        let key = self.canonical(name);
        if let Some(bytes) = self.read.get(&key) {
            return Ok(Some(bytes.clone()));
        }
        let Some((shown, mut file)) = self.open(name)? else {
            return Ok(None);
        };
        let bytes: Arc<[u8]> = file
            .metadata()
            .and_then(|meta| load::read_capped(&mut file, meta.len()))
            .map_err(|error| read_error(&shown, error))?
            .into();
        self.read.insert(key, bytes.clone());
        Ok(Some(bytes))
    }

    /// Opens the module file at guest path `name`: the guest path shown in
    /// messages and the open file, or `Ok(None)` when nothing is mounted there.
    fn open(&self, name: &str) -> Result<Option<(String, File)>, EngineError> {
        let parts = guest_parts(name);
        if parts.iter().any(|p| p == "..") {
            return Ok(None);
        }
        let Some((root, host)) = self
            .mounts
            .iter()
            .filter(|(guest, _)| parts.starts_with(guest))
            .max_by_key(|(guest, _)| guest.len())
        else {
            return Ok(None);
        };
        let shown = format!("/{}", parts.join("/"));
        let below = &parts[root.len()..];
        let Some(host) = host else {
            // An empty directory: the mount point itself holds no .wasm file.
            return match below.is_empty() {
                true => Err(not_one_wasm_file(&shown, 0)),
                false => Ok(None),
            };
        };
        let opened = open_in_mount(host, below).map_err(|error| read_error(&shown, error))?;
        match opened {
            None => Ok(None),
            Some(Opened::File(file)) => Ok(Some((shown, file))),
            Some(Opened::Dir(dir)) => {
                let (file_name, file) = single_wasm_in(&dir, &shown)?;
                Ok(Some((format!("{shown}/{file_name}"), file)))
            }
        }
    }
}

/// What a guest path names inside a mount.
enum Opened {
    File(File),
    Dir(Dir),
}

/// Opens `below` (guest path components) inside the mount whose host root is
/// `host`, following symlinks only where they stay inside the mount;
/// `Ok(None)` when it does not exist.
fn open_in_mount(host: &Path, below: &[String]) -> std::io::Result<Option<Opened>> {
    // The mount's root is the host path the job or brine's staging chose (trusted,
    // as RealHost::mount_tree trusts it); nothing below it is.
    let root_meta = match std::fs::metadata(host) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let authority = cap_std::ambient_authority();
    if !root_meta.is_dir() {
        // A file mount: the guest sees only that one file.
        if !below.is_empty() {
            return Ok(None);
        }
        let parent = host.parent().filter(|p| !p.as_os_str().is_empty());
        let parent = Dir::open_ambient_dir(parent.unwrap_or(Path::new(".")), authority)?;
        let Some(file_name) = host.file_name() else {
            return Ok(None);
        };
        return open_entry(&parent, Path::new(file_name));
    }
    let root = Dir::open_ambient_dir(host, authority)?;
    if below.is_empty() {
        return Ok(Some(Opened::Dir(root)));
    }
    open_entry(&root, &below.iter().collect::<PathBuf>())
}

/// Opens `path` under `dir` as a regular file or a directory. Anything else
/// (a FIFO, a device) is refused before it is opened, so no open can block.
fn open_entry(dir: &Dir, path: &Path) -> std::io::Result<Option<Opened>> {
    let meta = match dir.metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        return Ok(Some(Opened::Dir(dir.open_dir(path)?)));
    }
    if !meta.is_file() {
        return Err(not_a_module_file());
    }
    // Non-blocking: a FIFO swapped in since the lookup cannot hang the open.
    let mut options = cap_std::fs::OpenOptions::new();
    cap_fs_ext::OpenOptionsSyncExt::nonblock(options.read(true), true);
    let file = dir.open_with(path, &options)?;
    // The metadata above was looked up by path; this is the file actually opened.
    if !file.metadata()?.is_file() {
        return Err(not_a_module_file());
    }
    Ok(Some(Opened::File(file)))
}

fn not_a_module_file() -> std::io::Error {
    std::io::Error::new(
        ErrorKind::InvalidInput,
        "it is neither a regular file nor a directory",
    )
}

fn read_error(shown: &str, error: std::io::Error) -> EngineError {
    EngineError::Read {
        path: shown.to_string(),
        error: explain_escape(error),
    }
}

/// cap-std's "a path led outside of the filesystem", said in the guest's terms.
fn explain_escape(error: std::io::Error) -> std::io::Error {
    if error.kind() == ErrorKind::PermissionDenied
        && error.to_string() == "a path led outside of the filesystem"
    {
        return std::io::Error::new(
            ErrorKind::PermissionDenied,
            "it leads outside its mount (through a symlink or `..`), which the guest cannot \
             reach either",
        );
    }
    error
}

fn guest_parts(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(str::to_string)
        .collect()
}

/// The one `.wasm` file in `dir` (Bacalhau's rule for a module target that is a
/// directory), with its name. Entries are judged as the guest would see them
/// through the mount: a link out of the mount is an error, not a module.
fn single_wasm_in(dir: &Dir, shown: &str) -> Result<(String, File), EngineError> {
    let list_error = |error| read_error(shown, error);
    let mut found = Vec::new();
    for entry in dir.entries().map_err(list_error)? {
        let file_name = entry.map_err(list_error)?.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if !file_name.ends_with(".wasm") {
            continue;
        }
        let path = format!("{shown}/{file_name}");
        let meta = match dir.metadata(file_name) {
            Ok(meta) => meta,
            // A dangling link names no module.
            Err(error) if error.kind() == ErrorKind::NotFound => continue,
            Err(error) => return Err(read_error(&path, error)),
        };
        if meta.is_file() {
            found.push(file_name.to_string());
        }
    }
    if found.len() != 1 {
        return Err(not_one_wasm_file(shown, found.len()));
    }
    let file_name = found.remove(0);
    let path = format!("{shown}/{file_name}");
    match open_entry(dir, Path::new(&file_name)) {
        Ok(Some(Opened::File(file))) => Ok((file_name, file)),
        Ok(_) => Err(read_error(&path, not_a_module_file())),
        Err(error) => Err(read_error(&path, error)),
    }
}

/// A module target that is a directory must hold exactly one `.wasm` file.
fn not_one_wasm_file(shown: &str, found: usize) -> EngineError {
    EngineError::InvalidModule {
        module: shown.to_string(),
        message: format!("expected exactly one .wasm file in {shown}, found {found}"),
    }
}

impl ModuleResolver for MountedModules {
    fn canonical(&self, name: &str) -> String {
        format!("/{}", guest_parts(name).join("/"))
    }

    fn resolve(
        &mut self,
        engine: &Engine,
        name: &str,
    ) -> Result<Option<(String, Module)>, EngineError> {
        let Some(bytes) = self.read_module(name)? else {
            return Ok(None);
        };
        // Compiled once per run (the instantiator keeps the instance): the bytes can go.
        let canonical = self.canonical(name);
        self.read.remove(&canonical);
        let reused = self
            .compiled
            .as_ref()
            .and_then(|c| c.get(engine, &canonical, &bytes));
        let module = match reused {
            Some(module) => {
                tracing::debug!(
                    module = name,
                    "compiled by the checks before the run: reused"
                );
                module
            }
            None => load::compile_to_run(engine, &bytes, name)?,
        };
        Ok(Some((name.to_string(), module)))
    }

    fn knows(&self, name: &str) -> bool {
        self.read.contains_key(&self.canonical(name))
            || matches!(self.open(name), Ok(Some(_)) | Err(_))
    }

    fn unknown_hint(&self, name: &str) -> String {
        format!("nothing is mounted at `{name}` (add an input source with that target, or list it in ImportModules)")
    }

    fn engine_for(&self, limits: &Limits) -> Option<wasmi::Engine> {
        self.compiled.as_ref()?.engine_for(limits)
    }
}
