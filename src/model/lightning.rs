//! The authors' PyTorch Lightning checkpoints (`alm_cross.ckpt`, `isear_cross.ckpt`).

use std::path::Path;

use tch::Device;

use super::emotion_model::EmotionModel;
use super::error::{ModelError, Result};

/// Choices a checkpoint does not record.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// DistilBERT attention heads (the checkpoint has no config; default `dim / 64`).
    pub n_heads: Option<i64>,
}

/// Reads a Lightning `.ckpt` as data and builds the three-branch model it holds.
pub fn import_lightning(path: &Path, _options: &ImportOptions, _device: Device) -> Result<EmotionModel> {
    Err(ModelError::Checkpoint { path: path.into(), message: "Lightning import is not available yet".into() })
}
