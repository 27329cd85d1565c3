//! Rows of the evaluation table and their paper-style rendering.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::metrics::RetrievalScores;
use super::protocol::View;

/// One model (or baseline) under one mapping and view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalRow {
    pub model: String,
    /// The model's space, or `random` / `label-prior` for the baselines.
    pub space: String,
    /// `manual`, `va` or `w2v` (tag view); `nrc-vad` in the quadrant view.
    pub mapping: String,
    pub view: View,
    pub queries: usize,
    pub clips: usize,
    pub p_at_1: f64,
    pub p_at_5: f64,
    pub p_at_10: f64,
    pub mrr: f64,
    /// Quadrant view: mean P@5 of each quadrant's queries (`Q1`..`Q4`), the share of that
    /// quadrant's top-5 places its own clips take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_at_5_by_quadrant: Option<BTreeMap<String, f64>>,
    /// Mean P@5 of each text label's queries (`--json` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_at_5_by_label: Option<BTreeMap<String, f64>>,
    /// Macro ROC-AUC of mood anchors ranking texts (metric-learning spaces, tag view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_text_roc_auc: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_text_pr_auc: Option<f64>,
    /// Macro ROC-AUC of mood anchors ranking clips (metric-learning spaces, tag view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_song_roc_auc: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_song_pr_auc: Option<f64>,
    /// Pearson r of the valence the model reads with the rated valence (va view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valence_r: Option<f64>,
    /// Pearson r of the arousal the model reads with the rated arousal (va view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arousal_r: Option<f64>,
}

impl EvalRow {
    pub fn new(model: &str, space: &str, mapping: &str, view: View, size: (usize, usize)) -> Self {
        Self {
            model: model.into(),
            space: space.into(),
            mapping: mapping.into(),
            view,
            queries: size.0,
            clips: size.1,
            p_at_1: 0.0,
            p_at_5: 0.0,
            p_at_10: 0.0,
            mrr: 0.0,
            p_at_5_by_quadrant: None,
            p_at_5_by_label: None,
            tag_text_roc_auc: None,
            tag_text_pr_auc: None,
            tag_song_roc_auc: None,
            tag_song_pr_auc: None,
            valence_r: None,
            arousal_r: None,
        }
    }

    pub fn with_scores(mut self, s: &RetrievalScores) -> Self {
        (self.p_at_1, self.p_at_5, self.p_at_10, self.mrr) = (s.p_at_1, s.p_at_5, s.p_at_10, s.mrr);
        self
    }
}

/// `{"rows": [...]}` as `eval --json` prints it.
#[derive(Debug, Serialize)]
pub struct EvalReport<'a> {
    pub rows: &'a [EvalRow],
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.3}"))
}

/// The paper-style table: the tag view with P@5 / MRR per mapping and the per-modality AUCs (of
/// the first mapping), then the quadrant view.
pub fn render(rows: &[EvalRow], mappings: &[&str]) -> String {
    let mut out = String::new();
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for r in rows {
        if !keys.contains(&(r.model.as_str(), r.space.as_str())) {
            keys.push((&r.model, &r.space));
        }
    }
    let find = |k: (&str, &str), view: View, mapping: Option<&str>| {
        rows.iter().find(|r| {
            (r.model.as_str(), r.space.as_str()) == k
                && r.view == view
                && mapping.is_none_or(|m| r.mapping == m)
        })
    };
    let width = keys.iter().map(|k| k.0.len()).max().unwrap_or(5).max(5);
    let first = mappings.first().copied().unwrap_or("manual");
    let _ = write!(
        out,
        "Tag view: clips with an AudioSet mood; hit when a mood is in the query's mapping set\n\n"
    );
    let _ = write!(out, "{:width$}  {:12}", "model", "space");
    for m in mappings {
        let _ = write!(out, "  {:>15}", format!("{m} P@5 / MRR"));
    }
    let _ = writeln!(out, "  tag→text ROC / PR ({first})  tag→song ROC / PR  queries×clips");
    for &k in &keys {
        let Some(any) = find(k, View::Tags, None) else { continue };
        let _ = write!(out, "{:width$}  {:12}", k.0, k.1);
        for &m in mappings {
            let v = find(k, View::Tags, Some(m)).map(|r| format!("{:.3} / {:.3}", r.p_at_5, r.mrr));
            let _ = write!(out, "  {:>15}", v.unwrap_or_else(|| "-".into()));
        }
        let head = find(k, View::Tags, Some(first)).unwrap_or(any);
        let _ = writeln!(
            out,
            "  {:>25}  {:>17}  {}×{}",
            format!("{} / {}", cell(head.tag_text_roc_auc), cell(head.tag_text_pr_auc)),
            format!("{} / {}", cell(head.tag_song_roc_auc), cell(head.tag_song_pr_auc)),
            head.queries,
            head.clips
        );
    }
    let _ = write!(
        out,
        "\nQuadrant view: every clip; hit when its quadrant is the query emotion's NRC-VAD quadrant\n\n"
    );
    let _ = writeln!(
        out,
        "{:width$}  {:12}  {:>6}  {:>6}  {:>27}  queries×clips",
        "model", "space", "P@5", "MRR", "P@5 of Q1 / Q2 / Q3 / Q4 queries"
    );
    for &k in &keys {
        if let Some(r) = find(k, View::Quadrants, None) {
            let per = crate::emotion::Quadrant::ALL
                .map(|q| cell(r.p_at_5_by_quadrant.as_ref().and_then(|m| m.get(q.as_str()).copied())))
                .join(" / ");
            let _ = writeln!(
                out,
                "{:width$}  {:12}  {:>6.3}  {:>6.3}  {:>32}  {}×{}",
                k.0, k.1, r.p_at_5, r.mrr, per, r.queries, r.clips
            );
        }
    }
    if rows.iter().any(|r| r.view == View::Va) {
        let _ = write!(
            out,
            "\nValence–arousal view: Pearson r of what the model reads with the texts' ratings\n\n"
        );
        let _ = writeln!(
            out,
            "{:width$}  {:12}  {:>9}  {:>9}  texts",
            "model", "space", "valence r", "arousal r"
        );
        for &k in &keys {
            if let Some(r) = find(k, View::Va, None) {
                let _ = writeln!(
                    out,
                    "{:width$}  {:12}  {:>9}  {:>9}  {}",
                    k.0,
                    k.1,
                    cell(r.valence_r),
                    cell(r.arousal_r),
                    r.queries
                );
            }
        }
    }
    out
}
