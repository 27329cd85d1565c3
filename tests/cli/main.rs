//! The `storyscore` command line, run as a real process on real data.
//!
//! One test binary per level, not one per file: each binary links libtorch, and linking is most
//! of a fresh `cargo test`.

#[path = "../common/mod.rs"]
mod common;

mod data_cli;
mod eval_cli;
mod index_build;
mod model_import_cli;
mod search_cli;
mod search_soundtrack;
mod train_monitor;
mod train_run;
