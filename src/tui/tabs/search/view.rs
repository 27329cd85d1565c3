//! The Search tab's keys and reports.

use ratatui::layout::Rect;
use ratatui::Frame;

use super::SearchTab;
use crate::tui::effect::{play, status, Effect};
use crate::tui::event::WorkerEvent;
use crate::tui::keymap::{Action, Context};
use crate::tui::playback::PlayRequest;
use crate::tui::status::{Focus, Level};
use crate::tui::tabs::TabView;
use crate::tui::theme::Theme;

impl TabView for SearchTab {
    fn context(&self) -> Context {
        Context::Search
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, focus: Focus) {
        self.render(frame, area, theme, focus == Focus::SearchBox);
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Submit => match self.submit() {
                Ok(request) => vec![Effect::Search(request)],
                Err((level, text)) => vec![Effect::Status(level, text)],
            },
            Action::Newline => {
                self.input.insert("\n");
                Vec::new()
            }
            Action::HistoryPrev => {
                self.input.history_prev();
                Vec::new()
            }
            Action::HistoryNext => {
                self.input.history_next();
                Vec::new()
            }
            _ if self.input.edit(action) => Vec::new(),
            Action::Play => play(self.selected_preview()),
            Action::Stop => vec![Effect::Audio(PlayRequest::Stop)],
            Action::CopyPath => vec![Effect::CopyPath(self.selected_clip())],
            Action::ToggleSoundtrack => {
                let (request, text) = self.toggle_mode();
                let mut effects: Vec<Effect> = request.into_iter().map(Effect::Search).collect();
                effects.push(Effect::Status(Level::Info, text));
                effects
            }
            _ => status(self.apply(action)),
        }
    }

    fn on_event(&mut self, event: &WorkerEvent) -> Vec<Effect> {
        match event {
            WorkerEvent::Engine(ev) => status(self.on_engine(ev.clone())),
            _ => Vec::new(),
        }
    }

    fn on_text(&mut self, text: &str) -> Vec<Effect> {
        self.input.insert(&text.replace("\r\n", "\n").replace('\r', "\n"));
        Vec::new()
    }

    fn tick(&mut self) -> bool {
        SearchTab::tick(self)
    }
}
