//! Memory of a large index: the peak resident set of a `storyscore search` process that opens a
//! 1M-clip × 64-d index (written once with the library's `ClipIndex` store API, for a fresh
//! three-branch model saved beside it) and answers one query, against the raw size of its
//! embeddings (1M × 64 × 4 bytes = 256 MB). No Python peer measures this.
//!
//! Three child processes are measured (`wait4`'s `ru_maxrss`): the real `storyscore search` on the
//! large index, the same on a 10-clip index (what the model and libtorch cost alone), and this
//! bench re-run with `--load-only DIR` (`ClipIndex::open` + one top-k, no model).
//!
//! `cargo bench --bench index_rss -- --json [--n N]` prints one JSON line `{"bench": "index_rss",
//! "rss_mb", "raw_mb", "ratio", …}` for `scripts/bench`; without `--json` it prints the same line
//! (a peak RSS has no criterion form).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use support::peak_rss;

use rand::{Rng, SeedableRng};
use storyscore::index::{ClipIndex, ClipRecord};
use storyscore::model::{EmotionModel, ModelConfig, Space};
use tch::Device;

const QUERY: &str = "The army crested the hill and the drums began to pound.";
const MB: f64 = 1e6;

/// An index of `n` clips with seeded random embeddings, as the indexer records them, saved to `dir`.
fn write_index(model: &EmotionModel, model_dir: &Path, n: usize, dir: &Path) -> Result<(), String> {
    let dim = usize::try_from(model.embed_dim()).map_err(|e| e.to_string())?;
    let mut index = ClipIndex::new(model.id(), model.space(), dim);
    index.set_model_dir(model_dir);
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut embedding = vec![0f32; dim];
    for i in 0..n {
        embedding.iter_mut().for_each(|x| *x = rng.random_range(-1.0f32..1.0));
        let record = ClipRecord {
            path: PathBuf::from(format!("/music/library/album{:04}/track{i:07}.ogg", i / 12)),
            size: 4_000_000 + (i as u64 % 1_000_000),
            mtime_ns: 1_700_000_000_000_000_000 + i as u64,
            header_hash: format!("{:040x}", rng.random::<u128>()),
            duration_s: 30.0,
            tags: vec![
                ("title".into(), format!("Track {i}")),
                ("artist".into(), format!("Artist {}", i / 120)),
            ],
            model_id: model.id().to_string(),
            chunk_starts_s: Vec::new(),
            sounds_like: Vec::new(),
        };
        index.insert_at(None, record, &embedding).map_err(|e| e.to_string())?;
    }
    index.save(dir).map_err(|e| e.to_string())
}

fn search(index: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_storyscore"));
    cmd.args(["search", "--index"]).arg(index).args(["--top", "10", "--json", QUERY]);
    cmd
}

fn file_mb(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(f64::NAN, |m| m.len() as f64 / MB)
}

/// `--load-only DIR`: what the index alone holds in memory, opened and searched once.
fn load_only(dir: &Path) -> Result<(), String> {
    let index = ClipIndex::open(dir).map_err(|e| e.to_string())?;
    let query: Vec<f32> = (0..index.dim()).map(|i| (i as f32).sin()).collect();
    let hits = index.search(&query, 10).map_err(|e| e.to_string())?;
    std::hint::black_box(hits);
    Ok(())
}

/// `--write-index DIR N MODEL_DIR`: an index of `n` random clips in `dir` for the model in
/// `model_dir` (a fresh three-branch model of the paper's config, 64-d, saved there first when
/// the folder has none), so the index is 1M × 64 whatever the shipped default model is. Runs in a
/// child process so the measuring parent stays small: a child's `ru_maxrss` starts from its
/// parent's resident set at fork, which building a 1M index in the parent would dominate.
fn write_index_for(dir: &Path, n: usize, model_dir: &Path) -> Result<(), String> {
    let model = if model_dir.join("model.toml").exists() {
        EmotionModel::load(model_dir, Device::Cpu).map_err(|e| format!("{}: {e}", model_dir.display()))?
    } else {
        let config = ModelConfig::paper(Space::ThreeBranch).map_err(|e| e.to_string())?;
        let mut model = EmotionModel::new(config, Device::Cpu).map_err(|e| e.to_string())?;
        model.save(model_dir).map_err(|e| e.to_string())?;
        model
    };
    write_index(&model, model_dir, n, dir)
}

fn measure(args: &[String]) -> Result<(), String> {
    let n: usize = support::flag(args, "--n")?.unwrap_or(1_000_000);
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (large, small) = (tmp.path().join("large"), tmp.path().join("small"));
    let model_dir = tmp.path().join("model");
    let t0 = Instant::now();
    for (dir, clips) in [(&large, n), (&small, 10)] {
        let mut write = Command::new(&exe);
        write.arg("--write-index").arg(dir).arg(clips.to_string()).arg(&model_dir);
        peak_rss(write)?;
    }
    let build_s = t0.elapsed().as_secs_f64();
    eprintln!("index_rss: wrote a {n}-clip index in {build_s:.1}s");

    let (rss, search_s) = peak_rss(search(&large))?;
    let (baseline, _) = peak_rss(search(&small))?;
    let mut only = Command::new(exe);
    only.arg("--load-only").arg(&large);
    let (index_only, _) = peak_rss(only)?;
    let dim = ClipIndex::open(&small).map_err(|e| e.to_string())?.dim();
    let raw = (n * dim * 4) as f64 / MB;
    let line = serde_json::json!({
        "bench": "index_rss",
        "n": n,
        "dim": dim,
        "rss_mb": rss,
        "raw_mb": raw,
        "ratio": rss / raw,
        "baseline_rss_mb": baseline,
        "index_only_rss_mb": index_only,
        "index_only_ratio": index_only / raw,
        "embeddings_file_mb": file_mb(&large.join("embeddings.npy")),
        "clips_file_mb": file_mb(&large.join("clips.jsonl")),
        "clip_offsets_file_mb": file_mb(&large.join("clips.idx")),
        "search_wall_s": search_s,
        "build_s": build_s,
    });
    println!("{line}");
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match (support::flag::<PathBuf>(&args, "--load-only"), args.as_slice()) {
        (Ok(Some(dir)), _) => load_only(&dir),
        (_, [flag, dir, n, model_dir, ..]) if flag == "--write-index" => match n.parse() {
            Ok(n) => write_index_for(Path::new(dir), n, Path::new(model_dir)),
            Err(e) => Err(format!("--write-index DIR N MODEL_DIR: {e}")),
        },
        (Ok(None), _) => measure(&args),
        (Err(e), _) => Err(e),
    };
    if let Err(e) = result {
        eprintln!("index_rss bench: {e}");
        std::process::exit(2);
    }
}
