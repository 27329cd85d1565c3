//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The `../shared` folder beside the checkout (override with `STORYSCORE_SHARED`).
pub fn shared_root() -> PathBuf {
    match std::env::var_os("STORYSCORE_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}

/// Path of `rel` under the shared folder, or `None` (with a printed reason) when it is missing.
/// With `STORYSCORE_REQUIRE_SHARED=1` (as in CI) a missing file fails the test instead.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = shared_root().join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("STORYSCORE_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
        panic!("required shared data missing: {} (STORYSCORE_REQUIRE_SHARED=1)", p.display());
    }
    eprintln!("skipping: shared data not found at {}", p.display());
    None
}

/// Directory holding the Debian wesnoth-1.16-music tracks, if installed.
pub fn wesnoth_music() -> Option<PathBuf> {
    let p = PathBuf::from(storyscore::config::DEFAULT_LIBRARY);
    if p.is_dir() {
        return Some(p);
    }
    if std::env::var("STORYSCORE_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
        panic!("built-in library missing at {} (run scripts/setup)", p.display());
    }
    eprintln!("skipping: built-in library not found at {}", p.display());
    None
}

/// The MiniLM model directory installed by scripts/setup.
pub fn minilm_dir() -> Option<PathBuf> {
    let p = storyscore::config::Dirs::resolve().ok()?.minilm();
    if p.join("model.safetensors").exists() {
        return Some(p);
    }
    if std::env::var("STORYSCORE_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
        panic!("MiniLM missing at {} (run scripts/setup)", p.display());
    }
    eprintln!("skipping: MiniLM not found at {}", p.display());
    None
}

/// The converted musicnn weights of `name` (`MSD_musicnn`, `MTT_musicnn`) installed by
/// scripts/setup.
pub fn musicnn_weights(name: &str) -> Option<PathBuf> {
    let p = storyscore::config::Dirs::resolve().ok()?.musicnn().join(format!("{name}.safetensors"));
    if p.exists() {
        return Some(p);
    }
    if std::env::var("STORYSCORE_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
        panic!("musicnn weights missing at {} (run scripts/setup)", p.display());
    }
    eprintln!("skipping: musicnn weights not found at {}", p.display());
    None
}

/// Writes a 16-bit WAV of `frames` frames, `channels` interleaved, each sample from `sample(frame,
/// channel)`, called in file order (so a generator may keep state).
pub fn write_wav(
    path: &Path,
    channels: u16,
    rate: u32,
    frames: usize,
    mut sample: impl FnMut(usize, u16) -> i16,
) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav writer");
    for i in 0..frames {
        for c in 0..channels {
            w.write_sample(sample(i, c)).expect("write sample");
        }
    }
    w.finalize().expect("finalize wav");
}

/// The mean of the softmaxes of some members' outputs `K × [B, C]` → `[B, C]`.
pub fn mean_softmax(outputs: &[tch::Tensor]) -> tch::Tensor {
    let probs: Vec<tch::Tensor> = outputs.iter().map(|o| o.softmax(-1, tch::Kind::Float)).collect();
    tch::Tensor::stack(&probs, 0).mean_dim([0i64].as_slice(), false, tch::Kind::Float)
}

/// The one-line error a model of `config` is refused with.
pub fn refusal(config: storyscore::model::ModelConfig) -> String {
    storyscore::model::EmotionModel::new(config, tch::Device::Cpu)
        .expect_err("the config is refused")
        .to_string()
}
