//! The WASI host's side of the trust boundary (issue #12): read-only inputs
//! stay unchanged, the guest's writes stay under the disk limit, and special
//! files in inputs never block. Each test runs a job through the real binary.

mod common;

use common::job::{local_input, module_job, Job};
use common::{battery_attempts, battery_failures, describe, fixture, mkfifo};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant, SystemTime};

/// Writes the job: `module` at /wasm/m.wasm with `params`, the directory
/// `inputs` (read-only) at /inputs when given, /outputs as a result path,
/// and `task_extra` (indented task YAML: Resources, Timeouts).
fn write_job(job: &Job, module: &Path, params: &[&str], inputs: Option<&Path>, task_extra: &str) {
    let input = inputs.map_or(String::new(), |dir| local_input(dir, "/inputs"));
    let results = "    ResultPaths:\n      - Name: outputs\n        Path: /outputs\n";
    job.write(&module_job(
        module,
        params,
        &input,
        &format!("{results}{task_extra}"),
    ));
}

/// Asserts the battery printed no FAIL line and ran at least `min` attempts.
#[track_caller]
fn assert_battery_passed(job: &Job, o: &Output, min: usize) {
    let out = job.read("stdout");
    let failures = battery_failures(&out);
    assert!(
        failures.is_empty(),
        "{}\n{out}\n{}",
        failures.join("\n"),
        describe(o)
    );
    let attempts = battery_attempts(&out);
    assert!(attempts >= min, "{out}\n{}", describe(o));
}

fn mtime(path: &Path) -> SystemTime {
    std::fs::symlink_metadata(path).unwrap().modified().unwrap()
}

/// Item 3: a guest that opens a read-only input read-only cannot change its
/// times (futimens), size (ftruncate) or allocation, nor its directory's times.
#[test]
fn metadata_changes_on_a_read_only_input_are_erofs_and_the_host_file_is_unchanged() {
    let job = Job::empty();
    let inputs = job.path("inputs");
    std::fs::create_dir(&inputs).unwrap();
    std::fs::write(inputs.join("data.txt"), "input data\n").unwrap();
    let (file_before, dir_before) = (mtime(&inputs.join("data.txt")), mtime(&inputs));
    write_job(
        &job,
        &fixture("abuse.wasm"),
        &["-", "readonly=/inputs/data.txt"],
        Some(&inputs),
        "",
    );
    let o = job.run(&[]);
    assert_battery_passed(&job, &o, 10);
    assert_eq!(job.summary()["status"], "completed", "{}", describe(&o));
    assert_eq!(
        mtime(&inputs.join("data.txt")),
        file_before,
        "file times changed"
    );
    assert_eq!(mtime(&inputs), dir_before, "directory times changed");
    assert_eq!(
        std::fs::read_to_string(inputs.join("data.txt")).unwrap(),
        "input data\n"
    );
}

/// A guest that opens `outputs/big.bin` and pwrites `total` bytes in chunks of
/// `chunk` from offset `start`, then exits with 0, or with the first errno.
fn pwrite_guest(start: u64, chunk: u32, total: u64) -> Vec<u8> {
    let wat = format!(
        r#"(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pwrite"
    (func $pwrite (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "outputs/big.bin")
  (func (export "_start")
    (local $err i32) (local $fd i32) (local $offset i64) (local $end i64)
    ;; path_open(fd 3 = "/", no follow, path, O_CREAT, FD_WRITE|FD_SEEK) -> fd at 32
    (local.set $err (call $open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 15)
      (i32.const 1) (i64.const 68) (i64.const 0) (i32.const 0) (i32.const 32)))
    (if (local.get $err) (then (call $exit (local.get $err))))
    (local.set $fd (i32.load (i32.const 32)))
    ;; one iovec at 48: {{buf 4096, len {chunk}}}
    (i32.store (i32.const 48) (i32.const 4096))
    (i32.store (i32.const 52) (i32.const {chunk}))
    (local.set $offset (i64.const {start}))
    (local.set $end (i64.add (i64.const {start}) (i64.const {total})))
    (block $done
      (loop $more
        (br_if $done (i64.ge_u (local.get $offset) (local.get $end)))
        (local.set $err (call $pwrite (local.get $fd) (i32.const 48) (i32.const 1)
          (local.get $offset) (i32.const 56)))
        (if (local.get $err) (then (call $exit (local.get $err))))
        (local.set $offset (i64.add (local.get $offset) (i64.extend_i32_u (i32.load (i32.const 56)))))
        (br $more)))
    (call $exit (i32.const 0))))"#
    );
    wat::parse_str(wat).unwrap()
}

const ENOSPC: &str = "51";

/// Runs `module` (bytes) as a job with `task_extra`; returns the job and its output.
fn run_module(module: &[u8], task_extra: &str) -> (Job, Output) {
    let job = Job::empty();
    let path = job.path("m.wasm");
    std::fs::write(&path, module).unwrap();
    write_job(&job, &path, &[], None, task_extra);
    let o = job.run(&[]);
    (job, o)
}

#[track_caller]
fn assert_failed_on_the_disk_limit(job: &Job, o: &Output, limit: &str) {
    assert_eq!(
        job.read("exitCode"),
        ENOSPC,
        "the guest sees ENOSPC\n{}",
        describe(o)
    );
    let summary = job.summary();
    assert_eq!(summary["status"], "failed", "{}", describe(o));
    let error = summary["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with(&format!(
            "the guest reached the disk limit of {limit} (Resources.Disk)"
        )),
        "{error}\n{}",
        describe(o)
    );
    assert_eq!(o.status.code(), Some(1), "{}", describe(o));
    assert!(
        !job.path("out/outputs").exists(),
        "a failed run publishes no outputs"
    );
}

/// The job's task resources: a 1 MiB disk limit.
const DISK_1MIB: &str = "    Resources: {Disk: 1MiB}\n";

/// Item 10: a one-byte write at offset 16 TiB would make a sparse file the
/// publisher copies as 16 TiB of zeros; it counts its apparent size and is refused.
#[test]
fn a_one_byte_write_at_16_tib_gets_enospc_and_fails_the_job() {
    let (job, o) = run_module(&pwrite_guest(16 << 40, 1, 1), DISK_1MIB);
    assert_failed_on_the_disk_limit(&job, &o, "1 MiB");
}

/// Item 10: the default limit (10 GiB) applies when the job gives no Resources.Disk.
#[test]
fn without_resources_disk_the_default_limit_still_refuses_16_tib() {
    let (job, o) = run_module(&pwrite_guest(16 << 40, 1, 1), "");
    assert_failed_on_the_disk_limit(&job, &o, "10 GiB");
}

/// Item 10: 2 MiB of writes under `Disk: 1MiB` end in ENOSPC and a failed job.
#[test]
fn writing_2_mib_under_a_1_mib_limit_gets_enospc_and_fails_the_job() {
    let (job, o) = run_module(&pwrite_guest(0, 64 * 1024, 2 << 20), DISK_1MIB);
    assert_failed_on_the_disk_limit(&job, &o, "1 MiB");
}

/// Item 10: a guest that stays under the limit is unaffected, up to the last byte.
#[test]
fn a_guest_under_the_disk_limit_is_unaffected() {
    let (job, o) = run_module(&pwrite_guest(0, 64 * 1024, 1 << 20), DISK_1MIB);
    assert_eq!(job.read("exitCode"), "0", "{}", describe(&o));
    assert_eq!(job.summary()["status"], "completed", "{}", describe(&o));
    let written = std::fs::metadata(job.path("out/outputs/big.bin")).unwrap();
    assert_eq!(written.len(), 1 << 20);
}

/// Item 10, the guest's side: the battery's disk section (pwrite at 16 TiB,
/// seek+write, set_size, allocate, 2 MiB of writes, truncation credits space).
#[test]
fn the_disk_battery_gets_enospc_everywhere_and_the_job_names_the_limit() {
    let job = Job::empty();
    write_job(
        &job,
        &fixture("abuse.wasm"),
        &["-", "disk=/outputs"],
        None,
        DISK_1MIB,
    );
    let o = job.run(&[]);
    assert_battery_passed(&job, &o, 10);
    let summary = job.summary();
    assert_eq!(summary["status"], "failed", "{}", describe(&o));
    assert!(summary["error"]
        .as_str()
        .unwrap_or_default()
        .starts_with("the guest reached the disk limit of 1 MiB (Resources.Disk)"));
}

/// A job running fixture `module` with `params`, its local input a directory
/// holding one FIFO (`/inputs/pipe`), under a 5 s ExecutionTimeout.
fn job_with_a_fifo_input(module: &str, params: &[&str]) -> Job {
    let job = Job::empty();
    let inputs = job.path("inputs");
    std::fs::create_dir(&inputs).unwrap();
    mkfifo(&inputs.join("pipe"));
    write_job(
        &job,
        &fixture(module),
        params,
        Some(&inputs),
        "    Timeouts: {ExecutionTimeout: 5}\n",
    );
    job
}

/// Item 11: a FIFO in a local input blocked the guest's open forever, past
/// ExecutionTimeout. Now the open fails at once with ENOTSUP and the run ends.
#[test]
fn a_fifo_in_an_input_is_refused_at_once_and_never_outlives_the_timeout() {
    let job = job_with_a_fifo_input("cat_file.wasm", &["/inputs/pipe"]);
    let started = Instant::now();
    let o = job.run(&[]);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}\n{}",
        started.elapsed(),
        describe(&o)
    );
    assert_eq!(job.read("exitCode"), "1", "{}", describe(&o));
    assert_eq!(
        job.read("stderr"),
        "cat_file: /inputs/pipe: Not supported\n",
        "{}",
        describe(&o)
    );
}

/// Item 11, the guest's side: the battery's FIFO section, every open mode.
#[test]
fn the_fifo_battery_gets_enotsup_for_every_open() {
    let job = job_with_a_fifo_input("abuse.wasm", &["-", "fifo=/inputs/pipe"]);
    let started = Instant::now();
    let o = job.run(&[]);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{}",
        describe(&o)
    );
    assert_battery_passed(&job, &o, 3);
    assert_eq!(job.summary()["status"], "completed", "{}", describe(&o));
}

/// Item 10 for `brine wasm run`: no cap by default (as wasmtime), `--max-disk`
/// gives ENOSPC past it and a one-line error naming the flag.
#[test]
fn wasm_run_max_disk_caps_the_guests_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let module = tmp.path().join("m.wasm");
    std::fs::write(&module, pwrite_guest(0, 64 * 1024, 2 << 20)).unwrap();
    let dir = tmp.path().join("d");
    std::fs::create_dir_all(dir.join("outputs")).unwrap();
    let dir_arg = format!("{}::/d", dir.display());
    let module_arg = module.display().to_string();
    let o = common::wasm_run(["--dir", &dir_arg, "--max-disk", "1MiB", &module_arg]);
    assert_eq!(
        o.status.code(),
        Some(51),
        "the guest exits with ENOSPC\n{}",
        describe(&o)
    );
    assert_eq!(
        common::stderr(&o),
        "error: the guest reached the disk limit of 1 MiB (--max-disk); raise it or make the guest write less\n"
    );
    assert_eq!(
        std::fs::metadata(dir.join("outputs/big.bin"))
            .unwrap()
            .len(),
        1 << 20
    );
    let o = common::wasm_run(["--dir", &dir_arg, &module_arg]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_eq!(
        std::fs::metadata(dir.join("outputs/big.bin"))
            .unwrap()
            .len(),
        2 << 20
    );
}
