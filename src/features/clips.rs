//! Clip and text embeddings as evaluation computes them: a clip is the mean of its 16 evenly
//! spaced 5-s chunk embeddings.

use tch::{Kind, Tensor};

use super::FeatureError;
use crate::audio::MelFrontEnd;
use crate::cache::PcmCache;
use crate::model::musicnn::FeatureCache;
use crate::model::{EmotionModel, ModelError, WindowMode};

/// Embeddings `[N, D]` (CPU) of `clips`, each the mean over `chunks` evenly spaced windows
/// (the paper's protocol: 16 of 5 s, [`WindowMode::Exact`]; musicnn's are 3 s, their feature
/// rows read from the cache; `progress` as [`clip_feature_rows`] tells it).
pub fn clip_embeddings(
    model: &EmotionModel,
    front: &MelFrontEnd,
    cache: &PcmCache,
    clips: &[&std::path::Path],
    chunks: usize,
    mode: WindowMode,
    progress: &dyn Fn(usize, usize),
) -> Result<Tensor, FeatureError> {
    let mut rows = Vec::with_capacity(clips.len());
    let cached = match model.musicnn() {
        Some(_) => Some(clip_feature_rows(model, front, cache, clips, chunks, mode, progress)?),
        None => None,
    };
    for (i, clip) in clips.iter().enumerate() {
        let emb = match &cached {
            Some(features) => tch::no_grad(|| model.embed_feature_rows(&features[i], false)),
            None => {
                let samples = cache.samples(clip)?;
                model.embed_clip_windows(front, &samples, chunks, mode).map(|(e, _)| e)
            }
        }
        .map_err(|source| FeatureError::Clip { path: clip.to_path_buf(), source })?;
        rows.push(emb.mean_dim([0i64].as_slice(), false, Kind::Float).to_device(tch::Device::Cpu));
    }
    if rows.is_empty() {
        return Ok(Tensor::zeros([0, model.embed_dim()], (Kind::Float, tch::Device::Cpu)));
    }
    Ok(Tensor::stack(&rows, 0))
}

/// A frozen trunk's feature rows `[chunks, FEATURE_DIM]` (CPU) of each clip, from the on-disk
/// cache under the cache dir, computed and stored on a miss; `progress(computed, to_compute)`
/// is told after each clip that was not cached.
pub fn clip_feature_rows(
    model: &EmotionModel,
    front: &MelFrontEnd,
    cache: &PcmCache,
    clips: &[&std::path::Path],
    chunks: usize,
    mode: WindowMode,
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<Tensor>, FeatureError> {
    let trunk =
        model.musicnn().ok_or_else(|| FeatureError::NoFeatureRows(model.config().audio.trunk.to_string()))?;
    let root = crate::config::Dirs::resolve()?.cache;
    let features = FeatureCache::new(&root, trunk, &format!("windows={chunks} mode={mode:?}"));
    let fresh: Vec<bool> = clips.iter().map(|c| !features.has(c)).collect();
    let to_compute = fresh.iter().filter(|f| **f).count();
    let mut computed = 0;
    clips
        .iter()
        .zip(fresh)
        .map(|(clip, fresh)| {
            // A clip that cannot be decoded keeps its own one-line error (it names the file).
            let mut unreadable = None;
            let rows = features.rows(clip, || match cache.samples(clip) {
                Ok(samples) => model.clip_feature_rows(front, &samples, chunks, mode).map(|(rows, _)| rows),
                Err(e) => {
                    unreadable = Some(e);
                    Err(ModelError::Read { path: clip.to_path_buf(), message: "undecodable".into() })
                }
            });
            if fresh {
                computed += 1;
                progress(computed, to_compute);
            }
            match (rows, unreadable) {
                (Ok(rows), _) => Ok(rows),
                (Err(_), Some(e)) => Err(e.into()),
                (Err(source), None) => Err(FeatureError::Clip { path: clip.to_path_buf(), source }),
            }
        })
        .collect()
}

/// Text embeddings `[N, D]` (CPU) from cached encoder features `[N, H]`.
pub fn text_embeddings(model: &EmotionModel, features: &Tensor) -> Result<Tensor, FeatureError> {
    if features.size().first() == Some(&0) {
        return Ok(Tensor::zeros([0, model.embed_dim()], (Kind::Float, tch::Device::Cpu)));
    }
    tch::no_grad(|| model.embed_text_features(features, false))
        .map(|t| t.to_device(tch::Device::Cpu))
        .map_err(FeatureError::from)
}

/// Rows of a `[N, D]` tensor as f64 vectors, for the metrics.
pub fn to_rows(t: &Tensor) -> Vec<Vec<f64>> {
    let t = t.to_kind(Kind::Double).contiguous();
    let (n, d) = (t.size()[0] as usize, t.size().get(1).copied().unwrap_or(0) as usize);
    let flat: Vec<f64> = Vec::try_from(t.view([-1])).unwrap_or_default();
    (0..n).map(|i| flat[i * d..(i + 1) * d].to_vec()).collect()
}
