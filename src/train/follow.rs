//! Following a run directory another process writes: its new metrics records, the alerts its
//! trainer logged, and its state (with `crashed` when its process is gone). The dashboard's
//! worker and `storyscore monitor --json` both follow runs through this.

use std::path::{Path, PathBuf};

use super::alerts::{read_alerts, Alert, AlertRules};
use super::run_status::{observe, Observed, RunStatus};
use super::{MetricsRecord, RunError, RunWatcher};
use crate::config::AlertConfig;

/// What changed since the last poll.
#[derive(Debug, Default)]
pub struct FollowUpdate {
    pub records: Vec<MetricsRecord>,
    pub alerts: Vec<Alert>,
    /// The run's state, when it changed (the first poll always reports it).
    pub state: Option<(Observed, Option<RunStatus>)>,
}

pub struct RunFollower {
    dir: PathBuf,
    metrics: RunWatcher,
    alerts_seen: usize,
    state: Option<Observed>,
    /// The follower's own rule: a crashed process (the trainer logs every other alert).
    rules: AlertRules,
}

impl RunFollower {
    pub fn new(dir: &Path, alerts: AlertConfig) -> Self {
        Self {
            dir: dir.into(),
            metrics: RunWatcher::new(dir),
            alerts_seen: 0,
            state: None,
            rules: AlertRules::new(alerts),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The state seen at the last poll.
    pub fn state(&self) -> Option<Observed> {
        self.state
    }

    /// Every record read so far.
    pub fn records(&self) -> &[MetricsRecord] {
        self.metrics.records()
    }

    pub fn poll(&mut self) -> Result<FollowUpdate, RunError> {
        let records = self.metrics.poll()?;
        let logged = read_alerts(&self.dir);
        if logged.len() < self.alerts_seen {
            self.alerts_seen = 0; // the file was replaced
        }
        let mut alerts: Vec<Alert> = logged.into_iter().skip(self.alerts_seen).collect();
        self.alerts_seen += alerts.len();
        let (observed, status) = observe(&self.dir);
        let changed = self.state != Some(observed);
        self.state = Some(observed);
        if observed == Observed::Crashed {
            let step = self.records().last().map(|r| r.step).or(status.as_ref().map(|s| s.step));
            alerts.extend(self.rules.on_crash(step, unix_ms()));
        }
        Ok(FollowUpdate { records, alerts, state: changed.then_some((observed, status)) })
    }
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
