//! The command line as a shell user meets it: completions, the manual page,
//! exit statuses in `--help`, and `brine MODULE.wasm` as wasmtime's shorthand.

mod common;

use common::{brine, stdout};

#[test]
fn completions_list_the_real_subcommands() {
    for (shell, marker) in [
        ("bash", "_brine()"),
        ("zsh", "#compdef brine"),
        ("fish", "complete -c brine"),
    ] {
        let out = brine().args(["completion", shell]).output().expect("runs");
        assert!(out.status.success(), "{shell}: {out:?}");
        let text = stdout(&out);
        assert!(text.contains(marker), "{shell} script lacks {marker}");
        for command in ["run", "validate", "verify", "wast", "inspect"] {
            assert!(text.contains(command), "{shell} completions lack {command}");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = brine().args(["completion", "tcsh"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(common::EXIT_USAGE));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

#[test]
fn the_manual_page_is_roff_for_section_one() {
    let out = brine().arg("man").output().expect("runs");
    assert!(out.status.success());
    let page = stdout(&out);
    assert!(page.contains(".TH brine 1"), "{page}");
    assert!(page.contains("validate"), "the page lists the subcommands");
}

#[test]
fn help_lists_every_exit_status() {
    let out = brine().arg("--help").output().expect("runs");
    let help = stdout(&out);
    for line in [
        "Exit status:",
        "134 trap",
        "124 timeout",
        "0 valid, 2 invalid",
    ] {
        assert!(help.contains(line), "--help lacks {line:?}:\n{help}");
    }
}

#[test]
fn a_module_as_first_argument_runs_it() {
    let out = brine().arg("fixtures/hello.wasm").output().expect("runs");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "Hello, world!\n");
    let add = brine()
        .args(["fixtures/add.wat", "--invoke", "add", "2", "3"])
        .output()
        .expect("runs");
    assert!(add.status.success(), "{add:?}");
    assert_eq!(
        stdout(&add),
        "5\n",
        "as `brine wasm run fixtures/add.wat --invoke add 2 3`"
    );
    let invoked = brine().args(["--invoke"]).output().expect("runs");
    assert_eq!(
        invoked.status.code(),
        Some(common::EXIT_USAGE),
        "an option is not a module"
    );
}

#[test]
fn a_receipt_names_its_job_so_verify_works_from_another_directory() {
    let scratch = tempfile::tempdir().unwrap();
    let receipt = scratch.path().join("r.json");
    let made = brine()
        .args(["run", "--deterministic", "--receipt"])
        .arg(&receipt)
        .arg("fixtures/jobs/hello.yaml")
        .arg("--output")
        .arg(scratch.path().join("out"))
        .output()
        .expect("runs");
    assert!(made.status.success(), "{made:?}");
    let elsewhere = std::process::Command::new(brine().get_program())
        .current_dir(scratch.path())
        .args(["verify", "r.json"])
        .output()
        .expect("runs");
    let hint = String::from_utf8_lossy(&elsewhere.stderr);
    let job = std::path::Path::new(common::ROOT).join("fixtures/jobs/hello.yaml");
    assert!(
        hint.contains(&job.display().to_string()),
        "the hint names the job absolutely: {hint}"
    );
    let verified = std::process::Command::new(brine().get_program())
        .current_dir(scratch.path())
        .args(["verify", "r.json"])
        .arg(&job)
        .output()
        .expect("runs");
    assert_eq!(stdout(&verified), "verified\n", "{verified:?}");
}

#[test]
fn run_exit_code_passes_the_guests_code_to_the_shell() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("r");
    let plain = brine()
        .args(["run", "fixtures/jobs/exit_code.yaml", "--output"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(0), "the job completed: {plain:?}");
    let scripted = brine()
        .args([
            "run",
            "fixtures/jobs/exit_code.yaml",
            "--exit-code",
            "--force",
            "--output",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(scripted.status.code(), Some(5), "EXIT_CODE=5: {scripted:?}");
}

#[test]
fn a_module_given_to_run_says_how_to_run_it() {
    let out = tempfile::tempdir().unwrap();
    for module in ["fixtures/hello.wasm", "fixtures/add.wat"] {
        let o = brine()
            .args(["run", module, "--output"])
            .arg(out.path().join("r"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(common::EXIT_USAGE));
        let err = String::from_utf8_lossy(&o.stderr);
        let hint = format!(
            "this is a WebAssembly module, not a job file; run it with `brine wasm run {module}`"
        );
        assert!(err.contains(&hint), "{err}");
    }
}

#[test]
fn run_dash_reads_the_job_from_stdin_relative_to_the_cwd() {
    let out = tempfile::tempdir().unwrap();
    let job = std::fs::read_to_string(
        std::path::Path::new(common::ROOT).join("fixtures/jobs/hello.yaml"),
    )
    .unwrap();
    let o = brine()
        .current_dir(std::path::Path::new(common::ROOT).join("fixtures/jobs"))
        .args(["run", "-", "--output"])
        .arg(out.path().join("r"))
        .write_stdin(job)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        std::fs::read_to_string(out.path().join("r/stdout")).unwrap(),
        "Hello, world!\n"
    );
}

#[test]
fn a_failed_job_says_so_on_stderr_and_the_summary_names_truncation() {
    let out = tempfile::tempdir().unwrap();
    let module = std::path::Path::new(common::ROOT).join("fixtures/hello.wasm");
    let job = out.path().join("job.yaml");
    std::fs::write(
        &job,
        format!(
            "Name: nomain\nType: batch\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      \
             Params: {{EntryModule: /wasm/m.wasm, Entrypoint: main}}\n    InputSources:\n      \
             - Source: {{Type: localDirectory, Params: {{SourcePath: {}}}}}\n        Target: /wasm/m.wasm\n",
            module.display()
        ),
    )
    .unwrap();
    let failed = brine()
        .arg("run")
        .arg(&job)
        .arg("--output")
        .arg(out.path().join("f"))
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        !stdout(&failed).contains("failed"),
        "stdout: {}",
        stdout(&failed)
    );
    assert!(String::from_utf8_lossy(&failed.stderr)
        .contains("job nomain: failed: unable to find the entrypoint 'main'"));
    let cut = brine()
        .args([
            "run",
            "fixtures/jobs/hello.yaml",
            "--max-output",
            "3",
            "--output",
        ])
        .arg(out.path().join("t"))
        .output()
        .unwrap();
    assert!(
        stdout(&cut).contains("stdout (3 bytes, truncated at --max-output)"),
        "{}",
        stdout(&cut)
    );
}

#[test]
fn a_single_wast_or_suite_says_its_count_once() {
    let missing = brine().args(["wast", "nope.wast"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(common::EXIT_USAGE));
    assert_eq!(
        stdout(&missing),
        "",
        "no total for a script that could not be read"
    );
    let one = brine()
        .args(["wast", "spec-tests/fuel.wast"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&one).matches("passed").count(),
        1,
        "{}",
        stdout(&one)
    );
    let two = brine()
        .args(["wast", "spec-tests/fuel.wast", "spec-tests/linking.wast"])
        .output()
        .unwrap();
    assert!(
        stdout(&two).contains("total: 57 passed, 0 failed"),
        "{}",
        stdout(&two)
    );
}

#[test]
fn verbose_logs_every_stage_of_a_run_on_stderr() {
    let out = tempfile::tempdir().unwrap();
    let o = brine()
        .args(["run", "-v", "fixtures/jobs/demo/job.yaml", "--output"])
        .arg(out.path().join("r"))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", common::describe(&o));
    let err = common::stderr(&o);
    let stages = [
        "planned job=csv-summary",
        "staged input source=\"localDirectory",
        "target=\"/inputs\"",
        "linked module=\"/wasm/csv_summary.wasm\"",
        "ran outcome=",
        "results written status=Completed",
        "results in place",
    ];
    for stage in stages {
        assert!(err.contains(stage), "no `{stage}` in:\n{err}");
    }
    assert!(!stdout(&o).contains("INFO"), "logs stay off stdout");
    let detail = brine()
        .args(["run", "-vv", "fixtures/jobs/demo/job.yaml", "--output"])
        .arg(out.path().join("d"))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let err = common::stderr(&detail);
    assert!(
        err.contains("compiled by the checks before the run: reused"),
        "the checks' compiled module is reused, not compiled again:\n{err}"
    );
    let quiet = brine()
        .args(["run", "fixtures/jobs/demo/job.yaml", "--output"])
        .arg(out.path().join("q"))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_eq!(common::stderr(&quiet), "", "no logs without -v");
}

#[test]
fn json_errors_are_one_located_object_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.yaml");
    std::fs::write(
        &job,
        "Name: x\nType: bach\nTasks:\n  - Name: main\n    Engine: {Type: wasm, Params: {EntryModule: /m.wasm}}\n",
    )
    .unwrap();
    let o = brine()
        .arg("run")
        .arg(&job)
        .args(["--json", "--output"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(common::code(&o), 2);
    assert_eq!(stdout(&o), "", "nothing on stdout");
    let error: serde_json::Value =
        serde_json::from_str(&common::stderr(&o)).expect("stderr is one JSON object");
    assert_eq!(error["line"], 2, "{error}");
    assert_eq!(error["column"], 7, "{error}");
    assert_eq!(error["field"], "Type", "{error}");
    assert_eq!(error["hint"], "did you mean `batch`?", "{error}");
    assert_eq!(error["status"], 2);
    let message = error["error"].as_str().unwrap();
    assert!(message.contains("unknown job type `bach`"), "{message}");
    assert!(!message.contains("did you mean"), "{message}");

    let missing = brine()
        .args(["wasm", "run", "--json", "no-such.wasm"])
        .output()
        .unwrap();
    let error: serde_json::Value = serde_json::from_str(&common::stderr(&missing)).unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("no-such.wasm"),
        "{error}"
    );
    assert_eq!(error["status"], 2);
}

#[test]
fn wasm_run_json_reports_the_outcome_on_stderr_and_leaves_stdout_to_the_guest() {
    let o = brine()
        .args(["wasm", "run", "--json", "fixtures/hello.wasm"])
        .output()
        .unwrap();
    assert_eq!(stdout(&o), "Hello, world!\n");
    let report: serde_json::Value = serde_json::from_str(&common::stderr(&o)).unwrap();
    assert_eq!(report["outcome"], "returned");
    assert_eq!(report["status"], 0);
    let fuel = brine()
        .args([
            "wasm",
            "run",
            "--json",
            "--fuel",
            "1000",
            "fixtures/loop.wasm",
        ])
        .output()
        .unwrap();
    assert_eq!(common::code(&fuel), 134);
    let report: serde_json::Value = serde_json::from_str(&common::stderr(&fuel)).unwrap();
    assert_eq!(report["outcome"], "out_of_fuel");
    assert!(report["error"].as_str().unwrap().contains("1000 units"));
    let add = brine()
        .args([
            "wasm",
            "run",
            "--json",
            "--invoke",
            "add",
            "fixtures/add.wat",
            "2",
            "3",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_str(&common::stderr(&add)).unwrap();
    assert_eq!(report["results"], serde_json::json!(["5"]));
}

#[test]
fn replay_json_prints_the_replayed_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j");
    let o = brine()
        .args(["run", "fixtures/jobs/hello.yaml", "--output"])
        .arg(dir.path().join("a"))
        .arg("--record")
        .arg(&journal)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", common::describe(&o));
    let o = brine()
        .arg("replay")
        .arg(&journal)
        .args(["fixtures/jobs/hello.yaml", "--json", "--output"])
        .arg(dir.path().join("b"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", common::describe(&o));
    let summaries: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(summaries[0]["status"], "completed", "{summaries}");
    assert_eq!(summaries[0]["stdout"], "Hello, world!\n");
}

/// Every way a command fails says so on stderr, with its exit status, and
/// puts nothing that looks like an error on stdout (results go there). The
/// verdicts of `brine test` and `brine wast` are their results: a failing
/// assertion is reported on stdout, as `cargo test` does, with exit 1.
#[test]
fn every_failing_command_path_reports_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(d("junk.wasm"), "junk").unwrap();
    std::fs::write(d("bad.json"), "{").unwrap();
    std::fs::write(d("bad.yaml"), "Name: x\n").unwrap();
    std::fs::write(d("afile"), "").unwrap();
    let trap = std::path::Path::new(common::ROOT).join("fixtures/trap.wasm");
    std::fs::write(d("trap.yaml"), common::job::module_job(&trap, &[], "", "")).unwrap();
    let hello = "fixtures/jobs/hello.yaml";
    let cases: Vec<(Vec<String>, i32)> = vec![
        (vec!["run".into(), d("nope.yaml"), "-o".into(), d("o1")], 2),
        (vec!["run".into(), d("bad.yaml"), "-o".into(), d("o2")], 2),
        (vec!["run".into(), hello.into(), "-o".into(), d("afile")], 2),
        (
            vec![
                "run".into(),
                hello.into(),
                "-o".into(),
                d("o3"),
                "--allow-env".into(),
                "(".into(),
            ],
            2,
        ),
        (
            vec![
                "run".into(),
                hello.into(),
                "-o".into(),
                d("o4"),
                "--partition".into(),
                "5".into(),
            ],
            2,
        ),
        (vec!["run".into(), d("trap.yaml"), "-o".into(), d("o5")], 1),
        (vec!["run".into(), hello.into()], 2),
        (vec!["validate".into(), d("bad.yaml")], 2),
        (vec!["wasm".into(), "run".into(), d("nope.wasm")], 2),
        (vec!["wasm".into(), "run".into(), d("junk.wasm")], 2),
        (
            vec![
                "wasm".into(),
                "run".into(),
                "--dir".into(),
                d("nope"),
                "fixtures/hello.wasm".into(),
            ],
            2,
        ),
        (
            vec![
                "wasm".into(),
                "run".into(),
                "--import".into(),
                "bad".into(),
                "fixtures/hello.wasm".into(),
            ],
            2,
        ),
        (
            vec!["wasm".into(), "run".into(), "fixtures/trap.wasm".into()],
            134,
        ),
        (
            vec![
                "wasm".into(),
                "run".into(),
                "--timeout".into(),
                "100ms".into(),
                "fixtures/loop.wasm".into(),
            ],
            124,
        ),
        (vec!["inspect".into(), d("junk.wasm")], 2),
        (vec!["wast".into(), d("nope.wast")], 2),
        (vec!["test".into(), d("nope")], 2),
        (vec!["verify".into(), d("bad.json"), hello.into()], 2),
        (vec!["replay".into(), d("bad.json")], 2),
        (vec!["gather".into(), d("nope")], 1),
        (vec!["completion".into(), "tcsh".into()], 2),
        (vec!["nosuch".into()], 2),
        (
            vec![
                "slurm".into(),
                "submit".into(),
                d("nope.yaml"),
                "-o".into(),
                d("o6"),
            ],
            2,
        ),
    ];
    for (args, status) in cases {
        let o = brine().args(&args).output().unwrap();
        let shown = format!("brine {}: {}", args.join(" "), common::describe(&o));
        assert_eq!(common::code(&o), status, "{shown}");
        assert!(
            !common::stderr(&o).trim().is_empty(),
            "no error on stderr: {shown}"
        );
        assert!(
            !stdout(&o).to_lowercase().contains("error"),
            "an error on stdout: {shown}"
        );
    }
}
