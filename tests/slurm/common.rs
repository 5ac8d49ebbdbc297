//! What the Slurm tests share: whether a cluster answers, and a job whose
//! partitions each read a urlDownload input (to count downloads).
//! Included with `#[path]` by tests/slurm_*.rs.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Whether a Slurm controller answers with a node that can take work; prints why not.
pub fn slurm_is_up() -> bool {
    let answer = std::process::Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output();
    let states = match answer {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            eprintln!(
                "skipped: sinfo failed ({}): {}",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            );
            return false;
        }
        Err(e) => {
            eprintln!("skipped: no Slurm here (sinfo: {e}); `make slurm-cluster` or BRINE_SLURM=1 make test brings one up");
            return false;
        }
    };
    let usable = states
        .lines()
        .any(|s| ["idle", "mixed", "allocated"].contains(&s.trim()));
    if !usable {
        eprintln!(
            "skipped: no Slurm node can take work (sinfo: {})",
            states.trim()
        );
    }
    usable
}

/// A Count=`count` job in `dir/jobs/job.yaml` running cat_file.wasm (copied
/// to `dir/cat_file.wasm`, named `../cat_file.wasm`) on `/inputs/data.txt`, a
/// urlDownload of `url`; an inline input at `/more` rides along.
pub fn url_job(dir: &Path, url: &str, count: u32, task_extra: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cat_file.wasm"),
        dir.join("cat_file.wasm"),
    )
    .unwrap();
    let yaml = format!(
        "Name: urljob\nType: batch\nCount: {count}\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /wasm/cat_file.wasm\n        Parameters: [/inputs/data.txt]\n    InputSources:\n      - Source: {{Type: localDirectory, Params: {{SourcePath: ../cat_file.wasm}}}}\n        Target: /wasm/cat_file.wasm\n      - Source: {{Type: urlDownload, Params: {{URL: '{url}'}}}}\n        Target: /inputs\n      - Source: {{Type: inline, Params: {{URL: 'data:,inline'}}}}\n        Target: /more\n{task_extra}"
    );
    let file = dir.join("jobs/job.yaml");
    std::fs::write(&file, yaml).unwrap();
    file
}

/// A deterministic Count=`count` job in `dir/job.yaml`: the demo's
/// csv_summary.wasm (copied beside it) summarizes its sales.csv into
/// `outputs/summary.csv`, the same bytes on every run.
pub fn deterministic_job(dir: &Path, count: u32) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("fixtures/csv_summary.wasm"),
        dir.join("csv_summary.wasm"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::copy(
        root.join("fixtures/jobs/demo/data/sales.csv"),
        dir.join("data/sales.csv"),
    )
    .unwrap();
    let yaml = format!(
        "Name: detjob\nType: batch\nCount: {count}\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /wasm/csv_summary.wasm\n        Deterministic: true\n        Parameters: [inputs/sales.csv, outputs/summary.csv]\n    InputSources:\n      - Source: {{Type: localDirectory, Params: {{SourcePath: csv_summary.wasm}}}}\n        Target: /wasm/csv_summary.wasm\n      - Source: {{Type: localDirectory, Params: {{SourcePath: data}}}}\n        Target: /inputs\n    ResultPaths:\n      - Name: outputs\n        Path: /outputs\n"
    );
    let file = dir.join("job.yaml");
    std::fs::write(&file, yaml).unwrap();
    file
}

/// The one JSON object a `--json` command printed on stdout.
pub fn json_object(stdout: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(stdout);
    assert_eq!(text.trim().lines().count(), 1, "one line of JSON: {text}");
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// `brine slurm submit JOB --output OUT` (no timeout of its own: a cluster
/// test adds one with `--wait`), for the caller to add to.
pub fn submit(job: &Path, out: &Path) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_brine"));
    command
        .args(["slurm", "submit"])
        .arg(job)
        .arg("--output")
        .arg(out);
    command
}
