//! `storyscore import FILE.ckpt --out DIR` end to end on the reference checkpoint.
use crate::common;

use std::process::Command;

use storyscore::model::{EmotionModel, Space};

#[test]
fn import_writes_a_loadable_model_directory() {
    let Some(ckpt) = common::shared("reference/lightning_ckpt/tiny_cross.ckpt") else { return };
    if common::minilm_dir().is_none() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("tiny");
    let run = Command::new(env!("CARGO_BIN_EXE_storyscore"))
        .args(["import", ckpt.to_str().unwrap(), "--out", dir.to_str().unwrap(), "--heads", "4"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let model = EmotionModel::load(&dir, tch::Device::Cpu).unwrap();
    assert_eq!(model.space(), Space::ThreeBranch);
    assert!(String::from_utf8_lossy(&run.stdout).contains(model.id()));
    let toml = std::fs::read_to_string(dir.join("model.toml")).unwrap();
    assert!(toml.contains("fine_tuned = true") && toml.contains("tag_dim = 300"), "{toml}");
}

#[test]
fn import_of_a_missing_or_corrupt_file_fails_with_one_line() {
    let out = tempfile::tempdir().unwrap();
    let bad = out.path().join("broken.ckpt");
    std::fs::write(&bad, b"PK\x03\x04 not really").unwrap();
    for file in [bad, out.path().join("missing.ckpt")] {
        let run = Command::new(env!("CARGO_BIN_EXE_storyscore"))
            .args(["import", file.to_str().unwrap(), "--out", out.path().join("m").to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(stderr.contains(file.file_name().unwrap().to_str().unwrap()), "{stderr}");
        assert!(!out.path().join("m").exists());
    }
}
