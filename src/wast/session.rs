//! The state one script runs in: a wasmi store, a linker holding `spectest`
//! and every registered instance, the named instances and module definitions.

use super::budget::{Budget, DEFAULT_MAX_MEMORY};
use super::pragma::Pragmas;
use super::spectest::{self, PrintTo, SpectestData};
use super::values;
use super::Options;
use std::collections::HashMap;
use wasmi::{Config, Engine, Extern, Instance, Linker, Module, Store, Val};
use wast::token::Id;
use wast::{QuoteWat, WastArg, WastExecute, WastInvoke};

/// Same depth as brine's engine: deep enough for real programs, and a clean
/// `StackOverflow` trap past it (wasm calls do not use the native stack).
const MAX_RECURSION_DEPTH: usize = 100_000;
/// The value stack wasmi may grow to.
const MAX_STACK_HEIGHT: usize = 256 << 20;

/// What a wasmi store holds while a script runs.
pub struct WastData {
    budget: Budget,
    print: PrintTo,
}

impl SpectestData for WastData {
    fn print_to(&self) -> PrintTo {
        self.print
    }
}

/// Why an action did not produce values.
pub enum ActionError {
    /// The action could not be set up (no such module or export, bad arguments,
    /// a module that does not load).
    Setup(String),
    /// It needs a module that wasmi could not load for want of a proposal it
    /// does not implement (only when [`Options::excuse_unsupported`] is set).
    Unsupported(String),
    /// It ran and failed: a trap, or an instantiation error.
    Failed(wasmi::Error),
}

/// The running script's world.
pub struct Session {
    store: Store<WastData>,
    linker: Linker<WastData>,
    current: Option<Instance>,
    instances: HashMap<String, Instance>,
    definitions: HashMap<String, Module>,
    last_definition: Option<Module>,
    fuel: Option<u64>,
    /// Whether modules needing unimplemented proposals are excused (skipped).
    excuse: bool,
    /// Why the current module is missing, when it needed such a proposal.
    current_unsupported: Option<String>,
    /// Instance and definition names (and registered import-module names) whose
    /// module needed such a proposal, with the reason.
    unsupported: HashMap<String, String>,
}

impl Session {
    /// A fresh store with `spectest` defined, limited by `options` and the script's `pragmas`.
    ///
    /// Fails only when the `spectest` module cannot be defined (a bug).
    pub fn new(options: &Options, pragmas: &Pragmas) -> Result<Session, wasmi::Error> {
        // The script is untrusted: its own settings may only tighten the command line's.
        let fuel = tighter(pragmas.fuel, options.fuel);
        let mut config = Config::default();
        pragmas.features.apply(&mut config);
        config
            .consume_fuel(fuel.is_some())
            .set_max_recursion_depth(MAX_RECURSION_DEPTH)
            .set_max_stack_height(MAX_STACK_HEIGHT);
        let engine = Engine::new(&config);
        let max_memory =
            tighter(pragmas.max_memory, options.max_memory).unwrap_or(DEFAULT_MAX_MEMORY);
        let data = WastData {
            budget: Budget::new(max_memory),
            print: options.print,
        };
        let mut store = Store::new(&engine, data);
        store.limiter(|data| &mut data.budget);
        let mut linker = Linker::new(&engine);
        linker.allow_shadowing(true);
        spectest::define(&mut linker, &mut store)?;
        Ok(Session {
            store,
            linker,
            current: None,
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
            fuel,
            excuse: options.excuse_unsupported,
            current_unsupported: None,
            unsupported: HashMap::new(),
        })
    }

    /// Gives the next action its fuel (when the script runs metered).
    fn refuel(&mut self) {
        if let Some(fuel) = self.fuel {
            // Fuel metering is on whenever `self.fuel` is set, so this cannot fail.
            let _ = self.store.set_fuel(fuel);
        }
    }

    /// Encodes a text, binary or quoted module and compiles it (validating it).
    pub fn compile(&self, wat: &mut QuoteWat<'_>) -> Result<Module, ActionError> {
        let bytes = wat
            .encode()
            .map_err(|e| ActionError::Setup(one_line(&e.message())))?;
        self.compile_bytes(&bytes)
    }

    /// Compiles (and validates) a binary module.
    pub fn compile_bytes(&self, bytes: &[u8]) -> Result<Module, ActionError> {
        // wasmi would read anything without the magic as WebAssembly text.
        if !bytes.starts_with(b"\0asm") {
            return Err(ActionError::Setup("magic header not detected".to_string()));
        }
        Module::new(self.store.engine(), bytes).map_err(|e| {
            let message = one_line(&e.to_string());
            match needs_unimplemented_proposal(&message) {
                Some(proposal) if self.excuse => {
                    ActionError::Unsupported(format!("needs {proposal}"))
                }
                _ => ActionError::Setup(message),
            }
        })
    }

    /// Instantiates `module` against everything registered so far (start function included).
    pub fn instantiate(&mut self, module: &Module) -> Result<Instance, ActionError> {
        if let Some(why) = module
            .imports()
            .find_map(|i| self.unsupported.get(i.module()))
        {
            return Err(ActionError::Unsupported(why.clone()));
        }
        self.refuel();
        self.linker
            .instantiate_and_start(&mut self.store, module)
            .map_err(ActionError::Failed)
    }

    /// Makes `instance` the current one, under `name` too when it has one.
    pub fn set_current(&mut self, name: Option<Id<'_>>, instance: Instance) {
        if let Some(name) = name {
            self.instances.insert(name.name().to_string(), instance);
            self.unsupported.remove(name.name());
        }
        self.current = Some(instance);
        self.current_unsupported = None;
    }

    /// Forgets the current instance after a module failed to load; `why`
    /// says why when it needed an unimplemented proposal.
    pub fn clear_current(&mut self, name: Option<Id<'_>>, why: Option<&str>) {
        self.current = None;
        self.current_unsupported = why.map(str::to_string);
        if let (Some(name), Some(why)) = (name, why) {
            self.unsupported
                .insert(name.name().to_string(), why.to_string());
        }
    }

    /// Keeps a compiled module for `module instance` directives.
    pub fn define_module(&mut self, name: Option<Id<'_>>, module: Module) {
        if let Some(name) = name {
            self.definitions
                .insert(name.name().to_string(), module.clone());
        }
        self.last_definition = Some(module);
    }

    /// Notes that the module defined as `name` needed an unimplemented proposal.
    pub fn define_unsupported(&mut self, name: Option<Id<'_>>, why: &str) {
        self.last_definition = None;
        if let Some(name) = name {
            self.unsupported
                .insert(name.name().to_string(), why.to_string());
        }
    }

    /// The module defined as `name` (the last definition when `None`).
    pub fn definition(&self, name: Option<Id<'_>>) -> Result<Module, ActionError> {
        match name {
            Some(id) => self.named(&self.definitions, id, "module definition"),
            None => self
                .last_definition
                .clone()
                .ok_or_else(|| ActionError::Setup("no module definition yet".to_string())),
        }
    }

    /// The `what` called `id` in `map`; a missing one is unsupported when its module was.
    fn named<T: Clone>(
        &self,
        map: &HashMap<String, T>,
        id: Id<'_>,
        what: &str,
    ) -> Result<T, ActionError> {
        let name = id.name();
        map.get(name)
            .cloned()
            .ok_or_else(|| match self.unsupported.get(name) {
                Some(why) => ActionError::Unsupported(why.clone()),
                None => ActionError::Setup(format!("no {what} ${name}")),
            })
    }

    /// The instance named `name`, or the current one.
    pub fn instance(&self, name: Option<Id<'_>>) -> Result<Instance, ActionError> {
        match name {
            Some(id) => self.named(&self.instances, id, "module instance"),
            None => self.current.ok_or_else(|| match &self.current_unsupported {
                Some(why) => ActionError::Unsupported(why.clone()),
                None => ActionError::Setup(
                    "no module instantiated yet (or the last one failed)".to_string(),
                ),
            }),
        }
    }

    /// Registers an instance's exports as import module `as_name`.
    pub fn register(&mut self, as_name: &str, module: Option<Id<'_>>) -> Result<(), ActionError> {
        let instance = match self.instance(module) {
            Ok(instance) => instance,
            Err(ActionError::Unsupported(why)) => {
                self.unsupported.insert(as_name.to_string(), why.clone());
                return Err(ActionError::Unsupported(why));
            }
            Err(other) => return Err(other),
        };
        self.unsupported.remove(as_name);
        self.linker
            .instance(&mut self.store, as_name, instance)
            .map(|_| ())
            .map_err(ActionError::Failed)
    }

    /// Runs an `invoke`, `get` or module action and returns its values.
    pub fn execute(&mut self, exec: &mut WastExecute<'_>) -> Result<Vec<Val>, ActionError> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(invoke),
            WastExecute::Get { module, global, .. } => self.get(*module, global),
            WastExecute::Wat(wat) => {
                let bytes = wat
                    .encode()
                    .map_err(|e| ActionError::Setup(one_line(&e.message())))?;
                let module = self.compile_bytes(&bytes)?;
                self.instantiate(&module)?;
                Ok(Vec::new())
            }
        }
    }

    /// Calls an exported function with the script's arguments.
    pub fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>, ActionError> {
        let instance = self.instance(invoke.module)?;
        let func = instance
            .get_func(&self.store, invoke.name)
            .ok_or_else(|| ActionError::Setup(format!("no exported function `{}`", invoke.name)))?;
        let args = self.arguments(&invoke.args)?;
        let ty = func.ty(&self.store);
        if ty.params().len() != args.len() {
            return Err(ActionError::Setup(format!(
                "`{}` takes {} arguments, the script gives {}",
                invoke.name,
                ty.params().len(),
                args.len()
            )));
        }
        let mut results: Vec<Val> = ty
            .results()
            .iter()
            .map(|&t| Val::default_for_ty(t))
            .collect();
        self.refuel();
        match func.call(&mut self.store, &args, &mut results) {
            Ok(()) => Ok(results),
            Err(e) => Err(ActionError::Failed(e)),
        }
    }

    fn arguments(&mut self, args: &[WastArg<'_>]) -> Result<Vec<Val>, ActionError> {
        args.iter()
            .map(|a| values::argument(&mut self.store, a))
            .collect::<Result<_, _>>()
            .map_err(|e| ActionError::Setup(e.to_string()))
    }

    fn get(&mut self, module: Option<Id<'_>>, name: &str) -> Result<Vec<Val>, ActionError> {
        let instance = self.instance(module)?;
        match instance.get_export(&self.store, name) {
            Some(Extern::Global(global)) => Ok(vec![global.get(&self.store)]),
            _ => Err(ActionError::Setup(format!("no exported global `{name}`"))),
        }
    }

    /// The store, for showing and comparing values.
    pub fn store(&self) -> &Store<WastData> {
        &self.store
    }
}

/// Messages wasmparser gives for constructs of proposals wasmi 2.0 does not
/// implement, and the proposal each names.
const UNIMPLEMENTED: &[(&str, &str)] = &[
    ("function references", "function-references"),
    ("function-references", "function-references"),
    ("`gc` proposal", "gc"),
    ("gc feature", "gc"),
    ("gc proposal", "gc"),
    (
        "global.get of locally defined global",
        "gc (extended constant expressions)",
    ),
    ("exceptions proposal", "exception-handling"),
    ("threads proposal", "threads"),
    ("shared memory", "threads"),
    ("stack switching", "stack-switching"),
    ("custom descriptors", "custom-descriptors"),
];

/// The unimplemented proposal a load error names, if any.
pub fn needs_unimplemented_proposal(message: &str) -> Option<&'static str> {
    UNIMPLEMENTED
        .iter()
        .find(|(needle, _)| message.contains(needle))
        .map(|(_, proposal)| *proposal)
}

/// The smaller of two optional limits (either alone when the other is absent).
fn tighter(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Collapses a multi-line message (the text parser's snippets) to one line.
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
