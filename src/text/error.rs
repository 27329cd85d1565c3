//! Errors of the text front end: model files, tokenizer, weights.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("invalid model config {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("unsupported model_type {model_type:?} in {path} (supported: bert, distilbert)")]
    UnsupportedModel { path: PathBuf, model_type: String },
    #[error("cannot load tokenizer {path}: {message}")]
    Tokenizer { path: PathBuf, message: String },
    #[error("tokenizing failed: {0}")]
    Encode(String),
    #[error("cannot read weights {path}: {message}")]
    Weights { path: PathBuf, message: String },
    #[error("weights {path} lack {count} tensor(s) the model needs, e.g. {first}")]
    MissingTensor { path: PathBuf, count: usize, first: String },
    #[error("weights {path}: tensor {name} has shape {found:?}, the model expects {expected:?}")]
    ShapeMismatch { path: PathBuf, name: String, expected: Vec<i64>, found: Vec<i64> },
    #[error("tokenizer {path} can produce ids up to {tokenizer_vocab}, but the model has {model_vocab} embeddings")]
    VocabMismatch { path: PathBuf, tokenizer_vocab: usize, model_vocab: i64 },
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

pub type Result<T, E = TextError> = std::result::Result<T, E>;
