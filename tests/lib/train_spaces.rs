//! The regression and classification spaces train from `storyscore train` and evaluate with
//! `storyscore eval`: a few steps each on the authors' layout fixture.
use crate::common;

use std::path::Path;
use std::process::Command;

use storyscore::train::read_metrics;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_storyscore"))
}

/// Trains `space` for 3 steps and returns the song head's output width and the branch losses.
fn train_space(fixture: &Path, run_dir: &Path, space: &str) -> (i64, Vec<(String, f64)>) {
    let spec = format!("ttm:{}", fixture.display());
    let out = bin()
        .args(["train", "--space", space, "--text", &spec, "--music", &spec, "--run-dir"])
        .arg(run_dir)
        .args(["--batch-size", "8", "--steps", "3", "--eval-every", "3", "--checkpoint-every", "3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{space}: {stderr}");
    assert!(stderr.contains("valid step 3: P@5"), "{space}: {stderr}");
    let records = read_metrics(&run_dir.join("metrics.jsonl")).unwrap();
    let steps: Vec<u64> = records.iter().filter(|r| r.loss.is_some()).map(|r| r.step).collect();
    assert_eq!(steps, vec![1, 2, 3], "{space}");
    let last = records.iter().rev().find(|r| r.loss.is_some()).unwrap();
    let branches: Vec<(String, f64)> = last.branch_losses.iter().map(|(k, v)| (k.clone(), *v)).collect();
    let weights = tch::Tensor::read_safetensors(run_dir.join("best.safetensors")).unwrap();
    let (_, fc2) = weights.iter().find(|(n, _)| n == "song_fc2.weight").expect("song head in best weights");
    (fc2.size()[0], branches)
}

fn eval_rows(fixture: &Path, run_dir: &Path) -> Vec<serde_json::Value> {
    let spec = format!("ttm:{}", fixture.display());
    let out = bin()
        .args(["eval", "--model"])
        .arg(run_dir)
        .args(["--text", &spec, "--music", &spec, "--chunks", "2", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["rows"].as_array().unwrap().clone()
}

#[test]
fn va_w2v_and_classify_train_and_evaluate() {
    let (Some(fixture), Some(_)) = (common::shared("data/ttm_layout"), common::minilm_dir()) else { return };
    let dir = tempfile::tempdir().unwrap();
    // Output widths: valence+arousal, GloVe-50 of the mood word, the seven AudioSet moods.
    for (space, width) in [("va", 2), ("w2v", 50), ("classify", 7)] {
        let run_dir = dir.path().join(space);
        let (out_dim, branches) = train_space(&fixture, &run_dir, space);
        assert_eq!(out_dim, width, "{space} song head width");
        let names: Vec<&str> = branches.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["song", "text"], "{space}");
        assert!(branches.iter().all(|(_, v)| v.is_finite() && *v > 0.0), "{space}: {branches:?}");
        if space == "classify" {
            // Cross-entropy over 7 text labels starts near ln 7; BCE near ln 2.
            let text = branches.iter().find(|(k, _)| k == "text").unwrap().1;
            assert!((1.0..3.5).contains(&text), "classify text CE {text}");
        }
        let rows = eval_rows(&fixture, &run_dir);
        let model = rows.iter().find(|r| r["space"] == space && r["mapping"] == "manual").unwrap();
        let p5 = model["p_at_5"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p5), "{space}: {model}");
        assert!(model.get("tag_song_roc_auc").is_none(), "AUCs are for the metric-learning spaces");
        assert!(rows.iter().any(|r| r["space"] == "label-prior"), "{space}: baselines present");
    }
}

#[test]
fn moods_space_trains_on_joined_text_data_and_reports_every_view() {
    let (Some(fixture), Some(_)) = (common::shared("data/ttm_layout"), common::minilm_dir()) else { return };
    let Some(emobank) = common::shared("data/emobank/emobank.csv") else { return };
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("moods");
    let (out_dim, branches) = train_space(&fixture, &run_dir, "moods");
    assert_eq!(out_dim, 12, "twelve story moods");
    let names: Vec<&str> = branches.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["song", "song_quadrant", "text", "text_quadrant", "text_va"]);
    assert!(branches.iter().all(|(_, v)| v.is_finite() && *v >= 0.0), "{branches:?}");
    let config = std::fs::read_to_string(run_dir.join("model.toml")).unwrap();
    assert!(config.contains("space = \"moods\"") && config.contains("[mood_quadrants]"), "{config}");
    // Training ends by measuring the text head's prior over its training texts.
    let written = storyscore::model::ModelConfig::load(&run_dir.join("model.toml")).unwrap();
    assert_eq!(written.text_mood_prior.len(), 12, "{config}");
    assert!(written.text_mood_prior.iter().all(|p| *p > 0.0), "{:?}", written.text_mood_prior);
    assert!((written.text_mood_prior.iter().sum::<f64>() - 1.0).abs() < 1e-6);
    assert_eq!(written.prior_power, storyscore::train::DEFAULT_PRIOR_POWER);
    // And the song side's over its training clips.
    assert_eq!(written.song_mood_prior.len(), 12, "{config}");
    assert!(written.song_mood_prior.iter().all(|p| *p > 0.0), "{:?}", written.song_mood_prior);
    assert!(
        (written.song_mood_prior.iter().sum::<f64>() - 1.0).abs() < 1e-6,
        "{:?}",
        written.song_mood_prior
    );
    assert_eq!(written.song_prior_power, storyscore::train::DEFAULT_SONG_PRIOR_POWER);
    assert_eq!(written.zero_shot_weight, storyscore::train::DEFAULT_ZERO_SHOT_WEIGHT);
    assert_eq!(written.zero_shot_temperature, storyscore::train::DEFAULT_ZERO_SHOT_TEMPERATURE);
    let rows = eval_rows(&fixture, &run_dir);
    // The fixture's songs carry AudioSet moods but no quadrant: the tag view is what it has.
    let tags = rows.iter().find(|r| r["space"] == "moods" && r["mapping"] == "manual").unwrap();
    assert!((0.0..=1.0).contains(&tags["p_at_5"].as_f64().unwrap()), "{tags}");

    // A joined text spec trains (here as an ensemble of two heads per branch, matched with the
    // song prior divided out, each dataset drawn by the square root of its size), and a rated
    // dataset gives the valence–arousal view.
    let ttm = format!("ttm:{}", fixture.display());
    let joined = format!("{ttm}+emobank:{}", emobank.display());
    let joined_dir = dir.path().join("joined");
    let out = bin()
        .args(["train", "--space", "moods", "--text", &joined, "--music", &ttm, "--run-dir"])
        .arg(&joined_dir)
        .args(["--batch-size", "8", "--steps", "2", "--eval-every", "2", "--checkpoint-every", "2"])
        .args(["--members", "2", "--song-prior-power", "0.5", "--dataset-power", "0.5"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let recipe = std::fs::read_to_string(joined_dir.join("config.toml")).unwrap();
    assert!(recipe.contains("dataset_power = 0.5"), "the run keeps its text mix for --resume: {recipe}");
    let written = storyscore::model::ModelConfig::load(&joined_dir.join("model.toml")).unwrap();
    assert_eq!(written.members, 2);
    assert_eq!(written.text_mood_prior.len(), 12, "the prior is the ensemble's");
    assert_eq!(written.song_mood_prior.len(), 12, "the song prior is the ensemble's too");
    assert_eq!(written.song_prior_power, 0.5);
    let weights = tch::Tensor::read_safetensors(joined_dir.join("best.safetensors")).unwrap();
    for name in ["song_fc2.weight", "song_m1_fc2.weight", "text_fc2.weight", "text_m1_fc2.weight"] {
        assert!(weights.iter().any(|(n, _)| n == name), "{name} in the best weights");
    }
    let out = bin()
        .args(["eval", "--model"])
        .arg(&joined_dir)
        .args([
            "--text",
            &format!("emobank:{}", emobank.display()),
            "--music",
            &ttm,
            "--chunks",
            "2",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let va = report["rows"].as_array().unwrap().iter().find(|r| r["view"] == "va").cloned().unwrap();
    assert_eq!(va["queries"], 1000, "EmoBank's own test split: {va}");
    for key in ["valence_r", "arousal_r"] {
        assert!(va[key].as_f64().is_some_and(|r| (-1.0..=1.0).contains(&r)), "{va}");
    }
}
