//! Job files: Bacalhau's Job, a single Task, or a bare wasm engine block, in
//! YAML or JSON, read into a normalized, validated [`Job`].
//!
//! Keys and type names match in any case. Both forms of the wasm engine block
//! are accepted and the spec (legacy) form is rewritten into the current one:
//! its EntryModule source becomes an input at `/wasm/entry.wasm`, ImportModules
//! source `i` an input at `/wasm/imports/module_<i>.wasm` (each at its own
//! `Target` instead when it gives one, as Bacalhau's legacy transformer does), and its
//! EnvironmentVariables are merged into the task's env (Task.Env wins).
//!
//! Every problem is collected, not just the first, and each is reported as
//! `FILE:LINE:COLUMN: FIELD.PATH: message` ([`SpecError`]). A parsed job keeps
//! where its fields were ([`Sites`]) so that checks made later (`job::check`)
//! report the same way.

mod engine;
mod error;
mod fields;
mod job;
mod model;
mod paths;
mod sites;
mod source;
mod task;
mod tree;
mod validate;

pub use error::{ErrorKind, Site, SpecError, SpecErrors};
pub use model::{
    legacy_import_target, InputSource, Job, Network, NetworkType, Publisher, Source, Task,
    WasmEngine, LEGACY_ENTRY_TARGET,
};
pub use source::decode_data_url;

use error::Collector;
use std::io::Read;
use std::path::Path;

/// The largest job file brine reads: 16 MiB.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Reads, parses, normalizes and validates the job file at `path`.
pub fn load(path: &Path) -> Result<Job, SpecErrors> {
    if path == Path::new("-") {
        return load_stdin();
    }
    let file = std::fs::File::open(path)
        .map_err(|e| SpecErrors::whole_file(path, format!("cannot read the job file: {e}")))?;
    let size = file.metadata().map_or(0, |meta| meta.len());
    let text = read(file, size, path)?;
    parse(&text, path)
}

/// The name a job read from stdin (`brine run -`) goes by in errors; its
/// relative SourcePaths are resolved against the current directory.
pub const STDIN_NAME: &str = "<stdin>";

/// Reads the job from standard input.
fn load_stdin() -> Result<Job, SpecErrors> {
    let name = Path::new(STDIN_NAME);
    let text = read(std::io::stdin().lock(), 0, name)?;
    parse(&text, name)
}

/// Reads the job as UTF-8 text, refusing anything over [`MAX_FILE_BYTES`] and
/// a WebAssembly module given where a job belongs. `size` (the file's length,
/// 0 when unknown) sizes the buffer so a small file takes one read.
fn read(file: impl Read, size: u64, path: &Path) -> Result<String, SpecErrors> {
    let fail = |why: String| SpecErrors::whole_file(path, why);
    let mut bytes = Vec::with_capacity(usize::try_from(size.min(MAX_FILE_BYTES)).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read the job file: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail(format!(
            "the job file is larger than {} MiB",
            MAX_FILE_BYTES >> 20
        )));
    }
    if looks_like_a_module(&bytes) {
        return Err(fail(format!(
            "this is a WebAssembly module, not a job file; run it with `brine wasm run {}`",
            path.display()
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        fail(format!(
            "the job file is not UTF-8 text (bad byte at offset {at})"
        ))
    })
}

/// A binary module (`\0asm`) or a text one (`(module`, after blanks and comments).
fn looks_like_a_module(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"\0asm") {
        return true;
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let code = text
        .lines()
        .map(str::trim_start)
        .find(|line| !line.is_empty() && !line.starts_with(";;"));
    code.is_some_and(|line| line.starts_with("(module"))
}

/// Parses job file text; `file` names it in errors and anchors relative
/// `SourcePath`s (they are resolved against its directory).
pub fn parse(text: &str, file: &Path) -> Result<Job, SpecErrors> {
    let mut cx = Collector::new(file);
    let Some(root) = tree::parse(text, &mut cx) else {
        if cx.is_clean() {
            let msg =
                "the file is empty; expected a Job, a Task or an engine block (Type: wasm, Params)";
            cx.syntax(1, 1, msg);
        }
        return Err(cx.finish());
    };
    let mut job = job::job(&mut cx, &root, file);
    if cx.is_clean() {
        job.sites = std::mem::take(&mut cx.sites);
        Ok(job)
    } else {
        Err(cx.finish())
    }
}

#[cfg(test)]
mod tests;
