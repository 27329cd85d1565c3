//! One text encoder over both architectures, chosen from `config.json`'s `model_type`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tch::{nn, Device, Tensor};

use super::bert::{Bert, BertConfig};
use super::distilbert::{DistilBert, DistilBertConfig};
use super::error::{Result, TextError};
use super::weights::{load_safetensors, LoadReport};

/// Architecture and sizes of a Hugging Face encoder.
#[derive(Debug, Clone, PartialEq)]
pub enum EncoderConfig {
    Bert(BertConfig),
    DistilBert(DistilBertConfig),
}

#[derive(Deserialize)]
struct ModelType {
    model_type: Option<String>,
}

impl EncoderConfig {
    /// Parses a `config.json`; `model_type` picks the architecture.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|source| TextError::Io { path: path.into(), source })?;
        Self::from_json(&text, path)
    }

    /// Parses config.json text; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &Path) -> Result<Self> {
        let bad = |message: String| TextError::Config { path: origin.into(), message };
        let kind: ModelType = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let cfg = match kind.model_type.as_deref() {
            Some("bert") => Self::Bert(serde_json::from_str(text).map_err(|e| bad(e.to_string()))?),
            Some("distilbert") => {
                Self::DistilBert(serde_json::from_str(text).map_err(|e| bad(e.to_string()))?)
            }
            Some(other) => {
                return Err(TextError::UnsupportedModel { path: origin.into(), model_type: other.into() })
            }
            None => return Err(bad("missing field `model_type`".into())),
        };
        match &cfg {
            Self::Bert(c) => c.validate(origin)?,
            Self::DistilBert(c) => c.validate(origin)?,
        }
        Ok(cfg)
    }

    pub fn hidden_size(&self) -> i64 {
        match self {
            Self::Bert(c) => c.hidden_size,
            Self::DistilBert(c) => c.dim,
        }
    }

    /// The longest sequence the position embeddings cover.
    pub fn max_positions(&self) -> i64 {
        match self {
            Self::Bert(c) => c.max_position_embeddings,
            Self::DistilBert(c) => c.max_position_embeddings,
        }
    }

    pub fn vocab_size(&self) -> i64 {
        match self {
            Self::Bert(c) => c.vocab_size,
            Self::DistilBert(c) => c.vocab_size,
        }
    }

    /// Name prefixes of the architecture's task-head checkpoints (`BertForMaskedLM`, …).
    fn checkpoint_prefixes(&self) -> &'static [&'static str] {
        match self {
            Self::Bert(_) => &["bert."],
            Self::DistilBert(_) => &["distilbert."],
        }
    }
}

/// A BERT or DistilBERT encoder.
#[derive(Debug)]
pub enum TextEncoder {
    Bert(Bert),
    DistilBert(DistilBert),
}

impl TextEncoder {
    /// Builds the encoder's variables under `p` (to embed it in a larger model).
    pub fn new(p: nn::Path, cfg: &EncoderConfig) -> Result<Self> {
        Ok(match cfg {
            EncoderConfig::Bert(c) => Self::Bert(Bert::new(p, c)?),
            EncoderConfig::DistilBert(c) => Self::DistilBert(DistilBert::new(p, c)?),
        })
    }

    /// Loads a Hugging Face model directory (`config.json`, `model.safetensors`) into a fresh
    /// `VarStore` on `device`, whose variable names are the checkpoint's (minus any `bert.` /
    /// `distilbert.` prefix), so it can be fine-tuned and saved back.
    pub fn load(dir: &Path, device: Device) -> Result<(nn::VarStore, Self, LoadReport)> {
        let cfg = EncoderConfig::from_file(&dir.join("config.json"))?;
        let mut vs = nn::VarStore::new(device);
        let encoder = Self::new(vs.root(), &cfg)?;
        let report = load_safetensors(&mut vs, &weights_file(dir), cfg.checkpoint_prefixes())?;
        Ok((vs, encoder, report))
    }

    pub fn hidden_size(&self) -> i64 {
        match self {
            Self::Bert(m) => m.config().hidden_size,
            Self::DistilBert(m) => m.config().dim,
        }
    }

    /// The longest sequence (in tokens) the model accepts.
    pub fn max_len(&self) -> i64 {
        match self {
            Self::Bert(m) => m.config().max_position_embeddings,
            Self::DistilBert(m) => m.config().max_position_embeddings,
        }
    }

    pub fn vocab_size(&self) -> i64 {
        match self {
            Self::Bert(m) => m.config().vocab_size,
            Self::DistilBert(m) => m.config().vocab_size,
        }
    }

    /// `ids`, `mask` int64 `[B, L]` (mask 1 = token), `L ≤ max_len()` → last hidden state `[B, L, H]`.
    pub fn forward_t(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Tensor {
        match self {
            Self::Bert(m) => m.forward_t(ids, mask, train),
            Self::DistilBert(m) => m.forward_t(ids, mask, train),
        }
    }
}

/// `model.safetensors` of a model directory.
pub fn weights_file(dir: &Path) -> PathBuf {
    dir.join("model.safetensors")
}
