//! `brine wasm run`: run one module with WASI, like `wasmtime run`.

use super::{Failure, EXIT_TIMEOUT, EXIT_TRAP};
use crate::engine::resolve::NamedModules;
use crate::engine::run::{run as run_module, EntryModule, Report, RunSpec};
use crate::engine::{values, Limits, Outcome};
use crate::host::deterministic::{DeterministicHost, Settings, DEFAULT_EPOCH_NS};
use crate::host::real::{RealHost, Stdio};
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
    /// Largest linear memory the guest may have (e.g. 32MiB, 1GB); memory.grow past it fails.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<u64>,
    /// Run reproducibly: virtual clocks driven by fuel, seeded randomness, sorted
    /// directories, stable inodes and timestamps (see README, "Deterministic runs").
    #[arg(long)]
    deterministic: bool,
    /// The random seed of a deterministic run.
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
    /// The module to run (.wasm, or .wat text).
    module: PathBuf,
    /// Arguments for the guest (argv[1..]), or the --invoke function's parameters.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// Runs the module and returns the exit status.
pub fn run(args: Args) -> Result<i32, Failure> {
    let limits = Limits {
        fuel: args.fuel,
        timeout: args.timeout,
        max_memory: args.max_memory,
        deterministic: args.deterministic,
    };
    let wasi = build_wasi(&args).map_err(Failure::usage)?;
    let mut resolver = NamedModules::default();
    let mut preload = Vec::new();
    for spec in &args.imports {
        let (name, path) = split_import(spec).map_err(Failure::usage)?;
        resolver.add(&name, path);
        preload.push(name);
    }
    let spec = RunSpec {
        entry: EntryModule::File(args.module.clone()),
        invoke: args.invoke.clone(),
        call_args: if args.invoke.is_some() {
            args.args.clone()
        } else {
            Vec::new()
        },
        preload,
        resolver,
        limits,
    };
    let report = run_module(spec, wasi).map_err(Failure::usage)?;
    Ok(report_outcome(&args, report))
}

/// Prints what happened and returns the exit status.
fn report_outcome(args: &Args, report: Report) -> i32 {
    match report.outcome {
        Outcome::Exited(code) => code as i32,
        Outcome::Returned(values) => {
            for value in &values {
                outln!("{}", values::format(value));
            }
            0
        }
        Outcome::Trapped(trap) => {
            let function = args.invoke.as_deref().unwrap_or("_start");
            eoutln!("error: wasm trap: {}", trap.message);
            eoutln!(
                "  while running `{function}` of {} (wasmi records no wasm backtrace)",
                args.module.display()
            );
            EXIT_TRAP
        }
        Outcome::OutOfFuel { budget } => {
            eoutln!("error: out of fuel: the guest used all {budget} units given with --fuel");
            EXIT_TRAP
        }
        Outcome::TimedOut(limit) => {
            eoutln!(
                "error: timed out: the guest ran longer than --timeout {limit:?} and was stopped"
            );
            EXIT_TIMEOUT
        }
    }
}

/// The guest's world: argv, environment, preopened directories, real host.
fn build_wasi(args: &Args) -> anyhow::Result<WasiCtx> {
    let mut host = RealHost::new(Stdio::inherit());
    let mut preopens = Vec::new();
    for spec in &args.dirs {
        let (host_path, guest) = split_dir(spec);
        let handle = host
            .open_host_dir(&PathBuf::from(&host_path))
            .with_context(|| format!("--dir {spec}: cannot open host directory `{host_path}`"))?;
        preopens.push((handle, guest));
    }
    let host: Box<dyn Host + Send> = if args.deterministic {
        let epoch = args
            .epoch
            .map_or(DEFAULT_EPOCH_NS, |s| s.saturating_mul(1_000_000_000));
        Box::new(DeterministicHost::new(
            Box::new(host),
            Settings::from_seed(args.seed, epoch),
        ))
    } else {
        Box::new(host)
    };
    let mut wasi = WasiCtx::new(host);
    for (handle, guest) in preopens {
        wasi.preopen(handle, &guest, false);
    }
    let mut argv = vec![args.module.display().to_string()];
    argv.extend(args.args.iter().cloned());
    wasi.set_args(&argv);
    wasi.set_env(&parse_env(&args.env)?);
    Ok(wasi)
}

/// `HOST::GUEST`, or `HOST` mapped to the same path.
fn split_dir(spec: &str) -> (String, String) {
    match spec.split_once("::") {
        Some((host, guest)) => (host.to_string(), guest.to_string()),
        None => (spec.to_string(), spec.to_string()),
    }
}

fn split_import(spec: &str) -> anyhow::Result<(String, PathBuf)> {
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
