//! The emotion space flattened for the Map tab: a 2-d projection of an index's clips and the
//! model's mood anchors. The VA space is already a plane (valence, arousal); every other space is
//! projected on its first two principal components, found by power iteration on the covariance.

use std::path::PathBuf;

use crate::index::store::unit;
use crate::index::MoodAnchors;
use crate::model::{Similarity, Space};

/// Power-iteration rounds per component; 64-d covariances converge well before this.
const POWER_ITERATIONS: usize = 200;

/// A linear map from the space to the plane: `p = ((v − mean) · axis₀, (v − mean) · axis₁)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    mean: Vec<f64>,
    axes: [Vec<f64>; 2],
    /// Rows are unit-normalised first (cosine spaces), so length does not move a point.
    normalise: bool,
}

impl Projection {
    /// Fits the projection to `rows` (`[N, dim]` row-major) of a space.
    pub fn fit(rows: &[f32], dim: usize, space: Space) -> Self {
        let normalise = space.similarity() == Similarity::Cosine;
        if space == Space::Va || dim <= 2 {
            let axis = |i: usize| (0..dim).map(|j| if i == j { 1.0 } else { 0.0 }).collect();
            return Self { mean: vec![0.0; dim], axes: [axis(0), axis(1)], normalise: false };
        }
        let prepared: Vec<Vec<f64>> = rows
            .chunks_exact(dim)
            .map(|r| if normalise { unit(r) } else { r.to_vec() })
            .map(|r| r.iter().map(|&x| f64::from(x)).collect())
            .collect();
        let n = prepared.len().max(1) as f64;
        let mut mean = vec![0.0; dim];
        for r in &prepared {
            mean.iter_mut().zip(r).for_each(|(m, x)| *m += x / n);
        }
        // Covariance `[dim, dim]`, accumulated row by row.
        let mut cov = vec![0.0; dim * dim];
        let mut centred = vec![0.0; dim];
        for r in &prepared {
            centred.iter_mut().zip(r.iter().zip(&mean)).for_each(|(c, (x, m))| *c = x - m);
            for i in 0..dim {
                let ci = centred[i];
                cov[i * dim..(i + 1) * dim].iter_mut().zip(&centred).for_each(|(v, cj)| *v += ci * cj / n);
            }
        }
        let first = principal_axis(&cov, dim, 0);
        let lambda = rayleigh(&cov, dim, &first);
        for i in 0..dim {
            for j in 0..dim {
                cov[i * dim + j] -= lambda * first[i] * first[j];
            }
        }
        let second = principal_axis(&cov, dim, 1);
        Self { mean, axes: [first, second], normalise }
    }

    /// The point of `v` (`[dim]`) in the plane.
    pub fn project(&self, v: &[f32]) -> [f64; 2] {
        let v: Vec<f32> = if self.normalise { unit(v) } else { v.to_vec() };
        let dot = |axis: &[f64]| {
            axis.iter().zip(&v).zip(&self.mean).map(|((a, &x), m)| a * (f64::from(x) - m)).sum::<f64>()
        };
        [dot(&self.axes[0]), dot(&self.axes[1])]
    }
}

/// The unit eigenvector of the largest eigenvalue of the symmetric `[dim, dim]` matrix, signed so
/// that its largest component is positive (stable orientation between runs).
fn principal_axis(m: &[f64], dim: usize, seed: usize) -> Vec<f64> {
    let mut v: Vec<f64> = (0..dim).map(|i| 1.0 + ((i * 7 + seed * 3) % 11) as f64 / 11.0).collect();
    for _ in 0..POWER_ITERATIONS {
        let next: Vec<f64> =
            (0..dim).map(|i| m[i * dim..(i + 1) * dim].iter().zip(&v).map(|(a, b)| a * b).sum()).collect();
        let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm < 1e-12 {
            break;
        }
        v = next.iter().map(|x| x / norm).collect();
    }
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
    let largest = v.iter().copied().fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
    let sign = if largest < 0.0 { -1.0 } else { 1.0 };
    v.iter().map(|x| sign * x / norm).collect()
}

fn rayleigh(m: &[f64], dim: usize, v: &[f64]) -> f64 {
    (0..dim).map(|i| v[i] * m[i * dim..(i + 1) * dim].iter().zip(v).map(|(a, b)| a * b).sum::<f64>()).sum()
}

/// Everything the Map tab draws for one index.
#[derive(Debug, Clone)]
pub struct MapData {
    pub space: Space,
    /// Axis names: valence/arousal, or the principal components.
    pub axis_names: [String; 2],
    pub projection: Projection,
    /// One point per clip, in index order.
    pub points: Vec<[f64; 2]>,
    /// Index (into `moods`) of each clip's closest mood.
    pub closest: Vec<u16>,
    pub paths: Vec<PathBuf>,
    pub moods: Vec<String>,
    /// One point per mood anchor.
    pub anchor_points: Vec<[f64; 2]>,
    /// `[M, dim]` mood anchors in the space.
    pub anchor_rows: Vec<f32>,
    /// For the explanation of a selected clip.
    pub anchors: MoodAnchors,
    /// `[N, dim]` clip embeddings.
    pub embeddings: Vec<f32>,
    pub dim: usize,
}

impl MapData {
    /// Projects `embeddings` (`[N, dim]`) and the mood anchors (`[M, dim]`).
    pub fn build(
        space: Space,
        paths: Vec<PathBuf>,
        embeddings: Vec<f32>,
        dim: usize,
        moods: Vec<String>,
        anchor_rows: &[f32],
    ) -> Self {
        let projection = Projection::fit(&embeddings, dim, space);
        let anchors = MoodAnchors::new(moods.clone(), anchor_rows.to_vec(), dim, space);
        let dim_rows = dim.max(1);
        let points = embeddings.chunks_exact(dim_rows).map(|r| projection.project(r)).collect();
        let closest = embeddings
            .chunks_exact(dim_rows)
            .map(|r| {
                let scores = anchors.scores(r);
                let best = scores.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i);
                u16::try_from(best).unwrap_or(0)
            })
            .collect();
        let anchor_points = anchor_rows.chunks_exact(dim_rows).map(|r| projection.project(r)).collect();
        let axis_names = match space {
            Space::Va => ["valence".to_string(), "arousal".to_string()],
            _ => ["PC1".to_string(), "PC2".to_string()],
        };
        Self {
            space,
            axis_names,
            projection,
            points,
            closest,
            paths,
            moods,
            anchor_points,
            anchor_rows: anchor_rows.to_vec(),
            anchors,
            embeddings,
            dim,
        }
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The closest moods of clip `i`, best first.
    pub fn clip_moods(&self, i: usize, n: usize) -> Vec<(String, f32)> {
        match self.embeddings.get(i * self.dim..(i + 1) * self.dim) {
            Some(row) if self.dim > 0 => self.anchors.closest(row, n),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_components_follow_the_spread() {
        // Points spread along (1, 1, 0) with a little spread along (0, 0, 1).
        let mut rows = Vec::new();
        for i in 0..50 {
            let t = i as f32 / 5.0 - 5.0;
            rows.extend([t, t, 0.1 * ((i % 5) as f32 - 2.0)]);
        }
        let p = Projection::fit(&rows, 3, Space::Classify);
        let a = (p.axes[0][0], p.axes[0][1], p.axes[0][2]);
        assert!((a.0 - a.1).abs() < 1e-6 && (a.0 - 0.5f64.sqrt()).abs() < 1e-3 && a.2.abs() < 1e-2, "{a:?}");
        assert!(p.axes[1][2].abs() > 0.99, "{:?}", p.axes[1]);
        let [x, _] = p.project(&[1.0, 1.0, 0.0]);
        let [x0, _] = p.project(&[0.0, 0.0, 0.0]);
        assert!((x - x0 - 2.0f64.sqrt()).abs() < 1e-3);
    }

    #[test]
    fn va_is_the_valence_arousal_plane() {
        let data = MapData::build(
            Space::Va,
            vec![PathBuf::from("a.ogg"), PathBuf::from("b.ogg")],
            vec![0.9, 0.8, 0.1, 0.2],
            2,
            vec!["happy".into(), "sad".into()],
            &[0.85, 0.7, 0.2, 0.3],
        );
        assert_eq!(data.points, vec![[0.9f32 as f64, 0.8f32 as f64], [0.1f32 as f64, 0.2f32 as f64]]);
        assert_eq!(data.closest, vec![0, 1]);
        assert_eq!(data.axis_names, ["valence", "arousal"]);
        assert_eq!(data.clip_moods(1, 1)[0].0, "sad");
        assert!(data.clip_moods(5, 1).is_empty());
    }
}
