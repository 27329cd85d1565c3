//! Audio front-end throughput: decode → mono → 16 kHz → 16 eval chunks → log-mel, on a Wesnoth
//! track (44.1 kHz stereo Vorbis) and on a 4Q clip (16 kHz mono Vorbis), plus log-mel alone on a
//! [16, 80000] batch. Prints audio seconds per wall second for the whole path (compare with
//! `shared/bench/index_audio.py`'s `audio_s_per_wall_s` minus its CNN stage). Threads:
//! `STORYSCORE_THREADS` (default 1), as the peer's `--threads`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use storyscore::audio::{decode, eval_chunks_tensor, load_mono_16k, MelFrontEnd, SAMPLE_RATE};
use tch::{Device, Kind, Tensor};

fn threads() -> i32 {
    std::env::var("STORYSCORE_THREADS").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(1)
}

fn shared_root() -> PathBuf {
    std::env::var_os("STORYSCORE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// The whole indexing front end for one file: [16, 128, 313] log-mel.
fn front_end(path: &Path, mel: &MelFrontEnd) -> Tensor {
    let samples = load_mono_16k(path).unwrap_or_else(|e| panic!("{e}"));
    let chunks = eval_chunks_tensor(&samples, mel.device());
    tch::no_grad(|| mel.log_mel(&chunks)).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs the path a few times and prints decoded audio seconds per wall second.
fn report_rate(label: &str, path: &Path, mel: &MelFrontEnd) {
    let Ok(decoded) = decode(path) else { return };
    let audio_s = decoded.samples_mono.len() as f64 / decoded.sample_rate as f64;
    let runs = 5;
    let start = Instant::now();
    for _ in 0..runs {
        let _ = front_end(path, mel);
    }
    let wall = start.elapsed().as_secs_f64() / runs as f64;
    eprintln!(
        "frontend {label}: {audio_s:.1} s of audio in {wall:.4} s → audio_s_per_wall_s {:.1}",
        audio_s / wall
    );
}

fn frontend(c: &mut Criterion) {
    let n = threads();
    tch::set_num_threads(n);
    let mel = MelFrontEnd::new(Device::Cpu);
    eprintln!("frontend bench: {n} torch thread(s)");

    let wesnoth = PathBuf::from(storyscore::config::DEFAULT_LIBRARY).join("battle.ogg");
    let fourq = shared_root().join("data/4q/MT0000004637.ogg");
    let mut group = c.benchmark_group("frontend");
    group.sample_size(10);
    for (label, path) in [("wesnoth_44k1_stereo", &wesnoth), ("4q_16k_mono", &fourq)] {
        if !path.exists() {
            eprintln!("skipping {label}: {} not found", path.display());
            continue;
        }
        report_rate(label, path, &mel);
        group.bench_function(format!("decode_resample_mel/{label}"), |b| b.iter(|| front_end(path, &mel)));
    }

    let batch = Tensor::randn([16, 80_000], (Kind::Float, Device::Cpu)) * 0.1;
    let start = Instant::now();
    let runs = 10;
    for _ in 0..runs {
        let _ = tch::no_grad(|| mel.log_mel(&batch));
    }
    let wall = start.elapsed().as_secs_f64() / runs as f64;
    eprintln!(
        "frontend mel [16, 80000]: {:.2} ms → audio_s_per_wall_s {:.1}",
        wall * 1e3,
        16.0 * 80_000.0 / SAMPLE_RATE as f64 / wall
    );
    group.bench_function("mel/16x80000", |b| b.iter(|| tch::no_grad(|| mel.log_mel(&batch))));
    group.finish();
}

criterion_group!(benches, frontend);
criterion_main!(benches);
