//! `brine wasm run`: outcomes, exit codes, stdio, environment and argv.

mod common;

use common::*;

// ---------------------------------------------------------------- outcomes

#[test]
fn hello_prints_exactly_hello_world() {
    let o = wasm_run(["fixtures/hello.wasm"]);
    assert_exact(&o, 0, "Hello, world!\n", "");
}

#[test]
fn exit_code_follows_env_exit_code() {
    let o = wasm_run(["--env", "EXIT_CODE=5", "fixtures/exit_code.wasm"]);
    assert_exact(&o, 5, "", "");
}

#[test]
fn exit_code_is_zero_without_env() {
    let o = wasm_run(["fixtures/exit_code.wasm"]);
    assert_exact(&o, 0, "", "");
}

#[test]
fn exit_code_other_values() {
    for code in [0, 1, 3, 42, 255] {
        let o = wasm_run([
            "--env".to_string(),
            format!("EXIT_CODE={code}"),
            "fixtures/exit_code.wasm".to_string(),
        ]);
        assert_exact(&o, code, "", "");
    }
}

#[test]
fn exit_code_is_not_taken_from_the_host_environment() {
    // Without --env, the guest sees no environment at all.
    let o = brine()
        .args(["wasm", "run", "fixtures/exit_code.wasm"])
        .env("EXIT_CODE", "9")
        .output()
        .unwrap();
    assert_exact(&o, 0, "", "");
}

// ---------------------------------------------------------------- stdio

#[test]
fn cat_copies_short_stdin() {
    let o = wasm_run_stdin(["fixtures/cat.wasm"], "hi\n");
    assert_exact(&o, 0, "hi\n", "");
}

#[test]
fn cat_copies_empty_stdin() {
    let o = wasm_run_stdin(["fixtures/cat.wasm"], "");
    assert_exact(&o, 0, "", "");
}

#[test]
fn cat_copies_one_mib_of_binary_byte_exact() {
    let mut input = pseudo_random_bytes(1 << 20, 0xB21E);
    // Make sure the awkward bytes are there for sure.
    input[..256].copy_from_slice(&(0..=255u8).collect::<Vec<_>>());
    input[1000..1010].copy_from_slice(b"\r\n\0\x1a\x04\xff\xfe\n\n\0");
    let o = wasm_run_stdin(["fixtures/cat.wasm"], input.clone());
    assert_code(&o, 0);
    assert_eq!(stderr(&o), "", "{}", describe(&o));
    assert_eq!(o.stdout.len(), input.len(), "output length differs");
    if let Some(i) = o.stdout.iter().zip(&input).position(|(a, b)| a != b) {
        panic!("output differs from input first at byte {i}");
    }
}

#[test]
fn guest_stderr_is_the_process_stderr() {
    // cat_file without an argument prints its usage on stderr and exits 2.
    let o = wasm_run(["fixtures/cat_file.wasm"]);
    assert_exact(&o, 2, "", "usage: cat_file <path>\n");
}

// ---------------------------------------------------------------- argv

#[test]
fn args_prints_module_path_then_trailing_args() {
    let o = wasm_run([
        "fixtures/args.wasm",
        "a",
        "b c",
        "-d",
        "--e=f",
        "--env",
        "X=1",
    ]);
    assert_exact(
        &o,
        0,
        "argc=7\n\
         argv[0]=fixtures/args.wasm\n\
         argv[1]=a\n\
         argv[2]=b c\n\
         argv[3]=-d\n\
         argv[4]=--e=f\n\
         argv[5]=--env\n\
         argv[6]=X=1\n",
        "",
    );
}

#[test]
fn args_without_trailing_args() {
    let o = wasm_run(["fixtures/args.wasm"]);
    assert_exact(&o, 0, "argc=1\nargv[0]=fixtures/args.wasm\n", "");
}

#[test]
fn argv0_is_the_module_path_as_given() {
    let o = wasm_run(["./fixtures/../fixtures/args.wasm", "x"]);
    assert_exact(
        &o,
        0,
        "argc=2\nargv[0]=./fixtures/../fixtures/args.wasm\nargv[1]=x\n",
        "",
    );

    let abs = format!("{ROOT}/fixtures/args.wasm");
    let o = wasm_run([abs.as_str()]);
    assert_exact(&o, 0, &format!("argc=1\nargv[0]={abs}\n"), "");
}

#[test]
fn args_first_arg_starting_with_dash() {
    let o = wasm_run(["fixtures/args.wasm", "-x", "--help", "-"]);
    assert_exact(
        &o,
        0,
        "argc=4\nargv[0]=fixtures/args.wasm\nargv[1]=-x\nargv[2]=--help\nargv[3]=-\n",
        "",
    );
}

#[test]
fn args_double_dash_after_an_argument_is_passed_on() {
    let o = wasm_run(["fixtures/args.wasm", "x", "--", "y"]);
    assert_exact(
        &o,
        0,
        "argc=4\nargv[0]=fixtures/args.wasm\nargv[1]=x\nargv[2]=--\nargv[3]=y\n",
        "",
    );
}

#[test]
fn a_double_dash_right_after_module_is_only_a_separator() {
    // As with `cargo run -- ARGS`: `--` right after MODULE ends brine's options
    // and is not passed on; a later `--` belongs to the guest.
    let o = wasm_run(["fixtures/args.wasm", "--", "--flag", "--", "y"]);
    assert_exact(
        &o,
        0,
        "argc=4\nargv[0]=fixtures/args.wasm\nargv[1]=--flag\nargv[2]=--\nargv[3]=y\n",
        "",
    );
}

// ---------------------------------------------------------------- env

#[test]
fn env_prints_exactly_the_given_variables_sorted() {
    let o = brine()
        .args([
            "wasm",
            "run",
            "--env",
            "ZED=last",
            "--env",
            "lower=1",
            "--env",
            "A=1",
            "--env",
            "M=x=y",
            "--env",
            "EMPTY=",
            "--env",
            "SPACES=a b  c",
            "fixtures/env.wasm",
        ])
        .env("BRINE_E2E_HOST_ONLY", "must not leak")
        .output()
        .unwrap();
    assert_exact(
        &o,
        0,
        "A=1\nEMPTY=\nM=x=y\nSPACES=a b  c\nZED=last\nlower=1\n",
        "",
    );
}

#[test]
fn env_is_empty_by_default() {
    let o = brine()
        .args(["wasm", "run", "fixtures/env.wasm"])
        .env("BRINE_E2E_HOST_ONLY", "must not leak")
        .output()
        .unwrap();
    assert_exact(&o, 0, "", "");
}

#[test]
fn env_name_without_value_inherits_from_brine() {
    let o = brine()
        .args([
            "wasm",
            "run",
            "--env",
            "BRINE_E2E_INHERITED",
            "--env",
            "B=2",
            "fixtures/env.wasm",
        ])
        .env("BRINE_E2E_INHERITED", "from brine's env")
        .env("BRINE_E2E_OTHER", "not asked for")
        .output()
        .unwrap();
    assert_exact(&o, 0, "B=2\nBRINE_E2E_INHERITED=from brine's env\n", "");
}

#[test]
fn env_name_without_value_that_is_unset_is_a_usage_error() {
    let o = brine()
        .args([
            "wasm",
            "run",
            "--env",
            "BRINE_E2E_UNSET",
            "fixtures/hello.wasm",
        ])
        .env_remove("BRINE_E2E_UNSET")
        .output()
        .unwrap();
    assert_one_line_error(&o, EXIT_USAGE, "error: ", &["--env", "BRINE_E2E_UNSET"]);
}

#[test]
fn env_with_empty_name_is_a_usage_error() {
    let o = wasm_run(["--env", "=x", "fixtures/hello.wasm"]);
    assert_one_line_error(&o, EXIT_USAGE, "error: ", &["--env =x", "name is empty"]);
}

// ---------------------------------------------------------------- misc

#[test]
fn clock_and_random_work() {
    let first = wasm_run(["fixtures/clock_random.wasm"]);
    let second = wasm_run(["fixtures/clock_random.wasm"]);
    for o in [&first, &second] {
        assert_code(o, 0);
        assert_eq!(stderr(o), "", "{}", describe(o));
        let out = stdout(o);
        let hex = out
            .strip_prefix("time ok\nmonotonic ok\nrandom ")
            .and_then(|rest| rest.strip_suffix('\n'))
            .unwrap_or_else(|| panic!("unexpected output\n{}", describe(o)));
        assert_eq!(hex.len(), 32, "{}", describe(o));
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{}",
            describe(o)
        );
    }
    assert_ne!(
        stdout(&first),
        stdout(&second),
        "random_get returned the same bytes twice"
    );
}

#[test]
fn module_without_start_lists_its_functions() {
    let o = wasm_run(["fixtures/no_start.wat"]);
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "error: ",
        &["_start", "bar, foo", "--invoke"],
    );
}

#[test]
fn wat_text_modules_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "hi.wat",
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "from wat\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 9))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    );
    let o = wasm_run([s(&path)]);
    assert_exact(&o, 0, "from wat\n", "");
}

#[test]
fn help_and_unknown_options() {
    let o = run(["wasm", "run", "--help"]);
    assert_stdout_has(&o, 0, "--max-memory");

    let o = run(["wasm", "run", "--no-such-option", "fixtures/hello.wasm"]);
    assert_no_panic(&o);
    assert_code(&o, EXIT_USAGE);
    assert_eq!(stdout(&o), "", "{}", describe(&o));

    let o = run(["wasm", "run"]);
    assert_no_panic(&o);
    assert_code(&o, EXIT_USAGE);
    assert_eq!(stdout(&o), "", "{}", describe(&o));
}

// ------------------------------------------- WASI: guest pointers, errnos

/// A WAT module whose `_start` calls `proc_exit(<body>)`, so the exit status
/// is the errno a WASI call returned.
fn errno_probe(imports: &str, body: &str) -> String {
    format!(
        r#"(module
  {imports}
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 1024) "a.txt")
  (func (export "_start") {body}))"#
    )
}

const FD_WRITE: &str = r#"(import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))"#;
const ERRNO_FAULT: i32 = 21;

fn run_probe(wat: &str, extra: &[&str], stdin: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "probe.wat", wat);
    let mut args: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
    args.push(s(&path).to_string());
    wasm_run_stdin(args, stdin)
}

#[test]
fn fd_write_with_iovec_buffer_past_memory_end_is_efault() {
    let wat = errno_probe(
        FD_WRITE,
        "(i32.store (i32.const 0) (i32.const 65530))
         (i32.store (i32.const 4) (i32.const 100))
         (call $exit (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))",
    );
    let o = run_probe(&wat, &[], "");
    assert_no_panic(&o);
    assert_exact(&o, ERRNO_FAULT, "", "");
}

#[test]
fn fd_write_with_iovec_array_out_of_bounds_is_efault() {
    let wat = errno_probe(
        FD_WRITE,
        "(call $exit (call $w (i32.const 1) (i32.const -8) (i32.const 1) (i32.const 16)))",
    );
    let o = run_probe(&wat, &[], "");
    assert_no_panic(&o);
    assert_exact(&o, ERRNO_FAULT, "", "");
}

#[test]
fn fd_write_with_huge_iovec_count_is_efault() {
    let wat = errno_probe(
        FD_WRITE,
        "(call $exit (call $w (i32.const 1) (i32.const 0) (i32.const 0x7fffffff) (i32.const 16)))",
    );
    let o = run_probe(&wat, &[], "");
    assert_no_panic(&o);
    assert_exact(&o, ERRNO_FAULT, "", "");
}

#[test]
fn args_get_with_pointers_past_memory_end_is_efault() {
    let wat = errno_probe(
        r#"(import "wasi_snapshot_preview1" "args_get" (func $a (param i32 i32) (result i32)))"#,
        "(call $exit (call $a (i32.const 65535) (i32.const 65534)))",
    );
    let o = run_probe(&wat, &[], "");
    assert_no_panic(&o);
    assert_exact(&o, ERRNO_FAULT, "", "");
}

#[test]

fn fd_seek_on_stdin_pipe_returns_a_seek_errno() {
    // Observed: exit 73, which wasi-libc reports as "Operation timed out".
    // WASI: ESPIPE = 70 (or ENOTCAPABLE = 76 if the rights check comes first).
    let wat = errno_probe(
        r#"(import "wasi_snapshot_preview1" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))"#,
        "(call $exit (call $seek (i32.const 0) (i64.const 0) (i32.const 1) (i32.const 64)))",
    );
    let o = run_probe(&wat, &[], "some input\n");
    assert_no_panic(&o);
    assert_eq!(stdout(&o), "");
    let code = o.status.code();
    assert!(
        code == Some(70) || code == Some(76),
        "expected errno ESPIPE (70) or ENOTCAPABLE (76); 73 is ETIMEDOUT\n{}",
        describe(&o)
    );
}

// ---------------------------------------------------------------- poll_oneoff on stdin

fn poll_stdin_with(input: Option<&[u8]>, idle_ms: u64, wait_ms: &str) -> String {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("brine"))
        .current_dir(ROOT)
        .args(["wasm", "run", "fixtures/poll_stdin.wasm", wait_ms])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take();
    if let (Some(bytes), Some(pipe)) = (input, stdin.as_mut()) {
        pipe.write_all(bytes).unwrap();
        drop(stdin.take());
    }
    std::thread::sleep(std::time::Duration::from_millis(idle_ms));
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn poll_oneoff_sees_stdin_data_an_idle_pipe_and_its_end() {
    assert_eq!(
        poll_stdin_with(Some(b"hi\n"), 0, "2000"),
        "stdin ready (3 bytes)\n"
    );
    assert_eq!(
        poll_stdin_with(Some(b""), 0, "2000"),
        "stdin ready (0 bytes)\n"
    );
    // The pipe stays open and silent past the guest's 100 ms timeout.
    assert_eq!(poll_stdin_with(None, 600, "100"), "timeout\n");
}
