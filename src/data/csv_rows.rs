//! What the CSV loaders (EmoBank, 4Q, manifests) share: opening, header columns, and rows that
//! the csv crate cannot read turned into `RowIssue`s instead of errors.

use std::path::Path;

use super::{DataError, RowIssue};

/// A reader error as a `DataError` naming `path`.
pub(crate) fn open_error(path: &Path, e: csv::Error) -> DataError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => DataError::io(path, io),
        other => DataError::format(path, format!("{other:?}")),
    }
}

/// Index of the header column `name` (compared trimmed), or an error naming the file's line 1.
pub(crate) fn column(headers: &csv::StringRecord, path: &Path, name: &str) -> Result<usize, DataError> {
    headers
        .iter()
        .position(|h| h.trim() == name)
        .ok_or_else(|| DataError::line(path, 1, format!("missing column {name:?}")))
}

/// A record and its line, or `None` after noting why the row could not be read.
pub(crate) fn row(
    path: &Path,
    record: csv::Result<csv::StringRecord>,
    issues: &mut Vec<RowIssue>,
) -> Option<(usize, csv::StringRecord)> {
    match record {
        Ok(r) => Some((r.position().map_or(0, |p| p.line() as usize), r)),
        Err(e) => {
            let line = e.position().map_or(0, |p| p.line() as usize);
            issues.push(RowIssue::new(path, line, format!("unreadable row: {e}")));
            None
        }
    }
}
