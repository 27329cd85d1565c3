//! What frozen models compute from items, cached on disk so it is computed once: text-encoder
//! features of texts ([`text`]) and clip embeddings under a model ([`clips`]). Training and
//! evaluation both sit above this module.

pub mod clips;
pub mod progress;
pub mod text;

use std::path::PathBuf;

use crate::cache::CacheError;
use crate::config::ConfigError;
use crate::model::ModelError;
use crate::text::TextError;

#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// The model failed on its inputs.
    #[error("weights: {0}")]
    Model(#[from] ModelError),
    /// A clip the model could not embed.
    #[error("{path}: {source}")]
    Clip { path: PathBuf, source: ModelError },
    /// A clip that cannot be decoded (its own error names the file), or the cache's I/O.
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Tokenizer { path: PathBuf, source: TextError },
    #[error("weights: the {0} trunk has no feature rows")]
    NoFeatureRows(String),
    #[error("cache dir: {0}")]
    CacheDir(#[from] ConfigError),
}
