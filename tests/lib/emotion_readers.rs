//! VA lexicons and word-vector files, real and generated.
use crate::common;

use std::io::Write;
use std::path::Path;

use storyscore::emotion::{EmotionError, VaLexicon, VaScale, WordVectors};

#[test]
fn nrc_vad_reads_all_entries_with_readme_values() {
    let Some(path) = common::shared("data/lexicons/NRC-VAD-Lexicon.txt") else { return };
    let lex = VaLexicon::load(&path).unwrap();
    assert_eq!((lex.scale, lex.len()), (VaScale::NrcVad, 20_007));
    assert_eq!(lex.get("happy"), Some((1.0, 0.735, 0.772)));
    assert_eq!(lex.get("surprised"), Some((0.784, 0.855, 0.539)));
    assert!(lex.get("altar boy").is_some());
}

#[test]
fn warriner_is_normalised_from_one_to_nine() {
    let Some(path) = common::shared("data/lexicons/Ratings_Warriner_et_al.csv") else { return };
    let lex = VaLexicon::load(&path).unwrap();
    assert_eq!((lex.scale, lex.len()), (VaScale::Warriner, 13_915));
    let (v, a, d) = lex.get("happy").unwrap();
    for (got, mean) in [(v, 8.47f32), (a, 6.05), (d, 7.21)] {
        assert!((got - (mean - 1.0) / 8.0).abs() < 1e-6, "{got} {mean}");
    }
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::File::create(path).unwrap().write_all(bytes).unwrap();
}

#[test]
fn word2vec_binary_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.bin");
    let words = [("happy", [0.5f32, -1.0, 2.25]), ("sad", [-0.125, 3.0, 0.0]), ("über", [1e-3, 7.5, -2.0])];
    let mut bytes = format!("{} 3\n", words.len()).into_bytes();
    for (w, v) in &words {
        bytes.extend_from_slice(w.as_bytes());
        bytes.push(b' ');
        v.iter().for_each(|x| bytes.extend_from_slice(&x.to_le_bytes()));
        bytes.push(b'\n');
    }
    write(&path, &bytes);
    let vectors = WordVectors::load(&path).unwrap();
    assert_eq!((vectors.len(), vectors.dim()), (3, 3));
    for (w, v) in &words {
        assert_eq!(vectors.get(w), Some(&v[..]), "{w}");
    }
    assert_eq!(vectors.get("tender"), None);

    write(&path, &bytes[..bytes.len() - 6]);
    let err = WordVectors::load(&path).unwrap_err().to_string();
    assert!(err.contains("tiny.bin") && err.contains("truncated vector of word 2"), "{err}");
    write(&path, b"1 999999999999\n");
    assert!(WordVectors::load(&path).unwrap_err().to_string().contains("is not `count dim`"));
    write(&path, b"three 3\n");
    assert!(WordVectors::load(&path).unwrap_err().to_string().contains("tiny.bin:1: header"));
}

#[test]
fn glove_text_with_and_without_header() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("glove.txt");
    write(&plain, b"the 0.1 0.2\nhappy -1 2.5\n");
    let vectors = WordVectors::load(&plain).unwrap();
    assert_eq!(vectors.get("happy"), Some(&[-1.0f32, 2.5][..]));
    let headed = dir.path().join("w2v.txt");
    write(&headed, b"2 2\nthe 0.1 0.2\nhappy -1 2.5\n");
    assert_eq!(WordVectors::load(&headed).unwrap().len(), 2);
    write(&plain, b"the 0.1 0.2\nhappy -1\n");
    assert_eq!(
        WordVectors::load(&plain).unwrap_err().to_string(),
        format!("{}:2: 1 values, expected 2", plain.display())
    );
    write(&plain, b"the 0.1 x\n");
    assert!(matches!(WordVectors::load(&plain), Err(EmotionError::Line { line: 1, .. })));
}

fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn floats(xs: &[f32]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn npy_vector_dirs_in_both_orders_and_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("vocab.txt"), b"a\nb\nc");
    // Rows a = [1, 2], b = [3, 4], c = [5, 6]; Fortran order stores column by column.
    write(&dir.path().join("vectors.npy"), &npy("<f4", true, "(3, 2)", &floats(&[1., 3., 5., 2., 4., 6.])));
    let v = WordVectors::load(dir.path()).unwrap();
    assert_eq!((v.get("a"), v.get("c")), (Some(&[1.0f32, 2.0][..]), Some(&[5.0f32, 6.0][..])));
    write(&dir.path().join("vectors.npy"), &npy("<f4", false, "(3, 2)", &floats(&[1., 2., 3., 4., 5., 6.])));
    assert_eq!(WordVectors::load(dir.path()).unwrap().get("b"), Some(&[3.0f32, 4.0][..]));

    write(&dir.path().join("vectors.npy"), &npy("<f8", false, "(3, 2)", &[0; 48]));
    assert!(WordVectors::load(dir.path())
        .unwrap_err()
        .to_string()
        .contains("dtype \"<f8\", expected \"<f4\""));
    write(&dir.path().join("vectors.npy"), &npy("<f4", false, "(6,)", &floats(&[0.; 6])));
    assert!(WordVectors::load(dir.path()).unwrap_err().to_string().contains("expected [words, dim]"));
    write(&dir.path().join("vectors.npy"), &npy("<f4", false, "(4, 2)", &floats(&[0.; 8])));
    assert!(WordVectors::load(dir.path()).unwrap_err().to_string().contains("4 vectors but"));
    write(&dir.path().join("vectors.npy"), &npy("<f4", false, "(3, 2)", &floats(&[0.; 5])));
    assert!(WordVectors::load(dir.path()).unwrap_err().to_string().contains("truncated"));
}

#[test]
fn installed_glove_loads() {
    let Ok(dirs) = storyscore::config::Dirs::resolve() else { return };
    if !dirs.glove().join("vectors.npy").exists() {
        eprintln!("skipping: GloVe not installed");
        return;
    }
    let v = WordVectors::load(&dirs.glove()).unwrap();
    assert_eq!((v.len(), v.dim()), (400_000, 50));
    assert_eq!(v.words()[0], "the");
    // First values of "the" in glove.6B.50d.txt.
    assert_eq!(&v.get("the").unwrap()[..3], &[0.418f32, 0.24968, -0.41242]);
}
