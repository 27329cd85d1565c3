//! Retrieval and classification metrics of the paper, with scikit-learn's exact definitions.
//!
//! Every function works in `f64` on plain slices so that results match the reference within 1e-9.

/// Errors from inconsistent metric inputs.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricsError {
    #[error("{what}: expected {expected} values, got {got}")]
    Length { what: &'static str, expected: usize, got: usize },
    #[error("{what}: no rows")]
    Empty { what: &'static str },
    #[error("{what}: class {class} has only one label value, so the metric is undefined")]
    SingleLabel { what: &'static str, class: usize },
}

/// Cosine similarity `a·b / max(|a||b|, 1e-8)`.
pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (na * nb).max(1e-8)
}

/// Cosine similarity of every query with every item: `[queries][items]`.
pub fn cosine_matrix(queries: &[Vec<f64>], items: &[Vec<f64>]) -> Vec<Vec<f64>> {
    queries.iter().map(|q| items.iter().map(|s| cosine(q, s)).collect()).collect()
}

/// Item indices sorted by descending score; ties keep the item order (a stable sort).
pub fn rank_descending(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order
}

/// Share of hits among the first `k` of a ranked list of hit flags (divided by `k`, as the original).
pub fn precision_at_k(ranked_hits: &[bool], k: usize) -> f64 {
    if k == 0 {
        return 0.0;
    }
    ranked_hits.iter().take(k).filter(|h| **h).count() as f64 / k as f64
}

/// 1-based rank of the first hit, `None` when there is none.
pub fn first_hit_rank(ranked_hits: &[bool]) -> Option<usize> {
    ranked_hits.iter().position(|h| *h).map(|i| i + 1)
}

/// Retrieval metrics averaged over queries, with the per-query details the reference stores.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RetrievalScores {
    pub p_at_1: f64,
    pub p_at_5: f64,
    pub p_at_10: f64,
    /// Mean reciprocal rank of the first hit (0 for a query without any hit).
    pub mrr: f64,
    pub p_at_5_per_query: Vec<f64>,
    pub first_hit_rank_per_query: Vec<Option<usize>>,
}

impl RetrievalScores {
    /// Scores queries from their ranked hit flags (`ranked_hits[q][r]`: is the item at rank r a hit).
    pub fn from_ranked_hits(ranked_hits: &[Vec<bool>]) -> Result<Self, MetricsError> {
        if ranked_hits.is_empty() {
            return Err(MetricsError::Empty { what: "retrieval queries" });
        }
        let n = ranked_hits.len() as f64;
        let mean = |f: &dyn Fn(&[bool]) -> f64| ranked_hits.iter().map(|h| f(h)).sum::<f64>() / n;
        let first: Vec<Option<usize>> = ranked_hits.iter().map(|h| first_hit_rank(h)).collect();
        Ok(Self {
            p_at_1: mean(&|h| precision_at_k(h, 1)),
            p_at_5: mean(&|h| precision_at_k(h, 5)),
            p_at_10: mean(&|h| precision_at_k(h, 10)),
            mrr: first.iter().map(|r| r.map_or(0.0, |r| 1.0 / r as f64)).sum::<f64>() / n,
            p_at_5_per_query: ranked_hits.iter().map(|h| precision_at_k(h, 5)).collect(),
            first_hit_rank_per_query: first,
        })
    }

    /// Ranks items per query by descending similarity and scores the hits given by `is_hit(query, item)`.
    pub fn from_similarity(
        similarity: &[Vec<f64>],
        is_hit: impl Fn(usize, usize) -> bool,
    ) -> Result<Self, MetricsError> {
        let ranked: Vec<Vec<bool>> = similarity
            .iter()
            .enumerate()
            .map(|(q, row)| rank_descending(row).into_iter().map(|item| is_hit(q, item)).collect())
            .collect();
        Self::from_ranked_hits(&ranked)
    }
}

fn check_binary_column(y_true: &[bool], score: &[f64], what: &'static str) -> Result<(), MetricsError> {
    if y_true.len() != score.len() {
        return Err(MetricsError::Length { what, expected: y_true.len(), got: score.len() });
    }
    if y_true.is_empty() {
        return Err(MetricsError::Empty { what });
    }
    Ok(())
}

/// Groups `(score, label)` by distinct score, descending: yields (positives, negatives) per threshold.
fn threshold_counts(y_true: &[bool], score: &[f64]) -> Vec<(usize, usize)> {
    let order = rank_descending(score);
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut last: Option<f64> = None;
    for i in order {
        if last != Some(score[i]) {
            groups.push((0, 0));
            last = Some(score[i]);
        }
        if let Some(g) = groups.last_mut() {
            if y_true[i] {
                g.0 += 1;
            } else {
                g.1 += 1;
            }
        }
    }
    groups
}

/// Area under the ROC curve of one binary column; a tied positive/negative pair counts ½.
pub fn roc_auc(y_true: &[bool], score: &[f64]) -> Result<f64, MetricsError> {
    check_binary_column(y_true, score, "roc_auc")?;
    let pos = y_true.iter().filter(|y| **y).count();
    let neg = y_true.len() - pos;
    if pos == 0 || neg == 0 {
        return Err(MetricsError::SingleLabel { what: "roc_auc", class: 0 });
    }
    // Walk thresholds from the top: each positive beats the negatives below it, ties count half.
    let mut neg_above = 0usize;
    let mut wins = 0.0;
    for (p, n) in threshold_counts(y_true, score).into_iter().rev() {
        wins += p as f64 * (neg_above as f64 + 0.5 * n as f64);
        neg_above += n;
    }
    Ok(wins / (pos as f64 * neg as f64))
}

/// scikit-learn's average precision: Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds, no interpolation.
pub fn average_precision(y_true: &[bool], score: &[f64]) -> Result<f64, MetricsError> {
    check_binary_column(y_true, score, "average_precision")?;
    let pos = y_true.iter().filter(|y| **y).count();
    if pos == 0 {
        return Err(MetricsError::SingleLabel { what: "average_precision", class: 0 });
    }
    let (mut tp, mut fp, mut ap) = (0usize, 0usize, 0.0);
    for (p, n) in threshold_counts(y_true, score) {
        tp += p;
        fp += n;
        ap += (p as f64 / pos as f64) * (tp as f64 / (tp + fp) as f64);
    }
    Ok(ap)
}

/// Per-class and macro values of a binary metric over the columns of `[items][classes]` inputs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MacroScore {
    pub macro_mean: f64,
    pub per_class: Vec<f64>,
}

fn per_class(
    y_true: &[Vec<bool>],
    y_score: &[Vec<f64>],
    what: &'static str,
    metric: fn(&[bool], &[f64]) -> Result<f64, MetricsError>,
) -> Result<MacroScore, MetricsError> {
    let classes = y_true.first().ok_or(MetricsError::Empty { what })?.len();
    if y_score.len() != y_true.len() {
        return Err(MetricsError::Length { what, expected: y_true.len(), got: y_score.len() });
    }
    for row in y_true.iter().map(Vec::len).chain(y_score.iter().map(Vec::len)) {
        if row != classes {
            return Err(MetricsError::Length { what, expected: classes, got: row });
        }
    }
    let mut values = Vec::with_capacity(classes);
    for c in 0..classes {
        let t: Vec<bool> = y_true.iter().map(|r| r[c]).collect();
        let s: Vec<f64> = y_score.iter().map(|r| r[c]).collect();
        values.push(metric(&t, &s).map_err(|e| match e {
            MetricsError::SingleLabel { what, .. } => MetricsError::SingleLabel { what, class: c },
            other => other,
        })?);
    }
    Ok(MacroScore { macro_mean: values.iter().sum::<f64>() / classes as f64, per_class: values })
}

/// Macro ROC-AUC over classes (`roc_auc_score(average='macro')`).
pub fn macro_roc_auc(y_true: &[Vec<bool>], y_score: &[Vec<f64>]) -> Result<MacroScore, MetricsError> {
    per_class(y_true, y_score, "roc_auc", roc_auc)
}

/// Macro PR-AUC over classes (`average_precision_score(average='macro')`).
pub fn macro_average_precision(
    y_true: &[Vec<bool>],
    y_score: &[Vec<f64>],
) -> Result<MacroScore, MetricsError> {
    per_class(y_true, y_score, "average_precision", average_precision)
}

/// Coefficient of determination of one output (scikit-learn's `r2_score`, `force_finite`).
pub fn r2(y_true: &[f64], y_pred: &[f64]) -> Result<f64, MetricsError> {
    if y_true.len() != y_pred.len() {
        return Err(MetricsError::Length { what: "r2", expected: y_true.len(), got: y_pred.len() });
    }
    if y_true.is_empty() {
        return Err(MetricsError::Empty { what: "r2" });
    }
    let mean = y_true.iter().sum::<f64>() / y_true.len() as f64;
    let ss_res: f64 = y_true.iter().zip(y_pred).map(|(t, p)| (t - p).powi(2)).sum();
    let ss_tot: f64 = y_true.iter().map(|t| (t - mean).powi(2)).sum();
    Ok(match (ss_tot == 0.0, ss_res == 0.0) {
        (false, _) => 1.0 - ss_res / ss_tot,
        (true, true) => 1.0,
        (true, false) => 0.0,
    })
}

/// R² of every output column of `[items][outputs]`, and their mean (the original's "Overall").
pub fn r2_per_output(y_true: &[Vec<f64>], y_pred: &[Vec<f64>]) -> Result<(Vec<f64>, f64), MetricsError> {
    let outputs = y_true.first().ok_or(MetricsError::Empty { what: "r2" })?.len();
    if y_pred.len() != y_true.len() {
        return Err(MetricsError::Length { what: "r2 rows", expected: y_true.len(), got: y_pred.len() });
    }
    for row in y_true.iter().map(Vec::len).chain(y_pred.iter().map(Vec::len)) {
        if row != outputs {
            return Err(MetricsError::Length { what: "r2 outputs", expected: outputs, got: row });
        }
    }
    let mut values = Vec::with_capacity(outputs);
    for c in 0..outputs {
        let t: Vec<f64> = y_true.iter().map(|r| r[c]).collect();
        let p: Vec<f64> = y_pred.iter().map(|r| r[c]).collect();
        values.push(r2(&t, &p)?);
    }
    let mean = values.iter().sum::<f64>() / outputs.max(1) as f64;
    Ok((values, mean))
}

/// Pearson correlation of two equally long series; `None` when either is constant or they are
/// shorter than 2.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pearson_of_lines_and_constants() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert!((pearson(&x, &[2.0, 4.0, 6.0, 8.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&x, &[4.0, 3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(pearson(&x, &[1.0; 4]), None);
        assert_eq!(pearson(&[1.0], &[1.0]), None);
    }

    #[test]
    fn roc_auc_counts_ties_as_half() {
        let auc = roc_auc(&[true, false], &[0.5, 0.5]).unwrap();
        assert_eq!(auc, 0.5);
    }

    #[test]
    fn single_label_column_is_an_error() {
        assert!(matches!(roc_auc(&[true, true], &[0.1, 0.2]), Err(MetricsError::SingleLabel { .. })));
    }

    #[test]
    fn mrr_is_zero_without_hits() {
        let s = RetrievalScores::from_ranked_hits(&[vec![false, false]]).unwrap();
        assert_eq!(s.mrr, 0.0);
        assert_eq!(s.first_hit_rank_per_query, vec![None]);
    }
}
