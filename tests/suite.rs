//! `brine test`: suites in the wasi-testsuite layout.

mod common;

use common::{brine, ROOT};
use std::path::Path;

fn suite_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for module in ["hello", "cat_file", "exit_code", "write_file"] {
        std::fs::copy(
            Path::new(ROOT).join(format!("fixtures/{module}.wasm")),
            d.join(format!("{module}.wasm")),
        )
        .unwrap();
    }
    std::fs::create_dir(d.join("root")).unwrap();
    std::fs::write(d.join("root/f.txt"), "data\n").unwrap();
    std::fs::write(d.join("manifest.json"), r#"{"name": "demo suite"}"#).unwrap();
    std::fs::write(d.join("hello.json"), r#"{"stdout": "Hello, world!\n"}"#).unwrap();
    std::fs::write(
        d.join("cat_file.json"),
        r#"{"args": ["/f.txt"], "root": "root", "stdout": "data\n"}"#,
    )
    .unwrap();
    std::fs::write(
        d.join("exit_code.json"),
        r#"{"env": {"EXIT_CODE": "3"}, "exit_code": 3}"#,
    )
    .unwrap();
    std::fs::write(
        d.join("write_file.json"),
        r#"{"args": ["/f.txt", "overwritten"], "root": "root"}"#,
    )
    .unwrap();
    dir
}

#[test]
fn a_passing_suite_reports_every_test() {
    let dir = suite_dir();
    let o = brine().arg("test").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert_eq!(
        stdout,
        "suite demo suite:\n  PASS cat_file\n  PASS exit_code\n  PASS hello\n  PASS write_file\n4 passed, 0 failed\n"
    );
    // write_file overwrote /f.txt, but only in its own copy of root.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("root/f.txt")).unwrap(),
        "data\n"
    );
}

#[test]
fn a_failing_test_names_the_difference_and_exits_1() {
    let dir = suite_dir();
    std::fs::write(
        dir.path().join("hello.json"),
        r#"{"stdout": "Goodbye\n", "exit_code": 1}"#,
    )
    .unwrap();
    let o = brine().arg("test").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout.contains(
            "FAIL hello: exit code 0, expected 1; stdout differs: expected \"Goodbye\\n\", got \"Hello, world!\\n\""
        ),
        "{stdout}"
    );
    assert!(stdout.ends_with("3 passed, 1 failed\n"), "{stdout}");
}

#[test]
fn json_output_and_bad_spec_files() {
    let dir = suite_dir();
    std::fs::write(dir.path().join("exit_code.json"), r#"{"exit_kode": 3}"#).unwrap();
    let o = brine()
        .args(["test", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["passed"], 3);
    assert_eq!(report["failed"], 1);
    let tests = report["suites"][0]["tests"].as_array().unwrap();
    let bad = tests.iter().find(|t| t["name"] == "exit_code").unwrap();
    assert!(bad["problems"][0]
        .as_str()
        .unwrap()
        .contains("unknown field `exit_kode`"));
}

#[test]
fn a_missing_suite_directory_is_a_usage_error() {
    let o = brine().args(["test", "no/such/dir"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .starts_with("error: cannot read suite directory no/such/dir"));
}

#[test]
fn the_wasi_conformance_fixtures_all_pass() {
    let o = brine().args(["test", "fixtures/wasi"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let failures: Vec<&str> = stdout.lines().filter(|l| l.contains("FAIL")).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    let passed: usize = last.split(' ').next().unwrap_or("0").parse().unwrap_or(0);
    assert!(passed >= 80, "{last}");
}

/// A suite whose one test (cat_file) has the given JSON, beside a secret outside it.
fn suite_with_case(json: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let top = tempfile::tempdir().unwrap();
    let suite = top.path().join("suite");
    std::fs::create_dir(&suite).unwrap();
    std::fs::create_dir(top.path().join("elsewhere")).unwrap();
    std::fs::write(top.path().join("elsewhere/secret.txt"), "host secret\n").unwrap();
    std::fs::copy(
        Path::new(ROOT).join("fixtures/cat_file.wasm"),
        suite.join("cat_file.wasm"),
    )
    .unwrap();
    std::fs::write(suite.join("cat_file.json"), json).unwrap();
    (top, suite)
}

fn run_suite_with_tmpdir(suite: &Path, tmpdir: &Path) -> (Option<i32>, String) {
    let o = brine()
        .arg("test")
        .arg(suite)
        .env("TMPDIR", tmpdir)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn a_case_root_outside_the_suite_is_refused_and_nothing_is_copied() {
    for root in ["../elsewhere", "/", "root/../../elsewhere"] {
        let json = format!(r#"{{"args": ["/secret.txt"], "root": "{root}", "stdout": "x"}}"#);
        let (top, suite) = suite_with_case(&json);
        std::fs::create_dir(suite.join("root")).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let (code, stdout) = run_suite_with_tmpdir(&suite, tmp.path());
        assert_eq!(code, Some(1), "{root}: {stdout}");
        assert!(
            stdout.contains("must be directories inside the suite directory"),
            "{root}: {stdout}"
        );
        assert!(!stdout.contains("host secret"), "{root}: {stdout}");
        // Nothing was copied, and no scratch directory is left behind.
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "{root}");
        drop(top);
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_in_the_suite_that_leads_out_is_refused() {
    let (top, suite) = suite_with_case(r#"{"args": ["/secret.txt"], "root": "link"}"#);
    std::os::unix::fs::symlink(top.path().join("elsewhere"), suite.join("link")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (code, stdout) = run_suite_with_tmpdir(&suite, tmp.path());
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("inside the suite directory"), "{stdout}");
    assert!(!stdout.contains("host secret"), "{stdout}");
}

#[test]
fn the_scratch_copy_is_removed_when_a_case_fails_half_way() {
    // The first directory copies, the second does not exist: the run fails between them.
    let (_top, suite) = suite_with_case(r#"{"root": "root", "dirs": ["missing"]}"#);
    std::fs::create_dir(suite.join("root")).unwrap();
    std::fs::write(suite.join("root/f.txt"), "data").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (code, stdout) = run_suite_with_tmpdir(&suite, tmp.path());
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("missing"), "{stdout}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn a_guest_flooding_stdout_fails_its_test_without_holding_it_all() {
    // 300 writes of 64 KiB: 18.75 MiB, past the 16 MiB brine test keeps.
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 2)
      (func (export "_start") (local $i i32)
        (i32.store (i32.const 0) (i32.const 1024))
        (i32.store (i32.const 4) (i32.const 65536))
        (loop $again
          (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $again (i32.lt_u (local.get $i) (i32.const 300))))))"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flood.wasm"), wat::parse_str(wat).unwrap()).unwrap();
    let (code, stdout) = run_suite_with_tmpdir(dir.path(), dir.path());
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "stdout was longer than brine test keeps (16777216 bytes; 2883584 more were dropped)"
        ),
        "{stdout}"
    );
}
