//! `storyscore eval` end to end: ISEAR test queries × 4Q test clips with a freshly initialised
//! model, checked against the baselines the design document measured.
use crate::common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use storyscore::model::{EmotionModel, ModelConfig, Space};

fn fresh_model(dir: &Path, space: Space) {
    let mut config = ModelConfig::paper(space).unwrap();
    // Training's default pooling, so the corpus features a training run cached are reused.
    config.text.pooling = "mean".into();
    let mut model = EmotionModel::new(config, tch::Device::Cpu).unwrap();
    model.save(dir).unwrap();
}

fn eval(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_storyscore")).arg("eval").args(args).output().unwrap()
}

fn row<'a>(rows: &'a [Value], model: &str, space: &str, mapping: &str, view: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["model"] == model && r["space"] == space && r["mapping"] == mapping && r["view"] == view)
        .unwrap_or_else(|| panic!("no row {model}/{space}/{mapping}/{view} in {rows:#?}"))
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[test]
fn isear_by_4q_reproduces_the_baselines_and_scores_a_model() {
    let (Some(isear), Some(fourq), Some(_)) =
        (common::shared("data/isear/isear.csv"), common::shared("data/4q"), common::minilm_dir())
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("fresh");
    fresh_model(&model_dir, Space::ThreeBranch);
    let text = format!("isear:{}", isear.display());
    let music = format!("4q:{}", fourq.display());
    let model = model_dir.to_str().unwrap();
    let out = eval(&["--model", model, "--text", &text, "--music", &music, "--chunks", "1", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = report["rows"].as_array().unwrap().clone();

    let prior = row(&rows, "baseline", "label-prior", "manual", "tags");
    let random = row(&rows, "baseline", "random", "manual", "tags");
    // On the test split the prior has only ~32 clips to order: P@5 0.68, MRR 0.74 (an independent
    // Python count of the same split agrees); over all clips it is the design document's 0.74 /
    // 0.93 (tests/lib/eval_baselines.rs). Random P@5 ≈ 0.31 either way.
    assert!((num(prior, "p_at_5") - 0.68).abs() < 0.03, "{prior}");
    assert!((num(prior, "mrr") - 0.745).abs() < 0.03, "{prior}");
    assert!((num(random, "p_at_5") - 0.31).abs() < 0.04, "{random}");
    // About 10 % of ISEAR's texts (644); about 40 % of the 73 test clips carry a mood (32).
    let (queries, clips) = (num(prior, "queries"), num(prior, "clips"));
    assert!((600.0..700.0).contains(&queries) && (25.0..40.0).contains(&clips), "{prior}");

    let fresh = row(&rows, "fresh", "three-branch", "manual", "tags");
    assert_eq!((num(fresh, "queries"), num(fresh, "clips")), (queries, clips));
    for key in ["p_at_5", "mrr", "tag_text_roc_auc", "tag_song_roc_auc", "tag_song_pr_auc"] {
        let v = num(fresh, key);
        assert!((0.0..=1.0).contains(&v), "{key} = {v}");
    }
    // An untrained model cannot beat the label prior.
    assert!(num(fresh, "p_at_5") < num(prior, "p_at_5"), "{fresh}");
    for mapping in ["va", "w2v"] {
        row(&rows, "fresh", "three-branch", mapping, "tags");
        row(&rows, "baseline", "label-prior", mapping, "tags");
    }
    let quad = row(&rows, "fresh", "three-branch", "nrc-vad", "quadrants");
    let quad_prior = row(&rows, "baseline", "label-prior", "nrc-vad", "quadrants");
    assert!(num(quad, "clips") > clips, "every clip is a candidate in the quadrant view");
    assert!(
        num(quad_prior, "p_at_5") >= num(row(&rows, "baseline", "random", "nrc-vad", "quadrants"), "p_at_5")
    );
}

#[test]
fn table_restricted_to_one_mapping_on_the_fixture() {
    let (Some(fixture), Some(_)) = (common::shared("data/ttm_layout"), common::minilm_dir()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("va-model");
    fresh_model(&model_dir, Space::Va);
    let spec = format!("ttm:{}", fixture.display());
    let out = eval(&[
        "--model",
        model_dir.to_str().unwrap(),
        "--text",
        &spec,
        "--music",
        &spec,
        "--mapping",
        "w2v",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("w2v P@5 / MRR") && !stdout.contains("manual P@5"), "{stdout}");
    for name in ["va-model", "label-prior", "random", "Quadrant view"] {
        assert!(stdout.contains(name), "{name} missing:\n{stdout}");
    }
}

#[test]
fn bad_inputs_fail_with_one_clear_line() {
    let Some(fixture) = common::shared("data/ttm_layout") else { return };
    let dir = tempfile::tempdir().unwrap();
    let spec = format!("ttm:{}", fixture.display());
    let missing = dir.path().join("nowhere");
    let out = eval(&["--model", missing.to_str().unwrap(), "--text", &spec, "--music", &spec]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nowhere"), "{stderr}");
    let out = eval(&["--model", "x", "--text", &spec, "--music", &spec, "--mapping", "cosine"]);
    assert_eq!(out.status.code(), Some(2));
}
