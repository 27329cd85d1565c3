//! The terminal app: its state and screens in-process (ratatui's TestBackend), and the real binary inside tmux.
//!
//! One test binary per level, not one per file: each binary links libtorch, and linking is most
//! of a fresh `cargo test`.

#[path = "../common/mod.rs"]
mod common;

mod terminal_tmux;
mod tui_monitor;
mod tui_tabs;
mod tui_train;
