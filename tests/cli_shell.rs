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
