//! DistilBERT encoder (`DistilBertModel`, as the original paper's text branch), with Hugging
//! Face tensor names.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{nn, nn::Module, Tensor};

use super::attention::{attention_bias, positions, Activation, AttentionNames, SelfAttention};
use super::error::{Result, TextError};

/// DistilBERT has no `layer_norm_eps` in config.json; the library hard-codes it.
const LAYER_NORM_EPS: f64 = 1e-12;

/// The `config.json` of a `DistilBertModel` (fields the encoder uses; others are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistilBertConfig {
    pub vocab_size: i64,
    pub dim: i64,
    pub n_layers: i64,
    pub n_heads: i64,
    pub hidden_dim: i64,
    pub max_position_embeddings: i64,
    #[serde(default = "default_act")]
    pub activation: Activation,
    #[serde(default = "default_dropout")]
    pub dropout: f64,
    #[serde(default = "default_dropout")]
    pub attention_dropout: f64,
    #[serde(default)]
    pub sinusoidal_pos_embds: bool,
}

fn default_act() -> Activation {
    Activation::Gelu
}
fn default_dropout() -> f64 {
    0.1
}

impl DistilBertConfig {
    /// The original paper's encoder, distilbert-base-uncased.
    pub fn base_uncased() -> Self {
        Self {
            vocab_size: 30522,
            dim: 768,
            n_layers: 6,
            n_heads: 12,
            hidden_dim: 3072,
            max_position_embeddings: 512,
            activation: Activation::Gelu,
            dropout: 0.1,
            attention_dropout: 0.1,
            sinusoidal_pos_embds: false,
        }
    }

    /// Checks what the architecture needs; the message names the offending field.
    pub fn validate(&self, origin: &Path) -> Result<()> {
        let bad = |message: String| Err(TextError::Config { path: origin.into(), message });
        let positive = [
            ("vocab_size", self.vocab_size),
            ("dim", self.dim),
            ("n_layers", self.n_layers),
            ("n_heads", self.n_heads),
            ("hidden_dim", self.hidden_dim),
            ("max_position_embeddings", self.max_position_embeddings),
        ];
        if let Some((name, v)) = positive.iter().find(|(_, v)| *v <= 0) {
            return bad(format!("{name} must be positive, got {v}"));
        }
        if self.dim % self.n_heads != 0 {
            return bad(format!("dim {} is not a multiple of n_heads {}", self.dim, self.n_heads));
        }
        if self.sinusoidal_pos_embds {
            return bad("sinusoidal_pos_embds = true is not supported (learned positions only)".into());
        }
        Ok(())
    }
}

const DISTILBERT_ATTENTION: AttentionNames =
    AttentionNames { query: "q_lin", key: "k_lin", value: "v_lin", output: "out_lin" };

#[derive(Debug)]
struct TransformerBlock {
    attention: SelfAttention,
    sa_layer_norm: nn::LayerNorm,
    lin1: nn::Linear,
    lin2: nn::Linear,
    output_layer_norm: nn::LayerNorm,
    act: Activation,
    dropout: f64,
}

impl TransformerBlock {
    fn new(p: nn::Path, cfg: &DistilBertConfig) -> Self {
        let d = cfg.dim;
        let ln_cfg = nn::LayerNormConfig { eps: LAYER_NORM_EPS, ..Default::default() };
        let attn = &p / "attention";
        let ffn = &p / "ffn";
        Self {
            attention: SelfAttention::new(
                &attn,
                &attn,
                &DISTILBERT_ATTENTION,
                d,
                cfg.n_heads,
                cfg.attention_dropout,
            ),
            sa_layer_norm: nn::layer_norm(&p / "sa_layer_norm", vec![d], ln_cfg),
            lin1: nn::linear(&ffn / "lin1", d, cfg.hidden_dim, Default::default()),
            lin2: nn::linear(&ffn / "lin2", cfg.hidden_dim, d, Default::default()),
            output_layer_norm: nn::layer_norm(&p / "output_layer_norm", vec![d], ln_cfg),
            act: cfg.activation,
            dropout: cfg.dropout,
        }
    }

    /// `[B, L, D]` → `[B, L, D]`.
    fn forward_t(&self, xs: &Tensor, bias: &Tensor, train: bool) -> Tensor {
        let h = self.sa_layer_norm.forward(&(self.attention.forward_t(xs, bias, train) + xs));
        let ffn = self.lin2.forward(&self.act.apply(&self.lin1.forward(&h))).dropout(self.dropout, train);
        self.output_layer_norm.forward(&(ffn + h))
    }
}

/// `DistilBertModel`. Variables are named as in Hugging Face checkpoints
/// (`embeddings.word_embeddings.weight`, `transformer.layer.{i}.attention.q_lin.weight`, …)
/// relative to the path it is built on (`model.bert` in the original Lightning checkpoints).
#[derive(Debug)]
pub struct DistilBert {
    word: nn::Embedding,
    position: nn::Embedding,
    embed_norm: nn::LayerNorm,
    layers: Vec<TransformerBlock>,
    dropout: f64,
    config: DistilBertConfig,
}

impl DistilBert {
    pub fn new(p: nn::Path, cfg: &DistilBertConfig) -> Result<Self> {
        cfg.validate(Path::new("DistilBertConfig"))?;
        let emb = &p / "embeddings";
        let embedding = |name: &str, n: i64| nn::embedding(&emb / name, n, cfg.dim, Default::default());
        let ln_cfg = nn::LayerNormConfig { eps: LAYER_NORM_EPS, ..Default::default() };
        let layers = &p / "transformer" / "layer";
        Ok(Self {
            word: embedding("word_embeddings", cfg.vocab_size),
            position: embedding("position_embeddings", cfg.max_position_embeddings),
            embed_norm: nn::layer_norm(&emb / "LayerNorm", vec![cfg.dim], ln_cfg),
            layers: (0..cfg.n_layers).map(|i| TransformerBlock::new(&layers / i, cfg)).collect(),
            dropout: cfg.dropout,
            config: cfg.clone(),
        })
    }

    pub fn config(&self) -> &DistilBertConfig {
        &self.config
    }

    /// `ids` and `mask` (1 = token, 0 = padding), int64 `[B, L]` with
    /// `L ≤ max_position_embeddings` → last hidden state `[B, L, D]`.
    pub fn forward_t(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Tensor {
        let xs = self.word.forward(ids) + self.position.forward(&positions(ids));
        let mut xs = self.embed_norm.forward(&xs).dropout(self.dropout, train);
        let bias = attention_bias(mask);
        for layer in &self.layers {
            xs = layer.forward_t(&xs, &bias, train);
        }
        xs
    }
}
