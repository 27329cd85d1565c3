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
        .with_writer(std::sync::Mutex::new(QuietFile(file)))
        .with_ansi(false)
        .try_init();
}

/// The log file. A write that fails (a full disk, a file-size limit) is dropped rather than
/// reported on the terminal for every event: the log is a help, not the work.
struct QuietFile(std::fs::File);

impl std::io::Write for QuietFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = self.0.write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = self.0.flush();
        Ok(())
    }
}

/// While alive, file descriptor 2 points at the log file; the original stderr comes back on drop
/// and before a panic message is printed. Used while the terminal app owns the screen.
pub struct StderrToLog {
    saved: libc::c_int,
}

impl StderrToLog {
    /// Redirects stderr to `log`; returns `None` (stderr unchanged) if the log cannot be opened.
    pub fn capture(log: &Path) -> Option<Self> {
        use std::os::fd::AsRawFd;
        let file = std::fs::OpenOptions::new().create(true).append(true).open(log).ok()?;
        // SAFETY: dup/dup2 on valid descriptors; `file` stays open until after dup2 duplicated it.
        let saved = unsafe { libc::dup(2) };
        if saved < 0 || unsafe { libc::dup2(file.as_raw_fd(), 2) } < 0 {
            return None;
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // SAFETY: restoring the saved descriptor; harmless if already restored.
            unsafe { libc::dup2(saved, 2) };
            previous(info);
        }));
        Some(Self { saved })
    }
}

impl Drop for StderrToLog {
    fn drop(&mut self) {
        // SAFETY: `saved` is a descriptor we own from dup(2).
        unsafe {
            libc::dup2(self.saved, 2);
            libc::close(self.saved);
        }
    }
}
