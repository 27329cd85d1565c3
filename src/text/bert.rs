//! BERT encoder (post-LN `BertModel`, as all-MiniLM-L6-v2), with Hugging Face tensor names.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{nn, nn::Module, Tensor};

use super::attention::{attention_bias, positions, Activation, AttentionNames, SelfAttention};
use super::error::{Result, TextError};

/// The `config.json` of a `BertModel` (fields the encoder uses; others are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BertConfig {
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub intermediate_size: i64,
    #[serde(default = "default_act")]
    pub hidden_act: Activation,
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    pub max_position_embeddings: i64,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: i64,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub position_embedding_type: Option<String>,
}

fn default_act() -> Activation {
    Activation::Gelu
}
fn default_dropout() -> f64 {
    0.1
}
fn default_type_vocab() -> i64 {
    2
}
fn default_eps() -> f64 {
    1e-12
}

impl BertConfig {
    /// Checks what the architecture needs; the message names the offending field.
    pub fn validate(&self, origin: &Path) -> Result<()> {
        let bad = |message: String| Err(TextError::Config { path: origin.into(), message });
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
        ];
        if let Some((name, v)) = positive.iter().find(|(_, v)| *v <= 0) {
            return bad(format!("{name} must be positive, got {v}"));
        }
        if self.hidden_size % self.num_attention_heads != 0 {
            return bad(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        match self.position_embedding_type.as_deref() {
            None | Some("absolute") => Ok(()),
            Some(other) => bad(format!("position_embedding_type {other:?} is not supported (only absolute)")),
        }
    }
}

const BERT_ATTENTION: AttentionNames =
    AttentionNames { query: "query", key: "key", value: "value", output: "dense" };

#[derive(Debug)]
struct BertLayer {
    attention: SelfAttention,
    attention_norm: nn::LayerNorm,
    intermediate: nn::Linear,
    output: nn::Linear,
    output_norm: nn::LayerNorm,
    act: Activation,
    dropout: f64,
}

impl BertLayer {
    fn new(p: nn::Path, cfg: &BertConfig) -> Self {
        let (h, eps) = (cfg.hidden_size, cfg.layer_norm_eps);
        let ln = |p: nn::Path| nn::layer_norm(p, vec![h], nn::LayerNormConfig { eps, ..Default::default() });
        let attn = &p / "attention";
        let attn_out = &attn / "output";
        Self {
            attention: SelfAttention::new(
                &(&attn / "self"),
                &attn_out,
                &BERT_ATTENTION,
                h,
                cfg.num_attention_heads,
                cfg.attention_probs_dropout_prob,
            ),
            attention_norm: ln(&attn_out / "LayerNorm"),
            intermediate: nn::linear(
                &p / "intermediate" / "dense",
                h,
                cfg.intermediate_size,
                Default::default(),
            ),
            output: nn::linear(&p / "output" / "dense", cfg.intermediate_size, h, Default::default()),
            output_norm: ln(&p / "output" / "LayerNorm"),
            act: cfg.hidden_act,
            dropout: cfg.hidden_dropout_prob,
        }
    }

    /// `[B, L, H]` → `[B, L, H]`.
    fn forward_t(&self, xs: &Tensor, bias: &Tensor, train: bool) -> Tensor {
        let attended = self.attention.forward_t(xs, bias, train).dropout(self.dropout, train);
        let h = self.attention_norm.forward(&(attended + xs));
        let ffn =
            self.output.forward(&self.act.apply(&self.intermediate.forward(&h))).dropout(self.dropout, train);
        self.output_norm.forward(&(ffn + h))
    }
}

/// `BertModel` without the pooler. Variables are named as in Hugging Face checkpoints
/// (`embeddings.word_embeddings.weight`, `encoder.layer.{i}.attention.self.query.weight`, …)
/// relative to the path it is built on.
#[derive(Debug)]
pub struct Bert {
    word: nn::Embedding,
    position: nn::Embedding,
    token_type: nn::Embedding,
    embed_norm: nn::LayerNorm,
    layers: Vec<BertLayer>,
    dropout: f64,
    config: BertConfig,
}

impl Bert {
    pub fn new(p: nn::Path, cfg: &BertConfig) -> Result<Self> {
        cfg.validate(Path::new("BertConfig"))?;
        let h = cfg.hidden_size;
        let emb = &p / "embeddings";
        let embedding = |name: &str, n: i64| nn::embedding(&emb / name, n, h, Default::default());
        let ln_cfg = nn::LayerNormConfig { eps: cfg.layer_norm_eps, ..Default::default() };
        let layers = &p / "encoder" / "layer";
        Ok(Self {
            word: embedding("word_embeddings", cfg.vocab_size),
            position: embedding("position_embeddings", cfg.max_position_embeddings),
            token_type: embedding("token_type_embeddings", cfg.type_vocab_size),
            embed_norm: nn::layer_norm(&emb / "LayerNorm", vec![h], ln_cfg),
            layers: (0..cfg.num_hidden_layers).map(|i| BertLayer::new(&layers / i, cfg)).collect(),
            dropout: cfg.hidden_dropout_prob,
            config: cfg.clone(),
        })
    }

    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// `ids`, `mask` (1 = token, 0 = padding) and optional `type_ids`, all int64 `[B, L]` with
    /// `L ≤ max_position_embeddings` → last hidden state `[B, L, H]`.
    pub fn forward_with_types(
        &self,
        ids: &Tensor,
        type_ids: Option<&Tensor>,
        mask: &Tensor,
        train: bool,
    ) -> Tensor {
        let types = match type_ids {
            Some(t) => self.token_type.forward(t),
            // Type 0 everywhere: one row, broadcast over batch and positions.
            None => self.token_type.ws.get(0),
        };
        let xs = self.word.forward(ids) + self.position.forward(&positions(ids)) + types;
        let mut xs = self.embed_norm.forward(&xs).dropout(self.dropout, train);
        let bias = attention_bias(mask);
        for layer in &self.layers {
            xs = layer.forward_t(&xs, &bias, train);
        }
        xs
    }

    /// As [`Self::forward_with_types`] with every token of type 0.
    pub fn forward_t(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Tensor {
        self.forward_with_types(ids, None, mask, train)
    }
}
