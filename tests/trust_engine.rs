//! Issue #12, the engine's side of the trust boundary: module resolution stays
//! inside the guest's mounts, and every limit (time, fuel, memory) holds from
//! the first instruction of a start function to the last of the entrypoint.
//!
//! Each test reproduces an attack from the issue through the real binary.

mod common;

use assert_cmd::Command;
use common::job::{inline_tar_gz, local_input, wasm_job, Job};
use common::{
    assert_code, assert_no_panic, assert_stderr_has, brine, describe, fixture, run_job, stderr,
    ROOT,
};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// An archive entry.
enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a Path),
}

fn tar_gz(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        match entry {
            Entry::File(name, data) => {
                header.set_size(data.len() as u64);
                header.set_cksum();
                builder.append_data(&mut header, name, *data).unwrap();
            }
            Entry::Symlink(name, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder.append_link(&mut header, name, target).unwrap();
            }
        }
    }
    let tar_bytes = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar_bytes).unwrap();
    gz.finish().unwrap()
}

fn hello_wasm() -> Vec<u8> {
    std::fs::read(Path::new(ROOT).join("fixtures/hello.wasm")).unwrap()
}

/// `brine wasm run ARGS...`, to which a test adds more arguments.
fn wasm_run<const N: usize>(args: [&str; N]) -> Command {
    let mut cmd = brine();
    cmd.args(["wasm", "run"])
        .args(args)
        .write_stdin(Vec::<u8>::new());
    cmd
}

/// A directory outside every mount holding a module that prints "Hello, world!".
fn host_module_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("host.wasm"), hello_wasm()).unwrap();
    dir
}

// ------------------------------------------------- item 2: module resolution

/// Runs `job`, which must fail without running the host's module, with an error holding `expected`.
#[track_caller]
fn assert_host_module_not_run(job: &Job, expected: &[&str]) {
    let o = job.run_checked(&[]);
    assert_code(&o, 1);
    assert_eq!(
        job.read_or_empty("stdout"),
        "",
        "the host's module ran\n{}",
        describe(&o)
    );
    let error = job.error();
    for part in expected {
        assert!(error.contains(part), "expected `{part}` in: {error}");
    }
}

/// A host directory (mounted as a local input) holding `link` → `target`.
fn local_dir_with_link(link: &str, target: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(link);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, path).unwrap();
    dir
}

#[test]
fn a_module_symlink_out_of_its_mount_is_not_run() {
    let host = host_module_dir();
    let target = host.path().join("host.wasm");
    // As the issue gives it: an inline archive carrying the link. Staging refuses it.
    let archive = tar_gz(&[Entry::Symlink("m.wasm", &target)]);
    let job = Job::new(&wasm_job(
        "/in/m.wasm",
        &[],
        &inline_tar_gz(&archive, "/in"),
        "",
    ));
    assert_host_module_not_run(&job, &["link `m.wasm` may point outside the archive"]);
    // The same link in a local directory, which is mounted in place: module resolution refuses it.
    let local = local_dir_with_link("m.wasm", &target);
    let job = Job::new(&wasm_job(
        "/in/m.wasm",
        &[],
        &local_input(local.path(), "/in"),
        "",
    ));
    assert_host_module_not_run(
        &job,
        &["cannot read module /in/m.wasm", "outside its mount"],
    );
}

#[test]
fn a_directory_symlink_out_of_its_mount_is_not_listed() {
    let host = host_module_dir();
    let archive = tar_gz(&[Entry::Symlink("mods", host.path())]);
    let job = Job::new(&wasm_job(
        "/in/mods",
        &[],
        &inline_tar_gz(&archive, "/in"),
        "",
    ));
    assert_host_module_not_run(&job, &["link `mods` may point outside the archive"]);
    let local = local_dir_with_link("mods", host.path());
    let job = Job::new(&wasm_job(
        "/in/mods",
        &[],
        &local_input(local.path(), "/in"),
        "",
    ));
    assert_host_module_not_run(&job, &["cannot read module /in/mods"]);

    // A module directory whose one .wasm entry links out of the mount.
    let local = local_dir_with_link("mods/m.wasm", &host.path().join("host.wasm"));
    let job = Job::new(&wasm_job(
        "/in/mods",
        &[],
        &local_input(local.path(), "/in"),
        "",
    ));
    assert_host_module_not_run(&job, &["cannot read module /in/mods/m.wasm"]);
}

#[test]
fn a_module_symlink_inside_its_mount_runs_as_the_guest_sees_it() {
    let hello = hello_wasm();
    let archive = tar_gz(&[
        Entry::File("real/hello.wasm", &hello),
        Entry::Symlink("m.wasm", Path::new("real/hello.wasm")),
        Entry::Symlink("mods", Path::new("real")),
    ]);
    for entry in ["/in/m.wasm", "/in/mods"] {
        let job = Job::new(&wasm_job(entry, &[], &inline_tar_gz(&archive, "/in"), ""));
        let o = job.run_checked(&[]);
        assert_code(&o, 0);
        assert_eq!(job.read_or_empty("stdout"), "Hello, world!\n");
    }
}

#[test]
fn a_receipt_hashes_the_module_bytes_that_ran() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("m.wasm");
    std::fs::write(&module, hello_wasm()).unwrap();
    let job = Job::new(&wasm_job(
        "/wasm/m.wasm",
        &[],
        &local_input(&module, "/wasm/m.wasm"),
        "",
    ));
    let receipt = job.path("receipt.json");
    let o = run_job(
        &job.path("job.yaml"),
        &job.path("out"),
        &["--receipt", common::s(&receipt)],
    );
    assert_code(&o, 0);
    let text = std::fs::read_to_string(&receipt).unwrap();
    let expected = blake3::hash(&hello_wasm()).to_hex().to_string();
    assert!(text.contains(&expected), "{text}");
}

// ------------------------------------------- item 13: large functions, timeouts

/// A module whose `_start` body is about 400 KB of code (70,000 constant drops).
fn large_function_module(dir: &Path) -> PathBuf {
    let body = "(drop (i32.const 2000000000))\n".repeat(70_000);
    let wasm = wat::parse_str(format!("(module (func (export \"_start\") {body}))")).unwrap();
    assert!(wasm.len() > 400_000, "{} bytes", wasm.len());
    let path = dir.join("large.wasm");
    std::fs::write(&path, wasm).unwrap();
    path
}

#[test]
fn a_large_function_runs_under_a_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let module = large_function_module(dir.path());
    let o = wasm_run(["--timeout", "60s"])
        .arg(&module)
        .output()
        .unwrap();
    assert_no_panic(&o);
    assert_code(&o, 0);
    assert!(!stderr(&o).contains("fuel"), "{}", describe(&o));

    let job = Job::new(&wasm_job(
        "/wasm/m.wasm",
        &[],
        &local_input(&module, "/wasm/m.wasm"),
        "    Timeouts:\n      ExecutionTimeout: 600\n",
    ));
    let o = job.run_checked(&[]);
    assert_code(&o, 0);
    assert_eq!(job.error(), "");
}

// --------------------------------------- item 16: timeouts too long to represent

const FOREVER: &str = "9223372036854775807";

#[test]
fn an_unrepresentable_timeout_runs_without_a_deadline() {
    let o = wasm_run(["--timeout", &format!("{FOREVER}s"), "fixtures/hello.wasm"])
        .output()
        .unwrap();
    assert_no_panic(&o);
    assert_code(&o, 0);
    assert_eq!(common::stdout(&o), "Hello, world!\n");

    let job = Job::new(&wasm_job(
        "/wasm/m.wasm",
        &[],
        &local_input(fixture("hello.wasm"), "/wasm/m.wasm"),
        &format!("    Timeouts:\n      ExecutionTimeout: {FOREVER}\n"),
    ));
    let o = job.run_checked(&[]);
    assert_code(&o, 0);
    assert_eq!(job.read_or_empty("stdout"), "Hello, world!\n");

    let suite = tempfile::tempdir().unwrap();
    std::fs::write(suite.path().join("hello.wasm"), hello_wasm()).unwrap();
    let o = brine()
        .args(["test", "--timeout", &format!("{FOREVER}s")])
        .arg(suite.path())
        .output()
        .unwrap();
    assert_no_panic(&o);
    assert_code(&o, 0);
}

// ------------------------------------------------ item 8: start-function loops

/// Writes the module `text` as `dir/name` (binary) and returns its path.
fn write_wat(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, wat::parse_str(text).unwrap()).unwrap();
    path
}

const START_LOOP: &str =
    "(module (func $s (loop (br 0))) (start $s) (func (export \"f\")) (func (export \"_start\")))";
const IMPORTS_LIB: &str = "(module (import \"/lib.wasm\" \"f\" (func)) (func (export \"_start\")))";

/// Runs `run`, asserting it ends within a few seconds of a 1 s limit.
fn within_seconds(run: impl FnOnce() -> Output) -> Output {
    let started = Instant::now();
    let o = run();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(15),
        "took {took:?}\n{}",
        describe(&o)
    );
    o
}

#[test]
fn a_start_function_loop_stops_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let entry = write_wat(dir.path(), "loop.wasm", START_LOOP);
    let o = within_seconds(|| wasm_run(["--timeout", "1s"]).arg(&entry).output().unwrap());
    assert_no_panic(&o);
    assert_stderr_has(&o, common::EXIT_TIMEOUT, "timed out");

    let main = write_wat(dir.path(), "main.wasm", IMPORTS_LIB);
    let o = within_seconds(|| {
        wasm_run(["--timeout", "1s", "--import"])
            .arg(format!("/lib.wasm={}", entry.display()))
            .arg(&main)
            .output()
            .unwrap()
    });
    assert_no_panic(&o);
    assert_code(&o, common::EXIT_TIMEOUT);
}

#[test]
fn a_start_function_loop_stops_at_the_execution_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let looping = write_wat(dir.path(), "loop.wasm", START_LOOP);
    let main = write_wat(dir.path(), "main.wasm", IMPORTS_LIB);
    let timeout = "    Timeouts:\n      ExecutionTimeout: 1\n";
    let entry_loops = wasm_job(
        "/wasm/m.wasm",
        &[],
        &local_input(&looping, "/wasm/m.wasm"),
        timeout,
    );
    let import_loops = wasm_job(
        "/main.wasm",
        &[],
        &(local_input(&main, "/main.wasm") + &local_input(&looping, "/lib.wasm")),
        timeout,
    );
    for yaml in [entry_loops, import_loops] {
        let job = Job::new(&yaml);
        let o = within_seconds(|| job.run_checked(&[]));
        assert_code(&o, 1);
        assert_eq!(job.error(), "Execution timed out");
    }
}

#[test]
fn a_start_function_still_runs_first_and_stays_hidden() {
    let dir = tempfile::tempdir().unwrap();
    // The start function sets the global `_start` then returns.
    let module = write_wat(
        dir.path(),
        "m.wasm",
        "(module (global $g (mut i32) (i32.const 0)) (func $s (global.set $g (i32.const 7)))
           (start $s) (func (export \"get\") (result i32) (global.get $g)))",
    );
    let o = wasm_run(["--fuel", "1000000", "--invoke", "get"])
        .arg(&module)
        .output()
        .unwrap();
    assert_code(&o, 0);
    assert_eq!(common::stdout(&o), "7\n");
    let o = wasm_run(["--invoke", "nope"])
        .arg(&module)
        .output()
        .unwrap();
    assert_stderr_has(&o, common::EXIT_USAGE, "exported functions: get (choose");

    // No other module can import it to run the start function again ...
    let importer = write_wat(
        dir.path(),
        "importer.wasm",
        "(module (import \"lib\" \"\\00brine:start\" (func)) (func (export \"_start\")))",
    );
    let o = wasm_run(["--import"])
        .arg(format!("lib={}", module.display()))
        .arg(&importer)
        .output()
        .unwrap();
    assert_stderr_has(&o, common::EXIT_USAGE, "does not export it");

    // ... and a module cannot claim the name to keep its start function out of reach.
    let squatter = write_wat(
        dir.path(),
        "squatter.wasm",
        "(module (func $s (loop (br 0))) (start $s) (export \"\\00brine:start\" (func $s)))",
    );
    let o = wasm_run(["--timeout", "1s"])
        .arg(&squatter)
        .output()
        .unwrap();
    assert_stderr_has(&o, common::EXIT_USAGE, "reserves");
}

// ------------------------------------------------ item 9: one memory budget

/// 40 memories of 64 MiB each (multi-memory).
fn forty_memories() -> String {
    format!(
        "(module {} (func (export \"_start\")))",
        "(memory 1024) ".repeat(40)
    )
}

/// 10 tables of 10 M funcref elements: 400 MB of host memory from ~100 bytes.
fn ten_tables() -> String {
    format!(
        "(module {} (func (export \"_start\")))",
        "(table 10000000 funcref) ".repeat(10)
    )
}

#[test]
fn all_memories_and_tables_share_the_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("memories", forty_memories()), ("tables", ten_tables())] {
        let module = write_wat(dir.path(), &format!("{name}.wasm"), &text);
        let o = wasm_run(["--max-memory", "64MiB"])
            .arg(&module)
            .output()
            .unwrap();
        common::assert_one_line_error(
            &o,
            common::EXIT_USAGE,
            "error: cannot instantiate",
            &[
                "the guest's memories and tables need more than the memory limit",
                "64 MiB allowed",
                "--max-memory",
            ],
        );

        let job = Job::new(&wasm_job(
            "/wasm/m.wasm",
            &[],
            &local_input(&module, "/wasm/m.wasm"),
            "    Resources:\n      Memory: 64MiB\n",
        ));
        let o = job.run_checked(&[]);
        assert_code(&o, 1);
        let error = job.error();
        assert!(
            error.contains("need more than the memory limit") && error.contains("Resources.Memory"),
            "{name}: {error}"
        );
    }
}

#[test]
fn memory_grow_fails_once_all_memories_together_reach_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    // Two one-page memories; the first grows to 62.5 MiB, then the second may not.
    let module = write_wat(
        dir.path(),
        "grow.wasm",
        "(module (memory $a 1) (memory $b 1)
           (func (export \"grow\") (result i32 i32)
             (memory.grow $a (i32.const 1000)) (memory.grow $b (i32.const 1000))))",
    );
    let o = wasm_run(["--max-memory", "64MiB", "--invoke", "grow"])
        .arg(&module)
        .output()
        .unwrap();
    assert_code(&o, 0);
    assert_eq!(common::stdout(&o), "1\n-1\n");

    // A guest that fails after a refused growth is told which limit refused it.
    let module = write_wat(
        dir.path(),
        "grow_or_trap.wasm",
        "(module (memory $a 1) (memory $b 1)
           (func (export \"_start\")
             (drop (memory.grow $a (i32.const 1000)))
             (if (i32.eq (memory.grow $b (i32.const 1000)) (i32.const -1)) (then unreachable))))",
    );
    let o = wasm_run(["--max-memory", "64MiB"])
        .arg(&module)
        .output()
        .unwrap();
    assert_stderr_has(&o, common::EXIT_TRAP, "note: the guest was refused memory: the guest's memories and tables need more than the memory limit");
}

#[test]
fn a_missing_entrypoint_lists_a_bounded_number_of_exports() {
    let mut wat = String::from("(module (func $f)");
    for i in 0..100_000 {
        wat.push_str(&format!(" (export \"f{i}\" (func $f))"));
    }
    wat.push(')');
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("many.wasm");
    std::fs::write(&module, wat::parse_str(&wat).unwrap()).unwrap();
    let out = common::wasm_run(["--invoke".as_ref(), "nope".as_ref(), module.as_os_str()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(common::EXIT_USAGE), "{stderr}");
    assert!(stderr.len() < 2_000, "{} bytes of error", stderr.len());
    assert!(stderr.contains(", and 99980 more (choose one"), "{stderr}");
}

#[test]
fn a_job_that_traps_after_a_refused_growth_names_the_memory_limit() {
    let wat = r#"(module (memory 1)
      (func (export "_start")
        (if (i32.eq (memory.grow (i32.const 100)) (i32.const -1)) (then unreachable))))"#;
    let modules = tempfile::tempdir().unwrap();
    let module = modules.path().join("m.wasm");
    std::fs::write(&module, wat::parse_str(wat).unwrap()).unwrap();
    let job = Job::new(&wasm_job(
        "/wasm/m.wasm",
        &[],
        &local_input(&module, "/wasm/m.wasm"),
        "    Resources: {Memory: 1MiB}\n",
    ));
    let o = job.run_checked(&[]);
    assert_code(&o, 1);
    let error = job.error();
    assert!(error.contains("wasm trap"), "{error}");
    assert!(
        error.contains("the guest was refused memory: the guest's memories and tables need more than the memory limit"),
        "{error}"
    );
    assert!(error.contains("Resources.Memory"), "{error}");
}
