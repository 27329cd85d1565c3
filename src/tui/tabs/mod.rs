//! One folder per tab: its state, what its actions do, and its draw function.

pub mod dataset;
pub mod map;
pub mod search;
pub mod train;

pub use crate::tui::status::StatusMsg;
