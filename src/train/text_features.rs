//! A run's text inputs: frozen text-encoder features, computed once per (encoder, texts) and
//! cached on disk, or, when the encoder is fine-tuned, tokens encoded again at every step.
//!
//! With the encoder frozen, its output for a text never changes, so training only runs the
//! small text head: this is what makes CPU training practical.

use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};
use tch::{Kind, Tensor};

use super::RunError;
use crate::model::EmotionModel;
use crate::text::{TokenBatch, Tokens};

const ENCODE_BATCH: usize = 64;

/// Cache file for these texts under `cache_dir`, keyed by encoder, pooling and text contents.
pub fn cache_path(cache_dir: &Path, model: &EmotionModel, texts: &[&str]) -> PathBuf {
    let mut h = Sha1::new();
    h.update(model.config().text.encoder.as_bytes());
    h.update(b"\0");
    h.update(model.config().text.pooling.as_bytes());
    for t in texts {
        h.update(b"\0");
        h.update(t.as_bytes());
    }
    let key: String = h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    cache_dir.join(format!("text-features-{key}.safetensors"))
}

/// Where a run's text features come from.
pub enum TextInputs {
    /// Frozen encoder: its features of every text item, row = item index. [N, H]
    Cached(Tensor),
    /// Fine-tuned encoder: the tokens of every text item, encoded again at each use.
    Tokens(Vec<Tokens>),
}

impl TextInputs {
    /// Features `[rows.len(), H]` of the text items `rows`: gathered from the cache, or run
    /// through the encoder (with gradient and dropout when `train`).
    pub fn features(&self, model: &EmotionModel, rows: &[i64], train: bool) -> Result<Tensor, RunError> {
        match self {
            Self::Cached(all) => Ok(all.index_select(0, &Tensor::from_slice(rows).to_device(all.device()))),
            Self::Tokens(tokens) => {
                let picked: Vec<&Tokens> = rows.iter().map(|&r| &tokens[r as usize]).collect();
                if !train {
                    return encode_tokens(model, &picked).map(|f| f.to_device(model.device()));
                }
                let batch = TokenBatch::pad(&picked, model.tokenizer().pad_id(), model.device());
                model.text_features(&batch, true).map_err(|e| RunError::Weights(e.to_string()))
            }
        }
    }
}

/// Encoder features `[N, H]` (CPU, float) of token sequences, without gradient, in batches of
/// similar length.
pub fn encode_tokens(model: &EmotionModel, tokens: &[&Tokens]) -> Result<Tensor, RunError> {
    let wanted = [tokens.len() as i64, model.encoder_hidden_size()];
    let mut order: Vec<usize> = (0..tokens.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(tokens[i].len()));
    let mut rows: Vec<Tensor> = (0..tokens.len()).map(|_| Tensor::new()).collect();
    for chunk in order.chunks(ENCODE_BATCH) {
        let seqs: Vec<&Tokens> = chunk.iter().map(|&i| tokens[i]).collect();
        let batch = TokenBatch::pad(&seqs, model.tokenizer().pad_id(), model.device());
        let features = tch::no_grad(|| model.text_features(&batch, false))
            .map_err(|e| RunError::Weights(e.to_string()))?
            .to_device(tch::Device::Cpu)
            .to_kind(Kind::Float);
        for (r, &i) in chunk.iter().enumerate() {
            rows[i] = features.get(r as i64);
        }
    }
    Ok(if rows.is_empty() {
        Tensor::zeros(wanted, (Kind::Float, tch::Device::Cpu))
    } else {
        Tensor::stack(&rows, 0)
    })
}

/// Encoder features `[N, H]` (CPU, float) of `texts`, from the cache when present.
pub fn text_features(cache_dir: &Path, model: &EmotionModel, texts: &[&str]) -> Result<Tensor, RunError> {
    let path = cache_path(cache_dir, model, texts);
    let wanted = [texts.len() as i64, model.encoder_hidden_size()];
    if let Ok(mut tensors) = Tensor::read_safetensors(&path) {
        if let Some((_, t)) = tensors.pop().filter(|(_, t)| t.size() == wanted) {
            return Ok(t);
        }
    }
    let tokenizer = model.tokenizer();
    let tokens = tokenizer.encode_all(texts).map_err(|e| RunError::format(tokenizer.path(), e))?;
    let features = encode_tokens(model, &tokens.iter().collect::<Vec<_>>())?;
    std::fs::create_dir_all(cache_dir).map_err(|e| RunError::io(cache_dir, e))?;
    crate::model::weights::write_safetensors(&path, &[("features".to_string(), features.shallow_clone())])
        .map_err(|e| RunError::Weights(e.to_string()))?;
    Ok(features)
}
