//! Train tab: a training run's live loss, validation metrics and system load.

use std::path::PathBuf;

use ratatui::layout::Rect;
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use super::StatusMsg;
use crate::tui::app::Level;
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;

#[derive(Debug)]
pub struct TrainTab {
    pub run_dir: Option<PathBuf>,
}

impl TrainTab {
    pub fn new(run_dir: Option<PathBuf>) -> Self {
        Self { run_dir }
    }

    pub fn tick(&mut self) -> bool {
        false
    }

    pub fn apply(&mut self, action: Action) -> StatusMsg {
        match action {
            Action::StartRun | Action::PauseRun | Action::StopRun => Some((Level::Warning, hint())),
            _ => None,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::bordered().title(" Training ").title_style(theme.title());
        let text = format!("No training run attached.\n\n{}", hint());
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }).block(block), area);
    }
}

fn hint() -> String {
    "train headless with `storyscore train --space three-branch --text KIND:PATH --music KIND:PATH \
     --run-dir DIR`, then follow it with `storyscore monitor DIR`"
        .into()
}
