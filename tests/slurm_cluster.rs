//! brine on a real Slurm: `brine slurm submit --wait` of a Count=5 job, every
//! partition's output checked. Runs only where `sinfo` answers (make test
//! brings the single-node cluster up with tests/slurm/cluster.sh when CI or
//! BRINE_SLURM=1 is set); elsewhere each test prints why it skipped.

mod common;
mod http_fixture;
#[path = "slurm/common.rs"]
mod slurm_common;

use common::job::env_job;
use common::{code, stderr, stdout};
use http_fixture::{Reply, Server};
use slurm_common::{slurm_is_up, url_job};
use std::time::Duration;

#[test]
fn a_count_5_job_runs_as_one_array_and_gathers_every_partition() {
    if !slurm_is_up() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let job = env_job(
        tmp.path(),
        "    Resources:\n      Memory: 64MiB\n    Timeouts:\n      ExecutionTimeout: 60\n",
        5,
    );
    let out = tmp.path().join("out");
    // Submitted from elsewhere, and the module removed afterwards: partitions
    // read the copies in out/.brine/, not the submitter's files.
    let elsewhere = tempfile::tempdir().unwrap();
    let o = assert_cmd::Command::new(env!("CARGO_BIN_EXE_brine"))
        .current_dir(elsewhere.path())
        .args(["slurm", "submit"])
        .arg(&job)
        .arg("--output")
        .arg(&out)
        .args(["--wait", "--max-parallel", "3"])
        .timeout(Duration::from_secs(180))
        .output()
        .unwrap();
    let (text, err) = (stdout(&o), stderr(&o));
    assert_eq!(code(&o), 0, "stdout:\n{text}\nstderr:\n{err}");
    let slurm_id = text
        .lines()
        .find_map(|l| l.strip_prefix("submitted Slurm job "))
        .unwrap_or_else(|| panic!("no job id in:\n{text}"))
        .to_string();
    let script = std::fs::read_to_string(out.join(".brine/job.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-4%3\n"), "{script}");
    assert!(script.contains("#SBATCH --mem=128M\n"), "{script}");
    assert!(script.contains("#SBATCH --time=11\n"), "{script}");
    for i in 0..5 {
        let stdout = std::fs::read_to_string(out.join(format!("{i}/stdout"))).unwrap();
        assert!(
            stdout.contains(&format!("BACALHAU_PARTITION_INDEX={i}\n")),
            "{stdout}"
        );
        assert!(stdout.contains("BACALHAU_PARTITION_COUNT=5\n"), "{stdout}");
        assert_eq!(
            std::fs::read_to_string(out.join(format!("{i}/exitCode"))).unwrap(),
            "0"
        );
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(format!("{i}/brine.json"))).unwrap())
                .unwrap();
        assert_eq!(summary["task_id"], format!("{slurm_id}_{i}"), "{summary}");
    }
    assert!(
        text.contains("job envjob: 5 partitions: 5 completed, 0 failed, 0 missing, 0 running"),
        "{text}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("brine.json")).unwrap()).unwrap();
    assert_eq!(report["status"], "completed");
    let job_id = report["job_id"]
        .as_str()
        .expect("the partitions share one job id");
    for i in 0..5 {
        let stdout = std::fs::read_to_string(out.join(format!("{i}/stdout"))).unwrap();
        assert!(
            stdout.contains(&format!("BACALHAU_JOB_ID={job_id}\n")),
            "{stdout}"
        );
    }
    assert_eq!(report["partitions"].as_array().unwrap().len(), 5);
}

#[test]
fn a_url_input_is_fetched_once_for_every_partition_of_the_array() {
    if !slurm_is_up() {
        return;
    }
    let server = Server::start(|_, _| Reply::ok("fetched once\n"));
    let tmp = tempfile::tempdir().unwrap();
    let job = url_job(tmp.path(), &server.url("/data.txt"), 6, "");
    let out = tmp.path().join("out");
    let elsewhere = tempfile::tempdir().unwrap();
    let o = assert_cmd::Command::new(env!("CARGO_BIN_EXE_brine"))
        .current_dir(elsewhere.path())
        .args(["slurm", "submit"])
        .arg(&job)
        .arg("--output")
        .arg(&out)
        .arg("--wait")
        .timeout(Duration::from_secs(180))
        .output()
        .unwrap();
    let (text, err) = (stdout(&o), stderr(&o));
    assert_eq!(code(&o), 0, "stdout:\n{text}\nstderr:\n{err}");
    assert!(err.contains("staged 2 fetched inputs once into"), "{err}");
    assert_eq!(
        server.targets(),
        ["/data.txt"],
        "one download for 6 partitions"
    );
    for i in 0..6 {
        let stdout = std::fs::read_to_string(out.join(format!("{i}/stdout"))).unwrap();
        assert_eq!(stdout, "fetched once\n", "partition {i}");
    }
    assert!(
        text.contains("job urljob: 6 partitions: 6 completed, 0 failed, 0 missing, 0 running"),
        "{text}"
    );
}
