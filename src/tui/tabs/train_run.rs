//! A short training run started from the Train tab (`n`): the default config (three-branch space,
//! ISEAR text + 4Q music from the shared data), a run directory under the data dir, and the
//! trainer's events forwarded to the app so they feed the same charts as a followed run.

use std::path::PathBuf;

use crate::config::{Config, Dirs};
use crate::model::Space;
use crate::train::{TrainCommand, TrainConfig, TrainEvent, TrainRequest, Trainer};
use crate::tui::event::{report, EventSender, WorkerEvent};

/// Steps of a run started from the app: enough to see the curves move, short on a CPU.
pub const SHORT_RUN_STEPS: u64 = 60;

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
    /// Starts a short run in `<data>/runs/<unix seconds>`; events arrive as `WorkerEvent::Training`.
    pub fn start(tx: EventSender, dirs: &Dirs, config: &Config) -> Result<Self, String> {
        let (text, music) = default_datasets()?;
        let stamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let run_dir = dirs.data.join("runs").join(stamp.to_string());
        let mut train = TrainConfig::new(Space::ThreeBranch, &text, &music, dirs.minilm(), dirs.glove());
        train.max_steps = Some(SHORT_RUN_STEPS);
        train.eval_every = SHORT_RUN_STEPS / 3;
        train.checkpoint_every = SHORT_RUN_STEPS / 2;
        train.device = if config.tch_device() == tch::Device::Cpu { "cpu".into() } else { "cuda".into() };
        let request = TrainRequest { run_dir: run_dir.clone(), config: train, resume: false };
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
