//! The authors' PyTorch Lightning checkpoints (`alm_cross.ckpt`, `isear_cross.ckpt`): a
//! `torch.save` archive whose `state_dict` holds the three-branch model under `model.`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tch::{Device, Tensor};

use super::config::{ModelConfig, DEFAULT_ENCODER, ENCODER_DIR};
use super::emotion_model::EmotionModel;
use super::error::{ModelError, Result};
use super::space::Space;
use super::torch_archive::TorchArchive;
use super::weights::copy_matching;
use crate::emotion::{MoodVocabulary, WordVectors};
use crate::formats::torch_pickle::Value;
use crate::text::{DistilBertConfig, EncoderConfig};

/// Choices a checkpoint does not record.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// DistilBERT attention heads (not in the checkpoint; default `dim / 64`, as distilbert-base).
    pub n_heads: Option<i64>,
    /// Text label vocabulary the model was trained on: `isear` or `alm`.
    pub text_vocabulary: String,
    /// Word vectors of the tag-branch width (e.g. 300-d word2vec) for the mood anchors; without
    /// them the anchors are the text branch's embeddings of the mood words.
    pub word_vectors: Option<PathBuf>,
    /// Tokenizer directory (uncased WordPiece; MiniLM's is distilbert-base-uncased's vocabulary).
    pub tokenizer: String,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            n_heads: None,
            text_vocabulary: "isear".into(),
            word_vectors: None,
            tokenizer: DEFAULT_ENCODER.into(),
        }
    }
}

/// The checkpoint's `state_dict` with the `model.` prefix stripped, materialised.
pub fn read_state_dict(path: &Path) -> Result<HashMap<String, Tensor>> {
    let err = |message: String| ModelError::Checkpoint { path: path.into(), message };
    let mut archive = TorchArchive::open(path)?;
    let state = archive
        .root
        .get("state_dict")
        .cloned()
        .ok_or_else(|| err("no state_dict in the checkpoint".into()))?;
    let Value::Dict(items) = state else { return Err(err("state_dict is not a dict".into())) };
    let mut out = HashMap::new();
    for (k, v) in items {
        let (Value::Str(name), Value::Tensor(t)) = (k, v) else {
            return Err(err("state_dict entries must map names to tensors".into()));
        };
        let tensor = archive.tensor(&t)?;
        out.insert(name.strip_prefix("model.").unwrap_or(&name).to_string(), tensor);
    }
    Ok(out)
}

fn dim(tensors: &HashMap<String, Tensor>, name: &str, axis: usize, path: &Path) -> Result<i64> {
    let t = tensors
        .get(name)
        .ok_or_else(|| ModelError::MissingTensor { path: path.into(), name: format!("model.{name}") })?;
    t.size().get(axis).copied().ok_or_else(|| ModelError::TensorShape {
        path: path.into(),
        name: format!("model.{name}"),
        expected: vec![-1; axis + 1],
        got: t.size(),
    })
}

/// Reads a Lightning `.ckpt` as data and builds the three-branch model it holds (DistilBERT
/// text encoder, fine-tuned, so its weights stay with the model).
pub fn import_lightning(path: &Path, options: &ImportOptions, device: Device) -> Result<EmotionModel> {
    let tensors = read_state_dict(path)?;
    let d = |name: &str, axis| dim(&tensors, name, axis, path);
    let hidden = d("bert.embeddings.word_embeddings.weight", 1)?;
    let n_layers = (0..)
        .take_while(|i| tensors.contains_key(&format!("bert.transformer.layer.{i}.attention.q_lin.weight")))
        .count() as i64;
    let encoder = DistilBertConfig {
        vocab_size: d("bert.embeddings.word_embeddings.weight", 0)?,
        dim: hidden,
        n_layers,
        n_heads: options.n_heads.unwrap_or((hidden / 64).max(1)),
        hidden_dim: d("bert.transformer.layer.0.ffn.lin1.weight", 0)?,
        max_position_embeddings: d("bert.embeddings.position_embeddings.weight", 0)?,
        ..DistilBertConfig::base_uncased()
    };
    let labels = MoodVocabulary::by_name(&options.text_vocabulary)
        .map_err(|e| ModelError::Checkpoint { path: path.into(), message: e.to_string() })?;
    let mut config = ModelConfig::with_vocabularies(
        Space::ThreeBranch,
        MoodVocabulary::AUDIOSET.words,
        labels.words,
        "manual",
    )?;
    config.embed_dim = d("song_fc2.weight", 0)?;
    config.head_hidden = d("song_fc1.weight", 0)?;
    config.audio.ndim = d("layer1.conv.weight", 0)?;
    config.tag_dim = d("tag_fc1.weight", 1)?;
    config.mood_vectors.clear();
    if let Some(file) = &options.word_vectors {
        let vectors = WordVectors::load(file)
            .map_err(|e| ModelError::Read { path: file.clone(), message: e.to_string() })?;
        for mood in &config.moods {
            if let Some(v) = vectors.get(mood) {
                config.mood_vectors.insert(mood.clone(), v.to_vec());
            }
        }
    }
    config.text.encoder = ENCODER_DIR.into();
    config.text.tokenizer = options.tokenizer.clone();
    config.text.fine_tuned = true;
    let mut model = EmotionModel::build(config, device, None, Some(EncoderConfig::DistilBert(encoder)))?;
    copy_matching(&model.vs, &tensors, path, |name| Some(name.to_string()))
        .map_err(|e| ModelError::Checkpoint { path: path.into(), message: e.to_string() })?;
    model.id = model.compute_id()?;
    Ok(model)
}
