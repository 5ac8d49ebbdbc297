//! Staging under a deadline (issue #12, item 12, and TotalTimeout from item 10),
//! end to end through the real binary: a download trickling one byte a second
//! stops at the job's TotalTimeout or at `--staging-timeout`; a TotalTimeout
//! shorter than ExecutionTimeout stops a looping guest; hostile inline
//! archives (nested thousands deep, links leaving the archive) are refused at
//! once, and deep but legal ones unpack in linear time.

mod common;
mod http_fixture;

use common::job::{inline_source, module_job, source_input, Job};
use common::{describe, ROOT};
#[cfg(feature = "http")]
use http_fixture::{silent_endpoint, Fault, Reply, Server};
use std::io::Write;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

/// A job running fixture `module` with `params`, one more input (`source`,
/// YAML) at /inputs, and `timeouts` (YAML flow mapping) if not empty.
fn staging_job(module: &str, params: &[&str], source: Option<&str>, timeouts: &str) -> Job {
    let inputs = source.map_or(String::new(), |source| source_input(source, "/inputs"));
    let extra = if timeouts.is_empty() {
        String::new()
    } else {
        format!("    Timeouts: {timeouts}\n")
    };
    let module = format!("{ROOT}/fixtures/{module}");
    Job::new(&module_job(module, params, &inputs, &extra))
}

/// Runs the job quietly with `extra` flags; returns its output and how long it took.
fn timed_run(job: &Job, extra: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let o = job.run_quiet(extra);
    (o, started.elapsed())
}

/// The job failed (exit 1) with an error holding every one of `needles`,
/// and left nothing partial beside its results.
#[track_caller]
fn assert_failed(job: &Job, o: &Output, needles: &[&str]) -> String {
    let error = job.assert_failed_with(o, needles);
    assert!(!error.contains('\n'), "one line: {error:?}");
    job.assert_no_leftovers();
    error
}

/// The URL of a server that announces `length` bytes and sends one a
/// second, forever (until the client goes away).
#[cfg(feature = "http")]
fn trickling_server(length: usize) -> String {
    let reply = Reply::ok(vec![b'x'; length]).fault(Fault::Trickle(Duration::from_secs(1)));
    let server = Server::start(move |_, _| reply.clone());
    server.url("/slow.csv")
}

/// A job that cats `/inputs/slow.csv`, downloaded from a trickling server,
/// under `timeouts`; returns the URL and the job.
#[cfg(feature = "http")]
fn trickling_download_job(timeouts: &str) -> (String, Job) {
    let url = trickling_server(1000);
    let source = format!("{{Type: urlDownload, Params: {{URL: '{url}'}}}}");
    let job = staging_job(
        "cat_file.wasm",
        &["/inputs/slow.csv"],
        Some(&source),
        timeouts,
    );
    (url, job)
}

#[cfg(feature = "http")]
#[test]
fn a_trickling_download_stops_at_the_total_timeout() {
    let (url, job) = trickling_download_job("{ExecutionTimeout: 5, TotalTimeout: 3}");
    let (o, took) = timed_run(&job, &[]);
    assert_failed(
        &job,
        &o,
        &[
            &format!("input /inputs (urlDownload {url}): "),
            "stopped at the job's TotalTimeout of 3s",
            "raise Timeouts.TotalTimeout",
        ],
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(took >= Duration::from_secs(3), "took {took:?}");
}

#[cfg(feature = "http")]
#[test]
fn without_a_total_timeout_staging_stops_at_the_staging_timeout() {
    let (url, job) = trickling_download_job("{ExecutionTimeout: 5}");
    // The read timeout is longer than the deadline: the deadline must cut the read short.
    let (o, took) = timed_run(&job, &["--staging-timeout", "2s", "--read-timeout", "60s"]);
    assert_failed(
        &job,
        &o,
        &[
            &format!("input /inputs (urlDownload {url}): "),
            "staging timeout of 2s",
            "--staging-timeout",
        ],
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[cfg(feature = "s3")]
#[test]
fn an_s3_endpoint_that_never_answers_stops_at_the_total_timeout() {
    let endpoint = silent_endpoint();
    let source =
        format!("{{Type: s3, Params: {{Bucket: b, Key: data.csv, Endpoint: '{endpoint}'}}}}");
    let job = staging_job(
        "cat_file.wasm",
        &["/inputs"],
        Some(&source),
        "{TotalTimeout: 2}",
    );
    let started = Instant::now();
    let o = job
        .command()
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_failed(
        &job,
        &o,
        &[
            "input /inputs (s3 s3://b/data.csv): ",
            "stopped at the job's TotalTimeout of 2s",
        ],
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

/// Runs a guest that loops forever under `timeouts`; returns the job, its
/// output and how long it took.
fn run_looping_guest(timeouts: &str) -> (Job, Output, Duration) {
    let job = staging_job("loop.wasm", &[], None, timeouts);
    let (o, took) = timed_run(&job, &[]);
    (job, o, took)
}

#[test]
fn a_total_timeout_shorter_than_the_execution_timeout_stops_a_looping_guest() {
    let (job, o, took) = run_looping_guest("{ExecutionTimeout: 60, TotalTimeout: 2}");
    let error = assert_failed(&job, &o, &["Job timed out", "TotalTimeout of 2s"]);
    assert!(!error.contains("Execution timed out"), "{error}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(took >= Duration::from_secs(2), "took {took:?}");
}

#[test]
fn a_shorter_execution_timeout_keeps_bacalhaus_message() {
    let (job, o, took) = run_looping_guest("{ExecutionTimeout: 1, TotalTimeout: 60}");
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert_eq!(job.summary()["error"], "Execution timed out");
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn a_queue_timeout_is_accepted() {
    let job = staging_job("hello.wasm", &[], None, "{QueueTimeout: 1}");
    let (o, _) = timed_run(&job, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
}

/// A gzip'd tar of `entries` (path, contents; `None` is a directory).
fn tar_gz(entries: &[(String, Option<Vec<u8>>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, contents) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o755);
        let data = contents.clone().unwrap_or_default();
        header.set_entry_type(match contents {
            Some(_) => tar::EntryType::Regular,
            None => tar::EntryType::Directory,
        });
        header.set_size(data.len() as u64);
        builder.append_data(&mut header, path, &data[..]).unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

/// `depth` nested directory entries `d/`, `d/d/`, ..., then `leaf.txt` in the deepest.
fn nested(depth: usize) -> Vec<(String, Option<Vec<u8>>)> {
    let mut entries = Vec::new();
    let mut path = String::new();
    for _ in 0..depth {
        path.push_str("d/");
        entries.push((path.clone(), None));
    }
    entries.push((format!("{path}leaf.txt"), Some(b"at the bottom\n".to_vec())));
    entries
}

#[test]
fn an_archive_nested_3000_deep_is_refused_at_once() {
    let source = inline_source(&tar_gz(&nested(3000)));
    let job = staging_job("cat_file.wasm", &["/inputs/leaf.txt"], Some(&source), "");
    let (o, took) = timed_run(&job, &[]);
    let error = assert_failed(
        &job,
        &o,
        &[
            "input /inputs: inline tar.gz: ",
            "nested more than 256 directories deep",
        ],
    );
    assert!(error.len() < 600, "the path is shortened: {error}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn an_archive_nested_to_the_limit_unpacks_in_linear_time() {
    // 255 levels of directories, each also holding 3 files: 1,021 entries. (Creating a
    // file costs the kernel time that grows with its depth, up to 2 ms here: the
    // extraction itself makes one call per new directory level and per file.)
    let mut entries = Vec::new();
    let mut path = String::new();
    for level in 0..255 {
        path.push_str("d/");
        entries.push((path.clone(), None));
        for i in 0..3 {
            entries.push((
                format!("{path}f{i}"),
                Some(format!("{level}.{i}").into_bytes()),
            ));
        }
    }
    entries.push((format!("{path}leaf.txt"), Some(b"at the bottom\n".to_vec())));
    let source = inline_source(&tar_gz(&entries));
    let leaf = format!("/inputs/{path}leaf.txt");
    let job = staging_job("cat_file.wasm", &[&leaf], Some(&source), "");
    let (o, took) = timed_run(&job, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_eq!(
        std::fs::read(job.out().join("stdout")).unwrap(),
        b"at the bottom\n"
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn an_archive_inside_the_archive_stays_a_file() {
    let inner = tar_gz(&nested(300));
    let source = inline_source(&tar_gz(&[("inner.tar.gz".into(), Some(inner.clone()))]));
    let job = staging_job(
        "cat_file.wasm",
        &["/inputs/inner.tar.gz"],
        Some(&source),
        "",
    );
    let (o, took) = timed_run(&job, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_eq!(std::fs::read(job.out().join("stdout")).unwrap(), inner);
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn an_inline_link_leaving_the_archive_is_refused() {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_size(0);
    builder
        .append_link(
            &mut header,
            "m.wasm",
            Path::new(ROOT).join("fixtures/hello.wasm"),
        )
        .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&builder.into_inner().unwrap()).unwrap();
    let source = inline_source(&gz.finish().unwrap());
    let job = staging_job("cat_file.wasm", &["/inputs/m.wasm"], Some(&source), "");
    let (o, _) = timed_run(&job, &[]);
    assert_failed(
        &job,
        &o,
        &[
            "input /inputs: inline tar.gz: ",
            "link `m.wasm` may point outside the archive",
        ],
    );
}
