//! The deep checks `brine validate` and `brine run` make before anything is
//! fetched (issue #14): a job-file problem refuses the job (exit 2, no results
//! directory), a module that cannot run fails it the way Bacalhau fails it
//! (exit 1, brine.json `failed` with the located message, also on stderr)
//! without fetching anything, and a module that arrives with a remote input
//! gets the same checks right after its fetch, before any guest runs. The
//! exact messages are pinned by the fixtures in fixtures/jobs/invalid/.

mod common;
mod http_fixture;

#[cfg(feature = "http")]
use common::job::wasm_job;
use common::job::{local_input, module_job, source_input, Job};
use common::{brine, code, stderr, stdout, ROOT};
use http_fixture::{Reply, Server};

/// A job whose only problem is its local entry module (it exports no `main`),
/// with a urlDownload input served by `server`.
#[cfg(feature = "http")]
fn bad_entrypoint_with_download(server: &Server) -> Job {
    let url = server.url("/data.csv");
    let inputs = source_input(
        &format!("{{Type: urlDownload, Params: {{URL: '{url}'}}}}"),
        "/inputs",
    );
    let yaml = module_job(format!("{ROOT}/fixtures/hello.wasm"), &[], &inputs, "").replace(
        "EntryModule: /wasm/m.wasm",
        "EntryModule: /wasm/m.wasm\n        Entrypoint: main",
    );
    Job::new(&yaml)
}

#[cfg(feature = "http")]
#[test]
fn a_module_problem_fails_the_run_before_anything_is_fetched() {
    let server = Server::start(|_, _| Reply::ok("a,b\n"));
    let job = bad_entrypoint_with_download(&server);
    let o = job.run(&["--quiet"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        server.requests().is_empty(),
        "fetched: {:?}",
        server.targets()
    );
    let summary = job.summary();
    assert_eq!(summary["status"], "failed");
    // brine.json keeps Bacalhau's words; stderr has the located message with the exports.
    assert_eq!(
        summary["error"],
        "unable to find the entrypoint 'main' in the WASM module"
    );
    let err = stderr(&o);
    let file = job.file().display().to_string();
    assert!(
        err.contains(&format!("{file}:")) && err.contains(": Tasks[0].Engine.Params.Entrypoint: "),
        "{err}"
    );
    assert!(err.contains("could be: _start"), "{err}");
    // The job's failure is an error: on stderr, with the summary's tree on stdout.
    assert!(err.contains("job ") && err.contains(": failed: "), "{err}");
    assert!(!stdout(&o).contains("failed"), "{}", stdout(&o));
}

#[cfg(feature = "http")]
#[test]
fn validate_finds_the_same_problem_without_fetching() {
    let server = Server::start(|_, _| Reply::ok("a,b\n"));
    let job = bad_entrypoint_with_download(&server);
    let o = brine()
        .arg("validate")
        .arg(job.file())
        .output()
        .expect("runs");
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("unable to find the entrypoint 'main'"),
        "{}",
        stderr(&o)
    );
    assert!(
        server.requests().is_empty(),
        "fetched: {:?}",
        server.targets()
    );
}

#[test]
fn a_job_file_problem_refuses_the_run_and_creates_nothing() {
    let server = Server::start(|_, _| Reply::ok("a,b\n"));
    let url = server.url("/data.csv");
    let mut inputs = source_input(
        &format!("{{Type: urlDownload, Params: {{URL: '{url}'}}}}"),
        "/inputs",
    );
    inputs.push_str(&local_input("/no/such/dir", "/data"));
    let job = Job::new(&module_job(
        format!("{ROOT}/fixtures/hello.wasm"),
        &[],
        &inputs,
        "",
    ));
    let o = job.run(&["--quiet"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("Tasks[0].InputSources[2].Source.Params.SourcePath: /no/such/dir: no such file or directory"), "{}", stderr(&o));
    assert!(!job.out().exists());
    assert!(
        server.requests().is_empty(),
        "fetched: {:?}",
        server.targets()
    );
}

#[test]
fn env_references_follow_allow_env_in_validate_too() {
    let job = "fixtures/jobs/invalid/env_not_allowed.yaml";
    let refused = brine().args(["validate", job]).output().expect("runs");
    assert_eq!(code(&refused), 2);
    let allowed = brine()
        .args(["validate", "--allow-env", "HOME", job])
        .env("HOME", "/home/someone")
        .output()
        .expect("runs");
    assert_eq!(code(&allowed), 0, "{}", stderr(&allowed));
}

#[test]
fn module_problems_are_marked_in_json() {
    let o = brine()
        .args([
            "validate",
            "--json",
            "fixtures/jobs/invalid/entrypoint_missing.yaml",
        ])
        .output()
        .expect("runs");
    assert_eq!(code(&o), 2);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    let e = &v["errors"][0];
    assert_eq!(e["kind"], "module");
    assert_eq!(e["path"], "Engine.Params.Entrypoint");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(6), Some(17))
    );
    let missing = brine()
        .args([
            "validate",
            "--json",
            "fixtures/jobs/invalid/missing_source_path.yaml",
        ])
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&missing.stdout).expect("one JSON object");
    assert_eq!(v["errors"][0]["kind"], "job");
}

#[cfg(feature = "http")]
#[test]
fn a_fetched_module_is_checked_after_its_fetch_before_any_guest_runs() {
    let server = Server::start(|_, _| Reply::ok("not wasm at all"));
    let url = server.url("/m.wasm");
    let inputs = source_input(
        &format!("{{Type: urlDownload, Params: {{URL: '{url}'}}}}"),
        "/wasm",
    );
    let job = Job::new(&wasm_job("/wasm/m.wasm", &[], &inputs, ""));
    let o = job.run(&["--quiet"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(server.requests().len(), 1);
    let error = job.error();
    assert!(
        error.starts_with("invalid module /wasm/m.wasm: "),
        "{error}"
    );
    assert_eq!(job.read("stdout"), "");
}

#[test]
fn spec_form_modules_keep_their_own_targets() {
    let out = tempfile::tempdir().expect("temp dir");
    let o = brine()
        .args(["run", "fixtures/jobs/spec_targets.yaml", "--output"])
        .arg(out.path().join("r"))
        .output()
        .expect("runs");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let printed = std::fs::read_to_string(out.path().join("r/stdout")).expect("stdout");
    assert_eq!(printed, "17\n");
}

#[test]
fn validate_lists_each_module_with_its_imports_and_exports() {
    let o = brine()
        .args(["validate", "fixtures/jobs/link.yaml"])
        .output()
        .expect("runs");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    for line in [
        "publisher: none; disk limit 10 GiB;",
        "module /wasm/main.wasm: imports lib (4), wasi_snapshot_preview1 (1); exports _start (func), add3 (func), memory (memory)",
        "module /lib: imports none; exports add (func), counter (global), mem (memory), mul (func), tab (table)",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in:\n{out}");
    }
}
