//! S3 inputs and result publishers, end to end, against an S3 server started
//! by each test in this process (s3s + s3s-fs on 127.0.0.1, see `s3_support`).
//!
//! Jobs are written to a temporary directory and run by the real binary with
//! an AWS environment of its own: the test credentials (or none), no config
//! files, no instance metadata.

mod common;
mod s3_support;

use brine::publishers::{Context, Manifest, Publisher, S3Publisher};
use brine::sources::{InputSource, StageArea, S3};
use common::job::Job;
use common::{assert_no_panic, code, describe, stderr, stdout, ROOT};
use s3_support::{isolate, isolate_this_process, sha256, Server};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A job from `yaml`, with `@ROOT@` the crate root, `@DIR@` the job's
/// directory and `@ENDPOINT@` the server.
fn s3_job(yaml: &str, server: &Server) -> Job {
    Job::new(&yaml.replace("@ENDPOINT@", &server.endpoint))
}

/// Runs the job with the test credentials (or none).
fn run_s3(job: &Job, credentials: bool) -> Output {
    let mut cmd = job.command();
    isolate(&mut cmd, credentials);
    let o = cmd.output().unwrap();
    assert_no_panic(&o);
    o
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(ROOT).join("fixtures").join(rel)).unwrap()
}

/// A current-form job running fixture `module` (mounted at /wasm/m.wasm) with
/// an S3 input with `s3_params` at `target`, which is the guest's only parameter.
fn s3_input_job(module: &str, s3_params: &str, target: &str) -> String {
    format!(
        "Name: s3-input\nType: batch\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /wasm/m.wasm\n        Parameters: ['{target}']\n    InputSources:\n      - Source: {{Type: localDirectory, Params: {{SourcePath: '@ROOT@/fixtures/{module}'}}}}\n        Target: /wasm/m.wasm\n      - Source: {{Type: s3, Params: {{{s3_params}, Endpoint: '@ENDPOINT@'}}}}\n        Target: {target}\n"
    )
}

/// Runs a current-form job with one S3 input (see `s3_input_job`) against
/// `server`; returns the job and its output.
fn run_s3_input(
    server: &Server,
    module: &str,
    s3_params: &str,
    target: &str,
    credentials: bool,
) -> (Job, Output) {
    let job = s3_job(&s3_input_job(module, s3_params, target), server);
    let o = run_s3(&job, credentials);
    (job, o)
}

/// The `error` recorded in the job's brine.json.
fn summary_error(job: &Job) -> String {
    job.summary()["error"].as_str().unwrap().to_string()
}

/// A job whose guest writes `text` to /outputs/result.txt, published by `publisher` (YAML).
fn publishing_job(text: &str, publisher: &str) -> String {
    format!(
        "Name: publish\nType: batch\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /wasm/m.wasm\n        Parameters: [/outputs/result.txt, '{text}']\n    InputSources:\n      - Source: {{Type: localDirectory, Params: {{SourcePath: '@ROOT@/fixtures/write_file.wasm'}}}}\n        Target: /wasm/m.wasm\n    ResultPaths:\n      - {{Name: outputs, Path: /outputs}}\n    Publisher: {publisher}\n"
    )
}

#[test]
fn the_spec_sample_job_fetches_its_entry_module_from_s3() {
    let server = Server::with_auth();
    server.put("my-bucket", "entry.wasm", fixture("hello.wasm"));
    let job = s3_job(
        r#"
Type: "WASM"
Params:
  EntryModule:
    Source:
      Type: "s3"
      Params:
        Bucket: "my-bucket"
        Key: "entry.wasm"
        Endpoint: "@ENDPOINT@"
  Entrypoint: "_start"
  Parameters:
    - "--option"
    - "value"
  EnvironmentVariables:
    VAR1: "value1"
    VAR2: "value2"
  ImportModules:
    - Source:
        Type: "localDirectory"
        Params:
          SourcePath: "@ROOT@/fixtures/link/easter.wat"
"#,
        &server,
    );
    let o = run_s3(&job, true);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert_eq!(job.read("stdout"), "Hello, world!\n");
    assert_eq!(job.summary()["status"], "completed");
}

#[test]
fn a_prefix_with_a_filter_becomes_a_directory_without_the_prefix() {
    let server = Server::with_auth();
    for key in ["a.csv", "b.csv", "notes.txt", "sub/c.csv"] {
        server.put("data", &format!("runs/2024/{key}"), key);
    }
    server.put("data", "runs/2023/old.csv", "old");
    server.put("data", "other.csv", "other");
    let (job, o) = run_s3_input(
        &server,
        "readdir.wasm",
        r"Bucket: data, Key: 'runs/2024/*', Filter: '\.csv$', Region: eu-west-1",
        "/inputs",
        true,
    );
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert_eq!(job.read("stdout"), ".\n..\na.csv\nb.csv\nsub\n");
}

#[test]
fn a_prefix_strips_only_its_directory_part() {
    let server = Server::with_auth();
    server.put("data", "runs/2024/a.csv", "a");
    server.put("data", "runs/2023/b.csv", "b");
    server.put("data", "logs/x", "x");
    let (job, o) = run_s3_input(
        &server,
        "readdir.wasm",
        "Bucket: data, Key: 'runs/20*'",
        "/inputs",
        true,
    );
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert_eq!(job.read("stdout"), ".\n..\n2023\n2024\n");
}

#[test]
fn a_single_object_is_a_file_and_its_checksum_is_checked() {
    let server = Server::with_auth();
    server.put("data", "in/hello.txt", "hello from s3\n");
    let good = sha256(b"hello from s3\n");
    let params = format!("Bucket: data, Key: in/hello.txt, ChecksumSHA256: '{good}'");
    let (job, o) = run_s3_input(&server, "cat_file.wasm", &params, "/in.txt", true);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert_eq!(job.read("stdout"), "hello from s3\n");
}

#[test]
fn a_checksum_mismatch_fails_naming_both_hashes_and_stages_nothing() {
    let server = Server::with_auth();
    server.put("data", "in/hello.txt", "tampered\n");
    let expected = sha256(b"hello from s3\n");
    let actual = sha256(b"tampered\n");
    let params = format!("Bucket: data, Key: in/hello.txt, ChecksumSHA256: '{expected}'");
    let (job, o) = run_s3_input(&server, "cat_file.wasm", &params, "/in.txt", true);
    assert_eq!(code(&o), 1, "{}", describe(&o));
    let error = summary_error(&job);
    for needle in [
        "s3://data/in/hello.txt",
        "SHA-256 mismatch",
        &expected,
        &actual,
    ] {
        assert!(error.contains(needle), "{needle} not in {error}");
    }
    assert!(stderr(&o).contains("SHA-256 mismatch"), "{}", describe(&o));
    assert_eq!(job.read("stdout"), "", "the guest never ran");
    assert!(job.leftovers().is_empty(), "{:?}", job.leftovers());
}

#[test]
fn a_failed_download_leaves_no_partial_input_in_the_stage_area() {
    isolate_this_process();
    let server = Server::with_auth();
    server.put("data", "x/a", "a");
    server.put("data", "x/b", "b");
    let area_dir = tempfile::tempdir().unwrap();
    let area = StageArea::new(area_dir.path().to_path_buf());
    let source = |key: &str, checksum: Option<String>| S3 {
        bucket: "data".into(),
        key: key.into(),
        endpoint: Some(server.endpoint.clone()),
        checksum_sha256: checksum,
        ..S3::default()
    };
    let bad = source("x/a", Some(sha256(b"not a")));
    let err = bad.stage(&area, 0, "/in").unwrap_err().to_string();
    assert!(err.contains("SHA-256 mismatch"), "{err}");
    let listed = source("x/*", None).stage(&area, 1, "/dir").unwrap();
    assert_eq!(
        std::fs::read_to_string(listed.host_path.join("b")).unwrap(),
        "b"
    );
    let names = common::entries(area_dir.path());
    assert_eq!(names, ["input-1"], "only the completed input is staged");
}

#[test]
fn a_missing_key_is_a_clear_error() {
    let server = Server::with_auth();
    server.bucket("my-bucket");
    let (job, o) = run_s3_input(
        &server,
        "cat_file.wasm",
        "Bucket: my-bucket, Key: nope/missing.txt",
        "/in.txt",
        true,
    );
    assert_eq!(code(&o), 1, "{}", describe(&o));
    let error = summary_error(&job);
    assert!(
        error.contains("s3://my-bucket/nope/missing.txt: no such object"),
        "{error}"
    );
    assert!(error.starts_with("input /in.txt: "), "{error}");
}

#[test]
fn a_missing_bucket_and_wrong_credentials_are_clear_errors() {
    let server = Server::with_auth();
    let (job, o) = run_s3_input(
        &server,
        "cat_file.wasm",
        "Bucket: nobucket, Key: 'a/*'",
        "/x",
        true,
    );
    assert_eq!(code(&o), 1, "{}", describe(&o));
    let error = summary_error(&job);
    assert!(
        error.contains("s3://nobucket/a/*: no such bucket"),
        "{error}"
    );

    server.put("bkt", "k", "v");
    let (job, o) = run_s3_input(&server, "cat_file.wasm", "Bucket: bkt, Key: k", "/x", false);
    assert_eq!(code(&o), 1, "{}", describe(&o));
    let error = summary_error(&job);
    assert!(error.contains("s3://bkt/k: access denied"), "{error}");
}

#[test]
fn anonymous_access_works_when_no_credentials_exist() {
    let server = Server::anonymous();
    server.put("public", "greeting.txt", "hi anonymous\n");
    let (job, o) = run_s3_input(
        &server,
        "cat_file.wasm",
        "Bucket: public, Key: greeting.txt",
        "/g.txt",
        false,
    );
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert_eq!(job.read("stdout"), "hi anonymous\n");
}

#[test]
fn a_listing_longer_than_one_page_is_followed() {
    isolate_this_process();
    let server = Server::with_auth();
    for i in 0..1010 {
        server.put("many", &format!("p/{i:04}"), i.to_string());
    }
    let area_dir = tempfile::tempdir().unwrap();
    let area = StageArea::new(area_dir.path().to_path_buf());
    let source = S3 {
        bucket: "many".into(),
        key: "p/".into(),
        endpoint: Some(server.endpoint.clone()),
        ..S3::default()
    };
    let staged = source.stage(&area, 0, "/p").unwrap();
    assert_eq!(std::fs::read_dir(&staged.host_path).unwrap().count(), 1010);
    let last = std::fs::read_to_string(staged.host_path.join("1009")).unwrap();
    assert_eq!(last, "1009");
}

#[test]
fn invalid_s3_parameters_are_refused_before_anything_runs() {
    let server = Server::with_auth();
    let (job, o) = run_s3_input(
        &server,
        "cat_file.wasm",
        "Bucket: b, Key: 'a/*', VersionID: v1",
        "/x",
        true,
    );
    assert_eq!(code(&o), 2, "{}", describe(&o));
    assert!(common::stderr(&o).contains("VersionID"), "{}", describe(&o));
    assert!(!job.out().exists());
}

/// The published objects recorded in brine.json, by name.
fn published(job: &Job) -> (String, Vec<(String, u64, String)>) {
    let summary = job.summary();
    let published = &summary["published"];
    let objects = published["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap().to_string(),
                o["size"].as_u64().unwrap(),
                o["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (published["location"].as_str().unwrap().to_string(), objects)
}

#[test]
fn publishing_to_s3_uploads_every_file_and_the_manifest() {
    let server = Server::with_auth();
    server.bucket("results");
    let publisher =
        "{Type: s3, Params: {Bucket: results, Key: 'runs/{jobID}/', Endpoint: '@ENDPOINT@'}}";
    let job = s3_job(&publishing_job("published text", publisher), &server);
    let o = run_s3(&job, true);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    let summary = job.summary();
    let job_id = summary["job_id"].as_str().unwrap();
    let prefix = format!("runs/{job_id}");
    let (location, objects) = published(&job);
    assert_eq!(location, format!("s3://results/{prefix}/"));
    assert!(stdout(&o).contains(&location), "{}", describe(&o));
    let names: Vec<&str> = objects.iter().map(|o| o.0.as_str()).collect();
    let expected: Vec<String> = ["exitCode", "outputs/result.txt", "stderr", "stdout"]
        .iter()
        .map(|n| format!("{prefix}/{n}"))
        .collect();
    assert_eq!(names, expected);
    for (key, size, hash) in &objects {
        let bytes = std::fs::read(server.object("results", key)).unwrap();
        assert_eq!(bytes.len() as u64, *size, "{key}");
        assert_eq!(&sha256(&bytes), hash, "{key}");
    }
    let uploaded = std::fs::read(server.object("results", &format!("{prefix}/outputs/result.txt")));
    assert_eq!(uploaded.unwrap(), b"published text");
    let manifest = std::fs::read(server.object("results", &format!("{prefix}/manifest.json")));
    let manifest: Manifest = serde_json::from_slice(&manifest.unwrap()).unwrap();
    assert_eq!(manifest.job_id, job_id);
    let listed: Vec<_> = manifest
        .objects
        .iter()
        .map(|o| (o.name.clone(), o.size, o.sha256.clone()))
        .collect();
    assert_eq!(listed, objects);
}

#[test]
fn a_publish_failure_fails_the_job() {
    let server = Server::with_auth();
    server.bucket("results");
    let publisher = "{Type: s3, Params: {Bucket: results, Key: out, Endpoint: '@ENDPOINT@'}}";
    let job = s3_job(&publishing_job("x", publisher), &server);
    let o = run_s3(&job, false);
    assert_eq!(code(&o), 1, "{}", describe(&o));
    let summary = job.summary();
    assert_eq!(summary["status"], "failed");
    let error = summary["error"].as_str().unwrap();
    assert!(
        error.starts_with("publishing to s3://results/out/: s3://results/out/"),
        "{error}"
    );
    assert!(error.contains("access denied"), "{error}");
    assert!(summary["published"].is_null());
    assert!(!server.object("results", "out/manifest.json").exists());
    assert_eq!(
        job.read("outputs/result.txt"),
        "x",
        "the local results stay"
    );
}

#[test]
fn large_files_are_uploaded_in_parts() {
    isolate_this_process();
    let server = Server::with_auth();
    server.bucket("big");
    let results = tempfile::tempdir().unwrap();
    let bytes = common::pseudo_random_bytes(12 << 20, 7);
    std::fs::write(results.path().join("stdout"), &bytes).unwrap();
    let publisher = S3Publisher {
        bucket: "big".into(),
        key: "r".into(),
        region: None,
        endpoint: Some(server.endpoint.clone()),
        multipart_threshold: 6 << 20,
        part_size: 5 << 20,
    };
    let cx = Context {
        job_id: "j".into(),
        execution_id: "e".into(),
        partition_index: 0,
        partition_count: 1,
    };
    let published = publisher.publish(results.path(), &cx).unwrap().unwrap();
    assert_eq!(published.objects.len(), 1);
    let uploaded = std::fs::read(server.object("big", "r/stdout")).unwrap();
    assert!(uploaded == bytes, "the uploaded parts reassemble the file");
    assert!(server.object("big", "r/manifest.json").is_file());
}

#[test]
fn the_local_publisher_writes_a_directory_or_a_tar_gz() {
    let server = Server::anonymous();
    let publisher = "{Type: local, Params: {Path: published}}";
    let job = s3_job(&publishing_job("to a dir", publisher), &server);
    let o = run_s3(&job, false);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    let dir = job.path("published");
    assert_eq!(
        std::fs::read_to_string(dir.join("outputs/result.txt")).unwrap(),
        "to a dir"
    );
    assert_eq!(std::fs::read_to_string(dir.join("exitCode")).unwrap(), "0");
    let (location, objects) = published(&job);
    assert_eq!(PathBuf::from(&location), dir);
    assert_eq!(objects.len(), 4);
    assert_eq!(job.summary()["published"]["type"], "local");

    let publisher = "{Type: local, Params: {Path: '@DIR@/archive/r.tar.gz'}}";
    let job = s3_job(&publishing_job("to an archive", publisher), &server);
    let o = run_s3(&job, false);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    let archive = std::fs::File::open(job.path("archive/r.tar.gz")).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut files = Vec::new();
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
        files.push((name, text));
    }
    assert!(
        files.contains(&("outputs/result.txt".into(), "to an archive".into())),
        "{files:?}"
    );
    assert!(
        files.contains(&("stdout".into(), String::new())),
        "{files:?}"
    );
    let archive_dir: Vec<_> = std::fs::read_dir(job.path("archive")).unwrap().collect();
    assert_eq!(archive_dir.len(), 1, "no temporary file is left");
}

#[test]
fn an_ipfs_publisher_is_refused_before_anything_runs() {
    let server = Server::anonymous();
    let job = s3_job(&publishing_job("x", "{Type: ipfs}"), &server);
    let o = run_s3(&job, false);
    assert_eq!(code(&o), 2, "{}", describe(&o));
    assert!(
        common::stderr(&o).contains("`ipfs` is not supported"),
        "{}",
        describe(&o)
    );
    assert!(!job.out().exists());
}

#[test]
fn each_partition_publishes_to_its_own_place() {
    let server = Server::anonymous();
    let publisher = "{Type: local, Params: {Path: published}}";
    let yaml =
        publishing_job("part", publisher).replace("Type: batch\n", "Type: batch\nCount: 2\n");
    let job = s3_job(&yaml, &server);
    let o = run_s3(&job, false);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    for index in ["0", "1"] {
        let file = job.path("published").join(index).join("outputs/result.txt");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "part", "{index}");
    }
}

#[test]
fn max_download_caps_what_an_s3_input_may_fetch() {
    isolate_this_process();
    let server = Server::with_auth();
    server.put("data", "big/a", vec![b'a'; 3000]);
    server.put("data", "big/b", vec![b'b'; 3000]);
    let area_dir = tempfile::tempdir().unwrap();
    let area = StageArea::new(area_dir.path().to_path_buf());
    let source = |key: &str, max_bytes: u64| S3 {
        bucket: "data".into(),
        key: key.into(),
        endpoint: Some(server.endpoint.clone()),
        max_bytes: Some(max_bytes),
        ..S3::default()
    };
    let err = source("big/a", 1000).stage(&area, 0, "/in").unwrap_err();
    assert!(
        err.to_string().contains("larger than --max-download"),
        "{err}"
    );
    // A prefix counts all its objects together.
    let err = source("big/*", 5000).stage(&area, 1, "/in").unwrap_err();
    assert!(
        err.to_string().contains("larger than --max-download"),
        "{err}"
    );
    assert!(source("big/*", 6000).stage(&area, 2, "/in").is_ok());
    let names = common::entries(area_dir.path());
    assert_eq!(names, ["input-2"], "nothing partial is left");
}
