//! Running one WebAssembly module on the WASI host, as `brine wasm run` does:
//! its argv, environment, host directories, import modules and limits.

use super::Error;
use crate::cancel::CancelToken;
use crate::engine::resolve::NamedModules;
use crate::engine::run::{run as run_module, EntryModule, Report, RunSpec};
use crate::engine::{values, Limits, Outcome};
use crate::host::deterministic::{Settings, DEFAULT_EPOCH_NS};
use crate::host::journal::{self, Header};
use crate::host::net::Policy;
use crate::host::quota::DiskQuota;
use crate::host::real::{RealHost, Stdio};
use crate::host::recording::Log;
use crate::host::stack::{self, Journaling};
use crate::host::Host;
use crate::wasi::WasiCtx;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The exit status of a run a trap ended (as wasmtime's).
pub const EXIT_TRAP: i32 = 134;
/// The exit status of a run stopped at its timeout (as `timeout(1)`'s).
pub const EXIT_TIMEOUT: i32 = 124;
/// The exit status of a run stopped by its [`CancelToken`] (as SIGINT's).
pub const EXIT_CANCELLED: i32 = 130;

/// What a module run runs, resolved (and what a journal records).
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

/// One module to run and how: argv, environment, directories, import
/// modules, limits, network, determinism, where its output goes.
///
/// ```
/// let config = brine::wasm::ModuleConfig::new("fixtures/args.wasm")
///     .arg("one")
///     .env("GREETING", "hello")
///     .dir("fixtures/inputs", "/data")
///     .fuel(10_000_000);
/// # let _ = config;
/// ```
pub struct ModuleConfig {
    pub(crate) invocation: Invocation,
    pub(crate) limits: Limits,
    pub(crate) network: Option<Policy>,
    pub(crate) deterministic: Option<(u64, Option<u64>)>,
    pub(crate) max_disk: Option<u64>,
    pub(crate) record: Option<PathBuf>,
    pub(crate) stdio: Option<Stdio>,
}

impl ModuleConfig {
    /// Runs `module` (a `.wasm` file, or `.wat` text) with argv `[module]`,
    /// no environment, no directories, no network, no limits but 4 GiB of
    /// memory, and this process's stdin, stdout and stderr.
    pub fn new(module: impl Into<PathBuf>) -> Self {
        let module = module.into();
        ModuleConfig {
            invocation: Invocation {
                argv: vec![module.display().to_string()],
                module,
                env: Vec::new(),
                dirs: Vec::new(),
                imports: Vec::new(),
                invoke: None,
                call_args: Vec::new(),
            },
            limits: Limits::default(),
            network: None,
            deterministic: None,
            max_disk: None,
            record: None,
            stdio: None,
        }
    }

    /// Appends one argument (`argv[1..]`).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.invocation.argv.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.invocation
            .argv
            .extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the guest.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.invocation.env.push((name.into(), value.into()));
        self
    }

    /// Gives the guest the host directory `host` at guest path `guest`
    /// (through cap-std: nothing outside it is reachable).
    pub fn dir(mut self, host: impl AsRef<Path>, guest: impl Into<String>) -> Self {
        let host = host.as_ref().display().to_string();
        self.invocation.dirs.push((host, guest.into()));
        self
    }

    /// Instantiates the module at `path` first and provides its exports as
    /// import module `name`.
    pub fn import(mut self, name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.invocation.imports.push((name.into(), path.into()));
        self
    }

    /// Calls the exported `function` with `args` (parsed for its parameter
    /// types) instead of `_start`.
    pub fn invoke<S: Into<String>>(
        mut self,
        function: impl Into<String>,
        args: impl IntoIterator<Item = S>,
    ) -> Self {
        self.invocation.invoke = Some(function.into());
        self.invocation.call_args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Stops the guest after this many units of fuel (about one per instruction).
    pub fn fuel(mut self, units: u64) -> Self {
        self.limits.fuel = Some(units);
        self
    }

    /// Stops the guest after this much wall-clock time.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.limits.timeout = Some(timeout);
        self
    }

    /// The bytes all the guest's memories and tables may hold together.
    pub fn max_memory(mut self, bytes: u64) -> Self {
        self.limits.max_memory = Some(bytes);
        self
    }

    /// Caps how much the guest's writes may grow files in its directories;
    /// past it writes get ENOSPC and the run fails.
    pub fn max_disk(mut self, bytes: u64) -> Self {
        self.max_disk = Some(bytes);
        self
    }

    /// Gives the guest Bacalhau's `wasi:http/requests` under `policy`
    /// ([`Policy::any`], [`Policy::domains`]); none by default. A build
    /// without the `http` cargo feature has no HTTP client: [`run`] refuses
    /// a config with a network.
    pub fn network(mut self, policy: Policy) -> Self {
        self.network = Some(policy);
        self
    }

    /// Runs reproducibly with this random seed (virtual clocks on fuel,
    /// sorted directories, stable inodes); a deterministic run has no network.
    pub fn deterministic(mut self, seed: u64) -> Self {
        self.limits.deterministic = true;
        self.deterministic = Some((seed, self.deterministic.and_then(|(_, e)| e)));
        self
    }

    /// The realtime clock at the start of a deterministic run, seconds since the Unix epoch.
    pub fn epoch(mut self, seconds: u64) -> Self {
        let seed = self.deterministic.map_or(0, |(seed, _)| seed);
        self.limits.deterministic = true;
        self.deterministic = Some((seed, Some(seconds)));
        self
    }

    /// Stops the run when `token` is cancelled (within a fuel slice, or as a sleep is cut short).
    pub fn cancel(mut self, token: CancelToken) -> Self {
        self.limits.cancel = Some(token);
        self
    }

    /// Journals every answer the host gives the guest to `path`, for `brine replay`.
    pub fn record(mut self, path: impl Into<PathBuf>) -> Self {
        self.record = Some(path.into());
        self
    }

    /// Where the guest's stdout and stderr go (its stdin is then empty),
    /// instead of this process's own streams.
    pub fn output(
        mut self,
        stdout: impl Write + Send + 'static,
        stderr: impl Write + Send + 'static,
    ) -> Self {
        self.stdio = Some(Stdio {
            stdin: Box::new(std::io::empty()),
            stdout: Box::new(stdout),
            stderr: Box::new(stderr),
            terminals: [false; 3],
        });
        self
    }
}

/// How a module run ended.
#[derive(Debug)]
pub struct ModuleReport {
    pub(crate) report: Report,
    /// The exit status `brine wasm run` exits with: the guest's exit code, 0
    /// for a return, [`EXIT_TRAP`] for a trap or fuel, [`EXIT_TIMEOUT`],
    /// [`EXIT_CANCELLED`]; at least 1 when the disk cap was reached.
    pub status: i32,
    /// How it ended: `exited`, `returned`, `trapped`, `out_of_fuel`, `timed_out` or `cancelled`.
    pub outcome: &'static str,
    /// What went wrong, in one line, when it did not exit or return.
    pub error: Option<String>,
    /// What an `invoke`d function returned, as text.
    pub results: Vec<String>,
    /// Fuel used, when metering was on.
    pub fuel_consumed: Option<u64>,
    /// The memory growth the limit refused, if any (the guest saw -1).
    pub memory_refused: Option<String>,
    /// What the disk cap said when the guest reached it.
    pub disk_full: Option<String>,
}

/// Runs one module as `config` says; an error means nothing of it ran (it
/// could not be read, is invalid, lacks an import or the function).
///
/// ```
/// let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
/// # #[derive(Clone)] struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
/// # impl std::io::Write for Shared {
/// #     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().extend_from_slice(b); Ok(b.len()) }
/// #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// # }
/// let config = brine::wasm::ModuleConfig::new("fixtures/exit_code.wasm")
///     .env("EXIT_CODE", "3")
///     .output(Shared(out.clone()), std::io::sink());
/// let report = brine::wasm::run(config)?;
/// assert_eq!((report.outcome, report.status), ("exited", 3));
/// # Ok::<(), brine::Error>(())
/// ```
pub fn run(config: ModuleConfig) -> Result<ModuleReport, Error> {
    let network = match config.network {
        Some(_) if config.deterministic.is_some() => {
            return Err(Error::Refused(
                "deterministic runs have no network (its answers are not reproducible): \
                 record the run and replay it exactly instead"
                    .to_string(),
            ))
        }
        Some(_) if cfg!(not(feature = "http")) => {
            return Err(Error::Refused(format!(
                "guest networking (ModuleConfig::network) {}",
                crate::features::missing("http")
            )))
        }
        network => network,
    };
    let log = Log::default();
    let quota = config
        .max_disk
        .map(|limit| DiskQuota::new(limit, "--max-disk"));
    let deterministic = config.deterministic.map(|(seed, epoch)| {
        let epoch = epoch.map_or(DEFAULT_EPOCH_NS, |s| s.saturating_mul(1_000_000_000));
        Settings::from_seed(seed, epoch)
    });
    let journal = match config.record {
        Some(_) => Journaling::Record(log.clone()),
        None => Journaling::Off,
    };
    let has_network = network.is_some();
    let cancel = config.limits.cancel.clone();
    let wrap = |mut real: RealHost| -> Box<dyn Host + Send> {
        if let Some(quota) = &quota {
            real.set_disk_quota(quota.clone());
        }
        if let Some(policy) = network {
            real.set_network(policy);
        }
        real.set_cancel(cancel);
        stack::assemble(real, deterministic, journal)
    };
    let stdio = config.stdio.unwrap_or_else(Stdio::inherit);
    let invocation = &config.invocation;
    let report = execute(invocation, config.limits, has_network, stdio, wrap)?;
    if let Some(path) = &config.record {
        write_journal(path, invocation, config.deterministic.is_some(), &log)?;
    }
    let mut summary = ModuleReport::of(report);
    if let Some(quota) = quota.filter(|q| q.reached()) {
        // The guest was told ENOSPC; it may have carried on, but the run did not do its work.
        summary.disk_full = Some(quota.message());
        if summary.status == 0 {
            summary.status = 1;
        }
    }
    Ok(summary)
}

impl ModuleReport {
    /// The report of an engine run.
    pub(crate) fn of(report: Report) -> Self {
        let (outcome, status, error) = ending(&report.outcome);
        let results = match &report.outcome {
            Outcome::Returned(values) => values.iter().map(values::format).collect(),
            _ => Vec::new(),
        };
        ModuleReport {
            status,
            outcome,
            error,
            results,
            fuel_consumed: report.fuel_consumed,
            memory_refused: report.memory_refusal.as_ref().map(ToString::to_string),
            disk_full: None,
            report,
        }
    }

    /// The engine's outcome, for the command line's messages.
    pub(crate) fn engine_outcome(&self) -> &Outcome {
        &self.report.outcome
    }
}

/// How a run ended: its name, the exit status, and the error said.
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
        Outcome::Cancelled => (
            "cancelled",
            EXIT_CANCELLED,
            Some("cancelled: the run's cancellation token stopped the guest".to_string()),
        ),
    }
}

/// Runs `invocation` over `stdio` with the host `wrap` builds around the
/// real one; `network` defines `wasi:http/requests` (whose requests go to that host).
pub(crate) fn execute(
    invocation: &Invocation,
    limits: Limits,
    network: bool,
    stdio: Stdio,
    wrap: impl FnOnce(RealHost) -> Box<dyn Host + Send>,
) -> Result<Report, Error> {
    let wasi = build_wasi(invocation, stdio, wrap)?;
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
    run_module(spec, wasi).map_err(Error::refused)
}

/// The guest's world: argv, environment, preopened directories, the host.
fn build_wasi(
    invocation: &Invocation,
    stdio: Stdio,
    wrap: impl FnOnce(RealHost) -> Box<dyn Host + Send>,
) -> Result<WasiCtx, Error> {
    let mut host = RealHost::new(stdio);
    let mut preopens = Vec::new();
    for (host_path, guest) in &invocation.dirs {
        let handle = host.open_host_dir(&PathBuf::from(host_path)).map_err(|e| {
            Error::Refused(format!(
                "--dir {host_path}::{guest}: cannot open host directory `{host_path}`: {e}"
            ))
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

/// Writes the journal of a recorded module run.
fn write_journal(
    path: &Path,
    invocation: &Invocation,
    deterministic: bool,
    log: &Log,
) -> Result<(), Error> {
    let cannot = |e: &dyn std::fmt::Display| {
        Error::Failed(format!("cannot write the journal {}: {e}", path.display()))
    };
    let module_hash =
        crate::outputs::hash::file_hash(&invocation.module).map_err(|e| cannot(&e))?;
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
    journal::write(path, &header, &entries).map_err(|e| cannot(&e))
}
