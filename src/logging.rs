//! Logs go to a file in the cache dir, never to the terminal (the TUI owns it).

use std::path::Path;

use tracing_subscriber::EnvFilter;

/// Starts file logging at `path` (filter from `STORYSCORE_LOG`, default `info`).
/// Failing to open the log is not fatal: the program runs without a log.
pub fn init(path: &Path) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(file) = std::fs::OpenOptions::new().create(true).append(true).open(path) else { return };
    let filter = EnvFilter::try_from_env("STORYSCORE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
}
