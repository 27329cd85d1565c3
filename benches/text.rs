//! Query-side text latency with all-MiniLM-L6-v2: tokenize, encoder forward, both together.
//! Compare `text/encode` with `/work/shared/bench/query.py`'s `encode_p50_ms` (forward only) and
//! `text/tokenize_encode` with its `tokenize_p50_ms + encode_p50_ms`. Threads: `STORYSCORE_THREADS`
//! (default 1).

use criterion::{criterion_group, criterion_main, Criterion};
use storyscore::text::{Pooling, SentenceEncoder};
use tch::Device;

/// The peer's first story sentence (21 tokens with [CLS] and [SEP]).
const STORY: &str =
    "She stood at the edge of the cliff as the storm rolled in, knowing there was no way back.";

fn threads() -> i32 {
    std::env::var("STORYSCORE_THREADS").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(1)
}

fn text(c: &mut Criterion) {
    let dir = match storyscore::config::Dirs::resolve() {
        Ok(d) => d.minilm(),
        Err(e) => return eprintln!("skipping text bench: {e}"),
    };
    let encoder = match SentenceEncoder::load(&dir, Device::Cpu) {
        Ok(e) => e,
        Err(e) => return eprintln!("skipping text bench: {e}"),
    };
    let n = threads();
    tch::set_num_threads(n);
    eprintln!(
        "text bench: {} tokens, {n} thread(s)",
        encoder.tokenizer().encode(STORY).map_or(0, |t| t.len())
    );

    let mut group = c.benchmark_group("text");
    group.bench_function("tokenize", |b| b.iter(|| encoder.tokenizer().encode(STORY)));
    let batch = encoder.tokenizer().batch(&[STORY], Device::Cpu);
    if let Ok(batch) = batch {
        group.bench_function("encode", |b| {
            b.iter(|| tch::no_grad(|| encoder.encoder().forward_t(&batch.ids, &batch.attention_mask, false)))
        });
    }
    group.bench_function("tokenize_encode", |b| b.iter(|| encoder.encode(&[STORY], Pooling::Cls)));
    group.finish();
}

criterion_group!(benches, text);
criterion_main!(benches);
