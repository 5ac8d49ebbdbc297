//! The wasmi engine: loading modules, linking WASI and import modules,
//! running an entrypoint under limits, and mapping what happened to an [`Outcome`].

pub mod budget;
pub mod call;
pub mod compiled;
pub mod describe;
pub mod link;
pub mod load;
pub mod probe;
pub mod resolve;
pub mod run;
pub mod start;
pub mod values;

pub use call::Outcome;

use crate::wasi::{WasiCtx, WasiView};
use budget::GuestBudget;
use std::time::Duration;
use wasmi::{Config, Engine, Store};

/// Errors that stop a module from running at all (nothing of the guest ran).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The module file could not be read.
    #[error("cannot read module {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The bytes are not a valid WebAssembly module.
    #[error("invalid module {module}: {message}")]
    InvalidModule {
        /// Which module.
        module: String,
        /// What is wrong and where (wasmi names the byte offset).
        message: String,
    },
    /// An import has no definition.
    #[error("{importer} imports `{module}`.`{field}` ({expected}), but {why}")]
    MissingImport {
        /// The module that imports it.
        importer: String,
        /// Import module name.
        module: String,
        /// Import field name.
        field: String,
        /// The expected type.
        expected: String,
        /// Why it cannot be satisfied.
        why: String,
    },
    /// Import modules import each other in a cycle.
    #[error("import modules form a cycle: {}", .0.join(" -> "))]
    ImportCycle(Vec<String>),
    /// Instantiation failed before any guest code ran (limits, a bad import type).
    #[error("cannot instantiate {module}: {message}")]
    Instantiate {
        /// Which module.
        module: String,
        /// Why.
        message: String,
    },
    /// The function to call is not exported.
    #[error("{module} has no exported function `{}`{}", crate::text::printable(.name), exports_hint(.exports))]
    MissingEntrypoint {
        /// Which module.
        module: String,
        /// The function asked for.
        name: String,
        /// The functions it does export.
        exports: Vec<String>,
    },
    /// The arguments given do not fit the function.
    #[error("cannot call `{name}`: {message}")]
    BadCall {
        /// The function.
        name: String,
        /// What does not fit.
        message: String,
    },
}

/// How many export names an error lists: a hostile module may export 100,000.
const LISTED_EXPORTS: usize = 20;

fn exports_hint(exports: &[String]) -> String {
    if exports.is_empty() {
        return "; it exports no functions".to_string();
    }
    let mut names: Vec<String> = exports
        .iter()
        .take(LISTED_EXPORTS)
        .map(|name| crate::text::printable(name))
        .collect();
    if exports.len() > LISTED_EXPORTS {
        names.push(format!("and {} more", exports.len() - LISTED_EXPORTS));
    }
    format!(
        "; exported functions: {} (choose one with --invoke; `brine inspect` lists them all)",
        names.join(", ")
    )
}

/// Resource limits of one run.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Total fuel the guest may use (fuel metering is on only when this or `timeout` is set).
    pub fuel: Option<u64>,
    /// Wall-clock limit of the entrypoint call.
    pub timeout: Option<Duration>,
    /// Bytes all of the guest's linear memories and tables may hold together
    /// (default: 4 GiB, all of one wasm32 memory).
    pub max_memory: Option<u64>,
    /// Reproducible execution: fuel always metered (and so compiled eagerly), so the
    /// fuel used (and the virtual clock that runs on it) is the same on every run.
    pub deterministic: bool,
    /// Stops the run when cancelled (checked where the deadline is: the call then
    /// runs in fuel slices even without a timeout).
    pub cancel: Option<crate::cancel::CancelToken>,
}

impl Limits {
    /// Whether the run needs fuel metering (which costs 13–30% on hot loops).
    pub fn metered(&self) -> bool {
        self.fuel.is_some() || self.timeout.is_some() || self.deterministic || self.cancel.is_some()
    }

    /// The memory limit in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.max_memory.unwrap_or(DEFAULT_MAX_MEMORY)
    }
}

/// 4 GiB: every byte a wasm32 memory can address.
pub const DEFAULT_MAX_MEMORY: u64 = 4 << 30;

/// What a wasmi store holds for brine: the WASI context and the resource limits.
pub struct StoreData {
    /// The guest's WASI world.
    pub wasi: WasiCtx,
    /// The memory budget of all memories and tables, and the instance limits.
    pub budget: GuestBudget,
}

impl WasiView for StoreData {
    fn wasi(&mut self) -> &mut WasiCtx {
        &mut self.wasi
    }
}

/// A wasmi engine configured for brine: fuel when `limits` need it, and a
/// recursion limit high enough for real programs that still traps cleanly.
pub fn new_engine(limits: &Limits) -> Engine {
    let mut config = Config::default();
    if limits.metered() {
        // Lazy compilation charges a function's translation to the fuel of its first
        // call: that makes fuel totals differ between runs, and a large function's
        // translation can need more than one timeout slice, which wasmi reports as
        // an unresumable out-of-fuel error. Eager compilation charges nothing at run time.
        config.compilation_mode(wasmi::CompilationMode::Eager);
    }
    config
        .consume_fuel(limits.metered())
        // wasmi's default depth (1000) is too shallow for recursive real programs;
        // wasm calls don't use the native stack, so a deep limit cannot crash the host.
        .set_max_recursion_depth(100_000)
        .set_max_stack_height(256 << 20);
    Engine::new(&config)
}

/// A store over `wasi` with `limits` installed (wasmi then refuses memory and
/// tables past the budget).
pub fn new_store(engine: &Engine, wasi: WasiCtx, limits: &Limits) -> Store<StoreData> {
    let mut store = Store::new(
        engine,
        StoreData {
            wasi,
            budget: GuestBudget::new(limits.memory_bytes()),
        },
    );
    store.limiter(|data| &mut data.budget);
    if limits.metered() {
        // The whole budget (or unlimited fuel when only a timeout is set); a call
        // under a deadline then feeds it to the guest in slices.
        let fuel = limits.fuel.unwrap_or(u64::MAX);
        // Fuel is enabled on this engine, so this cannot fail.
        let _ = store.set_fuel(fuel);
        store.data_mut().wasi.fuel_budget = Some(fuel);
    }
    store
}
