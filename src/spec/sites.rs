//! Where a parsed job's fields are in its file, so that checks made after
//! parsing (`job::check`: sources on this host, modules, `env:NAME`) report
//! at the field's line and column like the parser's own errors.

use super::error::Site;
use std::collections::BTreeMap;

/// The sites of the fields deep checks report on. Filled only for a job that
/// parsed cleanly; a field that was not written has no site (checks then fall
/// back to the nearest field that was).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sites {
    /// The engine block (`Tasks[0].Engine`, or the file's root for a bare engine block).
    pub engine: Site,
    /// `EntryModule`: the path (current form) or the input source (spec form).
    pub entry_module: Site,
    /// `Entrypoint`, when it is written.
    pub entrypoint: Option<Site>,
    /// `ImportModules[i]`, in order.
    pub import_modules: Vec<Site>,
    /// Each of the task's inputs, in the order of `Task::inputs`.
    pub inputs: Vec<InputSites>,
    /// The value of each environment variable (the one that won when both
    /// EnvironmentVariables and Env set it).
    pub env: BTreeMap<String, Site>,
    /// `Network`, when it is written.
    pub network: Option<Site>,
    /// `Publisher`, when it is written.
    pub publisher: Option<Site>,
}

/// Where one input is described.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputSites {
    /// Its `Target` (for a spec-form module: the module field).
    pub target: Site,
    /// The parameter naming its data (`SourcePath`, `URL`, `CID`, `Bucket`),
    /// or its `Source` when it has none.
    pub source: Site,
}
