//! Explaining embeddings by the model's mood anchors: the moods whose points in the space lie
//! closest to a query or a clip.

use tch::{Device, Kind};

use super::store::unit;
use crate::model::{EmotionModel, ModelError, Similarity, Space};

/// The moods of a model and their points in its space.
#[derive(Debug, Clone, PartialEq)]
pub struct MoodAnchors {
    moods: Vec<String>,
    /// `[M, D]` row-major (unit rows in cosine spaces).
    points: Vec<f32>,
    dim: usize,
    similarity: Similarity,
}

impl MoodAnchors {
    pub fn of(model: &EmotionModel) -> Result<Self, ModelError> {
        let (moods, points) = model.mood_anchors()?;
        let points = points.to_kind(Kind::Float).to_device(Device::Cpu);
        let dim = points.size().get(1).copied().unwrap_or(0).max(0) as usize;
        let points: Vec<f32> = Vec::try_from(points.reshape([-1]))?;
        Ok(Self::new(moods, points, dim, model.space()))
    }

    /// Anchors given directly: `points` is `[moods.len(), dim]`.
    pub fn new(moods: Vec<String>, points: Vec<f32>, dim: usize, space: Space) -> Self {
        let similarity = space.similarity();
        let points = match similarity {
            Similarity::Cosine if dim > 0 => points.chunks_exact(dim).flat_map(unit).collect(),
            _ => points,
        };
        Self { moods, points, dim, similarity }
    }

    pub fn moods(&self) -> &[String] {
        &self.moods
    }

    /// Similarity of `v` (`[D]`) to every mood, in vocabulary order.
    pub fn scores(&self, v: &[f32]) -> Vec<f32> {
        if self.dim == 0 || v.len() != self.dim {
            return Vec::new();
        }
        let q = match self.similarity {
            Similarity::Cosine => unit(v),
            _ => v.to_vec(),
        };
        self.points
            .chunks_exact(self.dim)
            .map(|p| match self.similarity {
                Similarity::Cosine | Similarity::InnerProduct => p.iter().zip(&q).map(|(a, b)| a * b).sum(),
                Similarity::NegEuclidean => {
                    -p.iter().zip(&q).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt()
                }
            })
            .collect()
    }

    /// The `n` moods closest to `v`, best first, with their similarity.
    pub fn closest(&self, v: &[f32], n: usize) -> Vec<(String, f32)> {
        let mut scored: Vec<(String, f32)> = self.moods.iter().cloned().zip(self.scores(v)).collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.truncate(n);
        scored
    }
}

/// Tags shown in "sounds like" lines.
pub const SOUNDS_LIKE_SHOWN: usize = 4;

/// "mellow, chill, piano" from a clip's tagger tags (best first); `None` when it has none.
/// Tags below a tenth of the best one's probability are left out, so a clip the tagger hears as
/// one thing is not padded with guesses.
pub fn sounds_like_text(tags: &[(String, f32)]) -> Option<String> {
    let best = tags.first()?.1;
    let shown: Vec<String> = tags
        .iter()
        .take(SOUNDS_LIKE_SHOWN)
        .filter(|(_, p)| *p >= best * 0.1)
        .map(|(t, _)| t.to_lowercase())
        .collect();
    Some(shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_and_va_rank_moods() {
        let moods = vec!["happy".to_string(), "sad".to_string(), "scary".to_string()];
        let cos =
            MoodAnchors::new(moods.clone(), vec![2.0, 0.0, 0.0, 1.0, -1.0, -1.0], 2, Space::ThreeBranch);
        let top = cos.closest(&[0.1, 3.0], 2);
        assert_eq!(top[0].0, "sad");
        assert!((top[0].1 - 0.99944).abs() < 1e-4, "{top:?}");
        let va = MoodAnchors::new(moods, vec![0.9, 0.6, 0.1, 0.2, 0.2, 0.9], 2, Space::Va);
        let top = va.closest(&[0.85, 0.6], 3);
        assert_eq!(top.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(), vec!["happy", "scary", "sad"]);
        assert!((top[0].1 + 0.05).abs() < 1e-6);
        assert!(va.closest(&[1.0], 3).is_empty(), "wrong dimension gives no moods");
    }
}
