//! The Map tab's keys and reports.

use ratatui::layout::Rect;
use ratatui::Frame;

use super::MapTab;
use crate::tui::effect::{play, status, Effect};
use crate::tui::engine::EngineEvent;
use crate::tui::event::WorkerEvent;
use crate::tui::keymap::{Action, Context};
use crate::tui::playback::PlayRequest;
use crate::tui::status::Focus;
use crate::tui::tabs::TabView;
use crate::tui::theme::Theme;

impl TabView for MapTab {
    fn context(&self) -> Context {
        Context::Map
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, _focus: Focus) {
        self.render(frame, area, theme);
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::CycleProjection {
            let (job, msg) = self.cycle_projection();
            let mut effects: Vec<Effect> = job.map(Effect::Umap).into_iter().collect();
            effects.extend(status(msg));
            return effects;
        }
        let msg = self.apply(action);
        let mut effects = match action {
            Action::Play => play(self.selected_path().map(|p| (p, 0.0))),
            Action::Stop => vec![Effect::Audio(PlayRequest::Stop)],
            _ => Vec::new(),
        };
        // The clip's description replaces the "loading" line.
        effects.extend(status(msg));
        effects
    }

    fn on_event(&mut self, event: &WorkerEvent) -> Vec<Effect> {
        match event {
            WorkerEvent::Engine(EngineEvent::Projected(data)) => {
                self.set_data(data.clone());
                return self.umap_job().map(Effect::Umap).into_iter().collect();
            }
            WorkerEvent::Engine(EngineEvent::Results(hits)) => {
                self.query = hits.query_point;
                self.query_vector = Some(hits.query_vector.clone());
                self.results = hits.rows.clone();
            }
            WorkerEvent::Engine(EngineEvent::Unavailable(why)) => self.waiting = why.clone(),
            WorkerEvent::Umap { data, result } => return status(self.set_umap(data, result.clone())),
            _ => {}
        }
        Vec::new()
    }
}
