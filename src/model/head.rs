//! The projection head shared by all branches: Linear → BatchNorm1d → ReLU → Dropout(0.5) → Linear.

use tch::nn::{self, ModuleT};
use tch::Tensor;

/// Dropout of the original heads.
pub const HEAD_DROPOUT: f64 = 0.5;

/// PyTorch's BatchNorm initialisation (weight 1, bias 0). tch's default draws the weight from
/// U(0, 1), which scales each channel at random before training starts.
pub fn bn_config() -> nn::BatchNormConfig {
    nn::BatchNormConfig { ws_init: nn::Init::Const(1.0), ..Default::default() }
}

/// `{name}_fc1` (in → hidden), `{name}_bn`, `{name}_fc2` (hidden → out), as in the original
/// (`song_fc1`, `text_fc1`, `tag_fc1`, …).
#[derive(Debug)]
pub struct Head {
    fc1: nn::Linear,
    bn: nn::BatchNorm,
    fc2: nn::Linear,
    in_dim: i64,
    out_dim: i64,
}

impl Head {
    /// Builds `{name}_fc1`, `{name}_bn`, `{name}_fc2` directly under `p`.
    pub fn new(p: &nn::Path, name: &str, in_dim: i64, hidden: i64, out_dim: i64) -> Self {
        Self {
            fc1: nn::linear(p / format!("{name}_fc1"), in_dim, hidden, Default::default()),
            bn: nn::batch_norm1d(p / format!("{name}_bn"), hidden, bn_config()),
            fc2: nn::linear(p / format!("{name}_fc2"), hidden, out_dim, Default::default()),
            in_dim,
            out_dim,
        }
    }

    pub fn in_dim(&self) -> i64 {
        self.in_dim
    }

    pub fn out_dim(&self) -> i64 {
        self.out_dim
    }
}

impl ModuleT for Head {
    /// [B, in] → [B, out]
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.bn.forward_t(&xs.apply(&self.fc1), train).relu().dropout(HEAD_DROPOUT, train).apply(&self.fc2)
    }
}

/// The name of an ensemble's member `k` of `name`: member 0 keeps the plain name, member k is
/// `{name}_m{k}` (heads and the two-tagger trunk's BatchNorms alike).
pub fn member_name(name: &str, k: usize) -> String {
    if k == 0 {
        name.to_string()
    } else {
        format!("{name}_m{k}")
    }
}

/// One head or an ensemble of `members` heads over the same input, each from its own random
/// start (moods space). Member 0 keeps the plain names (`song_fc1`), member k is `song_m{k}_…`.
/// The ensemble's output is the log of its members' mean softmax, so a softmax of it is their
/// average distribution; each member trains on its own loss.
#[derive(Debug)]
pub struct Heads {
    members: Vec<Head>,
}

impl Heads {
    pub fn new(p: &nn::Path, name: &str, in_dim: i64, hidden: i64, out_dim: i64, members: usize) -> Self {
        let members = (0..members.max(1))
            .map(|k| Head::new(p, &member_name(name, k), in_dim, hidden, out_dim))
            .collect();
        Self { members }
    }

    pub fn in_dim(&self) -> i64 {
        self.members[0].in_dim()
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Each member's output, [B, in] → K × [B, out].
    pub fn forward_members(&self, xs: &Tensor, train: bool) -> Vec<Tensor> {
        self.members.iter().map(|h| h.forward_t(xs, train)).collect()
    }

    /// Each member's output when the input is `parts` blocks side by side `[B, parts · in]`:
    /// member k reads block k mod `parts` (one song head per tagger of a two-tagger trunk).
    pub fn forward_split(&self, xs: &Tensor, parts: usize, train: bool) -> Vec<Tensor> {
        if parts <= 1 {
            return self.forward_members(xs, train);
        }
        let blocks = xs.chunk(parts as i64, 1);
        self.members.iter().enumerate().map(|(k, h)| h.forward_t(&blocks[k % parts], train)).collect()
    }

    /// The members' outputs as one: a lone head's own, else the log of their mean softmax.
    pub fn combine(mut outputs: Vec<Tensor>) -> Tensor {
        if outputs.len() == 1 {
            if let Some(out) = outputs.pop() {
                return out;
            }
        }
        let k = outputs.len() as f64;
        let probs: Vec<Tensor> = outputs.iter().map(|o| o.softmax(-1, tch::Kind::Float)).collect();
        (Tensor::stack(&probs, 0).sum_dim_intlist([0i64].as_slice(), false, tch::Kind::Float) / k)
            .clamp_min(1e-12)
            .log()
    }
}

impl ModuleT for Heads {
    /// [B, in] → [B, out]: [`Heads::combine`] of the members.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        Self::combine(self.forward_members(xs, train))
    }
}
