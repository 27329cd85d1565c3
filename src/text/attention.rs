//! Multi-head self-attention and the feed-forward pieces shared by BERT and DistilBERT.

use serde::{Deserialize, Serialize};
use tch::{nn, nn::Module, Kind, Tensor};

/// Hidden-layer activation named in config.json (`hidden_act` / `activation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// Exact erf GELU, as Hugging Face's `"gelu"`.
    Gelu,
    /// Tanh approximation (`"gelu_new"`).
    GeluNew,
    Relu,
}

impl Activation {
    pub fn apply(self, xs: &Tensor) -> Tensor {
        match self {
            Self::Gelu => xs.gelu("none"),
            Self::GeluNew => xs.gelu("tanh"),
            Self::Relu => xs.relu(),
        }
    }
}

/// The additive attention bias of a padding mask: 0 for real keys, float32 min for padding.
///
/// `mask` int `[B, L]` (1 = real token) → float `[B, 1, 1, L]`.
pub fn attention_bias(mask: &Tensor) -> Tensor {
    let keep = mask.to_kind(Kind::Float);
    ((-keep + 1.0) * f64::from(f32::MIN)).unsqueeze(1).unsqueeze(1)
}

/// Names of the four projections inside a model's attention module.
pub struct AttentionNames {
    pub query: &'static str,
    pub key: &'static str,
    pub value: &'static str,
    pub output: &'static str,
}

/// Scaled dot-product self-attention with `heads` heads and an output projection.
#[derive(Debug)]
pub struct SelfAttention {
    query: nn::Linear,
    key: nn::Linear,
    value: nn::Linear,
    output: nn::Linear,
    heads: i64,
    head_dim: i64,
    dropout: f64,
}

impl SelfAttention {
    /// `qkv` holds the query/key/value projections, `out` the output projection (the two differ
    /// in BERT's naming, and coincide in DistilBERT's).
    pub fn new(
        qkv: &nn::Path,
        out: &nn::Path,
        names: &AttentionNames,
        dim: i64,
        heads: i64,
        dropout: f64,
    ) -> Self {
        let lin = |p: &nn::Path, name: &str| nn::linear(p / name, dim, dim, Default::default());
        Self {
            query: lin(qkv, names.query),
            key: lin(qkv, names.key),
            value: lin(qkv, names.value),
            output: lin(out, names.output),
            heads,
            head_dim: dim / heads,
            dropout,
        }
    }

    /// `xs` `[B, L, D]`, `bias` `[B, 1, 1, L]` from [`attention_bias`] → `[B, L, D]` (projected).
    pub fn forward_t(&self, xs: &Tensor, bias: &Tensor, train: bool) -> Tensor {
        let size = xs.size();
        let (b, l, d) = (size[0], size[1], size[2]);
        // [B, L, D] → [B, heads, L, head_dim]
        let split = |t: Tensor| t.view([b, l, self.heads, self.head_dim]).transpose(1, 2);
        let q = split(self.query.forward(xs));
        let k = split(self.key.forward(xs));
        let v = split(self.value.forward(xs));
        let scores = q.matmul(&k.transpose(-1, -2)) * (1.0 / (self.head_dim as f64).sqrt()) + bias;
        let probs = scores.softmax(-1, Kind::Float).dropout(self.dropout, train);
        let context = probs.matmul(&v).transpose(1, 2).contiguous().view([b, l, d]);
        self.output.forward(&context)
    }
}

/// Position ids `0..L` (int64 `[L]`, broadcast over the batch) for `ids` `[B, L]`.
pub fn positions(ids: &Tensor) -> Tensor {
    let l = ids.size()[1];
    Tensor::arange(l, (Kind::Int64, ids.device()))
}
