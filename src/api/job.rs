//! A job file, loaded and validated.

use super::{Error, RunConfig};
use crate::job::check::check;
use crate::job::plan::PlanOptions;
use crate::spec;
use std::path::Path;

/// A Bacalhau job (a whole Job, one Task or a bare wasm engine block, YAML or
/// JSON), parsed, normalized and validated. Relative `SourcePath`s are
/// resolved against the job file's directory (the current directory for a
/// job given as text).
///
/// ```
/// let job = brine::Job::from_path("fixtures/jobs/demo/job.yaml")?;
/// assert_eq!(job.name(), "csv-summary");
/// job.validate()?;
/// # Ok::<(), brine::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Job(pub(crate) spec::Job);

/// The name a job given as text goes by in errors.
const TEXT_NAME: &str = "<string>";

impl Job {
    /// Reads, parses and validates the job file at `path`. Its errors
    /// ([`Error::Invalid`]) name the file, line, column and field of each problem.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Job, Error> {
        Ok(Job(spec::load(path.as_ref())?))
    }

    /// Parses and validates job text; `name` stands for its file in errors,
    /// and relative `SourcePath`s are resolved against `name`'s directory.
    ///
    /// ```
    /// let text = "Type: wasm\nParams:\n  EntryModule: {Source: {Type: localDirectory, Params: {SourcePath: hello.wasm}}}\n";
    /// let job = brine::Job::parse(text, "fixtures/job.yaml")?;
    /// assert!(job.name().len() > 0);
    /// # Ok::<(), brine::Error>(())
    /// ```
    pub fn parse(text: &str, name: impl AsRef<Path>) -> Result<Job, Error> {
        Ok(Job(spec::parse(text, name.as_ref())?))
    }

    /// The job's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The job's hash: what a receipt records to say which job it is of.
    ///
    /// ```
    /// let job = brine::Job::from_path("fixtures/jobs/demo/job.yaml")?;
    /// assert_eq!(job.hash().len(), 64);
    /// # Ok::<(), brine::Error>(())
    /// ```
    pub fn hash(&self) -> String {
        crate::job::job_hash(&self.0)
    }

    /// The deep checks a run makes before fetching anything: local sources
    /// exist, `env:NAME` values may be read, modules load and link with the
    /// entrypoint exported. Every problem is reported, located.
    pub fn validate(&self) -> Result<(), Error> {
        self.check(&PlanOptions::default())
    }

    /// [`Job::validate`] with the settings of `config` (its `allow_env` patterns).
    ///
    /// ```
    /// let job = brine::Job::from_path("fixtures/jobs/demo/job.yaml")?;
    /// job.validate_with(&brine::RunConfig::new("results/doc-validate"))?;
    /// # Ok::<(), brine::Error>(())
    /// ```
    pub fn validate_with(&self, config: &RunConfig) -> Result<(), Error> {
        self.check(&config.plan_options())
    }

    fn check(&self, options: &PlanOptions) -> Result<(), Error> {
        let problems = check(&self.0, options).problems;
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(problems))
        }
    }
}

impl std::str::FromStr for Job {
    type Err = Error;

    /// Parses and validates job text, as [`Job::parse`] with the name `<string>`.
    fn from_str(text: &str) -> Result<Job, Error> {
        Job::parse(text, TEXT_NAME)
    }
}
