//! Search tab: a multi-line story box with history, and the ranked clips for it.

use std::path::PathBuf;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use super::StatusMsg;
use crate::config::Dirs;
use crate::tui::app::Level;
use crate::tui::keymap::Action;
use crate::tui::textbox::TextBox;
use crate::tui::theme::Theme;

/// What the tab can search with.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexState {
    /// No index folder under the data dir's `indexes/`.
    Missing { looked_in: PathBuf },
}

#[derive(Debug)]
pub struct SearchTab {
    pub input: TextBox,
    /// Whole-story mode: one clip per passage instead of one ranking.
    pub soundtrack: bool,
    pub index: IndexState,
}

impl SearchTab {
    pub fn new(dirs: &Dirs) -> Self {
        Self {
            input: TextBox::default(),
            soundtrack: false,
            index: IndexState::Missing { looked_in: dirs.indexes() },
        }
    }

    pub fn tick(&mut self) -> bool {
        false
    }

    pub fn submit(&mut self) -> StatusMsg {
        let text = self.input.commit();
        if text.is_empty() {
            return Some((Level::Warning, "type a sentence or a story first".into()));
        }
        match &self.index {
            IndexState::Missing { .. } => Some((Level::Warning, missing_hint())),
        }
    }

    pub fn apply(&mut self, action: Action) -> StatusMsg {
        match action {
            Action::ToggleSoundtrack => {
                self.soundtrack = !self.soundtrack;
                let mode = if self.soundtrack { "soundtrack (one clip per passage)" } else { "query" };
                Some((Level::Info, format!("search mode: {mode}")))
            }
            _ => None,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let [input_area, results_area] =
            Layout::vertical([Constraint::Length(6), Constraint::Min(3)]).areas(area);
        let mode = if self.soundtrack { "story → soundtrack" } else { "story" };
        let border = if focused { theme.accent() } else { theme.muted() };
        let block =
            Block::bordered().title(format!(" {mode} ")).title_style(theme.title()).border_style(border);
        self.input.draw(frame, input_area, block, focused);
        let block = Block::bordered().title(" Results ").title_style(theme.title());
        let text = match &self.index {
            IndexState::Missing { looked_in } => {
                format!("No index yet (looked in {}).\n\n{}", looked_in.display(), missing_hint())
            }
        };
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }).block(block), results_area);
    }
}

fn missing_hint() -> String {
    "no index yet: run `storyscore index --model MODEL_DIR LIBRARY…` (a trained run directory from \
     `storyscore train`) to embed the library, then search here"
        .into()
}
