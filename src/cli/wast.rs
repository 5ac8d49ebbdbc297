//! `brine wast`: run WebAssembly spec-test scripts and count what passed.

use super::{Failure, EXIT_USAGE};
use crate::units::parse_size;
use crate::wast::pragma::{self, PragmaError};
use crate::wast::{self, suite, summary_line, Feature, Features, Options, PrintTo, ScriptReport};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Arguments of `brine wast`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The .wast scripts to run; a directory stands for every .wast file under it.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print one JSON object instead of text (spectest prints then go to stderr).
    #[arg(long)]
    pub(super) json: bool,
    /// Give each action (invoke, get, instantiation) N units of fuel; running out traps.
    /// A script's own `;; brine: fuel` can lower this, never raise it.
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Largest linear memory (e.g. 1MiB, at least 64KiB); memory.grow past it returns -1.
    /// Default 1GiB, below `wasm run`'s 4GiB: a script can grow many memories at once, and
    /// the whole spec suite passes under it. A script's own `;; brine: max-memory` can
    /// lower this, never raise it.
    #[arg(long, value_name = "SIZE", value_parser = parse_max_memory)]
    max_memory: Option<u64>,
    /// Treat directories as the official testsuite: skip scripts of proposals wasmi does not
    /// implement (gc, threads, ...) and run wasm-v1/wasm-v2 scripts with only that version's features.
    #[arg(long)]
    suite: bool,
    /// Turn a proposal off (e.g. multi-memory, memory64, simd). Repeatable.
    #[arg(long, value_name = "FEATURE", value_parser = parse_feature)]
    disable: Vec<Feature>,
}

/// What happened to one script.
enum Outcome {
    Ran(ScriptReport),
    Skipped(&'static str),
    Error(String),
}

/// Runs the scripts; 0 when all passed, 1 when a directive failed, 2 when a
/// script could not be read or parsed.
pub fn run(args: Args) -> Result<i32, Failure> {
    let scripts = suite::expand(&args.files).map_err(Failure::usage)?;
    let mut results = Vec::new();
    for (root, file) in scripts {
        let outcome = run_one(&args, &root, &file);
        if !args.json {
            print_outcome(&file, &outcome);
        }
        results.push((file, outcome));
    }
    let totals = Totals::of(&results);
    if args.json {
        let text =
            serde_json::to_string_pretty(&to_json(&results, &totals)).map_err(Failure::usage)?;
        outln!("{text}");
    } else if results.len() > 1 {
        // One script's own line is its total; a total over one file, or over
        // scripts that could not even be read, would only repeat or mislead.
        outln!(
            "total: {}",
            summary_line(totals.passed, totals.failed, totals.skipped)
        );
    }
    Ok(totals.status())
}

/// The options for `file`: with `--suite`, its spec version's features.
fn options_for(args: &Args, file: &Path) -> Options {
    let base = if args.suite {
        suite::features_for(file)
    } else {
        Features::default()
    };
    let features = args.disable.iter().fold(base, |set, f| set.with(*f, false));
    Options {
        print: if args.json {
            PrintTo::Stderr
        } else {
            PrintTo::Stdout
        },
        fuel: args.fuel,
        max_memory: args.max_memory,
        features,
        excuse_unsupported: args.suite,
    }
}

/// Runs one script (or skips it, under `--suite`, when wasmi lacks its proposal).
fn run_one(args: &Args, root: &Path, file: &Path) -> Outcome {
    if let Some(reason) = suite::unsupported_reason(root, file).filter(|_| args.suite) {
        return Outcome::Skipped(reason);
    }
    match wast::run_file(file, &options_for(args, file)) {
        Ok(mut report) => {
            if args.suite {
                for (failure, why) in suite::excuse_known(&mut report) {
                    if !args.json {
                        outln!("{failure} (known divergence: {why})");
                    }
                }
            }
            Outcome::Ran(report)
        }
        Err(e) => Outcome::Error(e.to_string()),
    }
}

fn parse_max_memory(text: &str) -> Result<u64, PragmaError> {
    pragma::at_least_one_page(parse_size(text)?)
}

fn parse_feature(name: &str) -> Result<Feature, PragmaError> {
    pragma::feature(name)
}

fn print_outcome(file: &Path, outcome: &Outcome) {
    match outcome {
        Outcome::Ran(report) => {
            for failure in &report.failures {
                outln!("{failure}");
            }
            outln!("{}: {}", report.file, report.summary());
        }
        Outcome::Skipped(reason) => outln!("{}: skipped ({reason})", file.display()),
        Outcome::Error(message) => eoutln!("error: {message}"),
    }
}

#[derive(Default)]
struct Totals {
    passed: usize,
    failed: usize,
    skipped: usize,
    errors: usize,
    skipped_files: usize,
}

impl Totals {
    fn of(results: &[(PathBuf, Outcome)]) -> Totals {
        let mut totals = Totals::default();
        for (_, outcome) in results {
            match outcome {
                Outcome::Ran(r) => {
                    totals.passed += r.passed;
                    totals.failed += r.failed;
                    totals.skipped += r.skipped;
                }
                Outcome::Skipped(_) => totals.skipped_files += 1,
                Outcome::Error(_) => totals.errors += 1,
            }
        }
        totals
    }

    fn status(&self) -> i32 {
        if self.errors > 0 {
            EXIT_USAGE
        } else if self.failed > 0 {
            1
        } else {
            0
        }
    }
}

fn to_json(results: &[(PathBuf, Outcome)], totals: &Totals) -> Value {
    let files: Vec<Value> = results
        .iter()
        .map(|(file, outcome)| match outcome {
            Outcome::Ran(report) => json!(report),
            Outcome::Skipped(reason) => {
                json!({"file": file.display().to_string(), "skipped_file": reason})
            }
            Outcome::Error(message) => {
                json!({"file": file.display().to_string(), "error": message})
            }
        })
        .collect();
    json!({
        "passed": totals.passed,
        "failed": totals.failed,
        "skipped": totals.skipped,
        "skipped_files": totals.skipped_files,
        "errors": totals.errors,
        "files": files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ran(passed: usize, failed: usize) -> (PathBuf, Outcome) {
        let report = ScriptReport {
            file: "a.wast".to_string(),
            passed,
            failed,
            ..ScriptReport::default()
        };
        (PathBuf::from("a.wast"), Outcome::Ran(report))
    }

    #[test]
    fn exit_status_is_2_for_unrunnable_scripts_then_1_for_failures() {
        assert_eq!(Totals::of(&[ran(3, 0)]).status(), 0);
        assert_eq!(Totals::of(&[ran(3, 1), ran(1, 0)]).status(), 1);
        let broken = (PathBuf::from("b.wast"), Outcome::Error("bad".to_string()));
        assert_eq!(Totals::of(&[ran(3, 1), broken]).status(), EXIT_USAGE);
    }

    #[test]
    fn json_has_totals_and_every_file() {
        let skipped = (PathBuf::from("gc/x.wast"), Outcome::Skipped("no gc"));
        let results = [ran(2, 1), skipped];
        let value = to_json(&results, &Totals::of(&results));
        assert_eq!(value["passed"], 2);
        assert_eq!(value["failed"], 1);
        assert_eq!(value["skipped_files"], 1);
        assert_eq!(value["files"][1]["skipped_file"], "no gc");
    }

    #[test]
    fn features_are_named_as_in_the_spec_repository() {
        assert_eq!(parse_feature("multi-memory"), Ok(Feature::MultiMemory));
        assert!(parse_feature("gc")
            .unwrap_err()
            .to_string()
            .contains("known:"));
    }
}
