//! Shared helpers for brine's end-to-end tests.
//!
//! Every test drives the real `brine` binary with its working directory set to
//! the crate root, so fixture paths such as `fixtures/hello.wasm` are relative.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod guests;
pub mod job;
pub mod journal;

use assert_cmd::Command;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// The crate root: every command runs here.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Exit status when nothing ran: bad usage, invalid module, link error.
pub const EXIT_USAGE: i32 = 2;
/// Exit status for a trap or running out of fuel.
pub const EXIT_TRAP: i32 = 134;
/// Exit status when `--timeout` passed.
pub const EXIT_TIMEOUT: i32 = 124;

/// A safety net: no single brine invocation in this suite should take this long.
/// Generous: `brine test fixtures/wasi` takes ~8 s alone but several times that
/// on 2 cores busy compiling; the guard is for hangs, not for speed.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// `brine` with the crate root as working directory and a hang guard.
pub fn brine() -> Command {
    let mut cmd = Command::cargo_bin("brine").expect("the brine binary is built by cargo test");
    cmd.current_dir(ROOT)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .timeout(HANG_GUARD);
    cmd
}

/// Runs `brine ARGS...` with an empty stdin.
pub fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    brine()
        .args(args)
        .write_stdin(Vec::<u8>::new())
        .output()
        .expect("brine runs")
}

/// Runs `brine wasm run ARGS...` with an empty stdin.
pub fn wasm_run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    wasm_run_stdin(args, Vec::<u8>::new())
}

/// Runs `brine wasm run ARGS...` with `stdin` as its standard input.
pub fn wasm_run_stdin<I, S>(args: I, stdin: impl Into<Vec<u8>>) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    brine()
        .arg("wasm")
        .arg("run")
        .args(args)
        .write_stdin(stdin.into())
        .output()
        .expect("brine runs")
}

/// The exit status of a process that exited normally (not by a signal).
pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

/// stdout as text (lossy).
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text (lossy).
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A readable dump of an output for assertion messages.
pub fn describe(o: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        o.status,
        truncate(&stdout(o)),
        truncate(&stderr(o))
    )
}

fn truncate(s: &str) -> String {
    const MAX: usize = 4000;
    if s.len() <= MAX {
        s.to_string()
    } else {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}... ({} bytes in all)", &s[..end], s.len())
    }
}

/// Asserts the exit status (a normal exit, not a signal).
#[track_caller]
pub fn assert_code(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "{}", describe(o));
}

/// Asserts the exit status and that stderr mentions `needle`.
#[track_caller]
pub fn assert_stderr_has(o: &Output, code: i32, needle: &str) {
    assert_code(o, code);
    assert!(stderr(o).contains(needle), "{}", describe(o));
}

/// Asserts the exit status and that stdout mentions `needle`.
#[track_caller]
pub fn assert_stdout_has(o: &Output, code: i32, needle: &str) {
    assert_code(o, code);
    assert!(stdout(o).contains(needle), "{}", describe(o));
}

/// Asserts exit status, exact stdout and exact stderr.
#[track_caller]
pub fn assert_exact(o: &Output, code: i32, out: &str, err: &str) {
    assert_eq!(o.status.code(), Some(code), "{}", describe(o));
    assert_eq!(stdout(o), out, "stdout differs\n{}", describe(o));
    assert_eq!(stderr(o), err, "stderr differs\n{}", describe(o));
}

/// Asserts that brine did not panic (no panic message, not killed by a signal).
#[track_caller]
pub fn assert_no_panic(o: &Output) {
    let err = stderr(o);
    assert!(!err.contains("panicked"), "brine panicked\n{}", describe(o));
    assert!(
        !err.contains("RUST_BACKTRACE"),
        "brine panicked\n{}",
        describe(o)
    );
    assert!(
        o.status.code().is_some(),
        "brine was killed by a signal\n{}",
        describe(o)
    );
    assert_ne!(
        o.status.code(),
        Some(101),
        "exit 101 is a Rust panic\n{}",
        describe(o)
    );
}

/// Asserts a brine error: exit status `code`, empty stdout, exactly one
/// stderr line starting with `prefix` and containing every `needles` item.
#[track_caller]
pub fn assert_one_line_error(o: &Output, code: i32, prefix: &str, needles: &[&str]) {
    assert_no_panic(o);
    assert_eq!(o.status.code(), Some(code), "{}", describe(o));
    assert_eq!(stdout(o), "", "stdout must be empty\n{}", describe(o));
    let err = stderr(o);
    assert!(
        err.ends_with('\n'),
        "stderr must end with a newline\n{}",
        describe(o)
    );
    assert_eq!(
        err.lines().count(),
        1,
        "expected exactly one line on stderr\n{}",
        describe(o)
    );
    assert!(
        err.starts_with(prefix),
        "stderr must start with {prefix:?}\n{}",
        describe(o)
    );
    for needle in needles {
        assert!(
            err.contains(needle),
            "stderr must mention {needle:?}\n{}",
            describe(o)
        );
    }
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

/// The names in `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The `FAIL` lines of an adversarial battery's report (fixtures/abuse.wasm).
pub fn battery_failures(report: &str) -> Vec<&str> {
    report.lines().filter(|l| l.starts_with("FAIL")).collect()
}

/// How many attempts a battery's report says it made (its last line, `N attempts`).
pub fn battery_attempts(report: &str) -> usize {
    report
        .lines()
        .last()
        .and_then(|l| l.strip_suffix(" attempts"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// `fixtures/NAME` under the crate root.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(ROOT).join("fixtures").join(name)
}

/// Makes a FIFO at `path` with the system's `mkfifo`.
pub fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Runs the demo job copied into `dir` (see [`demo_copy`]) into `dir/rec`,
/// journaling it to `dir/job.journal`, which it returns.
pub fn record_demo_job(dir: &Path) -> PathBuf {
    let journal = dir.join("job.journal");
    let o = run_job(
        &dir.join("job.yaml"),
        &dir.join("rec"),
        &["--record", s(&journal)],
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    journal
}

/// A copy of the demo job (module, data) in a temp dir, so tests may tamper with it.
pub fn demo_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let demo = fixture("jobs/demo");
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::copy(
        demo.join("data/sales.csv"),
        dir.path().join("data/sales.csv"),
    )
    .unwrap();
    std::fs::copy(
        fixture("csv_summary.wasm"),
        dir.path().join("csv_summary.wasm"),
    )
    .unwrap();
    let job = std::fs::read_to_string(demo.join("job.yaml"))
        .unwrap()
        .replace("../../csv_summary.wasm", "csv_summary.wasm");
    std::fs::write(dir.path().join("job.yaml"), job).unwrap();
    dir
}

/// Runs `brine verify ARGS...`.
pub fn verify(args: &[&Path]) -> Output {
    brine().arg("verify").args(args).output().unwrap()
}

/// Runs `brine verify RECEIPT --results RESULTS`.
pub fn verify_results(receipt: &Path, results: &Path) -> Output {
    brine()
        .arg("verify")
        .arg(receipt)
        .arg("--results")
        .arg(results)
        .output()
        .unwrap()
}

/// Runs `brine run JOB --output OUT EXTRA...` with an empty stdin.
pub fn run_job(job: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", s(job), "--output", s(out)];
    args.extend_from_slice(extra);
    run(args)
}

/// Runs `brine wasm run --record JOURNAL MODULE`.
pub fn record_wasm_run(journal: &Path, module: &str) -> Output {
    brine()
        .args(["wasm", "run", "--record"])
        .arg(journal)
        .arg(module)
        .output()
        .unwrap()
}

/// Runs `brine replay JOURNAL [MODULE] [--dir HOST::GUEST]...`.
pub fn replay(journal: &Path, module: Option<&Path>, dirs: &[(&Path, &str)]) -> Output {
    let mut cmd = brine();
    cmd.arg("replay").arg(journal);
    if let Some(module) = module {
        cmd.arg(module);
    }
    for (host, guest) in dirs {
        cmd.arg("--dir").arg(format!("{}::{guest}", host.display()));
    }
    cmd.output().unwrap()
}

/// Runs `brine replay JOURNAL [JOB] --output OUT` (a recorded job).
pub fn replay_job(journal: &Path, job: Option<&Path>, out: &Path) -> Output {
    let mut cmd = brine();
    cmd.arg("replay").arg(journal);
    if let Some(job) = job {
        cmd.arg(job);
    }
    cmd.arg("--output").arg(out).output().unwrap()
}

/// Deterministic pseudo-random bytes (xorshift64*), every byte value likely.
pub fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let word = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        for b in word.to_le_bytes() {
            if out.len() < len {
                out.push(b);
            }
        }
    }
    out
}

/// The path as a `&str` (tempdir paths are UTF-8 in this suite).
pub fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Standard base64 with padding, for `data:` URLs in test jobs.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
