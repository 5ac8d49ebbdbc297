//! `--import` / `--preload`, chains, cycles, missing imports and `--invoke`.

mod common;

use common::*;

// ------------------------------------------------------------ --import

#[test]
fn main_links_functions_memory_table_and_global_from_lib() {
    let o = wasm_run([
        "--import",
        "lib=fixtures/link/lib.wat",
        "fixtures/link/main.wat",
    ]);
    assert_exact(&o, 0, "add=5 global=7 mem=lib-data\n", "");
}

#[test]
fn preload_is_an_alias_of_import() {
    let o = wasm_run([
        "--preload",
        "lib=fixtures/link/lib.wat",
        "fixtures/link/main.wat",
    ]);
    assert_exact(&o, 0, "add=5 global=7 mem=lib-data\n", "");
}

#[test]
fn chain_of_three_modules_in_either_import_order() {
    let o = wasm_run([
        "--import",
        "chain_b=fixtures/link/chain_b.wat",
        "--import",
        "chain_c=fixtures/link/chain_c.wat",
        "fixtures/link/chain_a.wat",
    ]);
    assert_exact(&o, 0, "chain=42\n", "");
    let o = wasm_run([
        "--import",
        "chain_c=fixtures/link/chain_c.wat",
        "--preload",
        "chain_b=fixtures/link/chain_b.wat",
        "fixtures/link/chain_a.wat",
    ]);
    assert_exact(&o, 0, "chain=42\n", "");
}

#[test]
fn chain_with_a_missing_middle_link_names_it() {
    let o = wasm_run([
        "--import",
        "chain_b=fixtures/link/chain_b.wat",
        "fixtures/link/chain_a.wat",
    ]);
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "error: ",
        &["`chain_c`", "`base`", "--import chain_c="],
    );
}

#[test]
fn import_cycle_is_reported() {
    for (first, second) in [("cycle_a", "cycle_b"), ("cycle_b", "cycle_a")] {
        let o = wasm_run([
            "--import".to_string(),
            format!("{first}=fixtures/link/{first}.wat"),
            "--import".to_string(),
            format!("{second}=fixtures/link/{second}.wat"),
            "fixtures/link/cycle_a.wat".to_string(),
        ]);
        assert_one_line_error(&o, EXIT_USAGE, "error: ", &["cycle", "cycle_a", "cycle_b"]);
    }
}

#[test]
fn half_of_a_cycle_as_entry_names_the_unregistered_module() {
    // The entry module has no import name, so cycle_b's import of cycle_a
    // cannot resolve: a clean link error, no recursion.
    let o = wasm_run([
        "--import",
        "cycle_b=fixtures/link/cycle_b.wat",
        "fixtures/link/cycle_a.wat",
    ]);
    assert_one_line_error(&o, EXIT_USAGE, "error: ", &["`cycle_a`", "`ping`"]);
}

#[test]
fn missing_export_names_module_field_and_type() {
    let o = wasm_run([
        "--import",
        "lib=fixtures/link/lib.wat",
        "fixtures/link/missing.wat",
    ]);
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "error: ",
        &[
            "fixtures/link/missing.wat",
            "`lib`",
            "`nope`",
            "func (i32) -> i64",
        ],
    );
}

#[test]
fn missing_import_module_is_named_and_import_suggested() {
    let o = wasm_run(["fixtures/link/main.wat"]);
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "error: ",
        &["fixtures/link/main.wat", "`lib`", "--import lib="],
    );
}

#[test]
fn import_module_that_does_not_exist_is_a_read_error() {
    let o = wasm_run([
        "--import",
        "lib=fixtures/link/no-such-lib.wasm",
        "fixtures/link/main.wat",
    ]);
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "error: cannot read module",
        &["fixtures/link/no-such-lib.wasm"],
    );
}

#[test]
fn malformed_import_spec_is_a_usage_error() {
    for spec in ["lib", "=fixtures/link/lib.wat", "lib="] {
        let o = wasm_run(["--import", spec, "fixtures/link/main.wat"]);
        assert_one_line_error(&o, EXIT_USAGE, "error: --import ", &["NAME=PATH"]);
    }
}

#[test]
fn wrong_library_under_the_right_name_is_a_link_error() {
    // chain_c exports only `base`: main's lib.add is missing.
    let o = wasm_run([
        "--import",
        "lib=fixtures/link/chain_c.wat",
        "fixtures/link/main.wat",
    ]);
    assert_one_line_error(&o, EXIT_USAGE, "error: ", &["`lib`", "`add`"]);
}

// ------------------------------------------------------------ --invoke

#[test]
fn invoke_add() {
    let o = wasm_run(["--invoke", "add", "fixtures/add.wat", "2", "3"]);
    assert_exact(&o, 0, "5\n", "");
}

#[test]
fn invoke_add_with_negative_and_wrapping_values() {
    let o = wasm_run(["--invoke", "add", "fixtures/add.wat", "-2", "3"]);
    assert_exact(&o, 0, "1\n", "");
    let o = wasm_run(["--invoke", "add", "fixtures/add.wat", "2147483647", "1"]);
    assert_exact(&o, 0, "-2147483648\n", "");
}

#[test]
fn invoke_fadd_with_floats() {
    let o = wasm_run(["--invoke", "fadd", "fixtures/add.wat", "1.5", "2.25"]);
    assert_exact(&o, 0, "3.75\n", "");
    let o = wasm_run(["--invoke", "fadd", "fixtures/add.wat", "-0.5", "1e3"]);
    assert_exact(&o, 0, "999.5\n", "");
    let o = wasm_run(["--invoke", "fadd", "fixtures/add.wat", "0.1", "0.2"]);
    assert_exact(&o, 0, "0.30000000000000004\n", "");
}

#[test]
fn invoke_noop_prints_nothing() {
    let o = wasm_run(["--invoke", "noop", "fixtures/add.wat"]);
    assert_exact(&o, 0, "", "");
}

#[test]
fn invoke_with_wrong_argument_count_is_a_usage_error() {
    let o = wasm_run(["--invoke", "add", "fixtures/add.wat", "1"]);
    assert_one_line_error(&o, EXIT_USAGE, "error: ", &["`add`", "2", "1 given"]);
    let o = wasm_run(["--invoke", "add", "fixtures/add.wat", "1", "2", "3"]);
    assert_one_line_error(&o, EXIT_USAGE, "error: ", &["`add`", "2", "3 given"]);
    let o = wasm_run(["--invoke", "noop", "fixtures/add.wat", "1"]);
    assert_one_line_error(&o, EXIT_USAGE, "error: ", &["`noop`"]);
}

#[test]
fn invoke_with_non_numeric_argument_is_a_usage_error() {
    let o = wasm_run(["--invoke", "add", "fixtures/add.wat", "1", "x"]);
    assert_one_line_error(&o, EXIT_USAGE, "error: ", &["`x`", "i32"]);
    let o = wasm_run(["--invoke", "fadd", "fixtures/add.wat", "1.5", "one"]);
    assert_one_line_error(&o, EXIT_USAGE, "error: ", &["`one`", "f64"]);
    let o = wasm_run(["--invoke", "add", "fixtures/add.wat", "1.5", "2"]);
    assert_one_line_error(&o, EXIT_USAGE, "error: ", &["`1.5`", "i32"]);
    let o = wasm_run(["--invoke", "add", "fixtures/add.wat", "4294967296", "1"]);
    assert_one_line_error(&o, EXIT_USAGE, "error: ", &["`4294967296`", "i32"]);
}

#[test]
fn module_without_start_lists_its_exported_functions() {
    let o = wasm_run(["fixtures/add.wat"]);
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "error: ",
        &[
            "fixtures/add.wat",
            "`_start`",
            "add, fadd, noop",
            "--invoke",
        ],
    );
    // Trailing args do not change that.
    let o = wasm_run(["fixtures/add.wat", "2", "3"]);
    assert_one_line_error(&o, EXIT_USAGE, "error: ", &["add, fadd, noop"]);
}

#[test]
fn invoke_of_an_unknown_function_lists_the_exported_functions() {
    let o = wasm_run(["--invoke", "sub", "fixtures/add.wat", "2", "3"]);
    assert_one_line_error(&o, EXIT_USAGE, "error: ", &["`sub`", "add, fadd, noop"]);
}

#[test]
fn invoke_no_start_functions() {
    let o = wasm_run(["--invoke", "foo", "fixtures/no_start.wat"]);
    assert_exact(&o, 0, "42\n", "");
    let o = wasm_run(["--invoke", "bar", "fixtures/no_start.wat", "21"]);
    assert_exact(&o, 0, "42\n", "");
}

#[test]
fn invoke_add3_of_main_linked_with_lib() {
    let o = wasm_run([
        "--invoke",
        "add3",
        "--import",
        "lib=fixtures/link/lib.wat",
        "fixtures/link/main.wat",
        "1",
        "2",
        "3",
    ]);
    assert_exact(&o, 0, "6\n", "");
}

#[test]
fn invoke_add3_without_lib_is_a_link_error() {
    let o = wasm_run(["--invoke", "add3", "fixtures/link/main.wat", "1", "2", "3"]);
    assert_one_line_error(&o, EXIT_USAGE, "error: ", &["`lib`", "--import lib="]);
}

#[test]
fn invoke_calls_initialize_first_and_prints_every_result() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "reactor.wat",
        r#"(module
  (global $g (mut i32) (i32.const 1))
  (func (export "_initialize") (global.set $g (i32.const 100)))
  (func (export "get") (result i32) (global.get $g))
  (func (export "multi") (param i64 f32) (result i32 i64 f32)
    (i32.const -1) (local.get 0) (local.get 1)))"#,
    );
    let o = wasm_run(["--invoke", "get", s(&path)]);
    assert_exact(&o, 0, "100\n", "");
    let o = wasm_run(["--invoke", "multi", s(&path), "-9000000000", "1.5"]);
    assert_exact(&o, 0, "-1\n-9000000000\n1.5\n", "");
}

#[test]
fn invoke_of_a_function_that_calls_proc_exit_exits_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "exit.wat",
        r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "f") (result i32) (call $exit (i32.const 7)) (i32.const 1)))"#,
    );
    let o = wasm_run(["--invoke", "f", s(&path)]);
    assert_exact(&o, 7, "", "");
}

#[test]
fn invoke_of_a_trapping_function_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "trap.wat",
        r#"(module (func (export "boom") (param i32) (result i32)
  (i32.div_u (i32.const 1) (local.get 0))))"#,
    );
    let o = wasm_run(["--invoke", "boom", s(&path), "0"]);
    assert_no_panic(&o);
    assert_code(&o, EXIT_TRAP);
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert!(err.starts_with("error: wasm trap: "), "{}", describe(&o));
    assert!(err.contains("integer divide by zero"), "{}", describe(&o));
    assert!(err.contains("`boom`"), "{}", describe(&o));
    let o = wasm_run(["--invoke", "boom", s(&path), "4"]);
    assert_exact(&o, 0, "0\n", "");
}
