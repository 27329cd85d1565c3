//! Run directory: config, metrics log with torn lines, checkpoints, best weights, watcher.

use std::io::Write;

use storyscore::train::{
    read_metrics, CheckpointState, MetricsLog, MetricsRecord, RunDir, RunWatcher, TrainConfig,
};
use tch::Tensor;

fn config() -> TrainConfig {
    TrainConfig::new(storyscore::model::Space::ThreeBranch, "isear:x.csv", "4q:y", "enc".into(), "vec".into())
}

fn record(step: u64) -> MetricsRecord {
    MetricsRecord { step, epoch: 0, loss: Some(0.5 / step as f64), lr: Some(1e-4), ..Default::default() }
}

#[test]
fn create_writes_config_and_refuses_an_existing_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("run");
    RunDir::create(&root, &config()).unwrap();
    let (_, back) = RunDir::open(&root).unwrap();
    assert_eq!(back, config());
    let err = RunDir::create(&root, &config()).unwrap_err().to_string();
    assert!(err.contains("--resume"), "{err}");
}

#[test]
fn create_refuses_a_config_out_of_range_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("run");
    let mut bad = config();
    bad.batch_size = 2;
    let err = RunDir::create(&root, &bad).unwrap_err().to_string();
    assert!(err.contains("config.toml: batch_size must be at least 4"), "{err}");
    assert!(!root.exists(), "nothing is written");
}

#[test]
fn open_reports_the_bad_config_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "space = 'sideways'\n").unwrap();
    let err = RunDir::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("config.toml"), "{err}");
}

#[test]
fn metrics_log_survives_a_torn_line_and_drops_redone_steps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.jsonl");
    let mut log = MetricsLog::open(&path, None).unwrap();
    for s in 1..=5 {
        log.append(&record(s)).unwrap();
    }
    drop(log);
    // A crash mid-write leaves half a line.
    std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"step\": 6, \"ep").unwrap();
    assert_eq!(read_metrics(&path).unwrap().len(), 5);
    // Resuming from the checkpoint of step 3 forgets steps 4 and 5, and the torn tail.
    let mut log = MetricsLog::open(&path, Some(3)).unwrap();
    log.append(&record(4)).unwrap();
    let steps: Vec<u64> = read_metrics(&path).unwrap().iter().map(|r| r.step).collect();
    assert_eq!(steps, vec![1, 2, 3, 4]);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
}

#[test]
fn watcher_follows_appends_and_partial_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.jsonl");
    let mut watcher = RunWatcher::new(dir.path());
    assert!(watcher.poll().unwrap().is_empty(), "no file yet");
    let mut log = MetricsLog::open(&path, None).unwrap();
    log.append(&record(1)).unwrap();
    assert_eq!(watcher.poll().unwrap().len(), 1);
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    let line = serde_json::to_string(&record(2)).unwrap();
    f.write_all(&line.as_bytes()[..10]).unwrap();
    assert!(watcher.poll().unwrap().is_empty(), "half a line is not a record");
    f.write_all(&line.as_bytes()[10..]).unwrap();
    f.write_all(b"\n").unwrap();
    let fresh = watcher.poll().unwrap();
    assert_eq!(fresh, vec![record(2)]);
    assert_eq!(watcher.records().len(), 2);
}

#[test]
fn checkpoints_keep_the_newest_and_ignore_incomplete_ones() {
    let dir = tempfile::tempdir().unwrap();
    let run = RunDir::create(dir.path(), &config()).unwrap();
    for step in [10, 20, 30, 40] {
        let w = vec![("w".to_string(), Tensor::from_slice(&[step as f32; 4]))];
        run.save_checkpoint(&CheckpointState::new(step, 1, step), &w, 2).unwrap();
    }
    let mut steps = run.checkpoint_steps().unwrap();
    steps.sort_unstable();
    assert_eq!(steps, vec![30, 40]);
    // Weights of a newer step without its state (crash between the two writes) are not used.
    std::fs::write(run.checkpoint_dir().join("step-50.safetensors"), b"garbage").unwrap();
    let (state, path) = run.latest_checkpoint().unwrap().expect("a checkpoint");
    assert_eq!(state.step, 40);
    let t = Tensor::read_safetensors(&path).unwrap();
    assert_eq!(t[0].1.double_value(&[0]), 40.0);
    // A corrupt state file falls back to the previous checkpoint.
    std::fs::write(run.checkpoint_dir().join("step-40.json"), b"{\"step\": 4").unwrap();
    assert_eq!(run.latest_checkpoint().unwrap().expect("fallback").0.step, 30);
    let best = run.save_best(&state, &[("w".to_string(), Tensor::from_slice(&[1f32]))]).unwrap();
    assert!(best.ends_with("best.safetensors") && best.exists());
}
