//! One partition per process (`brine run --partition`), `brine gather`, and
//! `brine slurm submit --dry-run` / without sbatch: the parts of running on a
//! cluster that need no cluster. tests/slurm_cluster.rs runs them on Slurm.

mod common;
mod http_fixture;
#[path = "slurm/common.rs"]
mod slurm_common;

use common::job::env_job;
use common::{brine, code, stderr, stdout};
#[cfg(feature = "http")]
use http_fixture::{Reply, Server};
#[cfg(feature = "http")]
use slurm_common::url_job;
use slurm_common::{deterministic_job, json_object, submit};
use std::path::Path;

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn partitions_run_at_once_write_their_own_directories_of_one_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let job = env_job(tmp.path(), "", 4);
    let out = tmp.path().join("out");
    let children: Vec<_> = [3, 0, 2]
        .iter()
        .map(|i| {
            std::process::Command::new(env!("CARGO_BIN_EXE_brine"))
                .arg("run")
                .arg(&job)
                .arg("--output")
                .arg(&out)
                .args(["--partition", &i.to_string()])
                .env("SLURM_JOB_ID", format!("90{i}"))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    for i in [0, 2, 3] {
        let stdout = std::fs::read_to_string(out.join(format!("{i}/stdout"))).unwrap();
        assert!(
            stdout.contains(&format!("BACALHAU_PARTITION_INDEX={i}\n")),
            "{stdout}"
        );
        assert!(stdout.contains("BACALHAU_PARTITION_COUNT=4\n"), "{stdout}");
        let summary = json(&out.join(format!("{i}/brine.json")));
        assert_eq!(summary["partition_index"], i);
        assert_eq!(summary["task_id"], format!("90{i}"));
        assert!(
            summary["node"].as_str().is_some_and(|n| !n.is_empty()),
            "{summary}"
        );
    }
    assert!(!out.join("1").exists(), "only the partitions asked for ran");
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no lock or staging is left: {leftovers:?}"
    );

    // Partition 1 is missing: gather says so and fails, naming it.
    let o = brine().arg("gather").arg(&out).output().unwrap();
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("1 of 4 partitions did not complete: 1 (missing)"),
        "{}",
        stderr(&o)
    );
    let table = stdout(&o);
    assert!(
        table.contains("job envjob: 4 partitions: 3 completed, 0 failed, 1 missing, 0 running"),
        "{table}"
    );
    assert_eq!(json(&out.join("brine.json"))["missing"], 1);

    // `auto` takes the index from the array job's environment.
    let o = brine()
        .arg("run")
        .arg(&job)
        .arg("--output")
        .arg(&out)
        .args(["--partition", "auto"])
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_JOB_ID", "77")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(json(&out.join("1/brine.json"))["task_id"], "77_1");
    let o = brine()
        .args(["gather", "--json"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["completed"], 4);
    assert_eq!(report["partitions"][1]["task_id"], "77_1");
    assert_eq!(json(&out.join("brine.json")), report);
}

#[test]
fn a_partition_that_cannot_be_chosen_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let job = env_job(tmp.path(), "", 3);
    let out = tmp.path().join("out");
    let run = |partition: &str| {
        brine()
            .arg("run")
            .arg(&job)
            .arg("--output")
            .arg(&out)
            .args(["--partition", partition])
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
            .output()
            .unwrap()
    };
    let o = run("auto");
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains(
            "none of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX is set"
        ),
        "{}",
        stderr(&o)
    );
    let o = run("3");
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("partition 3 does not exist: the job has Count 3 (partitions 0 to 2)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(code(&run("two")), 2);
    assert!(!out.exists(), "nothing was created");
}

#[test]
fn dry_run_prepares_dir_and_prints_the_array_script_submitting_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let job = env_job(tmp.path(), "", 5);
    let out = tmp.path().join("out");
    let o = submit(&job, &out)
        .args([
            "--max-parallel",
            "2",
            "--sbatch-arg=--partition=brine",
            "--dry-run",
        ])
        .env("PATH", tmp.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let script = stdout(&o);
    assert!(script.contains("#SBATCH --array=0-4%2\n"), "{script}");
    assert!(script.contains("#SBATCH --partition=brine\n"), "{script}");
    let copy = out.join(".brine/job/jobs/job.yaml");
    let run_line = format!(
        "run '{}' --output '{}' --partition \"$SLURM_ARRAY_TASK_ID\"",
        copy.display(),
        out.display()
    );
    assert!(script.contains(&run_line), "{script}");
    assert_eq!(
        std::fs::read_to_string(out.join(".brine/job.sbatch")).unwrap(),
        script,
        "the script is in DIR, ready for sbatch"
    );
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        std::fs::read_to_string(&job).unwrap(),
        "a job with nothing to fetch is copied as it is"
    );
    assert!(!out.join(".brine/inputs").exists());
}

#[cfg(feature = "http")]
#[test]
fn inputs_are_fetched_once_at_submit_and_every_partition_mounts_the_copy() {
    let server = Server::start(|_, _| Reply::ok("fetched once\n"));
    let tmp = tempfile::tempdir().unwrap();
    let job = url_job(tmp.path(), &server.url("/data.txt"), 4, "");
    let out = tmp.path().join("out");
    let o = submit(&job, &out).arg("--dry-run").output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(server.targets(), ["/data.txt"]);
    let manifest = json(&out.join(".brine/inputs.json"));
    assert_eq!(manifest.as_array().unwrap().len(), 2, "{manifest}");
    // The submitter's files are gone: partitions read only DIR/.brine.
    std::fs::remove_dir_all(tmp.path().join("jobs")).unwrap();
    std::fs::remove_file(tmp.path().join("cat_file.wasm")).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    for i in 0..4 {
        let o = std::process::Command::new("sh")
            .arg(out.join(".brine/job.sbatch"))
            .current_dir(elsewhere.path())
            .env("SLURM_ARRAY_TASK_ID", i.to_string())
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "partition {i}: {}", stderr(&o));
        let text = std::fs::read_to_string(out.join(format!("{i}/stdout"))).unwrap();
        assert_eq!(text, "fetched once\n", "partition {i}");
    }
    assert_eq!(
        server.targets(),
        ["/data.txt"],
        "no partition fetched it again"
    );
    let o = brine().args(["gather"]).arg(&out).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[cfg(feature = "http")]
#[test]
fn a_fetch_that_fails_at_submit_leaves_dir_as_it_was() {
    let server = Server::start(|_, _| Reply::status(404));
    let tmp = tempfile::tempdir().unwrap();
    let job = url_job(tmp.path(), &server.url("/gone.txt"), 3, "");
    let out = tmp.path().join("out");
    let o = submit(&job, &out).arg("--dry-run").output().unwrap();
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains("input /inputs (urlDownload"), "{err}");
    assert!(err.contains("404"), "{err}");
    assert!(!out.exists(), "nothing left behind");
}

#[test]
fn without_sbatch_submit_says_so_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let job = env_job(tmp.path(), "", 2);
    let out = tmp.path().join("out");
    let o = submit(&job, &out).env("PATH", tmp.path()).output().unwrap();
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("sbatch not found"), "{err}");
    assert!(!out.exists(), "nothing submitted, nothing left in DIR");
}

#[test]
fn retry_without_sbatch_puts_the_failed_partitions_back_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let job = env_job(tmp.path(), "", 3);
    let out = tmp.path().join("out");
    let o = submit(&job, &out).arg("--dry-run").output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let run = |i: u32| {
        let o = std::process::Command::new("sh")
            .arg(out.join(".brine/job.sbatch"))
            .env("SLURM_ARRAY_TASK_ID", i.to_string())
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "partition {i}: {}", stderr(&o));
    };
    for i in 0..3 {
        run(i);
    }
    let retry = |path: &Path| {
        brine()
            .args(["slurm", "retry"])
            .arg(&out)
            .env("PATH", path)
            .output()
            .unwrap()
    };
    let o = retry(tmp.path());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "nothing to retry: 3 of 3 partitions completed\n"
    );

    std::fs::write(out.join("2/brine.json"), "{}").unwrap();
    std::fs::remove_dir_all(out.join("0")).unwrap();
    let o = retry(tmp.path());
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("retrying 2 of 3 partitions: 0, 2"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("sbatch not found"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("2/brine.json")).unwrap(),
        "{}",
        "nothing submitted: the failed partition is back in place"
    );
    assert!(!out.join(".brine/attempts/1").exists());
    assert!(!out.join(".brine/retry-1.sbatch").exists());
}

#[test]
fn an_element_that_does_not_see_this_jobs_dir_fails_saying_so() {
    let tmp = tempfile::tempdir().unwrap();
    let job = env_job(tmp.path(), "", 2);
    let out = tmp.path().join("out");
    let o = submit(&job, &out).arg("--dry-run").output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let marker = out.join(".brine/shared");
    let id = std::fs::read_to_string(&marker).unwrap();
    assert!(id.starts_with("j-"), "{id}");
    let run = || {
        std::process::Command::new("sh")
            .arg(out.join(".brine/job.sbatch"))
            .env("SLURM_ARRAY_TASK_ID", "0")
            .output()
            .unwrap()
    };
    // Another job's DIR at the same path, then no DIR at all (not shared).
    for marker_text in [Some("j-another"), None] {
        match marker_text {
            Some(text) => std::fs::write(&marker, text).unwrap(),
            None => std::fs::remove_file(&marker).unwrap(),
        }
        let o = run();
        assert_eq!(code(&o), 1);
        let err = stderr(&o);
        assert!(
            err.contains(".brine/shared is missing or names another job on ")
                && err.contains("must be on a file system every node shares"),
            "{err}"
        );
        assert!(!out.join("0").exists(), "nothing ran");
    }
    std::fs::write(&marker, &id).unwrap();
    assert_eq!(code(&run()), 0);
    assert!(out.join("0/stdout").exists());
}

/// Runs array element `element` of DIR's script as Slurm would (sh, the index in the environment).
/// A deterministic job of `partitions` partitions submitted (`--dry-run`)
/// with `--replicas 3` into `dir/out`, every element run by its script; DIR.
fn three_replicas_run(dir: &Path, partitions: u32) -> std::path::PathBuf {
    let job = deterministic_job(dir, partitions);
    let out = dir.join("out");
    let o = submit(&job, &out)
        .args(["--replicas", "3", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for element in 0..partitions * 3 {
        run_element(&out, "job.sbatch", element);
    }
    out
}

fn run_element(out: &Path, script: &str, element: u32) {
    let o = std::process::Command::new("sh")
        .arg(out.join(".brine").join(script))
        .env("SLURM_ARRAY_TASK_ID", element.to_string())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "element {element}: {}", stderr(&o));
}

#[test]
fn replicas_run_by_the_script_agree_and_gather_names_a_changed_one() {
    let tmp = tempfile::tempdir().unwrap();
    let job = deterministic_job(tmp.path(), 2);
    let out = tmp.path().join("out");
    let o = submit(&job, &out)
        .args(["--replicas", "3", "--dry-run", "--json"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let submitted = json_object(&o.stdout);
    assert_eq!(submitted["slurm_job_id"], serde_json::Value::Null);
    assert_eq!(submitted["array"], "0-5", "{submitted}");
    assert_eq!(submitted["replicas"], 3);
    assert_eq!(submitted["partitions"], serde_json::json!([0, 1]));
    for element in 0..6 {
        run_element(&out, "job.sbatch", element);
    }
    // Element e ran partition e / 3, replica e % 3.
    let summary = |rel: &str| std::fs::read(out.join(rel).join("outputs/summary.csv")).unwrap();
    assert_eq!(summary("1"), summary("replicas/2/1"));
    assert_eq!(summary("0"), summary("replicas/1/0"));
    assert!(out.join("receipts/1.r2.json").exists());

    let o = brine().arg("gather").arg(&out).output().unwrap();
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let table = stdout(&o);
    assert_eq!(table.matches("  3/3\n").count(), 2, "{table}");
    assert!(table.contains("; 3 replicas each, 0 disputed"), "{table}");

    // One replica's output changed after it ran: gather hashes the files again.
    let changed = out.join("replicas/2/0/outputs/summary.csv");
    std::fs::write(&changed, "region,total\nnowhere,1\n").unwrap();
    let o = brine()
        .args(["gather", "--json"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["status"], "disputed");
    assert_eq!(report["disputed"], 1);
    let zero = &report["partitions"][0]["replicas"];
    assert_eq!(zero["agree"], false);
    assert_eq!(zero["majority"], serde_json::json!([0, 1]));
    assert_eq!(zero["dissenters"][0]["replica"], 2, "{zero}");
    assert_eq!(zero["dissenters"][0]["changed_after_run"], true);
    assert_eq!(report["partitions"][1]["replicas"]["agree"], true);
    assert!(
        stderr(&o).contains("1 of 2 partitions have replicas that disagree: 0 (replica 2: outputs/outputs/summary.csv: content differs"),
        "{}",
        stderr(&o)
    );
    let o = brine().arg("gather").arg(&out).output().unwrap();
    assert!(
        stdout(&o).contains(
            "partition 0 replica 2 dissents: outputs/outputs/summary.csv: content differs"
        ),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_replica_whose_own_receipt_is_consistent_but_differs_is_outvoted() {
    let tmp = tempfile::tempdir().unwrap();
    let out = three_replicas_run(tmp.path(), 1);
    // A node that computed another answer: its files and its receipt agree with each other.
    std::fs::write(out.join("0/stdout"), "another answer\n").unwrap();
    let receipt = out.join("receipts/0.r0.json");
    let mut written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&receipt).unwrap()).unwrap();
    written["partitions"][0]["stdout"] = blake3::hash(b"another answer\n")
        .to_hex()
        .to_string()
        .into();
    std::fs::write(&receipt, written.to_string()).unwrap();
    let o = brine()
        .args(["gather", "--json"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let set = &report["partitions"][0]["replicas"];
    assert_eq!(set["majority"], serde_json::json!([1, 2]), "{set}");
    assert_eq!(
        set["dissenters"],
        serde_json::json!([{"replica": 0, "difference": "stdout: content differs", "changed_after_run": false}])
    );
}

#[test]
fn replicas_of_a_job_that_is_not_deterministic_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let job = env_job(tmp.path(), "", 2);
    let out = tmp.path().join("out");
    let o = submit(&job, &out)
        .args(["--replicas", "2", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("--replicas 2: job envjob is not deterministic")
            && err.contains("Deterministic: true"),
        "{err}"
    );
    assert!(!out.exists(), "nothing prepared");
    let o = submit(&job, &out)
        .args(["--replicas", "1", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "one replica is no replica: {}", stderr(&o));
}

#[test]
fn retry_reruns_only_the_failed_and_missing_replicas() {
    let tmp = tempfile::tempdir().unwrap();
    let out = three_replicas_run(tmp.path(), 2);
    // Partition 0's replica 0 failed, partition 1's replica 2 went missing.
    std::fs::write(out.join("0/brine.json"), "{}").unwrap();
    std::fs::remove_dir_all(out.join("replicas/2/1")).unwrap();
    let o = brine().arg("gather").arg(&out).output().unwrap();
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("0 completed, 1 failed, 1 missing"),
        "{}",
        stdout(&o)
    );
    // An sbatch that accepts anything, so the retry script stays to be run by hand.
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    common::write_file(&bin, "sbatch", "#!/bin/sh\necho 4242\n");
    let sbatch = bin.join("sbatch");
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&sbatch)
        .status()
        .unwrap();
    let o = brine()
        .args(["slurm", "retry", "--json"])
        .arg(&out)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let retried = json_object(&o.stdout);
    assert_eq!(retried["slurm_job_id"], "4242");
    assert_eq!(retried["array"], "0,5", "{retried}");
    assert_eq!(retried["partitions"], serde_json::json!([0, 1]));
    assert!(
        stderr(&o).contains("retrying 2 of 2 partitions: 0, 1 (2 replica runs)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(out.join(".brine/attempts/1/0/brine.json")).unwrap(),
        "{}"
    );
    for element in [0, 5] {
        run_element(&out, "retry-1.sbatch", element);
    }
    let o = brine().arg("gather").arg(&out).output().unwrap();
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn under_json_a_failed_submit_is_one_json_object_on_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let job = env_job(tmp.path(), "", 2);
    let out = tmp.path().join("out");
    let o = submit(&job, &out)
        .arg("--json")
        .env("PATH", tmp.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    assert_eq!(stdout(&o), "");
    let error = json_object(&o.stderr);
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("sbatch not found"),
        "{error}"
    );
}

#[test]
fn submit_checks_env_references_once_and_passes_allow_env_to_every_element() {
    let tmp = tempfile::tempdir().unwrap();
    let job = env_job(tmp.path(), "    Env: {GREETING: 'env:MY_GREETING'}\n", 2);
    // Without --allow-env every element would refuse the job: so does submit.
    let out = tmp.path().join("out");
    let o = submit(&job, &out).arg("--dry-run").output().unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--allow-env"), "{}", stderr(&o));
    assert!(!out.exists(), "nothing was prepared");
    // sbatch hands the submitter's environment to the elements (--export=ALL).
    let o = submit(&job, &out)
        .args(["--dry-run", "--allow-env", "MY_.*"])
        .env("MY_GREETING", "hi from the node")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("--allow-env 'MY_.*'"), "{}", stdout(&o));
    let ran = std::process::Command::new("sh")
        .arg(out.join(".brine/job.sbatch"))
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("MY_GREETING", "hi from the node")
        .output()
        .unwrap();
    assert_eq!(code(&ran), 0, "{}", stderr(&ran));
    let env = std::fs::read_to_string(out.join("1/stdout")).unwrap();
    assert!(env.contains("GREETING=hi from the node"), "{env}");
}

#[test]
fn a_module_that_cannot_run_is_not_submitted() {
    let tmp = tempfile::tempdir().unwrap();
    let job = env_job(tmp.path(), "", 3);
    std::fs::write(
        tmp.path().join("env.wasm"),
        wat::parse_str(r#"(module (import "nowhere" "f" (func)) (func (export "_start")))"#)
            .unwrap(),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = submit(&job, &out).arg("--dry-run").output().unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("nowhere"), "{}", stderr(&o));
    assert!(!out.exists(), "nothing was prepared");
}
