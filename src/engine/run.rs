//! One run, start to end: compile the entry module, instantiate its import
//! modules and itself, find the function, call it under the limits.

use super::budget::Refusal;
use super::call::{call, CallLimits, Outcome};
use super::link::{InstantiateError, Instantiator, ModuleResolver};
use super::start::DEFERRED_START;
use super::{load, new_engine, new_store, values, EngineError, Limits};
use crate::wasi::WasiCtx;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wasmi::{ExternType, Func, Instance, Module, Store, Val};

/// The function a run calls when none is named: WASI's command entrypoint.
pub const DEFAULT_ENTRYPOINT: &str = "_start";

/// Where the entry module comes from.
#[derive(Debug, Clone)]
pub enum EntryModule {
    /// A file on the host.
    File(PathBuf),
    /// A name the run's `ModuleResolver` resolves (a guest path in a job).
    Named(String),
}

/// What to run.
pub struct RunSpec<R: ModuleResolver> {
    /// The entry module.
    pub entry: EntryModule,
    /// The function to call (`None`: `_start`).
    pub invoke: Option<String>,
    /// Arguments for the function's parameters, as text.
    pub call_args: Vec<String>,
    /// Import modules to instantiate before the entry module, in this order.
    pub preload: Vec<String>,
    /// Where import modules come from.
    pub resolver: R,
    /// Fuel, time and memory limits.
    pub limits: Limits,
    /// Define `wasi:http/requests` (the guest's HTTP goes through the WASI context's host).
    pub network: bool,
}

/// What a run did.
#[derive(Debug)]
pub struct Report {
    /// How it ended.
    pub outcome: Outcome,
    /// Fuel used, when metering was on.
    pub fuel_consumed: Option<u64>,
    /// The latest memory or table growth the memory budget refused (the guest
    /// saw `memory.grow`/`table.grow` return -1), to explain a failure.
    pub memory_refusal: Option<Refusal>,
}

/// Runs `spec` with the guest world `wasi`. An `Err` means nothing of the entrypoint ran.
pub fn run<R: ModuleResolver>(
    mut spec: RunSpec<R>,
    mut wasi: WasiCtx,
) -> Result<Report, EngineError> {
    let deadline = spec.limits.timeout.and_then(deadline_after);
    wasi.set_deadline(deadline.map(|(at, _)| at));
    wasi.set_cancel(spec.limits.cancel.clone());
    let engine = spec
        .resolver
        .engine_for(&spec.limits)
        .unwrap_or_else(|| new_engine(&spec.limits));
    let (display, module) = load_entry(&engine, &spec.entry, &mut spec.resolver)?;
    let name = spec
        .invoke
        .clone()
        .unwrap_or_else(|| DEFAULT_ENTRYPOINT.to_string());
    let func_type = find_function_type(&module, &display, &name)?;
    let params = parse_params(&name, func_type.params(), &spec.call_args)?;
    let mut store = new_store(&engine, wasi, &spec.limits);
    let limits = CallLimits {
        fuel: spec.limits.fuel,
        deadline,
        cancel: spec.limits.cancel.clone(),
    };
    let mut instantiator = Instantiator::new(&engine, spec.resolver, limits.clone())?;
    if spec.network {
        instantiator.enable_network()?;
    }
    let instance = match instantiate_all(
        &mut instantiator,
        &mut store,
        &spec.preload,
        &display,
        &module,
    ) {
        Ok(instance) => instance,
        Err(InstantiateError::Engine(e)) => return Err(e),
        Err(InstantiateError::Guest(outcome)) => {
            return Ok(finish(&mut store, outcome, &spec.limits))
        }
    };
    if name != DEFAULT_ENTRYPOINT {
        // A reactor initializes itself before any export is called, as in wasmtime.
        if let Some(init) = instance.get_func(&store, "_initialize") {
            let outcome = call(&mut store, init, &[], &limits);
            if !matches!(outcome, Outcome::Returned(_)) {
                return Ok(finish(&mut store, outcome, &spec.limits));
            }
        }
    }
    let func = exported_func(&instance, &store, &module, &display, &name)?;
    let outcome = call(&mut store, func, &params, &limits);
    Ok(finish(&mut store, outcome, &spec.limits))
}

/// When a run started now must stop, with its timeout; `None` when that instant
/// is too far away to represent (`--timeout 9223372036854775807s`): such a
/// timeout cannot pass, so the run has no deadline.
fn deadline_after(timeout: Duration) -> Option<(Instant, Duration)> {
    Instant::now()
        .checked_add(timeout)
        .map(|deadline| (deadline, timeout))
}

fn load_entry<R: ModuleResolver>(
    engine: &wasmi::Engine,
    entry: &EntryModule,
    resolver: &mut R,
) -> Result<(String, Module), EngineError> {
    match entry {
        EntryModule::File(path) => Ok((path.display().to_string(), load::load_file(engine, path)?)),
        EntryModule::Named(name) => {
            resolver
                .resolve(engine, name)?
                .ok_or_else(|| EngineError::Read {
                    path: name.clone(),
                    error: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        resolver.unknown_hint(name),
                    ),
                })
        }
    }
}

fn instantiate_all<R: ModuleResolver>(
    instantiator: &mut Instantiator<R>,
    store: &mut Store<super::StoreData>,
    preload: &[String],
    display: &str,
    module: &Module,
) -> Result<Instance, InstantiateError> {
    for name in preload {
        instantiator.instantiate_named(store, name)?;
    }
    instantiator.instantiate(store, display, module)
}

/// Flushes the guest's output and reports fuel.
fn finish(store: &mut Store<super::StoreData>, outcome: Outcome, limits: &Limits) -> Report {
    // Output the guest wrote is kept even when flushing fails at the very end.
    let _ = store.data_mut().wasi.host.flush();
    let fuel_consumed = if limits.metered() {
        let left = store.get_fuel().unwrap_or(0);
        store.data().wasi.fuel_consumed(left)
    } else {
        None
    };
    Report {
        outcome,
        fuel_consumed,
        memory_refusal: store.data().budget.refusal(),
    }
}

/// The type of exported function `name`, or an error listing what is exported.
fn find_function_type(
    module: &Module,
    display: &str,
    name: &str,
) -> Result<wasmi::FuncType, EngineError> {
    match module.get_export(name) {
        Some(ExternType::Func(ty)) if name != DEFERRED_START => Ok(ty),
        _ => Err(missing_entrypoint(module, display, name)),
    }
}

fn exported_func(
    instance: &Instance,
    store: &Store<super::StoreData>,
    module: &Module,
    display: &str,
    name: &str,
) -> Result<Func, EngineError> {
    instance
        .get_func(store, name)
        .ok_or_else(|| missing_entrypoint(module, display, name))
}

fn missing_entrypoint(module: &Module, display: &str, name: &str) -> EngineError {
    let exports = module
        .exports()
        .filter(|e| matches!(e.ty(), ExternType::Func(_)) && e.name() != DEFERRED_START)
        .map(|e| e.name().to_string())
        .collect();
    EngineError::MissingEntrypoint {
        module: display.to_string(),
        name: name.to_string(),
        exports,
    }
}

fn parse_params(
    name: &str,
    types: &[wasmi::ValType],
    args: &[String],
) -> Result<Vec<Val>, EngineError> {
    let bad = |message: String| EngineError::BadCall {
        name: name.to_string(),
        message,
    };
    if types.len() != args.len() {
        return Err(bad(format!(
            "it takes {} argument(s), {} given",
            types.len(),
            args.len()
        )));
    }
    types
        .iter()
        .zip(args)
        .map(|(&ty, text)| values::parse(ty, text).map_err(|e| bad(e.to_string())))
        .collect()
}
