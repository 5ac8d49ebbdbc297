//! brine on a real Slurm: `brine slurm submit --wait` of Count=5 and Count=20
//! jobs, every partition's output checked; retry, scancel, --max-parallel
//! sampled from squeue, --replicas and a changed replica named. Runs only where `sinfo` answers (make test
//! brings the single-node cluster up with tests/slurm/cluster.sh when CI or
//! BRINE_SLURM=1 is set); elsewhere each test prints why it skipped.

mod common;
#[cfg(feature = "http")]
mod http_fixture;
#[path = "slurm/common.rs"]
mod slurm_common;

use common::job::env_job;
use common::{code, stderr, stdout};
#[cfg(feature = "http")]
use http_fixture::{Reply, Server};
#[cfg(feature = "http")]
use slurm_common::url_job;
use slurm_common::{deterministic_job, json_object, slurm_is_up, submit};
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
    let o = submit(&job, &out)
        .current_dir(elsewhere.path())
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

#[cfg(feature = "http")]
#[test]
fn a_count_20_job_fetches_its_url_input_once_for_every_partition() {
    if !slurm_is_up() {
        return;
    }
    let server = Server::start(|_, _| Reply::ok("fetched once\n"));
    let tmp = tempfile::tempdir().unwrap();
    let job = url_job(tmp.path(), &server.url("/data.txt"), 20, "");
    let out = tmp.path().join("out");
    let elsewhere = tempfile::tempdir().unwrap();
    let o = submit(&job, &out)
        .current_dir(elsewhere.path())
        .arg("--wait")
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let (text, err) = (stdout(&o), stderr(&o));
    assert_eq!(code(&o), 0, "stdout:\n{text}\nstderr:\n{err}");
    assert!(err.contains("staged 2 fetched inputs once into"), "{err}");
    assert_eq!(
        server.targets(),
        ["/data.txt"],
        "one download for 20 partitions"
    );
    for i in 0..20 {
        let stdout = std::fs::read_to_string(out.join(format!("{i}/stdout"))).unwrap();
        assert_eq!(stdout, "fetched once\n", "partition {i}");
        assert_eq!(
            std::fs::read_to_string(out.join(format!("{i}/exitCode"))).unwrap(),
            "0"
        );
    }
    assert!(
        text.contains("job urljob: 20 partitions: 20 completed, 0 failed, 0 missing, 0 running"),
        "{text}"
    );
}

/// `brine slurm …ARGS` from a directory of no interest, waiting up to 3 minutes.
fn slurm(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_brine"))
        .current_dir(std::env::temp_dir())
        .arg("slurm")
        .args(args)
        .arg(dir)
        .timeout(Duration::from_secs(180))
        .output()
        .unwrap()
}

/// Each partition's brine.json: its bytes and modification time.
fn summaries(out: &std::path::Path, count: u32) -> Vec<Option<(Vec<u8>, std::time::SystemTime)>> {
    (0..count)
        .map(|i| {
            let path = out.join(format!("{i}/brine.json"));
            let bytes = std::fs::read(&path).ok()?;
            Some((bytes, std::fs::metadata(&path).ok()?.modified().ok()?))
        })
        .collect()
}

#[test]
fn retry_reruns_exactly_the_failed_and_missing_partitions() {
    if !slurm_is_up() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let job = env_job(tmp.path(), "", 5);
    let out = tmp.path().join("out");
    let o = submit(&job, &out)
        .arg("--wait")
        .timeout(Duration::from_secs(180))
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    // Partition 1 goes missing, partition 3's summary is not brine's (failed).
    std::fs::remove_dir_all(out.join("1")).unwrap();
    std::fs::write(out.join("3/brine.json"), "not json").unwrap();
    let before = summaries(&out, 5);
    std::thread::sleep(Duration::from_millis(20));

    let o = slurm(&["retry", "--wait"], &out);
    let (text, err) = (stdout(&o), stderr(&o));
    assert_eq!(code(&o), 0, "stdout:\n{text}\nstderr:\n{err}");
    assert!(text.contains("retrying 2 of 5 partitions: 1, 3"), "{text}");
    assert!(
        text.contains("job envjob: 5 partitions: 5 completed, 0 failed, 0 missing, 0 running"),
        "{text}"
    );
    let retry = std::fs::read_to_string(out.join(".brine/retry-1.sbatch")).unwrap();
    assert!(retry.contains("#SBATCH --array=1,3\n"), "{retry}");
    assert_eq!(
        std::fs::read_to_string(out.join(".brine/attempts/1/3/brine.json")).unwrap(),
        "not json",
        "the failed attempt is kept aside"
    );
    let after = summaries(&out, 5);
    for i in [0, 2, 4] {
        assert_eq!(after[i], before[i], "partition {i} was left untouched");
    }
    let job_id = |i: u32| {
        let stdout = std::fs::read_to_string(out.join(format!("{i}/stdout"))).unwrap();
        assert!(
            stdout.contains(&format!("BACALHAU_PARTITION_INDEX={i}\n")),
            "{stdout}"
        );
        stdout
            .lines()
            .find(|l| l.starts_with("BACALHAU_JOB_ID="))
            .map(str::to_string)
    };
    for i in [1, 3] {
        assert!(after[i as usize].is_some() && after[i as usize] != before[i as usize]);
        assert_eq!(
            job_id(i),
            job_id(0),
            "a retried partition keeps the job's id"
        );
    }

    let o = slurm(&["retry"], &out);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("nothing to retry: 5 of 5 partitions completed"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_partition_cancelled_with_scancel_is_missing_and_retry_reruns_only_it() {
    if !slurm_is_up() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let job = sleepy_job(tmp.path(), 3, 6_000_000_000);
    let out = tmp.path().join("out");
    let o = submit(&job, &out).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let id = stdout(&o)
        .lines()
        .find_map(|l| l.strip_prefix("submitted Slurm job "))
        .unwrap()
        .to_string();
    let element = format!("{id}_1");
    // Elements in `states` (squeue's default: pending, running, completing...).
    let queue = |states: Option<&str>| {
        let mut squeue = std::process::Command::new("squeue");
        squeue.args(["-h", "-r", "-o", "%i"]);
        if let Some(states) = states {
            squeue.args(["-t", states]);
        }
        let o = squeue.output().unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let started = std::time::Instant::now();
    while !queue(Some("R")).lines().any(|l| l.trim() == element) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{element} never ran"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Retrying while the array is queued would run its pending elements twice.
    let o = slurm(&["retry"], &out);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("is still queued or running"),
        "{}",
        stderr(&o)
    );
    let scancel = std::process::Command::new("scancel")
        .arg(&element)
        .status()
        .unwrap();
    assert!(scancel.success());
    while queue(None)
        .lines()
        .any(|l| l.starts_with(&format!("{id}_")) || l.trim() == id)
    {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the array never ended"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let o = brine_gather(&out);
    assert_eq!(code(&o), 1);
    let text = stdout(&o);
    assert!(
        text.contains("2 completed, 0 failed, 1 missing, 0 running"),
        "{text}"
    );
    let before = summaries(&out, 3);

    let o = slurm(&["retry", "--wait"], &out);
    let (text, err) = (stdout(&o), stderr(&o));
    assert_eq!(code(&o), 0, "stdout:\n{text}\nstderr:\n{err}");
    assert!(text.contains("retrying 1 of 3 partitions: 1\n"), "{text}");
    let after = summaries(&out, 3);
    assert_eq!((&after[0], &after[2]), (&before[0], &before[2]));
    assert!(after[1].is_some());
}

fn brine_gather(out: &std::path::Path) -> std::process::Output {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_brine"))
        .arg("gather")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn an_element_on_a_node_without_the_jobs_dir_fails_with_a_message_in_its_log() {
    if !slurm_is_up() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let job = env_job(tmp.path(), "", 1);
    let out = tmp.path().join("out");
    let o = submit(&job, &out).arg("--dry-run").output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // What a node that does not share DIR would find: no marker.
    std::fs::remove_file(out.join(".brine/shared")).unwrap();
    let o = std::process::Command::new("sbatch")
        .args(["--wait", "--parsable"])
        .arg(out.join(".brine/job.sbatch"))
        .output()
        .unwrap();
    assert!(!o.status.success(), "the element fails");
    let id = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let log = std::fs::read_to_string(out.join(format!(".brine/logs/{id}_0.out"))).unwrap();
    assert!(
        log.contains("must be on a file system every node shares"),
        "{log}"
    );
    assert!(!out.join("0").exists());
}

/// A Count=`count` job in `dir/job.yaml` whose module sleeps `ns` nanoseconds.
fn sleepy_job(dir: &std::path::Path, count: u32, ns: u64) -> std::path::PathBuf {
    let module = common::guests::poll_sleep_then_exit(ns);
    std::fs::write(dir.join("sleep.wat"), module).unwrap();
    let job = dir.join("job.yaml");
    std::fs::write(&job, format!("Name: sleepy\nType: batch\nCount: {count}\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /wasm/sleep.wat\n    InputSources:\n      - Source: {{Type: localDirectory, Params: {{SourcePath: sleep.wat}}}}\n        Target: /wasm/sleep.wat\n")).unwrap();
    job
}

/// The elements of Slurm job `id` squeue lists in `states` (`R`), or in any state.
fn elements_of(id: &str, states: Option<&str>) -> Vec<String> {
    let mut squeue = std::process::Command::new("squeue");
    squeue.args(["-h", "-r", "-o", "%i", "-j", id]);
    if let Some(states) = states {
        squeue.args(["-t", states]);
    }
    let o = squeue.output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn max_parallel_is_respected_sampled_from_squeue() {
    if !slurm_is_up() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // The node has nproc CPUs, each element asks for one: without the limit
    // as many elements as CPUs would run at once.
    let job = sleepy_job(tmp.path(), 4, 1_500_000_000);
    let out = tmp.path().join("out");
    let o = submit(&job, &out)
        .args(["--json", "--max-parallel", "1"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let submitted = json_object(&o.stdout);
    assert_eq!(submitted["array"], "0-3%1", "{submitted}");
    let id = submitted["slurm_job_id"].as_str().unwrap().to_string();
    let started = std::time::Instant::now();
    let (mut most, mut samples, mut seen) = (0, 0, std::collections::BTreeSet::new());
    while !elements_of(&id, None).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "the array never ended"
        );
        let running = elements_of(&id, Some("R"));
        most = most.max(running.len());
        seen.extend(running);
        samples += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(samples > 10, "squeue was sampled while the array ran");
    assert!(seen.len() >= 2, "elements were seen running: {seen:?}");
    assert_eq!(most, 1, "never more than one element running: {seen:?}");
    let o = brine_gather(&out);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn three_replicas_agree_on_the_cluster_and_a_changed_one_is_named() {
    if !slurm_is_up() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let job = deterministic_job(tmp.path(), 2);
    let out = tmp.path().join("out");
    let o = submit(&job, &out)
        .args(["--replicas", "3", "--wait", "--json"])
        .timeout(Duration::from_secs(180))
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let submitted = json_object(&o.stdout);
    let id = submitted["slurm_job_id"].as_str().unwrap();
    assert!(id.bytes().all(|b| b.is_ascii_digit()), "{submitted}");
    assert_eq!(submitted["array"], "0-5");
    let report = &submitted["gather"];
    assert_eq!(report["status"], "completed", "{report}");
    assert_eq!(report["replicas"], 3);
    for p in 0..2 {
        let set = &report["partitions"][p]["replicas"];
        assert_eq!(set["agree"], true, "{set}");
        assert_eq!(set["majority"], serde_json::json!([0, 1, 2]));
        for k in 0..3 {
            // Element p * 3 + k ran replica k of partition p.
            assert_eq!(set["replicas"][k]["task_id"], format!("{id}_{}", p * 3 + k));
        }
    }
    std::fs::write(
        out.join("replicas/1/1/outputs/summary.csv"),
        "region,total\nnowhere,1\n",
    )
    .unwrap();
    let o = brine_gather(&out);
    assert_eq!(code(&o), 1);
    let text = stdout(&o);
    assert!(
        text.contains(
            "partition 1 replica 1 dissents: outputs/outputs/summary.csv: content differs"
        ),
        "{text}"
    );
    assert!(text.contains("3 replicas each, 1 disputed"), "{text}");
}
