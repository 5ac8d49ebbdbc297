//! The one error type of the embedding API.

use crate::spec::{SpecError, SpecErrors};

/// Why a job or a module could not be loaded, checked or run.
///
/// A run that starts and whose guest fails (a trap, a timeout, a non-zero exit)
/// is not an error: it is in the [`Report`](crate::Report).
///
/// ```
/// use std::str::FromStr;
///
/// let err = brine::Job::from_str("Type: wasm\nParams: {}\n").unwrap_err();
/// let located = err.located().expect("a job-file error names where it is");
/// assert!(located.line > 0);
/// assert!(err.to_string().contains("EntryModule"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The job file is not a valid job, or something it names is missing or
    /// unusable: every problem, each with its file, line, column and field.
    #[error("{0}")]
    Invalid(SpecErrors),
    /// The run cannot start as configured (an output directory in use, a path
    /// a guest could reach, a module that cannot be loaded); nothing ran.
    #[error("{0}")]
    Refused(String),
    /// The run started and could not be finished or recorded (the results
    /// directory could not be moved into place, a receipt or journal written).
    #[error("{0}")]
    Failed(String),
}

impl Error {
    /// The first located problem, when the error is about the job file.
    pub fn located(&self) -> Option<&SpecError> {
        match self {
            Error::Invalid(errors) => errors.iter().next(),
            _ => None,
        }
    }

    /// An [`Error::Refused`] with `error`'s message.
    pub(crate) fn refused(error: impl std::fmt::Display) -> Self {
        Error::Refused(error.to_string())
    }

    /// An [`Error::Failed`] with `error`'s message.
    pub(crate) fn failed(error: impl std::fmt::Display) -> Self {
        Error::Failed(error.to_string())
    }
}

impl From<SpecErrors> for Error {
    fn from(errors: SpecErrors) -> Self {
        Error::Invalid(errors)
    }
}
