//! WordPiece tokenizer from a Hugging Face `tokenizer.json`, configured explicitly.
//!
//! all-MiniLM-L6-v2's `tokenizer.json` turns on fixed padding and truncation at 128 tokens; the
//! model was trained (and sentence-transformers runs it) with truncation at 256 and no padding. So
//! the file's own settings are replaced: truncation at the model's limit, no per-sequence padding,
//! and batches padded to their longest sequence.

use std::borrow::Borrow;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tch::{Device, Tensor};
use tokenizers::{Encoding, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use super::error::{Result, TextError};

/// One tokenized text: ids with special tokens, no padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    pub attention_mask: Vec<u32>,
    /// Whether tokens past the length limit were dropped.
    pub truncated: bool,
}

impl Tokens {
    fn from_encoding(enc: &Encoding) -> Self {
        Self {
            ids: enc.get_ids().to_vec(),
            type_ids: enc.get_type_ids().to_vec(),
            attention_mask: enc.get_attention_mask().to_vec(),
            truncated: !enc.get_overflowing().is_empty(),
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A batch padded to its longest sequence. All tensors are int64 `[B, L]`.
#[derive(Debug)]
pub struct TokenBatch {
    pub ids: Tensor,
    pub type_ids: Tensor,
    pub attention_mask: Tensor,
    /// How many of the batch's texts were truncated.
    pub truncated: usize,
}

impl TokenBatch {
    /// Pads `seqs` on the right with `pad_id` (mask 0, type 0) to the longest one.
    pub fn pad<T: Borrow<Tokens>>(seqs: &[T], pad_id: u32, device: Device) -> Self {
        let width = seqs.iter().map(|s| s.borrow().len()).max().unwrap_or(0);
        let n = seqs.len() * width;
        let (mut ids, mut types, mut mask) = (vec![pad_id as i64; n], vec![0i64; n], vec![0i64; n]);
        for (row, s) in seqs.iter().enumerate() {
            let s = s.borrow();
            let at = row * width;
            for (j, ((&id, &ty), &m)) in s.ids.iter().zip(&s.type_ids).zip(&s.attention_mask).enumerate() {
                ids[at + j] = id.into();
                types[at + j] = ty.into();
                mask[at + j] = m.into();
            }
        }
        let shape = [seqs.len() as i64, width as i64];
        let to = |v: &[i64]| Tensor::from_slice(v).view(shape).to_device(device);
        Self {
            ids: to(&ids),
            type_ids: to(&types),
            attention_mask: to(&mask),
            truncated: seqs.iter().filter(|s| Borrow::<Tokens>::borrow(*s).truncated).count(),
        }
    }
}

#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

#[derive(Deserialize)]
struct PositionLimit {
    max_position_embeddings: Option<usize>,
}

/// Tokenizer with an explicit length limit and no fixed padding.
#[derive(Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    max_len: usize,
    pad_id: u32,
    path: PathBuf,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer").field("path", &self.path).field("max_len", &self.max_len).finish()
    }
}

impl TextTokenizer {
    /// Loads `dir/tokenizer.json`, truncating at `sentence_bert_config.json`'s `max_seq_length`
    /// when present, else at `config.json`'s `max_position_embeddings` (and never beyond it).
    pub fn from_model_dir(dir: &Path) -> Result<Self> {
        let positions =
            read_json::<PositionLimit>(&dir.join("config.json"))?.and_then(|c| c.max_position_embeddings);
        let st_len = read_json::<SentenceBertConfig>(&dir.join("sentence_bert_config.json"))?
            .and_then(|c| c.max_seq_length);
        let max_len = match (st_len, positions) {
            (Some(s), Some(p)) => s.min(p),
            (Some(n), None) | (None, Some(n)) => n,
            (None, None) => {
                return Err(TextError::Config {
                    path: dir.join("config.json"),
                    message: "no max_position_embeddings (and no sentence_bert_config.json max_seq_length)"
                        .into(),
                })
            }
        };
        Self::from_file(&dir.join("tokenizer.json"), max_len)
    }

    /// Loads a `tokenizer.json`, truncating at `max_len` tokens (special tokens included).
    pub fn from_file(path: &Path, max_len: usize) -> Result<Self> {
        let mut inner = load(path)?;
        if max_len < 2 {
            return Err(TextError::Config {
                path: path.into(),
                message: format!("max length {max_len} leaves no room for [CLS] and [SEP]"),
            });
        }
        let trunc = TruncationParams {
            direction: TruncationDirection::Right,
            max_length: max_len,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
        };
        inner
            .with_truncation(Some(trunc))
            .map_err(|e| TextError::Tokenizer { path: path.into(), message: e.to_string() })?;
        inner.with_padding(None);
        let pad_id = inner.token_to_id("[PAD]").unwrap_or(0);
        Ok(Self { inner, max_len, pad_id, path: path.into() })
    }

    /// Loads a `tokenizer.json` with the truncation and padding written in the file, unchanged.
    /// Only for comparing with plain `Tokenizer.from_file` users; models want [`Self::from_file`].
    pub fn with_file_defaults(path: &Path) -> Result<Self> {
        let inner = load(path)?;
        let max_len = inner.get_truncation().map_or(usize::MAX, |t| t.max_length);
        let pad_id = inner.get_padding().map_or(0, |p| p.pad_id);
        Ok(Self { inner, max_len, pad_id, path: path.into() })
    }

    /// The length limit in tokens, special tokens included.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Number of distinct ids the tokenizer can emit (added tokens included).
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The word pieces of an id sequence (for display and debugging).
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    pub fn encode(&self, text: &str) -> Result<Tokens> {
        let enc = self.inner.encode_fast(text, true).map_err(|e| TextError::Encode(e.to_string()))?;
        Ok(Tokens::from_encoding(&enc))
    }

    /// Tokenizes several texts in parallel, in order.
    pub fn encode_all(&self, texts: &[&str]) -> Result<Vec<Tokens>> {
        let encs = self
            .inner
            .encode_batch_fast(texts.to_vec(), true)
            .map_err(|e| TextError::Encode(e.to_string()))?;
        Ok(encs.iter().map(Tokens::from_encoding).collect())
    }

    /// Tokenizes and pads `texts` into one batch on `device`.
    pub fn batch(&self, texts: &[&str], device: Device) -> Result<TokenBatch> {
        Ok(TokenBatch::pad(&self.encode_all(texts)?, self.pad_id, device))
    }
}

fn load(path: &Path) -> Result<Tokenizer> {
    if !path.is_file() {
        return Err(TextError::Tokenizer { path: path.into(), message: "file not found".into() });
    }
    Tokenizer::from_file(path).map_err(|e| TextError::Tokenizer { path: path.into(), message: e.to_string() })
}

/// Parses a JSON file; a missing file is `None`.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(TextError::Io { path: path.into(), source }),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| TextError::Config { path: path.into(), message: e.to_string() })
}

impl TextTokenizer {
    /// The share of a text's words the vocabulary splits into pieces (`##` continuations): low
    /// for the language the tokenizer was built on, high for others. `None` without words.
    pub fn split_word_share(&self, text: &str) -> Result<Option<f64>> {
        let tokens = self.encode(text)?;
        let (mut words, mut split) = (0usize, 0usize);
        let mut in_split = false;
        for piece in tokens.ids.iter().filter_map(|&id| self.id_to_token(id)) {
            if piece.starts_with("##") {
                if !in_split {
                    split += 1;
                    in_split = true;
                }
            } else if piece.chars().any(char::is_alphabetic) && !piece.starts_with('[') {
                words += 1;
                in_split = false;
            }
        }
        Ok((words > 0).then(|| split as f64 / words as f64))
    }
}
