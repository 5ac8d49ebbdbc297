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
    let errors = brine::load_job(&input("job_type_line_breaks.yaml")).unwrap_err();
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
