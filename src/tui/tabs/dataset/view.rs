//! The Dataset tab's keys and reports.

use ratatui::layout::Rect;
use ratatui::Frame;

use super::DatasetTab;
use crate::tui::effect::{Effect, TextPopup};
use crate::tui::engine::EngineEvent;
use crate::tui::event::WorkerEvent;
use crate::tui::keymap::{Action, Context};
use crate::tui::playback::PlayRequest;
use crate::tui::status::Focus;
use crate::tui::status::Level;
use crate::tui::tabs::TabView;
use crate::tui::theme::Theme;

/// Rows a page key moves.
const PAGE: isize = 10;

impl TabView for DatasetTab {
    fn context(&self) -> Context {
        Context::Dataset
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, focus: Focus) {
        self.render(frame, area, theme, focus == Focus::FilterBox);
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        use Action as A;
        let audio = |r| vec![Effect::Audio(r)];
        if self.filter.edit(action) {
            self.refilter();
            return Vec::new();
        }
        match action {
            A::Up => self.move_selection(-1),
            A::Down => self.move_selection(1),
            A::PageUp => self.move_selection(-PAGE),
            A::PageDown => self.move_selection(PAGE),
            A::Top => self.move_selection(isize::MIN / 2),
            A::Bottom => self.move_selection(isize::MAX / 2),
            A::NextSource => self.switch_source(true),
            A::PrevSource => self.switch_source(false),
            A::Play => return self.open_selected(),
            A::Stop => return audio(PlayRequest::Stop),
            A::VolumeUp => return audio(PlayRequest::Volume(0.1)),
            A::VolumeDown => return audio(PlayRequest::Volume(-0.1)),
            A::SeekBack => return audio(PlayRequest::SeekBy(-5.0)),
            A::SeekForward => return audio(PlayRequest::SeekBy(5.0)),
            A::CopyPath => return vec![Effect::CopyPath(self.selected_item().and_then(|i| i.path.clone()))],
            A::ExportM3u => {
                let name = self.current().map_or("library".to_string(), |s| s.name.clone());
                let clips = self
                    .visible_clips()
                    .into_iter()
                    .map(|(path, secs, title)| (path.to_path_buf(), secs, title.to_string()))
                    .collect();
                return vec![Effect::ExportM3u { name, clips }];
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_text(&mut self, text: &str) -> Vec<Effect> {
        self.filter.insert(&text.replace('\n', " "));
        self.refilter();
        Vec::new()
    }

    fn on_event(&mut self, event: &WorkerEvent) -> Vec<Effect> {
        match event {
            WorkerEvent::LibraryListed { .. }
            | WorkerEvent::ClipProbed { .. }
            | WorkerEvent::ProbeDone { .. } => self.on_scan(event),
            WorkerEvent::Engine(EngineEvent::SoundsLike(heard)) => self.sounds_like = Some(heard.clone()),
            _ => {}
        }
        Vec::new()
    }
}

impl DatasetTab {
    /// Enter: plays a clip, or shows a text item whole.
    fn open_selected(&self) -> Vec<Effect> {
        let Some(item) = self.selected_item() else {
            return vec![Effect::Status(Level::Warning, "nothing selected".into())];
        };
        if let Some(text) = &item.text {
            vec![Effect::Popup(TextPopup { title: item.title.clone(), text: text.clone(), scroll: 0 })]
        } else if let Some(path) = item.path.clone() {
            vec![Effect::Play { path, start_s: 0.0, label: item.title.clone() }]
        } else {
            Vec::new()
        }
    }
}
