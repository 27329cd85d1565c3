//! The run directory: config, split, metrics log, checkpoints and the best weights.
//!
//! ```text
//! RUN/config.toml                      the full TrainConfig
//! RUN/splits.json                      {"text": {id: split}, "music": {id: split}}
//! RUN/metrics.jsonl                    see metrics_log
//! RUN/checkpoints/step-<n>.safetensors model weights after step n
//! RUN/checkpoints/step-<n>.json        CheckpointState; written last, so it marks a complete checkpoint
//! RUN/best.safetensors + best.json     weights with the best validation P@5
//! ```
//! Resume restores weights, step, epoch and position in the epoch, and the best score. tch's
//! `nn::Optimizer` cannot export Adam's moment estimates, so they restart from zero on resume.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::{Naming, RunError, TrainConfig};
use crate::config::write_atomic;
use crate::data::{split_map, Dataset, Split};

pub const CONFIG_FILE: &str = "config.toml";
pub const SPLITS_FILE: &str = "splits.json";
pub const METRICS_FILE: &str = "metrics.jsonl";
pub const BEST_WEIGHTS: &str = "best.safetensors";

/// What a checkpoint records besides the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Optimiser steps done.
    pub step: u64,
    /// Epoch the next step belongs to.
    pub epoch: u64,
    /// Batches of `epoch` already done.
    pub batch_in_epoch: u64,
    pub best_p_at_5: Option<f64>,
    pub best_step: Option<u64>,
    /// What resuming from this checkpoint cannot restore.
    pub not_restored: String,
}

impl CheckpointState {
    pub fn new(step: u64, epoch: u64, batch_in_epoch: u64) -> Self {
        Self {
            step,
            epoch,
            batch_in_epoch,
            best_p_at_5: None,
            best_step: None,
            not_restored: "Adam moment estimates (tch cannot export them); they restart at zero".into(),
        }
    }
}

/// Item ids of each split, for both modalities.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunSplits {
    pub text: BTreeMap<String, Split>,
    pub music: BTreeMap<String, Split>,
}

/// A training run's directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// Starts a new run: checks the config, creates the folder and writes `config.toml`. Refuses a
    /// folder that already holds a run (resume it with [`RunDir::open`] instead).
    pub fn create(root: &Path, config: &TrainConfig) -> Result<Self, RunError> {
        let run = Self { root: root.into() };
        if run.config_path().exists() {
            return Err(RunError::Exists(root.into()));
        }
        config.check(Naming::Keys).map_err(|source| RunError::Config { path: run.config_path(), source })?;
        std::fs::create_dir_all(run.checkpoint_dir()).map_err(|e| RunError::io(root, e))?;
        let text = config.to_toml().map_err(|e| RunError::format(&run.config_path(), e))?;
        write_atomic(&run.config_path(), text.as_bytes()).map_err(|e| RunError::io(&run.config_path(), e))?;
        Ok(run)
    }

    /// Opens an existing run and reads its config, which may have been edited by hand: it is
    /// checked before anything is written.
    pub fn open(root: &Path) -> Result<(Self, TrainConfig), RunError> {
        let run = Self { root: root.into() };
        let path = run.config_path();
        let text = std::fs::read_to_string(&path).map_err(|e| RunError::io(&path, e))?;
        let config: TrainConfig = toml::from_str(&text).map_err(|e| RunError::format(&path, e))?;
        config.check(Naming::Keys).map_err(|source| RunError::Config { path, source })?;
        std::fs::create_dir_all(run.checkpoint_dir()).map_err(|e| RunError::io(root, e))?;
        Ok((run, config))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    pub fn metrics_path(&self) -> PathBuf {
        self.root.join(METRICS_FILE)
    }

    pub fn splits_path(&self) -> PathBuf {
        self.root.join(SPLITS_FILE)
    }

    pub fn checkpoint_dir(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    pub fn best_path(&self) -> PathBuf {
        self.root.join(BEST_WEIGHTS)
    }

    /// Cache folder for per-run derived data (text encoder outputs).
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    pub fn write_splits(&self, text: &Dataset, music: &Dataset) -> Result<(), RunError> {
        let splits = RunSplits { text: split_map(text), music: split_map(music) };
        let path = self.splits_path();
        let json = serde_json::to_string_pretty(&splits).map_err(|e| RunError::format(&path, e))?;
        write_atomic(&path, json.as_bytes()).map_err(|e| RunError::io(&path, e))
    }

    pub fn read_splits(&self) -> Result<RunSplits, RunError> {
        read_splits(&self.splits_path())
    }

    fn checkpoint_paths(&self, step: u64) -> (PathBuf, PathBuf) {
        let dir = self.checkpoint_dir();
        (dir.join(format!("step-{step}.safetensors")), dir.join(format!("step-{step}.json")))
    }

    /// Writes weights then state (both atomically) and keeps only the newest `keep` checkpoints.
    pub fn save_checkpoint(
        &self,
        state: &CheckpointState,
        weights: &[(String, Tensor)],
        keep: usize,
    ) -> Result<PathBuf, RunError> {
        let (weights_path, state_path) = self.checkpoint_paths(state.step);
        crate::model::weights::write_safetensors(&weights_path, weights).map_err(RunError::from)?;
        write_state(&state_path, state)?;
        let mut steps = self.checkpoint_steps()?;
        steps.sort_unstable();
        let excess = steps.len().saturating_sub(keep.max(1));
        for old in &steps[..excess] {
            let (w, s) = self.checkpoint_paths(*old);
            // State first: a checkpoint without its state is ignored, never half-used.
            let _ = std::fs::remove_file(s);
            let _ = std::fs::remove_file(w);
        }
        Ok(weights_path)
    }

    /// Steps of the complete checkpoints on disk.
    pub fn checkpoint_steps(&self) -> Result<Vec<u64>, RunError> {
        let dir = self.checkpoint_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(RunError::io(&dir, e)),
        };
        let mut steps = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(step) = name.strip_prefix("step-").and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            let Ok(step) = step.parse::<u64>() else { continue };
            if self.checkpoint_paths(step).0.exists() {
                steps.push(step);
            }
        }
        Ok(steps)
    }

    /// The newest complete, readable checkpoint: its state and weights path.
    pub fn latest_checkpoint(&self) -> Result<Option<(CheckpointState, PathBuf)>, RunError> {
        let mut steps = self.checkpoint_steps()?;
        steps.sort_unstable_by(|a, b| b.cmp(a));
        for step in steps {
            let (weights, state) = self.checkpoint_paths(step);
            if let Ok(state) = read_state(&state) {
                return Ok(Some((state, weights)));
            }
        }
        Ok(None)
    }

    /// Writes `best.safetensors` and `best.json`.
    pub fn save_best(
        &self,
        state: &CheckpointState,
        weights: &[(String, Tensor)],
    ) -> Result<PathBuf, RunError> {
        let path = self.best_path();
        crate::model::weights::write_safetensors(&path, weights).map_err(RunError::from)?;
        write_state(&self.root.join("best.json"), state)?;
        Ok(path)
    }
}

/// Reads a run's `splits.json`.
pub fn read_splits(path: &Path) -> Result<RunSplits, RunError> {
    let text = std::fs::read_to_string(path).map_err(|e| RunError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| RunError::format(path, e))
}

fn write_state(path: &Path, state: &CheckpointState) -> Result<(), RunError> {
    let json = serde_json::to_string_pretty(state).map_err(|e| RunError::format(path, e))?;
    write_atomic(path, json.as_bytes()).map_err(|e| RunError::io(path, e))
}

fn read_state(path: &Path) -> Result<CheckpointState, RunError> {
    let text = std::fs::read_to_string(path).map_err(|e| RunError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| RunError::format(path, e))
}
