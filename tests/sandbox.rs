//! Preopened directories (`--dir`) and attempts to leave them.

mod common;

use common::job::summary_in;
use common::*;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// strerror texts a sandbox refusal may produce in a wasi-libc guest
/// (README: escapes fail with EPERM/ENOENT; wasi-libc itself answers
/// ENOTCAPABLE for an absolute path outside every preopen).
const REFUSALS: &[&str] = &[
    "Operation not permitted",
    "No such file or directory",
    "Capabilities insufficient",
    "Permission denied",
];

/// Asserts that `tool` (cat_file, write_file, readdir) failed on `path` with
/// exit 1, exactly one `tool: path: <refusal>` line on stderr, empty stdout.
#[track_caller]
fn assert_refused(o: &std::process::Output, tool: &str, path: &str) {
    assert_no_panic(o);
    assert_code(o, 1);
    assert_eq!(stdout(o), "", "nothing may reach stdout\n{}", describe(o));
    let err = stderr(o);
    let prefix = format!("{tool}: {path}: ");
    let reason = err
        .strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("expected one line `{prefix}<errno text>`\n{}", describe(o)));
    assert!(
        REFUSALS.contains(&reason),
        "unexpected errno text {reason:?}\n{}",
        describe(o)
    );
}

/// A sandbox layout in a tempdir:
///
/// ```text
/// base/
///   outside.txt          "TOP-SECRET-OUTSIDE\n"   (next to the preopen)
///   other/o.txt          "TOP-SECRET-OTHER\n"
///   pre/                 <- preopened as /d
///     in.txt             "inside\n"
///     sub/deep.txt       "deep\n"
/// ```
struct Sandbox {
    base: TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let base = tempfile::tempdir().unwrap();
        let root = base.path();
        fs::create_dir_all(root.join("pre/sub")).unwrap();
        fs::create_dir_all(root.join("other")).unwrap();
        fs::write(root.join("outside.txt"), "TOP-SECRET-OUTSIDE\n").unwrap();
        fs::write(root.join("other/o.txt"), "TOP-SECRET-OTHER\n").unwrap();
        fs::write(root.join("pre/in.txt"), "inside\n").unwrap();
        fs::write(root.join("pre/sub/deep.txt"), "deep\n").unwrap();
        Sandbox { base }
    }

    fn base(&self) -> &Path {
        self.base.path()
    }

    fn pre(&self) -> PathBuf {
        self.base.path().join("pre")
    }

    /// `--dir <pre>::/d`
    fn dir_arg(&self) -> String {
        format!("{}::/d", s(&self.pre()))
    }

    fn run(&self, module: &str, args: &[&str]) -> std::process::Output {
        let mut all = vec!["--dir".to_string(), self.dir_arg(), module.to_string()];
        all.extend(args.iter().map(|a| a.to_string()));
        wasm_run(all)
    }
}

#[track_caller]
fn assert_no_secret(o: &std::process::Output) {
    let out = stdout(o);
    assert!(
        !out.contains("root:"),
        "/etc/passwd leaked\n{}",
        describe(o)
    );
    assert!(
        !out.contains("TOP-SECRET"),
        "a file outside leaked\n{}",
        describe(o)
    );
}

// ------------------------------------------------------------ reading inside

#[test]
fn cat_file_reads_a_preopened_file() {
    let o = wasm_run([
        "--dir",
        "fixtures/inputs::/data",
        "fixtures/cat_file.wasm",
        "/data/hello.txt",
    ]);
    assert_exact(&o, 0, "hello from inputs\n", "");
}

#[test]
fn cat_file_reads_a_nested_file() {
    let o = wasm_run([
        "--dir",
        "fixtures/inputs::/data",
        "fixtures/cat_file.wasm",
        "/data/sub/nested.txt",
    ]);
    assert_exact(&o, 0, "nested\n", "");
}

#[test]
fn cat_file_reads_csv_byte_exact() {
    let expected = fs::read_to_string(Path::new(ROOT).join("fixtures/inputs/data.csv")).unwrap();
    assert!(expected.starts_with("name,value\n"));
    let o = wasm_run([
        "--dir",
        "fixtures/inputs::/data",
        "fixtures/cat_file.wasm",
        "/data/data.csv",
    ]);
    assert_exact(&o, 0, &expected, "");
}

#[test]
fn dir_without_guest_path_maps_to_the_same_path() {
    let o = wasm_run([
        "--dir",
        "fixtures/inputs",
        "fixtures/cat_file.wasm",
        "fixtures/inputs/hello.txt",
    ]);
    assert_exact(&o, 0, "hello from inputs\n", "");
    let o = wasm_run([
        "--dir",
        "fixtures/inputs",
        "fixtures/cat_file.wasm",
        "fixtures/inputs/sub/nested.txt",
    ]);
    assert_exact(&o, 0, "nested\n", "");
}

#[test]
fn dir_dot_maps_the_working_directory() {
    // README: `--dir .` maps `.`; brine runs in the crate root here.
    let o = wasm_run([
        "--dir",
        ".",
        "fixtures/cat_file.wasm",
        "fixtures/inputs/hello.txt",
    ]);
    assert_exact(&o, 0, "hello from inputs\n", "");
    let o = wasm_run(["--dir", ".", "fixtures/cat_file.wasm", "../README.md"]);
    assert_refused(&o, "cat_file", "../README.md");
}

#[test]
fn dir_mapped_at_dot_takes_relative_paths() {
    let sb = Sandbox::new();
    let o = wasm_run([
        "--dir".to_string(),
        format!("{}::.", s(&sb.pre())),
        "fixtures/cat_file.wasm".to_string(),
        "sub/deep.txt".to_string(),
    ]);
    assert_exact(&o, 0, "deep\n", "");
}

#[test]
fn dotdot_that_stays_inside_the_preopen_works() {
    let sb = Sandbox::new();
    let o = sb.run("fixtures/cat_file.wasm", &["/d/sub/../in.txt"]);
    assert_exact(&o, 0, "inside\n", "");
}

#[test]
fn symlink_inside_the_preopen_works() {
    let sb = Sandbox::new();
    symlink("sub/deep.txt", sb.pre().join("good")).unwrap();
    let o = sb.run("fixtures/cat_file.wasm", &["/d/good"]);
    assert_exact(&o, 0, "deep\n", "");
}

#[test]
fn missing_file_inside_the_preopen_is_enoent() {
    let sb = Sandbox::new();
    let o = sb.run("fixtures/cat_file.wasm", &["/d/nope.txt"]);
    assert_exact(
        &o,
        1,
        "",
        "cat_file: /d/nope.txt: No such file or directory\n",
    );
}

// ------------------------------------------------------------ escapes

#[test]
fn dotdot_escape_to_etc_passwd_fails() {
    let o = wasm_run([
        "--dir",
        "fixtures/inputs::/data",
        "fixtures/cat_file.wasm",
        "/data/../../etc/passwd",
    ]);
    assert_no_secret(&o);
    assert_refused(&o, "cat_file", "/data/../../etc/passwd");
}

#[test]
fn dotdot_escape_to_a_sibling_file_fails() {
    let sb = Sandbox::new();
    for path in [
        "/d/../outside.txt",
        "/d/sub/../../outside.txt",
        "/d/../other/o.txt",
    ] {
        let o = sb.run("fixtures/cat_file.wasm", &[path]);
        assert_no_secret(&o);
        assert_refused(&o, "cat_file", path);
    }
}

#[test]
fn dotdot_escape_from_a_dot_preopen_fails() {
    let sb = Sandbox::new();
    let o = wasm_run([
        "--dir".to_string(),
        format!("{}::.", s(&sb.pre())),
        "fixtures/cat_file.wasm".to_string(),
        "../outside.txt".to_string(),
    ]);
    assert_no_secret(&o);
    assert_refused(&o, "cat_file", "../outside.txt");
}

#[test]
fn absolute_path_outside_any_preopen_fails() {
    let o = wasm_run([
        "--dir",
        "fixtures/inputs::/data",
        "fixtures/cat_file.wasm",
        "/etc/passwd",
    ]);
    assert_no_secret(&o);
    assert_refused(&o, "cat_file", "/etc/passwd");
}

#[test]
fn host_path_of_the_preopen_is_not_visible_in_the_guest() {
    // The preopen is at /d: its host path means nothing to the guest.
    let sb = Sandbox::new();
    let host_path = format!("{}/in.txt", s(&sb.pre()));
    let o = sb.run("fixtures/cat_file.wasm", &[&host_path]);
    assert_refused(&o, "cat_file", &host_path);
}

#[test]
fn no_preopen_means_no_files() {
    let o = wasm_run(["fixtures/cat_file.wasm", "/etc/passwd"]);
    assert_no_secret(&o);
    assert_refused(&o, "cat_file", "/etc/passwd");
    let o = wasm_run(["fixtures/cat_file.wasm", "fixtures/inputs/hello.txt"]);
    assert_refused(&o, "cat_file", "fixtures/inputs/hello.txt");
}

#[test]
fn absolute_symlink_to_etc_passwd_fails() {
    let sb = Sandbox::new();
    symlink("/etc/passwd", sb.pre().join("abs")).unwrap();
    let o = sb.run("fixtures/cat_file.wasm", &["/d/abs"]);
    assert_no_secret(&o);
    assert_refused(&o, "cat_file", "/d/abs");
}

#[test]
fn absolute_symlink_to_a_file_outside_fails() {
    let sb = Sandbox::new();
    symlink(sb.base().join("outside.txt"), sb.pre().join("abs_out")).unwrap();
    let o = sb.run("fixtures/cat_file.wasm", &["/d/abs_out"]);
    assert_no_secret(&o);
    assert_refused(&o, "cat_file", "/d/abs_out");
}

#[test]
fn relative_symlink_to_a_file_next_to_the_preopen_fails() {
    let sb = Sandbox::new();
    symlink("../outside.txt", sb.pre().join("rel")).unwrap();
    let o = sb.run("fixtures/cat_file.wasm", &["/d/rel"]);
    assert_no_secret(&o);
    assert_refused(&o, "cat_file", "/d/rel");
}

#[test]
fn relative_symlink_from_a_subdirectory_climbing_out_fails() {
    let sb = Sandbox::new();
    symlink("../../outside.txt", sb.pre().join("sub/up2")).unwrap();
    let o = sb.run("fixtures/cat_file.wasm", &["/d/sub/up2"]);
    assert_no_secret(&o);
    assert_refused(&o, "cat_file", "/d/sub/up2");
}

#[test]
fn symlinked_directory_pointing_outside_fails() {
    let sb = Sandbox::new();
    symlink("../other", sb.pre().join("dirlink")).unwrap();
    symlink("/", sb.pre().join("root")).unwrap();
    let o = sb.run("fixtures/cat_file.wasm", &["/d/dirlink/o.txt"]);
    assert_no_secret(&o);
    assert_refused(&o, "cat_file", "/d/dirlink/o.txt");
    let o = sb.run("fixtures/cat_file.wasm", &["/d/root/etc/passwd"]);
    assert_no_secret(&o);
    assert_refused(&o, "cat_file", "/d/root/etc/passwd");
    let o = sb.run("fixtures/readdir.wasm", &["/d/dirlink"]);
    assert_refused(&o, "readdir", "/d/dirlink");
    let o = sb.run("fixtures/readdir.wasm", &["/d/root"]);
    assert_refused(&o, "readdir", "/d/root");
}

#[test]
fn writes_cannot_escape_the_preopen() {
    let sb = Sandbox::new();
    symlink("../created_via_dangling.txt", sb.pre().join("dangle")).unwrap();
    symlink("../other", sb.pre().join("dirlink")).unwrap();
    let cases = [
        "/d/../escaped.txt",
        "/d/sub/../../escaped.txt",
        "/d/dangle",
        "/d/dirlink/new.txt",
        "/d/../outside.txt",
    ];
    for path in cases {
        let o = sb.run("fixtures/write_file.wasm", &[path, "PWNED"]);
        assert_refused(&o, "write_file", path);
    }
    assert!(!sb.base().join("escaped.txt").exists());
    assert!(!sb.base().join("created_via_dangling.txt").exists());
    assert!(!sb.base().join("other/new.txt").exists());
    assert_eq!(
        fs::read_to_string(sb.base().join("outside.txt")).unwrap(),
        "TOP-SECRET-OUTSIDE\n"
    );
}

// ------------------------------------------------------------ readdir

#[test]
fn readdir_lists_a_tempdir() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("b.txt"), "b").unwrap();
    fs::write(dir.path().join("a.txt"), "a").unwrap();
    fs::create_dir(dir.path().join("subdir")).unwrap();
    fs::write(dir.path().join("subdir/hidden-in-sub.txt"), "x").unwrap();
    let o = wasm_run([
        "--dir".to_string(),
        format!("{}::/t", s(dir.path())),
        "fixtures/readdir.wasm".to_string(),
        "/t".to_string(),
    ]);
    assert_exact(&o, 0, ".\n..\na.txt\nb.txt\nsubdir\n", "");
}

#[test]
fn readdir_lists_an_empty_tempdir() {
    let dir = tempfile::tempdir().unwrap();
    let o = wasm_run([
        "--dir".to_string(),
        format!("{}::/t", s(dir.path())),
        "fixtures/readdir.wasm".to_string(),
        "/t".to_string(),
    ]);
    assert_exact(&o, 0, ".\n..\n", "");
}

#[test]
fn readdir_lists_many_entries() {
    // More entries than fit one fd_readdir buffer.
    let dir = tempfile::tempdir().unwrap();
    let mut names: Vec<String> = (0..300)
        .map(|i| format!("file-with-a-longish-name-{i:04}.txt"))
        .collect();
    for name in &names {
        fs::write(dir.path().join(name), "").unwrap();
    }
    names.push(".".into());
    names.push("..".into());
    names.sort();
    let expected: String = names.iter().map(|n| format!("{n}\n")).collect();
    let o = wasm_run([
        "--dir".to_string(),
        format!("{}::/t", s(dir.path())),
        "fixtures/readdir.wasm".to_string(),
        "/t".to_string(),
    ]);
    assert_exact(&o, 0, &expected, "");
}

#[test]
fn readdir_lists_fixture_inputs_and_subdirectories() {
    let o = wasm_run([
        "--dir",
        "fixtures/inputs::/data",
        "fixtures/readdir.wasm",
        "/data",
    ]);
    assert_exact(&o, 0, ".\n..\ndata.csv\nhello.txt\nsub\n", "");
    let o = wasm_run([
        "--dir",
        "fixtures/inputs::/data",
        "fixtures/readdir.wasm",
        "/data/sub",
    ]);
    assert_exact(&o, 0, ".\n..\nnested.txt\n", "");
}

// ------------------------------------------------------------ writing

#[test]
fn write_file_creates_a_file_with_exact_content() {
    let dir = tempfile::tempdir().unwrap();
    let content = "line one\nline two\n\ttabbed ünïcödé\n";
    let o = wasm_run([
        "--dir".to_string(),
        format!("{}::/out", s(dir.path())),
        "fixtures/write_file.wasm".to_string(),
        "/out/result.txt".to_string(),
        content.to_string(),
    ]);
    assert_exact(&o, 0, "", "");
    assert_eq!(
        fs::read(dir.path().join("result.txt")).unwrap(),
        content.as_bytes()
    );
}

#[test]
fn write_file_truncates_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("old.txt"),
        "a much longer previous content\n",
    )
    .unwrap();
    let o = wasm_run([
        "--dir".to_string(),
        format!("{}::/out", s(dir.path())),
        "fixtures/write_file.wasm".to_string(),
        "/out/old.txt".to_string(),
        "short".to_string(),
    ]);
    assert_exact(&o, 0, "", "");
    assert_eq!(
        fs::read_to_string(dir.path().join("old.txt")).unwrap(),
        "short"
    );
}

#[test]
fn write_file_into_a_missing_directory_is_enoent() {
    let dir = tempfile::tempdir().unwrap();
    let o = wasm_run([
        "--dir".to_string(),
        format!("{}::/out", s(dir.path())),
        "fixtures/write_file.wasm".to_string(),
        "/out/nodir/x.txt".to_string(),
        "x".to_string(),
    ]);
    assert_exact(
        &o,
        1,
        "",
        "write_file: /out/nodir/x.txt: No such file or directory\n",
    );
}

#[test]
fn two_preopens_read_from_one_write_to_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let o = wasm_run([
        "--dir".to_string(),
        "fixtures/inputs::/in".to_string(),
        "--dir".to_string(),
        format!("{}::/out", s(dir.path())),
        "fixtures/cat_file.wasm".to_string(),
        "/in/hello.txt".to_string(),
    ]);
    assert_exact(&o, 0, "hello from inputs\n", "");
    let o = wasm_run([
        "--dir".to_string(),
        "fixtures/inputs::/in".to_string(),
        "--dir".to_string(),
        format!("{}::/out", s(dir.path())),
        "fixtures/write_file.wasm".to_string(),
        "/out/w.txt".to_string(),
        "two".to_string(),
    ]);
    assert_exact(&o, 0, "", "");
    assert_eq!(fs::read_to_string(dir.path().join("w.txt")).unwrap(), "two");
}

#[test]

fn reading_a_directory_reports_a_sensible_errno() {
    // Observed stderr: "cat_file: /data: read error: Operation timed out".
    let o = wasm_run([
        "--dir",
        "fixtures/inputs::/data",
        "fixtures/cat_file.wasm",
        "/data",
    ]);
    assert_no_panic(&o);
    assert_code(&o, 1);
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert!(
        [
            "cat_file: /data: read error: Is a directory\n",
            "cat_file: /data: read error: Capabilities insufficient\n",
            "cat_file: /data: read error: Bad file descriptor\n",
        ]
        .contains(&err.as_str()),
        "{}",
        describe(&o)
    );
}

// ------------------------------------------------------------ bad --dir

#[test]
fn nonexistent_dir_is_a_clear_usage_error() {
    let o = wasm_run([
        "--dir",
        "/nonexistent/brine-e2e::/data",
        "fixtures/hello.wasm",
    ]);
    // Nothing ran: hello would have printed.
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "error: --dir /nonexistent/brine-e2e::/data: ",
        &[
            "cannot open host directory",
            "/nonexistent/brine-e2e",
            "No such file or directory",
        ],
    );
}

#[test]
fn dir_that_is_a_file_is_a_usage_error() {
    let o = wasm_run(["--dir", "fixtures/hello.wasm::/d", "fixtures/hello.wasm"]);
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "error: --dir fixtures/hello.wasm::/d: ",
        &["cannot open host directory", "Not a directory"],
    );
}

/// The adversarial battery (fixtures/abuse.c): every escape and abuse attempt
/// gets its errno, and nothing next to the preopen changes.
#[test]
fn the_adversarial_battery_gets_its_errnos_and_changes_nothing_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let sandbox = tmp.path().join("sandbox");
    std::fs::create_dir(&sandbox).unwrap();
    std::fs::write(tmp.path().join("outside.txt"), "secret\n").unwrap();
    std::fs::write(sandbox.join("inside.txt"), "inside\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", sandbox.join("escape_abs")).unwrap();
    std::os::unix::fs::symlink("../outside.txt", sandbox.join("escape_rel")).unwrap();
    std::os::unix::fs::symlink("loop", sandbox.join("loop")).unwrap();
    let outside_before = std::fs::metadata(tmp.path().join("outside.txt"))
        .unwrap()
        .modified()
        .unwrap();
    let listing = |dir: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let parent_before = listing(tmp.path());
    let o = wasm_run([
        "--dir".to_string(),
        format!("{}::/sandbox", sandbox.display()),
        "fixtures/abuse.wasm".to_string(),
        "/sandbox".to_string(),
    ]);
    let out = stdout(&o);
    let failures = battery_failures(&out);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_code(&o, 0);
    let attempts = battery_attempts(&out);
    assert!(attempts >= 25, "{out}");
    assert_eq!(
        listing(tmp.path()),
        parent_before,
        "nothing was created next to the preopen"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("outside.txt")).unwrap(),
        "secret\n"
    );
    let outside_after = std::fs::metadata(tmp.path().join("outside.txt"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(outside_before, outside_after, "outside.txt was not touched");
    assert_eq!(
        std::fs::read_to_string(sandbox.join("inside.txt")).unwrap(),
        "inside\n"
    );
}

/// The battery's job sections (fixtures/abuse.c): a read-only input's file and
/// directory keep their data and times, a FIFO in an input is refused at once,
/// and growth past `Resources.Disk` gets ENOSPC, after which the job fails
/// naming the limit.
#[test]
fn the_adversarial_battery_in_a_job_meets_read_only_inputs_fifos_and_the_disk_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = tmp.path().join("inputs");
    fs::create_dir(&inputs).unwrap();
    fs::write(inputs.join("data.txt"), "input data\n").unwrap();
    mkfifo(&inputs.join("pipe"));
    let mtime = |p: &Path| fs::symlink_metadata(p).unwrap().modified().unwrap();
    let (file_before, dir_before) = (mtime(&inputs.join("data.txt")), mtime(&inputs));
    let job = format!(
        "Name: abuse\nType: batch\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /wasm/abuse.wasm\n        Parameters: ['-', 'readonly=/inputs/data.txt', 'fifo=/inputs/pipe', 'disk=/outputs']\n    InputSources:\n      - Source: {{Type: localDirectory, Params: {{SourcePath: '{ROOT}/fixtures/abuse.wasm'}}}}\n        Target: /wasm/abuse.wasm\n      - Source: {{Type: localDirectory, Params: {{SourcePath: '{}'}}}}\n        Target: /inputs\n    ResultPaths:\n      - Name: outputs\n        Path: /outputs\n    Resources: {{Disk: 1MiB}}\n    Timeouts: {{ExecutionTimeout: 10}}\n",
        inputs.display()
    );
    fs::write(tmp.path().join("job.yaml"), job).unwrap();
    let out = tmp.path().join("out");
    let started = std::time::Instant::now();
    let o = run(["run", s(&tmp.path().join("job.yaml")), "--output", s(&out)]);
    assert_no_panic(&o);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{}",
        describe(&o)
    );
    let printed = fs::read_to_string(out.join("stdout")).unwrap();
    let failures = battery_failures(&printed);
    assert!(failures.is_empty(), "{}\n{printed}", failures.join("\n"));
    let attempts = battery_attempts(&printed);
    assert!(attempts >= 25, "{printed}");
    let summary = summary_in(&out);
    assert_eq!(summary["status"], "failed");
    assert!(summary["error"]
        .as_str()
        .unwrap_or_default()
        .starts_with("the guest reached the disk limit of 1 MiB (Resources.Disk)"));
    assert_eq!(mtime(&inputs.join("data.txt")), file_before);
    assert_eq!(mtime(&inputs), dir_before);
    assert_eq!(
        fs::read_to_string(inputs.join("data.txt")).unwrap(),
        "input data\n"
    );
}

#[test]
fn the_adversarial_battery_plants_links_in_its_outputs_and_none_is_published() {
    let tmp = tempfile::tempdir().unwrap();
    let job = format!(
        "Name: abuse\nType: batch\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /wasm/abuse.wasm\n        Parameters: ['-', 'links=/outputs']\n    InputSources:\n      - Source: {{Type: localDirectory, Params: {{SourcePath: '{ROOT}/fixtures/abuse.wasm'}}}}\n        Target: /wasm/abuse.wasm\n    ResultPaths:\n      - Name: outputs\n        Path: /outputs\n"
    );
    fs::write(tmp.path().join("job.yaml"), job).unwrap();
    let out = tmp.path().join("out");
    let o = run(["run", s(&tmp.path().join("job.yaml")), "--output", s(&out)]);
    assert_no_panic(&o);
    let printed = fs::read_to_string(out.join("stdout")).unwrap();
    assert!(!printed.contains("FAIL"), "{printed}");
    assert!(printed.ends_with("4 attempts\n"), "{printed}");
    let listing = String::from_utf8_lossy(&o.stdout);
    assert!(!listing.contains("passwd"), "{listing}");
    assert!(
        fs::symlink_metadata(out.join("outputs/up")).is_err(),
        "the link was published"
    );
    assert_eq!(
        fs::read_to_string(out.join("outputs/kept.txt")).unwrap(),
        "kept\n"
    );
    let summary = summary_in(&out);
    assert_eq!(summary["status"], "completed", "{summary}");
    assert!(
        summary["dropped_links"].to_string().contains("up"),
        "{summary}"
    );
}
