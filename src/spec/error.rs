//! Located spec errors: every problem in a job file, each on one line as
//! `FILE:LINE:COLUMN: FIELD.PATH: message`.

use super::sites::Sites;
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// One problem found in a job file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecError {
    /// The job file, as it was named.
    pub file: PathBuf,
    /// 1-based line, or 0 when the problem is with the file as a whole.
    pub line: u32,
    /// 1-based column (characters), or 0 when the problem is with the file as a whole.
    pub column: u32,
    /// The field path, such as `Tasks[0].Engine.Params.EntryModule`; `None` for
    /// problems that are not about one field (syntax errors, unreadable files).
    pub path: Option<String>,
    /// What is wrong, saying what was expected.
    pub message: String,
    /// Whether the job file or a module it names is at fault.
    pub kind: ErrorKind,
}

/// What a [`SpecError`] is about: `brine run` refuses a job with a job-file
/// problem (exit 2) and fails one whose modules cannot run (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// The job file itself, or something it names on this host (a SourcePath,
    /// an `env:NAME`).
    #[default]
    Job,
    /// A module the job runs (invalid wasm, no such entrypoint, an import
    /// nothing provides) or an inline input holding one that cannot be staged:
    /// what fails a run rather than refuses the job.
    Module,
}

impl SpecError {
    /// The message without its `did you mean …?` suggestion, and the suggestion
    /// (as the spec's field checks word it), for tools that show them apart.
    pub fn message_and_hint(&self) -> (String, Option<String>) {
        const LEAD: &str = "; did you mean ";
        let Some(start) = self.message.find(LEAD) else {
            return (self.message.clone(), None);
        };
        let after = start + LEAD.len();
        let end = self.message[after..]
            .find('?')
            .map_or(self.message.len(), |at| after + at + 1);
        let hint = self.message[start + 2..end].to_string();
        let message = format!("{}{}", &self.message[..start], &self.message[end..]);
        (message, Some(hint))
    }

    /// An error at `site` of `file`.
    pub fn at(file: &Path, site: &Site, kind: ErrorKind, message: impl Into<String>) -> Self {
        SpecError {
            file: file.to_path_buf(),
            line: site.line,
            column: site.column,
            path: Some(site.path.clone()),
            message: message.into(),
            kind,
        }
    }
}

impl fmt::Display for SpecError {
    /// One line: the field path and the message quote the job file's own
    /// keys and values, whose control characters are shown escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::text::printable;
        write!(f, "{}:", self.file.display())?;
        if self.line > 0 {
            write!(f, "{}:{}:", self.line, self.column)?;
        }
        match &self.path {
            Some(path) if !path.is_empty() => {
                write!(f, " {}: {}", printable(path), printable(&self.message))
            }
            _ => write!(f, " {}", printable(&self.message)),
        }
    }
}

impl std::error::Error for SpecError {}

/// Every problem found in a job file, in the order they appear in it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, thiserror::Error)]
#[serde(transparent)]
#[error("{}", lines(.0))]
pub struct SpecErrors(pub Vec<SpecError>);

/// The errors one per line (no trailing newline).
fn lines(errors: &[SpecError]) -> String {
    let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
    all.join("\n")
}

impl SpecErrors {
    /// One error about the file as a whole (unreadable, too large, not text).
    pub fn whole_file(file: &Path, message: impl Into<String>) -> Self {
        SpecErrors(vec![SpecError {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            path: None,
            message: message.into(),
            kind: ErrorKind::Job,
        }])
    }

    /// The errors, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, SpecError> {
        self.0.iter()
    }

    /// How many errors there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sorts the errors by position (stable, so equal positions keep their order).
    pub fn sort(&mut self) {
        self.0.sort_by_key(|e| (e.line, e.column));
    }
}

/// A place in the file and the field path that names it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Site {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// The field path.
    pub path: String,
}

/// Collects errors while a file is checked.
#[derive(Debug)]
pub(crate) struct Collector {
    file: PathBuf,
    errors: Vec<SpecError>,
    /// Where the fields the deep checks report on were found.
    pub sites: Sites,
}

impl Collector {
    /// A collector for errors in `file`.
    pub fn new(file: &Path) -> Self {
        Collector {
            file: file.to_path_buf(),
            errors: Vec::new(),
            sites: Sites::default(),
        }
    }

    /// Records an error at `site`.
    pub fn at(&mut self, site: &Site, message: impl Into<String>) {
        let error = SpecError::at(&self.file, site, ErrorKind::Job, message);
        self.errors.push(error);
    }

    /// Records an error with a location but no field path (syntax errors).
    pub fn syntax(&mut self, line: u32, column: u32, message: impl Into<String>) {
        self.errors.push(SpecError {
            file: self.file.clone(),
            line,
            column,
            path: None,
            message: message.into(),
            kind: ErrorKind::Job,
        });
    }

    /// Whether nothing went wrong so far.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors, sorted by position (stable, so equal positions keep their order).
    pub fn finish(self) -> SpecErrors {
        let mut errors = SpecErrors(self.errors);
        errors.sort();
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_file_line_column_path_message() {
        let e = SpecError {
            file: "jobs/bad.yaml".into(),
            line: 7,
            column: 19,
            path: Some("Tasks[0].Engine.Params.EntryModule".into()),
            message: "expected a path".into(),
            kind: ErrorKind::Job,
        };
        assert_eq!(
            e.to_string(),
            "jobs/bad.yaml:7:19: Tasks[0].Engine.Params.EntryModule: expected a path"
        );
        let whole = SpecErrors::whole_file(Path::new("x.yaml"), "cannot read it");
        assert_eq!(whole.to_string(), "x.yaml: cannot read it");
    }

    #[test]
    fn a_suggestion_comes_apart_from_its_message() {
        let with = |message: &str| SpecError {
            message: message.into(),
            ..SpecErrors::whole_file(Path::new("x.yaml"), "").0.remove(0)
        };
        assert_eq!(
            with("unknown job type `bach`; did you mean `batch`?; expected batch or ops")
                .message_and_hint(),
            (
                "unknown job type `bach`; expected batch or ops".to_string(),
                Some("did you mean `batch`?".to_string())
            )
        );
        assert_eq!(
            with("expected a path").message_and_hint(),
            ("expected a path".to_string(), None)
        );
    }
}
