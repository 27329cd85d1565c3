//! Model directories (`model.toml` + `model.safetensors`), run directories and checkpoints.

use std::path::{Path, PathBuf};

use tch::{Device, Tensor};

use super::config::{ModelConfig, ENCODER_DIR};
use super::emotion_model::{EmotionModel, ENCODER_PREFIX};
use super::error::{ModelError, Result};
use super::weights::{content_id, copy_matching, read_safetensors, state_dict, write_safetensors};
use crate::text::EncoderConfig;

pub const CONFIG_FILE: &str = "model.toml";
pub const WEIGHTS_FILE: &str = "model.safetensors";

impl EmotionModel {
    /// The tensors `save` writes: everything, minus the encoder unless it was fine-tuned.
    pub fn state_dict(&self) -> Vec<(String, Tensor)> {
        let with_encoder = self.config.text.fine_tuned;
        state_dict(&self.vs, |name| with_encoder || !name.starts_with(ENCODER_PREFIX))
    }

    pub(crate) fn compute_id(&self) -> Result<String> {
        let mut config = self.config.clone();
        config.id = String::new();
        content_id(&config.to_toml()?, &self.state_dict())
    }

    /// Marks the encoder as trained with the heads, so `save` includes its weights.
    pub fn set_fine_tuned(&mut self, fine_tuned: bool) {
        self.config.text.fine_tuned = fine_tuned;
    }

    /// Writes `dir/model.toml` and `dir/model.safetensors` (each atomically) and returns the new
    /// id. A fine-tuned encoder's `config.json` goes to `dir/text_encoder/`, so the directory is
    /// self-contained.
    pub fn save(&mut self, dir: &Path) -> Result<String> {
        let write_err = |path: &Path, e: &dyn std::fmt::Display| ModelError::Write {
            path: path.into(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| write_err(dir, &e))?;
        if self.config.text.fine_tuned {
            let json = encoder_config_json(&self.encoder_config)?;
            let path = dir.join(ENCODER_DIR).join("config.json");
            crate::config::write_atomic(&path, json.as_bytes()).map_err(|e| write_err(&path, &e))?;
            if self.config.text.tokenizer.is_empty() {
                self.config.text.tokenizer = self.config.text.encoder.clone();
            }
            self.config.text.encoder = ENCODER_DIR.into();
        }
        let tensors = self.state_dict();
        write_safetensors(&dir.join(WEIGHTS_FILE), &tensors)?;
        self.id = self.compute_id()?;
        self.config.id = self.id.clone();
        let path = dir.join(CONFIG_FILE);
        crate::config::write_atomic(&path, self.config.to_toml()?.as_bytes())
            .map_err(|e| write_err(&path, &e))?;
        Ok(self.id.clone())
    }

    /// Opens a model directory (`model.toml` + `model.safetensors`), a run directory
    /// (`best.safetensors` with `model.toml` or `config.toml`) or an authors' Lightning `.ckpt`.
    pub fn load(path: &Path, device: Device) -> Result<Self> {
        if path.is_file() && path.extension().is_some_and(|e| e == "ckpt") {
            return super::lightning::import_lightning(
                path,
                &super::lightning::ImportOptions::default(),
                device,
            );
        }
        let (config_path, weights) = locate(path)?;
        let config = ModelConfig::load(&config_path)?;
        Self::from_files(config, &weights, path, device)
    }

    /// Builds the model of `config` and copies every weight from `weights`.
    pub(crate) fn from_files(
        config: ModelConfig,
        weights: &Path,
        dir: &Path,
        device: Device,
    ) -> Result<Self> {
        let mut model = Self::build(config, device, Some(dir), None)?;
        let tensors = read_safetensors(weights)?;
        let with_encoder = model.config.text.fine_tuned;
        copy_matching(&model.vs, &tensors, weights, |name| {
            (with_encoder || !name.starts_with(ENCODER_PREFIX)).then(|| name.to_string())
        })?;
        if with_encoder {
            model.refresh_mood_words()?;
        }
        model.id = model.compute_id()?;
        model.config.id = model.id.clone();
        Ok(model)
    }
}

/// (config file, weights file) of a model or run directory.
fn locate(path: &Path) -> Result<(PathBuf, PathBuf)> {
    let weights = [WEIGHTS_FILE, "best.safetensors"].iter().map(|w| path.join(w)).find(|p| p.is_file());
    let config = [CONFIG_FILE, "config.toml"].iter().map(|c| path.join(c)).find(|p| p.is_file());
    match (config, weights) {
        (Some(c), Some(w)) => Ok((c, w)),
        _ => Err(ModelError::NotAModel { path: path.into() }),
    }
}

/// The encoder's Hugging Face `config.json` (with `model_type`).
fn encoder_config_json(cfg: &EncoderConfig) -> Result<String> {
    let (mut value, kind) = match cfg {
        EncoderConfig::Bert(c) => (serde_json::to_value(c), "bert"),
        EncoderConfig::DistilBert(c) => (serde_json::to_value(c), "distilbert"),
    };
    if let Ok(serde_json::Value::Object(map)) = &mut value {
        map.insert("model_type".into(), kind.into());
    }
    let value = value.map_err(|e| ModelError::Text(e.to_string()))?;
    serde_json::to_string_pretty(&value).map_err(|e| ModelError::Text(e.to_string()))
}
