//! Ctrl-C and SIGTERM: brine exits promptly with 128 + the signal, leaves no
//! `.brine-*` staging behind, leaves DIR as it was, and keeps what the guest
//! already wrote to stdout.

mod common;

use common::{brine, ROOT};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A guest that says "started" and then spins forever without calling the host.
const SPIN: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "started\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 8))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (loop $forever (br $forever))))"#;

fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits for the child to exit, at most `limit`; returns its code and how long it took.
fn exit_within(child: &mut Child, limit: Duration) -> (Option<i32>, Duration) {
    let (status, took) = status_within(child, limit);
    (status.code(), took)
}

/// Waits for the child to exit, at most `limit`; returns how it ended and how long it took.
fn status_within(child: &mut Child, limit: Duration) -> (std::process::ExitStatus, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waits") {
            return (status, started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("brine still running {limit:?} after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn staging_left(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("reads the parent")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".brine-"))
        .collect()
}

fn spin_job(dir: &Path) -> std::path::PathBuf {
    std::fs::write(dir.join("spin.wat"), SPIN).unwrap();
    let job = dir.join("job.yaml");
    std::fs::write(
        &job,
        "Name: spin\nType: batch\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      \
         Params: {EntryModule: /wasm/spin.wat}\n    InputSources:\n      \
         - Source: {Type: localDirectory, Params: {SourcePath: spin.wat}}\n        \
         Target: /wasm/spin.wat\n",
    )
    .unwrap();
    job
}

/// Starts `brine run` on the spinning job and waits until its staging exists.
fn run_until_staged(dir: &Path) -> Child {
    let job = spin_job(dir);
    let child = Command::new(brine().get_program())
        .current_dir(ROOT)
        .arg("run")
        .arg(&job)
        .arg("--output")
        .arg(dir.join("out"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("brine starts");
    let started = Instant::now();
    while staging_left(dir).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no staging appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Give the guest a moment to be running rather than still being staged.
    std::thread::sleep(Duration::from_millis(300));
    child
}

#[test]
fn sigterm_stops_a_spinning_job_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = run_until_staged(dir.path());
    send(&child, "TERM");
    let (code, took) = exit_within(&mut child, Duration::from_secs(10));
    assert_eq!(code, Some(143), "128 + SIGTERM");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(staging_left(dir.path()), Vec::<String>::new());
    assert!(
        !dir.path().join("out").exists(),
        "a cancelled run publishes nothing"
    );
}

#[test]
fn sigint_keeps_an_existing_results_dir_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("earlier"), "kept").unwrap();
    let job = spin_job(dir.path());
    let mut child = Command::new(brine().get_program())
        .current_dir(ROOT)
        .arg("run")
        .arg(&job)
        .args(["--force", "--output"])
        .arg(&out)
        .stdout(Stdio::null())
        .spawn()
        .expect("brine starts");
    let started = Instant::now();
    while staging_left(dir.path())
        .iter()
        .all(|n| n.ends_with(".lock"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no staging appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    send(&child, "INT");
    let (code, _) = exit_within(&mut child, Duration::from_secs(10));
    assert_eq!(code, Some(130), "128 + SIGINT");
    assert_eq!(staging_left(dir.path()), Vec::<String>::new());
    assert_eq!(
        std::fs::read_to_string(out.join("earlier")).unwrap(),
        "kept"
    );
}

#[test]
fn sigint_to_wasm_run_keeps_what_the_guest_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("spin.wat");
    std::fs::write(&module, SPIN).unwrap();
    let mut child = Command::new(brine().get_program())
        .args(["wasm", "run"])
        .arg(&module)
        .stdout(Stdio::piped())
        .spawn()
        .expect("brine starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("reads");
    assert_eq!(line, "started\n");
    send(&child, "INT");
    // With no scratch space to clean, Ctrl-C ends brine as it ends any program.
    let (status, took) = status_within(&mut child, Duration::from_secs(10));
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(2), "{status:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}
