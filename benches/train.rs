//! One three-branch training step at batch 32, defined as `../shared/bench/train_step.py`:
//! log-mel of 32 waveforms, the three branches, three distance-weighted negative samplings, the
//! weighted cosine triplet loss, backward and an Adam update; MiniLM frozen or fine-tuned.
//! Synthetic inputs of the real shapes are made before timing and cycled.
//!
//! `cargo bench --bench train` runs criterion; `cargo bench --bench train -- --json [--steps N]
//! [--warmup N] [--threads N] [--freeze-text]` prints one JSON line with the peer's keys for
//! `scripts/bench`. Threads come from `--threads`, else `STORYSCORE_THREADS` (default 1).

use std::time::Instant;

use criterion::Criterion;
use storyscore::audio::{MelFrontEnd, CHUNK_SAMPLES};
use storyscore::model::triplet::THREE_BRANCH_WEIGHTS;
use storyscore::model::{EmotionModel, ModelConfig, PairGroup, Space};
use storyscore::text::TokenBatch;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// Pairs per group (batch 32 of the paper code: three groups of 16 pairs).
const HALF: i64 = 16;
const TOKENS: i64 = 64;
const MOODS: i64 = 7;
const VOCAB: i64 = 30_522;
const MARGIN: f64 = 0.2;
const BATCHES: usize = 4;

/// The synthetic inputs of one step.
struct Batch {
    ttt_tag: Tensor,
    ttt_tokens: TokenBatch,
    ttt_y: Tensor,
    tts_tag: Tensor,
    tts_y: Tensor,
    common_tokens: TokenBatch,
    common_y: Tensor,
    /// tag→song waveforms then text→song waveforms. [32, 80000]
    wave: Tensor,
}

fn one_hot(n: i64) -> Tensor {
    Tensor::randint(MOODS, [n], (Kind::Int64, Device::Cpu)).one_hot(MOODS).to_kind(Kind::Float)
}

/// `HALF` sequences of 64 ids: [CLS] … [SEP] then padding, lengths 8..=64.
fn tokens() -> TokenBatch {
    let lengths = Tensor::randint_low(8, TOKENS + 1, [HALF, 1], (Kind::Int64, Device::Cpu));
    let mask = Tensor::arange(TOKENS, (Kind::Int64, Device::Cpu)).unsqueeze(0).lt_tensor(&lengths);
    let mut ids = Tensor::randint_low(1000, VOCAB, [HALF, TOKENS], (Kind::Int64, Device::Cpu));
    let _ = ids.narrow(1, 0, 1).fill_(101);
    let sep = (lengths - 1).squeeze_dim(1);
    let _ = ids.index_put_(
        &[Some(Tensor::arange(HALF, (Kind::Int64, Device::Cpu))), Some(sep)],
        &Tensor::from(102i64),
        false,
    );
    let mask = mask.to_kind(Kind::Int64);
    TokenBatch { ids: ids * &mask, type_ids: mask.zeros_like(), attention_mask: mask, truncated: 0 }
}

fn make_batch(tag_dim: i64) -> Batch {
    Batch {
        ttt_tag: Tensor::randn([HALF, tag_dim], (Kind::Float, Device::Cpu)),
        ttt_tokens: tokens(),
        ttt_y: one_hot(HALF),
        tts_tag: Tensor::randn([HALF, tag_dim], (Kind::Float, Device::Cpu)),
        tts_y: one_hot(HALF),
        common_tokens: tokens(),
        common_y: one_hot(HALF),
        wave: Tensor::randn([2 * HALF, CHUNK_SAMPLES as i64], (Kind::Float, Device::Cpu)) * 0.1,
    }
}

/// The model, its optimiser and the mel front end.
struct Step {
    model: EmotionModel,
    opt: nn::Optimizer,
    front: MelFrontEnd,
}

impl Step {
    fn new(freeze_text: bool) -> Self {
        let config = ModelConfig::paper(Space::ThreeBranch).expect("paper config");
        let model = EmotionModel::new(config, Device::Cpu).expect("MiniLM installed by scripts/setup");
        model.set_text_trainable(!freeze_text);
        let opt = nn::Adam { wd: 1e-4, ..Default::default() }.build(model.var_store(), 1e-4).expect("Adam");
        Self { model, opt, front: MelFrontEnd::new(Device::Cpu) }
    }

    fn run(&mut self, b: &Batch) -> f64 {
        let m = &self.model;
        let mel = self.front.log_mel(&b.wave).expect("log-mel");
        let song = m.embed_audio_mel(&mel, true).expect("audio branch");
        let tag = m.embed_tags(&Tensor::cat(&[&b.ttt_tag, &b.tts_tag], 0), true).expect("tag branch");
        let text = |t: &TokenBatch| {
            let features = m.text_features(t, true).expect("encoder");
            m.embed_text_features(&features, true).expect("text head")
        };
        let (text_a, text_c) = (text(&b.ttt_tokens), text(&b.common_tokens));
        let group = |anchor: &Tensor, positive: &Tensor, labels: &Tensor| {
            PairGroup { anchor, positive, labels }.loss(MARGIN).expect("triplet loss")
        };
        let [w1, w2, w3] = THREE_BRANCH_WEIGHTS;
        let loss = group(&tag.narrow(0, 0, HALF), &text_a, &b.ttt_y) * w1
            + group(&tag.narrow(0, HALF, HALF), &song.narrow(0, 0, HALF), &b.tts_y) * w2
            + group(&text_c, &song.narrow(0, HALF, HALF), &b.common_y) * w3;
        self.opt.backward_step(&loss);
        loss.double_value(&[])
    }
}

fn flag(args: &[String], name: &str) -> Option<usize> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok())
}

/// `--json` mode: the peer's measurement loop and keys.
fn json_mode(args: &[String]) {
    let steps = flag(args, "--steps").unwrap_or(10).max(1);
    let warmup = flag(args, "--warmup").unwrap_or(3);
    let freeze_text = args.iter().any(|a| a == "--freeze-text");
    let mut step = Step::new(freeze_text);
    let tag_dim = step.model.config().tag_dim;
    let batches: Vec<Batch> = (0..BATCHES).map(|_| make_batch(tag_dim)).collect();
    for i in 0..warmup {
        step.run(&batches[i % BATCHES]);
    }
    let mut times = Vec::with_capacity(steps);
    let mut last_loss = 0.0;
    for i in 0..steps {
        let t = Instant::now();
        last_loss = step.run(&batches[i % BATCHES]);
        times.push(t.elapsed().as_secs_f64());
    }
    let total: f64 = times.iter().sum();
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let p50 = sorted[sorted.len() / 2] * 1e3;
    let line = serde_json::json!({
        "bench": "train_step",
        "steps_per_s": steps as f64 / total,
        "ms_per_step": 1e3 * total / steps as f64,
        "ms_per_step_p50": p50,
        "ms_per_step_min": sorted[0] * 1e3,
        "batch": 2 * HALF,
        "threads": tch::get_num_threads(),
        "freeze_text": freeze_text,
        "steps": steps,
        "warmup": warmup,
        "last_loss": last_loss,
    });
    println!("{line}");
}

fn main() {
    // The heap settings the trainer runs under (`storyscore::heap`).
    let _heap = storyscore::heap::HeapReuse::start();
    let args: Vec<String> = std::env::args().collect();
    let threads = flag(&args, "--threads")
        .or_else(|| std::env::var("STORYSCORE_THREADS").ok().and_then(|v| v.parse().ok()))
        .unwrap_or(1);
    tch::set_num_threads(threads as i32);
    if args.iter().any(|a| a == "--json") {
        json_mode(&args);
        return;
    }
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    let mut group = c.benchmark_group("train_step");
    for (name, freeze_text) in [("frozen_minilm", true), ("fine_tuned_minilm", false)] {
        let mut step = Step::new(freeze_text);
        let batches: Vec<Batch> = (0..BATCHES).map(|_| make_batch(step.model.config().tag_dim)).collect();
        let mut i = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                i += 1;
                step.run(&batches[i % BATCHES])
            })
        });
    }
    group.finish();
    c.final_summary();
}
