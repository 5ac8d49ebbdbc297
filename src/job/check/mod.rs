//! Deep checks of a parsed job, made before anything is fetched or run, by
//! `brine validate` and `brine run` alike: that each `localDirectory`
//! SourcePath exists, that every `env:NAME` may be read, that inputs and the
//! publisher can be planned, and that every module the job runs and can be
//! read now (local and inline) is valid wasm with the entrypoint and the
//! imports the run needs ([`modules`]). Each problem is a [`SpecError`] at the
//! field that names it; [`ErrorKind::Module`] marks the ones about modules,
//! which fail a run (exit 1) rather than refuse the job (exit 2).

mod modules;
mod tree;

pub use modules::{check_staged_modules, ModuleSummary, UnrunnableModules, NO_ENTRYPOINT};

use super::plan::{
    deterministic_settings, env_reference, network_policy, plan_input, plan_publisher, PlanError,
    PlanOptions, SharedRemote,
};
use crate::engine::compiled::CompiledModules;
use crate::spec::{ErrorKind, Job, Site, Source, SpecError, SpecErrors};
use std::path::Path;
use std::sync::Arc;

/// What the deep checks found, and what they made that a run can use.
pub struct Checked {
    /// Every problem, sorted by position (none: the job can run here).
    pub problems: SpecErrors,
    /// What each module the checks reached imports and exports (for `brine
    /// validate`'s account of what would run).
    pub modules: Vec<ModuleSummary>,
    /// The modules compiled for the checks, with the engine a run of the job
    /// uses, for the run to reuse (`None` when no module was reached).
    pub compiled: Option<Arc<CompiledModules>>,
}

/// Every problem deep checks find in `job` (none: it can run here), sorted by
/// position. Module checks run only when the job-file checks found nothing,
/// since a module under a missing SourcePath cannot be judged.
pub fn check(job: &Job, options: &PlanOptions) -> Checked {
    let mut problems = Problems::new(&job.file);
    check_sources(job, &mut problems);
    check_env(job, options, &mut problems);
    check_plan(job, options, &mut problems);
    let (mut modules, mut compiled) = (Vec::new(), None);
    if problems.errors.is_empty() {
        let (summaries, modules_compiled) = modules::check_job_modules(job, options, &mut problems);
        modules = summaries;
        compiled = modules_compiled.map(Arc::new);
    }
    let mut errors = SpecErrors(problems.errors);
    errors.sort();
    Checked {
        problems: errors,
        modules,
        compiled,
    }
}

/// Whether any of `errors` is about the job file rather than its modules.
pub fn has_job_problems(errors: &SpecErrors) -> bool {
    errors.iter().any(|e| e.kind == ErrorKind::Job)
}

/// Problems found so far, in the job file `file`.
pub(crate) struct Problems {
    file: std::path::PathBuf,
    errors: Vec<SpecError>,
}

impl Problems {
    fn new(file: &Path) -> Self {
        Problems {
            file: file.to_path_buf(),
            errors: Vec::new(),
        }
    }

    /// A problem with the job file (or what it names on this host) at `site`.
    fn job(&mut self, site: &Site, message: impl Into<String>) {
        let error = SpecError::at(&self.file, site, ErrorKind::Job, message);
        self.errors.push(error);
    }

    /// A problem with a module, reported at the field that names it.
    fn module(&mut self, site: &Site, message: impl Into<String>) {
        let error = SpecError::at(&self.file, site, ErrorKind::Module, message);
        self.errors.push(error);
    }
}

/// Every `localDirectory` SourcePath names a file or directory on this host.
fn check_sources(job: &Job, problems: &mut Problems) {
    for (input, sites) in job.task.inputs.iter().zip(&job.sites.inputs) {
        let Source::Local { path, .. } = &input.source else {
            continue;
        };
        if !tree::local_exists(path) {
            let shown = crate::text::printable(&path.display().to_string());
            let base = job.file.parent().map(Path::display);
            let base = base.map_or_else(String::new, |b| b.to_string());
            let base = if base.is_empty() { ".".into() } else { base };
            problems.job(
                &sites.source,
                format!(
                    "{shown}: no such file or directory (a relative SourcePath is resolved against the job file's \
                     directory, {}); give the path of an existing file or directory",
                    crate::text::printable(&base)
                ),
            );
        }
    }
}

/// Every `env:NAME` value may be read here, reported at its Env entry.
fn check_env(job: &Job, options: &PlanOptions, problems: &mut Problems) {
    for (name, value) in &job.task.env {
        let Some(host_name) = value.strip_prefix("env:") else {
            continue;
        };
        if let Err(e) = env_reference(host_name, options) {
            let site = job.sites.env.get(name).unwrap_or(&job.sites.engine);
            problems.job(site, e.to_string());
        }
    }
}

/// The inputs, the network and the publisher can be planned on this runner.
fn check_plan(job: &Job, options: &PlanOptions, problems: &mut Problems) {
    let file = job.file.display().to_string();
    let shared = SharedRemote::default();
    for (input, sites) in job.task.inputs.iter().zip(&job.sites.inputs) {
        if let Err(e) = plan_input(job, input, &file, options, &shared) {
            problems.job(&sites.source, plan_message(&e));
        }
    }
    let deterministic = deterministic_settings(job, options).is_some();
    if let Err(e) = network_policy(job, options, deterministic, &file) {
        let site = job.sites.network.as_ref().unwrap_or(&job.sites.engine);
        problems.job(site, plan_message(&e));
    }
    if let Err(e) = plan_publisher(job, &file) {
        let site = job.sites.publisher.as_ref().unwrap_or(&job.sites.engine);
        problems.job(site, plan_message(&e));
    }
}

/// What a plan error says, without the file and field its Display adds.
fn plan_message(error: &PlanError) -> String {
    match error {
        PlanError::Env { message, .. }
        | PlanError::Network { message, .. }
        | PlanError::Input { message, .. }
        | PlanError::Publisher { message, .. } => message.clone(),
        PlanError::Unsupported { kind, .. } => {
            format!("source type `{kind}` is not supported by this brine")
        }
        PlanError::NotBuilt { kind, feature, .. } => {
            format!("{kind} {}", crate::features::missing(feature))
        }
    }
}
