//! One module per tab: its state, what its actions do, and its draw function.

pub mod dataset;
pub mod map;
pub mod map_draw;
pub mod map_labels;
pub mod run_form;
pub mod search;
pub mod train;
pub mod train_run;

use crate::tui::app::Level;

/// A line for the status bar, returned by tab actions.
pub type StatusMsg = Option<(Level, String)>;
