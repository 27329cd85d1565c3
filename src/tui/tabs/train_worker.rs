//! The Train tab's worker: follows a run directory (metrics, alerts, state) and forwards system
//! samples, with the GPU alerts they raise for the followed run.

use std::path::PathBuf;
use std::time::Duration;

use crate::monitor::{Collector, CollectorConfig};
use crate::config::AlertConfig;
use crate::train::follow::RunFollower;
use crate::tui::event::{report, EventSender, WorkerEvent};

/// How often the run's metrics file is re-read.
const POLL: Duration = Duration::from_millis(500);

/// Starts the system collector and, with `run_dir`, the metrics follower. Ends with the app.
pub fn spawn(tx: EventSender, run_dir: Option<PathBuf>, alerts: AlertConfig) {
    let spawned = std::thread::Builder::new().name("train-watch".into()).spawn(move || {
        let samples = match Collector::spawn(CollectorConfig::default()) {
            Ok((collector, rx)) => Some((collector, rx)),
            Err(e) => {
                report(&tx, WorkerEvent::MetricsFailed(format!("system metrics: {e}")));
                None
            }
        };
        let mut follower = run_dir.as_deref().map(|d| RunFollower::new(d, alerts));
        let ticker = crossbeam_channel::tick(POLL);
        let never = crossbeam_channel::never();
        loop {
            let sample_rx = samples.as_ref().map_or(&never, |(_, rx)| rx);
            crossbeam_channel::select! {
                recv(sample_rx) -> s => if let Ok(s) = s {
                    let alerts = follower.as_mut().map(|f| f.on_sample(&s)).unwrap_or_default();
                    if !alerts.is_empty() {
                        report(&tx, WorkerEvent::Alerts(alerts));
                    }
                    if tx.send(crate::tui::event::Event::Worker(WorkerEvent::System(s))).is_err() {
                        return;
                    }
                },
                recv(ticker) -> _ => if let Some(f) = &mut follower {
                    let update = match f.poll() {
                        Ok(update) => update,
                        Err(e) => {
                            report(&tx, WorkerEvent::MetricsFailed(e.to_string()));
                            continue;
                        }
                    };
                    if let Some((state, status)) = update.state {
                        report(&tx, WorkerEvent::RunState(state, status.and_then(|s| s.message)));
                    }
                    if !update.alerts.is_empty() {
                        report(&tx, WorkerEvent::Alerts(update.alerts));
                    }
                    if !update.records.is_empty()
                        && tx.send(crate::tui::event::Event::Worker(WorkerEvent::Metrics(update.records))).is_err()
                    {
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
