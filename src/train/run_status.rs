//! `status.json` says what a run is doing (running, paused, finished, stopped, failed) and an
//! advisory lock on `.run.lock`, held by the training process for the whole run and released by
//! the OS however it ends, says whether that process is still alive. A run whose status says
//! running or paused but whose lock is free has crashed (killed, out of memory, machine reset).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::RunError;

pub const STATUS_FILE: &str = "status.json";
const LOCK_FILE: &str = ".run.lock";

/// What the training process last said it was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Running,
    Paused,
    /// Reached its last step.
    Finished,
    /// Stopped by the user before its last step (resume it).
    Stopped,
    /// Ended by an error (the message says which).
    Failed,
}

/// The content of `status.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStatus {
    pub state: RunState,
    pub pid: u32,
    pub step: u64,
    pub total_steps: u64,
    /// Milliseconds since the Unix epoch.
    pub updated_unix_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What a follower sees of a run: its state, with `Crashed` for a run whose process is gone
/// without saying it ended, and `Unknown` for a run written before status files existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Observed {
    Running,
    Paused,
    Finished,
    Stopped,
    Failed,
    Crashed,
    Unknown,
}

impl Observed {
    pub fn name(self) -> &'static str {
        match self {
            Observed::Running => "running",
            Observed::Paused => "paused",
            Observed::Finished => "finished",
            Observed::Stopped => "stopped",
            Observed::Failed => "failed",
            Observed::Crashed => "crashed",
            Observed::Unknown => "unknown",
        }
    }
}

pub fn read_status(run_dir: &Path) -> Option<RunStatus> {
    let text = std::fs::read_to_string(run_dir.join(STATUS_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn write_status(run_dir: &Path, status: &RunStatus) -> Result<(), RunError> {
    let path = run_dir.join(STATUS_FILE);
    let text = serde_json::to_string(status).map_err(|e| RunError::format(&path, e))?;
    crate::config::write_atomic(&path, text.as_bytes()).map_err(|e| RunError::io(&path, e))
}

/// The state of the run in `run_dir` as a follower sees it, with its status file when present.
pub fn observe(run_dir: &Path) -> (Observed, Option<RunStatus>) {
    let status = read_status(run_dir);
    let observed = match status.as_ref().map(|s| s.state) {
        None => Observed::Unknown,
        Some(RunState::Finished) => Observed::Finished,
        Some(RunState::Stopped) => Observed::Stopped,
        Some(RunState::Failed) => Observed::Failed,
        Some(RunState::Running | RunState::Paused) if !held(run_dir) => Observed::Crashed,
        Some(RunState::Running) => Observed::Running,
        Some(RunState::Paused) => Observed::Paused,
    };
    (observed, status)
}

/// Whether a training process holds the run's lock.
fn held(run_dir: &Path) -> bool {
    let Ok(file) = File::open(run_dir.join(LOCK_FILE)) else { return false };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(std::fs::TryLockError::WouldBlock) => true,
        Err(std::fs::TryLockError::Error(_)) => false,
    }
}

/// Held by the training process while it trains a run directory.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes the run's lock. Followers hold it shared for an instant, so a busy lock is tried
    /// again for two seconds before the run is reported as trained by another process.
    pub fn acquire(run_dir: &Path) -> Result<Self, RunError> {
        let path: PathBuf = run_dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| RunError::io(&path, e))?;
        for _ in 0..40 {
            match file.try_lock() {
                Ok(()) => return Ok(Self { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(50)),
                Err(std::fs::TryLockError::Error(e)) => return Err(RunError::io(&path, e)),
            }
        }
        let pid = read_status(run_dir).map(|s| format!(" (pid {})", s.pid)).unwrap_or_default();
        Err(RunError::Busy { dir: run_dir.into(), holder: format!("another storyscore process{pid}") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: RunState) -> RunStatus {
        RunStatus {
            state,
            pid: std::process::id(),
            step: 3,
            total_steps: 10,
            updated_unix_ms: 1,
            message: None,
        }
    }

    #[test]
    fn a_live_run_is_running_and_a_dead_one_crashed() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(observe(dir.path()).0, Observed::Unknown);
        write_status(dir.path(), &status(RunState::Running)).unwrap();
        assert_eq!(observe(dir.path()).0, Observed::Crashed, "no lock holder: crashed");
        let lock = RunLock::acquire(dir.path()).unwrap();
        assert_eq!(observe(dir.path()).0, Observed::Running);
        let second = RunLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(second.contains("another storyscore process (pid"), "{second}");
        write_status(dir.path(), &status(RunState::Paused)).unwrap();
        assert_eq!(observe(dir.path()).0, Observed::Paused);
        drop(lock);
        assert_eq!(observe(dir.path()).0, Observed::Crashed);
        write_status(dir.path(), &status(RunState::Finished)).unwrap();
        assert_eq!(observe(dir.path()).0, Observed::Finished);
    }
}
