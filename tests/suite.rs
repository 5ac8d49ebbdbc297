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
        "suite demo suite: 4 passed, 0 failed\n  PASS cat_file\n  PASS exit_code\n  PASS hello\n  PASS write_file\n4 passed, 0 failed\n"
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
