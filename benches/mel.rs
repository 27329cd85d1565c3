//! The log-mel of one file in the index path: 16 evaluation chunks of 80,000 samples →
//! [16, 128, 313] (`MelFrontEnd::log_mel`). The peer's counterpart is the `mel` stage of
//! `../shared/bench/index_audio.py` per file (`stage_s.mel / files`).
//!
//! `cargo bench --bench mel` runs criterion. `cargo bench --bench mel -- --json [--threads T]
//! [--runs R] [--warmup W]` prints one JSON line `{"bench": "mel", "mel_ms_per_file": …}` (the mean
//! over the runs, as the peer's sum over files divided by their number) for `scripts/bench`.

mod support;

use std::time::Instant;

use criterion::Criterion;
use storyscore::audio::{MelFrontEnd, CHUNK_SAMPLES, EVAL_CHUNKS};
use tch::{Device, Kind, Tensor};

/// One file's chunks: seeded noise at a music-like level, `[16, 80000]`.
fn chunks() -> Tensor {
    tch::manual_seed(0);
    Tensor::randn([EVAL_CHUNKS as i64, CHUNK_SAMPLES as i64], (Kind::Float, Device::Cpu)) * 0.1
}

fn log_mel(mel: &MelFrontEnd, wave: &Tensor) -> Result<Tensor, String> {
    tch::no_grad(|| mel.log_mel(wave)).map_err(|e| e.to_string())
}

fn json_mode(args: &[String]) -> Result<(), String> {
    let threads = support::set_threads(support::flag(args, "--threads")?.unwrap_or(0))?;
    let runs: usize = support::flag(args, "--runs")?.unwrap_or(20).max(1);
    let warmup: usize = support::flag(args, "--warmup")?.unwrap_or(2);
    let mel = MelFrontEnd::new(Device::Cpu);
    let wave = chunks();
    for _ in 0..warmup {
        drop(log_mel(&mel, &wave)?);
    }
    let mut times = Vec::with_capacity(runs);
    let mut shape = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let spec = log_mel(&mel, &wave)?;
        times.push(t.elapsed().as_secs_f64());
        shape = spec.size();
    }
    let line = serde_json::json!({
        "bench": "mel",
        "mel_ms_per_file": 1e3 * times.iter().sum::<f64>() / runs as f64,
        "mel_p50_ms": support::percentile_ms(&times, 50.0),
        "mel_min_ms": times.iter().copied().fold(f64::INFINITY, f64::min) * 1e3,
        "shape": shape,
        "runs": runs,
        "threads": threads,
    });
    println!("{line}");
    Ok(())
}

fn criterion_benches(c: &mut Criterion) -> Result<(), String> {
    support::set_criterion_threads()?;
    let mel = MelFrontEnd::new(Device::Cpu);
    let wave = chunks();
    let mut group = c.benchmark_group("mel");
    group.sample_size(20);
    group.bench_function("log_mel/16x80000", |b| b.iter(|| log_mel(&mel, &wave)));
    group.bench_function("power_spectrogram/16x80000", |b| {
        b.iter(|| tch::no_grad(|| mel.power_spectrogram(&wave)))
    });
    group.finish();
    Ok(())
}

fn main() {
    support::main("mel", json_mode, criterion_benches);
}
