//! Emotion vocabularies, the paper's label mappings, valence–arousal lexicons and word vectors.
//!
//! Text datasets and music datasets label emotion in different vocabularies; everything that
//! bridges them (mapping sets for evaluation, VA targets, word-vector targets) lives here.

mod lexicon;
mod mapping;
mod quadrant;
mod story;
mod tables;
mod vectors;
mod vocabulary;

use std::path::PathBuf;

pub use lexicon::{VaLexicon, VaScale};
pub use mapping::{Mapping, TrainMapper};
pub use quadrant::Quadrant;
pub use story::StoryMoods;
pub use tables::{MoodTables, MOOD_VA_JSON, MOOD_VECTORS_JSON};
pub use vectors::WordVectors;
pub use vocabulary::{all_mood_words, MoodVocabulary};

/// Errors of the emotion readers; every message names the file (and line) at fault.
#[derive(Debug, thiserror::Error)]
pub enum EmotionError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Line { path: PathBuf, line: usize, message: String },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("unknown mapping {0:?} (expected manual, vad or w2v)")]
    UnknownMapping(String),
    #[error("unknown mood vocabulary {0:?} (expected audioset, isear, alm, goemotions, goemotions-original, story or 4q)")]
    UnknownVocabulary(String),
    #[error("shipped table data/{file} is invalid: {message}")]
    Shipped { file: &'static str, message: String },
}

impl EmotionError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), source }
    }
    pub(crate) fn format(path: &std::path::Path, message: impl Into<String>) -> Self {
        Self::Format { path: path.to_path_buf(), message: message.into() }
    }
    /// A cached shipped-table error, again (the cache keeps the first; errors are not Clone).
    pub(crate) fn shipped_again(e: &EmotionError) -> Self {
        match e {
            Self::Shipped { file, message } => Self::Shipped { file, message: message.clone() },
            other => Self::Shipped { file: "tables", message: other.to_string() },
        }
    }
    pub(crate) fn line(path: &std::path::Path, line: usize, message: impl Into<String>) -> Self {
        Self::Line { path: path.to_path_buf(), line, message: message.into() }
    }
}
