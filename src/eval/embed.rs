//! Clip and text embeddings as evaluation computes them: a clip is the mean of its 16 evenly
//! spaced 5-s chunk embeddings.

use tch::{Kind, Tensor};

use crate::audio::MelFrontEnd;
use crate::model::{EmotionModel, WindowMode};
use crate::train::pcm_cache::PcmCache;
use crate::train::RunError;

/// Embeddings `[N, D]` (CPU) of `clips`, each the mean over `chunks` evenly spaced 5-s windows
/// (the paper's protocol: 16, [`WindowMode::Exact`]).
pub fn clip_embeddings(
    model: &EmotionModel,
    front: &MelFrontEnd,
    cache: &PcmCache,
    clips: &[&std::path::Path],
    chunks: usize,
    mode: WindowMode,
) -> Result<Tensor, RunError> {
    let mut rows = Vec::with_capacity(clips.len());
    for clip in clips {
        let samples = cache.samples(clip)?;
        let (emb, _) =
            model.embed_clip_windows(front, &samples, chunks, mode).map_err(|e| RunError::format(clip, e))?;
        rows.push(emb.mean_dim([0i64].as_slice(), false, Kind::Float).to_device(tch::Device::Cpu));
    }
    if rows.is_empty() {
        return Ok(Tensor::zeros([0, model.embed_dim()], (Kind::Float, tch::Device::Cpu)));
    }
    Ok(Tensor::stack(&rows, 0))
}

/// Text embeddings `[N, D]` (CPU) from cached encoder features `[N, H]`.
pub fn text_embeddings(model: &EmotionModel, features: &Tensor) -> Result<Tensor, RunError> {
    if features.size().first() == Some(&0) {
        return Ok(Tensor::zeros([0, model.embed_dim()], (Kind::Float, tch::Device::Cpu)));
    }
    tch::no_grad(|| model.embed_text_features(features, false))
        .map(|t| t.to_device(tch::Device::Cpu))
        .map_err(|e| RunError::Weights(e.to_string()))
}

/// Rows of a `[N, D]` tensor as f64 vectors, for the metrics.
pub fn to_rows(t: &Tensor) -> Vec<Vec<f64>> {
    let t = t.to_kind(Kind::Double).contiguous();
    let (n, d) = (t.size()[0] as usize, t.size().get(1).copied().unwrap_or(0) as usize);
    let flat: Vec<f64> = Vec::try_from(t.view([-1])).unwrap_or_default();
    (0..n).map(|i| flat[i * d..(i + 1) * d].to_vec()).collect()
}
