//! Errors of the model code: every message names the file, tensor or field at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{what}: expected shape {expected}, got {got:?}")]
    Shape { what: String, expected: String, got: Vec<i64> },
    #[error("weights {path}: tensor `{name}` is missing")]
    MissingTensor { path: PathBuf, name: String },
    #[error("weights {path}: tensor `{name}` has shape {got:?}, the model expects {expected:?}")]
    TensorShape { path: PathBuf, name: String, expected: Vec<i64>, got: Vec<i64> },
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("invalid model config {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("{path} is not a model: expected a model directory (model.toml), a run directory (best.safetensors) or a Lightning .ckpt")]
    NotAModel { path: PathBuf },
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    #[error("the {space} space has no {branch} branch")]
    NoBranch { space: &'static str, branch: &'static str },
    #[error("audio front end: {0}")]
    Audio(#[from] crate::audio::AudioError),
    #[error("text encoder: {0}")]
    Text(String),
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// Checks that `t` has `rank` dimensions, naming `what` in the error.
pub(crate) fn expect_rank(t: &tch::Tensor, rank: usize, what: &str, expected: &str) -> Result<Vec<i64>> {
    let size = t.size();
    if size.len() != rank {
        return Err(ModelError::Shape { what: what.into(), expected: expected.into(), got: size });
    }
    Ok(size)
}
