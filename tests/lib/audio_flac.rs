//! FLAC decoding and tag probing on files written by `common/flac.rs` (VERBATIM subframes:
//! valid FLAC without an external encoder).
use crate::flac;

use flac::{write_flac, BLOCK};
use storyscore::audio::{decode, load_mono_16k, probe};
use tempfile::TempDir;

#[test]
fn stereo_flac_decodes_downmixes_and_probes() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("tone.flac");
    let n = 22_050 + 123; // a partial last block
    let left: Vec<i16> = (0..n).map(|i| ((i as f32 * 0.05).sin() * 12_000.0) as i16).collect();
    let right: Vec<i16> = (0..n).map(|i| ((i % 200) as i16 - 100) * 50).collect();
    write_flac(
        &path,
        22_050,
        &[left.clone(), right.clone()],
        &["TITLE=Dragon's Lair", "ARTIST=Test Band", "GENRE=Score"],
    )
    .unwrap();

    let d = decode(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((d.sample_rate, d.channels, d.samples_mono.len(), d.truncated), (22_050, 2, n, false));
    for i in (0..n).step_by(97) {
        let expect = (left[i] as f32 / 32_768.0 + right[i] as f32 / 32_768.0) / 2.0;
        assert!((d.samples_mono[i] - expect).abs() < 1e-6, "sample {i}: {} vs {expect}", d.samples_mono[i]);
    }
    let resampled = load_mono_16k(&path).unwrap();
    assert!(resampled.len().abs_diff((n as f64 * 16_000.0 / 22_050.0).ceil() as usize) <= 1);

    let info = probe(&path).unwrap();
    assert_eq!((info.sample_rate, info.channels, info.codec.as_str()), (22_050, 2, "flac"));
    assert!((info.duration_s - n as f64 / 22_050.0).abs() < 1e-9);
    let tag = |k: &str| info.tags.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    assert_eq!(tag("title"), Some("Dragon's Lair"), "{:?}", info.tags);
    assert_eq!(tag("artist"), Some("Test Band"));
    assert_eq!(tag("genre"), Some("Score"));
}

#[test]
fn truncated_flac_keeps_whole_frames() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("mono.flac");
    let x: Vec<i16> = (0..16_000).map(|i| ((i * 37) % 4000) as i16 - 2000).collect();
    write_flac(&path, 16_000, std::slice::from_ref(&x), &[]).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.flac");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let d = decode(&cut).expect("the first frames decode");
    let n = d.samples_mono.len();
    assert!((BLOCK..16_000).contains(&n), "{n}");
    for (i, v) in d.samples_mono.iter().take(BLOCK).enumerate() {
        assert_eq!(*v, x[i] as f32 / 32_768.0);
    }
}

/// Past frame 127 FLAC codes frame numbers in two or more bytes; the writer the index bench uses
/// for its three-hour file must get them right.
#[test]
fn flac_of_many_frames_decodes_whole() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("long.flac");
    let n = 300 * BLOCK + 17;
    let x: Vec<i16> = (0..n).map(|i| ((i * 7) % 3000) as i16 - 1500).collect();
    write_flac(&path, 16_000, std::slice::from_ref(&x), &[]).unwrap();
    let d = decode(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((d.samples_mono.len(), d.truncated, d.damage), (n, false, None));
    assert_eq!(d.samples_mono[n - 1], x[n - 1] as f32 / 32_768.0);
}
