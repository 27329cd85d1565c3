//! What tab actions do: the Dataset table and player, the Search and Map tabs' keys, the Train
//! tab's run form and run control. Split from `app.rs`, which keeps event dispatch and state.

use std::path::PathBuf;

use super::{App, Focus, Level, Tab, TextPopup};
use crate::tui::clipboard;
use crate::tui::keymap::Action;
use crate::tui::playback::PlayRequest;
use crate::tui::tabs::train::form::{Recent, RunForm};
use crate::tui::tabs::train::run::{check_dataset, default_datasets, recent_path, TrainRun};

impl App {
    /// Actions of the current tab (after the global ones were handled).
    pub(super) fn tab_action(&mut self, action: Action) {
        use Action as A;
        match self.tab {
            Tab::Dataset => self.dataset_action(action),
            Tab::Train => self.train_action(action),
            Tab::Search => match action {
                A::Play => self.play_preview(self.search.selected_preview()),
                A::Stop => self.audio.send(PlayRequest::Stop),
                A::CopyPath => self.copy_path(self.search.selected_clip()),
                _ => {
                    if let Some(msg) = self.search.apply(action) {
                        self.set_status(msg.0, msg.1);
                    }
                }
            },
            Tab::Map if action == A::CycleProjection => {
                let (job, msg) = self.map.cycle_projection();
                if let Some(data) = job {
                    crate::tui::workers::spawn_umap(self.tx.clone(), data);
                }
                if let Some(msg) = msg {
                    self.set_status(msg.0, msg.1);
                }
            }
            Tab::Map => {
                let msg = self.map.apply(action);
                if action == A::Play {
                    self.play_path(self.map.selected_path());
                } else if action == A::Stop {
                    self.audio.send(PlayRequest::Stop);
                }
                if let Some(msg) = msg {
                    self.set_status(msg.0, msg.1);
                }
            }
        }
    }

    fn dataset_action(&mut self, action: Action) {
        use Action as A;
        let page = 10;
        match action {
            A::Up => self.dataset.move_selection(-1),
            A::Down => self.dataset.move_selection(1),
            A::PageUp => self.dataset.move_selection(-page),
            A::PageDown => self.dataset.move_selection(page),
            A::Top => self.dataset.move_selection(isize::MIN / 2),
            A::Bottom => self.dataset.move_selection(isize::MAX / 2),
            A::NextSource => self.dataset.switch_source(true),
            A::PrevSource => self.dataset.switch_source(false),
            A::Play => self.play_selected(),
            A::Stop => self.audio.send(PlayRequest::Stop),
            A::VolumeUp => self.audio.send(PlayRequest::Volume(0.1)),
            A::VolumeDown => self.audio.send(PlayRequest::Volume(-0.1)),
            A::SeekBack => self.audio.send(PlayRequest::SeekBy(-5.0)),
            A::SeekForward => self.audio.send(PlayRequest::SeekBy(5.0)),
            A::CopyPath => self.copy_path(self.dataset.selected_item().and_then(|i| i.path.clone())),
            A::ExportM3u => {
                let name = self.dataset.current().map_or("library".to_string(), |s| s.name.clone());
                let out = std::env::current_dir().unwrap_or_default().join(format!("storyscore-{name}.m3u"));
                match clipboard::write_m3u(&out, &self.dataset.visible_clips()) {
                    Ok(n) => self.set_status(Level::Info, format!("wrote {n} clips to {}", out.display())),
                    Err(e) => self.set_status(Level::Error, e.to_string()),
                }
            }
            _ => {}
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

    /// Plays a clip from its start.
    fn play_path(&mut self, path: Option<PathBuf>) {
        self.play_preview(path.map(|p| (p, 0.0)));
    }

    /// Plays a clip from `start_s` (a search result's best-fitting chunk).
    fn play_preview(&mut self, clip: Option<(PathBuf, f64)>) {
        match clip {
            Some((path, start_s)) => {
                let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                let from = if start_s > 0.0 {
                    format!(" from {}", crate::index::clock(start_s))
                } else {
                    String::new()
                };
                self.set_status(Level::Info, format!("loading {name}{from}…"));
                self.audio.send(PlayRequest::Play { path, start_s });
            }
            None => self.set_status(Level::Warning, "no clip selected"),
        }
    }

    fn play_selected(&mut self) {
        let Some(item) = self.dataset.selected_item() else {
            return self.set_status(Level::Warning, "nothing selected");
        };
        if let Some(text) = &item.text {
            self.popup = Some(TextPopup { title: item.title.clone(), text: text.clone(), scroll: 0 });
        } else if let Some(path) = item.path.clone() {
            self.set_status(Level::Info, format!("loading {}…", item.title));
            self.audio.send(PlayRequest::Play { path, start_s: 0.0 });
        }
    }

    fn train_action(&mut self, action: Action) {
        match (action, &mut self.run) {
            (Action::AttachRuns, _) => self.attach_runs(),
            (Action::TimeAxis, _) => self.train.time_axis = !self.train.time_axis,
            (Action::StartRun, _) if self.monitor_only => {
                self.set_status(Level::Warning, "the monitor follows a run another process writes")
            }
            (Action::StartRun, Some(run)) if !self.train.finished() => {
                let msg = format!("a run is going on in {} (x stops it)", run.run_dir.display());
                self.set_status(Level::Warning, msg)
            }
            (Action::StartRun, _) => {
                let recent = Recent::load(&recent_path(&self.dirs));
                let mut form = RunForm::new(default_datasets(), tch::Cuda::is_available(), recent);
                form.cuda = form.cuda_available && self.config.tch_device() != tch::Device::Cpu;
                self.train.form = Some(form);
                self.focus = Focus::RunForm;
                self.check_form();
            }
            (Action::PauseRun, Some(run)) => run.toggle_pause(),
            (Action::StopRun, Some(run)) => {
                run.stop();
                self.set_status(Level::Info, "stopping after the current step");
            }
            (Action::PauseRun | Action::StopRun, None) => {
                self.set_status(Level::Warning, "no run started here (n starts one)")
            }
            _ => {}
        }
    }

    /// Keys of the open run form; Enter starts the run it describes.
    pub(super) fn form_action(&mut self, action: Action) {
        let Some(form) = &mut self.train.form else {
            self.focus = Focus::Normal;
            return;
        };
        match action {
            Action::Quit => self.quit = true,
            Action::Suspend => self.suspend = true,
            Action::Down => form.move_field(true),
            Action::Up => form.move_field(false),
            Action::NextChoice => form.cycle(true),
            Action::PrevChoice => form.cycle(false),
            Action::HistoryPrev => {
                form.recall(true);
                self.check_form();
            }
            Action::HistoryNext => {
                form.recall(false);
                self.check_form();
            }
            Action::LeaveInput => {
                self.train.form = None;
                self.focus = Focus::Normal;
            }
            Action::DeleteBack => {
                form.backspace();
                self.check_form();
            }
            Action::DeleteForward => {
                form.delete();
                self.check_form();
            }
            Action::Submit => match form.settings() {
                Err(why) => form.error = Some(why),
                Ok(settings) => {
                    match TrainRun::start(self.tx.clone(), &self.dirs, &settings, &self.config.alerts) {
                        Ok(run) => {
                            form.recent.remember(&settings.text, &settings.music, &recent_path(&self.dirs));
                            self.focus = Focus::Normal;
                            self.train.attach(run.run_dir.clone());
                            let what = format!("{} space, {} steps", settings.space, settings.steps);
                            self.set_status(
                                Level::Info,
                                format!("training ({what}) in {}", run.run_dir.display()),
                            );
                            self.run = Some(run);
                        }
                        Err(why) => form.error = Some(why),
                    }
                }
            },
            _ => {}
        }
    }

    /// Starts background reads of the run form's dataset fields that are not checked yet.
    pub(super) fn check_form(&mut self) {
        if let Some(form) = &mut self.train.form {
            for (modality, spec) in form.unchecked() {
                check_dataset(self.tx.clone(), modality, spec);
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
