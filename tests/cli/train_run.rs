//! Real training runs of the binary on the authors' layout fixture (ISEAR texts, 28 clips).
use crate::common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use storyscore::config::AlertConfig;
use storyscore::train::alerts::{AlertKind, AlertRules};
use storyscore::train::{read_metrics, MetricsRecord, RunDir};

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

/// `storyscore monitor --once --json RUN_DIR` → (its one object, exit code).
fn monitor_once(run_dir: &Path) -> (serde_json::Value, Option<i32>) {
    let out = Command::new(env!("CARGO_BIN_EXE_storyscore"))
        .args(["monitor", "--once", "--json"])
        .arg(run_dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let value = serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    (value, out.status.code())
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
    let (live, code) = monitor_once(&run_dir);
    assert_eq!((live["state"].as_str(), code), (Some("running"), Some(0)), "{live}");
    // A second trainer on the same directory is refused while the first runs.
    let second = train(&run_dir, &fixture, &["--steps", "50", "--resume"]).output().unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert!(err.contains("is being trained by another storyscore process (pid"), "{err}");
    child.0.kill().unwrap(); // SIGKILL
    child.0.wait().unwrap();
    every_line_is_json(&run_dir.join("metrics.jsonl"));
    // Killed without a final record: followers say crashed and exit non-zero.
    let (dead, code) = monitor_once(&run_dir);
    assert_eq!((dead["state"].as_str(), code), (Some("crashed"), Some(1)), "{dead}");
    let stream = Command::new(env!("CARGO_BIN_EXE_storyscore"))
        .args(["monitor", "--json", "--sample-every", "0"])
        .arg(&run_dir)
        .output()
        .unwrap();
    assert_eq!(stream.status.code(), Some(1), "the stream ends, non-zero, on a crashed run");
    let events: Vec<serde_json::Value> =
        String::from_utf8_lossy(&stream.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(events.iter().any(|e| e["event"] == "step" && e["step"] == 1), "history first");
    assert!(events.iter().any(|e| e["event"] == "alert" && e["kind"] == "crashed"));
    assert_eq!(events.last().unwrap()["state"], "crashed");
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
    let (done, code) = monitor_once(&run_dir);
    assert_eq!((done["state"].as_str(), code), (Some("finished"), Some(0)), "{done}");
    assert_eq!(done["step"].as_u64(), Some(resumed_from + 2));
    // The alert rules on this real run's records: quiet as they are; an injected stall, plateau
    // and NaN are reported.
    let records = read_metrics(&run_dir.join("metrics.jsonl")).unwrap();
    let config = AlertConfig { slow_step_min_s: 0.0, plateau_evals: 2, ..AlertConfig::default() };
    let mut rules = AlertRules::new(config);
    let mut fired: Vec<AlertKind> = records.iter().flat_map(|r| rules.on_record(r)).map(|a| a.kind).collect();
    assert!(fired.is_empty(), "{fired:?}");
    let mut median: Vec<f64> = records.iter().filter_map(|r| r.step_s).collect();
    median.sort_by(f64::total_cmp);
    let last = records.iter().rev().find(|r| r.step_s.is_some()).unwrap().clone();
    // Enough ordinary steps for a median, then one 20× as long, then a NaN.
    for i in 1..=10 {
        fired.extend(
            rules.on_record(&MetricsRecord { step: last.step + i, ..last.clone() }).iter().map(|a| a.kind),
        );
    }
    let slow =
        MetricsRecord { step: last.step + 11, step_s: Some(20.0 * median[median.len() / 2]), ..last.clone() };
    fired.extend(rules.on_record(&slow).iter().map(|a| a.kind));
    let eval = records.iter().rev().find(|r| r.p_at_5.is_some()).unwrap().clone();
    for i in 0..2 {
        let flat = MetricsRecord {
            step: last.step + 12 + i,
            p_at_5: Some(eval.p_at_5.unwrap() - 0.01),
            ..eval.clone()
        };
        fired.extend(rules.on_record(&flat).iter().map(|a| a.kind));
    }
    let nan = MetricsRecord { step: last.step + 20, loss: Some(f64::NAN), ..last.clone() };
    fired.extend(rules.on_record(&nan).iter().map(|a| a.kind));
    assert_eq!(fired, [AlertKind::SlowStep, AlertKind::Plateau, AlertKind::NonFinite]);
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
    assert!(stderr.contains("alert: loss became"), "said as an alert too: {stderr}");
    every_line_is_json(&run_dir.join("metrics.jsonl"));
    let alerts = std::fs::read_to_string(run_dir.join("alerts.jsonl")).unwrap();
    let alert: serde_json::Value = serde_json::from_str(alerts.lines().next().unwrap()).unwrap();
    assert_eq!((alert["kind"].as_str(), alert["level"].as_str()), (Some("non_finite"), Some("error")));
    let (status, code) = monitor_once(&run_dir);
    assert_eq!((status["state"].as_str(), code), (Some("failed"), Some(0)), "{status}");
    assert!(status["message"].as_str().unwrap().contains("lower the learning rate"), "{status}");
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

#[test]
fn moods_settings_out_of_range_are_refused_before_training() {
    let work = tempfile::tempdir().unwrap();
    let run_dir = work.path().join("run");
    for (flag, value, says) in [
        ("--prior-power", "3", "--prior-power must be between 0 and 2, got 3"),
        ("--song-prior-power", "2.5", "--song-prior-power must be between 0 and 2, got 2.5"),
        ("--zero-shot-weight", "1.5", "--zero-shot-weight must be between 0 and 1, got 1.5"),
        ("--zero-shot-temperature", "0", "--zero-shot-temperature must be above 0 and at most 10, got 0"),
        ("--members", "0", "--members must be between 1 and 16, got 0"),
        ("--dataset-power", "1.5", "--dataset-power must be between 0 and 1, got 1.5"),
    ] {
        let out = train(&run_dir, work.path(), &["--space", "moods", flag, value]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flag}: {stderr}");
        assert!(stderr.contains(says), "{flag}: {stderr}");
        assert!(!run_dir.exists(), "{flag}: nothing is written");
    }
    let both = ["--space", "moods", "--dataset-power", "0.5", "--balance-labels"];
    let out = train(&run_dir, work.path(), &both).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--dataset-power and --balance-labels each set the text draws"), "{stderr}");
    assert!(!run_dir.exists(), "nothing is written");
    for (flag, value, says) in [
        ("--members", "2", "--members is for --space moods"),
        ("--audio-trunk", "musicnn-both", "--audio-trunk musicnn-both is for --space moods"),
    ] {
        let out = train(&run_dir, work.path(), &["--space", "va", flag, value]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{stderr}");
        assert!(!run_dir.exists(), "nothing is written");
    }
}

#[test]
fn a_hand_edited_config_out_of_range_is_refused_on_resume() {
    let work = tempfile::tempdir().unwrap();
    let run_dir = work.path().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    let mut config = storyscore::train::TrainConfig::new(
        storyscore::model::Space::Moods,
        "isear:texts.csv",
        "4q:clips",
        "enc".into(),
        "vec".into(),
    );
    config.dataset_power = 3.0;
    let written = config.to_toml().unwrap();
    let path = run_dir.join("config.toml");
    std::fs::write(&path, &written).unwrap();
    let out = train(&run_dir, work.path(), &["--resume"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let says = format!("{}: dataset_power must be between 0 and 1, got 3", path.display());
    assert!(stderr.contains(&says), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written, "the config is left as it was");
    assert!(!run_dir.join("checkpoints").exists(), "nothing else is written");
}
