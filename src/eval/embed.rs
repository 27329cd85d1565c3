//! Clip and text embeddings as evaluation computes them: a clip is the mean of its 16 evenly
//! spaced 5-s chunk embeddings.

use tch::{Kind, Tensor};

use crate::audio::{MelFrontEnd, CHUNK_SAMPLES, EVAL_CHUNKS};
use crate::model::EmotionModel;
use crate::train::pcm_cache::PcmCache;
use crate::train::RunError;

/// `n` evenly spaced 5-s chunks of `samples`, concatenated (`n × 80000`); the same spacing as
/// [`crate::audio::eval_chunks`] when `n` is 16, zero-padded when the clip is short.
pub fn spaced_chunks(samples: &[f32], n: usize) -> Vec<f32> {
    let n = n.max(1);
    let hop = samples.len().saturating_sub(CHUNK_SAMPLES) / n;
    let mut out = Vec::with_capacity(n * CHUNK_SAMPLES);
    for i in 0..n {
        let start = (i * hop).min(samples.len());
        let chunk = &samples[start..(start + CHUNK_SAMPLES).min(samples.len())];
        out.extend_from_slice(chunk);
        out.resize((i + 1) * CHUNK_SAMPLES, 0.0);
    }
    out
}

/// Embeddings `[N, D]` (CPU) of `clips`, each the mean over `chunks` evenly spaced chunks (the
/// paper's protocol is [`EVAL_CHUNKS`]).
pub fn clip_embeddings(
    model: &EmotionModel,
    front: &MelFrontEnd,
    cache: &PcmCache,
    clips: &[&std::path::Path],
    chunks: usize,
) -> Result<Tensor, RunError> {
    let mut rows = Vec::with_capacity(clips.len());
    for clip in clips {
        let samples = if chunks == EVAL_CHUNKS {
            cache.eval_chunks(clip)?
        } else {
            spaced_chunks(&cache.samples(clip)?, chunks)
        };
        let n = (samples.len() / CHUNK_SAMPLES) as i64;
        let wave = Tensor::from_slice(&samples).view([n, CHUNK_SAMPLES as i64]);
        let emb = tch::no_grad(|| -> Result<Tensor, RunError> {
            let mel = front.log_mel(&wave).map_err(|e| RunError::format(clip, e))?;
            let emb = model.embed_audio_mel(&mel, false).map_err(|e| RunError::Weights(e.to_string()))?;
            Ok(emb.mean_dim([0i64].as_slice(), false, Kind::Float))
        })?;
        rows.push(emb.to_device(tch::Device::Cpu));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_spaced_chunks_are_the_evaluation_chunks() {
        let samples: Vec<f32> = (0..200_000).map(|i| i as f32).collect();
        assert_eq!(spaced_chunks(&samples, EVAL_CHUNKS), crate::audio::eval_chunks(&samples).concat());
        let one = spaced_chunks(&samples[..1000], 2);
        assert_eq!(one.len(), 2 * CHUNK_SAMPLES);
        assert_eq!((one[999], one[1000], one[CHUNK_SAMPLES]), (999.0, 0.0, 0.0));
    }
}
