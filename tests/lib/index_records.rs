//! Clip records of an index: `clips.jsonl` + `clips.idx`, read by row without parsing the others;
//! corrupt files are typed errors naming the file; the old `clips.json` layout still opens and is
//! rewritten in the line layout when saved.

use std::path::{Path, PathBuf};

use storyscore::audio::EVAL_CHUNKS;
use storyscore::index::{ClipIndex, ClipRecord, IndexError};
use storyscore::model::Space;

const MODEL: &str = "model-1";

fn record(i: usize) -> ClipRecord {
    ClipRecord {
        path: PathBuf::from(format!("/music/album/track{i:02} \"é\".ogg")),
        size: 1000 + i as u64,
        mtime_ns: 17 + i as u64,
        header_hash: format!("{i:040x}"),
        duration_s: 30.0 + i as f64,
        tags: vec![("title".into(), format!("Track {i}\nwith a newline")), ("artist".into(), "A".into())],
        model_id: MODEL.into(),
        chunk_starts_s: if i.is_multiple_of(2) {
            (0..EVAL_CHUNKS).map(|c| c as f64).collect()
        } else {
            Vec::new()
        },
        sounds_like: if i.is_multiple_of(3) {
            vec![("Mellow".into(), 0.5), ("chill".into(), 0.25)]
        } else {
            Vec::new()
        },
    }
}

fn embedding(i: usize) -> Vec<f32> {
    vec![i as f32 + 1.0, 1.0, -(i as f32)]
}

/// An index of `n` clips (even rows with chunk embeddings) saved to `dir`.
fn write(dir: &Path, n: usize) -> ClipIndex {
    let mut index = ClipIndex::new(MODEL, Space::Va, 3);
    for i in 0..n {
        let r = record(i);
        if r.chunk_starts_s.is_empty() {
            index.insert_at(None, r, &embedding(i)).unwrap();
        } else {
            index.insert_with_chunks_at(None, r, &embedding(i), &[i as f32; EVAL_CHUNKS * 3]).unwrap();
        }
    }
    index.save(dir).unwrap();
    index
}

fn all(index: &ClipIndex) -> Vec<ClipRecord> {
    index.records().collect::<Result<_, _>>().unwrap()
}

#[test]
fn records_are_read_by_row_without_parsing_the_others() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 5);
    assert!(!dir.path().join("clips.json").exists());
    let lines = std::fs::read_to_string(dir.path().join("clips.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 5, "one record per line, newlines in tags escaped");
    assert_eq!(std::fs::metadata(dir.path().join("clips.idx")).unwrap().len(), 6 * 8);

    // Break row 2's line in place (same length): opening and the other rows never notice.
    let start = lines.split_inclusive('\n').take(2).map(str::len).sum::<usize>();
    let mut bytes = lines.into_bytes();
    bytes[start] = b'#';
    std::fs::write(dir.path().join("clips.jsonl"), &bytes).unwrap();
    let index = ClipIndex::open(dir.path()).unwrap();
    assert_eq!(index.len(), 5);
    for i in [0, 1, 3, 4] {
        assert_eq!(index.record(i).unwrap(), record(i), "row {i}");
        assert_eq!(index.embedding(i).unwrap(), embedding(i).as_slice());
    }
    let err = index.record(2).unwrap_err().to_string();
    assert!(err.contains("clips.jsonl") && err.contains("line 3"), "{err}");
    assert!(matches!(index.record(5), Err(IndexError::NoClip { row: 5, len: 5 })));
    // Search needs no record at all; the chunk rows follow the records.
    let hits = index.search(&embedding(4), 2).unwrap();
    assert_eq!(hits[0].index, 4);
    assert_eq!(index.chunk_embeddings(4).unwrap(), Some(vec![4.0; EVAL_CHUNKS * 3]));
    assert_eq!(index.chunk_embeddings(3).unwrap(), None);
    assert!(index.has_chunks(0).unwrap() && !index.has_chunks(1).unwrap());
}

#[test]
fn corrupt_offsets_and_truncated_lines_are_typed_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 4);
    let (idx, jsonl) = (dir.path().join("clips.idx"), dir.path().join("clips.jsonl"));
    let (good_idx, good_lines) = (std::fs::read(&idx).unwrap(), std::fs::read(&jsonl).unwrap());
    let refused = |needle: &str, file: &str| {
        let err = ClipIndex::open(dir.path()).unwrap_err();
        assert!(matches!(err, IndexError::Invalid { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains(file) && msg.contains(needle), "{msg}");
    };

    std::fs::write(&idx, &good_idx[..good_idx.len() - 8]).unwrap();
    refused("expected 40", "clips.idx");
    let mut swapped = good_idx.clone();
    swapped[8..16].copy_from_slice(&good_idx[16..24]);
    std::fs::write(&idx, &swapped).unwrap();
    refused("do not increase", "clips.idx");
    std::fs::write(&idx, b"garbage").unwrap();
    refused("bytes", "clips.idx");

    std::fs::write(&idx, &good_idx).unwrap();
    std::fs::write(&jsonl, &good_lines[..good_lines.len() - 10]).unwrap();
    refused("truncated", "clips.jsonl");
    std::fs::remove_file(&jsonl).unwrap();
    let err = ClipIndex::open(dir.path()).unwrap_err();
    assert!(matches!(&err, IndexError::Read { path, .. } if path == &jsonl), "{err:?}");

    // A line of another model's clip is refused when read.
    let other = String::from_utf8(good_lines).unwrap().replacen(MODEL, "model-2", 1);
    std::fs::write(&jsonl, other.as_bytes()).unwrap();
    std::fs::write(&idx, &good_idx).unwrap();
    let index = ClipIndex::open(dir.path()).unwrap();
    let err = index.record(0).unwrap_err().to_string();
    assert!(
        err.contains("clips.jsonl") && err.contains("model-2") && err.contains("cannot be mixed"),
        "{err}"
    );
    assert!(index.record(1).is_ok());
}

#[test]
fn the_old_clips_json_layout_opens_and_is_rewritten_when_saved() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 3);
    // The layout before clips.jsonl: every record in one JSON object.
    let old = serde_json::json!({ "clips": (0..3).map(record).collect::<Vec<_>>() });
    std::fs::write(dir.path().join("clips.json"), serde_json::to_vec_pretty(&old).unwrap()).unwrap();
    std::fs::remove_file(dir.path().join("clips.jsonl")).unwrap();
    std::fs::remove_file(dir.path().join("clips.idx")).unwrap();
    let index = ClipIndex::open(dir.path()).unwrap();
    assert_eq!(all(&index), (0..3).map(record).collect::<Vec<_>>());
    assert_eq!(index.search(&embedding(1), 1).unwrap()[0].index, 1);

    let mut update = ClipIndex::open_or_new(dir.path(), MODEL, Space::Va, 3).unwrap();
    update.insert(record(7), &embedding(7)).unwrap();
    update.save(dir.path()).unwrap();
    assert!(!dir.path().join("clips.json").exists(), "the old file is gone");
    let back = ClipIndex::open(dir.path()).unwrap();
    assert_eq!(all(&back), [0, 1, 2, 7].map(record));
    assert_eq!(back.embedding(3).unwrap(), embedding(7).as_slice());

    // A broken old layout names its file.
    std::fs::write(dir.path().join("clips.json"), b"{\"clips\": [").unwrap();
    std::fs::remove_file(dir.path().join("clips.idx")).unwrap();
    let err = ClipIndex::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("clips.json"), "{err}");
}

#[test]
fn updating_an_opened_index_keeps_rows_aligned() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 6);
    let mut index = ClipIndex::open(dir.path()).unwrap();
    // A lazily opened index loads its records when it changes.
    index.retain(|c| c.size % 3 != 1).unwrap(); // drops rows 0 and 3
    index.insert(record(9), &embedding(9)).unwrap();
    // `insert` keeps no chunk embeddings, hence no chunk starts.
    let changed = ClipRecord { duration_s: 99.0, chunk_starts_s: Vec::new(), ..record(4) };
    index.insert(changed.clone(), &embedding(8)).unwrap();
    index.sort_by_path().unwrap();
    index.save(dir.path()).unwrap();

    let back = ClipIndex::open(dir.path()).unwrap();
    let expected = [(1, record(1)), (2, record(2)), (8, changed), (5, record(5)), (9, record(9))];
    assert_eq!(back.len(), expected.len());
    for (row, (e, want)) in expected.iter().enumerate() {
        assert_eq!(back.record(row).unwrap(), *want, "row {row}");
        assert_eq!(back.embedding(row).unwrap(), embedding(*e).as_slice(), "row {row}");
        let chunks = back.chunk_embeddings(row).unwrap();
        assert_eq!(chunks, (*e == 2).then(|| vec![2.0; EVAL_CHUNKS * 3]), "row {row}");
    }
    assert_eq!(back.position(Path::new(&record(5).path)).unwrap(), Some(3));
    assert_eq!(back.position(Path::new("/nowhere.ogg")).unwrap(), None);
}
