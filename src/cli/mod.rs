//! The command line: clap definitions and one file per subcommand.
//!
//! Exit statuses (README, "Usage"): `wasm run` exits with the guest's status;
//! a trap is 134, a timeout 124; anything that stops a run before the guest
//! starts (bad usage, an unreadable or invalid module, a missing import) is 2.

/// `println!` that ignores a closed stdout (`brine inspect x | head` must not panic).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `eprintln!` that ignores a closed stderr.
macro_rules! eoutln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod completion;
mod gather;
pub(crate) mod inspect;
mod lazy;
mod replay;
mod run;
mod slurm;
mod status;
mod test;
mod validate;
pub(crate) mod verify;
mod wasm_run;
mod wast;

use clap::{Parser, Subcommand};
use lazy::Lazy;

/// Exit status for bad usage or input that was rejected before anything ran.
pub const EXIT_USAGE: i32 = 2;
/// Exit status when the guest trapped (as wasmtime: 128 + SIGABRT).
pub const EXIT_TRAP: i32 = crate::api::wasm::EXIT_TRAP;
/// Exit status when the wall-clock limit passed (as coreutils `timeout`).
pub const EXIT_TIMEOUT: i32 = crate::api::wasm::EXIT_TIMEOUT;

/// What each exit status means, shown at the end of `brine --help`.
const EXIT_STATUSES: &str = "\
Exit status:
  brine run        0 every partition completed (the guest's code is in exitCode), 1 one failed, 2 invalid job
  brine wasm run   the guest's exit code; 134 trap, 124 timeout, 2 the module could not start
  brine gather     0 every partition completed, 1 one failed, is missing, still running, or its replicas disagree
  brine slurm submit  0 submitted (--wait: every partition completed), 1 sbatch failed or a partition did not, 2 invalid job
  brine validate   0 valid, 2 invalid
  brine replay     as the recorded run; 1 when the guest diverges from the journal
  brine verify     0 verified, 1 a difference, 2 a refused receipt or job
  brine test/wast  0 all passed, 1 a failure, 2 an unreadable suite or script

`brine MODULE.wasm [ARGS]` is short for `brine wasm run MODULE.wasm [ARGS]`.";

/// What `brine --version` prints after the name: the version and the cargo
/// features built in (`-V` prints the version alone). The minimal build
/// (`--no-default-features`) says `features: none`.
#[cfg(all(feature = "s3", feature = "http"))]
const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (features: s3, http)");
#[cfg(all(not(feature = "s3"), feature = "http"))]
const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (features: http)");
#[cfg(not(feature = "http"))]
const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (features: none)");

/// Run WebAssembly jobs on the wasmi interpreter, with no JIT anywhere.
#[derive(Debug, Parser)]
#[command(
    name = "brine",
    version,
    long_version = LONG_VERSION,
    about,
    propagate_version = true,
    after_help = EXIT_STATUSES
)]
struct Cli {
    /// Log each stage on stderr (plan, each input staged, link, run, results,
    /// publish); -vv adds detail. RUST_LOG, when set, wins (e.g. RUST_LOG=brine=debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a Bacalhau job (a Job, a Task or a wasm engine block) and write its results directory.
    Run(Lazy<run::Args>),
    /// Check a job file (Job, Task or engine block; YAML or JSON) and say what would run.
    Validate(Lazy<validate::Args>),
    /// Run a recorded run again from its journal (`--record`), reproducing it exactly.
    Replay(Lazy<replay::Args>),
    /// Re-run a job deterministically and compare it with its receipt (or compare receipts).
    Verify(Lazy<verify::Args>),
    /// Account for a job's partitions (DIR/0, DIR/1, ...): a table, DIR/brine.json, exit 0 iff all completed.
    Gather(Lazy<gather::Args>),
    /// Run a job's partitions on a Slurm cluster (one array job; see README "Running on a cluster").
    #[command(subcommand)]
    Slurm(slurm::SlurmCommand),
    /// Run single WebAssembly modules.
    #[command(subcommand)]
    Wasm(WasmCommand),
    /// Run fixture suites in the wasi-testsuite layout (NAME.wasm + NAME.json).
    Test(Lazy<test::Args>),
    /// Show a module's imports, exports, memories, tables and custom sections.
    Inspect(Lazy<inspect::Args>),
    /// Run WebAssembly spec-test scripts (.wast); prints "N passed, N failed".
    Wast(Lazy<wast::Args>),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completion(Lazy<completion::CompletionArgs>),
    /// Print the manual page (roff) to stdout.
    Man(Lazy<completion::ManArgs>),
}

#[derive(Debug, Subcommand)]
enum WasmCommand {
    /// Run a WASI module (its `_start`, or the function named by --invoke).
    Run(Lazy<wasm_run::Args>),
}

impl Command {
    /// Whether the command was asked for JSON (`--json`): then its error, too,
    /// is printed as one JSON object.
    fn json(&self) -> bool {
        match self {
            Command::Run(args) => args.json,
            Command::Validate(args) => args.json,
            Command::Replay(args) => args.json,
            Command::Verify(args) => args.json,
            Command::Gather(args) => args.json,
            Command::Wasm(WasmCommand::Run(args)) => args.json,
            Command::Test(args) => args.json,
            Command::Inspect(args) => args.json,
            Command::Wast(args) => args.json,
            Command::Slurm(command) => command.json(),
            Command::Completion(_) | Command::Man(_) => false,
        }
    }
}

/// An error the CLI reports: its message and the exit status it maps to.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub status: i32,
    /// What went wrong, what and where, and what to do.
    pub error: anyhow::Error,
}

impl Failure {
    /// A usage or input error (exit 2).
    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            status: EXIT_USAGE,
            error: error.into(),
        }
    }

    /// A run that started and failed (exit 1).
    pub fn failed(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            status: 1,
            error: error.into(),
        }
    }
}

impl From<crate::api::Error> for Failure {
    /// A job-file problem or a run that could not start is bad input (exit
    /// 2); a run that started and could not finish, a failure (exit 1).
    fn from(error: crate::api::Error) -> Self {
        match error {
            crate::api::Error::Invalid(errors) => Failure::usage(errors),
            crate::api::Error::Failed(message) => Failure::failed(anyhow::Error::msg(message)),
            other => Failure::usage(anyhow::Error::msg(other.to_string())),
        }
    }
}

/// Structured logs on stderr when `RUST_LOG` is set (e.g. `RUST_LOG=brine=info`
/// shows every download attempt and retry) or with `-v` (`brine=info`; `-vv`
/// debug, `-vvv` trace); off otherwise.
fn init_logging(verbose: u8) {
    let filter = match (
        tracing_subscriber::EnvFilter::try_from_default_env(),
        verbose,
    ) {
        (Ok(filter), _) => filter,
        (Err(_), 0) => return,
        (Err(_), 1) => tracing_subscriber::EnvFilter::new("brine=info"),
        (Err(_), 2) => tracing_subscriber::EnvFilter::new("brine=debug"),
        (Err(_), _) => tracing_subscriber::EnvFilter::new("brine=trace"),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// An error and its causes on one line, each said once: many library errors
/// already include their source in their own message, and anyhow's `{:#}`
/// would then print the same OS error twice.
fn error_chain(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// `brine MODULE.wasm [ARGS]` as `brine wasm run MODULE.wasm [ARGS]`, as
/// wasmtime runs `wasmtime MODULE`: the first argument names a `.wasm` or
/// `.wat` file instead of a subcommand or an option.
fn with_module_shorthand(
    args: impl Iterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut args: Vec<_> = args.collect();
    let names_module = args.get(1).is_some_and(|first| {
        let path = std::path::Path::new(first);
        let is_module = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("wasm") || ext.eq_ignore_ascii_case("wat"));
        is_module && !first.to_string_lossy().starts_with('-')
    });
    if names_module {
        args.splice(1..1, ["wasm".into(), "run".into()]);
    }
    args
}

/// Parses the process's arguments, runs the command and returns the exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse_from(with_module_shorthand(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { 0 };
        }
    };
    init_logging(cli.verbose);
    let json = cli.command.json();
    let result = match cli.command {
        Command::Wasm(WasmCommand::Run(args)) => wasm_run::run(args.into_inner()),
        Command::Inspect(args) => inspect::run(args.into_inner()),
        Command::Validate(args) => validate::run(args.into_inner()),
        Command::Run(args) => run::run(args.into_inner()),
        Command::Gather(args) => gather::run(args.into_inner()),
        Command::Slurm(command) => slurm::run(command),
        Command::Test(args) => test::run(args.into_inner()),
        Command::Verify(args) => verify::run(args.into_inner()),
        Command::Replay(args) => replay::run(args.into_inner()),
        Command::Wast(args) => wast::run(args.into_inner()),
        Command::Completion(args) => completion::completion(args.into_inner()),
        Command::Man(args) => completion::man(args.into_inner()),
    };
    match result {
        Ok(status) => status,
        Err(failure) if json => {
            eoutln!("{}", error_json(&failure));
            failure.status
        }
        Err(failure) => {
            eoutln!("error: {}", error_chain(&failure.error));
            failure.status
        }
    }
}

/// A failure as one JSON object (`--json`), on stderr where errors go:
/// `error`, and where the error is located in a job file also `file`, `line`,
/// `column`, `field`, `hint` and `kind`, with every problem under `errors`.
fn error_json(failure: &Failure) -> serde_json::Value {
    let located = failure
        .error
        .chain()
        .find_map(|cause| cause.downcast_ref::<crate::spec::SpecErrors>());
    let mut object = match located.and_then(|errors| errors.0.first()) {
        Some(first) => {
            let mut object = located_json(first);
            let all = located.map(|e| e.0.iter().map(located_json).collect::<Vec<_>>());
            object["errors"] = serde_json::Value::from(all.unwrap_or_default());
            object
        }
        None => serde_json::json!({ "error": error_chain(&failure.error) }),
    };
    object["status"] = failure.status.into();
    object
}

/// One located job-file problem, its hint (`did you mean …?`) apart.
fn located_json(error: &crate::spec::SpecError) -> serde_json::Value {
    let (message, hint) = error.message_and_hint();
    serde_json::json!({
        "error": message,
        "file": error.file.display().to_string(),
        "line": error.line,
        "column": error.column,
        "field": error.path,
        "hint": hint,
        "kind": error.kind,
    })
}

#[cfg(test)]
mod tests {
    use super::error_chain;
    use clap::CommandFactory;

    /// Every subcommand, its deferred arguments built, as `--help` shows it.
    fn built_subcommands() -> Vec<clap::Command> {
        let mut cli = super::Cli::command();
        cli.build();
        let mut all = Vec::new();
        let mut stack: Vec<clap::Command> = cli.get_subcommands().cloned().collect();
        while let Some(command) = stack.pop() {
            stack.extend(command.get_subcommands().cloned());
            all.push(command);
        }
        all
    }

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn deferred_arguments_keep_each_subcommands_own_about() {
        let subcommands = built_subcommands();
        assert!(subcommands.len() >= 14, "{}", subcommands.len());
        for command in subcommands {
            let about = command
                .get_about()
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(
                !about.is_empty() && !about.starts_with("Arguments of"),
                "{}: {about:?}",
                command.get_name()
            );
        }
        let run = super::Cli::command().find_subcommand("run").cloned();
        let mut run = run.expect("run");
        run.build();
        assert!(run.get_arguments().any(|a| a.get_id() == "receipt"));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot write out/exitCode: {source}")]
    struct Writing {
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "Permission denied");
        let error = anyhow::Error::new(Writing { source: io }).context("job failed");
        assert_eq!(
            error_chain(&error),
            "job failed: cannot write out/exitCode: Permission denied"
        );
        let plain = anyhow::anyhow!("root cause").context("outer");
        assert_eq!(error_chain(&plain), "outer: root cause");
    }

    #[test]
    fn the_long_version_names_the_features_built_in() {
        let features = crate::features::enabled_list();
        assert_eq!(
            super::LONG_VERSION,
            format!("{} (features: {features})", env!("CARGO_PKG_VERSION"))
        );
    }
}
