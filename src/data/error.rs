//! Errors and row-level issues of the dataset readers.

use std::fmt;
use std::path::{Path, PathBuf};

/// A failure that stops a load; every message names the file (and line) at fault.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}:{line}: {message}")]
    Line { path: PathBuf, line: usize, message: String },
    #[error("unknown dataset kind {kind:?} in {spec:?} (expected one of: {})", super::DatasetKind::NAMES.join(", "))]
    UnknownKind { spec: String, kind: String },
    #[error("dataset spec {0:?} is not KIND:PATH (e.g. isear:/data/isear.csv)")]
    BadSpec(String),
    #[error("no such file or directory: {0}")]
    Missing(PathBuf),
    #[error(transparent)]
    Emotion(#[from] Box<crate::emotion::EmotionError>),
}

impl DataError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            return Self::Missing(path.to_path_buf());
        }
        Self::Io { path: path.to_path_buf(), source }
    }
    pub(crate) fn format(path: &Path, message: impl Into<String>) -> Self {
        Self::Format { path: path.to_path_buf(), message: message.into() }
    }
    pub(crate) fn line(path: &Path, line: usize, message: impl Into<String>) -> Self {
        Self::Line { path: path.to_path_buf(), line, message: message.into() }
    }
}

/// A malformed or dropped row: the load goes on without it, and the caller can report it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowIssue {
    pub path: PathBuf,
    /// 1-based line number; 0 when the issue concerns the file as a whole or an array index.
    pub line: usize,
    pub message: String,
}

impl RowIssue {
    pub(crate) fn new(path: &Path, line: usize, message: impl Into<String>) -> Self {
        Self { path: path.to_path_buf(), line, message: message.into() }
    }
}

impl fmt::Display for RowIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
        }
    }
}

impl From<crate::formats::FormatError> for DataError {
    fn from(e: crate::formats::FormatError) -> Self {
        match e {
            crate::formats::FormatError::Io { path, source } => Self::io(&path, source),
            crate::formats::FormatError::Invalid { path, message } => Self::Format { path, message },
        }
    }
}
