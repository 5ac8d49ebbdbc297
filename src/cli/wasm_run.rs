//! `brine wasm run`: run one module with WASI, like `wasmtime run`.

use super::Failure;
use crate::api::wasm::{Invocation, ModuleConfig, ModuleReport};
use crate::engine::{Limits, Outcome};
use crate::host::net::policy::block_private_from_env;
use crate::host::net::Policy;
use crate::units::{parse_duration, parse_size};
use anyhow::anyhow;
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
    /// Trust the CA certificates in this PEM file too, beside the platform's store and
    /// SSL_CERT_FILE / SSL_CERT_DIR, for the guest's HTTPS requests. Repeatable.
    #[arg(long = "ca-cert", value_name = "FILE")]
    ca_cert: Vec<PathBuf>,
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
        if cfg!(not(feature = "http")) {
            return Err(Failure::usage(anyhow!(
                "--network/--allow-host: guest networking {}",
                crate::features::missing("http")
            )));
        }
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

impl Args {
    /// What to run, resolved from the arguments.
    fn invocation(&self) -> anyhow::Result<Invocation> {
        let mut argv = vec![self.module.display().to_string()];
        argv.extend(self.args.iter().cloned());
        Ok(Invocation {
            module: self.module.clone(),
            argv,
            env: parse_env(&self.env)?,
            dirs: self.dirs.iter().map(|d| split_dir(d)).collect(),
            imports: self
                .imports
                .iter()
                .map(|i| split_import(i))
                .collect::<anyhow::Result<_>>()?,
            invoke: self.invoke.clone(),
            call_args: if self.invoke.is_some() {
                self.args.clone()
            } else {
                Vec::new()
            },
        })
    }

    /// The run's configuration from the flags.
    fn module_config(&self) -> Result<ModuleConfig, Failure> {
        let invocation = self.invocation().map_err(Failure::usage)?;
        let mut config = ModuleConfig::new(&self.module);
        config.invocation = invocation;
        config.limits = Limits {
            fuel: self.fuel,
            timeout: self.timeout,
            max_memory: self.max_memory,
            deterministic: self.deterministic,
            cancel: None,
        };
        if let Some(policy) = self.network_policy()? {
            config = config.network(policy);
        }
        if self.deterministic {
            config = config.deterministic(self.seed);
        }
        if let Some(seconds) = self.epoch {
            config = config.epoch(seconds);
        }
        if let Some(bytes) = self.max_disk {
            config = config.max_disk(bytes);
        }
        if let Some(path) = &self.record {
            config = config.record(path);
        }
        Ok(config)
    }
}

/// Runs the module and returns the exit status.
pub fn run(args: Args) -> Result<i32, Failure> {
    super::run::trust_ca_files(&args.ca_cert)?;
    let config = args.module_config()?;
    let invocation = config.invocation.clone();
    let report = crate::api::wasm::run(config)?;
    let status = report_outcome(&invocation, &report, args.json);
    if let Some(message) = &report.disk_full {
        eoutln!("error: {message}");
    }
    Ok(status)
}

/// Prints what happened (as one JSON line on stderr with `json`) and returns
/// the exit status.
pub(crate) fn report_outcome(invocation: &Invocation, report: &ModuleReport, json: bool) -> i32 {
    if json {
        eoutln!("{}", outcome_json(invocation, report));
        return report.status;
    }
    for value in &report.results {
        outln!("{value}");
    }
    if let Some(error) = &report.error {
        eoutln!("error: {error}");
    }
    let outcome = report.engine_outcome();
    if let Outcome::Trapped(_) = outcome {
        let function = invocation.invoke.as_deref().unwrap_or("_start");
        eoutln!(
            "  while running `{function}` of {} (wasmi records no wasm backtrace)",
            invocation.module.display()
        );
        if let Some(refusal) = &report.memory_refused {
            // The guest saw only -1 from memory.grow (and then aborted, as Rust's
            // allocator does): say which limit it met. A guest that exits on its own
            // has said what it wanted on stderr; brine adds nothing to that.
            eoutln!("note: the guest was refused memory: {refusal}");
        }
    }
    report.status
}

/// The `--json` report of a finished run.
fn outcome_json(invocation: &Invocation, report: &ModuleReport) -> serde_json::Value {
    serde_json::json!({
        "module": invocation.module.display().to_string(),
        "function": invocation.invoke.as_deref().unwrap_or("_start"),
        "outcome": report.outcome,
        "status": report.status,
        "results": report.results,
        "fuel_consumed": report.fuel_consumed,
        "memory_refused": report.memory_refused,
        "error": report.error,
    })
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
