//! A small multi-line text box: typed text, paste, cursor movement, and a query history.

use ratatui::layout::{Position, Rect};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

#[derive(Debug, Default, Clone)]
pub struct TextBox {
    pub text: String,
    /// Byte offset of the cursor in `text` (always on a char boundary).
    cursor: usize,
    history: Vec<String>,
    /// Position while browsing history (`None` = editing a fresh entry).
    browsing: Option<usize>,
}

impl TextBox {
    /// Applies a cursor or delete action of the key map; whether it was one.
    pub fn edit(&mut self, action: crate::tui::keymap::Action) -> bool {
        use crate::tui::keymap::Action as A;
        match action {
            A::DeleteBack => self.backspace(),
            A::DeleteForward => self.delete(),
            A::CursorLeft => self.left(),
            A::CursorRight => self.right(),
            A::LineStart => self.home(),
            A::LineEnd => self.end(),
            A::DeleteToStart => self.delete_to_line_start(),
            _ => return false,
        }
        true
    }

    pub fn insert(&mut self, s: &str) {
        let clean: String = s.chars().filter(|c| *c == '\n' || !c.is_control()).collect();
        self.text.insert_str(self.cursor, &clean);
        self.cursor += clean.len();
    }

    pub fn backspace(&mut self) {
        if let Some((i, _)) = self.text[..self.cursor].char_indices().next_back() {
            self.text.remove(i);
            self.cursor = i;
        }
    }

    pub fn delete(&mut self) {
        if self.cursor < self.text.len() {
            self.text.remove(self.cursor);
        }
    }

    pub fn left(&mut self) {
        if let Some((i, _)) = self.text[..self.cursor].char_indices().next_back() {
            self.cursor = i;
        }
    }

    pub fn right(&mut self) {
        if let Some(c) = self.text[self.cursor..].chars().next() {
            self.cursor += c.len_utf8();
        }
    }

    pub fn home(&mut self) {
        self.cursor = self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1);
    }

    pub fn end(&mut self) {
        self.cursor += self.text[self.cursor..].find('\n').unwrap_or(self.text.len() - self.cursor);
    }

    /// Deletes from the start of the cursor's line to the cursor (readline's ctrl-u).
    pub fn delete_to_line_start(&mut self) {
        let start = self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1);
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
    }

    /// Remembers the current text (if new) and returns it.
    pub fn commit(&mut self) -> String {
        let text = self.text.trim().to_string();
        if !text.is_empty() && self.history.last() != Some(&text) {
            self.history.push(text.clone());
        }
        self.browsing = None;
        text
    }

    pub fn history_prev(&mut self) {
        let next = match self.browsing {
            None => self.history.len().checked_sub(1),
            Some(i) => Some(i.saturating_sub(1)),
        };
        if let Some(i) = next {
            self.browsing = Some(i);
            self.set(self.history[i].clone());
        }
    }

    pub fn history_next(&mut self) {
        match self.browsing {
            Some(i) if i + 1 < self.history.len() => {
                self.browsing = Some(i + 1);
                self.set(self.history[i + 1].clone());
            }
            Some(_) => {
                self.browsing = None;
                self.clear();
            }
            None => {}
        }
    }

    fn set(&mut self, text: String) {
        self.cursor = text.len();
        self.text = text;
    }

    /// Draws the box; with `focused`, places the terminal cursor at the edit point.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, block: Block, focused: bool) {
        let inner = block.inner(area);
        frame.render_widget(Paragraph::new(self.text.as_str()).block(block).wrap(Wrap { trim: false }), area);
        if focused && inner.width > 0 && inner.height > 0 {
            // Cursor position by counting wrapped columns up to the cursor.
            let (mut x, mut y) = (0u16, 0u16);
            for c in self.text[..self.cursor].chars() {
                if c == '\n' || x + 1 >= inner.width {
                    y += 1;
                    x = 0;
                    if c == '\n' {
                        continue;
                    }
                }
                x += 1;
            }
            let y = y.min(inner.height - 1);
            frame.set_cursor_position(Position::new(inner.x + x.min(inner.width - 1), inner.y + y));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_respect_char_boundaries_and_history_round_trips() {
        let mut t = TextBox::default();
        t.insert("héllo\x1b");
        t.backspace();
        t.left();
        t.insert("é");
        assert_eq!(t.text, "hélél");
        t.delete();
        t.home();
        t.insert("> ");
        assert_eq!(t.text, "> hélé");
        assert_eq!(t.commit(), "> hélé");
        t.clear();
        t.insert("second");
        t.commit();
        t.clear();
        t.history_prev();
        assert_eq!(t.text, "second");
        t.history_prev();
        assert!(t.text.starts_with("> h"));
        t.history_next();
        t.history_next();
        assert_eq!(t.text, "");
    }

    #[test]
    fn ctrl_u_deletes_to_the_start_of_the_cursor_line_only() {
        let mut t = TextBox::default();
        t.insert("first line\nsecond é line");
        t.left();
        t.left();
        t.delete_to_line_start();
        assert_eq!(t.text, "first line\nne");
        t.insert("X");
        assert_eq!(t.text, "first line\nXne");
    }
}
