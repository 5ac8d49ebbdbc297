//! The spec-test harness (`cargo test --test spec-tests`).
//!
//! Runs every `.wast` script under `spec-tests/` through brine's library and
//! fails if any directive fails. When `BRINE_SPEC_TESTSUITE=DIR` is set it
//! also runs every `.wast` under DIR as the official testsuite: scripts of
//! proposals wasmi does not implement are skipped, versioned directories run
//! with their version's features, and directives needing a module wasmi
//! cannot load for want of a proposal count as skipped (see
//! `spec-tests/README.md`).

use brine::wast::{self, suite, summary_line, Options, PrintTo};
use std::path::Path;

#[derive(Default)]
struct Totals {
    passed: usize,
    failed: usize,
    skipped: usize,
    errors: usize,
}

fn main() {
    // cargo passes harness flags and filters (`--nocapture`, names); none apply here.
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec-tests");
    let mut totals = Totals::default();
    run_dir(&project, false, &mut totals);
    if let Some(dir) = std::env::var_os("BRINE_SPEC_TESTSUITE") {
        run_dir(Path::new(&dir), true, &mut totals);
    }
    println!();
    if totals.errors > 0 {
        println!("{} scripts could not be run", totals.errors);
    }
    println!(
        "spec-tests: {}",
        summary_line(totals.passed, totals.failed, totals.skipped)
    );
    if totals.failed > 0 || totals.errors > 0 {
        std::process::exit(1);
    }
}

fn run_dir(dir: &Path, official: bool, totals: &mut Totals) {
    let files = match suite::wast_files(dir) {
        Ok(files) => files,
        Err(e) => {
            println!("error: cannot list {}: {e}", dir.display());
            totals.errors += 1;
            return;
        }
    };
    if files.is_empty() {
        println!("error: no .wast scripts under {}", dir.display());
        totals.errors += 1;
    }
    for file in files {
        run_one(dir, &file, official, totals);
    }
}

fn run_one(root: &Path, file: &Path, official: bool, totals: &mut Totals) {
    if official {
        if let Some(why) = suite::unsupported_reason(root, file) {
            println!("{}: skipped ({why})", file.display());
            return;
        }
    }
    let options = Options {
        print: PrintTo::Discard,
        features: if official {
            suite::features_for(file)
        } else {
            wast::Features::default()
        },
        excuse_unsupported: official,
        ..Options::default()
    };
    let mut report = match wast::run_file(file, &options) {
        Ok(report) => report,
        Err(e) => {
            println!("error: {e}");
            totals.errors += 1;
            return;
        }
    };
    if official {
        suite::excuse_known(&mut report);
    }
    for failure in &report.failures {
        println!("{failure}");
    }
    println!("{}: {}", report.file, report.summary());
    totals.passed += report.passed;
    totals.failed += report.failed;
    totals.skipped += report.skipped;
}
