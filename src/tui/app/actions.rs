//! Carrying out what tabs ask for ([`Effect`]s): the player, the clipboard, M3U export, the
//! UMAP worker, and the Train tab's run form and run. Split from `app.rs`, which keeps event
//! routing and state.

use std::path::PathBuf;

use super::{App, Focus, Level};
use crate::tui::clipboard;
use crate::tui::effect::Effect;
use crate::tui::playback::PlayRequest;
use crate::tui::tabs::train::form::{Recent, RunForm};
use crate::tui::tabs::train::run::{check_dataset, default_datasets, recent_path, TrainRun};

impl App {
    pub(super) fn run_effects(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            self.run_effect(effect);
        }
    }

    fn run_effect(&mut self, effect: Effect) {
        match effect {
            Effect::Status(level, text) => self.set_status(level, text),
            Effect::Play { path, start_s, label } => {
                let from = if start_s > 0.0 {
                    format!(" from {}", crate::index::clock(start_s))
                } else {
                    String::new()
                };
                self.set_status(Level::Info, format!("loading {label}{from}…"));
                self.audio.send(PlayRequest::Play { path, start_s });
            }
            Effect::Audio(request) => self.audio.send(request),
            Effect::CopyPath(path) => self.copy_path(path),
            Effect::Popup(popup) => self.popup = Some(popup),
            Effect::ExportM3u { name, clips } => {
                let out = std::env::current_dir().unwrap_or_default().join(format!("storyscore-{name}.m3u"));
                let rows: Vec<_> = clips.iter().map(|(p, s, t)| (p.as_path(), *s, t.as_str())).collect();
                match clipboard::write_m3u(&out, &rows) {
                    Ok(n) => self.set_status(Level::Info, format!("wrote {n} clips to {}", out.display())),
                    Err(e) => self.set_status(Level::Error, e.to_string()),
                }
            }
            Effect::Search(request) => match &self.engine {
                Some(engine) => {
                    engine.send(request);
                    // Enter now plays the top result; `/` returns to the box.
                    self.focus = Focus::Normal;
                    self.status = None;
                }
                None => self.set_status(Level::Warning, "the search engine is not running"),
            },
            Effect::Umap(data) => crate::tui::workers::spawn_umap(self.tx.clone(), data),
            Effect::OpenRunForm => self.open_run_form(),
            Effect::CheckDatasets(specs) => {
                for (modality, spec) in specs {
                    check_dataset(self.tx.clone(), modality, spec);
                }
            }
            Effect::StartRun(settings) => self.start_run(settings),
            Effect::CloseForm => self.focus = Focus::Normal,
            Effect::PauseRun => match &mut self.run {
                Some(run) => run.toggle_pause(),
                None => self.set_status(Level::Warning, "no run started here (n starts one)"),
            },
            Effect::StopRun => match &mut self.run {
                Some(run) => {
                    run.stop();
                    self.set_status(Level::Info, "stopping after the current step");
                }
                None => self.set_status(Level::Warning, "no run started here (n starts one)"),
            },
            Effect::AttachRuns => self.attach_runs(),
        }
    }

    fn copy_path(&mut self, path: Option<PathBuf>) {
        match path {
            Some(p) => {
                clipboard::copy_osc52(&p.display().to_string());
                self.set_status(Level::Info, format!("copied {}", p.display()));
            }
            None => self.set_status(Level::Warning, "no clip selected"),
        }
    }

    fn open_run_form(&mut self) {
        if self.monitor_only {
            return self.set_status(Level::Warning, "the monitor follows a run another process writes");
        }
        if let Some(run) = &self.run {
            if !self.train.finished() {
                let msg = format!("a run is going on in {} (x stops it)", run.run_dir.display());
                return self.set_status(Level::Warning, msg);
            }
        }
        let recent = Recent::load(&recent_path(&self.dirs));
        let mut form = RunForm::new(default_datasets(), tch::Cuda::is_available(), recent);
        form.cuda = form.cuda_available && self.config.tch_device() != tch::Device::Cpu;
        let specs = form.unchecked();
        self.train.form = Some(form);
        self.focus = Focus::RunForm;
        self.run_effect(Effect::CheckDatasets(specs));
    }

    /// Starts the run the form describes; the form says why when it cannot.
    fn start_run(&mut self, settings: crate::tui::tabs::train::run::RunSettings) {
        match TrainRun::start(self.tx.clone(), &self.dirs, &settings, &self.config.alerts) {
            Ok(run) => {
                if let Some(form) = &mut self.train.form {
                    form.recent.remember(&settings.text, &settings.music, &recent_path(&self.dirs));
                }
                self.focus = Focus::Normal;
                self.train.attach(run.run_dir.clone());
                let what = format!("{} space, {} steps", settings.space, settings.steps);
                self.set_status(Level::Info, format!("training ({what}) in {}", run.run_dir.display()));
                self.run = Some(run);
            }
            Err(why) => {
                if let Some(form) = &mut self.train.form {
                    form.error = Some(why);
                }
            }
        }
    }

    /// `a`: follows the newest run directories under DATA/runs not followed yet.
    fn attach_runs(&mut self) {
        let root = self.dirs.data.join("runs");
        let fresh = crate::tui::tabs::train::unfollowed_runs(&root, &self.train, ATTACH_AT_ONCE);
        if fresh.is_empty() {
            let msg = format!("no other run directories in {}", root.display());
            return self.set_status(Level::Info, msg);
        }
        for dir in &fresh {
            self.train.follow_more(dir.clone());
            let _ = self.follow.send(dir.clone());
        }
        let names: Vec<String> = fresh.iter().map(|d| crate::tui::tabs::train::run_name(d)).collect();
        self.set_status(Level::Info, format!("following {}", names.join(", ")));
    }
}

/// Runs `a` attaches at once (the overlaid charts stay readable).
const ATTACH_AT_ONCE: usize = 4;
