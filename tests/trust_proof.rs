//! Journals and receipts are untrusted input (issue #12 items 4, 7, 15 and 16):
//! a tampered journal or receipt must not choose host paths, delete or read
//! outside what the command line names, panic, or make brine buffer without bound.

mod common;

use common::journal::{journal_lines, write_journal};
use common::{
    assert_code, assert_stderr_has, assert_stdout_has, brine, demo_copy, describe, entries,
    record_demo_job, record_wasm_run, replay, replay_job, run_job, stderr, stdout, verify,
    verify_results, EXIT_USAGE, ROOT,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Creates `out.txt` in the first preopen (fd 3) and writes "hi" to it.
const WRITER: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "out.txt")
  (data (i32.const 32) "hi")
  (data (i32.const 48) "\20\00\00\00\02\00\00\00")
  (func (export "_start")
    ;; path_open(3, 0, "out.txt", O_CREAT, all rights, all rights, 0, &fd at 64)
    (if (call $open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 7) (i32.const 1)
          (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 64))
      (then unreachable))
    (if (call $write (i32.load (i32.const 64)) (i32.const 48) (i32.const 1) (i32.const 80))
      (then unreachable))))"#;

fn write_module(dir: &Path) -> PathBuf {
    let path = dir.join("writer.wasm");
    std::fs::write(&path, wat::parse_str(WRITER).unwrap()).unwrap();
    path
}

/// Edits a journal's header (its first line) as JSON.
fn edit_header(from: &Path, to: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut lines = journal_lines(from);
    let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    edit(&mut header);
    lines[0] = header.to_string();
    write_journal(to, &lines);
}

/// Records WRITER with `--dir rec::/data`; returns (temp dir, module, journal).
fn record_writer() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let module = write_module(dir.path());
    std::fs::create_dir(dir.path().join("rec")).unwrap();
    let journal = dir.path().join("run.journal");
    let o = brine()
        .args(["wasm", "run", "--record"])
        .arg(&journal)
        .arg("--dir")
        .arg(format!("{}::/data", dir.path().join("rec").display()))
        .arg(&module)
        .output()
        .unwrap();
    assert_code(&o, 0);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("rec/out.txt")).unwrap(),
        "hi"
    );
    (dir, module, journal)
}

#[test]
fn a_journal_edited_to_point_its_dirs_elsewhere_writes_nothing_there() {
    let (dir, module, journal) = record_writer();
    let victim = dir.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    let edited = dir.path().join("edited.journal");
    edit_header(&journal, &edited, |h| {
        h["invocation"]["dirs"] = serde_json::json!([[victim.display().to_string(), "/data"]]);
    });

    // As the journal alone would have it: refused, nothing written.
    let o = replay(&edited, None, &[]);
    assert_stderr_has(&o, EXIT_USAGE, "give the module (brine replay");
    let o = replay(&edited, Some(&module), &[]);
    assert_code(&o, EXIT_USAGE);
    assert_eq!(
        stderr(&o),
        "error: the recorded run had directory `/data` that this replay does not give: give \
         each with --dir HOST::GUEST (a journal is not trusted to choose host paths)\n"
    );
    assert!(entries(&victim).is_empty(), "{:?}", entries(&victim));

    // With the directory given on the command line, the replay writes there only.
    let again = dir.path().join("again");
    std::fs::create_dir(&again).unwrap();
    let o = replay(&edited, Some(&module), &[(again.as_path(), "/data")]);
    assert_code(&o, 0);
    assert_eq!(
        std::fs::read_to_string(again.join("out.txt")).unwrap(),
        "hi"
    );
    assert!(entries(&victim).is_empty(), "{:?}", entries(&victim));
}

#[test]
fn replay_refuses_directories_and_imports_the_recorded_run_did_not_have() {
    let (dir, module, journal) = record_writer();
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let o = replay(
        &journal,
        Some(&module),
        &[(other.as_path(), "/data"), (other.as_path(), "/more")],
    );
    assert_code(&o, EXIT_USAGE);
    assert_eq!(
        stderr(&o),
        "error: --dir: the recorded run had no directory `/more` (it had: `/data`)\n"
    );

    // An import the journal names (a host file) is not loaded unless given.
    let edited = dir.path().join("edited.journal");
    edit_header(&journal, &edited, |h| {
        h["invocation"]["imports"] = serde_json::json!([["lib", "/etc/passwd"]]);
    });
    let o = replay(&edited, Some(&module), &[(other.as_path(), "/data")]);
    assert_code(&o, EXIT_USAGE);
    assert!(
        stderr(&o)
            .contains("the recorded run had import module `lib` that this replay does not give"),
        "{}",
        describe(&o)
    );
    assert!(entries(&other).is_empty());

    // The module comes from the command line and must be the recorded one.
    let o = replay(&journal, Some(Path::new("fixtures/hello.wasm")), &[]);
    assert_code(&o, EXIT_USAGE);
    assert_eq!(
        stderr(&o),
        "error: fixtures/hello.wasm is not the module that was recorded (its hash differs from \
         the journal's)\n"
    );
}

#[test]
fn a_job_journal_does_not_choose_the_job_file() {
    let dir = demo_copy();
    let d = dir.path();
    let journal = record_demo_job(d);
    let o = replay_job(&journal, None, &d.join("rep"));
    assert_stderr_has(&o, EXIT_USAGE, "give its job file (brine replay");
    assert!(!d.join("rep").exists());
}

fn run_with_receipt(dir: &Path) -> PathBuf {
    let receipt = dir.join("r.json");
    let o = run_job(
        &dir.join("job.yaml"),
        &dir.join("out"),
        &["--deterministic", "--receipt", common::s(&receipt)],
    );
    assert_code(&o, 0);
    receipt
}

/// The pid Linux hands out next, about (other processes may take some first).
fn next_pid() -> Option<u32> {
    let text = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid").ok()?;
    text.trim().parse::<u32>().ok().map(|p| p + 1)
}

#[test]
fn verify_leaves_planted_scratch_links_alone() {
    let dir = demo_copy();
    let d = dir.path();
    let receipt = run_with_receipt(d);
    // What the links point at: a directory whose `results` a forced replace would delete.
    let victim = d.join("victim");
    std::fs::create_dir_all(victim.join("results")).unwrap();
    std::fs::write(victim.join("results/keep.txt"), "precious").unwrap();
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    // The old scratch path was $TMPDIR/brine-verify-<pid>: plant it for the pids verify is likely to get.
    let first = next_pid().unwrap_or(1);
    for pid in first..first + 3000 {
        std::os::unix::fs::symlink(&victim, tmp.join(format!("brine-verify-{pid}"))).unwrap();
    }
    let o = brine()
        .env("TMPDIR", &tmp)
        .arg("verify")
        .arg(&receipt)
        .arg(d.join("job.yaml"))
        .output()
        .unwrap();
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "verified\n");
    assert_eq!(
        std::fs::read_to_string(victim.join("results/keep.txt")).unwrap(),
        "precious"
    );
    assert_eq!(entries(&victim), ["results"]);
    // The links are untouched and verify's own scratch directory is gone.
    assert_eq!(entries(&tmp).len(), 3000);
    assert!(entries(&tmp)
        .iter()
        .all(|n| std::fs::symlink_metadata(tmp.join(n)).unwrap().is_symlink()));
}

/// A copy of `receipt` with `edit` applied to its JSON.
fn tampered(receipt: &Path, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(receipt).unwrap()).unwrap();
    edit(&mut value);
    let path = receipt.with_file_name(name);
    std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    path
}

fn assert_refused(o: &Output, message: &str) {
    assert_code(o, EXIT_USAGE);
    assert!(!stderr(o).contains("panicked"), "{}", describe(o));
    assert!(stderr(o).contains(message), "{}", describe(o));
    assert_eq!(stderr(o).lines().count(), 1, "{}", describe(o));
}

#[test]
fn a_receipt_seed_with_multibyte_characters_is_an_error_not_a_panic() {
    let dir = demo_copy();
    let d = dir.path();
    let receipt = run_with_receipt(d);
    let bad = tampered(&receipt, "seed.json", |r| {
        r["deterministic"]["seed"] = format!("{}{}", "é".repeat(2), "0".repeat(60)).into();
    });
    let o = verify(&[&bad, &d.join("job.yaml")]);
    assert_refused(
        &o,
        "seed.json is not a valid brine receipt: its seed is not 64 hex digits",
    );
}

#[test]
fn a_receipt_output_path_outside_the_results_is_refused() {
    let dir = demo_copy();
    let d = dir.path();
    let receipt = run_with_receipt(d);
    // A file beside DIR whose hash the tampered receipt claims: the old reader hashed
    // `out/../secret` and answered whether it matched.
    std::fs::write(d.join("secret"), "s3cret").unwrap();
    let digest = format!("file:{}", blake3::hash(b"s3cret").to_hex());
    let bad = tampered(&receipt, "escape.json", |r| {
        r["partitions"][0]["outputs"] = serde_json::json!({ "../secret": digest });
    });
    let o = verify_results(&bad, &d.join("out"));
    assert_refused(
        &o,
        "escape.json is not a valid brine receipt: output path `../secret` is not a relative \
         path inside the results directory",
    );
    for key in ["/etc/passwd", "outputs/../../secret", "outputs\\x"] {
        let bad = tampered(&receipt, "bad.json", |r| {
            r["partitions"][0]["outputs"] = serde_json::json!({ key: "file:00" });
        });
        assert_refused(
            &verify(&[&bad, &d.join("job.yaml")]),
            "is not a relative path",
        );
    }
}

#[test]
fn verify_does_not_read_results_through_a_link_out_of_dir() {
    let dir = demo_copy();
    let d = dir.path();
    let receipt = run_with_receipt(d);
    let out = d.join("out");
    std::fs::rename(out.join("outputs"), d.join("moved")).unwrap();
    std::os::unix::fs::symlink(d.join("moved"), out.join("outputs")).unwrap();
    let o = verify_results(&receipt, &out);
    assert_stdout_has(&o, 1, "resolves outside the results directory");
}

#[test]
fn unknown_receipt_and_journal_formats_are_refused_by_name() {
    let dir = demo_copy();
    let d = dir.path();
    let receipt = run_with_receipt(d);
    let bad = tampered(&receipt, "v9.json", |r| {
        r["format"] = "brine-receipt/9".into();
    });
    assert_refused(
        &verify(&[&bad, &d.join("job.yaml")]),
        "v9.json is not a valid brine receipt: it is a `brine-receipt/9` receipt; this brine \
         reads brine-receipt/1 only",
    );

    let journal = d.join("v9.journal");
    write_journal(
        &journal,
        &[r#"{"format":"brine-journal/9","invocation":{"kind":"teleport"}}"#.to_string()],
    );
    let o = replay(&journal, Some(Path::new("fixtures/hello.wasm")), &[]);
    assert_refused(
        &o,
        "v9.journal is a `brine-journal/9` journal; this brine reads brine-journal/1 only",
    );
}

/// Peak RSS in KiB of `brine ARGS`, with its output, through /usr/bin/time.
fn peak_rss_kib(args: &[&std::ffi::OsStr]) -> Option<(u64, Output)> {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let o = std::process::Command::new(time)
        .args(["-f", "peak-rss-kib=%M"])
        .arg(assert_cmd::cargo::cargo_bin("brine"))
        .args(args)
        .current_dir(ROOT)
        .output()
        .unwrap();
    let err = stderr(&o);
    let kib = err
        .lines()
        .find_map(|l| l.strip_prefix("peak-rss-kib="))?
        .trim()
        .parse()
        .ok()?;
    Some((kib, o))
}

#[test]
fn a_journal_with_a_giant_line_is_refused_in_small_memory() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("giant.journal");
    // A valid header, then one 150 MB entry (a read answer the old reader buffered twice).
    let header = r#"{"format":"brine-journal/1","brine_version":"0","invocation":{"kind":"wasm_run","module":"fixtures/hello.wasm","module_hash":"00","argv":[],"env":[],"dirs":[],"imports":[],"invoke":null,"call_args":[]},"deterministic":false}"#;
    let mut gz = flate2::write::GzEncoder::new(
        std::io::BufWriter::new(std::fs::File::create(&journal).unwrap()),
        flate2::Compression::fast(),
    );
    gz.write_all(header.as_bytes()).unwrap();
    gz.write_all(b"\n{\"call\":\"read\",\"args\":\"0 1\",\"answer\":{\"bytes\":\"")
        .unwrap();
    let chunk = vec![b'0'; 1 << 20];
    for _ in 0..150 {
        gz.write_all(&chunk).unwrap();
    }
    gz.write_all(b"\"}}\n").unwrap();
    gz.finish().unwrap().flush().unwrap();
    assert!(std::fs::metadata(&journal).unwrap().len() < 2 << 20);

    let args = [
        std::ffi::OsStr::new("replay"),
        journal.as_os_str(),
        std::ffi::OsStr::new("fixtures/hello.wasm"),
    ];
    let expected = "giant.journal is not a brine journal: a line is longer than 64 MiB (brine's \
                    limit; the file is corrupt or was crafted)";
    match peak_rss_kib(&args) {
        Some((kib, o)) => {
            assert_eq!(o.status.code(), Some(EXIT_USAGE), "{}", describe(&o));
            assert!(stderr(&o).contains(expected), "{}", describe(&o));
            assert!(kib < 200 * 1024, "peak RSS {kib} KiB");
        }
        None => {
            let o = brine().args(args).output().unwrap();
            assert_refused(&o, expected);
        }
    }
}

#[test]
fn record_does_not_delete_an_existing_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    // The old writer's temp names for this journal.
    for planted in ["run.partial", "run.journal.partial"] {
        std::fs::write(dir.path().join(planted), "mine").unwrap();
    }
    let o = record_wasm_run(&journal, "fixtures/hello.wasm");
    assert_code(&o, 0);
    for planted in ["run.partial", "run.journal.partial"] {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(planted)).unwrap(),
            "mine"
        );
    }
    assert_eq!(
        entries(dir.path()),
        ["run.journal", "run.journal.partial", "run.partial"]
    );
    let o = replay(&journal, Some(Path::new("fixtures/hello.wasm")), &[]);
    assert_code(&o, 0);
}
