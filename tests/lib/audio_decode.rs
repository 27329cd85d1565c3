//! Decoding real files: 4Q Ogg Vorbis clips, a Wesnoth track (44.1 kHz stereo), the AudioSet demo
//! WAV and the original authors' `.npy` layout.
use crate::common;

use std::path::Path;

use storyscore::audio::{decode, decode_many, load_mono_16k, probe, SAMPLE_RATE};

/// (id, samples) rows of `4q/meta.csv`.
fn meta_rows(meta: &Path) -> Vec<(String, usize)> {
    let mut reader = csv::Reader::from_path(meta).expect("meta.csv readable");
    let headers = reader.headers().expect("header row").clone();
    let id = headers.iter().position(|h| h == "id").expect("id column");
    let samples = headers.iter().position(|h| h == "samples").expect("samples column");
    reader
        .records()
        .map(|r| {
            let r = r.expect("csv row");
            (r[id].to_string(), r[samples].parse().expect("samples is an integer"))
        })
        .collect()
}

#[test]
fn fourq_sample_counts_match_meta_csv() {
    let Some(meta) = common::shared("data/4q/meta.csv") else { return };
    let rows = meta_rows(&meta);
    assert_eq!(rows.len(), 727);
    // Every 73rd clip plus the 10.04-s one.
    let mut picked: Vec<&(String, usize)> = rows.iter().step_by(73).collect();
    picked.push(rows.iter().find(|(id, _)| id == "MT0013621344").expect("short clip listed"));
    let dir = meta.parent().expect("4q folder");
    for (id, samples) in picked {
        let path = dir.join(format!("{id}.ogg"));
        let d = decode(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.samples_mono.len(), *samples, "{id}");
        assert_eq!((d.sample_rate, d.channels, d.truncated), (16_000, 1, false), "{id}");
        // 16 kHz already: load_mono_16k must not touch the samples.
        assert_eq!(load_mono_16k(&path).unwrap(), d.samples_mono, "{id}");
        let info = probe(&path).unwrap();
        assert_eq!((info.duration_s * 16_000.0).round() as usize, *samples, "{id} probe");
        assert_eq!(info.codec, "vorbis");
    }
    let short = decode(&dir.join("MT0013621344.ogg")).unwrap();
    assert_eq!(short.samples_mono.len(), 160_704);
}

#[test]
fn fourq_probe_reads_the_vorbis_comment() {
    let Some(p) = common::shared("data/4q/MT0000004637.ogg") else { return };
    let info = probe(&p).unwrap();
    assert_eq!((info.sample_rate, info.channels), (16_000, 1));
    assert!((info.duration_s - 30.024).abs() < 1e-3, "{}", info.duration_s);
    assert!(
        info.tags.iter().any(|(k, v)| k.eq_ignore_ascii_case("comment") && v == "Processed by SoX"),
        "{:?}",
        info.tags
    );
}

#[test]
fn wesnoth_track_downmixes_and_resamples_to_16k() {
    let Some(dir) = common::wesnoth_music() else { return };
    let path = dir.join("battle.ogg");
    let info = probe(&path).unwrap();
    assert_eq!((info.sample_rate, info.channels, info.codec.as_str()), (44_100, 2, "vorbis"));
    let d = decode(&path).unwrap();
    assert_eq!((d.sample_rate, d.channels), (44_100, 2));
    let frames = d.samples_mono.len();
    assert_eq!(frames as f64, (info.duration_s * 44_100.0).round(), "probe and decode agree");
    let x = load_mono_16k(&path).unwrap();
    let expect = (frames as f64 * SAMPLE_RATE as f64 / 44_100.0).ceil() as usize;
    assert!(x.len().abs_diff(expect) <= 1, "{} vs {expect}", x.len());
    // Loudness survives the resampler (no gain change, no silence from the trimmed delay).
    let rms = |v: &[f32]| (v.iter().map(|s| (s * s) as f64).sum::<f64>() / v.len() as f64).sqrt();
    let (a, b) = (rms(&d.samples_mono), rms(&x));
    assert!((a - b).abs() / a < 0.02, "rms {a} vs {b}");
    assert!(x[..1600].iter().any(|s| *s != 0.0) || d.samples_mono[..4410].iter().all(|s| *s == 0.0));
}

#[test]
fn audioset_demo_wav_matches_the_mel_reference_input() {
    let Some(wav) = common::shared("data/audioset/zzntjwL3s3g_16k.wav") else { return };
    let Some(npy) = common::shared("reference/mel/clip_input.npy") else { return };
    let d = decode(&wav).unwrap();
    assert_eq!((d.samples_mono.len(), d.sample_rate, d.channels), (160_000, 16_000, 1));
    let reference = decode(&npy).unwrap().samples_mono;
    assert_eq!(reference.len(), 80_000);
    assert_eq!(&d.samples_mono[..80_000], &reference[..], "int16 / 32768 exactly");
    let info = probe(&wav).unwrap();
    assert_eq!(info.duration_s, 10.0);
}

#[test]
fn ttm_layout_npy_matches_the_symphonia_decode() {
    let Some(fixture) = common::shared("data/ttm_layout/fixture_songs.csv") else { return };
    let Some(fourq) = common::shared("data/4q") else { return };
    let audio = fixture.parent().expect("ttm_layout").join("audio");
    let mut ids: Vec<String> = std::fs::read_dir(&audio)
        .expect("audio folder")
        .filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(String::from))
        .collect();
    ids.sort();
    assert_eq!(ids.len(), 28);
    for id in ids.iter().step_by(7) {
        let npy = decode(&audio.join(format!("{id}.npy"))).unwrap().samples_mono;
        assert_eq!(npy.len(), 160_000);
        let ogg = decode(&fourq.join(format!("{id}.ogg"))).unwrap().samples_mono;
        let mut worst = 0f32;
        for (a, b) in ogg[160_000..320_000].iter().zip(&npy) {
            if a.abs() <= 1.0 {
                worst = worst.max((a - b).abs());
            } else {
                // SoX clips to the 16-bit range: -1 or 32767/32768.
                assert!(b.abs() >= 32_767.0 / 32_768.0, "{id}: {a} stored as {b}");
            }
        }
        assert!(worst <= 1.6e-5, "{id}: max diff {worst}");
        assert_eq!(probe(&audio.join(format!("{id}.npy"))).unwrap().duration_s, 10.0);
    }
}

#[test]
fn decode_many_keeps_order_and_reports_bad_files() {
    let Some(a) = common::shared("data/4q/MT0013621344.ogg") else { return };
    let Some(b) = common::shared("data/audioset/zzntjwL3s3g_16k.wav") else { return };
    let missing = a.with_file_name("no_such_clip.ogg");
    let out = decode_many(&[a.clone(), missing.clone(), b.clone()]);
    let paths: Vec<_> = out.clips.iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(paths, vec![a, b]);
    assert_eq!(out.clips[0].1.len(), 160_704);
    assert_eq!(out.clips[1].1.len(), 160_000);
    assert_eq!(out.failed.len(), 1);
    assert_eq!(out.failed[0].0, missing);
    assert!(out.failed[0].1.to_string().contains("no_such_clip.ogg"));
}
