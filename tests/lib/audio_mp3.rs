//! MP3 decoding on a real encoding: a 4Q clip is written as WAV, encoded by LAME (installed by
//! scripts/setup; no MP3 is shipped), then decoded and probed through symphonia and compared
//! with the source.
use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use storyscore::audio::{decode, load_mono_16k, probe};
use tempfile::TempDir;

const SECONDS: usize = 8;

/// `lame`, or None (printed) when it is missing; CI (STORYSCORE_REQUIRE_SHARED=1) requires it.
fn lame() -> Option<PathBuf> {
    let found = Command::new("lame").arg("--version").output().is_ok_and(|o| o.status.success());
    if found {
        return Some(PathBuf::from("lame"));
    }
    if std::env::var("STORYSCORE_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
        panic!("lame is missing (scripts/setup installs it)");
    }
    eprintln!("skipping: lame not installed (scripts/setup installs it)");
    None
}

/// Encodes `samples` (mono, `rate`) to `out` as a tagged 128 kb/s stereo MP3 (both channels equal).
fn encode(lame: &Path, dir: &Path, samples: &[f32], rate: u32, out: &Path) {
    let wav = dir.join("source.wav");
    common::write_wav(&wav, 2, rate, samples.len(), |i, _| (samples[i].clamp(-1.0, 1.0) * 32_767.0) as i16);
    let status = Command::new(lame)
        .args(["--quiet", "-b", "128", "--tt", "Storm Over the Harbour", "--ta", "Test Band"])
        .arg(&wav)
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success(), "lame failed on {}", wav.display());
}

/// Best normalised cross-correlation of 1.5 s of `a` (from 1 s in) against `b` shifted by up to
/// `max_lag` samples.
fn best_correlation(a: &[f32], b: &[f32], max_lag: usize, rate: usize) -> (f64, usize) {
    let (a, b) = (&a[rate..], &b[rate..]);
    let n = (rate * 3 / 2).min(a.len()).min(b.len().saturating_sub(max_lag));
    (0..=max_lag)
        .map(|lag| {
            let (x, y) = (&a[..n], &b[lag..lag + n]);
            let dot: f64 = x.iter().zip(y).map(|(p, q)| *p as f64 * *q as f64).sum();
            let nx: f64 = x.iter().map(|p| (*p as f64).powi(2)).sum();
            let ny: f64 = y.iter().map(|q| (*q as f64).powi(2)).sum();
            (dot / (nx * ny).sqrt().max(1e-12), lag)
        })
        .fold((f64::MIN, 0), |best, c| if c.0 > best.0 { c } else { best })
}

#[test]
fn lame_encoded_clip_decodes_probes_and_matches_its_source() {
    let Some(clip) = common::shared("data/4q/MT0000004637.ogg") else { return };
    let Some(lame) = lame() else { return };
    let dir = TempDir::new().unwrap();
    let source = decode(&clip).unwrap();
    assert_eq!(source.sample_rate, 16_000);
    let source = &source.samples_mono[..SECONDS * 16_000];
    // 22.05 kHz exercises the resampler on the way back to 16 kHz.
    let rate = 22_050u32;
    let up: Vec<f32> =
        (0..SECONDS * rate as usize).map(|i| source[(i as f64 * 16_000.0 / rate as f64) as usize]).collect();
    let mp3 = dir.path().join("clip.mp3");
    encode(&lame, dir.path(), &up, rate, &mp3);

    let info = probe(&mp3).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((info.sample_rate, info.channels, info.codec.as_str()), (rate, 2, "mp3"), "{info:?}");
    assert!((info.duration_s - SECONDS as f64).abs() < 0.1, "duration {}", info.duration_s);
    let tag = |k: &str| info.tags.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    assert_eq!(tag("title"), Some("Storm Over the Harbour"), "{:?}", info.tags);
    assert_eq!(tag("artist"), Some("Test Band"));

    let d = decode(&mp3).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((d.sample_rate, d.channels, d.truncated), (rate, 2, false));
    // Encoder delay and padding are a few frames at most.
    assert!(d.samples_mono.len().abs_diff(up.len()) < 3 * 1152, "{} vs {}", d.samples_mono.len(), up.len());
    let (corr, lag) = best_correlation(&up, &d.samples_mono, 3000, rate as usize);
    assert!(corr > 0.95, "decoded MP3 correlates {corr:.3} (lag {lag}) with its source");

    let mono16k = load_mono_16k(&mp3).unwrap();
    assert!(mono16k.len().abs_diff(SECONDS * 16_000) < 3 * 1152, "{}", mono16k.len());
    let (corr16, _) = best_correlation(source, &mono16k, 2500, 16_000);
    assert!(corr16 > 0.9, "16 kHz decode correlates {corr16:.3} with the 4Q source");
}

#[test]
fn cut_mp3_keeps_what_came_before() {
    let Some(clip) = common::shared("data/4q/MT0000004637.ogg") else { return };
    let Some(lame) = lame() else { return };
    let dir = TempDir::new().unwrap();
    let source = decode(&clip).unwrap().samples_mono[..4 * 16_000].to_vec();
    let mp3 = dir.path().join("whole.mp3");
    encode(&lame, dir.path(), &source, 16_000, &mp3);
    let bytes = std::fs::read(&mp3).unwrap();
    let cut = dir.path().join("cut.mp3");
    // Mid-frame: a 128 kb/s frame at 16 kHz is 576 samples, about 576 bytes.
    std::fs::write(&cut, &bytes[..bytes.len() / 2 + 211]).unwrap();
    let d = decode(&cut).unwrap_or_else(|e| panic!("a cut MP3 keeps its first half: {e}"));
    let damage = d.damage.as_deref().expect("the cut is reported");
    assert!(damage.contains("decodable") || damage.contains("ends early"), "{damage}");
    assert_eq!(decode(&mp3).unwrap().damage, None);
    let n = d.samples_mono.len();
    assert!(n > 16_000 && n < 3 * 16_000, "{n} samples from half of a 4-s MP3");
    let garbage = dir.path().join("noise.mp3");
    std::fs::write(&garbage, vec![0x55u8; 4096]).unwrap();
    let err = decode(&garbage).expect_err("bytes that are no MP3").to_string();
    assert!(err.contains("noise.mp3"), "{err}");
}
