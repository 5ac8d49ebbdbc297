//! The import-module graph: instantiate each module once, its dependencies
//! first (depth first), register its exports under its name, detect cycles.
//!
//! Which names are modules is up to a [`ModuleResolver`]: `brine wasm run`
//! resolves the names given with `--import NAME=PATH`; a job resolves paths
//! in its mount tree, as Bacalhau's loader does. The host modules are WASI
//! preview1, always, and `wasi:http/requests` when the run's network is enabled
//! ([`Instantiator::enable_network`]).

use super::budget::Refusal;
use super::call::{call, classify_error, CallLimits, Outcome};
use super::describe::extern_type;
use super::start::DEFERRED_START;
use super::{EngineError, StoreData};
use crate::{wasi, wasi_http};
use std::collections::HashMap;
use wasmi::errors::{ErrorKind, InstantiationError, LinkerError, MemoryError, TableError};
use wasmi::{Engine, Instance, Linker, Module, Store};

/// Finds import modules by name.
pub trait ModuleResolver {
    /// The module registered as `name`, compiled, with the name to show in
    /// messages; `Ok(None)` when `name` is not a module this resolver knows.
    fn resolve(
        &mut self,
        engine: &Engine,
        name: &str,
    ) -> Result<Option<(String, Module)>, EngineError>;

    /// The one spelling of `name` that identifies its module (default: `name` itself).
    fn canonical(&self, name: &str) -> String {
        name.to_string()
    }

    /// Whether `name` is a module this resolver can provide (without compiling it).
    fn knows(&self, name: &str) -> bool;

    /// A hint for an import from a module nobody knows (what the user can do).
    fn unknown_hint(&self, name: &str) -> String;

    /// The engine a run under `limits` should compile with, when the resolver
    /// holds modules compiled already (default: none, the run makes its own).
    fn engine_for(&self, _limits: &super::Limits) -> Option<wasmi::Engine> {
        None
    }
}

/// Defines the host modules of a run in `linker`: WASI preview1, and
/// `wasi:http/requests` when `network` (the one place both are registered,
/// shared by runs and by the checks made before them).
pub fn define_host_modules(
    linker: &mut Linker<StoreData>,
    network: bool,
) -> Result<(), EngineError> {
    wasi::add_to_linker(linker).map_err(|e| EngineError::Instantiate {
        module: wasi::MODULE.to_string(),
        message: e.to_string(),
    })?;
    if network {
        define_http(linker)?;
    }
    Ok(())
}

/// Defines `wasi:http/requests` in `linker`.
fn define_http(linker: &mut Linker<StoreData>) -> Result<(), EngineError> {
    wasi_http::add_to_linker(linker).map_err(|e| EngineError::Instantiate {
        module: wasi_http::MODULE.to_string(),
        message: e.to_string(),
    })
}

/// Why a module could not be instantiated.
#[derive(Debug)]
pub enum InstantiateError {
    /// Setup failed; no guest code ran.
    Engine(EngineError),
    /// A start function ran and trapped or exited.
    Guest(Outcome),
}

impl From<EngineError> for InstantiateError {
    fn from(e: EngineError) -> Self {
        InstantiateError::Engine(e)
    }
}

/// Instantiates modules and their import modules into one store.
pub struct Instantiator<R: ModuleResolver> {
    linker: Linker<StoreData>,
    resolver: R,
    done: HashMap<String, Instance>,
    /// Every module name registered in the linker.
    registered: Vec<String>,
    /// The chain of modules being instantiated, for cycle reports.
    stack: Vec<String>,
    /// Whether `wasi:http/requests` is defined in the linker.
    network: bool,
    /// The limits start functions run under (the run's own).
    limits: CallLimits,
}

impl<R: ModuleResolver> Instantiator<R> {
    /// An instantiator whose linker already defines WASI preview1; start
    /// functions run under `limits`.
    pub fn new(engine: &Engine, resolver: R, limits: CallLimits) -> Result<Self, EngineError> {
        let mut linker = Linker::new(engine);
        define_host_modules(&mut linker, false)?;
        Ok(Instantiator {
            linker,
            resolver,
            done: HashMap::new(),
            registered: Vec::new(),
            stack: Vec::new(),
            network: false,
            limits,
        })
    }

    /// Defines `wasi:http/requests` (guest HTTP through the host) in the linker.
    /// Without it, a module importing it fails to instantiate, as in Bacalhau
    /// with `Network.Type: None`.
    pub fn enable_network(&mut self) -> Result<(), EngineError> {
        if self.network {
            return Ok(());
        }
        define_http(&mut self.linker)?;
        self.network = true;
        Ok(())
    }

    /// Whether `name` is a module the linker defines itself.
    fn is_host_module(&self, name: &str) -> bool {
        name == wasi::MODULE || (self.network && name == wasi_http::MODULE)
    }

    /// Instantiates the import module registered as `name` (once) and registers its exports.
    pub fn instantiate_named(
        &mut self,
        store: &mut Store<StoreData>,
        name: &str,
    ) -> Result<Instance, InstantiateError> {
        let key = self.resolver.canonical(name);
        if let Some(&instance) = self.done.get(&key) {
            self.register(store, name, instance)?;
            return Ok(instance);
        }
        if let Some(at) = self.stack.iter().position(|n| *n == key) {
            let mut cycle = self.stack[at..].to_vec();
            cycle.push(key);
            return Err(EngineError::ImportCycle(cycle).into());
        }
        let engine = store.engine().clone();
        let Some((display, module)) = self.resolver.resolve(&engine, name)? else {
            return Err(EngineError::Instantiate {
                module: name.to_string(),
                message: self.resolver.unknown_hint(name),
            }
            .into());
        };
        self.stack.push(key.clone());
        let result = self.instantiate(store, &display, &module);
        self.stack.pop();
        let instance = result?;
        self.register(store, name, instance)?;
        self.done.insert(key, instance);
        Ok(instance)
    }

    /// Makes `instance`'s exports importable as module `name` (once per spelling:
    /// `/input.wasm` and `input.wasm` are the same module under two names).
    fn register(
        &mut self,
        store: &mut Store<StoreData>,
        name: &str,
        instance: Instance,
    ) -> Result<(), InstantiateError> {
        if self.registered.iter().any(|n| n == name) {
            return Ok(());
        }
        // Every export but the deferred start function, which no other module may call.
        let exports: Vec<_> = instance
            .exports(&*store)
            .filter(|e| e.name() != DEFERRED_START)
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect();
        for (field, export) in exports {
            self.linker
                .define(name, &field, export)
                .map_err(|e| EngineError::Instantiate {
                    module: name.to_string(),
                    message: e.to_string(),
                })?;
        }
        self.registered.push(name.to_string());
        Ok(())
    }

    /// Instantiates `module` (named `display` in messages), its import modules first.
    pub fn instantiate(
        &mut self,
        store: &mut Store<StoreData>,
        display: &str,
        module: &Module,
    ) -> Result<Instance, InstantiateError> {
        self.instantiate_dependencies(store, display, module)?;
        let instance = self
            .linker
            .instantiate_and_start(&mut *store, module)
            .map_err(|e| self.instantiation_error(display, e, store.data().budget.refusal()))?;
        self.run_start(store, instance)?;
        let name = display;
        tracing::info!(module = name, imports = module.imports().len(), "linked");
        Ok(instance)
    }

    /// Runs `instance`'s start function, which compiling moved to an export so
    /// that it runs under the run's deadline and fuel like any other call.
    fn run_start(
        &self,
        store: &mut Store<StoreData>,
        instance: Instance,
    ) -> Result<(), InstantiateError> {
        let Some(start) = instance.get_func(&*store, DEFERRED_START) else {
            return Ok(());
        };
        match call(store, start, &[], &self.limits) {
            Outcome::Returned(_) => Ok(()),
            other => Err(InstantiateError::Guest(other)),
        }
    }

    fn instantiate_dependencies(
        &mut self,
        store: &mut Store<StoreData>,
        display: &str,
        module: &Module,
    ) -> Result<(), InstantiateError> {
        let mut names: Vec<String> = Vec::new();
        for import in module.imports() {
            let name = import.module();
            if !self.is_host_module(name) && !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        for name in names {
            if name == wasi_http::MODULE {
                return Err(self.network_disabled(display, module).into());
            }
            let key = self.resolver.canonical(&name);
            let known = self.done.contains_key(&key)
                || self.stack.contains(&key)
                || self.resolver.knows(&name);
            if !known {
                return Err(self.unknown_module(display, module, &name).into());
            }
            self.instantiate_named(store, &name)?;
        }
        Ok(())
    }

    /// The error for a module importing `wasi:http/requests` in a run without network.
    fn network_disabled(&self, importer: &str, module: &Module) -> EngineError {
        let mut error = self.unknown_module(importer, module, wasi_http::MODULE);
        if let EngineError::MissingImport { why, .. } = &mut error {
            *why = if cfg!(feature = "http") {
                format!(
                    "the network is disabled, so brine does not provide module `{}` \
                     (a job needs Network.Type Host, Full or HTTP; brine wasm run needs \
                     --network full or --allow-host)",
                    wasi_http::MODULE
                )
            } else {
                format!(
                    "this brine has no HTTP client, so brine does not provide module `{}`; \
                     guest networking {}",
                    wasi_http::MODULE,
                    crate::features::missing("http")
                )
            };
        }
        error
    }

    /// The error for the first import from module `name`, which nothing provides.
    fn unknown_module(&self, importer: &str, module: &Module, name: &str) -> EngineError {
        let first = module.imports().find(|i| i.module() == name);
        EngineError::MissingImport {
            importer: importer.to_string(),
            module: name.to_string(),
            field: first
                .as_ref()
                .map(|i| i.name().to_string())
                .unwrap_or_default(),
            expected: first.map(|i| extern_type(i.ty())).unwrap_or_default(),
            why: self.resolver.unknown_hint(name),
        }
    }

    /// What went wrong instantiating `display`; `refusal` is the memory budget's
    /// latest refusal, which explains a denied memory or table.
    fn instantiation_error(
        &self,
        display: &str,
        err: wasmi::Error,
        refusal: Option<Refusal>,
    ) -> InstantiateError {
        let engine_error = match err.kind() {
            ErrorKind::Linker(LinkerError::MissingDefinition { name, ty }) => {
                let why = if name.module() == wasi_http::MODULE {
                    format!(
                        "brine's `{}` provides only `{}`, as Bacalhau's does",
                        wasi_http::MODULE,
                        wasi_http::FUNCTION
                    )
                } else {
                    format!("module `{}` does not export it", name.module())
                };
                EngineError::MissingImport {
                    importer: display.to_string(),
                    module: name.module().to_string(),
                    field: name.name().to_string(),
                    expected: extern_type(ty),
                    why,
                }
            }
            ErrorKind::Linker(LinkerError::InvalidTypeDefinition {
                name,
                expected,
                found,
            }) => EngineError::MissingImport {
                importer: display.to_string(),
                module: name.module().to_string(),
                field: name.name().to_string(),
                expected: extern_type(expected),
                why: format!("the definition found is {}", extern_type(found)),
            },
            ErrorKind::Instantiation(
                InstantiationError::FailedToInstantiateMemory(
                    MemoryError::ResourceLimiterDeniedAllocation,
                )
                | InstantiationError::FailedToInstantiateTable(
                    TableError::ResourceLimiterDeniedAllocation,
                ),
            ) => EngineError::Instantiate {
                module: display.to_string(),
                message: refusal.map_or_else(
                    || "its memories and tables exceed the memory limit".to_string(),
                    |r| r.to_string(),
                ),
            },
            ErrorKind::Instantiation(e) => instantiation_failure(display, e),
            _ => return InstantiateError::Guest(classify_error(err)),
        };
        InstantiateError::Engine(engine_error)
    }
}

/// wasmi's instantiation errors in words: its own messages print types and
/// store handles with Debug formatting (`TableType { core: … }`, `Table(Stored { … })`).
fn instantiation_failure(display: &str, error: &InstantiationError) -> EngineError {
    use super::describe::{func_type, global_type, memory_type, table_type};
    let mismatch = |(module, field): (&str, &str), expected: String, found: String| {
        EngineError::MissingImport {
            importer: display.to_string(),
            module: module.to_string(),
            field: field.to_string(),
            expected,
            why: format!("the definition found is {found}"),
        }
    };
    match error {
        InstantiationError::FuncTypeMismatch {
            name,
            expected,
            actual,
        } => mismatch(
            (name.module(), name.name()),
            format!("func {}", func_type(expected)),
            format!("func {}", func_type(actual)),
        ),
        InstantiationError::TableTypeMismatch {
            name,
            expected,
            actual,
        } => mismatch(
            (name.module(), name.name()),
            format!("table {}", table_type(expected)),
            format!("table {}", table_type(actual)),
        ),
        InstantiationError::MemoryTypeMismatch {
            name,
            expected,
            actual,
        } => mismatch(
            (name.module(), name.name()),
            format!("memory {}", memory_type(expected)),
            format!("memory {}", memory_type(actual)),
        ),
        InstantiationError::GlobalTypeMismatch {
            name,
            expected,
            actual,
        } => mismatch(
            (name.module(), name.name()),
            format!("global {}", global_type(expected)),
            format!("global {}", global_type(actual)),
        ),
        InstantiationError::ImportTypeMismatch {
            name,
            expected,
            actual,
        } => mismatch(
            (name.module(), name.name()),
            extern_type(expected),
            extern_kind(actual).to_string(),
        ),
        InstantiationError::ElementSegmentDoesNotFit {
            table_index: offset,
            len,
            ..
        } => EngineError::Instantiate {
            module: display.to_string(),
            message: format!(
                "out of bounds table access: an element segment of {len} elements at offset \
                 {offset} does not fit its table"
            ),
        },
        other => EngineError::Instantiate {
            module: display.to_string(),
            message: other.to_string(),
        },
    }
}

/// What kind of definition `actual` is.
fn extern_kind(actual: &wasmi::Extern) -> &'static str {
    match actual {
        wasmi::Extern::Func(_) => "a function",
        wasmi::Extern::Table(_) => "a table",
        wasmi::Extern::Memory(_) => "a memory",
        wasmi::Extern::Global(_) => "a global",
    }
}
