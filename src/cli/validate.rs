//! `brine validate`: parse and check a job file and what it names (the deep
//! checks `brine run` makes before fetching anything), print what would run.

use super::{Failure, EXIT_USAGE};
use crate::job::check::{check, ModuleSummary};
use crate::job::plan::PlanOptions;
use crate::spec::{self, InputSource, Job, Source, SpecErrors, Task, WasmEngine};
use serde_json::json;
use std::path::PathBuf;

/// Arguments of `brine validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job file (a Job, a Task or a wasm engine block; YAML or JSON).
    job: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub(super) json: bool,
    /// Check `env:NAME` values as `brine run --allow-env REGEX` would allow them. Repeatable.
    #[arg(long = "allow-env", value_name = "REGEX")]
    allow_env: Vec<String>,
}

/// Checks the job file and what it names (sources, modules, `env:NAME`); 0
/// when it would run, 2 (with every problem) when not.
pub fn run(args: Args) -> Result<i32, Failure> {
    let options = PlanOptions {
        allow_env: super::run::allow_env_patterns(&args.allow_env)?,
        ..PlanOptions::default()
    };
    let result = spec::load(&args.job).and_then(|job| {
        let checked = check(&job, &options);
        if checked.problems.is_empty() {
            Ok((job, checked.modules))
        } else {
            Err(checked.problems)
        }
    });
    if args.json {
        let value = match &result {
            Ok((job, _)) => json!({"valid": true, "job": job}),
            Err(errors) => json!({"valid": false, "errors": errors}),
        };
        let text = serde_json::to_string_pretty(&value).map_err(Failure::usage)?;
        outln!("{text}");
    } else {
        match &result {
            Ok((job, modules)) => outln!("valid\n{}\n{}", summary(job), describe_modules(modules)),
            Err(errors) => print_errors(errors),
        }
    }
    Ok(if result.is_ok() { 0 } else { EXIT_USAGE })
}

/// Every error, one per line, on stderr.
fn print_errors(errors: &SpecErrors) {
    for error in errors.iter() {
        eoutln!("{error}");
    }
}

/// One line per module the run would instantiate: what it imports and exports.
fn describe_modules(modules: &[ModuleSummary]) -> String {
    let lines: Vec<String> = modules
        .iter()
        .map(|m| match &m.contents {
            None => format!(
                "module {}: comes with a fetched input (checked after the fetch)",
                m.path
            ),
            Some(c) => {
                let imports: Vec<String> = c
                    .imports
                    .iter()
                    .map(|(from, n)| format!("{from} ({n})"))
                    .collect();
                let more = c.export_count.saturating_sub(c.exports.len());
                let mut exports = c.exports.clone();
                if more > 0 {
                    exports.push(format!("and {more} more"));
                }
                format!(
                    "module {}: imports {}; exports {}",
                    m.path,
                    list_or_none(&imports),
                    list_or_none(&exports)
                )
            }
        })
        .collect();
    lines.join("\n")
}

/// One paragraph saying what would run.
pub fn summary(job: &Job) -> String {
    let task = &job.task;
    let mut lines = vec![headline(job), engine_line(&task.engine)];
    if !task.engine.import_modules.is_empty() {
        let modules = task.engine.import_modules.join(", ");
        lines.push(format!("import modules {modules};"));
    }
    let env: Vec<&str> = task.env.keys().map(String::as_str).collect();
    lines.push(format!("env: {};", list_or_none(&env)));
    let inputs: Vec<String> = task.inputs.iter().map(describe_input).collect();
    lines.push(format!("inputs: {};", list_or_none(&inputs)));
    let results: Vec<String> = task
        .result_paths
        .iter()
        .map(|r| format!("{} from {}", r.name, r.path))
        .collect();
    lines.push(format!("results: {};", list_or_none(&results)));
    lines.push(network_line(task));
    lines.push(format!(
        "publisher: {}; disk limit {};",
        publisher(task),
        size(task.resources.disk_limit())
    ));
    lines.push(limits(task));
    lines.join("\n")
}

/// "Job `x` (batch, namespace default, count 1) runs task `main`:".
fn headline(job: &Job) -> String {
    format!(
        "Job `{}` ({}, namespace {}, count {}) runs task `{}`:",
        job.name,
        job.job_type.as_str(),
        job.namespace,
        job.count,
        job.task.name
    )
}

/// The entry module, entrypoint and argv (argv[0] is empty, as in Bacalhau).
fn engine_line(engine: &WasmEngine) -> String {
    let mut argv = vec![String::new()];
    argv.extend(engine.parameters.iter().cloned());
    format!(
        "entry module {}, entrypoint {}, argv {argv:?};",
        engine.entry_module, engine.entrypoint
    )
}

/// What the guest's HTTP requests may reach (Bacalhau's default is `Host`;
/// a deterministic run gets none unless it asks).
fn network_line(task: &Task) -> String {
    use crate::spec::NetworkType;
    match &task.network {
        None if task.engine.deterministic => "network: none (deterministic run);".to_string(),
        None => "network: Host (any host, the default);".to_string(),
        Some(n) => match n.kind {
            NetworkType::None => "network: none;".to_string(),
            NetworkType::Host => "network: Host (any host);".to_string(),
            NetworkType::Full => "network: Full (any host);".to_string(),
            NetworkType::Http => format!("network: HTTP to {};", list_or_none(&n.domains)),
        },
    }
}

/// `local results/run-1`, or `none`: where a completed execution's results also go.
fn publisher(task: &Task) -> String {
    let Some(p) = &task.publisher else {
        return "none".to_string();
    };
    let params: Vec<String> = p
        .params
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(text) => format!("{k}={}", crate::text::printable(text)),
            other => format!("{k}={other}"),
        })
        .collect();
    format!("{} {}", p.kind, params.join(" "))
        .trim_end()
        .to_string()
}

/// The memory limit and the execution timeout.
fn limits(task: &Task) -> String {
    let timeout = task
        .timeouts
        .execution
        .map_or("none".to_string(), |d| format!("{}s", d.as_secs()));
    let memory = size(task.resources.memory_limit());
    format!("memory limit {memory}; execution timeout {timeout}.")
}

/// "a, b" or "none".
fn list_or_none<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    let all: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    all.join(", ")
}

/// `localDirectory fixtures/hello.wasm at /wasm/hello.wasm (ro)`.
fn describe_input(input: &InputSource) -> String {
    let from = match &input.source {
        Source::Local { path, .. } => path.display().to_string(),
        Source::Inline { url } => {
            let bytes = spec::decode_data_url(url).map_or(0, |b| b.len());
            format!("data: URL ({bytes} bytes)")
        }
        Source::UrlDownload { url } => url.clone(),
        Source::S3 { bucket, key, .. } => format!("s3://{bucket}/{key}"),
        Source::Ipfs { cid } => cid.clone(),
    };
    let mode = if input.source.is_writable() {
        "rw"
    } else {
        "ro"
    };
    format!(
        "{} {from} at {} ({mode})",
        input.source.type_name(),
        input.target
    )
}

/// Bytes in the largest binary unit that divides them (`512 MiB`), else bytes.
fn size(bytes: u64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}
