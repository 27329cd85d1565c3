//! Map tab: the emotion space as a braille scatter of clips, mood anchors and the query.

use std::path::PathBuf;

use ratatui::layout::Rect;
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use super::StatusMsg;
use crate::config::Dirs;
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;

#[derive(Debug)]
pub struct MapTab {
    pub index_dir: PathBuf,
}

impl MapTab {
    pub fn new(dirs: &Dirs) -> Self {
        Self { index_dir: dirs.indexes() }
    }

    pub fn apply(&mut self, _action: Action) -> StatusMsg {
        None
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::bordered().title(" Emotion space ").title_style(theme.title());
        let text = format!(
            "No embeddings to map yet (no index in {}).\n\nThe map shows the clips of an index: run \
             `storyscore index --model MODEL_DIR LIBRARY…` first.",
            self.index_dir.display()
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }).block(block), area);
    }
}
