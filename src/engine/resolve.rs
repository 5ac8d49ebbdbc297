//! Where import modules come from: names given on the command line, or
//! paths in a job's mount tree (as Bacalhau's loader resolves them).

use super::link::ModuleResolver;
use super::{load, EngineError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
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
#[derive(Debug, Default)]
pub struct MountedModules {
    /// (guest path components, host path) of every mount.
    mounts: Vec<(Vec<String>, PathBuf)>,
}

impl MountedModules {
    /// Adds the mount of host `host` at guest path `guest`.
    pub fn add(&mut self, guest: &str, host: PathBuf) {
        self.mounts.push((guest_parts(guest), host));
    }

    /// The host file behind guest path `name`, if it names a module.
    pub fn locate(&self, name: &str) -> Result<Option<PathBuf>, EngineError> {
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
        let path = parts[root.len()..]
            .iter()
            .fold(host.clone(), |p, c| p.join(c));
        if path.is_dir() {
            return single_wasm_in(&path, name).map(Some);
        }
        Ok(path.is_file().then_some(path))
    }
}

fn guest_parts(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(str::to_string)
        .collect()
}

/// The one `.wasm` file in `dir` (Bacalhau's rule for a module target that is a directory).
fn single_wasm_in(dir: &Path, name: &str) -> Result<PathBuf, EngineError> {
    let read_error = |error| EngineError::Read {
        path: dir.display().to_string(),
        error,
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "wasm") {
            found.push(path);
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        n => Err(EngineError::InvalidModule {
            module: name.to_string(),
            message: format!("expected exactly one .wasm file in {name}, found {n}"),
        }),
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
        let Some(path) = self.locate(name)? else {
            return Ok(None);
        };
        let bytes = std::fs::read(&path).map_err(|error| EngineError::Read {
            path: name.to_string(),
            error,
        })?;
        let module = load::compile(engine, &bytes, name)?;
        Ok(Some((name.to_string(), module)))
    }

    fn knows(&self, name: &str) -> bool {
        matches!(self.locate(name), Ok(Some(_)) | Err(_))
    }

    fn unknown_hint(&self, name: &str) -> String {
        format!("nothing is mounted at `{name}` (add an input source with that target, or list it in ImportModules)")
    }
}
