//! Deterministic runs, receipts, `brine verify`, and record/replay, through the binary.

mod common;

use common::journal::{journal_lines, write_journal};
use common::{
    brine, demo_copy, record_demo_job, record_wasm_run, replay, replay_job, stderr, stdout, verify,
    verify_results,
};
use std::path::{Path, PathBuf};
use std::process::Output;

fn run_with_receipt(dir: &Path, out: &str, receipt: &str) -> Output {
    brine()
        .arg("run")
        .arg(dir.join("job.yaml"))
        .arg("--output")
        .arg(dir.join(out))
        .args(["--force", "--deterministic", "--receipt"])
        .arg(dir.join(receipt))
        .output()
        .unwrap()
}

#[test]
fn twenty_deterministic_runs_give_identical_receipts_and_results() {
    let dir = demo_copy();
    let o = run_with_receipt(dir.path(), "out0", "r0.json");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let first = std::fs::read(dir.path().join("r0.json")).unwrap();
    let first_summary = std::fs::read(dir.path().join("out0/brine.json")).unwrap();
    for i in 1..20 {
        let o = run_with_receipt(dir.path(), "out", "r.json");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(
            std::fs::read(dir.path().join("r.json")).unwrap(),
            first,
            "run {i}"
        );
        assert_eq!(
            std::fs::read(dir.path().join("out/brine.json")).unwrap(),
            first_summary,
            "run {i}"
        );
    }
    let receipt: serde_json::Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(receipt["format"], "brine-receipt/1");
    assert!(receipt["partitions"][0]["fuel_consumed"].as_u64().unwrap() > 0);
    assert!(receipt["partitions"][0]["outputs"]["outputs/summary.csv"].is_string());
}

#[test]
fn verify_passes_and_names_what_was_tampered_with() {
    let dir = demo_copy();
    let d = dir.path();
    assert_eq!(run_with_receipt(d, "out", "r.json").status.code(), Some(0));
    let receipt = d.join("r.json");
    let o = verify(&[&receipt, &d.join("job.yaml")]);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), "verified\n".to_string()),
        "{}",
        stderr(&o)
    );

    // An output changed after the run.
    let summary = d.join("out/outputs/summary.csv");
    std::fs::write(
        &summary,
        std::fs::read_to_string(&summary)
            .unwrap()
            .replace("east", "East"),
    )
    .unwrap();
    let o = verify_results(&receipt, &d.join("out"));
    assert_eq!(
        stdout(&o),
        "differs: outputs/outputs/summary.csv: content differs\n"
    );
    assert_eq!(o.status.code(), Some(1));

    // One byte of an input.
    let sales = d.join("data/sales.csv");
    let original = std::fs::read(&sales).unwrap();
    let mut tampered = original.clone();
    tampered[20] ^= 1;
    std::fs::write(&sales, &tampered).unwrap();
    let o = verify(&[&receipt, &d.join("job.yaml")]);
    assert_eq!(stdout(&o), "differs: input /inputs/sales.csv differs\n");
    assert_eq!(o.status.code(), Some(1));
    std::fs::write(&sales, &original).unwrap();

    // One byte of the module (in a custom section, so it still runs).
    let module = d.join("csv_summary.wasm");
    let mut bytes = std::fs::read(&module).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&module, &bytes).unwrap();
    let o = verify(&[&receipt, &d.join("job.yaml")]);
    assert_eq!(
        stdout(&o),
        "differs: module /wasm/csv_summary.wasm differs\n"
    );
}

#[test]
fn receipts_from_several_hosts_have_a_majority() {
    let dir = demo_copy();
    let d = dir.path();
    assert_eq!(run_with_receipt(d, "out", "a.json").status.code(), Some(0));
    std::fs::copy(d.join("a.json"), d.join("b.json")).unwrap();
    let text = std::fs::read_to_string(d.join("a.json")).unwrap();
    std::fs::write(
        d.join("c.json"),
        text.replace("\"exit_code\": 0", "\"exit_code\": 3"),
    )
    .unwrap();
    let o = brine()
        .args(["verify", "--receipts"])
        .args([d.join("a.json"), d.join("b.json"), d.join("c.json")])
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(out.starts_with("majority: 2 of 3"), "{out}");
    assert!(
        out.contains("c.json: exit code differs: Some(0) vs Some(3)"),
        "{out}"
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn deterministic_module_runs_repeat_and_seeds_matter() {
    let run = |extra: &[&str]| {
        let o = brine()
            .args(["wasm", "run"])
            .args(extra)
            .arg("fixtures/time_random.wasm")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let a = run(&["--deterministic"]);
    assert_eq!(a, run(&["--deterministic"]));
    assert!(a.starts_with("realtime=1577836800000"), "{a}");
    assert_ne!(a, run(&["--deterministic", "--seed", "7"]));
    assert_ne!(run(&[]), run(&[]));
}

#[test]
fn a_recorded_run_replays_identically() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let o = record_wasm_run(&journal, "fixtures/time_random.wasm");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let recorded = stdout(&o);
    for _ in 0..3 {
        let o = replay(&journal, Some(Path::new("fixtures/time_random.wasm")), &[]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), recorded);
    }
}

#[test]
fn a_recorded_job_replays_to_identical_results() {
    let dir = demo_copy();
    let d = dir.path();
    let journal = record_demo_job(d);
    // The input changes after recording; the replay still sees what was recorded.
    std::fs::write(d.join("data/sales.csv"), "region,amount\nnowhere,1\n").unwrap();
    let o = replay_job(&journal, Some(&d.join("job.yaml")), &d.join("rep"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for file in ["stdout", "stderr", "exitCode", "outputs/summary.csv"] {
        assert_eq!(
            std::fs::read(d.join("rec").join(file)).unwrap(),
            std::fs::read(d.join("rep").join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn a_divergence_names_the_call_and_what_differed() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let o = record_wasm_run(&journal, "fixtures/hello.wasm");
    assert_eq!(o.status.code(), Some(0));
    // Make the journal claim the guest's write returned one byte fewer.
    let lines = journal_lines(&journal);
    let edited: Vec<String> = lines
        .iter()
        .map(|l| {
            if l.contains("\"call\":\"write\"") {
                l.replace("{\"number\":14}", "{\"number\":13}")
            } else {
                l.clone()
            }
        })
        .collect();
    assert_ne!(lines, edited, "the journal has a write of 14 bytes");
    let tampered: PathBuf = dir.path().join("tampered.journal");
    write_journal(&tampered, &edited);
    let o = replay(&tampered, Some(Path::new("fixtures/hello.wasm")), &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("diverged from the journal at call #"), "{err}");
    assert!(
        err.contains("write(1 14): the journal answered Number(13), the replay got Number(14)"),
        "{err}"
    );
}
