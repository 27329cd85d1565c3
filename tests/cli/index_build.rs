//! `build_index` on real audio files with a freshly initialised model: structure, incremental
//! updates, resume after cancel, skipped files, and refusal to mix models.
use crate::common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ndarray::Array2;
use ndarray_npy::ReadNpyExt;
use storyscore::index::{build_index, ClipIndex, IndexEvent, IndexOptions};
use storyscore::model::{EmotionModel, ModelConfig, Space};
use tch::Device;

fn write_tone(path: &Path, freq: f32, seconds: f32, rate: u32, channels: u16) {
    common::write_wav(path, channels, rate, (seconds * rate as f32) as usize, |n, _| {
        let t = n as f32 / rate as f32;
        (0.3 * (2.0 * std::f32::consts::PI * freq * t).sin() * 32767.0) as i16
    });
}

/// A fresh three-branch model saved in a temp dir (weights seeded), or None without MiniLM.
fn fresh_model(seed: i64) -> Option<(tempfile::TempDir, EmotionModel)> {
    common::minilm_dir()?;
    tch::manual_seed(seed);
    let mut model = EmotionModel::new(ModelConfig::paper(Space::ThreeBranch).unwrap(), Device::Cpu).unwrap();
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();
    Some((dir, model))
}

fn library() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("battle");
    std::fs::create_dir(&sub).unwrap();
    let good = vec![dir.path().join("calm.wav"), sub.join("drums.wav"), dir.path().join("stereo44k.wav")];
    write_tone(&good[0], 220.0, 3.0, 16_000, 1);
    write_tone(&good[1], 1200.0, 6.0, 16_000, 1);
    write_tone(&good[2], 440.0, 2.0, 44_100, 2);
    std::fs::write(dir.path().join("broken.ogg"), b"OggS but not really an ogg stream at all").unwrap();
    std::fs::write(dir.path().join("empty.wav"), b"").unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"not audio").unwrap();
    (dir, good)
}

fn options(progress: Option<crossbeam_channel::Sender<IndexEvent>>) -> IndexOptions {
    IndexOptions { progress, checkpoint_every: 1, ..IndexOptions::default() }
}

#[test]
fn builds_updates_and_refuses_other_models() {
    let Some((model_dir, model)) = fresh_model(1) else { return };
    let (lib, good) = library();
    let out = tempfile::tempdir().unwrap();
    let libs = vec![lib.path().to_path_buf()];

    let (tx, rx) = crossbeam_channel::unbounded();
    let first = build_index(&model, model_dir.path(), &libs, out.path(), &options(Some(tx))).unwrap();
    assert_eq!((first.clips, first.embedded, first.reused, first.removed), (3, 3, 0, 0));
    let skipped: Vec<String> =
        first.skipped.iter().map(|(p, _)| p.file_name().unwrap().to_string_lossy().into()).collect();
    assert_eq!(skipped, vec!["broken.ogg", "empty.wav"], "{:?}", first.skipped);
    assert!(first.skipped.iter().all(|(_, why)| !why.is_empty()));

    let events: Vec<IndexEvent> = rx.try_iter().collect();
    assert!(
        matches!(events.first(), Some(IndexEvent::Planned { files: 5, reused: 0, to_embed: 5, removed: 0 })),
        "{events:?}"
    );
    assert!(matches!(events.last(), Some(IndexEvent::Finished(r)) if *r == first));
    assert_eq!(events.iter().filter(|e| matches!(e, IndexEvent::Embedded { .. })).count(), 3);
    assert!(events.iter().any(|e| matches!(e, IndexEvent::Checkpoint { .. })));

    // The files as numpy and other tools read them.
    let npy =
        Array2::<f32>::read_npy(std::fs::File::open(out.path().join("embeddings.npy")).unwrap()).unwrap();
    assert_eq!(npy.dim(), (3, 64));
    let lines = std::fs::read_to_string(out.path().join("clips.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 3, "one record per line: {lines}");
    let first_clip: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    for key in ["path", "size", "mtime_ns", "header_hash", "duration_s", "tags", "model_id"] {
        assert!(first_clip.get(key).is_some(), "clips.jsonl lacks {key}: {first_clip}");
    }
    let meta = std::fs::read_to_string(out.path().join("index.toml")).unwrap();
    assert!(
        meta.contains(model.id()) && meta.contains("three-branch") && meta.contains("dim = 64"),
        "{meta}"
    );

    let index = ClipIndex::open(out.path()).unwrap();
    let mut sorted = good.clone();
    sorted.sort();
    let records: Vec<_> = index.records().map(Result::unwrap).collect();
    assert_eq!(records.iter().map(|c| c.path.clone()).collect::<Vec<_>>(), sorted);
    let stereo = records.iter().find(|c| c.path.ends_with("stereo44k.wav")).unwrap();
    assert!((stereo.duration_s - 2.0).abs() < 0.01, "{}", stereo.duration_s);
    for row in index.embeddings().chunks_exact(64) {
        let norm: f32 = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "cosine space rows are unit-norm, got {norm}");
    }

    // Nothing changed: everything reused, bit for bit.
    let again = build_index(&model, model_dir.path(), &libs, out.path(), &options(None)).unwrap();
    assert_eq!((again.clips, again.embedded, again.reused), (3, 0, 3));
    assert_eq!(ClipIndex::open(out.path()).unwrap().embeddings(), index.embeddings());

    // One file rewritten, one deleted.
    write_tone(&good[0], 330.0, 3.0, 16_000, 1);
    std::fs::remove_file(&good[1]).unwrap();
    let update = build_index(&model, model_dir.path(), &libs, out.path(), &options(None)).unwrap();
    assert_eq!((update.clips, update.embedded, update.reused, update.removed), (2, 1, 1, 1));
    let updated = ClipIndex::open(out.path()).unwrap();
    assert_ne!(updated.embedding(0), index.embedding(0), "calm.wav changed and was re-embedded");

    // A different model must not write into this index.
    let Some((other_dir, other)) = fresh_model(2) else { return };
    assert_ne!(other.id(), model.id());
    let err =
        build_index(&other, other_dir.path(), &libs, out.path(), &options(None)).unwrap_err().to_string();
    assert!(err.contains("cannot be mixed") && err.contains(model.id()), "{err}");
}

#[test]
fn cancelled_run_resumes_from_its_checkpoint() {
    let Some((model_dir, model)) = fresh_model(3) else { return };
    let (lib, _) = library();
    let out = tempfile::tempdir().unwrap();
    let libs = vec![lib.path().to_path_buf()];
    let cancel = Arc::new(AtomicBool::new(false));
    let (tx, rx) = crossbeam_channel::unbounded();
    let watcher = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            for e in rx {
                if matches!(e, IndexEvent::Embedded { .. }) {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
        })
    };
    let opts = IndexOptions { cancel: Some(cancel), ..options(Some(tx)) };
    let first = build_index(&model, model_dir.path(), &libs, out.path(), &opts).unwrap();
    drop(opts);
    watcher.join().unwrap();
    assert!(first.cancelled && first.embedded >= 1 && first.clips == first.embedded, "{first:?}");
    let resumed = build_index(&model, model_dir.path(), &libs, out.path(), &options(None)).unwrap();
    assert_eq!(resumed.reused, first.clips);
    assert_eq!(resumed.embedded, 3 - first.clips);
    assert_eq!(resumed.clips, 3);
}

#[test]
fn missing_library_is_a_clear_error() {
    let Some((model_dir, model)) = fresh_model(4) else { return };
    let out = tempfile::tempdir().unwrap();
    let missing = out.path().join("no-such-folder");
    let err = build_index(
        &model,
        model_dir.path(),
        std::slice::from_ref(&missing),
        &out.path().join("idx"),
        &options(None),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no-such-folder") && err.contains("not found"), "{err}");
}
