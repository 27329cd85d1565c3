//! From token states to one vector per text.

use std::str::FromStr;

use tch::Tensor;

/// How a text's token states become its embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pooling {
    /// The first (`[CLS]`) token's state, as the paper's text branch.
    Cls,
    /// The mean over real (mask 1) tokens, as sentence-transformers.
    #[default]
    Mean,
}

impl Pooling {
    /// `hidden` float `[B, L, H]`, `mask` int `[B, L]` → `[B, H]`.
    pub fn pool(self, hidden: &Tensor, mask: &Tensor) -> Tensor {
        match self {
            Self::Cls => hidden.select(1, 0),
            Self::Mean => {
                let weights = mask.to_kind(hidden.kind()).unsqueeze(-1);
                let summed = (hidden * &weights).sum_dim_intlist(1, false, hidden.kind());
                // sentence-transformers clamps the count at 1e-9: an all-padding row pools to 0.
                summed / weights.sum_dim_intlist(1, false, hidden.kind()).clamp_min(1e-9)
            }
        }
    }
}

impl FromStr for Pooling {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cls" => Ok(Self::Cls),
            "mean" => Ok(Self::Mean),
            other => Err(format!("unknown pooling {other:?} (expected cls or mean)")),
        }
    }
}

/// Rows scaled to unit L2 norm (a zero row stays zero): `[B, H]` → `[B, H]`.
pub fn l2_normalize(xs: &Tensor) -> Tensor {
    let norm = xs.norm_scalaropt_dim(2.0, [-1], true).clamp_min(1e-12);
    xs / norm
}
