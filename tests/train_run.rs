//! Real training runs of the binary on the authors' layout fixture (ISEAR texts, 28 clips).
mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use storyscore::train::{read_metrics, RunDir};

fn train(run_dir: &Path, fixture: &Path, extra: &[&str]) -> Command {
    let spec = format!("ttm:{}", fixture.display());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_storyscore"));
    cmd.args(["train", "--text", &spec, "--music", &spec, "--run-dir"]).arg(run_dir);
    cmd.args(["--batch-size", "8", "--eval-every", "1000", "--checkpoint-every", "1"]).args(extra);
    cmd
}

/// A trainer process that is killed when the test ends early, so no orphan keeps training.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn every_line_is_json(path: &Path) {
    let text = std::fs::read_to_string(path).expect("metrics.jsonl");
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("bad line {line:?}: {e}"));
    }
}

#[test]
fn killed_run_resumes_with_continuing_steps() {
    let Some(fixture) = common::shared("data/ttm_layout") else { return };
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let child = train(&run_dir, &fixture, &["--steps", "50"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let started = Instant::now();
    let ckpt = run_dir.join("checkpoints/step-2.json");
    // The first run on a machine also encodes the fixture's 6,541 texts once (then cached).
    while !ckpt.exists() {
        assert!(started.elapsed() < Duration::from_secs(600), "no checkpoint within 10 minutes");
        assert!(child.0.try_wait().unwrap().is_none(), "trainer exited early");
        std::thread::sleep(Duration::from_millis(100));
    }
    child.0.kill().unwrap(); // SIGKILL
    child.0.wait().unwrap();
    every_line_is_json(&run_dir.join("metrics.jsonl"));
    let (run, _) = RunDir::open(&run_dir).unwrap();
    let (state, _) = run.latest_checkpoint().unwrap().expect("a checkpoint survived");
    let resumed_from = state.step;
    assert!(resumed_from >= 2);
    let out = train(&run_dir, &fixture, &["--steps", &(resumed_from + 2).to_string(), "--resume"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "resume failed: {stderr}");
    assert!(stderr.contains(&format!("resuming at step {resumed_from}")), "{stderr}");
    every_line_is_json(&run_dir.join("metrics.jsonl"));
    let steps: Vec<u64> = read_metrics(&run_dir.join("metrics.jsonl"))
        .unwrap()
        .iter()
        .filter(|r| r.loss.is_some())
        .map(|r| r.step)
        .collect();
    let expected: Vec<u64> = (1..=resumed_from + 2).collect();
    assert_eq!(steps, expected, "step numbers continue without gaps or repeats");
    assert!(run_dir.join("best.safetensors").exists() && run_dir.join("splits.json").exists());
    let config = std::fs::read_to_string(run_dir.join("config.toml")).unwrap();
    assert!(config.contains("space = \"three-branch\""));
}

#[test]
fn exploding_loss_stops_with_a_message_and_keeps_the_checkpoint() {
    let Some(fixture) = common::shared("data/ttm_layout") else { return };
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let out = train(&run_dir, &fixture, &["--steps", "30", "--lr", "1e30"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the last good checkpoint is kept"), "{stderr}");
    every_line_is_json(&run_dir.join("metrics.jsonl"));
    let (run, _) = RunDir::open(&run_dir).unwrap();
    if let Some((state, path)) = run.latest_checkpoint().unwrap() {
        let tensors = tch::Tensor::read_safetensors(&path).unwrap();
        assert!(state.step >= 1);
        assert!(
            tensors.iter().all(|(_, t)| t.isfinite().all().int64_value(&[]) == 1),
            "kept weights are finite"
        );
    }
}

#[test]
fn fine_tuned_text_encoder_trains_and_is_saved_with_the_run() {
    let (Some(fixture), Some(minilm)) = (common::shared("data/ttm_layout"), common::minilm_dir()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let out = train(&run_dir, &fixture, &["--steps", "2", "--fine-tune-text", "--audio-trunk", "mel-stats"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("the encoder trains with the heads"), "{stderr}");
    let name = "encoder.layer.5.attention.self.query.weight";
    let original = tch::Tensor::read_safetensors(minilm.join("model.safetensors")).unwrap();
    let (_, before) = original.iter().find(|(n, _)| n == name).expect("MiniLM weight");
    let saved = tch::Tensor::read_safetensors(run_dir.join("checkpoints/step-2.safetensors")).unwrap();
    let (_, after) =
        saved.iter().find(|(n, _)| n.ends_with(name)).expect("fine-tuned encoder in the checkpoint");
    let moved = (after - before).abs().max().double_value(&[]);
    // Two Adam steps at lr 1e-4 move each weight by up to about 2e-4.
    assert!(moved > 1e-5 && moved < 1e-3, "encoder weight moved by {moved}");
}
