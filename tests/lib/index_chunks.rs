//! Per-chunk embeddings on real 4Q clips with a freshly initialised mel-stats model: `chunks.npy`
//! as numpy reads it, previews that start at the chunk fitting the query best (checked against an
//! independent computation), incremental updates that keep rows aligned, indexes from before
//! chunks were kept, and the `preview_start_s` key of `search --json`.
use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use ndarray::Array3;
use ndarray_npy::ReadNpyExt;
use storyscore::audio::chunk::eval_chunk_start;
use storyscore::audio::{eval_chunks_tensor, load_mono_16k, MelFrontEnd, EVAL_CHUNKS, SAMPLE_RATE};
use storyscore::index::store::unit;
use storyscore::index::{build_index, soundtrack, ClipIndex, IndexOptions, QueryMode, Searcher};
use storyscore::model::{EmotionModel, ModelConfig, Space, TrunkKind, WindowMode, WindowPlan};
use storyscore::text::StoryText;
use tch::{Device, Kind, Tensor};

const CLIPS: [&str; 3] = ["MT0000004637.ogg", "MT0000011357.ogg", "MT0000040632.ogg"];
const QUERY: &str = "The storm broke over the ship and the sailors screamed.";
const DIM: usize = 64;

/// A fresh three-branch model with the fast mel-stats trunk, saved in `dir`.
fn fresh_model(dir: &Path) -> EmotionModel {
    tch::manual_seed(11);
    let mut config = ModelConfig::paper(Space::ThreeBranch).unwrap();
    config.audio.trunk = TrunkKind::MelStats;
    let mut model = EmotionModel::new(config, Device::Cpu).unwrap();
    model.save(dir).unwrap();
    model
}

/// Copies of a few 4Q clips in a temp folder (so the test may delete one).
fn library() -> Option<(tempfile::TempDir, Vec<PathBuf>)> {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for name in CLIPS {
        let source = common::shared(&format!("data/4q/{name}"))?;
        let path = dir.path().join(name);
        std::fs::copy(source, &path).unwrap();
        paths.push(path);
    }
    Some((dir, paths))
}

/// The clip's 16 chunk embeddings computed here, apart from the indexer. → `[16 · D]`, starts (s)
/// Exact: the 16 chunks cut one by one. Shared (this mel-stats model's grid is one mel hop): the
/// windows sliced out of the log-mel of the one segment they overlap in.
fn chunk_embeddings(model: &EmotionModel, path: &Path, windows: WindowMode) -> (Vec<f32>, Vec<f64>) {
    let samples = load_mono_16k(path).unwrap();
    let mel = MelFrontEnd::new(Device::Cpu);
    let (batch, starts) = match windows {
        WindowMode::Exact => {
            let starts = (0..EVAL_CHUNKS).map(|i| eval_chunk_start(samples.len(), i)).collect();
            (mel.log_mel(&eval_chunks_tensor(&samples, Device::Cpu)).unwrap(), starts)
        }
        WindowMode::Shared => {
            let plan = WindowPlan::new(samples.len(), EVAL_CHUNKS, 256, WindowMode::Shared);
            let [seg] = plan.segments.as_slice() else { panic!("one segment expected: {plan:?}") };
            let wave = Tensor::from_slice(&samples[seg.start..seg.start + seg.len]);
            let spec = mel.log_mel(&wave).unwrap();
            let frames: Vec<Tensor> =
                seg.windows.iter().map(|&(_, off)| spec.get(0).narrow(-1, off as i64 / 256, 313)).collect();
            (Tensor::stack(&frames, 0), plan.starts)
        }
    };
    let emb = tch::no_grad(|| model.embed_audio_mel(&batch, false)).unwrap();
    let values = Vec::<f32>::try_from(emb.to_kind(Kind::Float).reshape([-1])).unwrap();
    (values, starts.iter().map(|&s| s as f64 / f64::from(SAMPLE_RATE)).collect())
}

fn read_chunks(index: &Path) -> Array3<f32> {
    Array3::<f32>::read_npy(std::fs::File::open(index.join("chunks.npy")).unwrap()).unwrap()
}

/// Cosine of each chunk embedding (`[16 · D]`) with a unit query.
fn chunk_cosines(values: &[f32], query: &[f32]) -> Vec<f32> {
    values.chunks_exact(DIM).map(|c| unit(c).iter().zip(query).map(|(x, y)| x * y).sum()).collect()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn chunks_are_stored_and_previews_start_at_the_best_chunk() {
    chunks_stored(WindowMode::Shared);
}

#[test]
fn exact_windows_are_stored_and_preview_too() {
    chunks_stored(WindowMode::Exact);
}

fn chunks_stored(windows: WindowMode) {
    if common::minilm_dir().is_none() {
        return;
    }
    let Some((lib, paths)) = library() else { return };
    let work = tempfile::tempdir().unwrap();
    let (model_dir, out) = (work.path().join("model"), work.path().join("idx"));
    let model = fresh_model(&model_dir);
    let libs = vec![lib.path().to_path_buf()];
    let options = IndexOptions { windows, ..IndexOptions::default() };
    let report = build_index(&model, &model_dir, &libs, &out, &options).unwrap();
    assert_eq!((report.clips, report.embedded), (3, 3), "{report:?}");

    // chunks.npy as numpy reads it: row i holds clip i's chunk embeddings, as computed here.
    let npy = read_chunks(&out);
    assert_eq!(npy.dim(), (3, EVAL_CHUNKS, DIM));
    let index = ClipIndex::open(&out).unwrap();
    let mut expected = Vec::new();
    for (i, clip) in index.records().map(Result::unwrap).enumerate() {
        let (values, starts) = chunk_embeddings(&model, &clip.path, windows);
        let row: Vec<f32> = npy.slice(ndarray::s![i, .., ..]).iter().copied().collect();
        // Equal up to float summation order (the mel reaches the trunk in another memory layout).
        let scale = values.iter().fold(1f32, |m, v| m.max(v.abs()));
        assert!(max_abs_diff(&row, &values) < 1e-6 * scale, "clip {i}: {}", max_abs_diff(&row, &values));
        assert_eq!(clip.chunk_starts_s, starts);
        assert!(starts[EVAL_CHUNKS - 1] > 20.0, "30-s clips spread their chunks: {starts:?}");
        // The clip embedding is still the mean of its chunks (unit-normalised in this space).
        let mean: Vec<f32> =
            (0..DIM).map(|d| values.iter().skip(d).step_by(DIM).sum::<f32>() / EVAL_CHUNKS as f32).collect();
        assert!(max_abs_diff(index.embedding(i).unwrap(), &unit(&mean)) < 1e-5);
        expected.push((clip.path.clone(), row, starts));
    }

    // Each hit's preview starts at the argmax of cosine(chunk, query), computed independently.
    let searcher = Searcher::open(&out, Device::Cpu).unwrap();
    let story = StoryText::new(QUERY, "query").unwrap();
    let query = unit(&searcher.embed_text(&story, QueryMode::Whole).unwrap().vector);
    let results = searcher.search(QUERY, 3).unwrap().results;
    assert_eq!(results.len(), 3);
    for hit in &results {
        let (_, values, starts) = expected.iter().find(|e| e.0 == hit.path).unwrap();
        let cosines = chunk_cosines(values, &query);
        let best = (0..EVAL_CHUNKS).max_by(|&a, &b| cosines[a].total_cmp(&cosines[b])).unwrap();
        assert_eq!(hit.preview_start_s, starts[best], "{}: cosines {cosines:?}", hit.path.display());
        assert!((hit.preview_score.unwrap() - cosines[best]).abs() < 1e-5);
    }

    // A soundtrack previews each passage's clip from the chunk that fits that passage best (the
    // passages are embedded as one padded batch there, hence the tolerance).
    let text = "The storm broke over the ship.\n\nAt dawn the village sang and danced.";
    let track = soundtrack(&searcher, &StoryText::new(text, "story").unwrap()).unwrap();
    assert_eq!(track.passages.len(), 2);
    for p in &track.passages {
        let (_, values, starts) = expected.iter().find(|e| e.0 == p.clip).unwrap();
        let passage = StoryText::new(&p.text, "passage").unwrap();
        let v = unit(&searcher.embed_text(&passage, QueryMode::Whole).unwrap().vector);
        let cosines = chunk_cosines(values, &v);
        let chosen = starts.iter().position(|&s| s == p.preview_start_s).unwrap();
        let best = cosines.iter().copied().fold(f32::MIN, f32::max);
        assert!(cosines[chosen] >= best - 1e-4, "{}: {cosines:?}", p.preview_start_s);
    }
    let json = serde_json::to_value(&track).unwrap();
    assert!(json["passages"][0]["preview_start_s"].is_f64(), "{json}");

    // Deleting a clip: the others are reused and their rows stay aligned with clips.jsonl.
    std::fs::remove_file(&paths[1]).unwrap();
    let update = build_index(&model, &model_dir, &libs, &out, &options).unwrap();
    assert_eq!((update.clips, update.embedded, update.reused, update.removed), (2, 0, 2, 1));
    let npy = read_chunks(&out);
    assert_eq!(npy.dim(), (2, EVAL_CHUNKS, DIM));
    let index = ClipIndex::open(&out).unwrap();
    for (i, clip) in index.records().map(Result::unwrap).enumerate() {
        let (_, values, starts) = expected.iter().find(|e| e.0 == clip.path).unwrap();
        let row: Vec<f32> = npy.slice(ndarray::s![i, .., ..]).iter().copied().collect();
        assert_eq!(&row, values, "reused rows are copied bit for bit");
        assert_eq!(index.chunk_embeddings(i).unwrap().as_ref(), Some(values));
        assert_eq!(&clip.chunk_starts_s, starts);
    }

    // `search --json` reports the preview start; the table shows it.
    let x = out.to_str().unwrap();
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_storyscore")).args(args).output().unwrap();
    let o = run(&["search", "--index", x, "--top", "2", "--json", QUERY]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for hit in json["results"].as_array().unwrap() {
        let start = hit["preview_start_s"].as_f64().unwrap();
        let (_, _, starts) =
            expected.iter().find(|e| e.0 == Path::new(hit["path"].as_str().unwrap())).unwrap();
        assert!(starts.contains(&start), "{hit}");
    }
    let o = run(&["search", "--index", x, "--top", "2", QUERY]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && table.contains("from"), "{table}");
}

#[test]
fn an_index_without_chunks_still_searches_and_is_refilled() {
    if common::minilm_dir().is_none() {
        return;
    }
    let Some((lib, _)) = library() else { return };
    let work = tempfile::tempdir().unwrap();
    let (model_dir, out) = (work.path().join("model"), work.path().join("idx"));
    let model = fresh_model(&model_dir);
    let libs = vec![lib.path().to_path_buf()];
    build_index(&model, &model_dir, &libs, &out, &IndexOptions::default()).unwrap();
    let embeddings = ClipIndex::open(&out).unwrap().embeddings().to_vec();

    // A truncated chunks.npy is refused, naming the file.
    let chunks_path = out.join("chunks.npy");
    let bytes = std::fs::read(&chunks_path).unwrap();
    std::fs::write(&chunks_path, &bytes[..bytes.len() - 4]).unwrap();
    let err = ClipIndex::open(&out).unwrap_err().to_string();
    assert!(err.contains("chunks.npy") && err.contains("truncated"), "{err}");

    // The layout before chunks were kept: no chunks.npy, all records in one clips.json without
    // chunk starts (and no clips.jsonl / clips.idx).
    std::fs::remove_file(&chunks_path).unwrap();
    let mut clips: Vec<serde_json::Value> = std::fs::read_to_string(out.join("clips.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for clip in &mut clips {
        clip.as_object_mut().unwrap().remove("chunk_starts_s");
    }
    let old = serde_json::json!({ "clips": clips });
    std::fs::write(out.join("clips.json"), serde_json::to_vec_pretty(&old).unwrap()).unwrap();
    std::fs::remove_file(out.join("clips.jsonl")).unwrap();
    std::fs::remove_file(out.join("clips.idx")).unwrap();
    let index = ClipIndex::open(&out).unwrap();
    assert!((0..index.len()).all(|i| !index.has_chunks(i).unwrap()));
    let results = Searcher::open(&out, Device::Cpu).unwrap().search(QUERY, 3).unwrap().results;
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|h| h.preview_start_s == 0.0 && h.preview_score.is_none()), "{results:?}");
    let json = serde_json::to_value(&results[0]).unwrap();
    assert_eq!(json["preview_start_s"], 0.0);

    // The next indexing run embeds the clips again to fill their chunks in.
    let report = build_index(&model, &model_dir, &libs, &out, &IndexOptions::default()).unwrap();
    assert_eq!((report.embedded, report.reused), (3, 0), "{report:?}");
    assert_eq!(read_chunks(&out).dim(), (3, EVAL_CHUNKS, DIM));
    let index = ClipIndex::open(&out).unwrap();
    assert!((0..index.len()).all(|i| index.has_chunks(i).unwrap()));
    assert!(
        !out.join("clips.json").exists() && out.join("clips.idx").exists(),
        "rewritten in the line layout"
    );
    assert!(max_abs_diff(index.embeddings(), &embeddings) < 1e-5);
}
