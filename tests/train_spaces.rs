//! The regression and classification spaces train from `storyscore train` and evaluate with
//! `storyscore eval`: a few steps each on the authors' layout fixture.
mod common;

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
