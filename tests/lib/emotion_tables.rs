//! The shipped mood tables equal what the readers compute from the installed GloVe and the
//! shared NRC-VAD lexicon; `regenerate` (ignored) rewrites them.
use crate::common;

use std::path::PathBuf;

use storyscore::emotion::{all_mood_words, MoodTables, Quadrant, VaLexicon, WordVectors};

fn glove_dir() -> Option<PathBuf> {
    let dir = storyscore::config::Dirs::resolve().ok()?.glove();
    if dir.join("vectors.npy").exists() {
        return Some(dir);
    }
    if std::env::var("STORYSCORE_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
        panic!("GloVe missing at {} (run scripts/setup)", dir.display());
    }
    eprintln!("skipping: GloVe not found at {}", dir.display());
    None
}

fn computed() -> Option<MoodTables> {
    let nrc = common::shared("data/lexicons/NRC-VAD-Lexicon.txt")?;
    let glove = glove_dir()?;
    let vectors = WordVectors::load(&glove).unwrap();
    let lexicon = VaLexicon::load(&nrc).unwrap();
    Some(MoodTables::compute(&vectors, &lexicon).unwrap())
}

#[test]
fn shipped_tables_equal_installed_sources() {
    let Some(computed) = computed() else { return };
    let shipped = MoodTables::shipped().unwrap();
    assert_eq!(shipped, &computed);
    assert_eq!(shipped.dim(), 50);
    for w in all_mood_words() {
        assert_eq!(shipped.vector(w).map(<[f32]>::len), Some(50), "{w}");
    }
    // Values printed in the shared data README.
    assert_eq!(shipped.vad("scary"), Some([0.062, 0.952, 0.528]));
    assert_eq!(shipped.vad("tender"), Some([0.630, 0.520, 0.509]));
    let [v, a, _] = shipped.vad("sadness").unwrap();
    assert_eq!(Quadrant::of_va(v, a), Quadrant::Q3);
    let vectors = shipped.word_vectors().unwrap();
    assert_eq!((vectors.len(), vectors.dim()), (44, 50));
}

#[test]
#[ignore = "rewrites data/mood_vectors.json and data/mood_va.json"]
fn regenerate() {
    let Some(computed) = computed() else { return };
    let (vectors, va) = computed.to_json();
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    std::fs::write(data.join("mood_vectors.json"), vectors).unwrap();
    std::fs::write(data.join("mood_va.json"), va).unwrap();
}
