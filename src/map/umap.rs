//! UMAP of an index's clips for the Map tab, as in the paper's figure (the app computes it on a
//! worker thread). Cosine spaces are unit-normalised first, so Euclidean neighbours are cosine
//! neighbours. The exact k-nearest-neighbour graph comes from libtorch in row blocks; umap-rs
//! turns it into UMAP's fuzzy graph. The layout SGD is ours: umap-rs 0.4.5 divides its gradients
//! by `a·d^2b·d² + 1` instead of umap-learn's `a·d^2b + 1`, which leaves clusters mixed. The
//! layout starts from the PCA (or valence–arousal) plane with a fixed seed, so it is the same on
//! every run. UMAP has no transform for new points, so mood anchors and queries are placed at the
//! distance-weighted mean of their nearest clips.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use tch::{Kind, Tensor};

use super::projection::MapData;
use crate::index::store::unit;
use crate::model::Similarity;

/// Clips laid out at most; beyond this an even subsample is (and the Map tab says so).
pub const MAX_POINTS: usize = 20_000;
/// Neighbours of each clip in UMAP's graph (umap-learn's default).
const NEIGHBOURS: usize = 15;
/// Clips whose positions place an anchor or a query.
const PLACE_NEIGHBOURS: usize = 5;
/// Query rows per block of the neighbour search (a block's distances are `[BLOCK, N]` floats).
const BLOCK: i64 = 1024;
/// umap-learn's defaults: epochs (fewer for large sets), negative samples per pull, repulsion.
const EPOCHS_SMALL: usize = 500;
const EPOCHS_LARGE: usize = 200;
const NEGATIVE_RATE: f64 = 5.0;
const REPULSION: f32 = 1.0;
const SEED: u64 = 42;

#[derive(Debug, thiserror::Error)]
pub enum UmapError {
    #[error("UMAP needs at least 3 clips; the index has {0}")]
    TooFew(usize),
    #[error("UMAP neighbour search: {0}")]
    Neighbours(String),
    #[error("UMAP layout failed: {0}")]
    Layout(String),
}

/// A UMAP layout of (an even subsample of) an index's clips.
#[derive(Debug, Clone)]
pub struct UmapLayout {
    /// One point per index row; NaN for rows left out of the subsample (never drawn).
    pub points: Vec<[f64; 2]>,
    /// How many rows were laid out.
    pub laid_out: usize,
    /// One point per mood anchor.
    pub anchor_points: Vec<[f64; 2]>,
    /// Prepared rows `[laid_out, dim]` of the laid-out clips and their points, to place vectors.
    prepared: Vec<f32>,
    placed: Vec<[f64; 2]>,
    dim: usize,
    normalise: bool,
}

/// Index rows kept for a layout of `n` clips: all of them, or `MAX_POINTS` evenly spaced.
pub fn subsample(n: usize) -> Vec<usize> {
    if n <= MAX_POINTS {
        return (0..n).collect();
    }
    (0..MAX_POINTS).map(|i| i * n / MAX_POINTS).collect()
}

impl UmapLayout {
    /// Lays out the clips of `data` (`MAX_POINTS` at most), then places its mood anchors.
    pub fn fit(data: &MapData) -> Result<Self, UmapError> {
        let rows = subsample(data.len());
        if rows.len() < 3 || data.dim == 0 {
            return Err(UmapError::TooFew(rows.len()));
        }
        let normalise = data.space.similarity() == Similarity::Cosine;
        let prepare = |v: &[f32]| if normalise { unit(v) } else { v.to_vec() };
        let dim = data.dim;
        let prepared: Vec<f32> =
            rows.iter().flat_map(|&r| prepare(&data.embeddings[r * dim..][..dim])).collect();
        let k = NEIGHBOURS.min(rows.len() - 1);
        let (indices, distances) = neighbours(&prepared, dim, k)?;
        let features = Array2::from_shape_vec((rows.len(), dim), prepared.clone())
            .map_err(|e| UmapError::Layout(e.to_string()))?;
        let config = umap_rs::UmapConfig {
            graph: umap_rs::GraphParams { n_neighbors: k, ..Default::default() },
            ..Default::default()
        };
        // umap-rs panics on inputs it rejects; the checks above rule those out, this keeps any
        // other failure on this thread from taking the app down.
        let manifold = std::panic::catch_unwind(|| {
            umap_rs::Umap::new(config).learn_manifold(features.view(), indices.view(), distances.view())
        })
        .map_err(|p| UmapError::Layout(panic_text(p.as_ref())))?;
        let edges: Vec<(usize, usize, f32)> = manifold
            .graph()
            .outer_iterator()
            .enumerate()
            .flat_map(|(i, row)| row.iter().map(move |(j, &w)| (i, j, w)).collect::<Vec<_>>())
            .collect();
        let init: Vec<[f64; 2]> = rows.iter().map(|&r| data.points[r]).collect();
        let (a, b) = manifold.curve_params();
        let placed = optimise_layout(&init, &edges, a, b);
        let mut points = vec![[f64::NAN; 2]; data.len()];
        for (&r, p) in rows.iter().zip(&placed) {
            points[r] = *p;
        }
        let mut layout = Self {
            points,
            laid_out: rows.len(),
            anchor_points: Vec::new(),
            prepared,
            placed,
            dim,
            normalise,
        };
        layout.anchor_points = data.anchor_rows.chunks_exact(dim).map(|a| layout.place(a)).collect();
        Ok(layout)
    }

    pub fn subsampled(&self) -> bool {
        self.laid_out < self.points.len()
    }

    /// Where a vector of the space (`[dim]`) lands: the mean of its nearest laid-out clips'
    /// points, weighted by inverse distance.
    pub fn place(&self, v: &[f32]) -> [f64; 2] {
        let v = if self.normalise { unit(v) } else { v.to_vec() };
        let mut nearest: Vec<(f64, usize)> = self
            .prepared
            .chunks_exact(self.dim)
            .enumerate()
            .map(|(i, r)| (r.iter().zip(&v).map(|(a, b)| f64::from(a - b).powi(2)).sum::<f64>().sqrt(), i))
            .collect();
        let k = PLACE_NEIGHBOURS.min(nearest.len());
        if k == 0 {
            return [0.0, 0.0];
        }
        nearest.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
        let (mut sum, mut weight) = ([0.0, 0.0], 0.0);
        for &(d, i) in &nearest[..k] {
            let w = 1.0 / (d + 1e-6);
            sum = [sum[0] + w * self.placed[i][0], sum[1] + w * self.placed[i][1]];
            weight += w;
        }
        [sum[0] / weight, sum[1] / weight]
    }
}

/// Exact `k` nearest neighbours of each row of `rows` (`[N, dim]`), itself first as UMAP expects
/// (an exact duplicate may swap with it, at the same distance 0): indices `[N, k]` and Euclidean
/// distances `[N, k]`.
fn neighbours(rows: &[f32], dim: usize, k: usize) -> Result<(Array2<u32>, Array2<f32>), UmapError> {
    let fail = |e: tch::TchError| UmapError::Neighbours(e.to_string());
    let n = rows.len() / dim;
    let x = Tensor::f_from_slice(rows).and_then(|t| t.f_view([n as i64, dim as i64])).map_err(fail)?;
    let norms = x.square().sum_dim_intlist(1, false, Kind::Float);
    let (mut idx, mut dist) = (Vec::with_capacity(n * k), Vec::with_capacity(n * k));
    for start in (0..n as i64).step_by(BLOCK as usize) {
        let len = BLOCK.min(n as i64 - start);
        let block = x.narrow(0, start, len);
        // |a − b|² = |a|² + |b|² − 2 a·b; per row |a|² is constant, so rank by 2 a·b − |b|²
        // (`[len, N]`, larger is nearer) and recover the distances of the k best only.
        let closeness = block.matmul(&x.tr()) * 2.0 - norms.unsqueeze(0);
        let (best, i) = closeness.f_topk(k as i64, 1, true, true).map_err(fail)?;
        let d = (norms.narrow(0, start, len).unsqueeze(1) - best).clamp_min(0.0);
        idx.extend(Vec::<i64>::try_from(i.reshape([-1])).map_err(fail)?.into_iter().map(|v| v as u32));
        dist.extend(Vec::<f32>::try_from(d.sqrt().reshape([-1])).map_err(fail)?);
    }
    let shape = |e: ndarray::ShapeError| UmapError::Neighbours(e.to_string());
    Ok((
        Array2::from_shape_vec((n, k), idx).map_err(shape)?,
        Array2::from_shape_vec((n, k), dist).map_err(shape)?,
    ))
}

/// UMAP's layout SGD (umap-learn's `optimize_layout_euclidean`): each edge of the fuzzy graph
/// `(i, j, weight)` pulls its ends together as often as its weight allows, with `NEGATIVE_RATE`
/// random repulsions per pull; the step shrinks linearly to zero. `init` is rescaled to [0, 10].
fn optimise_layout(init: &[[f64; 2]], edges: &[(usize, usize, f32)], a: f32, b: f32) -> Vec<[f64; 2]> {
    let n = init.len();
    let epochs = if n <= 10_000 { EPOCHS_SMALL } else { EPOCHS_LARGE };
    let mut y: Vec<[f32; 2]> = rescale(init);
    let max_w = edges.iter().map(|e| e.2).fold(0.0f32, f32::max);
    // Edges too weak to be sampled once in the whole run are dropped, as umap-learn does; the
    // rest are pulled every `max_w / w` epochs.
    let edges: Vec<(usize, usize, f64)> = edges
        .iter()
        .filter(|e| e.2 > 0.0 && e.2 >= max_w / epochs as f32)
        .map(|&(i, j, w)| (i, j, f64::from(max_w / w)))
        .collect();
    let mut next_pull: Vec<f64> = edges.iter().map(|e| e.2).collect();
    let mut next_push: Vec<f64> = edges.iter().map(|e| e.2 / NEGATIVE_RATE).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    let clip = |v: f32| v.clamp(-4.0, 4.0);
    for epoch in 0..epochs {
        let alpha = 1.0 - epoch as f32 / epochs as f32;
        let now = epoch as f64;
        for (e, &(i, j, every)) in edges.iter().enumerate() {
            if next_pull[e] > now {
                continue;
            }
            let d = [y[i][0] - y[j][0], y[i][1] - y[j][1]];
            let d2 = d[0] * d[0] + d[1] * d[1];
            let pull = if d2 > 0.0 { -2.0 * a * b * d2.powf(b - 1.0) / (a * d2.powf(b) + 1.0) } else { 0.0 };
            for (k, dk) in d.iter().enumerate() {
                let g = clip(pull * dk) * alpha;
                y[i][k] += g;
                y[j][k] -= g;
            }
            next_pull[e] += every;
            let pushes = ((now - next_push[e]) / (every / NEGATIVE_RATE)).max(0.0) as usize;
            for _ in 0..pushes {
                let o = rng.random_range(0..n);
                let d = [y[i][0] - y[o][0], y[i][1] - y[o][1]];
                let d2 = d[0] * d[0] + d[1] * d[1];
                if o == i || d2 <= 0.0 {
                    continue;
                }
                let push = 2.0 * REPULSION * b / ((0.001 + d2) * (a * d2.powf(b) + 1.0));
                for (k, dk) in d.iter().enumerate() {
                    y[i][k] += clip(push * dk) * alpha;
                }
            }
            next_push[e] += pushes as f64 * every / NEGATIVE_RATE;
        }
    }
    y.iter().map(|p| [f64::from(p[0]), f64::from(p[1])]).collect()
}

/// Points rescaled per axis to [0, 10] (a flat axis stays at 0).
fn rescale(points: &[[f64; 2]]) -> Vec<[f32; 2]> {
    let range = |k: usize| {
        let lo = points.iter().map(|p| p[k]).fold(f64::INFINITY, f64::min);
        let hi = points.iter().map(|p| p[k]).fold(f64::NEG_INFINITY, f64::max);
        (lo, if hi > lo { 10.0 / (hi - lo) } else { 0.0 })
    };
    let (rx, ry) = (range(0), range(1));
    points.iter().map(|p| [((p[0] - rx.0) * rx.1) as f32, ((p[1] - ry.0) * ry.1) as f32]).collect()
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "umap-rs panicked".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Space;

    /// `per` points around each of three well separated centres in 16-d, cosine space.
    fn clusters(per: usize) -> MapData {
        let dim = 16;
        let mut emb = Vec::new();
        let mut state = 12345u64;
        let mut noise = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 0.2
        };
        for c in 0..3 {
            for _ in 0..per {
                emb.extend((0..dim).map(|j| if j % 3 == c { 1.0 } else { 0.0 } + noise()));
            }
        }
        let anchors: Vec<f32> =
            (0..3).flat_map(|c| (0..dim).map(move |j| if j % 3 == c { 1.0 } else { 0.0 })).collect();
        let paths = (0..3 * per).map(|i| format!("clip{i}.ogg").into()).collect();
        let moods = vec!["happy".into(), "sad".into(), "scary".into()];
        MapData::build(Space::ThreeBranch, paths, emb, dim, moods, &anchors)
    }

    #[test]
    fn clusters_stay_apart_and_anchors_land_in_their_cluster() {
        let per = 60;
        let data = clusters(per);
        let layout = UmapLayout::fit(&data).unwrap();
        assert_eq!((layout.laid_out, layout.subsampled()), (3 * per, false));
        let centre = |c: usize| {
            let pts = &layout.points[c * per..(c + 1) * per];
            let n = pts.len() as f64;
            [pts.iter().map(|p| p[0]).sum::<f64>() / n, pts.iter().map(|p| p[1]).sum::<f64>() / n]
        };
        let dist = |a: [f64; 2], b: [f64; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
        let centres = [centre(0), centre(1), centre(2)];
        // Every point is closer to its own cluster's centre than to any other.
        for (i, p) in layout.points.iter().enumerate() {
            let own = i / per;
            for other in (0..3).filter(|&o| o != own) {
                assert!(
                    dist(*p, centres[own]) < dist(*p, centres[other]),
                    "point {i} strays to cluster {other}"
                );
            }
        }
        // Clusters are separated by more than their own spread.
        let spread = (0..3)
            .map(|c| {
                layout.points[c * per..(c + 1) * per].iter().map(|p| dist(*p, centres[c])).fold(0.0, f64::max)
            })
            .fold(0.0, f64::max);
        assert!(
            dist(centres[0], centres[1]).min(dist(centres[1], centres[2])).min(dist(centres[0], centres[2]))
                > spread
        );
        for (c, a) in layout.anchor_points.iter().enumerate() {
            let nearest =
                (0..3).min_by(|&x, &y| dist(*a, centres[x]).total_cmp(&dist(*a, centres[y]))).unwrap();
            assert_eq!(nearest, c, "anchor {c} lands in its cluster");
        }
    }

    #[test]
    fn large_indexes_are_subsampled_evenly_and_tiny_ones_refused() {
        let rows = subsample(3 * MAX_POINTS);
        assert_eq!(rows.len(), MAX_POINTS);
        assert_eq!((rows[0], rows[1], rows[MAX_POINTS - 1]), (0, 3, 3 * MAX_POINTS - 3));
        assert_eq!(subsample(10), (0..10).collect::<Vec<_>>());
        let two = MapData::build(
            Space::Va,
            vec!["a".into(), "b".into()],
            vec![0.1, 0.2, 0.3, 0.4],
            2,
            vec!["happy".into()],
            &[0.5, 0.5],
        );
        assert!(matches!(UmapLayout::fit(&two), Err(UmapError::TooFew(2))));
    }

    #[test]
    fn neighbours_are_exact_and_start_with_the_row_itself() {
        let rows = [0.0f32, 0.0, 1.0, 0.0, 0.0, 2.0, 5.0, 5.0];
        let (idx, dist) = neighbours(&rows, 2, 3).unwrap();
        assert_eq!(idx.row(0).to_vec(), vec![0, 1, 2]);
        assert_eq!(idx.row(3)[0], 3);
        assert!((dist[(0, 1)] - 1.0).abs() < 1e-6 && (dist[(0, 2)] - 2.0).abs() < 1e-6);
    }
}
