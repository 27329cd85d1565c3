//! A training run started from the Train tab's form (`n`): the form's settings over the paper's
//! defaults, a run directory under the data dir, and the trainer's events forwarded to the app so
//! they feed the same charts as a followed run.

use std::path::PathBuf;

use crate::config::Dirs;
use crate::train::{TrainCommand, TrainConfig, TrainEvent, TrainRequest, Trainer};
use crate::tui::event::{report, EventSender, WorkerEvent};

/// Validations per run started from the app (the P@5/MRR chart gets this many points).
const EVALS_PER_RUN: u64 = 5;

pub use crate::tui::effect::RunSettings;

impl RunSettings {
    /// The trainer's config: the form's choices, validation and checkpoints spread over the run.
    pub fn train_config(&self, dirs: &Dirs) -> TrainConfig {
        let mut train = TrainConfig::new(self.space, &self.text, &self.music, dirs.minilm(), dirs.glove());
        train.audio_trunk = self.trunk;
        train.learning_rate = self.learning_rate;
        train.max_steps = Some(self.steps);
        train.eval_every = (self.steps / EVALS_PER_RUN).max(1);
        train.checkpoint_every = (self.steps / 2).max(1);
        train.device = self.device.clone();
        train
    }
}

/// The datasets a run from the app trains on, as `KIND:PATH` (the `../shared/data` folder beside
/// the checkout, or `STORYSCORE_SHARED`), or what is missing.
pub fn default_datasets() -> Result<(String, String), String> {
    let root = std::env::var_os("STORYSCORE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let text = root.join("data/isear/isear.csv");
    let music = root.join("data/4q");
    let missing: Vec<String> =
        [&text, &music].iter().filter(|p| !p.exists()).map(|p| p.display().to_string()).collect();
    if !missing.is_empty() {
        return Err(format!(
            "cannot start a run: missing {} (set STORYSCORE_SHARED to the shared folder, or train with \
             `storyscore train --text KIND:PATH --music KIND:PATH --run-dir DIR`)",
            missing.join(" and ")
        ));
    }
    Ok((format!("isear:{}", text.display()), format!("4q:{}", music.display())))
}

/// A run in progress and whether it is paused.
pub struct TrainRun {
    trainer: Trainer,
    pub paused: bool,
    pub run_dir: PathBuf,
}

impl TrainRun {
    /// Starts a run in `<data>/runs/<unix seconds>`; events arrive as `WorkerEvent::Training`.
    pub fn start(
        tx: EventSender,
        dirs: &Dirs,
        settings: &RunSettings,
        alerts: &crate::config::AlertConfig,
    ) -> Result<Self, String> {
        let stamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let run_dir = dirs.data.join("runs").join(stamp.to_string());
        let request = TrainRequest {
            run_dir: run_dir.clone(),
            config: settings.train_config(dirs),
            resume: false,
            alerts: alerts.clone(),
        };
        let trainer = Trainer::spawn(request).map_err(|e| format!("cannot start the trainer: {e}"))?;
        let events = trainer.events().clone();
        std::thread::Builder::new()
            .name("train-events".into())
            .spawn(move || {
                for ev in events.iter() {
                    let last = matches!(ev, TrainEvent::Finished { .. } | TrainEvent::Error(_));
                    report(&tx, WorkerEvent::Training(ev));
                    if last {
                        return;
                    }
                }
            })
            .map_err(|e| format!("cannot start the training event thread: {e}"))?;
        Ok(Self { trainer, paused: false, run_dir })
    }

    pub fn toggle_pause(&mut self) {
        self.paused = !self.paused;
        self.trainer.send(if self.paused { TrainCommand::Pause } else { TrainCommand::Resume });
    }

    pub fn stop(&self) {
        self.trainer.send(TrainCommand::Stop);
    }
}

/// Reads a run form's `KIND:PATH` in the background (a large dataset takes a second); the result
/// arrives as [`WorkerEvent::DatasetChecked`]: how many items, or why it cannot be read.
pub fn check_dataset(tx: EventSender, modality: crate::data::Modality, spec: String) {
    let spawned = std::thread::Builder::new().name("dataset-check".into()).spawn(move || {
        let result = crate::data::load_joined(&spec, modality)
            .map(|(data, issues)| {
                let what = if modality == crate::data::Modality::Text { "texts" } else { "clips" };
                let skipped = match issues.len() {
                    0 => String::new(),
                    n => format!(", {n} rows skipped"),
                };
                format!("{} {what} ({}){skipped}", data.items.len(), data.kind)
            })
            .map_err(|e| e.to_string().lines().next().unwrap_or_default().to_string());
        report(&tx, WorkerEvent::DatasetChecked { spec, result });
    });
    if let Err(e) = spawned {
        tracing::error!("cannot start the dataset check: {e}");
    }
}

/// Where the app remembers the datasets of the runs it started.
pub fn recent_path(dirs: &Dirs) -> PathBuf {
    dirs.data.join("recent-datasets.json")
}
