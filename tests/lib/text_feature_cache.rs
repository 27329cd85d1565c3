//! Frozen-encoder feature cache: a large corpus is encoded in blocks, each cached at once, so a
//! killed encoding resumes where it stopped; the whole corpus is cached once done.
use crate::common;

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use storyscore::features::text::text_features_in_blocks;
use storyscore::model::{EmotionModel, ModelConfig, Space};
use tch::Device;

const TEXTS: [&str; 10] = [
    "The village lay quiet under the snow.",
    "Riders came over the ridge with torches.",
    "She wept at the grave.",
    "I won the prize and danced all night.",
    "The meeting is on Tuesday.",
    "He whispered that he loved her.",
    "The storm tore the roof away.",
    "A cat slept in the sun.",
    "They laughed until they cried.",
    "Nobody answered the door.",
];

fn cached(dir: &Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix) && !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

#[test]
fn a_killed_encoding_resumes_from_its_last_block_and_leaves_one_corpus() {
    if common::minilm_dir().is_none() {
        return;
    }
    let model = EmotionModel::new(ModelConfig::paper(Space::Classify).unwrap(), Device::Cpu).unwrap();
    let whole = tempfile::tempdir().unwrap();
    let reports = RefCell::new(Vec::new());
    let expected =
        text_features_in_blocks(whole.path(), &model, &TEXTS, 4, &|d, t| reports.borrow_mut().push((d, t)))
            .unwrap();
    assert_eq!(expected.size(), [10, model.encoder_hidden_size()]);
    assert_eq!(*reports.borrow(), [(4, 10), (8, 10), (10, 10)], "one report per block");
    assert!(cached(whole.path(), "text-partial-").is_empty(), "{:?}", cached(whole.path(), ""));
    assert_eq!(cached(whole.path(), "text-features-").len(), 2, "the corpus and its keys");

    // Killed after its first block: that block is on disk as a partial corpus.
    let dir = tempfile::tempdir().unwrap();
    let killed = catch_unwind(AssertUnwindSafe(|| {
        text_features_in_blocks(dir.path(), &model, &TEXTS, 4, &|_, _| panic!("killed")).is_ok()
    }));
    assert!(killed.is_err());
    assert_eq!(cached(dir.path(), "text-partial-").len(), 2, "one block and its keys");
    assert!(cached(dir.path(), "text-features-").is_empty());

    // Run again: only the six texts not yet encoded are, and the partial is folded into the whole.
    reports.borrow_mut().clear();
    let resumed =
        text_features_in_blocks(dir.path(), &model, &TEXTS, 4, &|d, t| reports.borrow_mut().push((d, t)))
            .unwrap();
    assert_eq!(*reports.borrow(), [(4, 6), (6, 6)]);
    assert!((&resumed - &expected).abs().max().double_value(&[]) < 1e-4);
    assert!(cached(dir.path(), "text-partial-").is_empty(), "{:?}", cached(dir.path(), ""));
    assert_eq!(cached(dir.path(), "text-features-").len(), 2);

    // Cached whole now: nothing is encoded again.
    reports.borrow_mut().clear();
    let again =
        text_features_in_blocks(dir.path(), &model, &TEXTS, 4, &|d, t| reports.borrow_mut().push((d, t)))
            .unwrap();
    assert!(reports.borrow().is_empty());
    assert_eq!((&again - &resumed).abs().max().double_value(&[]), 0.0);
}
