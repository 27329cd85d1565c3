//! Cosine triplet loss and the original's distance-weighted negative sampling.

use tch::{Kind, Tensor};

use super::error::{ModelError, Result};
use super::space::unit_rows;

/// Margin of the original triplet loss.
pub const TRIPLET_MARGIN: f64 = 0.2;
/// Weights of (tag→text, tag→song, text→song) in the three-branch loss.
pub const THREE_BRANCH_WEIGHTS: [f64; 3] = [0.3, 0.3, 0.4];

/// `mean(relu(margin − cos(a, p) + cos(a, n)))`; all [B, D] → scalar.
pub fn triplet_loss(anchor: &Tensor, positive: &Tensor, negative: &Tensor, margin: f64) -> Tensor {
    let pos = Tensor::cosine_similarity(anchor, positive, -1, 1e-8);
    let neg = Tensor::cosine_similarity(anchor, negative, -1, 1e-8);
    (neg - pos + margin).relu().mean(Kind::Float)
}

/// Index of one negative per anchor, drawn (without gradient) with probability
/// `∝ ((cos(a_i, p_j) + 1) / 2) · (1 − y_i·y_j)`: only positives of items that share no label
/// with the anchor can be drawn, closer ones more often. When every item shares the anchor's
/// label, any other item is drawn uniformly (as the peer does).
///
/// `anchor`, `positive` `[B, D]`; `labels` `[B, K]` one-hot or multi-hot → int64 `[B]`.
pub fn sample_negatives(anchor: &Tensor, positive: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let b = anchor.size().first().copied().unwrap_or(0);
    let shape_ok =
        anchor.dim() == 2 && positive.size() == anchor.size() && labels.dim() == 2 && labels.size()[0] == b;
    if !shape_ok || b < 2 {
        return Err(ModelError::Shape {
            what: "triplet batch (anchor, positive, labels)".into(),
            expected: "[B ≥ 2, D], [B, D], [B, K]".into(),
            got: [anchor.size(), positive.size(), labels.size()].concat(),
        });
    }
    tch::no_grad(|| {
        let sim = unit_rows(anchor).matmul(&unit_rows(positive).tr());
        let y = labels.to_kind(sim.kind());
        let other_label = (y.matmul(&y.tr()).neg() + 1.0).clamp_min(0.0);
        let mut weights = (sim + 1.0) / 2.0 * other_label;
        let empty = weights.sum_dim_intlist([1i64].as_slice(), false, Kind::Float).le(0.0);
        if empty.any().int64_value(&[]) != 0 {
            let others = Tensor::eye(b, (weights.kind(), weights.device())).neg() + 1.0;
            weights = weights.where_self(&empty.logical_not().unsqueeze(1), &others);
        }
        Ok(weights.f_multinomial(1, false)?.squeeze_dim(1))
    })
}

/// One pair group of a metric-learning batch: anchors, their positives and the labels that
/// decide which items may serve as negatives.
#[derive(Debug)]
pub struct PairGroup<'a> {
    pub anchor: &'a Tensor,
    pub positive: &'a Tensor,
    pub labels: &'a Tensor,
}

impl PairGroup<'_> {
    /// Samples negatives among the positives and returns the triplet loss (scalar).
    pub fn loss(&self, margin: f64) -> Result<Tensor> {
        let idx = sample_negatives(self.anchor, self.positive, self.labels)?;
        let negative = self.positive.index_select(0, &idx);
        Ok(triplet_loss(self.anchor, self.positive, &negative, margin))
    }
}

/// The three-branch loss `0.3·L(tag→text) + 0.3·L(tag→song) + 0.4·L(text→song)`.
pub fn three_branch_loss(
    tag_text: &PairGroup,
    tag_song: &PairGroup,
    text_song: &PairGroup,
    margin: f64,
) -> Result<Tensor> {
    let [w1, w2, w3] = THREE_BRANCH_WEIGHTS;
    Ok(tag_text.loss(margin)? * w1 + tag_song.loss(margin)? * w2 + text_song.loss(margin)? * w3)
}

/// The two-branch loss: text→song only.
pub fn two_branch_loss(text_song: &PairGroup, margin: f64) -> Result<Tensor> {
    text_song.loss(margin)
}
