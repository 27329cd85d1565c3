//! A clip's evaluation windows (the paper's 16 evenly spaced 5-s chunks), computed together.
//!
//! On a 30-s clip the 16 windows overlap heavily: cut one by one, the trunk sees the same audio
//! about 2.7 times. In [`WindowMode::Shared`] overlapping windows form one *segment*: its log-mel
//! and the trunk's first layers run once, and each window takes its slice of the shared feature
//! map. For the slices to be exact, a window's offset in its segment is snapped to the trunk's
//! grid (the time stride of the shared layers: 4 frames = 64 ms for the CNN, one mel frame for
//! the statistics trunk), so windows move by half a grid step at most (less than one for the last
//! window, which must end inside the clip). What still differs from
//! [`WindowMode::Exact`] is the border: cut alone, a window's first and last mel frame reflect
//! its own edge and each convolution pads it with zeros; inside a segment they see the real
//! neighbouring audio. `tests/lib/model_windows.rs` measures how far that moves the embeddings: about
//! as far as moving the paper's windows by one grid step does.
//! Windows that do not overlap (clips longer than about 85 s) are their own segments, so long
//! tracks cost what cutting them did.

use std::collections::BTreeMap;

use tch::{Kind, Tensor};

use super::error::Result;
use crate::audio::{MelFrontEnd, CHUNK_SAMPLES};

/// How a clip's windows are computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WindowMode {
    /// Every window cut and computed alone, as the paper's evaluation does.
    Exact,
    /// Overlapping windows share their segment's log-mel and first trunk layers.
    #[default]
    Shared,
}

/// A run of audio whose windows are computed together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// First sample of the segment in the (zero-padded) clip.
    pub start: usize,
    /// Samples in the segment: its last window's offset plus the window length.
    pub len: usize,
    /// The windows in the segment: (window number, offset in samples from `start`).
    pub windows: Vec<(usize, usize)>,
}

/// Where the windows of one clip are and how they group into segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowPlan {
    /// Samples in one window ([`CHUNK_SAMPLES`], 5 s, for the paper's trunks).
    pub window: usize,
    /// Samples of the clip after zero-padding to at least one window.
    pub padded_len: usize,
    /// Window `i` starts at sample `starts[i]`.
    pub starts: Vec<usize>,
    pub segments: Vec<Segment>,
}

impl WindowPlan {
    /// `count` windows of a clip of `len` samples, window `i` near `i · ⌊(len − 80000) / count⌋`
    /// (exactly there in [`WindowMode::Exact`]); `grid` is the trunk's step in samples (a
    /// multiple of the mel hop).
    pub fn new(len: usize, count: usize, grid: usize, mode: WindowMode) -> Self {
        Self::with_window(CHUNK_SAMPLES, len, count, grid, mode)
    }

    /// As [`Self::new`] with windows of `window` samples (musicnn's are 3 s).
    pub fn with_window(window: usize, len: usize, count: usize, grid: usize, mode: WindowMode) -> Self {
        let window = window.max(1);
        let count = count.max(1);
        let grid = grid.max(1);
        let padded_len = len.max(window);
        let spacing = (padded_len - window) / count;
        let mut starts = Vec::with_capacity(count);
        let mut segments: Vec<Segment> = Vec::new();
        for i in 0..count {
            let exact = i * spacing;
            let joins =
                mode == WindowMode::Shared && segments.last().is_some_and(|s| exact < s.start + s.len);
            if !joins {
                segments.push(Segment { start: exact, len: window, windows: vec![(i, 0)] });
                starts.push(exact);
                continue;
            }
            let Some(seg) = segments.last_mut() else { continue };
            let last_fit = (padded_len - window - seg.start) / grid;
            let offset = ((exact - seg.start + grid / 2) / grid).min(last_fit) * grid;
            seg.windows.push((i, offset));
            seg.len = seg.len.max(offset + window);
            starts.push(seg.start + offset);
        }
        Self { window, padded_len, starts, segments }
    }

    /// The samples each segment needs, cut from the clip (zero-padded at the end when short).
    pub fn segment_samples(&self, samples: &[f32]) -> Vec<Vec<f32>> {
        self.segments
            .iter()
            .map(|seg| {
                let end = (seg.start + seg.len).min(samples.len());
                let mut out = samples[seg.start.min(end)..end].to_vec();
                out.resize(seg.len, 0.0);
                out
            })
            .collect()
    }
}

/// The log-mels of a plan's segments, ready for the trunk: segments of equal length stacked
/// into one batch.
#[derive(Debug)]
pub struct SegmentMels {
    /// `[S, n_mels, T]` per group, with each segment's window offsets in frames.
    groups: Vec<(Tensor, Vec<Vec<i64>>)>,
    /// The window number of each row the groups give, in order.
    order: Vec<usize>,
    /// Frames in one window.
    pub(crate) frames: i64,
}

impl SegmentMels {
    /// Log-mels of the segments of `plan`, from their samples ([`WindowPlan::segment_samples`]).
    pub fn new(front: &MelFrontEnd, plan: &WindowPlan, samples: &[Vec<f32>]) -> Result<Self> {
        let hop = front.config().hop as usize;
        let mut by_len: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (s, seg) in plan.segments.iter().enumerate() {
            by_len.entry(seg.len).or_default().push(s);
        }
        let mut groups = Vec::new();
        let mut order = Vec::new();
        for (len, group) in by_len {
            let flat: Vec<f32> = group.iter().flat_map(|&s| samples[s].iter().copied()).collect();
            let wave = Tensor::from_slice(&flat).view([group.len() as i64, len as i64]);
            let offsets: Vec<Vec<i64>> = group
                .iter()
                .map(|&s| plan.segments[s].windows.iter().map(|&(_, off)| (off / hop) as i64).collect())
                .collect();
            groups.push((front.log_mel(&wave)?, offsets));
            order.extend(group.iter().flat_map(|&s| plan.segments[s].windows.iter().map(|w| w.0)));
        }
        Ok(Self { groups, order, frames: front.config().frames(plan.window as i64) })
    }

    /// Runs `trunk(mel [S, n_mels, T], frame offsets per segment)`, which returns one row per
    /// window segment by segment, on every group → `[count, out]` in window order.
    pub(crate) fn run(&self, trunk: impl Fn(&Tensor, &[Vec<i64>]) -> Result<Tensor>) -> Result<Tensor> {
        let parts =
            self.groups.iter().map(|(mel, offsets)| trunk(mel, offsets)).collect::<Result<Vec<_>>>()?;
        let stacked = Tensor::f_cat(&parts, 0)?;
        let mut inverse = vec![0i64; self.order.len()];
        for (row, &window) in self.order.iter().enumerate() {
            inverse[window] = row as i64;
        }
        let index = Tensor::from_slice(&inverse).to_device(stacked.device());
        Ok(stacked.f_index_select(0, &index)?)
    }
}

/// Each segment's windows sliced out of a feature map `[S, …, T']` whose time axis has step
/// `grid` frames: `offsets[s]` in frames (multiples of `grid`), `width` columns each → stacked
/// `[Σ windows, …, width]`.
pub(crate) fn slice_windows(map: &Tensor, offsets: &[Vec<i64>], grid: i64, width: i64) -> Tensor {
    let rows: Vec<Tensor> = offsets
        .iter()
        .enumerate()
        .flat_map(|(s, offs)| offs.iter().map(move |&o| map.get(s as i64).narrow(-1, o / grid, width)))
        .collect();
    Tensor::stack(&rows, 0).to_kind(Kind::Float)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRID: usize = 1024;

    #[test]
    fn exact_mode_cuts_every_window_at_the_papers_start() {
        let len = 480_384;
        let plan = WindowPlan::new(len, 16, GRID, WindowMode::Exact);
        let spacing = (len - CHUNK_SAMPLES) / 16;
        assert_eq!(plan.segments.len(), 16);
        for (i, seg) in plan.segments.iter().enumerate() {
            assert_eq!((seg.start, seg.len, seg.windows.clone()), (i * spacing, CHUNK_SAMPLES, vec![(i, 0)]));
            assert_eq!(plan.starts[i], crate::audio::chunk::eval_chunk_start(len, i));
        }
    }

    #[test]
    fn a_30_s_clip_is_one_segment_with_windows_on_the_grid() {
        let len = 480_000;
        let plan = WindowPlan::new(len, 16, GRID, WindowMode::Shared);
        assert_eq!(plan.segments.len(), 1);
        let seg = &plan.segments[0];
        assert_eq!(seg.windows.len(), 16);
        assert!(seg.start + seg.len <= len);
        let spacing = (len - CHUNK_SAMPLES) / 16;
        for &(i, off) in &seg.windows {
            assert_eq!(off % GRID, 0);
            let exact = i * spacing;
            assert!(plan.starts[i].abs_diff(exact) <= GRID / 2, "window {i}: {} vs {exact}", plan.starts[i]);
            assert!(off + CHUNK_SAMPLES <= seg.len);
        }
        // The segment covers the clip once instead of 16 windows' worth of samples.
        assert!(seg.len <= len && 16 * CHUNK_SAMPLES > 2 * seg.len);
    }

    #[test]
    fn long_tracks_keep_one_window_per_segment() {
        let len = 16_000 * 180;
        let plan = WindowPlan::new(len, 16, GRID, WindowMode::Shared);
        assert_eq!(plan.segments.len(), 16);
        assert_eq!(plan, WindowPlan::new(len, 16, GRID, WindowMode::Exact));
    }

    #[test]
    fn the_last_window_never_runs_past_the_clip() {
        for len in [80_001, 90_000, 200_000, 481_536, 1_000_000] {
            let plan = WindowPlan::new(len, 16, GRID, WindowMode::Shared);
            for seg in &plan.segments {
                assert!(seg.start + seg.len <= len, "len {len}: {seg:?}");
            }
            assert!(plan.starts.iter().all(|&s| s + CHUNK_SAMPLES <= len));
        }
    }

    #[test]
    fn short_clips_are_padded_to_one_window() {
        let plan = WindowPlan::new(1000, 16, GRID, WindowMode::Shared);
        assert_eq!(plan.padded_len, CHUNK_SAMPLES);
        assert_eq!(plan.segments.len(), 1);
        assert_eq!(plan.segments[0].len, CHUNK_SAMPLES);
        assert!(plan.starts.iter().all(|&s| s == 0));
        let samples: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let cut = plan.segment_samples(&samples);
        assert_eq!(cut[0].len(), CHUNK_SAMPLES);
        assert_eq!((cut[0][999], cut[0][1000]), (999.0, 0.0));
    }
}
