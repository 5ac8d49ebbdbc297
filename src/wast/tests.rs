//! Tests of the script runner: verdicts, locations, and hostile scripts.

use super::*;

fn quiet() -> Options {
    Options {
        print: PrintTo::Discard,
        ..Options::default()
    }
}

fn run(text: &str) -> ScriptReport {
    run_text("t.wast", text, &quiet()).expect("the script runs")
}

const ADD: &str = r#"(module (func (export "add") (param i32 i32) (result i32)
  (i32.add (local.get 0) (local.get 1))))
"#;

#[test]
fn passing_directives_are_counted() {
    let report = run(&format!(
        "{ADD}(assert_return (invoke \"add\" (i32.const 1) (i32.const 2)) (i32.const 3))"
    ));
    assert_eq!((report.passed, report.failed, report.skipped), (2, 0, 0));
    assert_eq!(report.summary(), "2 passed, 0 failed");
}

#[test]
fn a_wrong_result_names_file_line_column_and_both_values() {
    let report = run(&format!(
        "{ADD}\n  (assert_return (invoke \"add\" (i32.const 1) (i32.const 2)) (i32.const 4))"
    ));
    assert_eq!(report.failed, 1);
    let line = report.failures[0].to_string();
    assert_eq!(
        line,
        "t.wast:4:4: assert_return: expected (i32.const 4), got (i32.const 3)"
    );
}

#[test]
fn float_results_compare_bit_exact() {
    let module = r#"(module (func (export "z") (result f32) (f32.const -0)))"#;
    let report = run(&format!(
        "{module}\n(assert_return (invoke \"z\") (f32.const 0))\n(assert_return (invoke \"z\") (f32.const -0))"
    ));
    assert_eq!((report.passed, report.failed), (2, 1));
    assert!(report.failures[0].message.contains("got (f32.const -0)"));
}

#[test]
fn a_trap_with_another_message_fails() {
    let module = r#"(module (func (export "u") (unreachable)))"#;
    let report = run(&format!(
        "{module}\n(assert_trap (invoke \"u\") \"unreachable\")\n(assert_trap (invoke \"u\") \"integer overflow\")"
    ));
    assert_eq!((report.passed, report.failed), (2, 1));
    assert!(report.failures[0]
        .message
        .contains("UnreachableCodeReached"));
}

#[test]
fn a_valid_module_in_assert_invalid_fails() {
    let report = run("(assert_invalid (module (func)) \"type mismatch\")");
    assert_eq!(report.failed, 1);
    assert_eq!(report.failures[0].directive, "assert_invalid");
}

#[test]
fn threads_are_skipped() {
    let text = "(module)\n(thread $T (module (func)))\n(wait $T)";
    let report = run(text);
    assert_eq!((report.passed, report.failed, report.skipped), (1, 0, 2));
    assert_eq!(report.skip_reasons.get("wasmi has no threads"), Some(&2));
}

#[test]
fn unsupported_proposals_fail_unless_excused() {
    let text = "(module (type $s (struct)))\n(assert_return (invoke \"f\") (i32.const 1))";
    let strict = run(text);
    assert_eq!((strict.failed, strict.skipped), (2, 0));
    let excused = Options {
        excuse_unsupported: true,
        ..quiet()
    };
    let report = run_text("t.wast", text, &excused).unwrap();
    assert_eq!((report.failed, report.skipped), (0, 2), "{report:?}");
}

#[test]
fn syntax_errors_are_errors_with_a_location() {
    let err = run_text("bad.wast", "(module (func)", &quiet()).unwrap_err();
    assert!(matches!(err, WastError::Parse(_)));
    assert!(err.to_string().contains("bad.wast:1:"), "{err}");
}

#[test]
fn unreadable_files_are_errors() {
    let err = run_file(Path::new("/nonexistent/x.wast"), &quiet()).unwrap_err();
    assert!(matches!(err, WastError::Read { .. }));
}

/// Scripts written to break the runner: each must end in a report or an error.
const HOSTILE: &[&str] = &[
    "(module binary \"\\00asm\\01\\00\\00\\00\\ff\\ff\\ff\\ff\\ff\")",
    "(module (memory 65537))",
    "(module (memory i64 0x1_0000_0000_0000))",
    "(module (table 0xffff_ffff funcref))",
    "(module (func (export \"f\") (param i32)))\n(invoke \"f\" (i64.const 1))",
    "(module (func (export \"f\") (param i32)))\n(invoke \"f\")",
    "(invoke \"nothing\")",
    "(invoke $Nope \"f\")",
    "(get \"x\")",
    "(register \"r\" $Nope)",
    "(module instance $I $Missing)",
    "(module quote \"\\ff\\fe\")",
    "(assert_malformed (module quote \"\\ff\") \"x\")",
    "(assert_return (invoke \"f\" (ref.host 1)))",
    "(module (global (export \"g\") i32 (i32.const 1)))\n(assert_return (get \"g\") (ref.i31))",
    "(module (func $f (export \"f\") (call $f)))\n(assert_return (invoke \"f\"))",
    "(module (func (export \"f\") (result externref) (ref.null extern)))\n(assert_return (invoke \"f\") (ref.extern 1))",
    "(assert_unlinkable (module (func (export \"f\"))) \"x\")",
    "(assert_trap (module (func)) \"x\")",
    "(assert_exhaustion (invoke \"f\") \"x\")",
];

#[test]
fn hostile_scripts_give_errors_not_panics() {
    for text in HOSTILE {
        let outcome = run_text("h.wast", text, &quiet());
        assert!(
            !matches!(outcome, Err(WastError::Internal { .. })),
            "{text}: {outcome:?}"
        );
    }
}

#[test]
fn deeply_nested_blocks_do_not_overflow_the_host_stack() {
    let depth = 20_000;
    let text = format!(
        "(module (func (export \"f\") {}{}))\n(assert_return (invoke \"f\"))",
        "(block ".repeat(depth),
        ")".repeat(depth)
    );
    assert_eq!(run(&text).passed, 2);
}

#[test]
fn truncated_scripts_never_panic() {
    let script = include_str!("../../spec-tests/linking.wast");
    let cuts: Vec<usize> = (0..script.len())
        .step_by(97)
        .filter(|&i| script.is_char_boundary(i))
        .collect();
    for cut in cuts {
        let outcome = run_text("cut.wast", &script[..cut], &quiet());
        assert!(
            !matches!(outcome, Err(WastError::Internal { .. })),
            "cut at {cut}: {outcome:?}"
        );
    }
}
