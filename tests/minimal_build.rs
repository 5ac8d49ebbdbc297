//! The minimal build (`cargo test --no-default-features`, run by `make
//! minimal`): a job that needs a feature this build lacks is refused before
//! anything is fetched or run, with one line per problem naming the feature;
//! local jobs run as ever. Compiled only without the `http` feature (which the
//! `s3` feature implies), so it is empty in the default build.
#![cfg(not(feature = "http"))]

mod common;

use brine::module::Policy;
use brine::wasm::{self, ModuleConfig};
use common::{assert_code, brine, fixture, run, stderr, stdout, write_file, EXIT_USAGE};

/// A job whose module is local and whose other inputs and publisher need features.
const NEEDS_FEATURES: &str = r#"Name: needs-features
Type: batch
Tasks:
  - Name: main
    Engine:
      Type: wasm
      Params:
        EntryModule: /wasm/m.wasm
    InputSources:
      - Source: {Type: localDirectory, Params: {SourcePath: MODULE}}
        Target: /wasm/m.wasm
      - Source: {Type: urlDownload, Params: {URL: 'http://127.0.0.1:9/data'}}
        Target: /data
      - Source: {Type: ipfs, Params: {CID: QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG}}
        Target: /ipfs
      - Source: {Type: s3, Params: {Bucket: b, Key: k}}
        Target: /s3
    Publisher: {Type: s3, Params: {Bucket: b, Key: k}}
"#;

/// What each refused part of [`NEEDS_FEATURES`] must say.
const EXPECTED: [&str; 4] = [
    r#":12:51: Tasks[0].InputSources[1].Source.Params.URL: urlDownload needs brine built with the "http" feature (this build has: none); rebuild with default features"#,
    r#":14:44: Tasks[0].InputSources[2].Source.Params.CID: ipfs needs brine built with the "http" feature (this build has: none); rebuild with default features"#,
    r#":16:45: Tasks[0].InputSources[3].Source.Params.Bucket: s3 needs brine built with the "s3" feature (this build has: none); rebuild with default features"#,
    r#":18:5: Tasks[0].Publisher: publisher type `s3` needs brine built with the "s3" feature (this build has: none); rebuild with default features"#,
];

fn needs_features_job(dir: &std::path::Path) -> std::path::PathBuf {
    let module = fixture("hello.wasm").display().to_string();
    write_file(dir, "job.yaml", NEEDS_FEATURES.replace("MODULE", &module))
}

#[test]
fn version_says_no_features() {
    let out = run(["--version"]);
    assert_code(&out, 0);
    let expected = format!("brine {} (features: none)\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(stdout(&out), expected);
    assert!(brine::FEATURES.is_empty());
}

#[test]
fn validate_and_run_refuse_what_this_build_cannot_fetch_or_publish() {
    let dir = tempfile::tempdir().unwrap();
    let job = needs_features_job(dir.path());
    let results = dir.path().join("results");
    for args in [
        vec!["validate".into(), job.display().to_string()],
        vec![
            "run".into(),
            job.display().to_string(),
            "--output".into(),
            results.display().to_string(),
        ],
    ] {
        let out = run(&args);
        assert_code(&out, EXIT_USAGE);
        let err = stderr(&out);
        for expected in EXPECTED {
            let line = format!("{}{expected}", job.display());
            assert!(err.contains(&line), "{args:?}: missing {line}\nin:\n{err}");
        }
    }
    assert!(!results.exists(), "nothing ran, so no results directory");
}

#[test]
fn the_library_refuses_them_too() {
    let dir = tempfile::tempdir().unwrap();
    let job = brine::Job::from_path(needs_features_job(dir.path())).unwrap();
    let err = brine::run(&job, &brine::RunConfig::new(dir.path().join("results"))).unwrap_err();
    let located = err.located().expect("located at the input");
    assert_eq!(located.line, 12);
    assert!(err
        .to_string()
        .contains(r#"urlDownload needs brine built with the "http" feature"#));
    let config = ModuleConfig::new(fixture("hello.wasm")).network(Policy::any());
    let err = wasm::run(config).unwrap_err().to_string();
    assert!(
        err.contains(
            r#"guest networking (ModuleConfig::network) needs brine built with the "http" feature"#
        ),
        "{err}"
    );
}

#[test]
fn a_module_importing_guest_http_is_refused_with_the_feature_it_needs() {
    let module = fixture("net/http_status.wat").display().to_string();
    let needle = r#"so brine does not provide module `wasi:http/requests`; guest networking needs brine built with the "http" feature (this build has: none); rebuild with default features"#;
    let out = run(["wasm", "run", &module]);
    assert_code(&out, EXIT_USAGE);
    assert!(stderr(&out).contains(needle), "{}", stderr(&out));
    let out = run(["wasm", "run", "--network", "full", &module]);
    assert_code(&out, EXIT_USAGE);
    assert!(
        stderr(&out).contains(
            "--network/--allow-host: guest networking needs brine built with the \"http\" feature"
        ),
        "{}",
        stderr(&out)
    );

    let dir = tempfile::tempdir().unwrap();
    let job = write_file(
        dir.path(),
        "net.yaml",
        format!(
            "Type: batch\nTasks:\n  - Name: t\n    Engine: {{Type: wasm, Params: {{EntryModule: /m.wat}}}}\n    \
             InputSources:\n      - Source: {{Type: localDirectory, Params: {{SourcePath: '{module}'}}}}\n        Target: /m.wat\n"
        ),
    );
    let out = brine().arg("validate").arg(&job).output().unwrap();
    assert!(stderr(&out).contains(needle), "{}", stderr(&out));
}

#[test]
fn ca_cert_is_refused_without_tls() {
    let out = run([
        "run",
        "fixtures/jobs/demo/job.yaml",
        "--output",
        "results/never",
        "--ca-cert",
        "ca.pem",
    ]);
    assert_code(&out, EXIT_USAGE);
    let expected = r#"--ca-cert: TLS needs brine built with the "http" feature (this build has: none); rebuild with default features"#;
    assert!(stderr(&out).contains(expected), "{}", stderr(&out));
}

#[test]
fn local_and_inline_jobs_run() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("demo");
    let out = run([
        "run",
        "fixtures/jobs/demo/job.yaml",
        "--output",
        &results.display().to_string(),
    ]);
    assert_code(&out, 0);
    let summary = std::fs::read_to_string(results.join("outputs/summary.csv")).unwrap();
    assert!(summary.lines().count() > 1, "{summary}");
    let results = dir.path().join("inline");
    let out = run([
        "run",
        "fixtures/jobs/inline.yaml",
        "--output",
        &results.display().to_string(),
    ]);
    assert_code(&out, 0);
    let stdout = std::fs::read_to_string(results.join("stdout")).unwrap();
    assert_eq!(stdout, "hello from an inline input\n");
}
