//! A user sees what runs: the guest's output reaches brine's stdout when the
//! guest writes it, not when the guest exits.

mod common;

use common::job::module_job;
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

/// What a pipe reading brine's stdout saw: the first line, whether brine was
/// still running when it arrived, and everything after it.
struct Seen {
    first: String,
    while_running: bool,
    rest: String,
}

/// Runs `command` with stdout on a pipe and reads it as it arrives.
fn watch(mut command: std::process::Command) -> Seen {
    let mut child = command
        .current_dir(ROOT)
        .stdout(Stdio::piped())
        .spawn()
        .expect("brine starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped"));
    let mut first = String::new();
    lines.read_line(&mut first).expect("reads the pipe");
    let while_running = child.try_wait().expect("waits").is_none();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut lines, &mut rest).expect("reads the rest");
    let status = child.wait().expect("brine exits");
    assert!(
        status.success(),
        "{status:?}, stdout after the first line:\n{rest}"
    );
    Seen {
        first,
        while_running,
        rest,
    }
}

/// `dir/job.yaml`: `count` partitions of the guest that writes, sleeps 3 s, writes.
fn sleepy_job(dir: &Path, count: u32) -> PathBuf {
    let wat = std::fs::read_to_string(write_sleep_write(dir, 3_000_000_000)).unwrap();
    let module = dir.join("live.wasm");
    std::fs::write(&module, wat::parse_str(wat).unwrap()).unwrap();
    let yaml = module_job(&module, &[], "", "").replacen(
        "Type: batch\n",
        &format!("Type: batch\nCount: {count}\n"),
        1,
    );
    let job = dir.join("job.yaml");
    std::fs::write(&job, yaml).unwrap();
    job
}

/// `brine run JOB --output DIR --follow` for the sleepy job of `count` partitions.
fn follow_job(dir: &Path, count: u32) -> std::process::Command {
    let job = sleepy_job(dir, count);
    let mut command = std::process::Command::new(brine().get_program());
    command
        .arg("run")
        .arg(&job)
        .arg("--output")
        .arg(dir.join("out"))
        .arg("--follow");
    command
}

#[test]
fn run_follow_streams_the_guests_stdout_and_still_writes_the_results_file() {
    let dir = tempfile::tempdir().unwrap();
    let seen = watch(follow_job(dir.path(), 1));
    assert_eq!(seen.first, "first\n");
    assert!(seen.while_running, "the first line came only at the end");
    assert!(
        seen.rest.starts_with("second\njob t: completed"),
        "{}",
        seen.rest
    );
    let stdout = std::fs::read_to_string(dir.path().join("out/stdout")).unwrap();
    assert_eq!(stdout, "first\nsecond\n");
}

#[test]
fn run_follow_prefixes_whole_lines_with_the_partition() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = follow_job(dir.path(), 2);
    command.arg("--parallel").arg("2");
    let seen = watch(command);
    assert!(seen.while_running, "the first line came only at the end");
    let text = seen.first + &seen.rest;
    let mut followed: Vec<&str> = text.lines().filter(|l| l.starts_with('[')).collect();
    followed.sort_unstable();
    assert_eq!(
        followed,
        ["[0] first", "[0] second", "[1] first", "[1] second"],
        "{text}"
    );
    let stdout = std::fs::read_to_string(dir.path().join("out/1/stdout")).unwrap();
    assert_eq!(
        stdout, "first\nsecond\n",
        "the results file has no prefixes"
    );
}

#[test]
fn wasm_run_passes_stdout_through_as_the_guest_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let module = write_sleep_write(dir.path(), 3_000_000_000);
    let mut command = std::process::Command::new(brine().get_program());
    command.args(["wasm", "run"]).arg(&module);
    let seen = watch(command);
    assert_eq!(seen.first, "first\n");
    // The first line arrived while the guest still sleeps: brine did not hold it.
    assert!(
        seen.while_running,
        "the first line came only when the guest exited"
    );
    assert_eq!(seen.rest, "second\n");
}

/// Runs `brine ARGS` on a terminal (a pty from util-linux's `script`) and
/// returns what the terminal showed.
fn on_a_terminal(args: &str) -> String {
    let command = format!("{} {args}", brine().get_program().to_string_lossy());
    let o = std::process::Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .current_dir(ROOT)
        .output()
        .expect("script (util-linux) runs");
    assert!(o.status.success(), "{o:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn on_a_terminal_run_draws_a_status_line_that_quiet_and_follow_leave_out() {
    let dir = tempfile::tempdir().unwrap();
    // Two partitions sleeping 3 s: long enough for the line to be drawn.
    let job = sleepy_job(dir.path(), 2);
    let out = |name: &str| dir.path().join(name).display().to_string();
    let shown = on_a_terminal(&format!("run {} -o {}", job.display(), out("a")));
    assert!(
        shown.contains("partitions: 2 running, 0 done, 0 failed of 2"),
        "{shown}"
    );
    assert!(shown.contains("job t partition 1: completed"), "{shown}");
    let quiet = on_a_terminal(&format!("run {} -o {} --quiet", job.display(), out("b")));
    assert!(!quiet.contains("partitions:"), "{quiet}");
    let followed = on_a_terminal(&format!("run {} -o {} --follow", job.display(), out("c")));
    assert!(!followed.contains("partitions:"), "{followed}");
    assert!(followed.contains("[1] first"), "{followed}");
}
