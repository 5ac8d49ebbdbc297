//! Reading and compiling modules, with errors that say what and where.

use super::start::defer_start;
use super::EngineError;
use std::path::Path;
use wasmi::{Engine, Module};

/// Reads and compiles the module at `path` (binary or text format) to run it.
/// The path comes from brine's own command line, never from a job or a guest.
pub fn load_file(engine: &Engine, path: &Path) -> Result<Module, EngineError> {
    let bytes = std::fs::read(path).map_err(|error| EngineError::Read {
        path: path.display().to_string(),
        error,
    })?;
    compile_to_run(engine, &bytes, &path.display().to_string())
}

/// Compiles `bytes` (named `name` in errors) to run: a start function is moved
/// to the export [`super::start::DEFERRED_START`], which the instantiator calls under the run's
/// limits (see `start.rs`).
pub fn compile_to_run(engine: &Engine, bytes: &[u8], name: &str) -> Result<Module, EngineError> {
    let binary = if bytes.starts_with(b"\0asm") {
        None
    } else {
        wat::parse_bytes(bytes).ok()
    };
    let binary = binary.as_deref().unwrap_or(bytes);
    let Some(deferred) = defer_start(binary) else {
        return compile(engine, bytes, name);
    };
    match Module::new(engine, &deferred[..]) {
        Ok(module) => Ok(module),
        // Errors are reported against the bytes as given, with their own offsets.
        Err(_) => match compile(engine, bytes, name) {
            Err(e) => Err(e),
            Ok(_) => Err(invalid(
                name,
                "it exports `\\0brine:start`, a name brine reserves for start functions",
            )),
        },
    }
}

/// Compiles `bytes` (named `name` in errors).
pub fn compile(engine: &Engine, bytes: &[u8], name: &str) -> Result<Module, EngineError> {
    if bytes.is_empty() {
        return Err(invalid(
            name,
            "the file is empty (expected a WebAssembly module)",
        ));
    }
    Module::new(engine, bytes).map_err(|e| invalid(name, &describe_compile_error(bytes, &e)))
}

fn invalid(module: &str, message: &str) -> EngineError {
    EngineError::InvalidModule {
        module: module.to_string(),
        message: message.to_string(),
    }
}

/// One line saying what is wrong: wasmparser's message (with its byte
/// offset) for a binary, or the text parser's message and position otherwise.
fn describe_compile_error(bytes: &[u8], err: &wasmi::Error) -> String {
    let message = err.to_string();
    if bytes.starts_with(b"\0asm") {
        return one_line(&message);
    }
    let first = message.lines().next().unwrap_or_default().trim();
    let position = message
        .lines()
        .find_map(|line| line.trim().strip_prefix("--> "))
        .and_then(|at| {
            let mut parts = at.rsplitn(3, ':');
            let column = parts.next()?;
            let line = parts.next()?;
            Some(format!(" at line {line}, column {column}"))
        })
        .unwrap_or_default();
    format!("not a WebAssembly binary (no \\0asm header), nor valid WebAssembly text: {first}{position}")
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
