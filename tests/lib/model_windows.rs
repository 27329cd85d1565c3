//! A clip's 16 evaluation windows computed together (`model::windows`) against cutting them one by
//! one, on real 4Q clips: exact mode is the old computation, shared mode stays close to it.
use crate::common;

use std::path::PathBuf;

use storyscore::audio::{eval_chunks_tensor, load_mono_16k, MelFrontEnd, CHUNK_SAMPLES, EVAL_CHUNKS};
use storyscore::model::weights::{copy_matching, read_safetensors};
use storyscore::model::{EmotionModel, ModelConfig, Space, TrunkKind, WindowMode};
use tch::{Device, Kind, Tensor};

/// The first `n` 4Q clips in name order.
fn clips(n: usize) -> Option<Vec<PathBuf>> {
    let dir = common::shared("data/4q")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ogg"))
        .collect();
    files.sort();
    files.truncate(n);
    Some(files)
}

/// The paper's CNN with the reference weights of `model_shapes/` (audio branch and heads).
fn reference_cnn() -> Option<EmotionModel> {
    let dir = common::shared("reference/model_shapes")?;
    common::minilm_dir()?;
    let model = EmotionModel::new(ModelConfig::paper(Space::ThreeBranch).unwrap(), Device::Cpu).unwrap();
    for file in ["audio_branch.safetensors", "heads.safetensors"] {
        let path = dir.join(file);
        let tensors = read_safetensors(&path).unwrap();
        copy_matching(model.var_store(), &tensors, &path, |name| {
            tensors.contains_key(name).then(|| name.to_string())
        })
        .unwrap();
    }
    Some(model)
}

/// A mel-stats model (the trunk whose windows are shared differently from the CNN's), seeded.
fn mel_stats_model() -> Option<EmotionModel> {
    common::minilm_dir()?;
    let mut config = ModelConfig::paper(Space::Classify).unwrap();
    config.set_trunk(TrunkKind::MelStats, None);
    tch::manual_seed(7);
    Some(EmotionModel::new(config, Device::Cpu).unwrap())
}

/// The indexer's computation before windows were shared: 16 cut chunks, one batch.
fn cut_one_by_one(model: &EmotionModel, front: &MelFrontEnd, samples: &[f32]) -> Tensor {
    let wave = eval_chunks_tensor(samples, Device::Cpu);
    tch::no_grad(|| model.embed_audio_mel(&front.log_mel(&wave).unwrap(), false).unwrap())
}

fn cosines(a: &Tensor, b: &Tensor) -> Vec<f64> {
    let c = Tensor::cosine_similarity(a, b, -1, 1e-8).to_kind(Kind::Double);
    Vec::try_from(c.reshape([-1])).unwrap()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

/// How far one computation of the windows lies from the paper's: cosines of window and clip
/// (mean of 16 windows, what the index stores) embeddings.
#[derive(Debug, Default)]
struct Drift {
    windows: Vec<f64>,
    clips: Vec<f64>,
}

impl Drift {
    fn add(&mut self, a: &Tensor, b: &Tensor) {
        self.windows.extend(cosines(a, b));
        let mean = |t: &Tensor| t.mean_dim([0i64].as_slice(), true, Kind::Float);
        self.clips.extend(cosines(&mean(a), &mean(b)));
    }

    fn worst_clip(&self) -> f64 {
        self.clips.iter().copied().fold(f64::INFINITY, f64::min)
    }

    fn mean_clip(&self) -> f64 {
        self.clips.iter().sum::<f64>() / self.clips.len() as f64
    }

    fn mean_window(&self) -> f64 {
        self.windows.iter().sum::<f64>() / self.windows.len() as f64
    }
}

/// Shared windows against exact ones, and, for scale, exact windows of the clip shifted by one
/// grid step (what the paper's own window placement is arbitrary by) against exact ones.
fn drift(model: &EmotionModel, files: &[PathBuf]) -> (Drift, Drift) {
    let front = MelFrontEnd::new(Device::Cpu);
    let grid = model.window_grid(&front);
    let (mut shared_drift, mut shift_drift) = (Drift::default(), Drift::default());
    for path in files {
        let samples = load_mono_16k(path).unwrap();
        let embed = |s: &[f32], mode| model.embed_clip_windows(&front, s, EVAL_CHUNKS, mode).unwrap();
        let (exact, starts) = embed(&samples, WindowMode::Exact);
        let (shared, snapped) = embed(&samples, WindowMode::Shared);
        assert_eq!(shared.size(), exact.size());
        for (a, b) in starts.iter().zip(&snapped) {
            assert!(a.abs_diff(*b) < grid.max(2), "{}: window moved from {a} to {b}", path.display());
        }
        shared_drift.add(&shared, &exact);
        shift_drift.add(&embed(&samples[grid..], WindowMode::Exact).0, &exact);
    }
    (shared_drift, shift_drift)
}

#[test]
fn exact_windows_are_the_chunks_cut_one_by_one() {
    let (Some(files), Some(cnn), Some(stats)) = (clips(3), reference_cnn(), mel_stats_model()) else {
        return;
    };
    let front = MelFrontEnd::new(Device::Cpu);
    for path in &files {
        let samples = load_mono_16k(path).unwrap();
        for model in [&cnn, &stats] {
            let (exact, starts) =
                model.embed_clip_windows(&front, &samples, EVAL_CHUNKS, WindowMode::Exact).unwrap();
            let old = cut_one_by_one(model, &front, &samples);
            let diff = max_abs_diff(&exact, &old);
            assert!(diff < 1e-5, "{}: {diff}", path.display());
            let spacing = (samples.len().max(CHUNK_SAMPLES) - CHUNK_SAMPLES) / EVAL_CHUNKS;
            assert_eq!(starts, (0..EVAL_CHUNKS).map(|i| i * spacing).collect::<Vec<_>>());
        }
    }
}

#[test]
fn shared_windows_stay_as_close_to_exact_ones_as_a_shift_by_one_grid_step() {
    let (Some(files), Some(cnn), Some(stats)) = (clips(12), reference_cnn(), mel_stats_model()) else {
        return;
    };
    for (name, model) in [("reference CNN", &cnn), ("mel-stats model", &stats)] {
        let (shared, shifted) = drift(model, &files);
        eprintln!(
            "{name}: clip cosine worst {:.5} mean {:.5}, window mean {:.4} (windows shifted by one grid step: \
             clip worst {:.5} mean {:.5}, window mean {:.4})",
            shared.worst_clip(),
            shared.mean_clip(),
            shared.mean_window(),
            shifted.worst_clip(),
            shifted.mean_clip(),
            shifted.mean_window(),
        );
        assert!(shared.worst_clip() > 0.99, "{name}: a clip drifted to cosine {}", shared.worst_clip());
        assert!(
            shared.mean_clip() > shifted.mean_clip() - 0.002,
            "{name}: shared windows move clips more than a shift by one grid step ({} vs {})",
            shared.mean_clip(),
            shifted.mean_clip()
        );
    }
}

#[test]
fn long_tracks_and_short_clips_embed_in_shared_mode() {
    let (Some(files), Some(cnn)) = (clips(2), reference_cnn()) else { return };
    let front = MelFrontEnd::new(Device::Cpu);
    let a = load_mono_16k(&files[0]).unwrap();
    let b = load_mono_16k(&files[1]).unwrap();
    // Three minutes: windows no longer overlap, so shared mode is exact.
    let long: Vec<f32> = a.iter().chain(&b).cycle().take(16_000 * 180).copied().collect();
    let (exact, _) = cnn.embed_clip_windows(&front, &long, EVAL_CHUNKS, WindowMode::Exact).unwrap();
    let (shared, _) = cnn.embed_clip_windows(&front, &long, EVAL_CHUNKS, WindowMode::Shared).unwrap();
    assert!(max_abs_diff(&exact, &shared) < 1e-5);
    // Two seconds: padded to one window, the same in both modes, 16 equal rows.
    let short = &a[..32_000];
    let (exact, starts) = cnn.embed_clip_windows(&front, short, EVAL_CHUNKS, WindowMode::Exact).unwrap();
    let (shared, _) = cnn.embed_clip_windows(&front, short, EVAL_CHUNKS, WindowMode::Shared).unwrap();
    assert!(starts.iter().all(|&s| s == 0));
    assert!(max_abs_diff(&exact, &shared) < 1e-5);
    assert!(max_abs_diff(&shared.get(0), &shared.get(15)) < 1e-6);
}
