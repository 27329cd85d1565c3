//! Audio indexing throughput, defined as `../shared/bench/index_audio.py`: per file, decode →
//! resample to 16 kHz → 16 evaluation windows of 80,000 samples → log-mel → audio CNN (ndim 64,
//! random weights, eval) → mean → one 64-d embedding; no cache. Every stage is the library
//! function the indexer (`index::build_index`) runs: `audio::decode` (which also averages the
//! channels), `audio::resample`, `WindowPlan` (the windows and their segments),
//! `SegmentMels::new` (log-mel), `EmotionModel::embed_segment_mels` (CNN). As in the indexer,
//! overlapping windows share their segment's log-mel and first CNN layers (`model::windows`;
//! `--exact` cuts them one by one as the peer does). Stages run one after the other, as in the
//! peer; the indexer itself overlaps decoding with the model on other threads.
//!
//! Files: the first `--limit` audio files under DIR (the library's `data::folder::audio_files`),
//! sorted by their path string, as the peer's `sorted(os.walk(...))` orders them.
//!
//! `--trunk musicnn` measures the same path with the frozen musicnn MSD tagger instead of the CNN
//! (its 96-band front end and 16 windows of 3 s; the `cnn` stage is then musicnn's), the
//! `index_musicnn` row, which has no Python peer; `--trunk musicnn-mtt` and `musicnn-both` (the
//! default model's: both taggers) measure the same row for the other trunks.
//!
//! `cargo bench --bench index` runs criterion on one 4Q clip, both ways. `cargo bench --bench index
//! -- --json [--threads T] [--exact] [--trunk cnn|musicnn|musicnn-both] DIR [--limit L]` prints one JSON line
//! with the peer's keys (`files_per_s`, `audio_s_per_wall_s`, `wall_s`, `cpu_s`, `stage_s`) for
//! `scripts/bench`.

mod support;

use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::Criterion;
use storyscore::audio::{decode, resample, MelFrontEnd, EVAL_CHUNKS, SAMPLE_RATE};
use storyscore::model::{EmotionModel, ModelConfig, SegmentMels, Space, TrunkKind, WindowMode};
use tch::{Device, Kind};

const STAGES: [&str; 5] = ["decode", "resample", "chunk", "mel", "cnn"];

/// The indexer's model: a fresh three-branch model (random CNN and heads), eval mode.
struct Embedder {
    model: EmotionModel,
    mel: MelFrontEnd,
    windows: WindowMode,
}

/// One file's embedding, the seconds spent in each of [`STAGES`] and the decoded duration.
struct FileResult {
    embedding: Vec<f32>,
    stage_s: [f64; 5],
    audio_s: f64,
}

impl Embedder {
    fn new(windows: WindowMode, trunk: TrunkKind) -> Result<Self, String> {
        // Two taggers' averaged heads are the moods space's (the default model's trunk).
        let mut config = match trunk.parts() {
            1 => ModelConfig::paper(Space::ThreeBranch),
            _ => ModelConfig::story(&[]),
        }
        .map_err(|e| e.to_string())?;
        config.set_trunk(trunk, None);
        let model = EmotionModel::new(config, Device::Cpu).map_err(|e| e.to_string())?;
        let mel = model.front_end();
        let embedder = Self { model, mel, windows };
        // One untimed pass, as the peer's: kernel selection and the allocator warm up.
        embedder.embed_samples(&vec![0.0; 30 * SAMPLE_RATE as usize])?;
        Ok(embedder)
    }

    /// 16 kHz samples → mean embedding `[D]`, with the times the mel and the CNN started and
    /// the CNN ended.
    fn embed_samples(&self, samples: &[f32]) -> Result<(Vec<f32>, [Instant; 3]), String> {
        let plan = self.model.window_plan(&self.mel, samples.len(), EVAL_CHUNKS, self.windows);
        let segments = plan.segment_samples(samples);
        let t_mel = Instant::now();
        let mels = SegmentMels::new(&self.mel, &plan, &segments).map_err(|e| format!("mel: {e}"))?;
        let t_cnn = Instant::now();
        let emb = self.model.embed_segment_mels(&mels).map_err(|e| format!("model: {e}"))?;
        let mean = emb.f_mean_dim([0i64].as_slice(), false, Kind::Float).map_err(|e| e.to_string())?;
        let mean = Vec::<f32>::try_from(mean).map_err(|e| e.to_string())?;
        Ok((mean, [t_mel, t_cnn, Instant::now()]))
    }

    fn embed_file(&self, path: &Path) -> Result<FileResult, String> {
        let t0 = Instant::now();
        let decoded = decode(path).map_err(|e| e.to_string())?;
        let t1 = Instant::now();
        let samples = resample(&decoded.samples_mono, decoded.sample_rate, SAMPLE_RATE)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let t2 = Instant::now();
        let (embedding, [t3, t4, t5]) = self.embed_samples(&samples)?;
        let secs = |a: Instant, b: Instant| b.duration_since(a).as_secs_f64();
        Ok(FileResult {
            embedding,
            stage_s: [secs(t0, t1), secs(t1, t2), secs(t2, t3), secs(t3, t4), secs(t4, t5)],
            audio_s: decoded.samples_mono.len() as f64 / f64::from(decoded.sample_rate),
        })
    }
}

/// The first `limit` audio files under `dir` (0: all), in the order of their path strings.
fn list_audio(dir: &Path, limit: usize) -> Result<Vec<PathBuf>, String> {
    let mut issues = Vec::new();
    let mut files = storyscore::data::folder::audio_files(dir, &mut issues).map_err(|e| e.to_string())?;
    files.sort_by_cached_key(|p| p.to_string_lossy().into_owned());
    if limit > 0 {
        files.truncate(limit);
    }
    if files.is_empty() {
        return Err(format!("no audio files under {}", dir.display()));
    }
    Ok(files)
}

fn json_mode(args: &[String]) -> Result<(), String> {
    let threads = support::set_threads(support::flag(args, "--threads")?.unwrap_or(0))?;
    let limit: usize = support::flag(args, "--limit")?.unwrap_or(0);
    let windows = if args.iter().any(|a| a == "--exact") { WindowMode::Exact } else { WindowMode::Shared };
    let trunk: TrunkKind = support::flag::<String>(args, "--trunk")?.as_deref().unwrap_or("cnn").parse()?;
    let dir = match support::positional(args, &["--threads", "--limit", "--trunk"]).as_slice() {
        [.., dir] => PathBuf::from(dir),
        [] => return Err("give the folder to index (DIR)".into()),
    };
    let files = list_audio(&dir, limit)?;
    let embedder = Embedder::new(windows, trunk)?;

    let mut stage_s = [0.0f64; 5];
    let mut audio_s = 0.0;
    let cpu0 = support::process_cpu_s();
    let start = Instant::now();
    for (i, path) in files.iter().enumerate() {
        let r = embedder.embed_file(path)?;
        std::hint::black_box(&r.embedding);
        stage_s.iter_mut().zip(r.stage_s).for_each(|(total, s)| *total += s);
        audio_s += r.audio_s;
        eprintln!(
            "  [{}/{}] {}: {:.1}s audio, {:.0} ms",
            i + 1,
            files.len(),
            path.display(),
            r.audio_s,
            1e3 * r.stage_s.iter().sum::<f64>()
        );
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = support::process_cpu_s() - cpu0;
    let stages: serde_json::Map<String, serde_json::Value> =
        STAGES.iter().zip(stage_s).map(|(k, v)| (k.to_string(), v.into())).collect();
    let line = serde_json::json!({
        "bench": if trunk == TrunkKind::Cnn { "index".to_string() } else { format!("index_{}", trunk.as_str().split('-').next().unwrap_or("trunk")) },
        "trunk": trunk.as_str(),
        "files": files.len(),
        "audio_seconds": audio_s,
        "wall_s": wall,
        "cpu_s": cpu,
        "files_per_s": files.len() as f64 / wall,
        "audio_s_per_wall_s": audio_s / wall,
        "stage_s": stages,
        "chunks_per_file": EVAL_CHUNKS,
        "windows": if windows == WindowMode::Shared { "shared" } else { "exact" },
        "threads": threads,
    });
    println!("{line}");
    Ok(())
}

fn criterion_benches(c: &mut Criterion) -> Result<(), String> {
    support::set_criterion_threads()?;
    let clip = support::shared_root().join("data/4q/MT0000004637.ogg");
    if !clip.exists() {
        eprintln!("index bench: skipping, {} not found", clip.display());
        return Ok(());
    }
    let mut group = c.benchmark_group("index");
    group.sample_size(10);
    for (name, windows) in [("shared", WindowMode::Shared), ("exact", WindowMode::Exact)] {
        let embedder = Embedder::new(windows, TrunkKind::Cnn)?;
        group.bench_function(format!("cold_file/4q_16k_mono/{name}"), |b| {
            b.iter(|| embedder.embed_file(&clip))
        });
    }
    group.finish();
    Ok(())
}

fn main() {
    // The heap settings `index::build_index` runs under.
    let _heap = storyscore::heap::HeapReuse::start();
    support::main("index", json_mode, criterion_benches);
}
