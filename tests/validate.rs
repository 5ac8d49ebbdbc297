//! `brine validate` end to end: every valid job fixture passes, and every
//! invalid one prints exactly the errors in its `.expected` file.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The crate root, where the tests run brine (so fixture paths are relative to it).
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Job files (`.yaml`, `.yml`, `.json`) directly in `dir`, relative to the crate root, sorted.
fn jobs(dir: &str) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(root().join(dir)).expect("fixture dir is readable");
    let mut found: Vec<PathBuf> = entries
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            matches!(ext, "yaml" | "yml" | "json")
        })
        .map(|p| Path::new(dir).join(p.file_name().expect("file name")))
        .collect();
    found.sort();
    found
}

fn brine() -> Command {
    let mut cmd = Command::cargo_bin("brine").expect("brine is built");
    cmd.current_dir(root());
    cmd
}

#[test]
fn valid_jobs_are_valid() {
    let jobs = jobs("fixtures/jobs");
    assert!(jobs.len() >= 9, "valid fixtures: {jobs:?}");
    for job in jobs {
        let out = brine().arg("validate").arg(&job).output().expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{}: {stderr}", job.display());
        assert_eq!(stdout.lines().next(), Some("valid"), "{}", job.display());
        assert_eq!(stderr, "", "{}", job.display());
    }
}

#[test]
fn invalid_jobs_print_exactly_the_expected_errors() {
    let jobs = jobs("fixtures/jobs/invalid");
    assert!(jobs.len() >= 25, "invalid fixtures: {jobs:?}");
    let mut failures = Vec::new();
    for job in jobs {
        let expected_file = root().join(job.with_extension("expected"));
        let expected = std::fs::read_to_string(&expected_file)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_file.display()));
        let out = brine().arg("validate").arg(&job).output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(2) || stderr != expected || !out.stdout.is_empty() {
            failures.push(format!(
                "{} (exit {:?})\n--- expected\n{expected}--- got\n{stderr}",
                job.display(),
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn json_output_for_a_valid_job() {
    let out = brine()
        .args(["validate", "--json", "fixtures/jobs/hello_legacy.yaml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["valid"], true);
    let task = &v["job"]["task"];
    assert_eq!(task["engine"]["entry_module"], "/wasm/entry.wasm");
    assert_eq!(task["inputs"][0]["target"], "/wasm/entry.wasm");
    assert_eq!(task["inputs"][1]["target"], "/wasm/imports/module_0.wasm");
    assert_eq!(task["env"]["VAR1"], "value1");
}

#[test]
fn json_output_for_an_invalid_job() {
    let out = brine()
        .args([
            "validate",
            "--json",
            "fixtures/jobs/invalid/entry_module_number.yaml",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["valid"], false);
    let e = &v["errors"][0];
    assert_eq!(e["file"], "fixtures/jobs/invalid/entry_module_number.yaml");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(7), Some(22))
    );
    assert_eq!(e["path"], "Tasks[0].Engine.Params.EntryModule");
    let message = e["message"].as_str().unwrap_or_default();
    assert!(message.ends_with("found a number"), "{message}");
}

#[test]
fn summary_says_what_would_run() {
    let out = brine()
        .args(["validate", "fixtures/jobs/write_output.yaml"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for part in [
        "Job `write-output` (batch, namespace default, count 1)",
        "entry module /wasm/write_file.wasm, entrypoint _start",
        r#"argv ["", "/outputs/greeting.txt", "written by brine"]"#,
        "localDirectory fixtures/jobs/../write_file.wasm at /wasm/write_file.wasm (ro)",
        "results: outputs from /outputs",
        "memory limit 64 MiB; execution timeout 30s.",
    ] {
        assert!(stdout.contains(part), "missing {part:?} in:\n{stdout}");
    }
}

#[test]
fn a_missing_file_is_reported() {
    let out = brine()
        .args(["validate", "fixtures/jobs/no-such-job.yaml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("fixtures/jobs/no-such-job.yaml: cannot read the job file"),
        "{stderr}"
    );
}
