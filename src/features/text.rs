//! A run's text inputs: frozen text-encoder features, computed once per (encoder, texts) and
//! cached on disk, or, when the encoder is fine-tuned, tokens encoded again at every step.
//!
//! With the encoder frozen, its output for a text never changes, so training only runs the
//! small text head: this is what makes CPU training practical.

use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};
use tch::{Kind, Tensor};

use super::FeatureError;
use crate::model::EmotionModel;
use crate::text::{TokenBatch, Tokens};

const ENCODE_BATCH: usize = 64;

/// Cache file for these texts under `cache_dir`, keyed by encoder, pooling and text contents.
pub fn cache_path(cache_dir: &Path, model: &EmotionModel, texts: &[&str]) -> PathBuf {
    let mut h = encoder_hasher(model);
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
    pub fn features(&self, model: &EmotionModel, rows: &[i64], train: bool) -> Result<Tensor, FeatureError> {
        match self {
            Self::Cached(all) => Ok(all.index_select(0, &Tensor::from_slice(rows).to_device(all.device()))),
            Self::Tokens(tokens) => {
                let picked: Vec<&Tokens> = rows.iter().map(|&r| &tokens[r as usize]).collect();
                if !train {
                    return encode_tokens(model, &picked).map(|f| f.to_device(model.device()));
                }
                let batch = TokenBatch::pad(&picked, model.tokenizer().pad_id(), model.device());
                Ok(model.text_features(&batch, true)?)
            }
        }
    }
}

/// Encoder features `[N, H]` (CPU, float) of token sequences, without gradient, in batches of
/// similar length.
pub fn encode_tokens(model: &EmotionModel, tokens: &[&Tokens]) -> Result<Tensor, FeatureError> {
    let wanted = [tokens.len() as i64, model.encoder_hidden_size()];
    let mut order: Vec<usize> = (0..tokens.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(tokens[i].len()));
    let mut rows: Vec<Tensor> = (0..tokens.len()).map(|_| Tensor::new()).collect();
    for chunk in order.chunks(ENCODE_BATCH) {
        let seqs: Vec<&Tokens> = chunk.iter().map(|&i| tokens[i]).collect();
        let batch = TokenBatch::pad(&seqs, model.tokenizer().pad_id(), model.device());
        let features = tch::no_grad(|| model.text_features(&batch, false))?
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

/// A hasher that has seen what makes a text's features: the encoder and its pooling.
fn encoder_hasher(model: &EmotionModel) -> Sha1 {
    let mut h = Sha1::new();
    h.update(model.config().text.encoder.as_bytes());
    h.update(b"\0");
    h.update(model.config().text.pooling.as_bytes());
    h
}

/// Key of one text under the model's encoder and pooling (rows of a cached corpus).
fn text_key(model: &EmotionModel, text: &str) -> u64 {
    let mut h = encoder_hasher(model);
    h.update(b"\0");
    h.update(text.as_bytes());
    let d = h.finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The rows of `texts` found in cached corpora (their `.keys` files), each `None` where no
/// cached corpus holds the text; an evaluation of one part of a joined training corpus, or a
/// corpus that grew by a few texts, then encodes only what is new.
fn from_cached_corpora(cache_dir: &Path, model: &EmotionModel, texts: &[&str]) -> Vec<Option<Tensor>> {
    let keys: Vec<u64> = texts.iter().map(|t| text_key(model, t)).collect();
    let mut found: Vec<Option<Tensor>> = (0..texts.len()).map(|_| None).collect();
    let Ok(entries) = std::fs::read_dir(cache_dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "keys") || found.iter().all(Option::is_some) {
            continue;
        }
        let Some(row_keys) = read_keys(&path) else { continue };
        let rows: std::collections::HashMap<u64, i64> =
            row_keys.iter().enumerate().map(|(i, &k)| (k, i as i64)).collect();
        let wanted: Vec<(usize, i64)> = (0..texts.len())
            .filter(|&i| found[i].is_none())
            .filter_map(|i| rows.get(&keys[i]).map(|&r| (i, r)))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let Some((_, all)) =
            Tensor::read_safetensors(path.with_extension("safetensors")).ok().and_then(|mut t| t.pop())
        else {
            continue;
        };
        if all.size().first() != Some(&(row_keys.len() as i64)) {
            continue;
        }
        for (i, r) in wanted {
            found[i] = Some(all.get(r));
        }
    }
    found
}

/// Texts encoded between partial saves and progress reports: a killed encoding of a large
/// corpus resumes from its last finished block.
pub const SAVE_BLOCK: usize = 4096;

/// File name prefix of a partial corpus (one finished block of a corpus still being encoded).
const PARTIAL_PREFIX: &str = "text-partial-";

/// Encoder features `[N, H]` (CPU, float) of `texts`, from the cache when present (this very
/// list, or cached corpora holding them; only texts no cached corpus holds are encoded). A new
/// list that needed encoding is cached as a corpus of its own.
pub fn text_features(cache_dir: &Path, model: &EmotionModel, texts: &[&str]) -> Result<Tensor, FeatureError> {
    text_features_in_blocks(cache_dir, model, texts, SAVE_BLOCK, &|_, _| {})
}

/// [`text_features`], encoding the missing texts `block` at a time: each finished block is
/// cached at once as a partial corpus (found again by a run that was killed), `progress(done,
/// total)` is told after each, and the partial corpora the whole one covers are removed once it
/// is written.
pub fn text_features_in_blocks(
    cache_dir: &Path,
    model: &EmotionModel,
    texts: &[&str],
    block: usize,
    progress: &dyn Fn(usize, usize),
) -> Result<Tensor, FeatureError> {
    let path = cache_path(cache_dir, model, texts);
    let wanted = [texts.len() as i64, model.encoder_hidden_size()];
    if texts.is_empty() {
        return Ok(Tensor::zeros(wanted, (Kind::Float, tch::Device::Cpu)));
    }
    if let Ok(mut tensors) = Tensor::read_safetensors(&path) {
        if let Some((_, t)) = tensors.pop().filter(|(_, t)| t.size() == wanted) {
            write_keys(&path, model, texts)?;
            return Ok(t);
        }
    }
    let mut rows = from_cached_corpora(cache_dir, model, texts);
    if rows.iter().all(Option::is_some) {
        return Ok(Tensor::stack(&rows.into_iter().flatten().collect::<Vec<_>>(), 0));
    }
    let io = |source| FeatureError::Io { path: cache_dir.to_path_buf(), source };
    std::fs::create_dir_all(cache_dir).map_err(io)?;
    let missing: Vec<usize> = (0..texts.len()).filter(|&i| rows[i].is_none()).collect();
    let tokenizer = model.tokenizer();
    let mut done = 0;
    for part in missing.chunks(block.max(1)) {
        let part_texts: Vec<&str> = part.iter().map(|&i| texts[i]).collect();
        let tokens = tokenizer
            .encode_all(&part_texts)
            .map_err(|source| FeatureError::Tokenizer { path: tokenizer.path().to_path_buf(), source })?;
        let encoded = encode_tokens(model, &tokens.iter().collect::<Vec<_>>())?;
        for (r, &i) in part.iter().enumerate() {
            rows[i] = Some(encoded.get(r as i64));
        }
        done += part.len();
        if done < missing.len() {
            let name = cache_path(cache_dir, model, &part_texts)
                .file_name()
                .map(|n| n.to_string_lossy().replacen("text-features-", PARTIAL_PREFIX, 1))
                .unwrap_or_default();
            let partial = cache_dir.join(name);
            crate::model::weights::write_safetensors(&partial, &[("features".to_string(), encoded)])?;
            write_keys(&partial, model, &part_texts)?;
        }
        progress(done, missing.len());
    }
    let features = Tensor::stack(&rows.into_iter().flatten().collect::<Vec<_>>(), 0);
    crate::model::weights::write_safetensors(&path, &[("features".to_string(), features.shallow_clone())])?;
    write_keys(&path, model, texts)?;
    remove_covered_partials(cache_dir, model, texts);
    Ok(features)
}

/// Removes the partial corpora whose texts are all among `texts` (cached whole by now). Best
/// effort: a partial left behind only costs disk, and is still a valid cache.
fn remove_covered_partials(cache_dir: &Path, model: &EmotionModel, texts: &[&str]) {
    let keys: std::collections::HashSet<u64> = texts.iter().map(|t| text_key(model, t)).collect();
    let Ok(entries) = std::fs::read_dir(cache_dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(PARTIAL_PREFIX) || path.extension().is_none_or(|e| e != "keys") {
            continue;
        }
        if read_keys(&path).is_some_and(|row_keys| row_keys.iter().all(|k| keys.contains(k))) {
            let _ = std::fs::remove_file(&path);
            let _ = std::fs::remove_file(path.with_extension("safetensors"));
        }
    }
}

/// The row keys of a cached corpus (its `.keys` file), or `None` when it cannot be read.
fn read_keys(path: &Path) -> Option<Vec<u64>> {
    let bytes = std::fs::read(path).ok()?;
    Some(bytes.chunks_exact(8).filter_map(|b| Some(u64::from_le_bytes(b.try_into().ok()?))).collect())
}

/// Row keys beside a cached corpus (once), so a subset of its texts is found later.
fn write_keys(path: &Path, model: &EmotionModel, texts: &[&str]) -> Result<(), FeatureError> {
    let keys_path = path.with_extension("keys");
    if keys_path.is_file() {
        return Ok(());
    }
    let keys: Vec<u8> = texts.iter().flat_map(|t| text_key(model, t).to_le_bytes()).collect();
    crate::config::write_atomic(&keys_path, &keys)
        .map_err(|source| FeatureError::Io { path: keys_path.clone(), source })
}
