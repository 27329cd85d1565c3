//! Text datasets load from the real shared files with the counts of the data README.
use crate::common;

use std::collections::BTreeMap;

use storyscore::data::{self, DatasetSpec, Modality, Split};

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn isear_loads_every_row_and_drops_placeholders() {
    let Some(path) = common::shared("data/isear/isear.csv") else { return };
    let (data, issues) = data::isear::load(&path).unwrap();
    // README table 937/919/925/929/950/947/934, less the placeholder non-situations.
    let dropped = counts(&[
        ("anger", 10),
        ("disgust", 23),
        ("fear", 6),
        ("guilt", 26),
        ("joy", 3),
        ("sadness", 11),
        ("shame", 34),
    ]);
    let table = counts(&[
        ("anger", 937),
        ("disgust", 919),
        ("fear", 925),
        ("guilt", 929),
        ("joy", 950),
        ("sadness", 947),
        ("shame", 934),
    ]);
    let summary = data.summary();
    for (label, n) in &table {
        assert_eq!(summary.labels[label] + dropped[label], *n, "{label}");
    }
    assert_eq!(issues.len(), 113);
    assert!(issues.iter().all(|i| i.message.starts_with("placeholder")), "{:?}", issues.first());
    assert!(issues[0].line > 1 && issues[0].path == path);
    let first = &data.items[0];
    assert_eq!(first.id, "0110011");
    assert!(first.raw_text.as_deref().unwrap().contains(" á especially"));
    assert_eq!(
        first.content.text(),
        Some("During the period of falling in love, each time that we met and especially when we had not met for a long time.")
    );
    assert!(data.items.iter().all(|i| !i.content.text().unwrap().contains('á')));
    // 139 texts contain '|' in the file; they are rebuilt, not cut.
    assert!(data.items.iter().filter(|i| i.content.text().unwrap().contains('|')).count() > 100);
    assert_eq!(data.modality(), Modality::Text);
}

#[test]
fn isear_splits_are_stratified_and_reproducible() {
    let Some(path) = common::shared("data/isear/isear.csv") else { return };
    let spec: DatasetSpec = format!("isear:{}", path.display()).parse().unwrap();
    let (data, _) = spec.load(Modality::Text).unwrap();
    let summary = data.summary();
    assert_eq!(summary.splits, counts(&[("test", 644), ("train", 5140), ("valid", 644)]));
    for label in &data.vocabulary {
        let n = data.items.iter().filter(|i| &i.labels[0] == label).count();
        let test = data.split(Split::Test).filter(|i| &i.labels[0] == label).count();
        assert_eq!(test, (n as f64 / 10.0).round() as usize, "{label}");
    }
    let (again, _) = spec.load(Modality::Text).unwrap();
    assert_eq!(data::split_map(&data), data::split_map(&again));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("splits.json");
    data::write_splits(&file, &data).unwrap();
    let read = data::read_splits(&file).unwrap();
    let mut copy = data.clone();
    copy.items.iter_mut().for_each(|i| i.split = None);
    assert_eq!(data::apply_splits(&mut copy, &read), 0);
    assert_eq!(copy, data);
}

#[test]
fn goemotions_splits_come_from_files() {
    let Some(dir) = common::shared("data/goemotions") else { return };
    let (data, issues) = data::goemotions::load(&dir).unwrap();
    assert!(issues.is_empty(), "{issues:?}");
    assert_eq!(data.vocabulary, ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]);
    let expected = [
        (Split::Train, 43_410, [5_579, 793, 726, 17_410, 14_219, 3_263, 5_367]),
        (Split::Valid, 5_426, [717, 97, 105, 2_219, 1_766, 390, 624]),
        (Split::Test, 5_427, [726, 123, 98, 2_104, 1_787, 379, 677]),
    ];
    for (split, rows, per_label) in expected {
        let items: Vec<_> = data.split(split).collect();
        assert_eq!(items.len(), rows, "{split}");
        for (label, n) in data.vocabulary.iter().zip(per_label) {
            assert_eq!(items.iter().filter(|i| i.labels.contains(label)).count(), n, "{split} {label}");
        }
    }
    assert!(data.items.iter().any(|i| i.labels.len() > 1));
}

#[test]
fn goemotions_original_labels_multi_label_rows_and_no_test_file() {
    let Some(dir) = common::shared("data/goemotions-original") else { return };
    let (data, issues) = data::goemotions::load(&dir).unwrap();
    assert!(issues.is_empty(), "{issues:?}");
    assert_eq!(data.vocabulary, storyscore::emotion::MoodVocabulary::GOEMOTIONS.words);
    assert_eq!(data.split(Split::Test).count(), 0, "the original-label release has no test file");
    assert_eq!(data.split(Split::Train).count() + data.split(Split::Valid).count(), 48_836);
    let multi = data.items.iter().filter(|i| i.labels.len() > 1).count();
    assert!(multi > 1_000, "{multi} multi-label rows");
    let row = data.items.iter().find(|i| i.id == "ee84bjg").unwrap();
    assert_eq!(row.labels, ["approval", "neutral"], "labels 4,27");
}

#[test]
fn emobank_keeps_its_splits_and_normalises_va() {
    let Some(path) = common::shared("data/emobank/emobank.csv") else { return };
    let spec: DatasetSpec = format!("emobank:{}", path.display()).parse().unwrap();
    let loaded = spec.load_all().unwrap();
    assert!(loaded.issues.is_empty(), "{:?}", loaded.issues);
    let summary = loaded.datasets[0].summary();
    assert_eq!(summary.items, 10_062);
    assert_eq!(summary.splits, counts(&[("test", 1_000), ("train", 8_062), ("valid", 1_000)]));
    let data = &loaded.datasets[0];
    let first = &data.items[0];
    assert_eq!(first.id, "110CYL068_1036_1079");
    assert_eq!(first.content.text(), Some("Remember what she said in my last letter? \""));
    // V 3.0, A 3.0, D 3.2 on 1–5 → (x − 1) / 4.
    assert_eq!(first.va, Some([0.5, 0.5, 0.55]));
    let v: Vec<f32> = data.items.iter().map(|i| i.va.unwrap()[0]).collect();
    let (lo, hi) = v.iter().fold((1.0f32, 0.0f32), |(a, b), x| (a.min(*x), b.max(*x)));
    assert!((lo - 0.05).abs() < 1e-6 && (hi - 0.9).abs() < 1e-6, "{lo} {hi}");
}

#[test]
fn joined_text_specs_remember_where_each_part_starts() {
    let (Some(isear), Some(emobank)) =
        (common::shared("data/isear/isear.csv"), common::shared("data/emobank/emobank.csv"))
    else {
        return;
    };
    let spec = format!("isear:{}+emobank:{}", isear.display(), emobank.display());
    let (joined, _) = data::load_joined(&spec, Modality::Text).unwrap();
    let first = joined.items.iter().position(|i| i.va.is_some()).unwrap();
    assert_eq!(joined.parts, [0, first], "EmoBank's rows follow ISEAR's");
    assert_eq!(joined.len() - first, 10_062);
    assert_eq!(joined.part_of(first - 1), 1);
    assert_eq!(joined.part_of(first), 2);
}
