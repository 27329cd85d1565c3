//! Evaluates models and baselines on an [`EvalSet`]: text and clip embeddings once per model,
//! then every view and mapping from the same similarity matrix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use super::embed::{clip_embeddings, text_embeddings, to_rows};
use super::metrics::{average_precision, pearson, roc_auc, MetricsError, RetrievalScores};
use super::protocol::{EvalSet, Selection, View};
use super::table::EvalRow;
use crate::cache::Caches;
use crate::emotion::Mapping;
use crate::features::progress::clip_progress;
use crate::features::text::{cache_path, text_features};
use crate::model::{EmotionModel, Space, WindowMode};
use crate::train::RunError;

/// Errors of an evaluation; each names the model, data or metric at fault.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{0}")]
    Run(#[from] RunError),
    #[error(transparent)]
    Features(Box<crate::features::FeatureError>),
    #[error("model {path}: {message}")]
    Model { path: PathBuf, message: String },
    #[error("{what}: {source}")]
    Metrics { what: String, source: MetricsError },
    #[error("nothing to evaluate: {0}")]
    Empty(String),
    #[error(transparent)]
    Emotion(#[from] crate::emotion::EmotionError),
}

impl From<crate::features::FeatureError> for EvalError {
    fn from(e: crate::features::FeatureError) -> Self {
        Self::Features(Box::new(e))
    }
}

/// What to evaluate and how.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// User-facing mapping names (`manual`, `va`, `w2v`), in table order.
    pub mappings: Vec<String>,
    /// Evaluation chunks per clip (the paper's 16).
    pub chunks: usize,
    /// How the chunks are computed (the paper's protocol: exact).
    pub windows: WindowMode,
    /// The decoded-audio and frozen-encoder feature caches.
    pub caches: Caches,
    /// Told progress lines of long computations (a test fold's clip features: minutes).
    pub note: fn(String),
}

fn metrics_err(what: String) -> impl FnOnce(MetricsError) -> EvalError {
    move |source| EvalError::Metrics { what, source }
}

/// Rows `[queries][clips]` of a `[Q, N]` score matrix, restricted to a selection.
fn select_scores(scores: &[Vec<f64>], sel: &Selection) -> Vec<Vec<f64>> {
    sel.queries.iter().map(|&q| sel.clips.iter().map(|&c| scores[q][c]).collect()).collect()
}

/// Random and label-prior rows of every mapping and both views.
pub fn baseline_rows(name: &str, set: &EvalSet, opts: &EvalOptions) -> Result<Vec<EvalRow>, EvalError> {
    let mut rows = Vec::new();
    for (view, mapping) in views(opts)? {
        let sel = set.select(view, mapping.1);
        if sel.queries.is_empty() || sel.clips.is_empty() {
            continue;
        }
        let what = format!("{} baselines ({} view, {})", name, view.as_str(), mapping.0);
        let size = (sel.queries.len(), sel.clips.len());
        let random = sel.random().map_err(metrics_err(what.clone()))?;
        let prior = sel.label_prior().map_err(metrics_err(what))?;
        for (space, scores) in [("random", &random), ("label-prior", &prior)] {
            let mut row = EvalRow::new(name, space, &mapping.0, view, size).with_scores(scores);
            (row.p_at_5_by_quadrant, row.p_at_5_by_label) = breakdown(&sel, set, scores);
            rows.push(row);
        }
    }
    Ok(rows)
}

type ByKey = Option<BTreeMap<String, f64>>;

/// P@5 per query label, and (quadrant view) per query quadrant.
fn breakdown(sel: &Selection, set: &EvalSet, scores: &RetrievalScores) -> (ByKey, ByKey) {
    let per = &scores.p_at_5_per_query;
    let by_quadrant = (sel.view == View::Quadrants).then(|| sel.p_at_5_by_quadrant(set, per));
    (by_quadrant, Some(sel.p_at_5_by_label(set, per)))
}

/// A view with the name its rows carry and the mapping that decides its hits.
type ViewMapping = (View, (String, &'static Mapping));

/// Each mapping in the tag view, then the quadrant view once (its hits do not depend on a
/// mapping; classify retrieves with `manual` there).
fn views(opts: &EvalOptions) -> Result<Vec<ViewMapping>, EvalError> {
    let mut out = Vec::new();
    for name in &opts.mappings {
        let m = Mapping::get(name)?;
        out.push((View::Tags, (name.clone(), m)));
    }
    let manual = Mapping::get("manual")?;
    out.push((View::Quadrants, ("nrc-vad".into(), manual)));
    Ok(out)
}

/// Text label → song mood weights of `mapping` over the model's vocabularies. [K, M]
fn label_to_mood(model: &EmotionModel, mapping: &Mapping) -> Tensor {
    let cfg = model.config();
    let (k, m) = (cfg.text_labels.len(), cfg.moods.len());
    let mut w = vec![0f32; k * m];
    for (i, label) in cfg.text_labels.iter().enumerate() {
        let hits: Vec<usize> = (0..m).filter(|&j| mapping.hits(label, &cfg.moods[j])).collect();
        for &j in &hits {
            w[i * m + j] = 1.0 / hits.len() as f32;
        }
    }
    Tensor::from_slice(&w).view([k as i64, m as i64])
}

/// Macro mean of a binary metric over the classes where it is defined (both labels present).
fn macro_defined(
    y_true: &[Vec<bool>],
    y_score: &[Vec<f64>],
    metric: fn(&[bool], &[f64]) -> Result<f64, MetricsError>,
) -> Option<f64> {
    let classes = y_true.first()?.len();
    let values: Vec<f64> = (0..classes)
        .filter_map(|c| {
            let t: Vec<bool> = y_true.iter().map(|r| r[c]).collect();
            let s: Vec<f64> = y_score.iter().map(|r| r[c]).collect();
            metric(&t, &s).ok()
        })
        .collect();
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// A model's embeddings of the set: texts `[Q, D]` (classify: text-label probabilities `[Q, K]`
/// beside them) and clips `[N, D]`.
struct Embedded {
    texts: Tensor,
    text_probs: Option<Tensor>,
    clips: Tensor,
}

fn embed(
    model: &EmotionModel,
    set: &EvalSet,
    opts: &EvalOptions,
    path: &Path,
) -> Result<Embedded, EvalError> {
    let model_err =
        |e: crate::model::ModelError| EvalError::Model { path: path.into(), message: e.to_string() };
    let texts: Vec<&str> = set.queries.iter().map(|q| q.text.as_str()).collect();
    // A fine-tuned encoder is the model's own: its features are cached under its id. A training
    // run caches the whole corpus: reused when present rather than encoding again.
    let items: Vec<usize> = set.queries.iter().map(|q| q.item).collect();
    let features = features_of(model, set, opts, &items, &texts)?;
    let text_emb = text_embeddings(model, &features)?;
    let text_probs = if model.space() == Space::Classify && !texts.is_empty() {
        let logits = tch::no_grad(|| model.text_outputs(&features, false)).map_err(model_err)?;
        Some(logits.softmax(-1, Kind::Float).to_device(tch::Device::Cpu))
    } else {
        None
    };
    let front = model.front_end();
    let pcm = opts.caches.audio();
    let paths: Vec<&Path> = set.clips.iter().map(|c| c.path.as_path()).collect();
    let progress = clip_progress(&opts.note);
    let clips = clip_embeddings(model, &front, &pcm, &paths, opts.chunks, opts.windows, &progress)?;
    Ok(Embedded { texts: text_emb, text_probs, clips })
}

/// Frozen-encoder features of some texts of the set (rows of its corpus), from the run's corpus
/// cache when there is one.
fn features_of(
    model: &EmotionModel,
    set: &EvalSet,
    opts: &EvalOptions,
    items: &[usize],
    texts: &[&str],
) -> Result<Tensor, EvalError> {
    let mut feature_dir = opts.caches.text_features();
    if model.config().text.fine_tuned {
        feature_dir = feature_dir.join(model.id());
    }
    let corpus: Vec<&str> = set.corpus.iter().map(String::as_str).collect();
    Ok(if cache_path(&feature_dir, model, &corpus).is_file() {
        let rows: Vec<i64> = items.iter().map(|&i| i as i64).collect();
        text_features(&feature_dir, model, &corpus)?.index_select(0, &Tensor::from_slice(&rows))
    } else {
        text_features(&feature_dir, model, texts)?
    })
}

/// The valence–arousal view: Pearson r of the model's reading of the rated texts with their
/// ratings; nothing for spaces without a reading.
fn va_row(
    name: &str,
    model: &EmotionModel,
    set: &EvalSet,
    opts: &EvalOptions,
) -> Result<Option<EvalRow>, EvalError> {
    let items: Vec<usize> = set.rated.iter().map(|r| r.item).collect();
    let texts: Vec<&str> = set.rated.iter().map(|r| r.text.as_str()).collect();
    let features = features_of(model, set, opts, &items, &texts)?;
    let emb = text_embeddings(model, &features)?;
    let Some(va) = model.valence_arousal(&emb) else { return Ok(None) };
    let va = to_rows(&va);
    let column = |rows: &[Vec<f64>], j: usize| rows.iter().map(|r| r[j]).collect::<Vec<f64>>();
    let truth: Vec<Vec<f64>> =
        set.rated.iter().map(|r| vec![f64::from(r.va[0]), f64::from(r.va[1])]).collect();
    let mut row = EvalRow::new(name, model.space().as_str(), "ratings", View::Va, (set.rated.len(), 0));
    row.valence_r = pearson(&column(&va, 0), &column(&truth, 0));
    row.arousal_r = pearson(&column(&va, 1), &column(&truth, 1));
    Ok(Some(row))
}

/// Rows of one model: every mapping in the tag view (with the per-modality AUCs for the
/// metric-learning spaces) and the quadrant view.
pub fn model_rows(
    name: &str,
    path: &Path,
    model: &EmotionModel,
    set: &EvalSet,
    opts: &EvalOptions,
) -> Result<Vec<EvalRow>, EvalError> {
    let mut rows = Vec::new();
    if !set.rated.is_empty() {
        rows.extend(va_row(name, model, set, opts)?);
    }
    if set.queries.is_empty() && !rows.is_empty() {
        return Ok(rows);
    }
    if set.queries.is_empty() || set.clips.is_empty() {
        return Err(EvalError::Empty(format!(
            "{} queries and {} clips for model {}",
            set.queries.len(),
            set.clips.len(),
            path.display()
        )));
    }
    let model_err =
        |e: crate::model::ModelError| EvalError::Model { path: path.into(), message: e.to_string() };
    let e = embed(model, set, opts, path)?;
    let own = to_rows(&model.similarity(&e.texts, &e.clips).map_err(model_err)?);
    let space = model.space();
    let anchors = if space.is_metric_learning() {
        let (moods, anchors) = model.mood_anchors().map_err(model_err)?;
        let anchors = anchors.to_device(tch::Device::Cpu);
        let to_texts = to_rows(&model.similarity(&e.texts, &anchors).map_err(model_err)?);
        let to_clips = to_rows(&model.similarity(&e.clips, &anchors).map_err(model_err)?);
        Some((moods, to_texts, to_clips))
    } else {
        None
    };
    for (view, (mapping_name, mapping)) in views(opts)? {
        let sel = set.select(view, mapping);
        if sel.queries.is_empty() || sel.clips.is_empty() {
            continue;
        }
        let scores = match (&e.text_probs, view) {
            (Some(probs), View::Tags) => {
                let mapped = probs.matmul(&label_to_mood(model, mapping));
                to_rows(&mapped.matmul(&e.clips.tr()))
            }
            _ => own.clone(),
        };
        let what = format!("model {name} ({} view, {mapping_name})", view.as_str());
        let retrieval = sel.score(&select_scores(&scores, &sel)).map_err(metrics_err(what))?;
        let size = (sel.queries.len(), sel.clips.len());
        let mut row = EvalRow::new(name, space.as_str(), &mapping_name, view, size).with_scores(&retrieval);
        (row.p_at_5_by_quadrant, row.p_at_5_by_label) = breakdown(&sel, set, &retrieval);
        if let (Some((moods, to_texts, to_clips)), View::Tags) = (&anchors, view) {
            let label = |q: usize| set.queries[q].label.as_str();
            let text_true: Vec<Vec<bool>> = sel
                .queries
                .iter()
                .map(|&q| moods.iter().map(|m| mapping.hits(label(q), m)).collect())
                .collect();
            let text_score: Vec<Vec<f64>> = sel.queries.iter().map(|&q| to_texts[q].clone()).collect();
            let song_true: Vec<Vec<bool>> = sel
                .clips
                .iter()
                .map(|&c| moods.iter().map(|m| set.clips[c].moods.contains(m)).collect())
                .collect();
            let song_score: Vec<Vec<f64>> = sel.clips.iter().map(|&c| to_clips[c].clone()).collect();
            row.tag_text_roc_auc = macro_defined(&text_true, &text_score, roc_auc);
            row.tag_text_pr_auc = macro_defined(&text_true, &text_score, average_precision);
            row.tag_song_roc_auc = macro_defined(&song_true, &song_score, roc_auc);
            row.tag_song_pr_auc = macro_defined(&song_true, &song_score, average_precision);
        }
        rows.push(row);
    }
    Ok(rows)
}
