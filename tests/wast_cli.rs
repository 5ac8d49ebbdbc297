//! `brine wast` against hostile scripts: a script's own settings never loosen
//! the command line's limits, and a nonsensical limit is a clear error.

mod common;

use common::brine;

fn run_script(text: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.wast");
    std::fs::write(&file, text).unwrap();
    let o = brine().arg("wast").args(args).arg(&file).output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const SPIN: &str = r#"(module (func (export "spin") (loop (br 0))))
(assert_return (invoke "spin"))
"#;

#[test]
fn a_fuel_pragma_cannot_raise_the_command_lines_fuel() {
    // With the pragma's fuel the loop would run for hours; --fuel stops it at once.
    let script = format!(";; brine: fuel 1000000000000000\n{SPIN}");
    let (code, stdout, stderr) = run_script(&script, &["--fuel", "100000"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("1 passed, 1 failed"), "{stdout}");
    assert!(stdout.contains("fuel"), "{stdout}");
}

#[test]
fn a_max_memory_pragma_cannot_raise_the_command_lines_limit() {
    let script = r#";; brine: max-memory 1GiB
(module (memory (export "m") 1) (func (export "grow") (result i32) (memory.grow (i32.const 100))))
(assert_return (invoke "grow") (i32.const -1))
"#;
    let (code, stdout, stderr) = run_script(script, &["--max-memory", "1MiB"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
}

#[test]
fn a_max_memory_below_one_page_is_a_clear_error() {
    let (code, stdout, stderr) = run_script(";; brine: max-memory 100\n(module)\n", &[]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("t.wast:1: max-memory 100 is below one wasm page"),
        "{all}"
    );
    assert!(!all.contains("internal error"), "{all}");
    let (code, _, stderr) = run_script("(module)\n", &["--max-memory", "1KiB"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("below one wasm page"), "{stderr}");
}
