//! The Train tab's worker: follows run directories (metrics, alerts, state; more can be added
//! while it runs) and forwards system samples.

use std::path::PathBuf;
use std::time::Duration;

use crossbeam_channel::Sender;

use crate::config::AlertConfig;
use crate::monitor::{Collector, CollectorConfig};
use crate::train::follow::RunFollower;
use crate::tui::event::{report, Event, EventSender, WorkerEvent};

/// How often the runs' files are re-read.
const POLL: Duration = Duration::from_millis(500);

/// Starts the system collector and the followers of `runs`. Send a run directory on the returned
/// channel to follow it too. Ends with the app.
pub fn spawn(tx: EventSender, runs: Vec<PathBuf>, alerts: AlertConfig) -> Sender<PathBuf> {
    let (follow_tx, follow_rx) = crossbeam_channel::unbounded::<PathBuf>();
    let spawned = std::thread::Builder::new().name("train-watch".into()).spawn(move || {
        let samples = match Collector::spawn(CollectorConfig::default()) {
            Ok((collector, rx)) => Some((collector, rx)),
            Err(e) => {
                report(&tx, WorkerEvent::MetricsFailed(format!("system metrics: {e}")));
                None
            }
        };
        let mut followers: Vec<RunFollower> = runs.iter().map(|d| RunFollower::new(d, alerts.clone())).collect();
        let ticker = crossbeam_channel::tick(POLL);
        let never = crossbeam_channel::never();
        loop {
            let sample_rx = samples.as_ref().map_or(&never, |(_, rx)| rx);
            crossbeam_channel::select! {
                recv(follow_rx) -> dir => if let Ok(dir) = dir {
                    if followers.iter().all(|f| f.dir() != dir) {
                        followers.push(RunFollower::new(&dir, alerts.clone()));
                    }
                },
                recv(sample_rx) -> s => if let Ok(s) = s {
                    if tx.send(Event::Worker(WorkerEvent::System(s))).is_err() {
                        return;
                    }
                },
                recv(ticker) -> _ => for f in &mut followers {
                    let run = f.dir().to_path_buf();
                    let update = match f.poll() {
                        Ok(update) => update,
                        Err(e) => {
                            report(&tx, WorkerEvent::MetricsFailed(e.to_string()));
                            continue;
                        }
                    };
                    if let Some((state, status)) = update.state {
                        let pid = status.as_ref().map(|s| s.pid);
                        let message = status.and_then(|s| s.message);
                        report(&tx, WorkerEvent::RunState { run: run.clone(), state, message, pid });
                    }
                    if !update.alerts.is_empty() {
                        report(&tx, WorkerEvent::Alerts { run: run.clone(), alerts: update.alerts });
                    }
                    if !update.records.is_empty()
                        && tx.send(Event::Worker(WorkerEvent::Metrics { run, records: update.records })).is_err()
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
    follow_tx
}
