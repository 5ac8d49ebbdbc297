//! Reading and compiling modules, with errors that say what and where.

use super::start::defer_start;
use super::EngineError;
use std::path::Path;
use wasmi::{Engine, Module};

/// Reads and compiles the module at `path` (binary or text format) to run it.
/// The path comes from brine's own command line, never from a job or a guest.
pub fn load_file(engine: &Engine, path: &Path) -> Result<Module, EngineError> {
    let bytes = std::fs::File::open(path)
        .and_then(|file| {
            let size = file.metadata()?.len();
            read_capped(file, size)
        })
        .map_err(|error| EngineError::Read {
            path: path.display().to_string(),
            error,
        })?;
    compile_to_run(engine, &bytes, &path.display().to_string())
}

/// The largest module brine reads (wasm32 code cannot usefully be larger).
pub const MAX_MODULE_BYTES: u64 = 1 << 30;

/// Everything `reader` holds, refusing more than any module brine runs.
/// `size` (the file's length when opened) sizes the buffer, so a module is
/// read in one call rather than in doubling steps; the cap, not `size`, bounds it.
pub fn read_capped(reader: impl std::io::Read, size: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(usize::try_from(size.min(MAX_MODULE_BYTES)).unwrap_or(0));
    reader.take(MAX_MODULE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_MODULE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is larger than {} MiB", MAX_MODULE_BYTES >> 20),
        ));
    }
    Ok(bytes)
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
    let module = compile_deferring_start(engine, bytes, binary, name)?;
    // wasmi translates function bodies lazily when unmetered, so a body it cannot
    // translate would otherwise surface as a trap in the middle of the run.
    if let Some(problem) = too_many_locals(binary) {
        return Err(invalid(name, &problem));
    }
    Ok(module)
}

/// The most parameters and locals wasmi translates in one function.
const MAX_LOCALS: u64 = 30_000;

/// The first function of a valid module `binary` with more parameters and
/// locals than wasmi can translate, described.
fn too_many_locals(binary: &[u8]) -> Option<String> {
    use wasmparser::Payload;
    let mut params: Vec<u64> = Vec::new();
    let mut function_types: Vec<u32> = Vec::new();
    let mut imported = 0u32;
    let mut defined = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(binary) {
        match payload.ok()? {
            Payload::TypeSection(types) => {
                for ty in types.into_iter_err_on_gc_types() {
                    params.push(ty.ok().map_or(0, |f| f.params().len() as u64));
                }
            }
            Payload::ImportSection(imports) => imported = imported_functions(imports),
            Payload::FunctionSection(functions) => {
                function_types = functions.into_iter().filter_map(Result::ok).collect();
            }
            Payload::CodeSectionEntry(body) => {
                let type_index = function_types.get(defined).copied().unwrap_or(0);
                let mut count = params.get(type_index as usize).copied().unwrap_or(0);
                for local in body.get_locals_reader().ok()? {
                    count = count.saturating_add(u64::from(local.ok()?.0));
                }
                if count > MAX_LOCALS {
                    return Some(format!(
                        "function {} has {count} parameters and locals; wasmi can run at most {MAX_LOCALS}",
                        imported as usize + defined
                    ));
                }
                defined += 1;
            }
            _ => {}
        }
    }
    None
}

/// Compiles `binary` (the module given as `bytes`) with its start function deferred.
fn compile_deferring_start(
    engine: &Engine,
    bytes: &[u8],
    binary: &[u8],
    name: &str,
) -> Result<Module, EngineError> {
    let Some(deferred) = defer_start(binary) else {
        // `binary` is the text already parsed (or the bytes themselves): wasmi
        // need not parse the text again.
        return compile_parsed(engine, bytes, binary, name);
    };
    validate(bytes, binary, name)?;
    match translate(engine, &deferred[..], name)? {
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
    compile_parsed(engine, bytes, bytes, name)
}

/// Compiles `binary`, the module given as `bytes` (the same bytes, or their text
/// parsed); errors are described against `bytes`, as the user wrote them.
fn compile_parsed(
    engine: &Engine,
    bytes: &[u8],
    binary: &[u8],
    name: &str,
) -> Result<Module, EngineError> {
    if bytes.is_empty() {
        return Err(invalid(
            name,
            "the file is empty (expected a WebAssembly module)",
        ));
    }
    validate(bytes, binary, name)?;
    translate(engine, binary, name)?
        .map_err(|e| invalid(name, &describe_compile_error(bytes, &e.to_string())))
}

/// wasmi's `Module::new`, with a panic in its translator made an error: wasmi
/// 2.0's fuel-metering translator trips its own debug assertion ("a register
/// operand already exists on the stack") on some valid modules wasm-smith
/// generates (`tests/fuzz_regressions.rs`). Only debug builds (tests, fuzzing)
/// assert; the engine the panic left is dropped with the failed load.
fn translate(
    engine: &Engine,
    binary: &[u8],
    name: &str,
) -> Result<Result<Module, wasmi::Error>, EngineError> {
    let attempt = std::panic::AssertUnwindSafe(|| Module::new(engine, binary));
    std::panic::catch_unwind(attempt).map_err(|panic| {
        let what = crate::text::panic_message(panic.as_ref()).unwrap_or_default();
        invalid(
            name,
            &format!(
                "wasmi's translator failed on it (a wasmi bug, please report the module): {what}"
            ),
        )
    })
}

/// Validates `binary` (the module given as `bytes`, or text wasmi is to
/// parse itself: validated as the binary it stands for) before wasmi sees it.
///
/// wasmi 2.0 can trip its own debug assertions on some invalid bodies (fuzzed
/// modules did, in `ControlStack::fuel_pos`) instead of reporting them;
/// wasmparser with every proposal on refuses no module wasmi accepts, and
/// stops those first. Text that does not parse is left to wasmi, whose
/// message says where.
fn validate(bytes: &[u8], binary: &[u8], name: &str) -> Result<(), EngineError> {
    let parsed;
    let wasm = if binary.starts_with(b"\0asm") {
        binary
    } else {
        parsed = wat::parse_bytes(binary).unwrap_or_default();
        &parsed[..]
    };
    let all = wasmparser::WasmFeatures::all();
    match wasmparser::Validator::new_with_features(all).validate_all(wasm) {
        Err(e) if !wasm.is_empty() => Err(invalid(
            name,
            &describe_compile_error(bytes, &e.to_string()),
        )),
        _ => Ok(()),
    }
}

fn invalid(module: &str, message: &str) -> EngineError {
    EngineError::InvalidModule {
        module: module.to_string(),
        message: message.to_string(),
    }
}

/// One line saying what is wrong: wasmparser's message (with its byte
/// offset) for a binary, or the text parser's message and position otherwise.
fn describe_compile_error(bytes: &[u8], message: &str) -> String {
    if bytes.starts_with(b"\0asm") {
        return one_line(message);
    }
    if let Ok(binary) = wat::parse_bytes(bytes) {
        // The text parsed; what failed is validating the module it describes, and
        // wasmi's byte offset means nothing to someone reading the text: name the function.
        let what = one_line(message.split(" (at offset").next().unwrap_or_default());
        let offset = wasm_offset(message);
        let place = offset
            .and_then(|at| function_at(&binary, at))
            .map(|f| format!(" (in {f})"))
            .unwrap_or_default();
        return format!("the text parses, but the module is not valid: {what}{place}");
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

/// The byte offset wasmparser appends to its messages (`(at offset 0x25)`).
fn wasm_offset(message: &str) -> Option<usize> {
    let hex = message.split("(at offset 0x").nth(1)?.split(')').next()?;
    usize::from_str_radix(hex, 16).ok()
}

/// Which function body of `binary` holds byte `offset`: its index, and its
/// `$name` when the text gave one.
fn function_at(binary: &[u8], offset: usize) -> Option<String> {
    use wasmparser::{Name, Payload};
    let mut imported = 0u32;
    let mut defined = 0u32;
    let mut found = None;
    let mut name = None;
    for payload in wasmparser::Parser::new(0).parse_all(binary) {
        match payload.ok()? {
            Payload::ImportSection(imports) => imported = imported_functions(imports),
            Payload::CodeSectionEntry(body) => {
                if body.range().contains(&offset) {
                    found = Some(imported + defined);
                }
                defined += 1;
            }
            Payload::CustomSection(section) => {
                let (Some(index), wasmparser::KnownCustom::Name(names)) =
                    (found, section.as_known())
                else {
                    continue;
                };
                for subsection in names.into_iter().filter_map(Result::ok) {
                    if let Name::Function(map) = subsection {
                        name = map
                            .into_iter()
                            .filter_map(Result::ok)
                            .find(|n| n.index == index)
                            .map(|n| n.name.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    let index = found?;
    Some(match name {
        Some(name) => format!("function {index} ${}", crate::text::printable(&name)),
        None => format!("function {index}"),
    })
}

/// How many functions an import section imports (function indices start after them).
fn imported_functions(imports: wasmparser::ImportSectionReader<'_>) -> u32 {
    let functions = imports
        .into_iter()
        .filter_map(Result::ok)
        .filter(|i| matches!(i.ty, wasmparser::TypeRef::Func(_)))
        .count();
    u32::try_from(functions).unwrap_or(u32::MAX)
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
