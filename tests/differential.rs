//! Differential tests: brine's hand-written WASI against wasi-common (through
//! `wasmi_wasi`, a dev-dependency used only as an oracle).
//!
//! Each case runs under both, on separate copies of the same directories; the
//! exit code, stdout, stderr and the directory trees afterwards must agree.
//! Cases are every module of fixtures/wasi/ (with its NAME.json) and a few of
//! the spine fixtures. Where wasi-common departs from the specification and
//! brine follows it, the case is listed in KNOWN_DIFFERENCES with the reason.

use brine::testsuite::{preopens, run_case, scratch_copies, snapshot, CaseOutput, TestSpec};
use std::path::{Path, PathBuf};
use std::time::Duration;
use wasmi_wasi::wasi_common::pipe::WritePipe;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Cases where wasi-common (36, through wasmi_wasi 2.0) departs from the
/// specification and brine follows it. Each is checked to still differ, so a
/// fix on either side shows up here.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "clock_bad_id",
        "wasi-common traps on an unknown clockid; the spec's errno is EINVAL",
    ),
    (
        "efault_args",
        "wasi-common traps on an out-of-bounds pointer; the spec's errno is EFAULT",
    ),
    (
        "efault_fd",
        "wasi-common traps on an out-of-bounds pointer; the spec's errno is EFAULT",
    ),
    (
        "efault_misc",
        "wasi-common traps on an out-of-bounds pointer; the spec's errno is EFAULT",
    ),
    (
        "efault_path",
        "wasi-common traps on an out-of-bounds pointer; the spec's errno is EFAULT",
    ),
    (
        "fd_advise_bad_advice",
        "wasi-common traps on an unknown advice; the spec's errno is EINVAL",
    ),
    (
        "fd_seek_bad_whence",
        "wasi-common traps on an unknown whence; the spec's errno is EINVAL",
    ),
    (
        "path_open_bad_flags",
        "wasi-common traps on unknown oflags bits; the spec's errno is EINVAL",
    ),
    (
        "proc_raise",
        "wasi-common traps on a signal outside the enum; the spec's errno is EINVAL",
    ),
    (
        "fd_allocate",
        "wasi-common answers ENOTSUP; brine implements fd_allocate",
    ),
    (
        "fd_fdstat_get_file",
        "wasi-common reports only FD_READ-ish rights, not the rights asked for",
    ),
    (
        "fd_fdstat_set_rights",
        "wasi-common does not enforce rights, so a dropped FD_WRITE still writes",
    ),
    (
        "path_open_rights",
        "wasi-common ignores PATH_OPEN and the inheriting rights",
    ),
    (
        "fd_prestat_dir_name",
        "wasi-common answers ENOTDIR for a closed fd; the spec's errno is EBADF",
    ),
    (
        "fd_prestat_get",
        "wasi-common answers ENOTSUP for a non-preopened directory; brine EBADF",
    ),
    (
        "fd_readdir_cookies",
        "wasi-common's d_next cookies do not resume where the listing left off",
    ),
    (
        "fd_seek_stdin",
        "wasi-common answers EBADF for seeking a pipe; POSIX and brine say ESPIPE",
    ),
    (
        "path_rename_file",
        "wasi-common drops a trailing slash on the target of a file rename",
    ),
    (
        "poll_oneoff_stdout",
        "wasi-common refuses an FD_WRITE subscription on stdout with EINVAL",
    ),
    (
        "sock_notsock",
        "wasi-common answers EBADF for socket calls on files; the spec's errno is ENOTSOCK",
    ),
];

/// Runs `module` under wasi-common with the same argv, env and directory copies.
fn run_wasi_common(module: &Path, spec: &TestSpec) -> Result<CaseOutput, String> {
    let base = module.parent().unwrap_or(Path::new("."));
    let (_scratch, copies) = scratch_copies(spec, base).map_err(|e| e.to_string())?;
    run_wasi_common_in(module, spec, &copies).map(|(exit_code, stdout, stderr)| CaseOutput {
        exit_code,
        stdout,
        stderr,
        trees: copies.iter().map(|c| snapshot(c)).collect(),
    })
}

fn run_wasi_common_in(
    module: &Path,
    spec: &TestSpec,
    copies: &[PathBuf],
) -> Result<(i64, String, String), String> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    let engine = wasmi::Engine::default();
    let bytes = std::fs::read(module).map_err(|e| text(&e))?;
    let wasm = wasmi::Module::new(&engine, bytes).map_err(|e| text(&e))?;
    let mut linker = wasmi::Linker::<wasmi_wasi::WasiCtx>::new(&engine);
    wasmi_wasi::add_to_linker(&mut linker, |ctx| ctx).map_err(|e| text(&e))?;
    let stdout = WritePipe::new_in_memory();
    let stderr = WritePipe::new_in_memory();
    let mut builder = wasmi_wasi::WasiCtxBuilder::new();
    let name = module
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut argv = vec![name];
    argv.extend(spec.args.iter().cloned());
    builder.args(&argv).map_err(|e| text(&e))?;
    let env: Vec<(String, String)> = spec.env.clone().into_iter().collect();
    builder.envs(&env).map_err(|e| text(&e))?;
    builder
        .stdout(Box::new(stdout.clone()))
        .stderr(Box::new(stderr.clone()));
    for ((_, guest), copy) in preopens(spec).into_iter().zip(copies) {
        let dir = wasmi_wasi::Dir::open_ambient_dir(copy, wasmi_wasi::ambient_authority())
            .map_err(|e| text(&e))?;
        builder.preopened_dir(dir, guest).map_err(|e| text(&e))?;
    }
    let mut store = wasmi::Store::new(&engine, builder.build());
    let instance = linker
        .instantiate_and_start(&mut store, &wasm)
        .map_err(|e| text(&e))?;
    let start = instance
        .get_typed_func::<(), ()>(&store, "_start")
        .map_err(|e| text(&e))?;
    let code = match start.call(&mut store, ()) {
        Ok(()) => 0,
        Err(e) => i64::from(e.i32_exit_status().ok_or_else(|| format!("trapped: {e}"))?),
    };
    drop(store);
    let read = |pipe: WritePipe<std::io::Cursor<Vec<u8>>>| {
        pipe.try_into_inner()
            .map(|c| String::from_utf8_lossy(&c.into_inner()).into_owned())
            .unwrap_or_default()
    };
    Ok((code, read(stdout), read(stderr)))
}

/// The differences between two runs, described.
fn differences(brine: &CaseOutput, oracle: &CaseOutput) -> Vec<String> {
    let mut out = Vec::new();
    note_difference(&mut out, "exit code", &brine.exit_code, &oracle.exit_code);
    note_difference(&mut out, "stdout", &brine.stdout, &oracle.stdout);
    note_difference(&mut out, "stderr", &brine.stderr, &oracle.stderr);
    note_difference(
        &mut out,
        "file tree afterwards",
        &brine.trees,
        &oracle.trees,
    );
    out
}

/// Adds `WHAT: brine A vs wasi-common B` to `out` when the two runs differ in
/// WHAT (Debug form: an exit code prints as itself, text quoted).
fn note_difference<T: PartialEq + std::fmt::Debug>(
    out: &mut Vec<String>,
    what: &str,
    brine: &T,
    oracle: &T,
) {
    if brine != oracle {
        out.push(format!("{what}: brine {brine:?} vs wasi-common {oracle:?}"));
    }
}

fn compare_case(module: &Path, spec: &TestSpec) -> Option<String> {
    let name = module
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if KNOWN_DIFFERENCES.iter().any(|(known, _)| *known == name) {
        return None;
    }
    let brine = run_case(module, spec, Duration::from_secs(60));
    let oracle = run_wasi_common(module, spec);
    match (brine, oracle) {
        (Ok(b), Ok(o)) => {
            let diff = differences(&b, &o);
            (!diff.is_empty()).then(|| format!("{name}: {}", diff.join("; ")))
        }
        (b, o) => Some(format!(
            "{name}: brine {:?} vs wasi-common {:?}",
            b.err(),
            o.err()
        )),
    }
}

fn spec_of(module: &Path) -> TestSpec {
    match std::fs::read_to_string(module.with_extension("json")) {
        Ok(text) => {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", module.display()))
        }
        Err(_) => TestSpec::default(),
    }
}

fn modules_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut modules: Vec<PathBuf> = read
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    modules.sort();
    modules
}

#[test]
fn fixture_suite_agrees_with_wasi_common() {
    let modules = modules_in(&Path::new(ROOT).join("fixtures/wasi"));
    let failures: Vec<String> = modules
        .iter()
        .filter_map(|m| compare_case(m, &spec_of(m)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        modules.len(),
        failures.join("\n")
    );
}

#[test]
fn spine_fixtures_agree_with_wasi_common() {
    let fixtures = Path::new(ROOT).join("fixtures");
    let with_root = |args: &[&str]| TestSpec {
        args: args.iter().map(|a| a.to_string()).collect(),
        root: Some("inputs".to_string()),
        ..TestSpec::default()
    };
    let cases = [
        ("hello.wasm", TestSpec::default()),
        (
            "args.wasm",
            TestSpec {
                args: vec!["a b".into(), "-c".into()],
                ..TestSpec::default()
            },
        ),
        (
            "env.wasm",
            TestSpec {
                env: [
                    ("B".to_string(), "2".to_string()),
                    ("A".to_string(), "1".to_string()),
                ]
                .into(),
                ..TestSpec::default()
            },
        ),
        (
            "exit_code.wasm",
            TestSpec {
                env: [("EXIT_CODE".to_string(), "7".to_string())].into(),
                exit_code: 7,
                ..TestSpec::default()
            },
        ),
        ("cat_file.wasm", with_root(&["/hello.txt"])),
        ("cat_file.wasm", with_root(&["/../../etc/passwd"])),
        ("cat_file.wasm", with_root(&["/missing"])),
        ("readdir.wasm", with_root(&["/sub"])),
        ("write_file.wasm", with_root(&["/new.txt", "content"])),
        ("write_file.wasm", with_root(&["/sub", "x"])),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(module, spec)| compare_case(&fixtures.join(module), spec))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
