//! Fixture suites in the wasi-testsuite layout, for `brine test`.
//!
//! A suite directory holds `NAME.wasm` modules, each with an optional
//! `NAME.json` saying how to run it and what must come out: `args`, `env`,
//! `root` (a directory, relative to the JSON file, preopened at `/`), `dirs`
//! (directories preopened under their own names, as the official
//! wasi-testsuite does), `exit_code` (default 0), `stdout`, `stderr`. A
//! `manifest.json` names the suite. Each test runs on a fresh copy of its
//! directories, so whatever it writes, the originals stay as they were.

pub mod copy;

use crate::engine::resolve::NamedModules;
use crate::engine::run::{run as run_module, EntryModule, RunSpec};
use crate::engine::{Limits, Outcome};
use crate::host::real::{RealHost, Stdio};
use crate::wasi::WasiCtx;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to run one test and what to expect (the `NAME.json` file).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSpec {
    /// argv[1..].
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A directory preopened at `/`, relative to the JSON file.
    #[serde(default)]
    pub root: Option<String>,
    /// Directories preopened under their own (relative) names.
    #[serde(default)]
    pub dirs: Vec<String>,
    /// The expected exit code.
    #[serde(default)]
    pub exit_code: i64,
    /// The exact expected stdout, if given.
    #[serde(default)]
    pub stdout: Option<String>,
    /// The exact expected stderr, if given.
    #[serde(default)]
    pub stderr: Option<String>,
}

/// The `manifest.json` of a suite.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Manifest {
    /// The suite's name.
    pub name: String,
}

/// One test's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    /// The test's name (the module's file stem).
    pub name: String,
    /// Whether everything matched.
    pub passed: bool,
    /// What differed (empty when it passed).
    pub problems: Vec<String>,
}

/// A suite's verdicts.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteResult {
    /// The suite's name (from its manifest, else the directory).
    pub suite: String,
    /// Every test, in name order.
    pub tests: Vec<TestResult>,
}

impl SuiteResult {
    /// How many passed and failed.
    pub fn counts(&self) -> (usize, usize) {
        let passed = self.tests.iter().filter(|t| t.passed).count();
        (passed, self.tests.len() - passed)
    }
}

/// Runs every test in `dir`; a test whose module or JSON cannot be used fails with the reason.
pub fn run_suite(dir: &Path, timeout: Duration) -> std::io::Result<SuiteResult> {
    let suite = read_manifest(dir).unwrap_or_else(|| dir.display().to_string());
    let mut modules: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wasm") && p.is_file())
        .collect();
    modules.sort();
    let tests = modules.iter().map(|m| run_test(m, timeout)).collect();
    Ok(SuiteResult { suite, tests })
}

/// The largest test JSON or manifest read: they are a few lines each.
const MAX_JSON_BYTES: u64 = 1 << 20;

/// Reads a small text file, refusing one larger than [`MAX_JSON_BYTES`].
fn read_small_text(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    if !std::fs::metadata(path)?.is_file() {
        // A FIFO or device would block or never end.
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_JSON_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_JSON_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_JSON_BYTES} bytes; a test JSON is a few lines"
        )));
    }
    Ok(text)
}

fn read_manifest(dir: &Path) -> Option<String> {
    let text = read_small_text(&dir.join("manifest.json")).ok()?;
    serde_json::from_str::<Manifest>(&text).ok().map(|m| m.name)
}

/// Runs one module against its JSON.
pub fn run_test(module: &Path, timeout: Duration) -> TestResult {
    let name = module
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let problems = match load_spec(module) {
        Ok(spec) => check(module, &spec, timeout),
        Err(problem) => vec![problem.to_string()],
    };
    TestResult {
        name,
        passed: problems.is_empty(),
        problems,
    }
}

/// Why a test could not be run to the end (a test that ran but differs is not an error).
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The test's JSON could not be read.
    #[error("{}: {source}", path.display())]
    ReadSpec {
        /// The JSON file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The test's JSON is not a test spec.
    #[error("{}: {source}", path.display())]
    Spec {
        /// The JSON file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// No scratch directory for the copies.
    #[error("cannot create a scratch directory: {0}")]
    Scratch(#[source] std::io::Error),
    /// A directory the test names is not inside the suite directory.
    #[error(
        "directory {dir:?}: a test's root and dirs must be directories inside the suite directory"
    )]
    Outside {
        /// The directory as the JSON names it.
        dir: String,
    },
    /// A directory the test names cannot be found.
    #[error("directory {dir:?}: {source}")]
    Missing {
        /// The directory as the JSON names it.
        dir: String,
        /// Why.
        source: std::io::Error,
    },
    /// A directory could not be copied into the scratch directory.
    #[error("cannot copy {dir}: {source}")]
    Copy {
        /// The directory as the JSON names it.
        dir: String,
        /// Why.
        source: std::io::Error,
    },
    /// A copy could not be opened for preopening.
    #[error("cannot open {dir}: {source}")]
    Open {
        /// The directory as the JSON names it.
        dir: String,
        /// Why.
        source: std::io::Error,
    },
    /// The module could not be loaded or run.
    #[error(transparent)]
    Run(#[from] crate::engine::EngineError),
    /// The module trapped.
    #[error("trapped: {0}")]
    Trapped(String),
    /// The module ran out of fuel.
    #[error("ran out of fuel")]
    OutOfFuel,
    /// The module ran past the timeout.
    #[error("timed out after {0:?}")]
    TimedOut(Duration),
    /// A stream was longer than brine test keeps.
    #[error(
        "{what} was longer than brine test keeps ({MAX_CAPTURED_OUTPUT} bytes; \
         {dropped} more were dropped)"
    )]
    TooLong {
        /// `stdout` or `stderr`.
        what: &'static str,
        /// Bytes past the cap.
        dropped: u64,
    },
}

fn load_spec(module: &Path) -> Result<TestSpec, CaseError> {
    let path = module.with_extension("json");
    match read_small_text(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|source| CaseError::Spec { path, source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TestSpec::default()),
        Err(source) => Err(CaseError::ReadSpec { path, source }),
    }
}

/// The most of each of a test's stdout and stderr that is kept: expectations are
/// short texts, and a guest must not make `brine test` hold gigabytes.
pub const MAX_CAPTURED_OUTPUT: usize = 16 << 20;

/// A writer the test's stdout or stderr goes to, readable afterwards; it keeps
/// the first [`MAX_CAPTURED_OUTPUT`] bytes and counts the rest.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Captured>>);

#[derive(Default)]
struct Captured {
    kept: Vec<u8>,
    dropped: u64,
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut inner = self
            .0
            .lock()
            .map_err(|_| std::io::Error::other("output buffer poisoned"))?;
        let room = MAX_CAPTURED_OUTPUT.saturating_sub(inner.kept.len());
        let (keep, drop) = buf.split_at(room.min(buf.len()));
        inner.kept.extend_from_slice(keep);
        inner.dropped = inner.dropped.saturating_add(drop.len() as u64);
        // The guest is told everything was written, as a full disk would not be its fault.
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuffer {
    /// What was kept, and how many bytes past the cap were dropped.
    fn text(&self) -> (String, u64) {
        self.0
            .lock()
            .map(|b| (String::from_utf8_lossy(&b.kept).into_owned(), b.dropped))
            .unwrap_or_default()
    }
}

/// What one run of a test module produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseOutput {
    /// The exit code (0 for a normal return).
    pub exit_code: i64,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
    /// Each preopened directory's tree after the run (root first, then `dirs`).
    pub trees: Vec<Vec<copy::TreeEntry>>,
}

/// The directories a test preopens: (directory relative to the JSON file, guest path).
pub fn preopens(spec: &TestSpec) -> Vec<(String, String)> {
    spec.root
        .iter()
        .map(|r| (r.clone(), "/".to_string()))
        .chain(spec.dirs.iter().map(|d| (d.clone(), d.clone())))
        .collect()
}

/// A test's scratch directory: removed when dropped, whichever way the test
/// ended, and by the signal thread if Ctrl-C ends `brine test`.
#[derive(Debug)]
pub struct Scratch {
    dir: tempfile::TempDir,
    _on_signal: crate::cancel::Scratch,
}

impl Scratch {
    fn new() -> Result<Self, CaseError> {
        let dir = tempfile::Builder::new()
            .prefix("brine-test-")
            .tempdir()
            .map_err(CaseError::Scratch)?;
        let on_signal = crate::cancel::remove_on_signal(dir.path().to_path_buf());
        Ok(Scratch {
            dir,
            _on_signal: on_signal,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Copies a test's directories into a fresh scratch directory; returns it and the copies.
///
/// The test JSON is untrusted: every directory it names must lie inside the
/// suite directory `base` (no absolute paths, no `..`, no symlink out of it).
pub fn scratch_copies(spec: &TestSpec, base: &Path) -> Result<(Scratch, Vec<PathBuf>), CaseError> {
    let scratch = Scratch::new()?;
    let mut copies = Vec::new();
    for (i, (dir, _)) in preopens(spec).iter().enumerate() {
        let source = confined(base, dir)?;
        let copy = scratch.path().join(i.to_string());
        copy::copy_tree(&source, &copy).map_err(|source| CaseError::Copy {
            dir: dir.clone(),
            source,
        })?;
        copies.push(copy);
    }
    Ok((scratch, copies))
}

/// `base/dir`, if it is a directory inside `base`.
fn confined(base: &Path, dir: &str) -> Result<PathBuf, CaseError> {
    let outside = || CaseError::Outside {
        dir: dir.to_string(),
    };
    let relative = Path::new(dir);
    let lexically_inside = relative.components().all(|c| {
        matches!(
            c,
            std::path::Component::Normal(_) | std::path::Component::CurDir
        )
    });
    if !lexically_inside {
        return Err(outside());
    }
    let missing = |source| CaseError::Missing {
        dir: dir.to_string(),
        source,
    };
    let suite = std::fs::canonicalize(base).map_err(missing)?;
    // Canonicalizing resolves symlinks, so a link inside the suite that leads out is caught too.
    let resolved = std::fs::canonicalize(base.join(relative)).map_err(missing)?;
    if !resolved.starts_with(&suite) || !resolved.is_dir() {
        return Err(outside());
    }
    Ok(resolved)
}

pub use copy::snapshot;

/// Runs `module` as `spec` says, on copies of its directories (next to `module`).
pub fn run_case(
    module: &Path,
    spec: &TestSpec,
    timeout: Duration,
) -> Result<CaseOutput, CaseError> {
    let base = module.parent().unwrap_or(Path::new("."));
    let (_scratch, copies) = scratch_copies(spec, base)?;
    // `_scratch` is removed when it goes out of scope, on every path.
    run_in(module, spec, &copies, timeout).map(|(exit_code, stdout, stderr)| CaseOutput {
        exit_code,
        stdout,
        stderr,
        trees: copies.iter().map(|c| snapshot(c)).collect(),
    })
}

/// Runs the test on copies of its directories and lists every difference.
fn check(module: &Path, spec: &TestSpec, timeout: Duration) -> Vec<String> {
    match run_case(module, spec, timeout) {
        Ok(out) => compare(spec, out.exit_code, &out.stdout, &out.stderr),
        Err(problem) => vec![problem.to_string()],
    }
}

fn run_in(
    module: &Path,
    spec: &TestSpec,
    copies: &[PathBuf],
    timeout: Duration,
) -> Result<(i64, String, String), CaseError> {
    let stdout = SharedBuffer::default();
    let stderr = SharedBuffer::default();
    let mut host = RealHost::new(Stdio {
        stdin: Box::new(std::io::empty()),
        stdout: Box::new(stdout.clone()),
        stderr: Box::new(stderr.clone()),
        terminals: [false; 3],
    });
    let mut handles = Vec::new();
    for ((dir, guest), copy) in preopens(spec).into_iter().zip(copies) {
        let handle = host.open_host_dir(copy).map_err(|source| CaseError::Open {
            dir: dir.clone(),
            source,
        })?;
        handles.push((handle, guest));
    }
    let mut wasi = WasiCtx::new(Box::new(host));
    for (handle, guest) in handles {
        wasi.preopen(handle, &guest, false);
    }
    let argv0 = module
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut argv = vec![argv0];
    argv.extend(spec.args.iter().cloned());
    wasi.set_args(&argv);
    wasi.set_env(&spec.env.iter().collect::<Vec<_>>());
    let run = RunSpec {
        entry: EntryModule::File(module.to_path_buf()),
        invoke: None,
        call_args: Vec::new(),
        preload: Vec::new(),
        resolver: NamedModules::default(),
        limits: Limits {
            timeout: Some(timeout),
            ..Limits::default()
        },
        network: false,
    };
    let report = run_module(run, wasi)?;
    let code = match report.outcome {
        Outcome::Exited(code) => i64::from(code),
        Outcome::Returned(_) => 0,
        Outcome::Trapped(trap) => return Err(CaseError::Trapped(trap.message)),
        Outcome::OutOfFuel { .. } => return Err(CaseError::OutOfFuel),
        Outcome::TimedOut(t) => return Err(CaseError::TimedOut(t)),
        // A case has no cancellation token; should one be cancelled, it did not pass.
        Outcome::Cancelled => return Err(CaseError::Trapped("the run was cancelled".into())),
    };
    Ok((
        code,
        captured("stdout", &stdout)?,
        captured("stderr", &stderr)?,
    ))
}

/// The text of a captured stream; a stream past the cap is a failure of its own.
fn captured(what: &'static str, buffer: &SharedBuffer) -> Result<String, CaseError> {
    match buffer.text() {
        (text, 0) => Ok(text),
        (_, dropped) => Err(CaseError::TooLong { what, dropped }),
    }
}

fn compare(spec: &TestSpec, code: i64, stdout: &str, stderr: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if code != spec.exit_code {
        problems.push(format!("exit code {code}, expected {}", spec.exit_code));
    }
    for (what, expected, actual) in [
        ("stdout", &spec.stdout, stdout),
        ("stderr", &spec.stderr, stderr),
    ] {
        if let Some(expected) = expected {
            if expected != actual {
                problems.push(format!(
                    "{what} differs: expected {expected:?}, got {actual:?}"
                ));
            }
        }
    }
    if !problems.is_empty() && spec.stdout.is_none() && !stdout.is_empty() {
        problems.push(format!("stdout was {stdout:?}"));
    }
    if !problems.is_empty() && spec.stderr.is_none() && !stderr.is_empty() {
        problems.push(format!("stderr was {stderr:?}"));
    }
    problems
}
