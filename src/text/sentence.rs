//! Texts in, one embedding per text out: tokenizer + encoder + pooling, batched.

use std::path::Path;

use serde::Deserialize;
use tch::{nn, Device, Kind, Tensor};

use super::encoder::TextEncoder;
use super::error::{Result, TextError};
use super::pooling::{l2_normalize, Pooling};
use super::tokenizer::{read_json, TextTokenizer, TokenBatch, Tokens};

/// Texts per forward pass unless set otherwise (sentence-transformers' default).
pub const DEFAULT_BATCH_SIZE: usize = 32;

/// Embeddings of a list of texts, in input order.
#[derive(Debug)]
pub struct SentenceEmbeddings {
    /// float `[B, H]`.
    pub embeddings: Tensor,
    /// How many texts were longer than the model's limit and were cut.
    pub truncated: usize,
}

#[derive(Deserialize)]
struct Module {
    #[serde(rename = "type")]
    kind: String,
}

/// A Hugging Face / sentence-transformers model directory ready to embed texts.
#[derive(Debug)]
pub struct SentenceEncoder {
    vs: nn::VarStore,
    encoder: TextEncoder,
    tokenizer: TextTokenizer,
    batch_size: usize,
    normalize: bool,
}

impl SentenceEncoder {
    /// Loads `dir` (config.json, tokenizer.json, model.safetensors; sentence_bert_config.json and
    /// modules.json when present). Output is L2-normalised when modules.json lists a Normalize
    /// module, as for all-MiniLM-L6-v2.
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        let tokenizer = TextTokenizer::from_model_dir(dir)?;
        let (vs, encoder, _) = TextEncoder::load(dir, device)?;
        let modules: Vec<Module> = read_json(&dir.join("modules.json"))?.unwrap_or_default();
        let normalize = modules.iter().any(|m| m.kind.ends_with("models.Normalize"));
        Self::from_parts(vs, encoder, tokenizer, normalize)
    }

    /// Joins a loaded encoder and tokenizer, checking that they fit together.
    pub fn from_parts(
        vs: nn::VarStore,
        encoder: TextEncoder,
        mut tokenizer: TextTokenizer,
        normalize: bool,
    ) -> Result<Self> {
        if tokenizer.vocab_size() as i64 > encoder.vocab_size() {
            return Err(TextError::VocabMismatch {
                path: tokenizer.path().into(),
                tokenizer_vocab: tokenizer.vocab_size(),
                model_vocab: encoder.vocab_size(),
            });
        }
        let limit = usize::try_from(encoder.max_len()).unwrap_or(usize::MAX);
        if tokenizer.max_len() > limit {
            tokenizer = TextTokenizer::from_file(tokenizer.path(), limit)?;
        }
        Ok(Self { vs, encoder, tokenizer, batch_size: DEFAULT_BATCH_SIZE, normalize })
    }

    /// Texts per forward pass (at least 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    pub fn with_normalize(mut self, normalize: bool) -> Self {
        self.normalize = normalize;
        self
    }

    pub fn hidden_size(&self) -> i64 {
        self.encoder.hidden_size()
    }

    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    pub fn encoder(&self) -> &TextEncoder {
        &self.encoder
    }

    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Embeds `texts` (`[B, H]`, input order). Texts are sorted by length and batched so that
    /// little padding is computed; each is truncated at the tokenizer's limit (counted).
    pub fn encode(&self, texts: &[&str], pooling: Pooling) -> Result<SentenceEmbeddings> {
        let tokens = self.tokenizer.encode_all(texts)?;
        self.encode_tokens(&tokens, pooling)
    }

    /// As [`Self::encode`] for texts already tokenized by [`Self::tokenizer`].
    pub fn encode_tokens(&self, tokens: &[Tokens], pooling: Pooling) -> Result<SentenceEmbeddings> {
        let truncated = tokens.iter().filter(|t| t.truncated).count();
        let mut order: Vec<usize> = (0..tokens.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(tokens[i].len()));
        let device = self.device();
        let pooled = tch::no_grad(|| -> Result<Vec<Tensor>> {
            let mut out = Vec::with_capacity(order.len().div_ceil(self.batch_size));
            for chunk in order.chunks(self.batch_size) {
                let seqs: Vec<&Tokens> = chunk.iter().map(|&i| &tokens[i]).collect();
                let batch = TokenBatch::pad(&seqs, self.tokenizer.pad_id(), device);
                let hidden = self.encoder.forward_t(&batch.ids, &batch.attention_mask, false);
                out.push(pooling.pool(&hidden, &batch.attention_mask));
            }
            Ok(out)
        })?;
        let h = self.encoder.hidden_size();
        let sorted = if pooled.is_empty() {
            Tensor::zeros([0, h], (Kind::Float, device))
        } else {
            Tensor::f_cat(&pooled, 0)?
        };
        // Row r of `sorted` is text order[r]; scatter back to input order.
        let mut inverse = vec![0i64; order.len()];
        for (r, &i) in order.iter().enumerate() {
            inverse[i] = r as i64;
        }
        let embeddings = sorted.f_index_select(0, &Tensor::from_slice(&inverse).to_device(device))?;
        let embeddings = if self.normalize { l2_normalize(&embeddings) } else { embeddings };
        Ok(SentenceEmbeddings { embeddings, truncated })
    }
}
