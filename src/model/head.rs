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
