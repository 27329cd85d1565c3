//! Exact top-k search over a row-major f32 matrix `[N, D]`.
//!
//! Rows are scored against a query by inner product (cosine when rows and query are unit-norm) or by
//! negative squared Euclidean distance (the valence–arousal space). Results are ordered by score,
//! highest first, ties broken by the lower row index, so the result equals a full sort of all rows.
//!
//! Rows are split into blocks scored on the rayon pool; each block keeps a bounded min-heap of its
//! k best rows and the heaps are merged at the end.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;

/// Rows per parallel task: large enough to amortise scheduling, small enough to balance two cores.
const BLOCK_ROWS: usize = 8192;
/// Below this many rows waking the thread pool costs more than it saves.
const SEQUENTIAL_ROWS: usize = 2 * BLOCK_ROWS;
/// Rows scored against every query of a batch while they are hot in cache.
const BATCH_TILE_ROWS: usize = 256;
/// Accumulator lanes of the dot product: independent sums the compiler keeps in vector registers.
const LANES: usize = 16;

/// How a row is scored against a query; higher is always better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// `<row, query>`.
    InnerProduct,
    /// `-‖row − query‖²`.
    NegSquaredEuclidean,
}

/// One ranked row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub index: usize,
    pub score: f32,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TopKError {
    #[error("embedding dimension must be positive")]
    ZeroDim,
    #[error("matrix has {len} values, not a multiple of the dimension {dim}")]
    Ragged { len: usize, dim: usize },
    #[error("query has {got} values but the index dimension is {dim}")]
    QueryDim { got: usize, dim: usize },
}

/// The score of `row` against `query` under `metric`, bit for bit what the search computes.
/// Zero is always +0.0, so `>` on scores agrees with the ranking's total order.
#[inline(always)]
pub fn score(metric: Metric, row: &[f32], query: &[f32]) -> f32 {
    match metric {
        Metric::InnerProduct => dot(row, query) + 0.0,
        Metric::NegSquaredEuclidean => 0.0 - squared_distance(row, query),
    }
}

/// Whether `a` ranks before `b`: higher score, then lower index. NaN ranks last.
#[inline]
pub fn ranks_before(a: &Hit, b: &Hit) -> bool {
    rank_order(a, b) == Ordering::Less
}

/// Total order of hits, best first (`Less` = `a` before `b`).
pub fn rank_order(a: &Hit, b: &Hit) -> Ordering {
    rank_key(b.score).total_cmp(&rank_key(a.score)).then(a.index.cmp(&b.index))
}

#[inline(always)]
fn rank_key(score: f32) -> f32 {
    if score.is_nan() {
        f32::NEG_INFINITY
    } else {
        score
    }
}

/// The `k` best rows of `matrix` (`[N, dim]`, row-major) for `query` (`[dim]`), best first.
pub fn top_k(
    matrix: &[f32],
    dim: usize,
    query: &[f32],
    k: usize,
    metric: Metric,
) -> Result<Vec<Hit>, TopKError> {
    check(matrix, dim, query.len())?;
    if k == 0 || matrix.is_empty() {
        return Ok(Vec::new());
    }
    let scan_block = |(block, rows): (usize, &[f32])| {
        let mut best = BoundedHeap::new(k);
        scan(metric, rows, dim, query, block * BLOCK_ROWS, &mut best);
        best
    };
    let merged = if matrix.len() <= SEQUENTIAL_ROWS * dim {
        scan_block((0, matrix))
    } else {
        matrix
            .par_chunks(BLOCK_ROWS * dim)
            .enumerate()
            .map(scan_block)
            .reduce(|| BoundedHeap::new(k), BoundedHeap::merge)
    };
    Ok(merged.into_sorted())
}

/// The `k` best rows for each of the queries (`[Q, dim]`, row-major), best first per query.
pub fn top_k_batch(
    matrix: &[f32],
    dim: usize,
    queries: &[f32],
    k: usize,
    metric: Metric,
) -> Result<Vec<Vec<Hit>>, TopKError> {
    check(matrix, dim, dim)?;
    if !queries.len().is_multiple_of(dim) {
        return Err(TopKError::QueryDim { got: queries.len(), dim });
    }
    let n_queries = queries.len() / dim;
    if k == 0 || matrix.is_empty() {
        return Ok(vec![Vec::new(); n_queries]);
    }
    let merged = matrix
        .par_chunks(BLOCK_ROWS * dim)
        .enumerate()
        .map(|(block, rows)| {
            let mut best: Vec<BoundedHeap> = (0..n_queries).map(|_| BoundedHeap::new(k)).collect();
            let base = block * BLOCK_ROWS;
            for (tile_no, tile) in rows.chunks(BATCH_TILE_ROWS * dim).enumerate() {
                let tile_base = base + tile_no * BATCH_TILE_ROWS;
                for (query, heap) in queries.chunks_exact(dim).zip(best.iter_mut()) {
                    scan(metric, tile, dim, query, tile_base, heap);
                }
            }
            best
        })
        .reduce(
            || (0..n_queries).map(|_| BoundedHeap::new(k)).collect(),
            |a, b| a.into_iter().zip(b).map(|(x, y)| x.merge(y)).collect(),
        );
    Ok(merged.into_iter().map(BoundedHeap::into_sorted).collect())
}

/// Offers rows `[n, dim]` (row `i` has index `base + i`) to `best`, with AVX2 where the CPU has it.
/// Every lane does the same IEEE operations in the same order on both paths, so scores agree
/// bit for bit with [`score`].
fn scan(metric: Metric, rows: &[f32], dim: usize, query: &[f32], base: usize, best: &mut BoundedHeap) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { scan_avx2(metric, rows, dim, query, base, best) };
        return;
    }
    scan_rows(metric, rows, dim, query, base, best);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn scan_avx2(metric: Metric, rows: &[f32], dim: usize, query: &[f32], base: usize, best: &mut BoundedHeap) {
    scan_rows(metric, rows, dim, query, base, best);
}

#[inline(always)]
fn scan_rows(metric: Metric, rows: &[f32], dim: usize, query: &[f32], base: usize, best: &mut BoundedHeap) {
    match metric {
        Metric::InnerProduct => {
            for (i, row) in rows.chunks_exact(dim).enumerate() {
                best.offer_in_order(base + i, dot(row, query) + 0.0);
            }
        }
        Metric::NegSquaredEuclidean => {
            for (i, row) in rows.chunks_exact(dim).enumerate() {
                best.offer_in_order(base + i, 0.0 - squared_distance(row, query));
            }
        }
    }
}

fn check(matrix: &[f32], dim: usize, query_len: usize) -> Result<(), TopKError> {
    if dim == 0 {
        return Err(TopKError::ZeroDim);
    }
    if !matrix.len().is_multiple_of(dim) {
        return Err(TopKError::Ragged { len: matrix.len(), dim });
    }
    if query_len != dim {
        return Err(TopKError::QueryDim { got: query_len, dim });
    }
    Ok(())
}

#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    reduce_lanes(acc) + tail
}

#[inline(always)]
fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| (x - y) * (x - y)).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            let d = x[l] - y[l];
            acc[l] += d * d;
        }
    }
    reduce_lanes(acc) + tail
}

/// Pairwise sum of the lanes (keeps the reduction vectorised and its rounding fixed).
#[inline(always)]
fn reduce_lanes(mut acc: [f32; LANES]) -> f32 {
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            acc[l] += acc[l + width];
        }
        width /= 2;
    }
    acc[0]
}

/// Heap entry ordered so that the worst hit is the heap's maximum (popped first).
#[derive(Clone, Copy)]
struct Worst(Hit);

impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        rank_order(&self.0, &other.0)
    }
}

/// The k best hits seen so far.
struct BoundedHeap {
    k: usize,
    heap: BinaryHeap<Worst>,
    /// Rank key of the worst kept hit once full (NaN as -inf); -inf before.
    threshold: f32,
}

impl BoundedHeap {
    fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k.saturating_add(1).min(1 << 16)),
            threshold: f32::NEG_INFINITY,
        }
    }

    /// [`Self::offer`] for rows visited in increasing index order (and after every hit already
    /// kept): a score equal to the worst kept one then never wins on index, so one `>` decides.
    #[inline(always)]
    fn offer_in_order(&mut self, index: usize, score: f32) {
        if self.heap.len() < self.k || score > self.threshold {
            self.offer(index, score);
        }
    }

    #[inline]
    fn offer(&mut self, index: usize, score: f32) {
        let hit = Hit { index, score };
        if self.heap.len() < self.k {
            self.heap.push(Worst(hit));
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if ranks_before(&hit, &worst.0) {
                *worst = Worst(hit);
            }
        }
        if self.heap.len() == self.k {
            self.threshold = self.heap.peek().map_or(f32::NEG_INFINITY, |w| rank_key(w.0.score));
        }
    }

    fn merge(mut self, other: Self) -> Self {
        for Worst(hit) in other.heap {
            self.offer(hit.index, hit.score);
        }
        self
    }

    fn into_sorted(self) -> Vec<Hit> {
        self.heap.into_sorted_vec().into_iter().map(|w| w.0).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_force(m: &[f32], dim: usize, q: &[f32], k: usize, metric: Metric) -> Vec<Hit> {
        let mut all: Vec<Hit> = m
            .chunks_exact(dim)
            .enumerate()
            .map(|(index, row)| Hit { index, score: score(metric, row, q) })
            .collect();
        all.sort_by(rank_order);
        all.truncate(k);
        all
    }

    /// Deterministic pseudo-random values with many exact ties (coarse grid).
    fn grid_values(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 33) % 7) as f32 - 3.0
            })
            .collect()
    }

    #[test]
    fn matches_brute_force_with_ties_across_blocks() {
        for &(n, dim, k) in &[(20_000, 64, 10), (3 * BLOCK_ROWS + 5, 3, 50), (100, 17, 200), (1, 2, 1)] {
            let m = grid_values(n * dim, n as u64);
            let q = grid_values(dim, 7);
            for metric in [Metric::InnerProduct, Metric::NegSquaredEuclidean] {
                let got = top_k(&m, dim, &q, k, metric).unwrap();
                assert_eq!(got, brute_force(&m, dim, &q, k, metric), "n={n} dim={dim} k={k} {metric:?}");
            }
        }
    }

    #[test]
    fn batch_equals_single_queries() {
        let (n, dim, k) = (BLOCK_ROWS + 300, 64, 7);
        let m = grid_values(n * dim, 3);
        let qs = grid_values(5 * dim, 11);
        for metric in [Metric::InnerProduct, Metric::NegSquaredEuclidean] {
            let batch = top_k_batch(&m, dim, &qs, k, metric).unwrap();
            assert_eq!(batch.len(), 5);
            for (q, got) in qs.chunks_exact(dim).zip(&batch) {
                assert_eq!(got, &brute_force(&m, dim, q, k, metric));
            }
        }
    }

    #[test]
    fn dot_agrees_with_f64_reference() {
        let a = grid_values(67, 1);
        let b = grid_values(67, 2);
        let exact: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
        assert_eq!(f64::from(dot(&a, &b)), exact);
        let d: f64 = a.iter().zip(&b).map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2)).sum();
        assert_eq!(f64::from(squared_distance(&a, &b)), d);
    }

    #[test]
    fn nan_rows_rank_last() {
        let m = [f32::NAN, 1.0, 2.0, 0.5];
        let got = top_k(&m, 1, &[1.0], 4, Metric::InnerProduct).unwrap();
        let order: Vec<usize> = got.iter().map(|h| h.index).collect();
        assert_eq!(order, vec![2, 1, 3, 0]);
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert_eq!(top_k(&[1.0; 6], 0, &[], 1, Metric::InnerProduct), Err(TopKError::ZeroDim));
        assert_eq!(
            top_k(&[1.0; 7], 2, &[1.0, 2.0], 1, Metric::InnerProduct),
            Err(TopKError::Ragged { len: 7, dim: 2 })
        );
        assert_eq!(
            top_k(&[1.0; 6], 2, &[1.0], 1, Metric::InnerProduct),
            Err(TopKError::QueryDim { got: 1, dim: 2 })
        );
        assert_eq!(
            top_k_batch(&[1.0; 6], 2, &[1.0; 3], 1, Metric::InnerProduct),
            Err(TopKError::QueryDim { got: 3, dim: 2 })
        );
        assert!(top_k(&[], 4, &[0.0; 4], 3, Metric::InnerProduct).unwrap().is_empty());
        assert!(top_k(&[1.0; 8], 4, &[0.0; 4], 0, Metric::InnerProduct).unwrap().is_empty());
    }
}
