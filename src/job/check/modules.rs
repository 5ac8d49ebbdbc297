//! Module checks: every module a run would instantiate (the entry module, the
//! ImportModules and the modules their imports name) is read through the
//! mount tree by the run's own resolver, compiled by the run's own loader, and
//! its imports are matched against the run's own host linker
//! ([`HostProbe`]) and the exports of the modules they name. The entry module
//! must export the entrypoint as a function that takes and returns nothing.

use super::tree::{parts, KnownTree};
use super::{PlanOptions, Problems};
use crate::engine::compiled::CompiledModules;
use crate::engine::describe::{extern_type, func_type};
use crate::engine::probe::HostProbe;
use crate::engine::resolve::MountedModules;
use crate::engine::start::DEFERRED_START;
use crate::engine::{load, Limits};
use crate::job::execution::Execution;
use crate::job::plan::{deterministic_settings, limits as run_limits_of, network_policy};
use crate::spec::{Job, Site};
use crate::text::printable;
use crate::{wasi, wasi_http};
use std::collections::{BTreeMap, VecDeque};
use wasmi::{ExternType, Module};

/// How many problems one module may add (a hostile module can have 100,000 imports).
const MAX_PER_MODULE: usize = 20;

/// How a missing entrypoint's message starts: Bacalhau's words.
/// How Bacalhau words a missing entrypoint (brine.json keeps its words).
pub const NO_ENTRYPOINT: &str = "unable to find the entrypoint";

/// How many export names a message lists.
const LISTED: usize = 20;

/// The modules of a run that cannot run, found after its inputs were staged.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct UnrunnableModules(pub Vec<String>);

/// What a module a job would run imports and exports, for `brine validate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSummary {
    /// Its guest path, as the job (or an import) names it.
    pub path: String,
    /// `None`: it comes with a fetched input and is known only at run time.
    pub contents: Option<ModuleContents>,
}

/// The imports and exports of a module that was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleContents {
    /// How many imports come from each module, by module name (printable).
    pub imports: BTreeMap<String, usize>,
    /// Its exports as `name (kind)`, printable, at most [`LISTED`] of them.
    pub exports: Vec<String>,
    /// How many exports there are in all.
    pub export_count: usize,
}

impl ModuleContents {
    fn of(module: &Module) -> Self {
        let mut imports = BTreeMap::new();
        for import in module.imports() {
            *imports.entry(printable(import.module())).or_insert(0) += 1;
        }
        let visible = || module.exports().filter(|e| e.name() != DEFERRED_START);
        let exports = visible()
            .take(LISTED)
            .map(|e| {
                format!(
                    "{} ({})",
                    printable(e.name()),
                    crate::engine::describe::extern_kind(e.ty())
                )
            })
            .collect();
        ModuleContents {
            imports,
            exports,
            export_count: visible().count(),
        }
    }
}

/// Checks `job`'s modules that can be read before anything is fetched; returns
/// what each module it reached imports and exports.
pub(super) fn check_job_modules(
    job: &Job,
    options: &PlanOptions,
    problems: &mut Problems,
) -> (Vec<ModuleSummary>, Option<CompiledModules>) {
    let engine = &job.task.engine;
    let sites = &job.sites;
    let mut roots = vec![(engine.entry_module.clone(), sites.entry_module.clone())];
    for (i, name) in engine.import_modules.iter().enumerate() {
        let site = sites.import_modules.get(i).unwrap_or(&sites.engine);
        roots.push((name.clone(), site.clone()));
    }
    let names: Vec<String> = roots.iter().map(|(n, _)| n.clone()).collect();
    let mut tree = match KnownTree::build(job, &names) {
        Ok(tree) => tree,
        Err(e) => {
            let site = e.index.and_then(|i| sites.inputs.get(i));
            let site = site.map_or(&sites.engine, |s| &s.source);
            // An inline input that cannot be staged fails the run (exit 1), as at staging.
            problems.module(site, e.message);
            return (Vec::new(), None);
        }
    };
    let deterministic = deterministic_settings(job, options).is_some();
    let compiled = CompiledModules::new(&run_limits(job, options, deterministic));
    let file = job.file.display().to_string();
    let network = match network_policy(job, options, deterministic, &file) {
        Ok(Some(_)) => Network::On,
        _ => Network::Off(network_off(job, deterministic)),
    };
    let entrypoint = sites.entrypoint.as_ref().unwrap_or(&sites.entry_module);
    let entry = (engine.entrypoint.as_str(), entrypoint.clone());
    let mut checker = Checker::new(&mut tree, network, spec_form(job), compiled);
    let found = checker.run(&roots, Some(entry));
    for (site, message) in found {
        problems.module(&site, message);
    }
    (checker.summaries, Some(checker.compiled))
}

/// The limits a run of `job` compiles under: a TotalTimeout limits (and so
/// meters) the run even without an ExecutionTimeout.
fn run_limits(job: &Job, options: &PlanOptions, deterministic: bool) -> Limits {
    let mut limits = run_limits_of(job, deterministic, &options.overrides);
    limits.timeout = limits.timeout.or(job.task.timeouts.total);
    limits
}

/// Checks, after staging, the modules of `exec` that lie in inputs that were
/// fetched (a local or inline module was checked before anything was fetched).
pub fn check_staged_modules(
    exec: &Execution,
    resolver: &mut MountedModules,
) -> Result<(), UnrunnableModules> {
    let local: Vec<Vec<String>> = exec
        .inputs
        .iter()
        .filter(|i| i.source.local_path().is_some())
        .map(|i| parts(&i.target))
        .collect();
    let fetched = |name: &str| {
        let name = parts(name);
        !local.iter().any(|l| name.starts_with(l))
    };
    let network = match exec.network {
        Some(_) => Network::On,
        None => Network::Off("the network is disabled".to_string()),
    };
    let mut roots = vec![(exec.entry_module.clone(), Site::default())];
    roots.extend(
        exec.import_modules
            .iter()
            .map(|name| (name.clone(), Site::default())),
    );
    let roots: Vec<_> = roots.into_iter().filter(|(n, _)| fetched(n)).collect();
    if roots.is_empty() {
        return Ok(());
    }
    let mut source = Staged { resolver, fetched };
    let entry = (fetched(&exec.entry_module)).then(|| (exec.entrypoint.as_str(), Site::default()));
    // Fetched modules are compiled here and again by the run (they are rare;
    // local ones, compiled once before anything is fetched, are reused).
    let compiled = CompiledModules::new(&Limits::default());
    let found = Checker::new(&mut source, network, false, compiled).run(&roots, entry);
    if found.is_empty() {
        return Ok(());
    }
    Err(UnrunnableModules(
        found.into_iter().map(|(_, m)| m).collect(),
    ))
}

/// Where the checker reads modules.
trait ModuleSource {
    /// The run's resolver over the tree.
    fn resolver(&mut self) -> &mut MountedModules;
    /// Whether guest path `name` is to be checked now.
    fn is_known(&self, name: &str) -> bool;
}

impl ModuleSource for KnownTree {
    fn resolver(&mut self) -> &mut MountedModules {
        &mut self.resolver
    }
    fn is_known(&self, name: &str) -> bool {
        KnownTree::is_known(self, name)
    }
}

/// The staged tree of a run, of which only fetched modules are checked.
struct Staged<'r, F: Fn(&str) -> bool> {
    resolver: &'r mut MountedModules,
    fetched: F,
}

impl<F: Fn(&str) -> bool> ModuleSource for Staged<'_, F> {
    fn resolver(&mut self) -> &mut MountedModules {
        self.resolver
    }
    fn is_known(&self, name: &str) -> bool {
        (self.fetched)(name)
    }
}

/// Whether the run provides `wasi:http/requests`, and if not, why.
enum Network {
    On,
    Off(String),
}

/// Why `job` has no network, and which Network would give it one.
fn network_off(job: &Job, deterministic: bool) -> String {
    match &job.task.network {
        None if deterministic => {
            "the network is disabled (a deterministic run has none)".to_string()
        }
        Some(n) if n.kind == crate::spec::NetworkType::None => {
            "the network is disabled (the job's Network is Type: None)".to_string()
        }
        _ if cfg!(not(feature = "http")) => NO_HTTP_CLIENT.to_string(),
        _ => "the network is disabled".to_string(),
    }
}

/// Why a job that asks for the network has none in a build without the
/// `http` feature.
const NO_HTTP_CLIENT: &str = "this brine has no HTTP client";

/// What would give a guest `wasi:http/requests`, the network being off for
/// `why`: the job's Network, or a build with the `http` feature.
fn network_remedy(why: &str) -> String {
    if why == NO_HTTP_CLIENT {
        format!("guest networking {}", crate::features::missing("http"))
    } else {
        "Network Type: Host, Full or HTTP (with Domains) would".to_string()
    }
}

/// Whether the job was written in the spec form (its modules mounted at the
/// legacy targets), so hints can explain those targets.
fn spec_form(job: &Job) -> bool {
    let engine = &job.task.engine;
    engine.entry_module == crate::spec::LEGACY_ENTRY_TARGET
        || (0..engine.import_modules.len())
            .any(|i| engine.import_modules[i] == crate::spec::legacy_import_target(i))
}

/// What a module name led to.
#[derive(Clone)]
enum Loaded {
    /// Compiled.
    Module(Module),
    /// Not checked now (fetched at run time), or already reported as unreadable.
    Unknown,
    /// Nothing is there.
    Missing,
}

/// Reads, compiles and checks modules, collecting (site, message) problems.
struct Checker<'s, S: ModuleSource> {
    source: &'s mut S,
    /// Every module compiled, with the engine a run will use.
    compiled: CompiledModules,
    network: Network,
    spec_form: bool,
    probe: Option<HostProbe>,
    loaded: BTreeMap<String, Loaded>,
    queue: VecDeque<(String, Site, Module)>,
    found: Vec<(Site, String)>,
    /// Every module reached, in the order it was reached.
    summaries: Vec<ModuleSummary>,
}

impl<'s, S: ModuleSource> Checker<'s, S> {
    fn new(
        source: &'s mut S,
        network: Network,
        spec_form: bool,
        compiled: CompiledModules,
    ) -> Self {
        Checker {
            source,
            compiled,
            network,
            spec_form,
            probe: None,
            loaded: BTreeMap::new(),
            queue: VecDeque::new(),
            found: Vec::new(),
            summaries: Vec::new(),
        }
    }

    /// Checks `roots` (entry module first) and everything their imports name;
    /// `entrypoint` is the entry's function and the site that names it.
    fn run(
        &mut self,
        roots: &[(String, Site)],
        entrypoint: Option<(&str, Site)>,
    ) -> Vec<(Site, String)> {
        for (i, (name, site)) in roots.iter().enumerate() {
            let loaded = self.load(name, site);
            if let Loaded::Missing = loaded {
                let msg = format!(
                    "there is no module at {}: {}",
                    printable(name),
                    self.no_file_hint()
                );
                self.found.push((site.clone(), msg));
            }
            if let (0, Loaded::Module(module), Some((function, at))) = (i, &loaded, &entrypoint) {
                if let Some(msg) = entrypoint_problem(module, name, function) {
                    self.found.push((at.clone(), msg));
                }
            }
        }
        while let Some((name, site, module)) = self.queue.pop_front() {
            self.check_imports(&name, &site, &module);
        }
        std::mem::take(&mut self.found)
    }

    fn no_file_hint(&self) -> &'static str {
        "the input mounted above it holds no such file (or a directory holding one .wasm file)"
    }

    /// Reads and compiles the module at guest path `name` once, reporting at
    /// `site` why it cannot be; a compiled module is queued for its imports.
    fn load(&mut self, name: &str, site: &Site) -> Loaded {
        let key = format!("/{}", parts(name).join("/"));
        if let Some(loaded) = self.loaded.get(&key) {
            return loaded.clone();
        }
        let loaded = if !self.source.is_known(name) {
            self.summaries.push(ModuleSummary {
                path: printable(name),
                contents: None,
            });
            Loaded::Unknown
        } else {
            match self.source.resolver().read_module(name) {
                Ok(None) => Loaded::Missing,
                Ok(Some(bytes)) => match load::compile_to_run(self.compiled.engine(), &bytes, name)
                {
                    Ok(module) => {
                        self.compiled.keep(&key, &bytes, module.clone());
                        self.summaries.push(ModuleSummary {
                            path: printable(name),
                            contents: Some(ModuleContents::of(&module)),
                        });
                        self.queue
                            .push_back((name.to_string(), site.clone(), module.clone()));
                        Loaded::Module(module)
                    }
                    Err(e) => {
                        self.found.push((site.clone(), e.to_string()));
                        Loaded::Unknown
                    }
                },
                Err(e) => {
                    self.found.push((site.clone(), e.to_string()));
                    Loaded::Unknown
                }
            }
        };
        self.loaded.insert(key, loaded.clone());
        loaded
    }

    /// Every import of `module` (named `name`, at `site`) is provided.
    fn check_imports(&mut self, name: &str, site: &Site, module: &Module) {
        let mut reported = 0;
        let mut missing: Vec<String> = Vec::new();
        for import in module.imports() {
            let (from, field, ty) = (import.module(), import.name(), import.ty().clone());
            let why = match self.provider(from, site) {
                Provider::Host => self.host_problem(from, field, &ty),
                Provider::NoNetwork(why) => Some(why),
                Provider::Module(target) => export_problem(&target, from, field, &ty),
                Provider::Unknown => None,
                Provider::Missing if missing.iter().any(|m| m == from) => None,
                Provider::Missing => {
                    missing.push(from.to_string());
                    Some(self.missing_hint(from))
                }
            };
            let Some(why) = why else { continue };
            reported += 1;
            if reported > MAX_PER_MODULE {
                let msg = format!(
                    "{}: more imports are not provided (the first {MAX_PER_MODULE} are listed)",
                    printable(name)
                );
                self.found.push((site.clone(), msg));
                return;
            }
            let msg = format!(
                "{} imports `{}`.`{}` ({}), but {why}",
                printable(name),
                printable(from),
                printable(field),
                extern_type(&ty)
            );
            self.found.push((site.clone(), msg));
        }
    }

    /// Who provides imports from module `from`.
    fn provider(&mut self, from: &str, site: &Site) -> Provider {
        if from == wasi::MODULE {
            return Provider::Host;
        }
        if from == wasi_http::MODULE {
            return match &self.network {
                Network::On => Provider::Host,
                Network::Off(why) => Provider::NoNetwork(format!(
                    "{why}, so brine does not provide module `{}`; {}",
                    wasi_http::MODULE,
                    network_remedy(why)
                )),
            };
        }
        match self.load(from, site) {
            Loaded::Module(module) => Provider::Module(module),
            Loaded::Unknown => Provider::Unknown,
            Loaded::Missing => Provider::Missing,
        }
    }

    /// Why the run's host linker does not provide `from`.`field` as `ty`.
    fn host_problem(&mut self, from: &str, field: &str, ty: &ExternType) -> Option<String> {
        if self.probe.is_none() {
            match HostProbe::new(true) {
                Ok(probe) => self.probe = Some(probe),
                Err(e) => return Some(e.to_string()),
            }
        }
        let probe = self.probe.as_mut()?;
        probe
            .check(from, field, ty)
            .err()
            .map(|why| printable(&why.to_string()))
    }

    /// What would satisfy an import from module `from`, which nothing provides.
    fn missing_hint(&self, from: &str) -> String {
        let path = format!("/{}", parts(from).join("/"));
        let mut hint = format!(
            "nothing is mounted at {} (imports resolve as paths in the mount tree: \
             mount the module there, with an input whose Target is {}",
            printable(&path),
            printable(&path)
        );
        if self.spec_form {
            hint.push_str(&format!(
                "; in the spec form ImportModules[i] without a Target is mounted at \
                 /wasm/imports/module_<i>.wasm, so give that source Target: {}",
                printable(from)
            ));
        }
        hint.push(')');
        hint
    }
}

/// Who provides an import.
enum Provider {
    /// The run's host linker (WASI, `wasi:http/requests` with network).
    Host,
    /// `wasi:http/requests` in a run without network: why.
    NoNetwork(String),
    /// A module in the mount tree.
    Module(Module),
    /// A module not known yet (or unreadable, already reported).
    Unknown,
    /// Nothing at that path.
    Missing,
}

/// Why `target` (module `from`) does not provide `field` as `ty`.
fn export_problem(target: &Module, from: &str, field: &str, ty: &ExternType) -> Option<String> {
    let export = target.get_export(field).filter(|_| field != DEFERRED_START);
    let Some(export) = export else {
        return Some(format!("module `{}` does not export it", printable(from)));
    };
    (!fits(ty, &export)).then(|| {
        format!(
            "`{}` exports it as {}",
            printable(from),
            extern_type(&export)
        )
    })
}

/// Whether an export of type `export` satisfies an import of type `import`
/// (the wasm spec's import subtyping).
fn fits(import: &ExternType, export: &ExternType) -> bool {
    let limits = |imin: u64, imax: Option<u64>, emin: u64, emax: Option<u64>| {
        emin >= imin && imax.is_none_or(|i| emax.is_some_and(|e| e <= i))
    };
    match (import, export) {
        (ExternType::Func(i), ExternType::Func(e)) => i == e,
        (ExternType::Global(i), ExternType::Global(e)) => i == e,
        (ExternType::Memory(i), ExternType::Memory(e)) => {
            i.is_64() == e.is_64() && limits(i.minimum(), i.maximum(), e.minimum(), e.maximum())
        }
        (ExternType::Table(i), ExternType::Table(e)) => {
            i.element() == e.element() && limits(i.minimum(), i.maximum(), e.minimum(), e.maximum())
        }
        _ => false,
    }
}

/// Why `function` cannot be the entrypoint of `module` (named `name`): it must
/// be an exported function that takes and returns nothing.
fn entrypoint_problem(module: &Module, name: &str, function: &str) -> Option<String> {
    let found = match module.get_export(function) {
        Some(ExternType::Func(ty)) if function != DEFERRED_START => {
            if ty.params().is_empty() && ty.results().is_empty() {
                return None;
            }
            format!(
                "`{}` has type {}, and an entrypoint takes no parameters and returns nothing",
                printable(function),
                func_type(&ty)
            )
        }
        _ => format!(
            "{NO_ENTRYPOINT} '{}' in the WASM module {}",
            printable(function),
            printable(name)
        ),
    };
    Some(format!("{found}; {}", qualifying(module)))
}

/// The exports that could be the entrypoint, as a hint.
fn qualifying(module: &Module) -> String {
    let names: Vec<String> = module
        .exports()
        .filter(|e| e.name() != DEFERRED_START)
        .filter(|e| matches!(e.ty(), ExternType::Func(f) if f.params().is_empty() && f.results().is_empty()))
        .map(|e| printable(e.name()))
        .collect();
    if names.is_empty() {
        return "it exports no function that takes and returns nothing".to_string();
    }
    let mut shown: Vec<String> = names.iter().take(LISTED).cloned().collect();
    if names.len() > LISTED {
        shown.push(format!("and {} more", names.len() - LISTED));
    }
    format!(
        "functions it exports that could be: {} (set Entrypoint to one; `brine inspect` lists every export)",
        shown.join(", ")
    )
}
