//! Losses of the classification and regression spaces (the metric spaces use [`super::triplet`]).

use tch::{Kind, Reduction, Tensor};

use super::error::{ModelError, Result};

fn shape_error(what: &str, expected: &str, got: Vec<i64>) -> ModelError {
    ModelError::Shape { what: what.into(), expected: expected.into(), got }
}

/// Cross-entropy of single-label text classification: `logits` [B, K], `targets` int64 class
/// indices `[B]` in 0..K → scalar.
pub fn text_classification_loss(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let size = logits.size();
    if size.len() != 2 || targets.size() != [size[0]] {
        return Err(shape_error(
            "text classification (logits, targets)",
            "[B, K], [B]",
            [size, targets.size()].concat(),
        ));
    }
    let k = size[1];
    let (lo, hi) = (targets.min().int64_value(&[]), targets.max().int64_value(&[]));
    if lo < 0 || hi >= k {
        return Err(shape_error(
            "text classification targets",
            &format!("class indices in 0..{k}"),
            vec![lo, hi],
        ));
    }
    Ok(logits.cross_entropy_for_logits(&targets.to_kind(Kind::Int64)))
}

/// Binary cross-entropy with logits of multi-label music classification: `logits` and `targets`
/// (0/1) [B, M] → scalar.
pub fn music_classification_loss(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    if logits.dim() != 2 || logits.size() != targets.size() {
        return Err(shape_error(
            "music classification (logits, targets)",
            "[B, M] twice",
            [logits.size(), targets.size()].concat(),
        ));
    }
    Ok(logits.binary_cross_entropy_with_logits::<Tensor>(
        &targets.to_kind(logits.kind()),
        None,
        None,
        Reduction::Mean,
    ))
}

/// Mean squared error of the regression spaces (VA points, word vectors): both [B, D] → scalar.
pub fn regression_loss(predicted: &Tensor, targets: &Tensor) -> Result<Tensor> {
    if predicted.dim() != 2 || predicted.size() != targets.size() {
        return Err(shape_error(
            "regression (predicted, targets)",
            "[B, D] twice",
            [predicted.size(), targets.size()].concat(),
        ));
    }
    Ok(predicted.mse_loss(&targets.to_kind(predicted.kind()), Reduction::Mean))
}

/// Cross-entropy of `logits` [B, M] against target distributions [B, M], averaged over the rows
/// whose `weight` `[B]` is 1 (rows with weight 0 have no target); 0 when no row has one.
pub fn soft_cross_entropy(logits: &Tensor, targets: &Tensor, weight: &Tensor) -> Result<Tensor> {
    if logits.dim() != 2 || logits.size() != targets.size() || weight.size() != [logits.size()[0]] {
        return Err(shape_error(
            "soft cross-entropy (logits, targets, weights)",
            "[B, M], [B, M], [B]",
            [logits.size(), targets.size(), weight.size()].concat(),
        ));
    }
    let per_row = -(targets.to_kind(logits.kind()) * logits.log_softmax(-1, logits.kind())).sum_dim_intlist(
        [-1i64].as_slice(),
        false,
        logits.kind(),
    );
    let weight = weight.to_kind(logits.kind());
    Ok((per_row * &weight).sum(logits.kind()) / weight.sum(logits.kind()).clamp_min(1.0))
}
