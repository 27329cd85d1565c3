//! The Train tab's keys (its own, and the run form's while it is open) and reports.

use ratatui::layout::Rect;
use ratatui::Frame;

use super::TrainTab;
use crate::tui::effect::Effect;
use crate::tui::event::WorkerEvent;
use crate::tui::keymap::{Action, Context};
use crate::tui::status::Focus;
use crate::tui::status::Level;
use crate::tui::tabs::TabView;
use crate::tui::theme::Theme;

impl TabView for TrainTab {
    fn context(&self) -> Context {
        Context::Train
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, _focus: Focus) {
        self.render(frame, area, theme);
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        if self.form.is_some() {
            return self.form_action(action);
        }
        match action {
            Action::AttachRuns => vec![Effect::AttachRuns],
            Action::TimeAxis => {
                self.time_axis = !self.time_axis;
                Vec::new()
            }
            Action::StartRun => vec![Effect::OpenRunForm],
            Action::PauseRun => vec![Effect::PauseRun],
            Action::StopRun => vec![Effect::StopRun],
            _ => Vec::new(),
        }
    }

    fn on_event(&mut self, event: &WorkerEvent) -> Vec<Effect> {
        match event {
            WorkerEvent::Metrics { run, records } => self.on_run_metrics(run, records.clone()),
            WorkerEvent::MetricsFailed(why) => self.error = Some(why.clone()),
            WorkerEvent::System(sample) => self.on_sample(sample.clone()),
            WorkerEvent::Training(ev) => {
                self.on_training(ev.clone());
                if let crate::train::TrainEvent::Alert(a) = ev {
                    return vec![alert_status(a)];
                }
            }
            WorkerEvent::Alerts { run, alerts } => {
                self.on_run_alerts(run, alerts.clone());
                return alerts.last().map(alert_status).into_iter().collect();
            }
            WorkerEvent::RunState { run, state, message, pid } => {
                if self.run_dir.as_deref() == Some(run.as_path()) {
                    self.run_pid = *pid;
                }
                self.on_followed_state(run, *state, message.clone())
            }
            WorkerEvent::DatasetChecked { spec, result } => {
                if let Some(form) = &mut self.form {
                    form.on_checked(spec.clone(), result.clone());
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_text(&mut self, text: &str) -> Vec<Effect> {
        match &mut self.form {
            Some(form) => {
                form.insert(text);
                vec![Effect::CheckDatasets(form.unchecked())]
            }
            None => Vec::new(),
        }
    }

    fn tick(&mut self) -> bool {
        TrainTab::tick(self)
    }
}

impl TrainTab {
    /// Keys of the open run form; Enter asks for the run it describes.
    fn form_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(form) = &mut self.form else { return Vec::new() };
        match action {
            Action::Down => form.move_field(true),
            Action::Up => form.move_field(false),
            Action::NextChoice => form.cycle(true),
            Action::PrevChoice => form.cycle(false),
            Action::HistoryPrev => form.recall(true),
            Action::HistoryNext => form.recall(false),
            Action::DeleteBack => form.backspace(),
            Action::DeleteForward => form.delete(),
            Action::LeaveInput => {
                self.form = None;
                return vec![Effect::CloseForm];
            }
            Action::Submit => {
                return match form.settings() {
                    Err(why) => {
                        form.error = Some(why);
                        Vec::new()
                    }
                    Ok(settings) => vec![Effect::StartRun(settings)],
                }
            }
            _ => return Vec::new(),
        }
        vec![Effect::CheckDatasets(form.unchecked())]
    }
}

/// A training alert as the one-line status every tab shows.
fn alert_status(alert: &crate::train::alerts::Alert) -> Effect {
    let level = match alert.level {
        crate::train::alerts::Level::Error => Level::Error,
        crate::train::alerts::Level::Warning => Level::Warning,
    };
    Effect::Status(level, format!("training: {}", alert.message))
}
