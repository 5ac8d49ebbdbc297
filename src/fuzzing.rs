//! Entry points for brine's fuzz targets (`fuzz/`, README "Fuzzing"): each one
//! a thin door onto the code a command runs on untrusted input, so a target
//! drives brine itself and never a copy of it. Not a stable API: these exist
//! only because the rooms they open are private.
#![doc(hidden)]

use crate::engine::link::ModuleResolver;
use crate::engine::run::{run, EntryModule, RunSpec, DEFAULT_ENTRYPOINT};
use crate::engine::start::DEFERRED_START;
use crate::engine::{load, new_engine, EngineError, Limits, Outcome};
use crate::host::deterministic::{Settings, DEFAULT_EPOCH_NS};
use crate::host::journal::Entry;
use crate::host::real::{MountSpec, RealHost, Stdio};
use crate::host::stack::{self, Journaling};
use crate::inputs::deadline::TimeBudget;
use crate::inputs::inline::Inline;
use crate::inputs::{InputSource, SourceError, StageArea};
use crate::job::plan::PlanError;
use crate::job::receipt::Receipt;
use crate::spec::{Job, SpecErrors};
use crate::wasi::WasiCtx;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmi::{Engine, ExternType, Module};

// Planning, the job hash and the job model the `job` and `receipt` targets
// drive; every WASI preview1 import with its signature (`i` i32, `I` i64;
// results after the space), the table the `wasi` target builds its guests from.
pub use crate::job::job_hash;
pub use crate::job::plan::{plan, PlanOptions};
pub use crate::spec::Job as SpecJob;
pub use crate::wasi::PREVIEW1;

/// The guest path the fuzzed entry module goes by (as a job's modules do).
pub const ENTRY_NAME: &str = "/fuzz.wasm";

/// How one fuzzed module runs: its limits and the guest's world.
#[derive(Debug, Clone, Default)]
pub struct ModuleRun {
    /// Fuel, wall-clock and memory limits (set all three: a fuzzed guest may loop forever).
    pub limits: Limits,
    /// The mount tree the guest sees at its one preopen `/`.
    pub mounts: Vec<MountSpec>,
    /// Run on the deterministic host (virtual clocks, seeded randomness).
    pub deterministic: bool,
    /// Serve these journal entries back, as `brine replay` does.
    pub replay: Option<Vec<Entry>>,
    /// What the guest reads on stdin.
    pub stdin: Vec<u8>,
}

/// A mount for [`ModuleRun::mounts`]: host directory or file `host` at guest path `guest`.
pub fn mount(guest: &str, host: PathBuf, read_only: bool) -> MountSpec {
    MountSpec {
        guest: guest.to_string(),
        host,
        read_only,
    }
}

/// Serves the fuzzed bytes as the one module [`ENTRY_NAME`], compiled exactly
/// as a job's modules are (start function deferred, text accepted).
struct FuzzedModule<'a> {
    bytes: &'a [u8],
}

impl ModuleResolver for FuzzedModule<'_> {
    fn resolve(
        &mut self,
        engine: &Engine,
        name: &str,
    ) -> Result<Option<(String, Module)>, EngineError> {
        if name != ENTRY_NAME {
            return Ok(None);
        }
        let module = load::compile_to_run(engine, self.bytes, name)?;
        Ok(Some((name.to_string(), module)))
    }

    fn knows(&self, name: &str) -> bool {
        name == ENTRY_NAME
    }

    fn unknown_hint(&self, name: &str) -> String {
        format!("the fuzzed run has no module `{name}`")
    }
}

/// The exported functions of `bytes` that take no arguments (what a fuzzed
/// run may call), in export order, as `brine wasm run --invoke` would see them.
pub fn zero_arg_exports(bytes: &[u8]) -> Result<Vec<String>, EngineError> {
    let module = load::compile_to_run(&new_engine(&Limits::default()), bytes, ENTRY_NAME)?;
    Ok(module
        .exports()
        .filter(|e| e.name() != DEFERRED_START)
        .filter(|e| matches!(e.ty(), ExternType::Func(f) if f.params().is_empty()))
        .map(|e| e.name().to_string())
        .collect())
}

/// Loads, links, instantiates `bytes` and calls `invoke` (`None`: `_start`)
/// through [`crate::engine::run::run`], with WASI over `how.mounts`.
pub fn run_module(
    bytes: &[u8],
    invoke: Option<&str>,
    how: &ModuleRun,
) -> Result<Outcome, EngineError> {
    let wasi = guest_world(how).map_err(|error| EngineError::Read {
        path: "the fuzz mount tree".to_string(),
        error,
    })?;
    let spec = RunSpec {
        entry: EntryModule::Named(ENTRY_NAME.to_string()),
        invoke: invoke
            .filter(|name| *name != DEFAULT_ENTRYPOINT)
            .map(str::to_string),
        call_args: Vec::new(),
        preload: Vec::new(),
        resolver: FuzzedModule { bytes },
        limits: how.limits.clone(),
        network: false,
    };
    run(spec, wasi).map(|report| report.outcome)
}

/// The guest's world as a job run builds it: one preopen `/` over the mount
/// tree, output discarded, the host stack `how` asks for.
fn guest_world(how: &ModuleRun) -> std::io::Result<WasiCtx> {
    let mut real = RealHost::new(Stdio {
        stdin: Box::new(std::io::Cursor::new(how.stdin.clone())),
        stdout: Box::new(std::io::sink()),
        stderr: Box::new(std::io::sink()),
        terminals: [false; 3],
    });
    let root = real.mount_tree(&how.mounts)?;
    let deterministic = how
        .deterministic
        .then(|| Settings::from_seed(0, DEFAULT_EPOCH_NS));
    let journal = match &how.replay {
        Some(entries) => Journaling::Replay(Arc::new(entries.clone()), Arc::new(Mutex::new(None))),
        None => Journaling::Off,
    };
    let mut wasi = WasiCtx::new(stack::assemble(real, deterministic, journal));
    wasi.preopen(root, "/", false);
    wasi.set_args(&["fuzz"]);
    wasi.set_env::<&str, &str>(&[]);
    Ok(wasi)
}

/// `brine inspect --json` on `bytes`: the report's JSON, or the error it prints.
pub fn inspect(bytes: &[u8]) -> Result<String, String> {
    let report =
        crate::cli::inspect::describe(bytes, ENTRY_NAME).map_err(|f| f.error.to_string())?;
    serde_json::to_string(&report).map_err(|e| e.to_string())
}

/// Parses, normalizes and validates job file text (named `file` in errors),
/// as `brine validate` and `brine run` do after reading the file.
pub fn parse_job(text: &str, file: &Path) -> Result<Job, SpecErrors> {
    crate::spec::parse(text, file)
}

/// What checking a receipt against itself found (see [`verify_receipt`]).
#[derive(Debug)]
pub struct ReceiptCheck {
    /// `brine verify`'s first difference between the receipt and itself (must be `None`).
    pub self_difference: Option<String>,
    /// How many receipts `brine verify --receipts` counts in the majority of two copies.
    pub majority: usize,
    /// The re-run `brine verify` would plan for `job`: executions, or why not.
    pub planned: Result<usize, String>,
}

/// What `brine verify` does with a receipt before it re-runs anything:
/// compares it with itself, takes the consensus of two copies, and plans the
/// re-run of `job` with the receipt's deterministic settings.
pub fn verify_receipt(receipt: &Receipt, job: &Job) -> ReceiptCheck {
    let two = [receipt.clone(), receipt.clone()];
    let planned = crate::api::verify::rerun_options(receipt)
        .map_err(|e| e.to_string())
        .and_then(|options| {
            plan(job, &options)
                .map(|executions| executions.len())
                .map_err(|e: PlanError| e.to_string())
        });
    ReceiptCheck {
        self_difference: crate::job::verify::first_difference(receipt, receipt),
        majority: crate::job::verify::consensus(&two).majority.len(),
        planned,
    }
}

/// Stages an inline `data:` URL input (plain body, or a tar.gz extracted) into
/// the stage area `area`, under a staging deadline of `timeout`, as a job's
/// inline input is; returns the staged host path.
pub fn stage_inline(url: &str, area: &Path, timeout: Duration) -> Result<PathBuf, SourceError> {
    let area =
        StageArea::new(area.to_path_buf()).with_deadline(TimeBudget::Staging(timeout).start());
    let source = Inline {
        url: url.to_string(),
    };
    source
        .stage(&area, 0, "/inputs")
        .map(|staged| staged.host_path)
}
