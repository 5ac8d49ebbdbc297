//! A user sees what runs: the guest's output reaches brine's stdout when the
//! guest writes it, not when the guest exits.

mod common;

use common::{brine, ROOT};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// A guest that writes "first\n" to stdout, sleeps `nanos` (poll_oneoff), then
/// writes "second\n" and exits 0.
fn write_sleep_write(dir: &Path, nanos: u64) -> PathBuf {
    let path = dir.join("live.wat");
    let wat = format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 300) "first\n")
  (data (i32.const 310) "second\n")
  (func $say (param $at i32) (param $len i32)
    (i32.store (i32.const 400) (local.get $at))
    (i32.store (i32.const 404) (local.get $len))
    (drop (call $write (i32.const 1) (i32.const 400) (i32.const 1) (i32.const 408))))
  (func (export "_start")
    (call $say (i32.const 300) (i32.const 6))
    (drop {sleep})
    (call $say (i32.const 310) (i32.const 7))))"#,
        sleep = common::guests::poll_sleep(nanos)
    );
    std::fs::write(&path, wat).expect("writes the module");
    path
}

#[test]
fn wasm_run_passes_stdout_through_as_the_guest_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let module = write_sleep_write(dir.path(), 3_000_000_000);
    let mut child = std::process::Command::new(brine().get_program())
        .current_dir(ROOT)
        .args(["wasm", "run"])
        .arg(&module)
        .stdout(Stdio::piped())
        .spawn()
        .expect("brine starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped"));
    let mut first = String::new();
    lines.read_line(&mut first).expect("reads the pipe");
    // The first line arrived while the guest still sleeps: brine did not hold it.
    let still_running = child.try_wait().expect("waits").is_none();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut lines, &mut rest).expect("reads the rest");
    let status = child.wait().expect("brine exits");
    assert_eq!(first, "first\n");
    assert!(
        still_running,
        "the first line came only when the guest exited"
    );
    assert_eq!(rest, "second\n");
    assert!(status.success(), "{status:?}");
}
