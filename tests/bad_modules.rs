//! Modules brine must reject cleanly: exit 2, one error line, no panic.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn module_file(dir: &TempDir, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    write_file(dir.path(), name, bytes)
}

#[track_caller]
fn assert_invalid_module(path: &Path) {
    let o = wasm_run([s(path)]);
    assert_one_line_error(&o, EXIT_USAGE, "error: invalid module", &[s(path)]);
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = module_file(&dir, "empty.wasm", b"");
    assert_invalid_module(&path);
}

#[test]
fn truncated_hello() {
    let dir = tempfile::tempdir().unwrap();
    let hello = std::fs::read(Path::new(ROOT).join("fixtures/hello.wasm")).unwrap();
    assert!(hello.len() > 100);
    let path = module_file(&dir, "truncated.wasm", &hello[..100]);
    assert_invalid_module(&path);
}

#[test]
fn truncated_hello_at_many_lengths() {
    let dir = tempfile::tempdir().unwrap();
    let hello = std::fs::read(Path::new(ROOT).join("fixtures/hello.wasm")).unwrap();
    for len in [5, 9, 20, 50, 200, hello.len() / 2, hello.len() - 1] {
        let path = module_file(&dir, &format!("truncated-{len}.wasm"), &hello[..len]);
        assert_invalid_module(&path);
    }
    // The first 1..4 bytes are valid UTF-8, so brine also tries them as WAT:
    // rejected, but see text_file_error_is_a_single_line for the message.
    for len in [1, 4] {
        let path = module_file(&dir, &format!("truncated-{len}.wasm"), &hello[..len]);
        let o = wasm_run([s(&path)]);
        assert_no_panic(&o);
        assert_code(&o, EXIT_USAGE);
        assert_eq!(stdout(&o), "", "{}", describe(&o));
        assert!(
            stderr(&o).starts_with("error: invalid module"),
            "{}",
            describe(&o)
        );
    }
}

#[test]
fn random_bytes() {
    let dir = tempfile::tempdir().unwrap();
    for seed in [1, 2, 3] {
        let path = module_file(
            &dir,
            &format!("random-{seed}.wasm"),
            pseudo_random_bytes(300, seed),
        );
        assert_invalid_module(&path);
    }
}

#[test]
fn random_bytes_after_a_valid_header() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.extend(pseudo_random_bytes(300, 42));
    let path = module_file(&dir, "header-then-noise.wasm", bytes);
    assert_invalid_module(&path);
}

#[test]
fn unknown_binary_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = module_file(&dir, "version2.wasm", b"\0asm\x02\0\0\0");
    assert_invalid_module(&path);
}

#[test]
fn binary_that_fails_validation_names_the_offset() {
    // (func (export "_start") (i32.const 0)): a value left on the stack.
    let bytes: &[u8] = b"\0asm\x01\0\0\0\
        \x01\x04\x01\x60\x00\x00\
        \x03\x02\x01\x00\
        \x07\x0a\x01\x06_start\x00\x00\
        \x0a\x06\x01\x04\x00\x41\x00\x0b";
    let dir = tempfile::tempdir().unwrap();
    let path = module_file(&dir, "invalid.wasm", bytes);
    let o = wasm_run([s(&path)]);
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "error: invalid module",
        &["type mismatch", "offset"],
    );
}

#[test]
fn text_file_is_rejected_as_invalid_module() {
    let dir = tempfile::tempdir().unwrap();
    let path = module_file(&dir, "notes.wasm", "this is not a module\njust some text\n");
    let o = wasm_run([s(&path)]);
    assert_no_panic(&o);
    assert_code(&o, EXIT_USAGE);
    assert_eq!(stdout(&o), "", "{}", describe(&o));
    assert!(
        stderr(&o).starts_with(&format!("error: invalid module {}", s(&path))),
        "{}",
        describe(&o)
    );
}

#[test]

fn text_file_error_is_a_single_line() {
    // Observed stderr (5 lines):
    //   error: invalid module <path>: expected `(`
    //        --> <anon>:1:1
    //         |
    //       1 | this is not a module
    //         | ^
    let dir = tempfile::tempdir().unwrap();
    let path = module_file(&dir, "notes.wasm", "this is not a module\njust some text\n");
    assert_invalid_module(&path);
    let path = module_file(&dir, "notes.txt", "plain text\n");
    assert_invalid_module(&path);
    // Same for a module cut after 1 byte (`\0`): valid UTF-8, parsed as WAT.
    let path = module_file(&dir, "one-byte.wasm", b"\0");
    assert_invalid_module(&path);
}

#[test]
fn missing_file_is_a_read_error() {
    let o = wasm_run(["fixtures/no-such-module.wasm"]);
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "error: cannot read module",
        &["fixtures/no-such-module.wasm", "No such file or directory"],
    );
}

#[test]

fn missing_file_error_states_the_cause_once() {
    let o = wasm_run(["fixtures/no-such-module.wasm"]);
    assert_exact(
        &o,
        EXIT_USAGE,
        "",
        "error: cannot read module fixtures/no-such-module.wasm: No such file or directory (os error 2)\n",
    );
}

#[test]
fn directory_as_module_is_a_read_error() {
    let o = wasm_run(["fixtures"]);
    assert_one_line_error(&o, EXIT_USAGE, "error: cannot read module", &["fixtures"]);
}

#[test]
fn wat_that_fails_validation_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let path = module_file(
        &dir,
        "bad.wat",
        r#"(module (func (export "_start") (i32.const 0)))"#,
    );
    assert_invalid_module(&path);
    // The text parsed: the error names the function, not a byte offset of the binary.
    let path = module_file(
        &dir,
        "named.wat",
        r#"(module (func (export "_start")) (func $helper (result i32) (i64.const 1)))"#,
    );
    let o = wasm_run([s(&path)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("the text parses, but the module is not valid: type mismatch: expected i32, found i64 (in function 1 $helper)"),
        "{stderr}"
    );
    assert!(!stderr.contains("offset"), "{stderr}");
}

#[test]
fn bad_modules_never_run_anything_else() {
    // A bad --import module fails the same way and names its own path.
    let dir = tempfile::tempdir().unwrap();
    let path = module_file(&dir, "lib.wasm", pseudo_random_bytes(300, 9));
    let o = wasm_run([
        "--import".to_string(),
        format!("lib={}", s(&path)),
        "fixtures/link/main.wat".to_string(),
    ]);
    assert_one_line_error(&o, EXIT_USAGE, "error: invalid module", &[s(&path)]);
}

#[test]
fn a_function_with_more_locals_than_wasmi_runs_is_invalid_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let locals = vec!["i32"; 50_000].join(" ");
    let wat = format!("(module (func (export \"_start\") (local {locals})))");
    let path = module_file(&dir, "locals.wasm", wat::parse_str(&wat).unwrap());
    let o = wasm_run([s(&path)]);
    assert_one_line_error(&o, EXIT_USAGE, "error: invalid module", &[s(&path)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("function 0 has 50000 parameters and locals; wasmi can run at most 30000"),
        "{stderr}"
    );
}

#[test]
fn an_import_of_the_wrong_type_is_described_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let lib = module_file(
        &dir,
        "lib.wasm",
        wat::parse_str(r#"(module (table (export "t") 1 externref))"#).unwrap(),
    );
    let main = module_file(
        &dir,
        "main.wasm",
        wat::parse_str(r#"(module (import "env" "t" (table 1 funcref)) (func (export "_start")))"#)
            .unwrap(),
    );
    let o = wasm_run([
        "--import".to_string(),
        format!("env={}", s(&lib)),
        s(&main).to_string(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(EXIT_USAGE), "{stderr}");
    assert!(
        stderr.contains("imports `env`.`t` (table funcref 1.. elements), but the definition found is table externref 1.. elements"),
        "{stderr}"
    );
    assert!(!stderr.contains("TableType"), "{stderr}");
}

#[test]
fn an_element_segment_out_of_its_table_names_no_store_handle() {
    let dir = tempfile::tempdir().unwrap();
    let wat =
        r#"(module (table 1 funcref) (func $f) (elem (i32.const 5) $f) (func (export "_start")))"#;
    let path = module_file(&dir, "elem.wasm", wat::parse_str(wat).unwrap());
    let o = wasm_run([s(&path)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("an element segment of 1 elements at offset 5 does not fit its table"),
        "{stderr}"
    );
    assert!(!stderr.contains("Stored"), "{stderr}");
}
