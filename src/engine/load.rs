//! Reading and compiling modules, with errors that say what and where.

use super::EngineError;
use std::path::Path;
use wasmi::{Engine, Module};

/// Reads and compiles the module at `path` (binary or text format).
pub fn load_file(engine: &Engine, path: &Path) -> Result<Module, EngineError> {
    let bytes = std::fs::read(path).map_err(|error| EngineError::Read {
        path: path.display().to_string(),
        error,
    })?;
    compile(engine, &bytes, &path.display().to_string())
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
