//! Inputs the fuzz targets (`fuzz/`, see fuzz/README.md) found to break brine,
//! minimised, each replayed through the same library path the target drives.
//! The inputs are in `tests/fuzz_regressions/`.

use std::path::{Path, PathBuf};

fn input(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(name)
}

/// `job`: a job type holding line breaks (`Type: d\n\r n`) made a two-line
/// error whose second line the job file wrote; every error is one line, with
/// the file's control characters escaped.
#[test]
fn a_job_value_with_line_breaks_stays_on_its_error_line() {
    let error = brine::Job::from_path(input("job_type_line_breaks.yaml")).unwrap_err();
    let brine::Error::Invalid(errors) = error else {
        panic!("not a located job-file error: {error}");
    };
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    for line in &lines {
        assert!(!line.contains(['\n', '\r']), "{line:?}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("unknown job type `d\\u{a}n`")),
        "{lines:?}"
    );
}

/// `module`: invalid modules on which wasmi 2.0's translator trips its own
/// debug assertion (`ControlStack::fuel_pos`) instead of reporting the error,
/// the second with a start section (compiled with its start deferred); brine
/// validates first and refuses them as invalid, metered or not, and `inspect`
/// does too.
#[test]
fn modules_that_trip_wasmi_translator_are_refused_as_invalid() {
    for name in [
        "module_fuel_pos_assertion.wasm",
        "module_start_fuel_pos_assertion.wasm",
    ] {
        refused_as_invalid(&std::fs::read(input(name)).unwrap());
    }
}

fn refused_as_invalid(bytes: &[u8]) {
    use brine::fuzzing::{inspect, run_module, ModuleRun};
    use brine::module::{EngineError, Limits};
    for fuel in [None, Some(1_000_000)] {
        let how = ModuleRun {
            limits: Limits {
                fuel,
                ..Limits::default()
            },
            ..ModuleRun::default()
        };
        let refused = run_module(bytes, None, &how);
        assert!(
            matches!(refused, Err(EngineError::InvalidModule { .. })),
            "{refused:?}"
        );
    }
    assert!(inspect(bytes).unwrap_err().contains("invalid module"));
}

/// `module_smith`: a valid module (wasm-smith's) on which wasmi 2.0's
/// fuel-metering translator trips its debug assertion "a register operand
/// already exists on the stack" (`stack/operands.rs`). Debug builds (these
/// tests, the fuzz targets) turn the panic into an invalid-module error instead
/// of unwinding out of brine; release builds do not assert. Metered runs
/// translate eagerly, so the load itself meets it.
#[test]
fn a_module_wasmi_cannot_translate_metered_is_an_error_not_a_panic() {
    use brine::fuzzing::{run_module, ModuleRun};
    use brine::module::{EngineError, Limits};
    let bytes = std::fs::read(input("module_smith_register_assertion.wasm")).unwrap();
    let how = ModuleRun {
        limits: Limits {
            fuel: Some(1_000_000),
            ..Limits::default()
        },
        ..ModuleRun::default()
    };
    let result = std::panic::catch_unwind(|| run_module(&bytes, Some("1"), &how));
    let outcome = result.expect("no panic leaves brine");
    if cfg!(debug_assertions) {
        let Err(EngineError::InvalidModule { message, .. }) = &outcome else {
            panic!("{outcome:?}");
        };
        assert!(message.contains("wasmi's translator failed"), "{message}");
    } else {
        assert!(outcome.is_err(), "export 1 takes arguments: {outcome:?}");
    }
}
