//! `brine run`: Bacalhau jobs end to end, through the real binary.
//!
//! Job files are written into a temporary directory per test, pointing at the
//! committed fixture modules by absolute path, so each test states its job.

mod common;

use common::job::{inline_tar_gz, module_job, Job};
use common::{brine, code, stderr, ROOT};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A current-form job running fixture module `module` with `params` and extra task YAML.
fn simple(module: &str, params: &[&str], task_extra: &str) -> String {
    module_job(format!("@ROOT@/fixtures/{module}"), params, "", task_extra)
}

#[test]
fn the_demo_job_summarizes_its_csv() {
    let job = Job::new(
        &std::fs::read_to_string(Path::new(ROOT).join("fixtures/jobs/demo/job.yaml")).unwrap(),
    );
    // The demo's SourcePaths are relative to its own directory: run it in place.
    let out = job.out();
    let o = brine()
        .args(["run", "fixtures/jobs/demo/job.yaml", "--output"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        job.read("outputs/summary.csv"),
        "name,count,sum\neast,2,225\nnorth,3,195\nsouth,2,135\nwest,1,95\nTOTAL,8,650\n"
    );
    assert_eq!(job.read("exitCode"), "0");
    assert_eq!(
        job.read("stdout"),
        "summarized 8 rows (4 names) from inputs/sales.csv into outputs/summary.csv\n"
    );
    let summary = job.summary();
    assert_eq!(summary["status"], "completed");
    assert_eq!(summary["outputs"][0], "outputs");
}

#[test]
fn exit_code_comes_from_task_env() {
    let job = Job::new(&simple(
        "exit_code.wasm",
        &[],
        "    Env:\n      EXIT_CODE: '5'\n",
    ));
    let o = job.run(&[]);
    assert_eq!(
        code(&o),
        0,
        "a job whose guest exits 5 still completed: {}",
        stderr(&o)
    );
    assert_eq!(job.read("exitCode"), "5");
    assert_eq!(job.summary()["exit_code"], 5);
}

#[test]
fn env_has_user_and_system_variables_sorted() {
    let job = Job::new(&simple(
        "env.wasm",
        &[],
        "    Env:\n      GREETING: hello\n      ANSWER: '42'\n",
    ));
    let o = job.run(&[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let stdout = job.read("stdout");
    let names: Vec<&str> = stdout
        .lines()
        .map(|l| l.split('=').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "ANSWER",
            "BACALHAU_EXECUTION_ID",
            "BACALHAU_JOB_ID",
            "BACALHAU_JOB_TYPE",
            "BACALHAU_PARTITION_COUNT",
            "BACALHAU_PARTITION_INDEX",
            "GREETING"
        ]
    );
    assert!(stdout.contains("BACALHAU_PARTITION_INDEX=0\n"));
    assert!(stdout.contains("BACALHAU_JOB_TYPE=batch\n"));
    assert!(stdout.contains("GREETING=hello\n"));
}

#[test]
fn env_values_from_the_runner_need_allow_env() {
    let yaml = simple(
        "env.wasm",
        &[],
        "    Env:\n      TOKEN: env:BRINE_TEST_TOKEN\n",
    );
    let job = Job::new(&yaml);
    let refused = job
        .command()
        .env("BRINE_TEST_TOKEN", "s3cret")
        .output()
        .unwrap();
    assert_eq!(code(&refused), 2);
    assert!(
        stderr(&refused).contains("--allow-env"),
        "{}",
        stderr(&refused)
    );
    assert!(
        !job.out().exists(),
        "nothing is created for a job that cannot run"
    );
    let allowed = job
        .command()
        .env("BRINE_TEST_TOKEN", "s3cret")
        .args(["--allow-env", "BRINE_TEST_.*"])
        .output()
        .unwrap();
    assert_eq!(code(&allowed), 0, "{}", stderr(&allowed));
    assert!(job.read("stdout").contains("TOKEN=s3cret\n"));
}

#[test]
fn argv_is_an_empty_name_then_parameters() {
    let job = Job::new(&simple("args.wasm", &["--option", "value"], ""));
    assert_eq!(code(&job.run(&[])), 0);
    assert_eq!(
        job.read("stdout"),
        "argc=3\nargv[0]=\nargv[1]=--option\nargv[2]=value\n"
    );
}

#[test]
fn the_spec_form_sample_runs_with_a_local_entry_module() {
    // The shape of the sample in wasm-engine-spec.txt, with the S3 EntryModule made local.
    let job = Job::new(
        "Type: batch\nTasks:\n  - Name: sample\n    Engine:\n      Type: WASM\n      Params:\n        EntryModule:\n          Source:\n            Type: localDirectory\n            Params:\n              SourcePath: '@ROOT@/fixtures/env.wasm'\n        Entrypoint: _start\n        Parameters:\n          - --option\n          - value\n        EnvironmentVariables:\n          VAR1: value1\n          VAR2: value2\n",
    );
    let o = job.run(&[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let stdout = job.read("stdout");
    assert!(stdout.contains("VAR1=value1\nVAR2=value2\n"), "{stdout}");
}

#[test]
fn an_import_module_is_found_by_its_mount_path() {
    // Bacalhau's "dynamic link" test: the entry imports `input.wasm`.`easter`.
    for import_modules in ["", "        ImportModules: [/input.wasm]\n"] {
        let yaml = format!(
            "Type: batch\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /main.wasm\n{import_modules}    InputSources:\n      - Source: {{Type: localDirectory, Params: {{SourcePath: '@ROOT@/fixtures/link/dynamic.wat'}}}}\n        Target: /main.wasm\n      - Source: {{Type: localDirectory, Params: {{SourcePath: '@ROOT@/fixtures/link/easter.wat'}}}}\n        Target: input.wasm\n"
        );
        let job = Job::new(&yaml);
        let o = job.run(&[]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert_eq!(job.read("stdout"), "17\n");
    }
}

#[test]
fn a_module_target_directory_must_hold_one_wasm() {
    let job = Job::new(
        "Type: batch\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /wasm\n    InputSources:\n      - Source: {Type: localDirectory, Params: {SourcePath: '@ROOT@/fixtures/link'}}\n        Target: /wasm\n",
    );
    let o = job.run(&[]);
    assert_eq!(code(&o), 1);
    let error = job.summary()["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("expected exactly one .wasm file in /wasm"),
        "{error}"
    );
}

#[test]
fn inline_inputs_are_files_and_gzip_inputs_are_directories() {
    let tar_gz = tar_gz(&[("notes/a.txt", "from the archive\n")]);
    let yaml = simple(
        "cat_file.wasm",
        &["/in/notes/a.txt"],
        &inline_tar_gz(&tar_gz, "/in"),
    );
    let job = Job::new(&yaml);
    let o = job.run(&[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(job.read("stdout"), "from the archive\n");

    let yaml = simple(
        "cat_file.wasm",
        &["/msg.txt"],
        "      - Source: {Type: inline, Params: {URL: 'data:text/plain,hello%20inline'}}\n        Target: /msg.txt\n",
    );
    let job = Job::new(&yaml);
    assert_eq!(code(&job.run(&[])), 0);
    assert_eq!(job.read("stdout"), "hello inline");
}

#[test]
fn count_three_runs_three_partitions() {
    let job =
        Job::new(&simple("env.wasm", &[], "").replace("Type: batch\n", "Type: batch\nCount: 3\n"));
    let o = job.run(&[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for index in 0..3 {
        let stdout = job.read(&format!("{index}/stdout"));
        assert!(
            stdout.contains(&format!("BACALHAU_PARTITION_INDEX={index}\n")),
            "{stdout}"
        );
        assert!(stdout.contains("BACALHAU_PARTITION_COUNT=3\n"));
        assert_eq!(
            job.summary_at(&format!("{index}/brine.json"))["partition_index"],
            index
        );
    }
}

#[test]
fn a_trap_fails_the_job_and_publishes_no_outputs() {
    let yaml = simple(
        "trap.wasm",
        &["div"],
        "    ResultPaths:\n      - Name: outputs\n        Path: /outputs\n",
    );
    let job = Job::new(&yaml);
    let o = job.run(&[]);
    assert_eq!(code(&o), 1);
    let summary = job.summary();
    assert_eq!(summary["status"], "failed");
    assert!(summary["error"]
        .as_str()
        .unwrap()
        .contains("integer divide by zero"));
    assert_eq!(job.read("exitCode"), "1");
    assert_eq!(job.read("stdout"), "about to trap: div\n");
    assert!(!job.out().join("outputs").exists());
}

#[test]
fn an_execution_timeout_fails_with_bacalhaus_message() {
    let job = Job::new(&simple(
        "loop.wasm",
        &[],
        "    Timeouts:\n      ExecutionTimeout: 1\n",
    ));
    let started = Instant::now();
    let o = job.run(&[]);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(code(&o), 1);
    assert_eq!(job.summary()["error"], "Execution timed out");
}

#[test]
fn a_missing_entrypoint_fails_with_bacalhaus_message() {
    let job = Job::new(&simple("hello.wasm", &[], "").replace(
        "EntryModule: /wasm/m.wasm",
        "EntryModule: /wasm/m.wasm\n        Entrypoint: nope",
    ));
    let o = job.run(&[]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        job.summary()["error"],
        "unable to find the entrypoint 'nope' in the WASM module"
    );
}

#[test]
fn inputs_are_read_only_and_outputs_writable() {
    let yaml = simple(
        "write_file.wasm",
        &["/outputs/result.txt", "written"],
        "    ResultPaths:\n      - Name: results\n        Path: /outputs\n",
    );
    let job = Job::new(&yaml);
    assert_eq!(code(&job.run(&[])), 0);
    assert_eq!(job.read("results/result.txt"), "written");

    for target in ["/wasm/new.txt", "/new.txt"] {
        let job = Job::new(&simple("write_file.wasm", &[target, "x"], ""));
        assert_eq!(code(&job.run(&[])), 0);
        assert_eq!(job.read("exitCode"), "1", "writing {target} must fail");
        assert!(
            job.read("stderr").contains("Read-only file system"),
            "{}",
            job.read("stderr")
        );
    }
}

#[test]
fn the_guest_sees_one_tree_with_virtual_parents() {
    let yaml = simple(
        "readdir.wasm",
        &["/"],
        "    ResultPaths:\n      - Name: out\n        Path: /outputs/deep\n",
    );
    let job = Job::new(&yaml);
    assert_eq!(code(&job.run(&[])), 0);
    assert_eq!(job.read("stdout"), ".\n..\noutputs\nwasm\n");
    // `..` climbs out of a mount into its virtual parent, never above `/`.
    let job = Job::new(&simple("readdir.wasm", &["/wasm/../../.."], ""));
    assert_eq!(code(&job.run(&[])), 0);
    assert_eq!(job.read("stdout"), ".\n..\nwasm\n");
}

#[test]
fn an_invalid_job_creates_nothing() {
    let job = Job::new("Tasks: []\n");
    let o = job.run(&[]);
    assert_eq!(code(&o), 2);
    assert!(!job.out().exists());
    assert!(stderr(&o).contains("job.yaml"), "{}", stderr(&o));
}

#[test]
fn a_non_empty_output_directory_is_refused_unless_forced() {
    let job = Job::new(&simple("hello.wasm", &[], ""));
    std::fs::create_dir(job.out()).unwrap();
    std::fs::write(job.out().join("precious"), "keep").unwrap();
    let o = job.run(&[]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(job.read("precious"), "keep");
    assert_eq!(code(&job.run(&["--force"])), 0);
    assert_eq!(job.read("stdout"), "Hello, world!\n");
    assert!(!job.out().join("precious").exists());
}

#[test]
fn json_prints_the_summary_and_bacalhau_exit_codes_use_minus_one() {
    let job = Job::new(&simple("hello.wasm", &[], ""));
    let o = job.run(&["--json", "--bacalhau-exit-codes"]);
    assert_eq!(code(&o), 0);
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["status"], "completed");
    assert_eq!(summary["exit_code"], -1);
    assert_eq!(summary["stdout"], "Hello, world!\n");
    assert_eq!(job.read("exitCode"), "-1");
}

#[test]
fn output_is_capped_and_flagged() {
    let job = Job::new(&simple("hello.wasm", &[], ""));
    assert_eq!(code(&job.run(&["--max-output", "5"])), 0);
    assert_eq!(job.read("stdout"), "Hello");
    assert_eq!(job.summary()["stdout_truncated"], true);
}

#[test]
fn memory_comes_from_resources() {
    let job = Job::new(&simple(
        "memhog.wasm",
        &[],
        "    Resources:\n      Memory: 16MiB\n",
    ));
    assert_eq!(code(&job.run(&[])), 0);
    let stdout = job.read("stdout");
    let mib: u32 = stdout
        .trim()
        .strip_prefix("allocation failed after ")
        .and_then(|s| s.strip_suffix(" MiB"))
        .unwrap_or_else(|| panic!("{stdout}"))
        .parse()
        .unwrap();
    assert!(mib < 16, "{stdout}");
}

fn tar_gz(files: &[(&str, &str)]) -> Vec<u8> {
    let mut tar_bytes = Vec::new();
    {
        let mut builder = tar::Builder::new(&mut tar_bytes);
        for (name, text) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, name, text.as_bytes())
                .unwrap();
        }
        builder.finish().unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar_bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn every_valid_fixture_job_runs_to_completion() {
    let dir = Path::new(ROOT).join("fixtures/jobs");
    let mut jobs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    jobs.sort();
    assert!(jobs.len() >= 10, "{jobs:?}");
    for job in jobs {
        let out = tempfile::tempdir().unwrap();
        let o = brine()
            .arg("run")
            .arg(&job)
            .arg("--output")
            .arg(out.path().join("r"))
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "{}: {}", job.display(), stderr(&o));
        let summary = std::fs::read_to_string(out.path().join("r/brine.json"))
            .or_else(|_| std::fs::read_to_string(out.path().join("r/0/brine.json")))
            .unwrap();
        assert!(
            summary.contains("\"status\": \"completed\""),
            "{}: {summary}",
            job.display()
        );
    }
}

#[test]
fn partitions_share_one_staged_copy_of_a_fetched_input() {
    let yaml = simple(
        "cat_file.wasm",
        &["/msg.txt"],
        "      - Source: {Type: inline, Params: {URL: 'data:text/plain,shared%20input'}}\n        Target: /msg.txt\n",
    )
    .replace("Type: batch\n", "Type: batch\nCount: 3\n");
    let job = Job::new(&yaml);
    let o = job.run(&[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for index in 0..3 {
        assert_eq!(job.read(&format!("{index}/stdout")), "shared input");
    }
}

/// The CLI parses job files on its main thread (no parser thread to wait
/// for): documents nested to the parser's limit and past it, in every form,
/// get a located refusal, never a stack overflow.
#[test]
fn deeply_nested_job_files_are_refused_on_the_main_thread() {
    let tmp = tempfile::tempdir().unwrap();
    let block: String = (0..200)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    let documents = [
        (
            "flow.yaml",
            format!("Type: batch\nMeta: {}{}\n", "[".repeat(70), "]".repeat(70)),
        ),
        (
            "map.yaml",
            format!(
                "Type: batch\nMeta: {}1{}\n",
                "{a: ".repeat(70),
                "}".repeat(70)
            ),
        ),
        ("block.yaml", format!("Type: batch\nMeta:\n{block}")),
        (
            "deep.json",
            format!("{{\"Type\": {}{}}}", "[".repeat(5000), "]".repeat(5000)),
        ),
    ];
    for (name, text) in documents {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let o = brine().arg("validate").arg(&path).output().unwrap();
        assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("{name}:")),
            "{name}: {}",
            stderr(&o)
        );
    }
}
