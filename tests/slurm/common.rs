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
