//! `brine test`: run fixture suites in the wasi-testsuite layout.

use super::Failure;
use crate::suite::{run_suite, SuiteResult};
use crate::units::parse_duration;
use anyhow::Context;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `brine test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Suite directories: NAME.wasm modules with optional NAME.json expectations.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Print one JSON object instead of a line per test.
    #[arg(long)]
    pub(super) json: bool,
    /// Wall-clock limit for each test. Otherwise each test runs with `brine wasm run`'s
    /// defaults (memory up to 4GiB, no network, real clocks): the suites expect a plain
    /// WASI runtime, not a job's.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    timeout: Duration,
}

/// Runs the suites; exit 1 if any test failed.
pub fn run(args: Args) -> Result<i32, Failure> {
    let mut suites = Vec::new();
    for dir in &args.dirs {
        let suite = run_suite(dir, args.timeout)
            .with_context(|| format!("cannot read suite directory {}", dir.display()))
            .map_err(Failure::usage)?;
        suites.push(suite);
    }
    let (passed, failed) = suites.iter().fold((0, 0), |(p, f), s| {
        let (sp, sf) = s.counts();
        (p + sp, f + sf)
    });
    if args.json {
        let report = serde_json::json!({ "passed": passed, "failed": failed, "suites": suites });
        outln!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        // With one suite the last line is its count; say it once.
        let several = suites.len() > 1;
        suites.iter().for_each(|suite| print_suite(suite, several));
        outln!("{passed} passed, {failed} failed");
    }
    Ok(i32::from(failed > 0))
}

fn print_suite(suite: &SuiteResult, with_counts: bool) {
    if with_counts {
        let (passed, failed) = suite.counts();
        outln!("suite {}: {passed} passed, {failed} failed", suite.suite);
    } else {
        outln!("suite {}:", suite.suite);
    }
    for test in &suite.tests {
        if test.passed {
            outln!("  PASS {}", test.name);
        } else {
            outln!("  FAIL {}: {}", test.name, test.problems.join("; "));
        }
    }
}
