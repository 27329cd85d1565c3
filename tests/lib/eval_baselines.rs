//! The baselines of the evaluation protocol on the real ISEAR and 4Q data, without a model.
use crate::common;

use storyscore::cache::Caches;
use storyscore::config::Config;
use storyscore::data::{DatasetSpec, Modality};
use storyscore::eval::{baseline_rows, EvalOptions, EvalRow, EvalSet, View};
use storyscore::model::WindowMode;

fn rows(all: bool) -> Option<Vec<EvalRow>> {
    let isear = common::shared("data/isear/isear.csv")?;
    let fourq = common::shared("data/4q")?;
    let load = |spec: String, m| spec.parse::<DatasetSpec>().unwrap().load(m).unwrap().0;
    let text = load(format!("isear:{}", isear.display()), Modality::Text);
    let music = load(format!("4q:{}", fourq.display()), Modality::Music);
    let set = EvalSet::new(&text, &music, all).unwrap();
    let cache_dir = tempfile::tempdir().unwrap().path().to_path_buf();
    let caches = Caches::new(&cache_dir, &Config::default());
    let opts = EvalOptions {
        mappings: vec!["manual".into(), "va".into()],
        chunks: 16,
        windows: WindowMode::Exact,
        caches,
        note: |_| {},
    };
    Some(baseline_rows("baseline", &set, &opts).unwrap())
}

fn find<'a>(rows: &'a [EvalRow], space: &str, mapping: &str, view: View) -> &'a EvalRow {
    rows.iter().find(|r| r.space == space && r.mapping == mapping && r.view == view).unwrap()
}

#[test]
fn all_development_items_give_the_design_documents_baselines() {
    let Some(rows) = rows(true) else { return };
    let prior = find(&rows, "label-prior", "manual", View::Tags);
    let random = find(&rows, "random", "manual", View::Tags);
    // DESIGN.md: label-prior P@5 ≈ 0.74 (MRR ≈ 0.93), random P@5 ≈ 0.30, 4Q dev clips × ISEAR.
    assert!((prior.p_at_5 - 0.74).abs() < 0.01 && (prior.mrr - 0.93).abs() < 0.01, "{prior:?}");
    assert!((random.p_at_5 - 0.30).abs() < 0.02, "{random:?}");
    // About 40 % of the 727 clips carry an AudioSet mood; every clip is a quadrant candidate.
    assert!((280..=320).contains(&prior.clips), "{prior:?}");
    let quadrants = find(&rows, "label-prior", "nrc-vad", View::Quadrants);
    assert_eq!(quadrants.clips, 727);
    let quad_random = find(&rows, "random", "nrc-vad", View::Quadrants);
    assert!(quadrants.p_at_5 > quad_random.p_at_5, "{quadrants:?} vs {quad_random:?}");
    assert!(find(&rows, "label-prior", "va", View::Tags).p_at_5 > 0.0);
}

#[test]
fn test_split_holds_a_tenth_of_each() {
    let Some(rows) = rows(false) else { return };
    let prior = find(&rows, "label-prior", "manual", View::Tags);
    assert!((600..=800).contains(&prior.queries) && (25..=40).contains(&prior.clips), "{prior:?}");
    assert!((prior.p_at_5 - 0.68).abs() < 0.03, "{prior:?}");
}
