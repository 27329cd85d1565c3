//! The Train tab's worker: follows a run's `metrics.jsonl` and forwards system samples.

use std::path::PathBuf;
use std::time::Duration;

use crate::monitor::{Collector, CollectorConfig};
use crate::train::RunWatcher;
use crate::tui::event::{report, EventSender, WorkerEvent};

/// How often the run's metrics file is re-read.
const POLL: Duration = Duration::from_millis(500);

/// Starts the system collector and, with `run_dir`, the metrics follower. Ends with the app.
pub fn spawn(tx: EventSender, run_dir: Option<PathBuf>) {
    let spawned = std::thread::Builder::new().name("train-watch".into()).spawn(move || {
        let samples = match Collector::spawn(CollectorConfig::default()) {
            Ok((collector, rx)) => Some((collector, rx)),
            Err(e) => {
                report(&tx, WorkerEvent::MetricsFailed(format!("system metrics: {e}")));
                None
            }
        };
        let mut watcher = run_dir.as_deref().map(RunWatcher::new);
        let ticker = crossbeam_channel::tick(POLL);
        let never = crossbeam_channel::never();
        loop {
            let sample_rx = samples.as_ref().map_or(&never, |(_, rx)| rx);
            crossbeam_channel::select! {
                recv(sample_rx) -> s => if let Ok(s) = s {
                    if tx.send(crate::tui::event::Event::Worker(WorkerEvent::System(s))).is_err() {
                        return;
                    }
                },
                recv(ticker) -> _ => if let Some(w) = &mut watcher {
                    let ev = match w.poll() {
                        Ok(fresh) if fresh.is_empty() => continue,
                        Ok(fresh) => WorkerEvent::Metrics(fresh),
                        Err(e) => WorkerEvent::MetricsFailed(e.to_string()),
                    };
                    if tx.send(crate::tui::event::Event::Worker(ev)).is_err() {
                        return;
                    }
                },
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!("cannot start the training watcher: {e}");
    }
}
