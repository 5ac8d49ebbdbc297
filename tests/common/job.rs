//! A job directory for `brine run` tests: `job.yaml` in a temp dir, results
//! in its `out/`, and the YAML shapes the end-to-end tests build jobs from.

use super::{brine, ROOT};
use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A temp directory holding `job.yaml`; `brine run` publishes into its `out/`.
pub struct Job {
    dir: tempfile::TempDir,
}

impl Job {
    /// A job from `yaml` (see [`Job::write`] for its placeholders).
    pub fn new(yaml: &str) -> Job {
        let job = Job::empty();
        job.write(yaml);
        job
    }

    /// A job directory without a job file yet, for tests that put files in
    /// it before writing the job that names them.
    pub fn empty() -> Job {
        Job {
            dir: tempfile::tempdir().expect("a temp dir"),
        }
    }

    /// Writes `job.yaml` from `yaml`, with `@ROOT@` replaced by the crate
    /// root and `@DIR@` by the job's directory.
    pub fn write(&self, yaml: &str) {
        let text = yaml
            .replace("@ROOT@", ROOT)
            .replace("@DIR@", &self.dir().to_string_lossy());
        std::fs::write(self.file(), text).expect("write job.yaml");
    }

    /// The job's directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `rel` inside the job's directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir().join(rel)
    }

    /// The job file.
    pub fn file(&self) -> PathBuf {
        self.path("job.yaml")
    }

    /// The results directory.
    pub fn out(&self) -> PathBuf {
        self.path("out")
    }

    /// `brine run JOB --output OUT`, to which a test adds flags or environment.
    pub fn command(&self) -> Command {
        let mut cmd = brine();
        cmd.arg("run")
            .arg(self.file())
            .arg("--output")
            .arg(self.out());
        cmd
    }

    /// Runs `brine run JOB --output OUT EXTRA...`.
    pub fn run(&self, extra: &[&str]) -> Output {
        self.command().args(extra).output().expect("brine runs")
    }

    /// Runs the job `--quiet`, with short retry pauses and no IPFS gateway
    /// from the environment: the shape of the download and staging tests.
    pub fn run_quiet(&self, extra: &[&str]) -> Output {
        self.command()
            .arg("--quiet")
            .args(extra)
            .env("BRINE_RETRY_BASE_MS", "1")
            .env_remove("BRINE_IPFS_GATEWAY")
            .output()
            .expect("brine runs")
    }

    /// Runs `brine run JOB --output OUT EXTRA...` and asserts brine did not panic.
    pub fn run_checked(&self, extra: &[&str]) -> Output {
        let o = self.run(extra);
        super::assert_no_panic(&o);
        o
    }

    /// The results file `rel` as text; panics naming it when it cannot be read.
    pub fn read(&self, rel: &str) -> String {
        let path = self.out().join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The results file `rel` as bytes.
    pub fn read_bytes(&self, rel: &str) -> Vec<u8> {
        let path = self.out().join(rel);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The results file `rel` as text, or "" when there is none.
    pub fn read_or_empty(&self, rel: &str) -> String {
        std::fs::read_to_string(self.out().join(rel)).unwrap_or_default()
    }

    /// The run summary, `brine.json`.
    pub fn summary(&self) -> serde_json::Value {
        self.summary_at("brine.json")
    }

    /// The summary at `rel` (a partition's is `N/brine.json`).
    pub fn summary_at(&self, rel: &str) -> serde_json::Value {
        serde_json::from_str(&self.read(rel)).expect("the summary is JSON")
    }

    /// The summary's `error`, or "" when it has none.
    pub fn error(&self) -> String {
        let summary = self.summary();
        summary["error"].as_str().unwrap_or_default().to_string()
    }

    /// Asserts the job failed (exit 1, summary status `failed`) with an
    /// error holding every one of `needles`; returns the error.
    #[track_caller]
    pub fn assert_failed_with(&self, o: &Output, needles: &[&str]) -> String {
        assert_eq!(o.status.code(), Some(1), "{}", super::describe(o));
        let summary = self.summary();
        assert_eq!(summary["status"], "failed", "{summary}");
        let error = summary["error"].as_str().unwrap_or_default().to_string();
        for needle in needles {
            assert!(error.contains(needle), "error {error:?} lacks {needle:?}");
        }
        error
    }

    /// Asserts the job's directory holds only the job file and the results.
    #[track_caller]
    pub fn assert_no_leftovers(&self) {
        let names = self.entries();
        assert_eq!(names, ["job.yaml", "out"], "leftovers beside the results");
    }

    /// Names in the job's directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        super::entries(self.dir())
    }

    /// Names in the job's directory other than the job file and the results.
    pub fn leftovers(&self) -> Vec<String> {
        let mut names = self.entries();
        names.retain(|n| n != "job.yaml" && n != "out");
        names
    }
}

/// The run summary (`brine.json`) in the results directory `dir`.
pub fn summary_in(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("brine.json")).expect("brine.json");
    serde_json::from_str(&text).expect("brine.json is JSON")
}

/// The YAML of a one-task wasm job (`Name: t`, `Type: batch`): `entry` is the
/// entry module's guest path, `params` its Parameters (the line is left out
/// when there are none), `inputs` the InputSources entries and `task_extra`
/// more task YAML (Resources, Timeouts, ResultPaths...).
pub fn wasm_job(entry: &str, params: &[&str], inputs: &str, task_extra: &str) -> String {
    let params = if params.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = params.iter().map(|p| format!("'{p}'")).collect();
        format!("        Parameters: [{}]\n", quoted.join(", "))
    };
    format!(
        "Name: t\nType: batch\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: {entry}\n{params}    InputSources:\n{inputs}{task_extra}"
    )
}

/// A job running the module at host path `module` (mounted at
/// `/wasm/m.wasm`) with `params`, more `inputs` and `task_extra`.
pub fn module_job(
    module: impl AsRef<Path>,
    params: &[&str],
    inputs: &str,
    task_extra: &str,
) -> String {
    let entry = local_input(module, "/wasm/m.wasm");
    wasm_job("/wasm/m.wasm", params, &(entry + inputs), task_extra)
}

/// An InputSources entry mounting host `path` at `target`.
pub fn local_input(path: impl AsRef<Path>, target: &str) -> String {
    source_input(
        &format!(
            "{{Type: localDirectory, Params: {{SourcePath: '{}'}}}}",
            path.as_ref().display()
        ),
        target,
    )
}

/// An InputSources entry mounting `source` (a YAML flow mapping) at `target`.
pub fn source_input(source: &str, target: &str) -> String {
    format!("      - Source: {source}\n        Target: {target}\n")
}

/// An inline source (a YAML flow mapping) holding `tar_gz` as a data URL.
pub fn inline_source(tar_gz: &[u8]) -> String {
    format!(
        "{{Type: inline, Params: {{URL: 'data:application/gzip;base64,{}'}}}}",
        super::base64(tar_gz)
    )
}

/// An InputSources entry mounting an inline tar.gz at `target`.
pub fn inline_tar_gz(tar_gz: &[u8], target: &str) -> String {
    source_input(&inline_source(tar_gz), target)
}

/// A Count=`count` job of env.wasm in `dir/jobs/job.yaml`, naming its module
/// `../env.wasm` (copied beside `jobs/`), so a copy must keep the layout;
/// `task_extra` is appended to the task (indented YAML lines).
pub fn env_job(dir: &std::path::Path, task_extra: &str, count: u32) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    std::fs::copy(
        std::path::Path::new(super::ROOT).join("fixtures/env.wasm"),
        dir.join("env.wasm"),
    )
    .unwrap();
    let yaml = format!(
        "Name: envjob\nType: batch\nCount: {count}\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /wasm/env.wasm\n    InputSources:\n      - Source:\n          Type: localDirectory\n          Params:\n            SourcePath: ../env.wasm\n        Target: /wasm/env.wasm\n{task_extra}"
    );
    let file = dir.join("jobs/job.yaml");
    std::fs::write(&file, yaml).unwrap();
    file
}
