//! Story-to-music query latency, stage by stage, defined as `../shared/bench/query.py`:
//! tokenize (the model's tokenizer: truncation at 256, no padding) → encode (MiniLM, eval, batch
//! of 1, `[CLS]`) → project (text head 384→128→64, tch default init, eval) → normalise → search
//! (the top-k kernel over a seeded random unit-norm N×64 matrix, top 10). Each stage calls the
//! library functions `storyscore search` runs (`Searcher::embed_text` → `EmotionModel` →
//! `ClipIndex::search` → `index::topk::top_k`).
//!
//! `cargo bench --bench query` runs criterion at 100k clips. `cargo bench --bench query -- --json
//! [--threads T] [--n N] [--queries Q] [--warmup W]` prints one JSON line with the peer's keys
//! (`<stage>_p50_ms`, `<stage>_p95_ms`, `qps_end_to_end`, `load_s`) for `scripts/bench`.

mod support;

use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use storyscore::index::topk::{top_k, Hit, Metric};
use storyscore::model::space::unit_rows;
use storyscore::model::{EmotionModel, ModelConfig, Space};
use storyscore::text::TokenBatch;
use tch::{Device, Kind};

const DIM: usize = 64;
const K: usize = 10;
const CRITERION_N: usize = 100_000;
const STAGES: [&str; 6] = ["tokenize", "encode", "project", "normalise", "search", "end_to_end"];

/// The peer's 20 test stories, copied from `../shared/bench/query.py` (`STORIES`) so both sides
/// run the same inputs in the same order.
const STORIES: [&str; 20] = [
    "She stood at the edge of the cliff as the storm rolled in, knowing there was no way back.",
    "The children laughed and chased each other through the sprinklers on the first hot day of summer.",
    "He read the letter twice, folded it carefully, and never spoke of his brother again.",
    "Something scratched at the cellar door, slow and patient, every night at exactly three o'clock.",
    "After forty years, the old couple danced in their kitchen to the song from their wedding.",
    "The army crested the hill and the drums began to pound.",
    "Rain.",
    "Nobody noticed the little robot sweeping the empty station, humming to itself long after the last \
     train had gone.",
    "I can't believe you lied to me again, after everything we went through together!",
    "The dragon opened one golden eye and the whole cavern seemed to hold its breath.",
    "They won the championship in the final second, and the whole town poured into the streets.",
    "Grandma's house always smelled of cinnamon and old books, and time moved slower there.",
    "The detective lit a cigarette and stared at the body in the alley, rain dripping from the brim of \
     his hat, while sirens wailed somewhere far away and the city pretended not to care.",
    "A tiny seed pushed through the cracked pavement toward the light.",
    "When the ship's engines failed, the crew drifted in silence between the stars, counting their \
     remaining oxygen.",
    "The clown's smile was painted on, but his eyes were screaming.",
    "We packed up the apartment box by box until only the echo of our voices was left.",
    "Fireworks burst over the harbour while strangers hugged and sang.",
    "His hands shook as he opened the exam results.",
    "Once upon a time, in a kingdom made entirely of candy, a gingerbread knight set out on a quest to \
     rescue the licorice princess from the sour-apple witch who lived beyond the chocolate river.",
];

/// Seeded random unit-norm clip embeddings `[n, DIM]`, row-major.
fn clip_matrix(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut m: Vec<f32> = (0..n * DIM).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    for row in m.chunks_exact_mut(DIM) {
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
        row.iter_mut().for_each(|x| *x /= norm);
    }
    m
}

/// A fresh three-branch model of the paper's config: MiniLM's pretrained weights, random heads.
fn load_model() -> Result<EmotionModel, String> {
    let config = ModelConfig::paper(Space::ThreeBranch).map_err(|e| e.to_string())?;
    EmotionModel::new(config, Device::Cpu).map_err(|e| e.to_string())
}

/// Seconds per stage of one query, in [`STAGES`] order, and the query's token count.
struct Timing {
    stages: [f64; 6],
    tokens: usize,
}

/// One query through the search path, each stage timed on its own. → top-k hits, timing.
fn one_query(model: &EmotionModel, clips: &[f32], text: &str) -> Result<(Vec<Hit>, Timing), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let t0 = Instant::now();
    let tokens = model.tokenizer().encode(text).map_err(|e| err(&e))?;
    let batch = TokenBatch::pad(&[&tokens], model.tokenizer().pad_id(), Device::Cpu);
    let t1 = Instant::now();
    let (t2, t3, query, t4) = tch::no_grad(|| -> Result<_, String> {
        let hidden = model.text_features(&batch, false).map_err(|e| err(&e))?;
        let t2 = Instant::now();
        let emb = model.embed_text_features(&hidden, false).map_err(|e| err(&e))?;
        let t3 = Instant::now();
        let unit = unit_rows(&emb.to_kind(Kind::Float)).get(0);
        let query = Vec::<f32>::try_from(unit).map_err(|e| err(&e))?;
        Ok((t2, t3, query, Instant::now()))
    })?;
    let hits = top_k(clips, DIM, &query, K, Metric::InnerProduct).map_err(|e| err(&e))?;
    let t5 = Instant::now();
    let secs = |a: Instant, b: Instant| b.duration_since(a).as_secs_f64();
    let stages = [secs(t0, t1), secs(t1, t2), secs(t2, t3), secs(t3, t4), secs(t4, t5), secs(t0, t5)];
    Ok((hits, Timing { stages, tokens: tokens.len() }))
}

fn json_mode(args: &[String]) -> Result<(), String> {
    let threads = support::set_threads(support::flag(args, "--threads")?.unwrap_or(0))?;
    let n: usize = support::flag(args, "--n")?.unwrap_or(100_000);
    let queries: usize = support::flag(args, "--queries")?.unwrap_or(200);
    let warmup: usize = support::flag(args, "--warmup")?.unwrap_or(10);

    let t0 = Instant::now();
    let model = load_model()?;
    let load_s = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let clips = clip_matrix(n, 0);
    let build_s = t0.elapsed().as_secs_f64();
    eprintln!(
        "query: model+tokenizer load {load_s:.2}s, {n} x {DIM} clip matrix {build_s:.2}s, threads={threads}"
    );

    let mut per_stage: Vec<Vec<f64>> = vec![Vec::with_capacity(queries); STAGES.len()];
    let mut tokens = 0usize;
    for i in 0..warmup + queries {
        let (hits, timing) = one_query(&model, &clips, STORIES[i % STORIES.len()])?;
        std::hint::black_box(hits);
        if i >= warmup {
            per_stage.iter_mut().zip(timing.stages).for_each(|(v, s)| v.push(s));
            tokens += timing.tokens;
        }
    }
    let mut out = serde_json::json!({
        "bench": "query", "n": n, "queries": queries, "k": K, "threads": threads,
        "max_len": model.tokenizer().max_len(), "pad_to": 0,
        "mean_tokens": (queries > 0).then(|| tokens as f64 / queries as f64),
        "pooling": model.config().text.pooling,
    });
    for (name, times) in STAGES.iter().zip(&per_stage) {
        out[format!("{name}_p50_ms")] = serde_json::json!(support::percentile_ms(times, 50.0));
        out[format!("{name}_p95_ms")] = serde_json::json!(support::percentile_ms(times, 95.0));
    }
    let total: f64 = per_stage[5].iter().sum();
    out["qps_end_to_end"] = serde_json::json!((total > 0.0).then(|| per_stage[5].len() as f64 / total));
    out["load_s"] = serde_json::json!(load_s);
    out["matrix_build_s"] = serde_json::json!(build_s);
    println!("{out}");
    Ok(())
}

fn criterion_benches(c: &mut Criterion) -> Result<(), String> {
    support::set_criterion_threads()?;
    let model = load_model()?;
    let clips = clip_matrix(CRITERION_N, 0);
    let mut group = c.benchmark_group("query");
    group.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    group.bench_function(BenchmarkId::new("end_to_end", CRITERION_N), |b| {
        b.iter(|| {
            i += 1;
            one_query(&model, &clips, STORIES[i % STORIES.len()])
        })
    });
    group.finish();
    Ok(())
}

fn main() {
    support::main("query", json_mode, criterion_benches);
}
