//! The results directory and outputs as an attacker sees them (issue #12,
//! items 1, 6, 10, 11, 14 and 15): hostile guests written in WAT, hostile
//! layouts of `--output`, driven through the real binary.

mod common;

use common::job::{module_job, summary_in};
use common::*;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

const WASI: &str = "wasi_snapshot_preview1";

/// Compiles `wat` into `dir/name`.
fn module(dir: &Path, name: &str, wat: &str) -> PathBuf {
    let bytes = wat::parse_str(wat).unwrap_or_else(|e| panic!("{name}: {e}"));
    write_file(dir, name, bytes)
}

/// A job running `/wasm/m.wasm` (the module at `module`) with extra task YAML.
fn job_yaml(module: &Path, extra: &str) -> String {
    module_job(module, &[], "", extra)
}

fn run_job(job: &Path, output: &Path, extra: &[&str]) -> Output {
    brine()
        .arg("run")
        .arg(job)
        .arg("--output")
        .arg(output)
        .args(extra)
        .output()
        .expect("brine runs")
}

/// Names in `dir` starting with `.brine-` (staging, locks, moved-aside results).
fn brine_leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".brine-"))
        .collect()
}

// ------------------------------------------------------------------ item 1

/// A guest that looks for brine's staging directories (`.brine-*`) in the
/// mount `/work` and plants `results/exitCode` and `results/brine.json` in
/// each, as links to `../../secret.txt` (the mount's `secret.txt`). Exits 0
/// when it planted something, 12 when it found no staging directory.
fn staging_planter(dir: &Path) -> PathBuf {
    let wat = format!(
        r#"(module
  (import "{WASI}" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "{WASI}" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "{WASI}" "path_symlink" (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "{WASI}" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "work")
  (data (i32.const 32) "../../secret.txt")
  (data (i32.const 512) "/results/exitCode")
  (data (i32.const 544) "/results/brine.json")
  (data (i32.const 576) ".brine-")
  (func $plant (param $fd i32) (param $name i32) (param $len i32) (param $suffix i32) (param $slen i32)
    (memory.copy (i32.const 64) (local.get $name) (local.get $len))
    (memory.copy (i32.add (i32.const 64) (local.get $len)) (local.get $suffix) (local.get $slen))
    (drop (call $path_symlink (i32.const 32) (i32.const 16) (local.get $fd)
      (i32.const 64) (i32.add (local.get $len) (local.get $slen)))))
  (func $is_staging (param $name i32) (param $len i32) (result i32)
    (local $i i32)
    (if (i32.lt_u (local.get $len) (i32.const 7)) (then (return (i32.const 0))))
    (block $no
      (loop $next
        (br_if $no (i32.ne (i32.load8_u (i32.add (local.get $name) (local.get $i)))
                           (i32.load8_u (i32.add (i32.const 576) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $i) (i32.const 7))))
      (return (i32.const 1)))
    (i32.const 0))
  (func (export "_start")
    (local $fd i32) (local $pos i32) (local $end i32) (local $len i32) (local $planted i32)
    ;; rights: path_open, fd_readdir, path_symlink (no write right: a directory opens read-only)
    (if (call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 2)
          (i64.const 16801792) (i64.const -1) (i32.const 0) (i32.const 16))
      (then (call $proc_exit (i32.const 10))))
    (local.set $fd (i32.load (i32.const 16)))
    (if (call $fd_readdir (local.get $fd) (i32.const 1024) (i32.const 8192) (i64.const 0) (i32.const 20))
      (then (call $proc_exit (i32.const 11))))
    (local.set $pos (i32.const 1024))
    (local.set $end (i32.add (i32.const 1024) (i32.load (i32.const 20))))
    (block $done
      (loop $each
        (br_if $done (i32.gt_u (i32.add (local.get $pos) (i32.const 24)) (local.get $end)))
        (local.set $len (i32.load (i32.add (local.get $pos) (i32.const 16))))
        (if (call $is_staging (i32.add (local.get $pos) (i32.const 24)) (local.get $len))
          (then
            (call $plant (local.get $fd) (i32.add (local.get $pos) (i32.const 24)) (local.get $len)
              (i32.const 512) (i32.const 17))
            (call $plant (local.get $fd) (i32.add (local.get $pos) (i32.const 24)) (local.get $len)
              (i32.const 544) (i32.const 19))
            (local.set $planted (i32.add (local.get $planted) (i32.const 1)))))
        (local.set $pos (i32.add (local.get $pos) (i32.add (i32.const 24) (local.get $len))))
        (br $each)))
    (call $proc_exit (select (i32.const 0) (i32.const 12) (local.get $planted)))))"#
    );
    module(dir, "m.wasm", &wat)
}

/// A job directory holding the planter, a secret, and a job mounting the
/// directory itself (`SourcePath: .`) at `/work`.
fn planter_job(read_write: bool) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("job");
    std::fs::create_dir(&dir).unwrap();
    write_file(&dir, "secret.txt", "TOP-SECRET\n");
    // The module lives outside the mounted directory: one inside a read-write
    // input is refused (a guest could swap it for a link before the next run).
    let module = staging_planter(tmp.path());
    let mount = format!(
        "      - Source: {{Type: localDirectory, Params: {{SourcePath: ., ReadWrite: {read_write}}}}}\n        Target: /work\n"
    );
    let job = write_file(&dir, "job.yaml", job_yaml(&module, &mount));
    (tmp, job)
}

#[test]
fn the_planter_plants_links_in_a_staging_directory_it_can_see() {
    // The control: a staging-like directory inside the mount gets the links,
    // so the refusals below stop a guest that really attacks.
    let (tmp, job) = planter_job(true);
    let dir = job.parent().unwrap();
    std::fs::create_dir_all(dir.join(".brine-fake/results")).unwrap();
    let out = tmp.path().join("elsewhere");
    let o = run_job(&job, &out, &[]);
    assert_code(&o, 0);
    assert_eq!(std::fs::read_to_string(out.join("exitCode")).unwrap(), "0");
    let planted = std::fs::read_link(dir.join(".brine-fake/results/exitCode")).unwrap();
    assert_eq!(planted, Path::new("../../secret.txt"));
}

#[test]
fn results_inside_a_read_write_mount_are_refused_before_running() {
    let (_tmp, job) = planter_job(true);
    let dir = job.parent().unwrap().to_path_buf();
    let o = run_job(&job, &dir.join("results"), &[]);
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "",
        &["results", "lies inside", "read-write input /work"],
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("secret.txt")).unwrap(),
        "TOP-SECRET\n"
    );
    assert!(!dir.join("results").exists());
    assert_eq!(brine_leftovers(&dir), Vec::<String>::new());
}

#[test]
fn results_inside_a_read_only_mount_are_refused_too() {
    let (_tmp, job) = planter_job(false);
    let dir = job.parent().unwrap().to_path_buf();
    let o = run_job(&job, &dir.join("sub/results"), &[]);
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "",
        &["lies inside", "read-only input /work"],
    );
    assert!(!dir.join("sub").exists());
}

// ------------------------------------------------------------------ item 6

/// A guest that runs `symlink ../../../../etc /outputs/up`; exits with the errno.
fn escaping_linker(dir: &Path) -> PathBuf {
    let wat = format!(
        r#"(module
  (import "{WASI}" "path_symlink" (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "{WASI}" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "../../../../etc")
  (data (i32.const 32) "outputs/up")
  (func (export "_start")
    (call $proc_exit (call $path_symlink (i32.const 0) (i32.const 15) (i32.const 3) (i32.const 32) (i32.const 10)))))"#
    );
    module(dir, "m.wasm", &wat)
}

#[test]
fn an_escaping_output_link_is_neither_listed_nor_published() {
    let tmp = tempfile::tempdir().unwrap();
    let module = escaping_linker(tmp.path());
    for publisher in ["published", "published.tar.gz"] {
        let extra = format!(
            "    ResultPaths:\n      - {{Name: out, Path: /outputs}}\n    Publisher: {{Type: local, Params: {{Path: {publisher}}}}}\n"
        );
        let job = write_file(tmp.path(), "job.yaml", job_yaml(&module, &extra));
        let out = tmp.path().join(format!("results-{publisher}"));
        let o = run_job(&job, &out, &[]);
        assert_code(&o, 0);
        assert_eq!(std::fs::read_to_string(out.join("exitCode")).unwrap(), "0");
        // The printed tree shows the results, not the host's /etc.
        let printed = stdout(&o);
        assert!(printed.contains("out/"), "{}", describe(&o));
        assert!(!printed.contains("passwd"), "{}", describe(&o));
        // (Temporary paths are random and may contain "up": look at tree entries only.)
        let listed_up = printed.lines().any(|l| {
            let entry = l.trim_start();
            entry.starts_with("up ") || entry.starts_with("up/") || entry == "up"
        });
        assert!(!listed_up, "{}", describe(&o));
        assert!(
            stderr(&o).contains("dropped 1 symbolic link(s) from the outputs")
                && stderr(&o).contains("out/up"),
            "{}",
            describe(&o)
        );
        assert!(out.join("out").is_dir());
        assert!(out.join("out/up").symlink_metadata().is_err());
        assert_eq!(
            summary_in(&out)["dropped_links"],
            serde_json::json!(["out/up"])
        );
        let published = tmp.path().join(publisher);
        if publisher.ends_with(".tar.gz") {
            let gz = flate2::read::GzDecoder::new(std::fs::File::open(&published).unwrap());
            let names: Vec<String> = tar::Archive::new(gz)
                .entries()
                .unwrap()
                .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
                .collect();
            assert!(names.iter().all(|n| !n.contains("up")), "{names:?}");
            assert!(names.iter().any(|n| n == "out"), "{names:?}");
        } else {
            assert!(published.join("out").is_dir());
            assert!(published.join("out/up").symlink_metadata().is_err());
        }
    }
}

// ------------------------------------------------------------------ item 10

/// A guest that writes one byte at `offset` in `/outputs/big`; exits with the errno.
fn sparse_writer(dir: &Path, offset: u64) -> PathBuf {
    let wat = format!(
        r#"(module
  (import "{WASI}" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "{WASI}" "fd_pwrite" (func $fd_pwrite (param i32 i32 i32 i64 i32) (result i32)))
  (import "{WASI}" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "outputs/big")
  (data (i32.const 64) "x")
  (func (export "_start")
    (local $errno i32)
    (i32.store (i32.const 32) (i32.const 64))
    (i32.store (i32.const 36) (i32.const 1))
    (local.set $errno (call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 11)
      (i32.const 1) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 16)))
    (if (local.get $errno) (then (call $proc_exit (local.get $errno))))
    (call $proc_exit (call $fd_pwrite (i32.load (i32.const 16)) (i32.const 32) (i32.const 1)
      (i64.const {offset}) (i32.const 40)))))"#
    );
    module(dir, "m.wasm", &wat)
}

/// A job whose guest writes one byte at `offset` of an output, under `Resources.Disk: disk`.
fn sparse_job(offset: u64, publisher: &str, disk: &str) -> (tempfile::TempDir, Output) {
    let tmp = tempfile::tempdir().unwrap();
    let module = sparse_writer(tmp.path(), offset);
    let extra = format!(
        "    ResultPaths:\n      - {{Name: out, Path: /outputs}}\n    Publisher: {{Type: local, Params: {{Path: {publisher}}}}}\n    Resources: {{Disk: {disk}}}\n"
    );
    let job = write_file(tmp.path(), "job.yaml", job_yaml(&module, &extra));
    let o = run_job(&job, &tmp.path().join("results"), &[]);
    (tmp, o)
}

#[test]
fn a_sparse_output_is_published_sparse() {
    let offset = 64 << 20;
    let (tmp, o) = sparse_job(offset, "published", "1GiB");
    assert_code(&o, 0);
    let out = tmp.path().join("results");
    assert_eq!(std::fs::read_to_string(out.join("exitCode")).unwrap(), "0");
    let copy = std::fs::metadata(tmp.path().join("published/out/big")).unwrap();
    assert_eq!(copy.len(), offset + 1);
    assert!(
        copy.blocks() * 512 < 1 << 20,
        "the copy takes {} bytes on disk",
        copy.blocks() * 512
    );
    let bytes = std::fs::read(tmp.path().join("published/out/big")).unwrap();
    assert_eq!(bytes.last(), Some(&b'x'));
    assert!(bytes[..bytes.len() - 1].iter().all(|&b| b == 0));
}

#[test]
fn a_terabyte_hole_is_refused_quickly_and_clearly() {
    // The disk limit (10 GiB by default) stops this guest first; with a limit high
    // enough to let it through, the publisher still refuses to copy a terabyte of zeros.
    let (tmp, o) = sparse_job(1 << 40, "published", "2TiB");
    assert_code(&o, 1);
    let out = tmp.path().join("results");
    let error = summary_in(&out)["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        error.contains("out/big")
            && error.contains("sparse file")
            && error.contains("Resources.Disk"),
        "{error}"
    );
    assert!(!tmp.path().join("published").exists());
}

// ------------------------------------------------------------------ item 11

#[test]
fn a_fifo_in_an_input_directory_does_not_block_the_receipt() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    write_file(&data, "a.txt", "a");
    mkfifo(&data.join("pipe"));
    let hello = Path::new(ROOT).join("fixtures/hello.wasm");
    let extra = format!(
        "      - Source: {{Type: localDirectory, Params: {{SourcePath: '{}'}}}}\n        Target: /in\n",
        s(&data)
    );
    let job = write_file(tmp.path(), "job.yaml", job_yaml(&hello, &extra));
    let receipt = tmp.path().join("r.json");
    let out = tmp.path().join("results");
    let o = run_job(&job, &out, &["--receipt", s(&receipt)]);
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains("warning: input /in: 1 special file(s) not hashed")
            && stderr(&o).contains("pipe"),
        "{}",
        describe(&o)
    );
    let receipt: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&receipt).unwrap()).unwrap();
    assert_eq!(
        receipt["inputs"]["/in"]["skipped"],
        serde_json::json!(["pipe"])
    );
    assert!(receipt["inputs"]["/in"]["files"]["a.txt"].is_string());
}

#[test]
fn a_fifo_as_an_input_is_refused_at_staging() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("pipe");
    mkfifo(&fifo);
    let hello = Path::new(ROOT).join("fixtures/hello.wasm");
    let extra = format!(
        "      - Source: {{Type: localDirectory, Params: {{SourcePath: '{}'}}}}\n        Target: /in/pipe\n",
        s(&fifo)
    );
    let job = write_file(tmp.path(), "job.yaml", job_yaml(&hello, &extra));
    let out = tmp.path().join("results");
    let o = run_job(&job, &out, &["--receipt", s(&tmp.path().join("r.json"))]);
    assert_code(&o, 1);
    let error = summary_in(&out)["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        error.contains("/in/pipe") && error.contains("not a regular file or directory"),
        "{error}"
    );
}

// ------------------------------------------------------------------ item 14

/// A job directory with a job running hello.wasm and a local input `data/`.
fn hello_job(tmp: &Path) -> PathBuf {
    let dir = tmp.join("project");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    write_file(&dir.join("data"), "precious.txt", "keep me");
    let hello = Path::new(ROOT).join("fixtures/hello.wasm");
    let extra = "      - Source: {Type: localDirectory, Params: {SourcePath: data}}\n        Target: /data\n";
    write_file(&dir, "job.yaml", job_yaml(&hello, extra))
}

#[track_caller]
fn assert_refused_and_intact(o: &Output, needles: &[&str], job: &Path) {
    assert_one_line_error(o, EXIT_USAGE, "", needles);
    assert!(job.is_file(), "the job file survives");
    assert_eq!(
        std::fs::read_to_string(job.parent().unwrap().join("data/precious.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn output_dot_with_force_is_refused_and_deletes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let job = hello_job(tmp.path());
    let dir = job.parent().unwrap();
    let o = brine()
        .current_dir(dir)
        .args(["run", "job.yaml", "--output", ".", "--force"])
        .output()
        .unwrap();
    assert_refused_and_intact(
        &o,
        &["cannot use . as the results directory", "current directory"],
        &job,
    );
    assert_eq!(brine_leftovers(dir), Vec::<String>::new());
    assert_eq!(brine_leftovers(tmp.path()), Vec::<String>::new());
}

#[test]
fn ancestors_of_the_job_file_of_inputs_home_and_root_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let job = hello_job(tmp.path());
    let dir = job.parent().unwrap();
    let cases: [(PathBuf, &[&str]); 4] = [
        (dir.to_path_buf(), &["holds the job file"]),
        (tmp.path().to_path_buf(), &["holds the job file"]),
        (dir.join("data"), &["holds the read-only input /data"]),
        (PathBuf::from("/"), &["root directory"]),
    ];
    for (output, needles) in cases {
        let o = run_job(&job, &output, &["--force"]);
        assert_refused_and_intact(&o, needles, &job);
    }
    // The home directory (here a stand-in) and its parents.
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    write_file(&home, ".profile", "keep");
    let o = brine()
        .env("HOME", &home)
        .arg("run")
        .arg(&job)
        .arg("--output")
        .arg(&home)
        .arg("--force")
        .output()
        .unwrap();
    assert_refused_and_intact(&o, &["home directory"], &job);
    assert!(home.join(".profile").is_file());
}

#[test]
fn force_moves_the_old_results_aside_until_the_new_ones_are_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let job = hello_job(tmp.path());
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    write_file(&out, "old.txt", "old");
    let o = run_job(&job, &out, &["--force"]);
    assert_code(&o, 0);
    assert_eq!(
        std::fs::read_to_string(out.join("stdout")).unwrap(),
        "Hello, world!\n"
    );
    assert!(!out.join("old.txt").exists());
    assert_eq!(brine_leftovers(tmp.path()), Vec::<String>::new());
}

// ------------------------------------------------------------------ item 15

#[test]
fn a_reserved_result_name_is_refused_at_validation() {
    let tmp = tempfile::tempdir().unwrap();
    let hello = Path::new(ROOT).join("fixtures/hello.wasm");
    let extra = "    ResultPaths:\n      - {Name: brine.json, Path: /outputs}\n";
    let job = write_file(tmp.path(), "job.yaml", job_yaml(&hello, extra));
    let out = tmp.path().join("out");
    let o = run_job(&job, &out, &[]);
    assert_stderr_has(&o, EXIT_USAGE, "`brine.json` is reserved");
    assert!(!out.exists());
}

#[test]
fn a_second_run_to_the_same_dir_is_refused_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let looping = Path::new(ROOT).join("fixtures/loop.wasm");
    let job = write_file(
        tmp.path(),
        "job.yaml",
        job_yaml(&looping, "    Timeouts:\n      ExecutionTimeout: 15\n"),
    );
    let out = tmp.path().join("out");
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("brine"))
        .arg("run")
        .arg(&job)
        .arg("--output")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = tmp.path().join(".brine-out.lock");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&lock)
        .unwrap_or_default()
        .is_empty()
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    let second = run_job(&job, &out, &["--force"]);
    let elapsed = started.elapsed();
    let _ = first.kill();
    let _ = first.wait();
    let pid = format!("(pid {})", first.id());
    assert_one_line_error(
        &second,
        EXIT_USAGE,
        "",
        &["is in use by another brine run", &pid],
    );
    assert!(
        elapsed < Duration::from_secs(15),
        "refused after {elapsed:?}"
    );
}

#[test]
fn an_output_that_is_a_link_or_a_file_is_refused_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let job = hello_job(tmp.path());
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let cases = [
        (
            "dangling",
            Some(tmp.path().join("nowhere")),
            "symbolic link",
        ),
        ("to-dir", Some(real.clone()), "symbolic link"),
        ("file", None, "not a directory"),
    ];
    for (name, target, needle) in cases {
        let output = tmp.path().join(name);
        match &target {
            Some(target) => symlink(target, &output).unwrap(),
            None => {
                write_file(tmp.path(), name, "a file");
            }
        }
        for extra in [&[][..], &["--force"][..]] {
            let o = run_job(&job, &output, extra);
            assert_one_line_error(&o, EXIT_USAGE, "", &[needle, name]);
        }
        assert!(!tmp.path().join("nowhere").exists());
        assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);
    }
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("file")).unwrap(),
        "a file"
    );
    assert_eq!(brine_leftovers(tmp.path()), Vec::<String>::new());
}

/// A hello job with a read-write input `data/` and the given extra task lines
/// (more input entries first, then anything else).
fn job_with_read_write_data(tmp: &Path, extra: &str) -> PathBuf {
    std::fs::create_dir_all(tmp.join("data/models")).unwrap();
    let hello = Path::new(ROOT).join("fixtures/hello.wasm");
    let text = format!(
        "      - Source: {{Type: localDirectory, Params: {{SourcePath: '{}', ReadWrite: true}}}}\n        Target: /data\n{extra}",
        s(&tmp.join("data"))
    );
    write_file(tmp, "job.yaml", job_yaml(&hello, &text))
}

#[test]
fn paths_brine_reaches_by_name_inside_a_read_write_input_are_refused() {
    // A guest could replace any of them with a link: another input's root (mounted
    // by the next run or partition), the publisher's destination, the receipt.
    let tmp = tempfile::tempdir().unwrap();
    let nested = format!(
        "      - Source: {{Type: localDirectory, Params: {{SourcePath: '{}'}}}}\n        Target: /models\n",
        s(&tmp.path().join("data/models"))
    );
    let job = job_with_read_write_data(tmp.path(), &nested);
    let o = run_job(&job, &tmp.path().join("out"), &[]);
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "",
        &["input /models", "lies inside", "read-write input /data"],
    );

    let publisher = format!(
        "    Publisher: {{Type: local, Params: {{Path: '{}'}}}}\n",
        s(&tmp.path().join("data/pub/{jobID}"))
    );
    let job = job_with_read_write_data(tmp.path(), &publisher);
    let o = run_job(&job, &tmp.path().join("out"), &[]);
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "",
        &["local publisher's destination", "lies inside"],
    );

    let job = job_with_read_write_data(tmp.path(), "");
    let receipt = tmp.path().join("data/r.json");
    let o = run_job(&job, &tmp.path().join("out"), &["--receipt", s(&receipt)]);
    assert_one_line_error(&o, EXIT_USAGE, "", &["the receipt", "lies inside"]);
    assert!(!tmp.path().join("out").exists());

    // The same job with nothing of brine's inside the read-write input runs.
    let o = run_job(&job, &tmp.path().join("out"), &[]);
    assert_code(&o, 0);
}
