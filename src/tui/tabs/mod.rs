//! One folder per tab, each implementing [`TabView`]: it owns its state, draws it, turns key-map
//! actions and worker reports into changes of that state, and hands back [`Effect`]s for
//! everything outside it. The app routes events to tabs and carries out the effects.

pub mod dataset;
pub mod map;
pub mod search;
pub mod train;

use ratatui::layout::Rect;
use ratatui::Frame;

use crate::tui::effect::Effect;
use crate::tui::event::WorkerEvent;
use crate::tui::keymap::{Action, Context};
use crate::tui::status::Focus;
pub use crate::tui::status::StatusMsg;
use crate::tui::theme::Theme;

/// The contract every tab keeps.
pub trait TabView {
    /// Which bindings of the key-map table apply while the tab is shown (the help popup and the
    /// command bar list them from the same table).
    fn context(&self) -> Context;
    /// Draws the tab; `&mut` because ratatui's table state keeps its scroll offset between
    /// frames. `focus` says whether one of the tab's text boxes has the keys.
    fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, focus: Focus);
    /// An action of the tab's context (the app handles the global ones).
    fn on_action(&mut self, action: Action) -> Vec<Effect>;
    /// A worker's report; tabs pick the ones they show.
    fn on_event(&mut self, event: &WorkerEvent) -> Vec<Effect>;
    /// Text typed or pasted into the tab's focused text box.
    fn on_text(&mut self, _text: &str) -> Vec<Effect> {
        Vec::new()
    }
    /// The periodic tick; whether the tab needs a redraw.
    fn tick(&mut self) -> bool {
        false
    }
}
