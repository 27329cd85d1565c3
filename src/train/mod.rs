//! Training: the configuration, the run directory and its metrics log, and the background trainer.

pub mod alerts;
mod calibrate;
mod config;
pub mod corpus;
pub mod feed;
pub mod follow;
mod metrics_log;
mod mood_loss;
mod run_dir;
pub mod run_status;
pub mod setup;
mod space_loss;
pub mod trainer;

use std::path::{Path, PathBuf};

pub use config::{
    ConfigProblem, Naming, RatingStretch, Ratings, TrainConfig, TrainRequest, DEFAULT_PRIOR_POWER,
    DEFAULT_RATINGS, DEFAULT_SONG_PRIOR_POWER, DEFAULT_ZERO_SHOT_TEMPERATURE, DEFAULT_ZERO_SHOT_WEIGHT,
};
pub use metrics_log::{read_metrics, MetricsLog, MetricsRecord, RunWatcher};
pub use run_dir::{
    read_splits, CheckpointState, RunDir, RunSplits, BEST_WEIGHTS, CONFIG_FILE, METRICS_FILE, SPLITS_FILE,
};
pub use trainer::{TrainCommand, TrainEvent, Trainer};

/// Errors of the run directory and the trainer.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    /// A config value out of range (a hand-edited `config.toml`, or a run built in code).
    #[error("{path}: {source}")]
    Config { path: PathBuf, source: ConfigProblem },
    #[error("{0} already holds a training run (config.toml exists); pass --resume to continue it")]
    Exists(PathBuf),
    #[error("{dir} is being trained by {holder}; follow it with `storyscore monitor` or wait for it to end")]
    Busy { dir: PathBuf, holder: String },
    #[error("weights: {0}")]
    Weights(#[from] crate::model::ModelError),
    #[error("weights: {0}")]
    Torch(#[from] tch::TchError),
    #[error(transparent)]
    Emotion(#[from] crate::emotion::EmotionError),
    /// A dataset that cannot be read (the message names the file and line).
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Cache(crate::cache::CacheError),
    #[error(transparent)]
    Features(Box<crate::features::FeatureError>),
}

impl From<crate::features::FeatureError> for RunError {
    fn from(e: crate::features::FeatureError) -> Self {
        Self::Features(Box::new(e))
    }
}

impl From<crate::cache::CacheError> for RunError {
    fn from(e: crate::cache::CacheError) -> Self {
        use crate::cache::CacheError;
        match e {
            CacheError::Io { path, source } => Self::Io { path, source },
            CacheError::Audio(e) => match e.path() {
                Some(path) => Self::Format { path: path.into(), message: e.reason() },
                None => Self::Cache(CacheError::Audio(e)),
            },
            other => Self::Cache(other),
        }
    }
}

impl RunError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    pub(crate) fn format(path: &Path, e: impl std::fmt::Display) -> Self {
        Self::Format { path: path.into(), message: e.to_string() }
    }
}
