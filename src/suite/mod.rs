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

fn read_manifest(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).ok()?;
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
        Err(problem) => vec![problem],
    };
    TestResult {
        name,
        passed: problems.is_empty(),
        problems,
    }
}

fn load_spec(module: &Path) -> Result<TestSpec, String> {
    let json = module.with_extension("json");
    match std::fs::read_to_string(&json) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TestSpec::default()),
        Err(e) => Err(format!("{}: {e}", json.display())),
    }
}

/// A writer the test's stdout or stderr goes to, readable afterwards.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut inner) => {
                inner.extend_from_slice(buf);
                Ok(buf.len())
            }
            Err(_) => Err(std::io::Error::other("output buffer poisoned")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuffer {
    fn text(&self) -> String {
        self.0
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
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

/// Copies a test's directories into a fresh scratch directory; returns it and the copies.
pub fn scratch_copies(spec: &TestSpec, base: &Path) -> Result<(PathBuf, Vec<PathBuf>), String> {
    let scratch = tempfile_dir().map_err(|e| format!("cannot create a scratch directory: {e}"))?;
    let mut copies = Vec::new();
    for (i, (dir, _)) in preopens(spec).iter().enumerate() {
        let copy = scratch.join(i.to_string());
        copy::copy_tree(&base.join(dir), &copy).map_err(|e| format!("cannot copy {dir}: {e}"))?;
        copies.push(copy);
    }
    Ok((scratch, copies))
}

pub use copy::{snapshot, TreeEntry};

/// Runs `module` as `spec` says, on copies of its directories (next to `module`).
pub fn run_case(module: &Path, spec: &TestSpec, timeout: Duration) -> Result<CaseOutput, String> {
    let base = module.parent().unwrap_or(Path::new("."));
    let (scratch, copies) = scratch_copies(spec, base)?;
    let result =
        run_in(module, spec, &copies, timeout).map(|(exit_code, stdout, stderr)| CaseOutput {
            exit_code,
            stdout,
            stderr,
            trees: copies.iter().map(|c| snapshot(c)).collect(),
        });
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// Runs the test on copies of its directories and lists every difference.
fn check(module: &Path, spec: &TestSpec, timeout: Duration) -> Vec<String> {
    match run_case(module, spec, timeout) {
        Ok(out) => compare(spec, out.exit_code, &out.stdout, &out.stderr),
        Err(problem) => vec![problem],
    }
}

fn run_in(
    module: &Path,
    spec: &TestSpec,
    copies: &[PathBuf],
    timeout: Duration,
) -> Result<(i64, String, String), String> {
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
        let handle = host
            .open_host_dir(copy)
            .map_err(|e| format!("cannot open {dir}: {e}"))?;
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
    let report = run_module(run, wasi).map_err(|e| e.to_string())?;
    let code = match report.outcome {
        Outcome::Exited(code) => i64::from(code),
        Outcome::Returned(_) => 0,
        Outcome::Trapped(trap) => return Err(format!("trapped: {}", trap.message)),
        Outcome::OutOfFuel { .. } => return Err("ran out of fuel".to_string()),
        Outcome::TimedOut(t) => return Err(format!("timed out after {t:?}")),
    };
    Ok((code, stdout.text(), stderr.text()))
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

fn tempfile_dir() -> std::io::Result<PathBuf> {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("brine-test-{name}"));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
