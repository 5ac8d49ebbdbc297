//! The WebAssembly spec-test (`.wast`) script runner and the `spectest` host module.
//!
//! A script is parsed with the `wast` crate and every directive is run on a
//! fresh wasmi store: `module` (text, `binary`, `quote`, named `$id`),
//! `module definition` / `module instance`, `register`, `invoke`, `get`,
//! `assert_return` (`nan:canonical`, `nan:arithmetic`, bit-exact floats,
//! v128 lanes, references), `assert_trap`, `assert_exhaustion`,
//! `assert_invalid`, `assert_malformed`, `assert_unlinkable` and
//! `assert_uninstantiable` (an `assert_trap` over a module). `thread`,
//! `wait`, `assert_exception`, `assert_suspension` and the `*_custom`
//! assertions are counted as skipped: wasmi has no threads, exceptions or
//! stack switching, and it does not interpret custom sections.
//!
//! `assert_invalid` and `assert_malformed` pass when the module fails to
//! load, whatever the message (wasmi's messages differ from the reference
//! interpreter's); `assert_trap` compares the trap loosely, by message
//! substring or by wasmi's [`wasmi::TrapCode`] (see `traps.rs`).
//!
//! A script may set limits for itself with comment lines (see [`pragma`]):
//! `;; brine: max-memory 1MiB`, `;; brine: fuel 100000`,
//! `;; brine: disable memory64`.

pub mod budget;
mod directive;
pub mod pragma;
mod session;
pub mod spectest;
pub mod suite;
mod traps;
mod values;

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

pub use pragma::{Feature, Features};
pub use spectest::PrintTo;

/// How scripts run: where `spectest.print*` writes, and default limits.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where the `spectest` print functions write.
    pub print: PrintTo,
    /// Fuel for each action (an `invoke`, a `get`, an instantiation); `None` runs unmetered.
    pub fuel: Option<u64>,
    /// Largest linear memory in bytes (default [`budget::DEFAULT_MAX_MEMORY`], 1 GiB;
    /// all of a script's memories together get at most [`budget::TOTAL_MEMORY`]).
    pub max_memory: Option<u64>,
    /// The proposals enabled (default: every one wasmi implements); a script's
    /// `;; brine: enable/disable` lines change them for that script.
    pub features: Features,
    /// Count directives that need a module wasmi cannot load for want of a
    /// proposal it does not implement (GC, function references, exceptions,
    /// threads) as skipped instead of failed: for the official testsuite, whose
    /// WebAssembly 3.0 scripts mix such modules into otherwise supported files.
    pub excuse_unsupported: bool,
}

/// One directive that did not do what the script asserted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectiveFailure {
    /// The script it is in.
    pub file: String,
    /// 1-based line of the directive.
    pub line: usize,
    /// 1-based column of the directive.
    pub column: usize,
    /// The directive's keyword (`assert_return`, `module`, ...).
    pub directive: &'static str,
    /// What was expected and what happened.
    pub message: String,
}

impl fmt::Display for DirectiveFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.directive, self.message
        )
    }
}

/// What came of running one script.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScriptReport {
    /// The script's path (or name).
    pub file: String,
    /// Directives that did what they asserted.
    pub passed: usize,
    /// Directives that did not.
    pub failed: usize,
    /// Directives not run (threads, exceptions, custom-section assertions).
    pub skipped: usize,
    /// How many directives were skipped for each reason.
    pub skip_reasons: BTreeMap<String, usize>,
    /// Every failure, in script order.
    pub failures: Vec<DirectiveFailure>,
}

impl ScriptReport {
    /// `N passed, N failed` (and `, N skipped` when some were).
    pub fn summary(&self) -> String {
        summary_line(self.passed, self.failed, self.skipped)
    }
}

/// `N passed, N failed` with `, N skipped` when `skipped` is not zero.
pub fn summary_line(passed: usize, failed: usize, skipped: usize) -> String {
    let mut line = format!("{passed} passed, {failed} failed");
    if skipped > 0 {
        line.push_str(&format!(", {skipped} skipped"));
    }
    line
}

/// Why a script could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum WastError {
    /// The file could not be read (or is not UTF-8).
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The script is not valid `.wast` syntax.
    #[error("{0}")]
    Parse(String),
    /// A `;; brine:` comment line is not understood.
    #[error("{file}:{line}: {error}")]
    Pragma {
        /// The script.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        #[source]
        error: pragma::PragmaError,
    },
    /// The `spectest` module could not be defined (a bug).
    #[error("{file}: internal error while running the script: cannot define the spectest module: {source}")]
    Spectest {
        /// The script.
        file: String,
        /// Why.
        source: wasmi::Error,
    },
    /// The runner or a dependency panicked (a bug, reported instead of crashing).
    #[error("{file}: internal error while running the script: {message}")]
    Internal {
        /// The script.
        file: String,
        /// The panic message.
        message: String,
    },
}

/// Reads and runs the script at `path`.
pub fn run_file(path: &Path, options: &Options) -> Result<ScriptReport, WastError> {
    let name = path.display().to_string();
    let text = read_script(path).map_err(|error| WastError::Read {
        path: name.clone(),
        error,
    })?;
    run_text(&name, &text, options)
}

/// The largest script read: the official testsuite's largest is a few MiB.
const MAX_SCRIPT_BYTES: u64 = 256 << 20;

fn read_script(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_SCRIPT_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_SCRIPT_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is larger than {} MiB", MAX_SCRIPT_BYTES >> 20),
        ));
    }
    Ok(text)
}

/// Runs the script `text` (called `name` in messages).
///
/// A panic inside the runner or a dependency is caught and returned as
/// [`WastError::Internal`], so a hostile script cannot bring the process down.
pub fn run_text(name: &str, text: &str, options: &Options) -> Result<ScriptReport, WastError> {
    let run = std::panic::AssertUnwindSafe(|| directive::run_script(name, text, options));
    std::panic::catch_unwind(run).unwrap_or_else(|payload| {
        let message = crate::text::panic_message(payload.as_ref())
            .unwrap_or_else(|| "unknown panic".to_string());
        Err(WastError::Internal {
            file: name.to_string(),
            message,
        })
    })
}

#[cfg(test)]
mod tests;
