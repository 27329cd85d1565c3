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

/// How many times the library's average share a mood must have in a clip to stand out.
pub const STANDS_OUT: f32 = 1.25;
/// Moods shown as standing out.
pub const STANDS_OUT_SHOWN: usize = 3;

/// A library's average mood distribution (probability spaces: classify and moods, whose
/// embeddings begin with the mood probabilities). The mood words of a clip are absolute; in a
/// library unlike the training clips (orchestral game music reads calm and melancholic nearly
/// throughout) what tells its clips apart is the mood each has more of than the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct LibraryMoods {
    moods: Vec<String>,
    mean: Vec<f32>,
}

impl LibraryMoods {
    /// The mean of the first `moods.len()` columns of `embeddings` (`[N, dim]` row-major);
    /// `None` outside the probability spaces or for an empty library.
    pub fn new(moods: &[String], embeddings: &[f32], dim: usize, space: Space) -> Option<Self> {
        let m = moods.len();
        if !space.is_probability() || m == 0 || dim < m || embeddings.len() < dim {
            return None;
        }
        let rows = embeddings.chunks_exact(dim);
        let n = rows.len() as f32;
        let mut mean = vec![0f32; m];
        for row in rows {
            mean.iter_mut().zip(&row[..m]).for_each(|(a, b)| *a += b / n);
        }
        Some(Self { moods: moods.to_vec(), mean })
    }

    /// The moods `v` (a clip's embedding) has at least [`STANDS_OUT`] times the library's
    /// average share of, with that ratio, most first (at most [`STANDS_OUT_SHOWN`]).
    pub fn stands_out(&self, v: &[f32]) -> Vec<(String, f32)> {
        let mut out: Vec<(String, f32)> = self
            .moods
            .iter()
            .zip(v)
            .zip(&self.mean)
            .filter(|(_, mean)| **mean > 1e-6)
            .map(|((mood, p), mean)| (mood.clone(), p / mean))
            .filter(|(_, ratio)| *ratio >= STANDS_OUT)
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out.truncate(STANDS_OUT_SHOWN);
        out
    }
}

/// "angry ×4.5, tense ×2.9" from [`LibraryMoods::stands_out`]; `None` when nothing does.
pub fn stands_out_text(moods: &[(String, f32)]) -> Option<String> {
    (!moods.is_empty())
        .then(|| moods.iter().map(|(m, r)| format!("{m} ×{r:.1}")).collect::<Vec<_>>().join(", "))
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
    fn a_clip_stands_out_by_the_moods_it_has_more_of_than_the_library() {
        let moods: Vec<String> = ["calm", "angry", "sad"].map(String::from).to_vec();
        // Three clips of a calm library, one column after the moods (as the moods space has).
        let rows = [0.8, 0.1, 0.1, 9.0, 0.7, 0.1, 0.2, 9.0, 0.6, 0.4, 0.0, 9.0];
        let library = LibraryMoods::new(&moods, &rows, 4, Space::Moods).unwrap();
        // Means: calm 0.7, angry 0.2, sad 0.1.
        let out = library.stands_out(&rows[8..12]);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].0, "angry");
        assert!((out[0].1 - 2.0).abs() < 1e-5, "{out:?}");
        let out = library.stands_out(&rows[4..8]);
        assert_eq!(out.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(), ["sad"], "calm ×1.0 does not");
        assert_eq!(stands_out_text(&out).unwrap(), "sad ×2.0");
        assert!(library.stands_out(&[0.7, 0.2, 0.1, 0.0]).is_empty(), "the average clip has nothing");
        assert_eq!(stands_out_text(&[]), None);
        // Only probability spaces, and only a library with a clip.
        assert!(LibraryMoods::new(&moods, &rows, 4, Space::ThreeBranch).is_none());
        assert!(LibraryMoods::new(&moods, &[], 4, Space::Moods).is_none());
    }

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
