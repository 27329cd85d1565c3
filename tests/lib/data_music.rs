//! Music datasets: 4Q metadata + clips, and the original authors' npy/pickle layout.
use crate::common;

use std::collections::BTreeMap;

use storyscore::data::{self, DatasetSpec, Modality, Split};
use storyscore::emotion::{MoodTables, MoodVocabulary};

#[test]
fn fourq_maps_tags_to_moods_and_keeps_quadrants() {
    let Some(dir) = common::shared("data/4q") else { return };
    let (data, issues) = data::fourq::load(&dir).unwrap();
    assert!(issues.is_empty(), "{issues:?}");
    let summary = data.summary();
    assert_eq!(summary.items, 727);
    let quadrants: Vec<usize> = summary.quadrants.values().copied().collect();
    assert_eq!(quadrants, [179, 187, 185, 176]);
    let moods: Vec<(&str, usize)> = summary.labels.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        moods,
        [
            ("angry", 59),
            ("exciting", 48),
            ("funny", 25),
            ("happy", 48),
            ("sad", 67),
            ("scary", 63),
            ("tender", 42)
        ]
    );
    assert_eq!(data.items.iter().filter(|i| !i.labels.is_empty()).count(), 300);
    assert_eq!(data.items.iter().filter(|i| i.labels.len() > 1).count(), 49);
    assert_eq!(summary.unlabelled, 427);
    assert!(data.items.iter().all(|i| i.content.audio_path().unwrap().extension().unwrap() == "ogg"));
    assert_eq!(data.modality(), Modality::Music);
}

#[test]
fn fourq_spec_assigns_stratified_splits() {
    let Some(dir) = common::shared("data/4q") else { return };
    let spec: DatasetSpec = format!("4q:{}", dir.display()).parse().unwrap();
    let (data, _) = spec.load(Modality::Music).unwrap();
    let test: Vec<_> = data.split(Split::Test).collect();
    assert!((70..=76).contains(&test.len()), "{}", test.len());
    assert!(test.iter().filter(|i| !i.labels.is_empty()).count() >= 25);
    assert!(spec.load(Modality::Text).unwrap_err().to_string().contains("holds no texts"));
}

#[test]
fn ttm_layout_loads_texts_and_songs() {
    let Some(dir) = common::shared("data/ttm_layout") else { return };
    let spec: DatasetSpec = format!("ttm:{}", dir.display()).parse().unwrap();
    let loaded = spec.load_all().unwrap();
    assert!(loaded.issues.is_empty(), "{:?}", loaded.issues);
    let [texts, songs] = &loaded.datasets[..] else { panic!("two datasets expected") };
    assert_eq!(texts.len(), 6_541);
    assert_eq!(texts.vocabulary, MoodVocabulary::ISEAR.words);
    let count = |d: &data::Dataset, s| d.split(s).count();
    assert_eq!([Split::Train, Split::Valid, Split::Test].map(|s| count(texts, s)), [5_217, 668, 656]);
    assert_eq!([Split::Train, Split::Valid, Split::Test].map(|s| count(songs, s)), [14, 7, 7]);
    assert!(texts.items[0].content.text().unwrap().starts_with("During the period of falling in love"));
    assert!(texts.items.iter().all(|i| i.labels.len() == 1));
    assert_eq!(songs.vocabulary, MoodVocabulary::AUDIOSET.words);
    assert_eq!(songs.items[0].id, "MT0000732821");
    assert_eq!(songs.items[0].labels, ["angry"]);
    assert!(songs.items.iter().all(|i| i.content.audio_path().unwrap().is_file()));
    let tables = MoodTables::shipped().unwrap();
    let [v, a, d] = texts.items[0].va.unwrap();
    assert_eq!(Some([v, a, d]), tables.vad("joy"));

    // Each ISEAR text of the layout is the raw SIT of the same row of isear.csv.
    if let Some(isear) = common::shared("data/isear/isear.csv") {
        let (raw, _) = data::isear::load(&isear).unwrap();
        let first_raw = raw.items[0].raw_text.as_deref().unwrap();
        assert_eq!(texts.items[0].content.text(), Some(first_raw));
    }
}

#[test]
fn ttm_pickles_read_as_data() {
    let Some(dir) = common::shared("data/ttm_layout") else { return };
    let tag_to_ix = data::ttm::read_tag_to_ix(&dir.join("text_isear_tag_to_ix.pkl")).unwrap();
    let sizes: BTreeMap<&str, usize> = tag_to_ix.iter().map(|(k, v)| (k.as_str(), v.len())).collect();
    let expected: BTreeMap<&str, usize> = [757, 732, 725, 733, 761, 772, 737]
        .into_iter()
        .zip(MoodVocabulary::ISEAR.words)
        .map(|(n, w)| (*w, n))
        .collect();
    assert_eq!(sizes, expected);
    let songs = data::ttm::read_song_tag_to_ids(&dir.join("song_tag_to_ids.pkl")).unwrap();
    assert_eq!(songs.len(), 7);
    assert!(songs.values().all(|v| v.len() == 2 && v.iter().all(|s| s.contains("---audio/"))));

    let tables = MoodTables::shipped().unwrap();
    let w2v = data::ttm::read_w2v_pickle(&dir.join("w2v.pkl")).unwrap();
    assert_eq!((w2v.len(), w2v.dim()), (16, 50));
    // The fixture's GloVe copy (a wheel) and the installed one differ in the last printed digit.
    for word in w2v.words() {
        let (a, b) = (w2v.get(word).unwrap(), tables.vector(word).unwrap());
        assert!(a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6), "{word}");
    }
    let vad = data::ttm::read_tag_to_vad(&dir.join("tag_to_vad.pkl")).unwrap();
    assert_eq!(vad.len(), 16);
    for (word, v) in &vad {
        assert_eq!(Some(*v), tables.vad(word), "{word}");
    }
}
