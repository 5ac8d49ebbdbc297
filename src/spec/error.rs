//! Located spec errors: every problem in a job file, each on one line as
//! `FILE:LINE:COLUMN: FIELD.PATH: message`.

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
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.file.display())?;
        if self.line > 0 {
            write!(f, "{}:{}:", self.line, self.column)?;
        }
        match &self.path {
            Some(path) if !path.is_empty() => write!(f, " {path}: {}", self.message),
            _ => write!(f, " {}", self.message),
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
}

/// A place in the file and the field path that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Site {
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
}

impl Collector {
    /// A collector for errors in `file`.
    pub fn new(file: &Path) -> Self {
        Collector {
            file: file.to_path_buf(),
            errors: Vec::new(),
        }
    }

    /// Records an error at `site`.
    pub fn at(&mut self, site: &Site, message: impl Into<String>) {
        self.errors.push(SpecError {
            file: self.file.clone(),
            line: site.line,
            column: site.column,
            path: Some(site.path.clone()),
            message: message.into(),
        });
    }

    /// Records an error with a location but no field path (syntax errors).
    pub fn syntax(&mut self, line: u32, column: u32, message: impl Into<String>) {
        self.errors.push(SpecError {
            file: self.file.clone(),
            line,
            column,
            path: None,
            message: message.into(),
        });
    }

    /// Whether nothing went wrong so far.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors, sorted by position (stable, so equal positions keep their order).
    pub fn finish(mut self) -> SpecErrors {
        self.errors.sort_by_key(|e| (e.line, e.column));
        SpecErrors(self.errors)
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
        };
        assert_eq!(
            e.to_string(),
            "jobs/bad.yaml:7:19: Tasks[0].Engine.Params.EntryModule: expected a path"
        );
        let whole = SpecErrors::whole_file(Path::new("x.yaml"), "cannot read it");
        assert_eq!(whole.to_string(), "x.yaml: cannot read it");
    }
}
