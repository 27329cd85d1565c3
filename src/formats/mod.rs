//! File formats every layer reads: numpy `.npy` ([`npy`]: headers, numbers, strings and object
//! arrays; numeric arrays elsewhere go through ndarray-npy) and Python pickles, read as data and
//! never executed ([`pickle`] on serde-pickle for plain pickles; [`torch_pickle`] for the pickles
//! inside `torch.save` archives, whose persistent ids serde-pickle does not support).

pub mod npy;
pub mod pickle;
pub mod torch_pickle;

use std::path::{Path, PathBuf};

/// A file that could not be read as the format it claims; the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl FormatError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), source }
    }

    pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> Self {
        Self::Invalid { path: path.to_path_buf(), message: message.into() }
    }
}
