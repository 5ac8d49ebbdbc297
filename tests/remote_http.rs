//! Remote inputs (`urlDownload`, `ipfs`) end to end, through the real binary,
//! against a test HTTP server on 127.0.0.1 that injects faults: server errors,
//! connection resets and truncated bodies mid-download, 404s, redirects,
//! range requests, conditional requests, and an IPFS gateway's TAR replies.
//! Every fault ends in success after retries or in a clear error naming the
//! source, and nothing partial is left behind. No test needs the internet.

mod common;
mod http_fixture;

use brine::sources::{HttpOptions, InputSource, Remote, RemoteOptions, StageArea, UrlDownload};
use common::job::{module_job, source_input, Job};
use common::{describe, ROOT};
use http_fixture::{Fault, Reply, Request, Server};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

/// The body most tests download: long enough to be cut in the middle.
fn csv() -> Vec<u8> {
    let mut body = b"city,sales\n".to_vec();
    for i in 0..2000 {
        body.extend_from_slice(format!("town{i},{}\n", i * 7 % 1000).as_bytes());
    }
    body
}

/// A job running fixture `module` with `arg`, with one more input `source` (YAML) at /inputs.
fn job_with(module: &str, arg: &str, source: &str) -> Job {
    let module = format!("{ROOT}/fixtures/{module}");
    let inputs = source_input(source, "/inputs");
    Job::new(&module_job(module, &[arg], &inputs, ""))
}

/// A job that prints the downloaded `/inputs/<name>`.
fn cat_url(url: &str, name: &str) -> Job {
    job_with(
        "cat_file.wasm",
        &format!("/inputs/{name}"),
        &format!("{{Type: urlDownload, Params: {{URL: '{url}'}}}}"),
    )
}

/// The job failed with an error containing every one of `needles`.
#[track_caller]
fn assert_failed(job: &Job, o: &Output, needles: &[&str]) {
    job.assert_failed_with(o, needles);
    assert_nothing_partial(job);
}

/// Nothing but the job file and the published results: no staging area,
/// no `.partial` file or directory anywhere.
#[track_caller]
fn assert_nothing_partial(job: &Job) {
    job.assert_no_leftovers();
    for path in walk(&job.out()) {
        assert!(
            !path.to_string_lossy().contains(".partial"),
            "partial file left: {}",
            path.display()
        );
    }
}

/// Every path under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(walk(&path));
            }
            found.push(path);
        }
    }
    found
}

#[track_caller]
fn assert_completed(job: &Job, o: &Output) {
    assert_eq!(o.status.code(), Some(0), "{}", describe(o));
    let summary = job.summary();
    assert_eq!(summary["status"], "completed", "{summary}");
    assert_eq!(summary["exit_code"], 0, "{summary}");
    assert_nothing_partial(job);
}

#[test]
fn a_download_is_mounted_at_target_slash_its_basename() {
    let server = Server::start(|_, _| Reply::ok(csv()));
    let job = cat_url(&server.url("/files/data.csv?version=2"), "data.csv");
    let o = job.run_quiet(&[]);
    assert_completed(&job, &o);
    assert_eq!(job.read_bytes("stdout"), csv());
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].target, "/files/data.csv?version=2");
    assert!(seen[0].header("range").is_none());
}

#[test]
fn a_url_without_a_basename_is_saved_as_download() {
    let server = Server::start(|_, _| Reply::ok("root\n"));
    let job = job_with(
        "readdir.wasm",
        "/inputs",
        &format!(
            "{{Type: urlDownload, Params: {{URL: '{}/'}}}}",
            server.base()
        ),
    );
    let o = job.run_quiet(&[]);
    assert_completed(&job, &o);
    let listing = String::from_utf8(job.read_bytes("stdout")).unwrap();
    assert!(listing.lines().any(|l| l == "download"), "{listing}");
}

#[test]
fn server_errors_are_retried_until_the_download_succeeds() {
    let server = Server::start(|_, earlier| {
        if earlier < 2 {
            Reply::status(500)
        } else {
            Reply::ok(csv())
        }
    });
    let job = cat_url(&server.url("/data.csv"), "data.csv");
    let o = job.run_quiet(&[]);
    assert_completed(&job, &o);
    assert_eq!(job.read_bytes("stdout"), csv());
    assert_eq!(server.requests().len(), 3);
}

/// A server that takes ranges, whose first reply is cut short by `fault`.
fn flaky_ranged_server(body: &[u8], fault: Fault) -> Server {
    let served = body.to_vec();
    Server::start(move |request, earlier| {
        let reply = Reply::ranged(request, &served).header("ETag", "\"v1\"");
        if earlier == 0 {
            reply.fault(fault)
        } else {
            reply
        }
    })
}

/// Serves the CSV with `fault(half its length)` on the first reply, runs a job
/// that cats it, checks the job got the whole body in two requests, and
/// returns the half and the requests the server saw.
fn fetch_past_a_fault(fault: impl FnOnce(usize) -> Fault) -> (usize, Vec<Request>) {
    let body = csv();
    let half = body.len() / 2;
    let server = flaky_ranged_server(&body, fault(half));
    let job = cat_url(&server.url("/data.csv"), "data.csv");
    let o = job.run_quiet(&[]);
    assert_completed(&job, &o);
    assert_eq!(job.read_bytes("stdout"), body);
    let seen = server.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    (half, seen)
}

#[test]
fn a_truncated_body_resumes_with_a_range_request() {
    let (half, seen) = fetch_past_a_fault(Fault::CloseAfter);
    assert_eq!(seen[1].range_start(), Some(half), "{seen:?}");
    assert_eq!(seen[1].header("if-range"), Some("\"v1\""));
}

#[test]
fn a_connection_reset_mid_body_is_retried() {
    let (half, seen) = fetch_past_a_fault(Fault::ResetAfter);
    // What arrived before the RST is kept unless the kernel dropped it with the reset.
    if let Some(start) = seen[1].range_start() {
        assert!(start > 0 && start <= half, "resumed at {start}");
    }
}

#[test]
fn a_stalled_download_times_out_and_resumes() {
    let body = csv();
    let stall = Fault::StallAfter(1000, std::time::Duration::from_secs(5));
    let server = flaky_ranged_server(&body, stall);
    let job = cat_url(&server.url("/data.csv"), "data.csv");
    let started = std::time::Instant::now();
    let o = job.run_quiet(&["--read-timeout", "300ms"]);
    assert_completed(&job, &o);
    assert_eq!(job.read_bytes("stdout"), body);
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    assert_eq!(server.requests()[1].range_start(), Some(1000));
}

#[test]
fn a_truncated_body_from_a_server_without_ranges_is_fetched_again_whole() {
    let body = csv();
    let served = body.clone();
    let server = Server::start(move |_, earlier| {
        let reply = Reply::ok(served.clone());
        if earlier == 0 {
            reply.fault(Fault::CloseAfter(1000))
        } else {
            reply
        }
    });
    let job = cat_url(&server.url("/data.csv"), "data.csv");
    let o = job.run_quiet(&[]);
    assert_completed(&job, &o);
    assert_eq!(job.read_bytes("stdout"), body);
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert!(seen[1].header("range").is_none(), "no ranges: start over");
}

#[test]
fn a_body_that_always_ends_early_fails_naming_the_source() {
    let server = Server::start(|_, _| Reply::ok(csv()).fault(Fault::CloseAfter(100)));
    let url = server.url("/data.csv");
    let job = cat_url(&url, "data.csv");
    let o = job.run_quiet(&["--retries", "2"]);
    let expected = format!("the body ended after 100 of {} bytes", csv().len());
    assert_failed(
        &job,
        &o,
        &[
            &format!("input /inputs (urlDownload {url}): "),
            &expected,
            "gave up after 3 attempts",
        ],
    );
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn a_404_fails_at_once_naming_the_source() {
    let server = Server::start(|_, _| Reply::status(404));
    let url = server.url("/data.csv");
    let job = cat_url(&url, "data.csv");
    let o = job.run_quiet(&[]);
    assert_failed(
        &job,
        &o,
        &[&format!(
            "input /inputs (urlDownload {url}): HTTP 404 Not Found"
        )],
    );
    assert_eq!(server.requests().len(), 1, "a 404 is not retried");
    // The job's failure is an error: on stderr.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("HTTP 404 Not Found"), "{stderr}");
}

#[test]
fn a_redirect_is_followed_and_the_file_keeps_the_urls_name() {
    let server = Server::start(|request, _| match request.path() {
        "/data.csv" => Reply::redirect("/blobs/8f3a"),
        "/blobs/8f3a" => Reply::ok(csv()),
        _ => Reply::status(404),
    });
    let job = cat_url(&server.url("/data.csv"), "data.csv");
    let o = job.run_quiet(&[]);
    assert_completed(&job, &o);
    assert_eq!(job.read_bytes("stdout"), csv());
    let paths: Vec<String> = server.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(paths, ["/data.csv", "/blobs/8f3a"]);
}

#[test]
fn a_download_larger_than_max_download_fails() {
    let server = Server::start(|_, _| Reply::ok(csv()));
    let url = server.url("/data.csv");
    let job = cat_url(&url, "data.csv");
    let o = job.run_quiet(&["--max-download", "1KiB"]);
    assert_failed(
        &job,
        &o,
        &[
            &format!("input /inputs (urlDownload {url}): "),
            "larger than the download limit of 1024 bytes",
        ],
    );
    assert_eq!(server.requests().len(), 1, "too large is not retried");
}

#[test]
fn the_cache_revalidates_with_if_none_match_and_reuses_the_copy_on_304() {
    let server = Server::start(|request, _| {
        if request.header("if-none-match") == Some("\"v7\"") {
            Reply::status(304).header("ETag", "\"v7\"")
        } else {
            Reply::ok(csv()).header("ETag", "\"v7\"")
        }
    });
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = common::s(cache.path());
    let url = server.url("/data.csv");
    for _ in 0..2 {
        let job = cat_url(&url, "data.csv");
        let o = job.run_quiet(&["--cache", cache_dir]);
        assert_completed(&job, &o);
        assert_eq!(job.read_bytes("stdout"), csv());
    }
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert!(seen[0].header("if-none-match").is_none());
    assert_eq!(seen[1].header("if-none-match"), Some("\"v7\""));
}

#[test]
fn a_changed_resource_replaces_the_cached_copy() {
    let server = Server::start(|_, earlier| {
        let version = format!("\"v{earlier}\"");
        Reply::ok(format!("version {earlier}\n")).header("ETag", &version)
    });
    let cache = tempfile::tempdir().unwrap();
    let url = server.url("/data.csv");
    for expected in ["version 0\n", "version 1\n"] {
        let job = cat_url(&url, "data.csv");
        let o = job.run_quiet(&["--cache", common::s(cache.path())]);
        assert_completed(&job, &o);
        assert_eq!(
            String::from_utf8(job.read_bytes("stdout")).unwrap(),
            expected
        );
    }
    assert_eq!(server.requests()[1].header("if-none-match"), Some("\"v0\""));
}

// ---- IPFS through a gateway ----

const FILE_CID: &str = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
const DIR_CID: &str = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

/// A tar as a trustless gateway sends it: entries `(path, Some(bytes))` for
/// files and `(path, None)` for directories.
fn tar_of(entries: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in entries {
        let mut header = tar::Header::new_ustar();
        match content {
            Some(bytes) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(bytes.len() as u64);
                header.set_mode(0o644);
                builder.append_data(&mut header, path, *bytes).unwrap();
            }
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                header.set_mode(0o755);
                builder.append_data(&mut header, path, &[][..]).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

/// A gateway serving `tar` for `cid` (and 404 for anything else).
fn gateway(cid: &'static str, tar: Vec<u8>) -> Server {
    Server::start(move |request, _| {
        if request.path() == format!("/ipfs/{cid}") {
            Reply::ok(tar.clone()).header("Content-Type", "application/x-tar")
        } else {
            Reply::status(404)
        }
    })
}

fn ipfs_job(module: &str, arg: &str, cid: &str) -> Job {
    job_with(
        module,
        arg,
        &format!("{{Type: ipfs, Params: {{CID: '{cid}'}}}}"),
    )
}

#[test]
fn an_ipfs_file_cid_is_a_file_at_target() {
    let body = csv();
    let server = gateway(FILE_CID, tar_of(&[(FILE_CID, Some(&body))]));
    let job = ipfs_job("cat_file.wasm", "/inputs", FILE_CID);
    let o = job.run_quiet(&["--ipfs-gateway", &server.base()]);
    assert_completed(&job, &o);
    assert_eq!(job.read_bytes("stdout"), body);
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path(), format!("/ipfs/{FILE_CID}"));
    assert_eq!(seen[0].query(), Some("format=tar"));
    assert_eq!(seen[0].header("accept"), Some("application/x-tar"));
}

#[test]
fn an_ipfs_directory_cid_is_a_directory_at_target() {
    let a = format!("{DIR_CID}/a.txt");
    let sub = format!("{DIR_CID}/sub");
    let b = format!("{DIR_CID}/sub/b.txt");
    let tar = tar_of(&[
        (DIR_CID, None),
        (&a, Some(b"alpha\n")),
        (&sub, None),
        (&b, Some(b"beta\n")),
    ]);
    let server = gateway(DIR_CID, tar);
    let job = ipfs_job("readdir.wasm", "/inputs", DIR_CID);
    let o = job.run_quiet(&["--ipfs-gateway", &server.base()]);
    assert_completed(&job, &o);
    let listing = String::from_utf8(job.read_bytes("stdout")).unwrap();
    let names: Vec<&str> = listing.lines().filter(|l| !l.starts_with('.')).collect();
    assert_eq!(names, ["a.txt", "sub"], "{listing}");

    let job = ipfs_job("cat_file.wasm", "/inputs/sub/b.txt", DIR_CID);
    let o = job.run_quiet(&["--ipfs-gateway", &server.base()]);
    assert_completed(&job, &o);
    assert_eq!(job.read_bytes("stdout"), b"beta\n");
}

#[test]
fn the_gateway_comes_from_the_environment_too() {
    let server = gateway(FILE_CID, tar_of(&[(FILE_CID, Some(b"env\n"))]));
    let job = ipfs_job("cat_file.wasm", "/inputs", FILE_CID);
    let o = job
        .command()
        .env("BRINE_IPFS_GATEWAY", server.base())
        .output()
        .unwrap();
    assert_completed(&job, &o);
    assert_eq!(job.read_bytes("stdout"), b"env\n");
}

#[test]
fn ipfs_content_in_the_cache_is_not_fetched_again() {
    let server = gateway(FILE_CID, tar_of(&[(FILE_CID, Some(b"cached\n"))]));
    let cache = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let job = ipfs_job("cat_file.wasm", "/inputs", FILE_CID);
        let o = job.run_quiet(&[
            "--ipfs-gateway",
            &server.base(),
            "--cache",
            common::s(cache.path()),
        ]);
        assert_completed(&job, &o);
        assert_eq!(job.read_bytes("stdout"), b"cached\n");
    }
    assert_eq!(server.requests().len(), 1, "a CID's content never changes");
}

#[test]
fn an_archive_entry_climbing_out_is_refused() {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    // `set_path` refuses `..`, so the name is written raw, as a hostile gateway would.
    header.as_ustar_mut().unwrap().name[..10].copy_from_slice(b"../evil.sh");
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(4);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append(&header, &b"evil"[..]).unwrap();
    let server = gateway(DIR_CID, builder.into_inner().unwrap());
    let job = ipfs_job("readdir.wasm", "/inputs", DIR_CID);
    let o = job.run_quiet(&["--ipfs-gateway", &server.base()]);
    assert_failed(
        &job,
        &o,
        &[
            &format!("input /inputs (ipfs {DIR_CID} via {}): ", server.base()),
            "unsafe path `../evil.sh`",
        ],
    );
    assert!(!job.path("evil.sh").exists());
}

#[test]
fn a_gateway_error_names_the_cid_and_the_gateway() {
    let server = Server::start(|_, _| Reply::status(404));
    let job = ipfs_job("cat_file.wasm", "/inputs", FILE_CID);
    let o = job.run_quiet(&["--ipfs-gateway", &server.base()]);
    assert_failed(
        &job,
        &o,
        &[&format!(
            "input /inputs (ipfs {FILE_CID} via {}): HTTP 404 Not Found",
            server.base()
        )],
    );
}

#[test]
fn an_invalid_cid_is_rejected_before_anything_runs() {
    let job = ipfs_job("cat_file.wasm", "/inputs", "QmNotACid");
    let o = job.run_quiet(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("`QmNotACid` is not an IPFS CID"),
        "{stderr}"
    );
    assert!(!job.out().exists());
}

// ---- the library: a failed stage leaves the stage area empty ----

fn remote(retries: u32) -> Arc<Remote> {
    Arc::new(Remote::new(&RemoteOptions {
        http: HttpOptions {
            retries,
            retry_base: std::time::Duration::from_millis(1),
            ..HttpOptions::default()
        },
        ..RemoteOptions::default()
    }))
}

#[test]
fn a_failed_download_leaves_the_stage_area_empty() {
    let server = Server::start(|request, _| match request.path() {
        "/reset.csv" => Reply::ok(csv()).fault(Fault::ResetAfter(500)),
        _ => Reply::status(503),
    });
    for path in ["/reset.csv", "/busy.csv"] {
        let area_dir = tempfile::tempdir().unwrap();
        let area = StageArea::new(area_dir.path().to_path_buf());
        let source = UrlDownload::new(&server.url(path), remote(1)).unwrap();
        let error = source.stage(&area, 0, "/in").unwrap_err().to_string();
        assert!(error.starts_with("input /in (urlDownload "), "{error}");
        assert!(error.contains("gave up after 2 attempts"), "{error}");
        let left: Vec<_> = std::fs::read_dir(area_dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{path}: left {left:?}");
    }
}

#[test]
fn a_staged_download_is_a_directory_holding_the_file() {
    let server = Server::start(|_, _| Reply::ok("x,y\n"));
    let area_dir = tempfile::tempdir().unwrap();
    let area = StageArea::new(area_dir.path().to_path_buf());
    let source = UrlDownload::new(&server.url("/a/b.csv"), remote(0)).unwrap();
    assert_eq!(source.file_name(), "b.csv");
    let staged = source.stage(&area, 3, "/in").unwrap();
    assert!(staged.read_only);
    assert_eq!(staged.host_path, area.input_path(3, ""));
    assert_eq!(
        std::fs::read(staged.host_path.join("b.csv")).unwrap(),
        b"x,y\n"
    );
}
