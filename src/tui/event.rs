//! Everything the UI thread reacts to arrives as one [`Event`] on one channel: terminal input,
//! ticks, termination signals, and typed reports from workers.

use std::path::PathBuf;

use crossbeam_channel::Sender;

#[derive(Debug)]
pub enum Event {
    Input(crossterm::event::Event),
    /// Periodic wake-up (refreshes the playback position and live metrics).
    Tick,
    /// SIGTERM, SIGHUP or SIGINT: leave cleanly.
    Terminate,
    Worker(WorkerEvent),
}

/// Reports from background workers. The UI never waits for any of them.
#[derive(Debug)]
pub enum WorkerEvent {
    /// A library folder was walked: its audio files, sorted.
    LibraryListed {
        source: usize,
        result: Result<Vec<PathBuf>, String>,
    },
    /// One clip's duration (or why it could not be read).
    ClipProbed {
        source: usize,
        item: usize,
        result: Result<f64, String>,
    },
    /// All clips of a source are probed.
    ProbeDone {
        source: usize,
    },
    /// The player's state changed (position, volume, stop).
    Playing(crate::tui::playback::NowPlaying),
    /// New records of a followed run's `metrics.jsonl` (the whole history on the first poll).
    Metrics {
        run: std::path::PathBuf,
        records: Vec<crate::train::MetricsRecord>,
    },
    MetricsFailed(String),
    /// Alerts about a followed run (its trainer's, a crash, this machine's GPU).
    Alerts {
        run: std::path::PathBuf,
        alerts: Vec<crate::train::alerts::Alert>,
    },
    /// A followed run's state changed, with its status message.
    RunState {
        run: std::path::PathBuf,
        state: crate::train::run_status::Observed,
        message: Option<String>,
        /// The training process, from the run's status file.
        pid: Option<u32>,
    },
    /// One CPU/RAM/GPU reading.
    System(crate::monitor::SystemSample),
    /// Playback is impossible or failed: no output device, undecodable clip, …
    PlaybackFailed(String),
    /// The search engine: indexing progress, readiness, results, the map's projection.
    Engine(crate::tui::engine::EngineEvent),
    /// The run form's background read of a `KIND:PATH`: what it holds, or why it cannot be read.
    DatasetChecked {
        spec: String,
        result: Result<String, String>,
    },
    /// A training run started from the Train tab.
    Training(crate::train::TrainEvent),
    /// The Map tab's UMAP layout of `data` (or why it failed).
    Umap {
        data: std::sync::Arc<crate::map::projection::MapData>,
        result: Result<std::sync::Arc<crate::map::umap::UmapLayout>, String>,
    },
}

/// Where workers send their reports.
pub type EventSender = Sender<Event>;

/// Sends a worker report; a closed channel means the app is shutting down, which is fine.
pub fn report(tx: &EventSender, ev: WorkerEvent) {
    let _ = tx.send(Event::Worker(ev));
}
