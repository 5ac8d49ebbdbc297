//! `brine wasm run`: run one module with WASI, like `wasmtime run`.

use super::{Failure, EXIT_TIMEOUT, EXIT_TRAP};
use crate::engine::resolve::NamedModules;
use crate::engine::run::{run as run_module, EntryModule, Report, RunSpec};
use crate::engine::{values, Limits, Outcome};
use crate::host::deterministic::{Settings, DEFAULT_EPOCH_NS};
use crate::host::journal::{self, Header};
use crate::host::net::policy::block_private_from_env;
use crate::host::net::Policy;
use crate::host::quota::DiskQuota;
use crate::host::real::{RealHost, Stdio};
use crate::host::recording::Log;
use crate::host::stack::{self, Journaling};
use crate::host::Host;
use crate::units::{parse_duration, parse_size};
use crate::wasi::WasiCtx;
use anyhow::{anyhow, Context};
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `brine wasm run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Give the guest a host directory, at GUEST (default: the same path). Repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// Set an environment variable for the guest; `--env NAME` passes on the host's value. Repeatable.
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
    env: Vec<String>,
    /// Call this exported function instead of `_start`; ARGS become its parameters.
    #[arg(long, value_name = "FUNC")]
    invoke: Option<String>,
    /// Instantiate the module at PATH first and provide its exports as import module NAME. Repeatable.
    #[arg(long = "import", visible_alias = "preload", value_name = "NAME=PATH")]
    imports: Vec<String>,
    /// Stop the guest after it has used N units of fuel (about one per instruction).
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Stop the guest after this much wall-clock time (e.g. 1s, 500ms, 2m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Memory all the guest's linear memories and tables may hold together (e.g. 32MiB, 1GB;
    /// default 4GiB, a wasm32 memory's own limit, as wasmtime; jobs default to Bacalhau's
    /// 512MiB); memory.grow past it returns -1.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<u64>,
    /// Cap how much the guest's writes may grow files in its --dir directories
    /// (e.g. 1GiB); past it writes get ENOSPC and brine exits 1. No cap by default, as wasmtime.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_disk: Option<u64>,
    /// Run reproducibly: virtual clocks driven by fuel, seeded randomness, sorted
    /// directories, stable inodes and timestamps (see README, "Deterministic runs").
    #[arg(long)]
    deterministic: bool,
    /// The random seed of a deterministic run (default 0: a module has no job hash to
    /// seed from, as `brine run` does).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        requires = "deterministic"
    )]
    seed: u64,
    /// The realtime clock at the start of a deterministic run, in seconds since the Unix epoch.
    #[arg(long, value_name = "SECONDS", requires = "deterministic")]
    epoch: Option<u64>,
    /// Journal every answer the host gives the guest to FILE, for `brine replay`.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Give the guest Bacalhau's `wasi:http/requests` (full: any host) or not (none; off by
    /// default, as wasmtime gives no network; a job's own Network field decides for `brine run`).
    #[arg(long, value_enum, value_name = "MODE", default_value = "none")]
    network: NetworkMode,
    /// Give the guest HTTP to hosts matching PATTERN only (`api.example.com`,
    /// `*.example.com`; ports ignored). Repeatable; implies the HTTP policy.
    #[arg(
        long = "allow-host",
        value_name = "PATTERN",
        conflicts_with = "network"
    )]
    allow_hosts: Vec<String>,
    /// Refuse the guest's HTTP requests to loopback, private, link-local and cloud-metadata
    /// addresses unless --allow-host names the host (also BRINE_BLOCK_PRIVATE=1).
    #[arg(long)]
    block_private: bool,
    /// After the run, print a JSON report (outcome, exit status, returned values,
    /// fuel, error) as one line on stderr, in place of brine's own messages;
    /// stdout stays the guest's.
    #[arg(long)]
    pub(super) json: bool,
    /// The module to run (.wasm, or .wat text).
    module: PathBuf,
    /// Arguments for the guest (argv[1..]), or the --invoke function's parameters.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// `--network`: whether the guest gets HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum NetworkMode {
    /// No `wasi:http/requests` module.
    None,
    /// HTTP to any host.
    Full,
}

impl Args {
    /// The guest's network policy (`None`: no network); a deterministic run may have none.
    fn network_policy(&self) -> Result<Option<Policy>, Failure> {
        let policy = if !self.allow_hosts.is_empty() {
            Policy::domains(&self.allow_hosts)
        } else if self.network == NetworkMode::Full {
            Policy::any()
        } else {
            return Ok(None);
        };
        if self.deterministic {
            return Err(Failure::usage(anyhow!(
                "--deterministic runs have no network (its answers are not reproducible): drop \
                 --network/--allow-host, or --record the run and replay it exactly with brine replay"
            )));
        }
        let block_private = self.block_private || block_private_from_env();
        Ok(Some(policy.with_block_private(block_private)))
    }
}

/// What `brine wasm run` runs, resolved from its arguments (and what a journal records).
#[derive(Debug, Clone)]
pub(crate) struct Invocation {
    pub module: PathBuf,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub dirs: Vec<(String, String)>,
    pub imports: Vec<(String, PathBuf)>,
    pub invoke: Option<String>,
    pub call_args: Vec<String>,
}

impl Invocation {
    fn from_args(args: &Args) -> anyhow::Result<Self> {
        let mut argv = vec![args.module.display().to_string()];
        argv.extend(args.args.iter().cloned());
        Ok(Invocation {
            module: args.module.clone(),
            argv,
            env: parse_env(&args.env)?,
            dirs: args.dirs.iter().map(|d| split_dir(d)).collect(),
            imports: args
                .imports
                .iter()
                .map(|i| split_import(i))
                .collect::<anyhow::Result<_>>()?,
            invoke: args.invoke.clone(),
            call_args: if args.invoke.is_some() {
                args.args.clone()
            } else {
                Vec::new()
            },
        })
    }
}

/// Runs the module and returns the exit status.
pub fn run(args: Args) -> Result<i32, Failure> {
    let limits = Limits {
        fuel: args.fuel,
        timeout: args.timeout,
        max_memory: args.max_memory,
        deterministic: args.deterministic,
    };
    let invocation = Invocation::from_args(&args).map_err(Failure::usage)?;
    let policy = args.network_policy()?;
    let network = policy.is_some();
    let log = Log::default();
    let quota = args
        .max_disk
        .map(|limit| DiskQuota::new(limit, "--max-disk"));
    let deterministic = args.deterministic.then(|| {
        let epoch = args
            .epoch
            .map_or(DEFAULT_EPOCH_NS, |s| s.saturating_mul(1_000_000_000));
        Settings::from_seed(args.seed, epoch)
    });
    let journal = match args.record {
        Some(_) => Journaling::Record(log.clone()),
        None => Journaling::Off,
    };
    let wrap = |mut real: RealHost| -> Box<dyn Host + Send> {
        if let Some(quota) = &quota {
            real.set_disk_quota(quota.clone());
        }
        if let Some(policy) = policy {
            real.set_network(policy);
        }
        stack::assemble(real, deterministic, journal)
    };
    let report = execute(&invocation, limits, network, wrap)?;
    if let Some(path) = &args.record {
        write_journal(path, &invocation, args.deterministic, &log).map_err(|e| Failure {
            status: 1,
            error: e,
        })?;
    }
    let status = report_outcome(&invocation, report, args.json);
    match quota.filter(|q| q.reached()) {
        // The guest was told ENOSPC; it may have carried on, but the run did not do its work.
        Some(quota) => {
            eoutln!("error: {}", quota.message());
            Ok(if status == 0 { 1 } else { status })
        }
        None => Ok(status),
    }
}

/// Runs `invocation` with the host `wrap` builds around the real one;
/// `network` defines `wasi:http/requests` (whose requests go to that host).
pub(crate) fn execute(
    invocation: &Invocation,
    limits: Limits,
    network: bool,
    wrap: impl FnOnce(RealHost) -> Box<dyn Host + Send>,
) -> Result<Report, Failure> {
    let wasi = build_wasi(invocation, wrap).map_err(Failure::usage)?;
    let mut resolver = NamedModules::default();
    for (name, path) in &invocation.imports {
        resolver.add(name, path.clone());
    }
    let spec = RunSpec {
        entry: EntryModule::File(invocation.module.clone()),
        invoke: invocation.invoke.clone(),
        call_args: invocation.call_args.clone(),
        preload: invocation
            .imports
            .iter()
            .map(|(name, _)| name.clone())
            .collect(),
        resolver,
        limits,
        network,
    };
    run_module(spec, wasi).map_err(Failure::usage)
}

fn write_journal(
    path: &std::path::Path,
    invocation: &Invocation,
    deterministic: bool,
    log: &Log,
) -> anyhow::Result<()> {
    let module_hash = crate::outputs::hash::file_hash(&invocation.module)?;
    let header = Header {
        format: journal::FORMAT.to_string(),
        brine_version: env!("CARGO_PKG_VERSION").to_string(),
        invocation: journal::Invocation::WasmRun {
            // Absolute, so the hint `brine replay` prints works from any directory.
            module: std::path::absolute(&invocation.module)
                .unwrap_or_else(|_| invocation.module.clone()),
            module_hash: crate::outputs::hash::hex(&module_hash),
            argv: invocation.argv.clone(),
            env: invocation.env.clone(),
            dirs: invocation.dirs.clone(),
            imports: invocation
                .imports
                .iter()
                .map(|(n, p)| (n.clone(), p.display().to_string()))
                .collect(),
            invoke: invocation.invoke.clone(),
            call_args: invocation.call_args.clone(),
        },
        deterministic,
    };
    let entries = log.lock().map(|l| l.clone()).unwrap_or_default();
    journal::write(path, &header, &entries)
        .with_context(|| format!("cannot write the journal {}", path.display()))
}

/// Prints what happened (as one JSON line on stderr with `json`) and returns
/// the exit status.
pub(crate) fn report_outcome(invocation: &Invocation, report: Report, json: bool) -> i32 {
    if json {
        let (status, object) = outcome_json(invocation, &report);
        eoutln!("{object}");
        return status;
    }
    let trapped = matches!(report.outcome, Outcome::Trapped(_));
    let status = report_end(invocation, report.outcome);
    if let (Some(refusal), true) = (report.memory_refusal, trapped) {
        // The guest saw only -1 from memory.grow (and then aborted, as Rust's
        // allocator does): say which limit it met. A guest that exits on its own
        // has said what it wanted on stderr; brine adds nothing to that.
        eoutln!("note: the guest was refused memory: {refusal}");
    }
    status
}

fn report_end(invocation: &Invocation, outcome: Outcome) -> i32 {
    let (_, status, error) = ending(&outcome);
    if let Outcome::Returned(values) = &outcome {
        for value in values {
            outln!("{}", values::format(value));
        }
    }
    if let Some(error) = error {
        eoutln!("error: {error}");
    }
    if let Outcome::Trapped(_) = outcome {
        let function = invocation.invoke.as_deref().unwrap_or("_start");
        eoutln!(
            "  while running `{function}` of {} (wasmi records no wasm backtrace)",
            invocation.module.display()
        );
    }
    status
}

/// How a run ended: its name in `--json`, the exit status, and the error said.
fn ending(outcome: &Outcome) -> (&'static str, i32, Option<String>) {
    match outcome {
        Outcome::Exited(code) => ("exited", *code as i32, None),
        Outcome::Returned(_) => ("returned", 0, None),
        Outcome::Trapped(trap) => (
            "trapped",
            EXIT_TRAP,
            Some(format!("wasm trap: {}", trap.message)),
        ),
        Outcome::OutOfFuel { budget } => (
            "out_of_fuel",
            EXIT_TRAP,
            Some(format!(
                "out of fuel: the guest used all {budget} units given with --fuel"
            )),
        ),
        Outcome::TimedOut(limit) => (
            "timed_out",
            EXIT_TIMEOUT,
            Some(format!(
                "timed out: the guest ran longer than --timeout {limit:?} and was stopped"
            )),
        ),
    }
}

/// The exit status and the `--json` report of a finished run.
fn outcome_json(invocation: &Invocation, report: &Report) -> (i32, serde_json::Value) {
    let (outcome, status, error) = ending(&report.outcome);
    let results: Vec<String> = match &report.outcome {
        Outcome::Returned(values) => values.iter().map(values::format).collect(),
        _ => Vec::new(),
    };
    let object = serde_json::json!({
        "module": invocation.module.display().to_string(),
        "function": invocation.invoke.as_deref().unwrap_or("_start"),
        "outcome": outcome,
        "status": status,
        "results": results,
        "fuel_consumed": report.fuel_consumed,
        "memory_refused": report.memory_refusal.as_ref().map(ToString::to_string),
        "error": error,
    });
    (status, object)
}

/// The guest's world: argv, environment, preopened directories, the host.
fn build_wasi(
    invocation: &Invocation,
    wrap: impl FnOnce(RealHost) -> Box<dyn Host + Send>,
) -> anyhow::Result<WasiCtx> {
    let mut host = RealHost::new(Stdio::inherit());
    let mut preopens = Vec::new();
    for (host_path, guest) in &invocation.dirs {
        let handle = host
            .open_host_dir(&PathBuf::from(host_path))
            .with_context(|| {
                format!("--dir {host_path}::{guest}: cannot open host directory `{host_path}`")
            })?;
        preopens.push((handle, guest.clone()));
    }
    let mut wasi = WasiCtx::new(wrap(host));
    for (handle, guest) in preopens {
        wasi.preopen(handle, &guest, false);
    }
    wasi.set_args(&invocation.argv);
    wasi.set_env(&invocation.env);
    Ok(wasi)
}

/// `HOST::GUEST`, or `HOST` mapped to the same path.
pub(crate) fn split_dir(spec: &str) -> (String, String) {
    match spec.split_once("::") {
        Some((host, guest)) => (host.to_string(), guest.to_string()),
        None => (spec.to_string(), spec.to_string()),
    }
}

pub(crate) fn split_import(spec: &str) -> anyhow::Result<(String, PathBuf)> {
    match spec.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok((name.to_string(), PathBuf::from(path)))
        }
        _ => Err(anyhow!(
            "--import {spec}: expected NAME=PATH (e.g. --import lib=lib.wasm)"
        )),
    }
}

fn parse_env(specs: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    specs
        .iter()
        .map(|spec| match spec.split_once('=') {
            Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
            Some(_) => Err(anyhow!("--env {spec}: the variable name is empty")),
            None => std::env::var(spec)
                .map(|value| (spec.clone(), value))
                .map_err(|_| {
                    anyhow!("--env {spec}: no value given and `{spec}` is not set on the host")
                }),
        })
        .collect()
}
