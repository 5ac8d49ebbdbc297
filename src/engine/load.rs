//! Reading and compiling modules, with errors that say what and where.

use super::EngineError;
use std::path::Path;
use wasmi::{Engine, Module};

/// Reads and compiles the module at `path` (binary or text format).
pub fn load_file(engine: &Engine, path: &Path) -> Result<Module, EngineError> {
    let bytes = std::fs::read(path).map_err(|source| EngineError::Read {
        path: path.display().to_string(),
        source,
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

/// wasmi's message plus a hint when the bytes are not wasm at all.
fn describe_compile_error(bytes: &[u8], err: &wasmi::Error) -> String {
    let message = err.to_string();
    let is_binary = bytes.starts_with(b"\0asm");
    let looks_textual = bytes
        .iter()
        .take(256)
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    if !is_binary && !looks_textual {
        return format!("not a WebAssembly module (no \\0asm magic header): {message}");
    }
    message
}
