//! Malformed inputs, generated here, give clear errors or reported rows, never a panic.
use crate::common;

use std::path::Path;

use storyscore::data::{self, DataError, DatasetSpec, ItemContent, Modality, Split};

fn write(path: &Path, bytes: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

const ISEAR_HEADER: &str = "ID|CITY|COUN|SUBJ|SEX|AGE|RELI|PRAC|FOCC|MOCC|FIEL|EMOT|WHEN|LONG|INTS|ERGO|TROPHO|TEMPER|EXPRES|MOVE|EXP1|EXP2|EXP10|PARAL|CON|EXPC|PLEA|PLAN|FAIR|CAUS|COPING|MORL|SELF|RELA|VERBAL|NEUTRO|Field1|Field3|Field2|MYKEY|SIT|STATE|";

fn isear_row(label: &str, key: &str, text: &str) -> String {
    format!("{}{label}|4|3|{key}|{text}|1|", "1|".repeat(36))
}

#[test]
fn isear_bad_rows_are_reported_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("isear.csv");
    let mut bytes = [
        ISEAR_HEADER.to_string(),
        isear_row("joy", "k1", "When I passed | an exam."),
        "1|2|3".to_string(),
        isear_row("boredom", "k2", "Waiting."),
        isear_row("fear", "k1", "Duplicate key."),
        isear_row("shame", "k3", "[ No response.]"),
    ]
    .join("\n")
    .into_bytes();
    bytes.extend_from_slice(b"\n\xff\xfe|not utf-8\n");
    bytes.extend_from_slice(isear_row("sadness", "k4", "Lost my dog.").as_bytes());
    write(&path, &bytes);
    let (data, issues) = data::isear::load(&path).unwrap();
    let ids: Vec<&str> = data.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["k1", "k4"]);
    assert_eq!(data.items[0].content.text(), Some("When I passed | an exam."));
    let lines: Vec<(usize, &str)> = issues.iter().map(|i| (i.line, i.message.as_str())).collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0], (3, "3 fields, expected at least 43"));
    assert_eq!(lines[1], (4, "unknown emotion \"boredom\""));
    assert_eq!(lines[2], (5, "duplicate or empty MYKEY \"k1\""));
    assert!(lines[3].0 == 6 && lines[3].1.starts_with("placeholder"));
    assert_eq!(lines[4], (7, "not UTF-8"));
    assert_eq!(issues[0].to_string(), format!("{}:3: 3 fields, expected at least 43", path.display()));

    write(&path, b"id,text\n1,hello\n");
    let err = data::isear::load(&path).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}:1: not an ISEAR export", path.display())), "{err}");
}

#[test]
fn missing_paths_and_bad_specs_are_clear() {
    let err = "isear:/no/such/isear.csv".parse::<DatasetSpec>().unwrap().load_all().unwrap_err();
    assert!(matches!(err, DataError::Missing(_)));
    assert_eq!(err.to_string(), "no such file or directory: /no/such/isear.csv");
    let dir = tempfile::tempdir().unwrap();
    let spec: DatasetSpec = format!("goemotions:{}", dir.path().display()).parse().unwrap();
    assert!(spec.load_all().unwrap_err().to_string().contains("labels.txt"));
}

#[test]
fn goemotions_and_emobank_rows_with_bad_labels_or_scores() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("labels.txt"), b"anger\njoy");
    write(&d.join("train.tsv"), b"good\t1\tc1\nbad index\t7\tc2\nno id\t0\n\"quoted\" text\t0,1\tc3\n");
    write(&d.join("dev.tsv"), b"dup\t0\tc1\n");
    write(&d.join("test.tsv"), b"");
    let (data, issues) = data::goemotions::load(d).unwrap();
    assert_eq!(data.items.len(), 2);
    assert_eq!(data.items[1].labels, ["anger", "joy"]);
    assert_eq!(data.items[1].split, Some(Split::Train));
    let msgs: Vec<String> = issues.iter().map(ToString::to_string).collect();
    assert!(msgs[0].ends_with("train.tsv:2: label \"7\" is not an index into labels.txt (0..2)"), "{msgs:?}");
    assert!(msgs[1].ends_with("train.tsv:3: 2 TAB-separated fields, expected 3 (text, labels, id)"));
    assert!(msgs[2].ends_with("dev.tsv:1: duplicate comment id \"c1\""));

    let csv = d.join("emobank.csv");
    write(
        &csv,
        b"id,split,V,A,D,text\na,train,3,3,3,\"ok, fine\"\nb,holdout,3,3,3,x\nc,dev,9,3,3,x\nd,test,3,3\n",
    );
    let (data, issues) = data::emobank::load(&csv).unwrap();
    assert_eq!(data.items.len(), 1);
    assert_eq!(data.items[0].content.text(), Some("ok, fine"));
    let lines: Vec<usize> = issues.iter().map(|i| i.line).collect();
    assert_eq!(lines, [3, 4, 5]);
    assert!(issues[1].message.contains("from 1 to 5"));
}

#[test]
fn fourq_rows_with_bad_quadrants_duplicates_or_missing_audio() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        &d.join("meta.csv"),
        "id,quadrant,moods_split\nA,Q1,Happy\nB,Q9,Sad\nA,Q2,Angry\nC,Q3,\"Sad; Gloomy\"\n".as_bytes(),
    );
    write(&d.join("A.ogg"), b"not decoded");
    write(&d.join("B.ogg"), b"");
    let (data, issues) = data::fourq::load(d).unwrap();
    assert_eq!(data.items.len(), 1);
    assert_eq!(data.items[0].labels, ["happy"]);
    let msgs: Vec<String> = issues.iter().map(|i| format!("{}: {}", i.line, i.message)).collect();
    assert_eq!(msgs[0], "3: unknown quadrant \"Q9\" (expected Q1..Q4)");
    assert_eq!(msgs[1], "4: duplicate or invalid id \"A\"");
    assert!(msgs[2].starts_with("5: audio file") && msgs[2].ends_with("C.ogg is missing"));
    write(&d.join("meta.csv"), b"id,quadrant\nA,Q1\n");
    assert!(data::fourq::load(d)
        .unwrap_err()
        .to_string()
        .ends_with("meta.csv:1: missing column \"moods_split\""));
}

#[test]
fn manifest_lists_missing_files_and_resolves_relative_paths() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("clips/a.wav"), b"");
    write(&d.join("clips/b.ogg"), b"");
    let other = tempfile::tempdir().unwrap();
    let abs = other.path().join("c.flac");
    write(&abs, b"");
    let manifest = format!(
        "path,moods,split,start_s,len_s\nclips/a.wav,happy;tender,train,,\nclips/gone.mp3,sad,,,\n{},sad,test,1.5,5\n\
         clips/b.ogg,scary,holdout,,\nclips/a.wav,happy,,,\nclips/b.ogg,,valid,3,\n",
        abs.display()
    );
    write(&d.join("m.csv"), manifest.as_bytes());
    let (data, issues) = data::folder::load_manifest(&d.join("m.csv")).unwrap();
    assert_eq!(data.items.len(), 2);
    assert_eq!(data.items[0].labels, ["happy", "tender"]);
    assert_eq!(data.items[0].content, ItemContent::Audio(d.join("clips/a.wav")));
    assert_eq!(data.items[1].content, ItemContent::AudioSlice { path: abs, start_s: 1.5, len_s: 5.0 });
    assert_eq!(data.vocabulary, ["happy", "sad", "tender"]);
    let msgs: Vec<String> = issues.iter().map(|i| format!("{}: {}", i.line, i.message)).collect();
    assert!(
        msgs[0].starts_with("3: audio file") && msgs[0].ends_with("clips/gone.mp3 is missing"),
        "{msgs:?}"
    );
    assert_eq!(msgs[1], "5: unknown split \"holdout\"");
    assert_eq!(msgs[2], "6: duplicate path \"clips/a.wav\"");
    assert_eq!(msgs[3], "7: start_s and len_s go together");
}

#[cfg(unix)]
#[test]
fn folders_follow_symlinks_without_looping() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("happy/one.wav"), b"");
    write(&d.join("happy/deeper/two.FLAC"), b"");
    write(&d.join("sad/three.ogg"), b"");
    write(&d.join("sad/notes.txt"), b"");
    write(&d.join("loose.mp3"), b"");
    std::os::unix::fs::symlink(d, d.join("sad/loop")).unwrap();
    std::os::unix::fs::symlink(d.join("nowhere"), d.join("dangling.wav")).unwrap();
    let spec: DatasetSpec = format!("folder:{}", d.display()).parse().unwrap();
    let loaded = spec.load_all().unwrap();
    let data = &loaded.datasets[0];
    let ids: Vec<(&str, &[String])> = data.items.iter().map(|i| (i.id.as_str(), &i.labels[..])).collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert_eq!(data.vocabulary, ["happy", "sad"]);
    assert_eq!(data.summary().labels["happy"], 2);
    assert_eq!(data.summary().unlabelled, 1);
    assert_eq!(loaded.issues.len(), 1, "{:?}", loaded.issues);
    assert!(loaded.issues[0].path.ends_with("dangling.wav"));

    let library: DatasetSpec = format!("library:{}", d.display()).parse().unwrap();
    let (lib, _) = library.load(Modality::Music).unwrap();
    assert_eq!(lib.len(), 4);
    assert!(lib.items.iter().all(|i| i.labels.is_empty() && i.split.is_none()));
}

#[test]
fn folders_stream_many_files_without_decoding() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..2_000 {
        write(&dir.path().join(format!("m{}/clip{i}.wav", i % 7)), b"");
    }
    let (data, issues) = data::folder::load_folder(dir.path()).unwrap();
    assert!(issues.is_empty());
    assert_eq!(data.len(), 2_000);
    assert_eq!(data.vocabulary.len(), 7);
}

fn npy_bytes(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
    let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n");
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(body);
    out
}

#[test]
fn ttm_layout_with_wrong_dtype_shape_or_truncated_pickle() {
    let Some(src) = common::shared("data/ttm_layout") else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), d.join(entry.file_name())).unwrap();
        }
    }
    let binaries = d.join("song_test_binaries.npy");
    write(&binaries, &npy_bytes("<f8", "(7, 6)", &[0; 7 * 6 * 8]));
    let err = data::ttm::load(d).unwrap_err().to_string();
    assert!(err.contains("song_test_binaries.npy: shape [7, 6], expected [7, 7]"), "{err}");
    write(&binaries, &npy_bytes("<U3", "(7, 7)", &[0; 7 * 7 * 12]));
    let err = data::ttm::load(d).unwrap_err().to_string();
    assert!(err.contains("dtype \"<U3\", expected a float array"), "{err}");
    write(&binaries, &npy_bytes("<f8", "(7, 7)", &[0; 100]));
    assert!(data::ttm::load(d).unwrap_err().to_string().contains("truncated data"));

    let corpus = std::fs::read(src.join("text_isear_corpus.npy")).unwrap();
    write(&d.join("text_isear_corpus.npy"), &corpus[..corpus.len() / 2]);
    let err = data::ttm::load(d).unwrap_err().to_string();
    assert!(err.contains("text_isear_corpus.npy: invalid pickle"), "{err}");
    let pkl = std::fs::read(src.join("w2v.pkl")).unwrap();
    write(&d.join("w2v.pkl"), &pkl[..pkl.len() - 300]);
    assert!(data::ttm::read_w2v_pickle(&d.join("w2v.pkl"))
        .unwrap_err()
        .to_string()
        .contains("w2v.pkl: invalid pickle"));
    // A plain pickle where an array is expected.
    let err = data::ttm::read_w2v_pickle(&src.join("tag_to_vad.pkl")).unwrap_err().to_string();
    assert!(err.contains("not a numpy array pickle"), "{err}");
}
