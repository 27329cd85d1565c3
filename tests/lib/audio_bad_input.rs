//! Bad files give typed errors that name the file; nothing panics. Inputs are made with tempfile.
use crate::common;

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use ndarray_npy::WriteNpyExt;
use storyscore::audio::{decode, decode_many, load_mono_16k, probe, read_excerpts_16k, AudioError};
use tempfile::TempDir;

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).expect("write temp file");
    p
}

fn write_npy<T: WriteNpyExt>(dir: &TempDir, name: &str, array: &T) -> PathBuf {
    let p = dir.path().join(name);
    array.write_npy(std::fs::File::create(&p).expect("create")).expect("write npy");
    p
}

/// Decode and probe both fail, and the message names the file.
fn both_fail(path: &Path) -> (AudioError, AudioError) {
    let name = path.file_name().and_then(|n| n.to_str()).expect("name").to_string();
    let d = decode(path).expect_err("decode should fail");
    let p = probe(path).expect_err("probe should fail");
    for e in [&d, &p] {
        assert!(e.to_string().contains(&name), "message must name the file: {e}");
    }
    (d, p)
}

#[test]
fn missing_file() {
    let dir = TempDir::new().unwrap();
    let (d, p) = both_fail(&dir.path().join("gone.ogg"));
    assert!(matches!(d, AudioError::NotFound { .. }), "{d:?}");
    assert!(matches!(p, AudioError::NotFound { .. }), "{p:?}");
}

#[test]
fn empty_files() {
    let dir = TempDir::new().unwrap();
    for name in ["empty.ogg", "empty.wav", "empty.npy", "empty.mp3", "empty.flac"] {
        let (d, p) = both_fail(&write(&dir, name, b""));
        assert!(matches!(d, AudioError::EmptyFile { .. }), "{name}: {d:?}");
        assert!(matches!(p, AudioError::EmptyFile { .. }), "{name}: {p:?}");
    }
}

#[test]
fn text_files_with_audio_extensions_are_mislabelled() {
    let dir = TempDir::new().unwrap();
    let text = "This is a story about a dragon, not an audio file.\n".repeat(40);
    for name in ["story.ogg", "story.wav", "story.flac", "story.mp3"] {
        let (d, _) = both_fail(&write(&dir, name, text.as_bytes()));
        assert!(matches!(d, AudioError::Unrecognised { .. }), "{name}: {d:?}");
        assert!(d.to_string().contains("mislabelled"), "{d}");
    }
    let (d, _) = both_fail(&write(&dir, "story.npy", text.as_bytes()));
    assert!(matches!(d, AudioError::BadNpy { .. }), "{d:?}");
}

#[test]
fn unsupported_extensions() {
    let dir = TempDir::new().unwrap();
    for name in ["notes.txt", "clip.m4a", "noext"] {
        let (d, p) = both_fail(&write(&dir, name, b"whatever"));
        assert!(matches!(d, AudioError::UnsupportedExtension { .. }), "{name}: {d:?}");
        assert!(matches!(p, AudioError::UnsupportedExtension { .. }), "{name}: {p:?}");
    }
}

#[test]
fn wav_with_an_unknown_codec() {
    let dir = TempDir::new().unwrap();
    // A well-formed RIFF/WAVE whose fmt chunk names format tag 0x1234, which nobody decodes.
    let mut bytes = Vec::new();
    let data = [0u8; 400];
    bytes.extend(b"RIFF");
    bytes.extend(((4 + 24 + 8 + data.len()) as u32).to_le_bytes());
    bytes.extend(b"WAVEfmt ");
    bytes.extend(16u32.to_le_bytes());
    bytes.extend(0x1234u16.to_le_bytes()); // format tag
    bytes.extend(1u16.to_le_bytes()); // channels
    bytes.extend(16_000u32.to_le_bytes());
    bytes.extend(32_000u32.to_le_bytes());
    bytes.extend(2u16.to_le_bytes());
    bytes.extend(16u16.to_le_bytes());
    bytes.extend(b"data");
    bytes.extend((data.len() as u32).to_le_bytes());
    bytes.extend(data);
    let (d, _) = both_fail(&write(&dir, "odd_codec.wav", &bytes));
    assert!(matches!(d, AudioError::UnsupportedCodec { .. } | AudioError::Unrecognised { .. }), "{d:?}");
}

#[test]
fn npy_of_wrong_dtype_or_shape() {
    let dir = TempDir::new().unwrap();
    let f64_path = write_npy(&dir, "f64.npy", &Array1::<f64>::zeros(1000));
    let i16_path = write_npy(&dir, "i16.npy", &Array1::<i16>::zeros(1000));
    let two_d = write_npy(&dir, "two_d.npy", &Array2::<f32>::zeros((2, 1000)));
    for path in [f64_path, i16_path, two_d] {
        let (d, p) = both_fail(&path);
        assert!(matches!(d, AudioError::BadNpy { .. }), "{d:?}");
        assert!(matches!(p, AudioError::BadNpy { .. }), "{p:?}");
    }
    let (d, _) = both_fail(&dir.path().join("two_d.npy"));
    assert!(d.to_string().contains("[2, 1000]"), "{d}");
}

#[test]
fn zero_length_audio() {
    let dir = TempDir::new().unwrap();
    let wav = dir.path().join("silence_of_nothing.wav");
    common::write_wav(&wav, 2, 44_100, 0, |_, _| 0);
    let npy = write_npy(&dir, "nothing.npy", &Array1::<f32>::zeros(0));
    for path in [&wav, &npy] {
        let d = decode(path).expect_err("no samples");
        assert!(matches!(d, AudioError::NoAudio { .. }), "{d:?}");
        assert!(d.to_string().contains(path.file_name().unwrap().to_str().unwrap()));
        assert_eq!(probe(path).expect("header is valid").duration_s, 0.0);
    }
}

#[test]
fn truncated_wav_keeps_what_is_there() {
    let dir = TempDir::new().unwrap();
    let full = dir.path().join("full.wav");
    common::write_wav(&full, 2, 22_050, 22_050, |i, c| {
        ((i as i32 * 7 + c as i32 * 1000) % 20_000 - 10_000) as i16
    });
    let bytes = std::fs::read(&full).unwrap();
    let cut = write(&dir, "cut.wav", &bytes[..bytes.len() / 2]);
    let d = decode(&cut).expect("decodes the first half");
    assert!(d.truncated);
    let damage = d.damage.as_deref().expect("the cut is reported");
    assert!(damage.starts_with("header says 1.00 s, 0.50 s decodable"), "{damage}");
    let whole = decode(&full).unwrap();
    assert!(!whole.truncated && whole.damage.is_none(), "{:?}", whole.damage);
    let n = d.samples_mono.len();
    assert!((10_900..11_100).contains(&n), "{n} frames");
    assert_eq!(&d.samples_mono[..], &whole.samples_mono[..n]);
    // Resampling the partial clip works too.
    assert!(load_mono_16k(&cut).unwrap().len().abs_diff(n * 16_000 / 22_050) <= 1);
    // Only the header survives: an error, not a panic.
    let header_only = write(&dir, "header_only.wav", &bytes[..30]);
    assert!(decode(&header_only).is_err());
}

#[test]
fn truncated_ogg_keeps_what_is_there() {
    let Some(src) = common::shared("data/4q/MT0000004637.ogg") else { return };
    let dir = TempDir::new().unwrap();
    let bytes = std::fs::read(&src).unwrap();
    let cut = write(&dir, "cut.ogg", &bytes[..bytes.len() / 2]);
    let whole = decode(&src).unwrap().samples_mono;
    let d = decode(&cut).expect("decodes the first half");
    assert!(d.damage.is_some(), "a cut Ogg is reported");
    assert!(decode(&src).unwrap().damage.is_none());
    let n = d.samples_mono.len();
    assert!(n > whole.len() / 4 && n < whole.len() * 3 / 4, "{n} of {}", whole.len());
    assert_eq!(&d.samples_mono[..n / 2], &whole[..n / 2]);
    // A few bytes of an Ogg page is not a stream.
    let stub = write(&dir, "stub.ogg", &bytes[..60]);
    let e = decode(&stub).expect_err("nothing decodable");
    assert!(e.to_string().contains("stub.ogg"), "{e}");
}

#[test]
fn stereo_wav_is_averaged() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("stereo.wav");
    common::write_wav(
        &path,
        2,
        16_000,
        1000,
        |i, c| if c == 0 { (i * 10) as i16 } else { -((i * 4) as i16) },
    );
    let d = decode(&path).unwrap();
    assert_eq!((d.channels, d.sample_rate, d.samples_mono.len()), (2, 16_000, 1000));
    for (i, v) in d.samples_mono.iter().enumerate() {
        assert_eq!(*v, (i as f32 * 10.0 - i as f32 * 4.0) / 2.0 / 32_768.0);
    }
    let info = probe(&path).unwrap();
    assert_eq!((info.channels, info.sample_rate), (2, 16_000));
    assert!((info.duration_s - 1000.0 / 16_000.0).abs() < 1e-9);
}

#[test]
fn batch_decode_reports_every_bad_file() {
    let dir = TempDir::new().unwrap();
    let good = dir.path().join("good.wav");
    common::write_wav(&good, 1, 8_000, 8_000, |i, _| (i % 100) as i16 * 100);
    let empty = write(&dir, "empty.ogg", b"");
    let text = write(&dir, "text.wav", b"plain text, not RIFF at all");
    let out = decode_many(&[empty.clone(), good.clone(), text.clone()]);
    assert_eq!(out.clips.len(), 1);
    assert_eq!(out.clips[0].0, good);
    assert_eq!(out.clips[0].1.len(), 16_000);
    let failed: Vec<&PathBuf> = out.failed.iter().map(|(p, _)| p).collect();
    assert_eq!(failed, vec![&empty, &text]);
}

#[test]
fn ogg_with_a_damaged_page_in_the_middle_is_reported_and_kept() {
    let Some(src) = common::shared("data/4q/MT0000004637.ogg") else { return };
    let dir = TempDir::new().unwrap();
    let mut bytes = std::fs::read(&src).unwrap();
    let mid = bytes.len() / 2;
    for (i, b) in bytes[mid..mid + 4000].iter_mut().enumerate() {
        *b = (i * 31 % 251) as u8;
    }
    let damaged = write(&dir, "damaged.ogg", &bytes);
    let whole = decode(&src).unwrap();
    let d = decode(&damaged).expect("what is around the damage decodes");
    let damage = d.damage.as_deref().expect("the damage is reported");
    eprintln!("{damage}");
    assert!(!damage.contains('\n'));
    assert!(d.samples_mono.len() > whole.samples_mono.len() * 3 / 4, "the rest of the stream is kept");
    assert_eq!(&d.samples_mono[..1000], &whole.samples_mono[..1000]);
}

/// The indexer's streamed path keeps exactly what the whole-file path gives in every range,
/// on a real 44.1 kHz clip and on a cut WAV (read twice: its header's length is wrong).
#[test]
fn streamed_excerpts_equal_the_whole_file_path() {
    let dir = TempDir::new().unwrap();
    let wav = dir.path().join("tone.wav");
    common::write_wav(&wav, 2, 44_100, 44_100 * 3, |i, c| {
        ((i as f32 * 0.05 + c as f32).sin() * 12_000.0) as i16
    });
    let bytes = std::fs::read(&wav).unwrap();
    let cut = write(&dir, "cut.wav", &bytes[..bytes.len() * 2 / 3]);
    let mut files = vec![wav, cut];
    files.extend(common::shared("data/4q/MT0000004637.ogg"));
    for path in &files {
        let whole = load_mono_16k(path).unwrap();
        let ranges = |len: usize| vec![0..8000, len / 3..len / 3 + 5000, len - 100..len + 400];
        let got = read_excerpts_16k(path, ranges).unwrap();
        assert_eq!(got.len, whole.len(), "{}", path.display());
        for (range, part) in ranges(whole.len()).into_iter().zip(&got.parts) {
            assert_eq!(part.len(), range.len());
            for (k, v) in part.iter().enumerate() {
                let want = whole.get(range.start + k).copied().unwrap_or(0.0);
                assert!(
                    (v - want).abs() <= 1e-5,
                    "{}: sample {} {v} vs {want}",
                    path.display(),
                    range.start + k
                );
            }
        }
        assert_eq!(got.damage.is_some(), path.ends_with("cut.wav"), "{}: {:?}", path.display(), got.damage);
    }
}
