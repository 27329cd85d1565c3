//! Train tab: a run's live loss per branch, validation P@5/MRR, throughput and ETA, and the
//! machine's CPU/RAM/GPU, following a run directory another process writes.

mod draw;
pub mod form;
pub mod run;
mod view;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::monitor::SystemSample;
use crate::train::alerts::Alert;
use crate::train::run_status::Observed;
use crate::train::{MetricsRecord, TrainEvent};

#[derive(Debug, Default)]
pub struct TrainTab {
    pub run_dir: Option<PathBuf>,
    pub records: Vec<MetricsRecord>,
    pub system: Option<SystemSample>,
    pub error: Option<String>,
    /// Planned epochs, from the run's config.toml (for the ETA).
    pub epochs: Option<u64>,
    /// State of a run started here (`n`): running, paused, finished, and its latest note.
    pub run_state: Option<String>,
    /// Steps planned for the run started here (for the ETA).
    pub total_steps: Option<u64>,
    /// The run form, while it is open.
    pub form: Option<form::RunForm>,
    /// The run's alerts, oldest first (the last `ALERTS_KEPT`).
    pub alerts: Vec<Alert>,
    /// The followed run's state, from its status file.
    pub observed: Option<Observed>,
    /// System samples of the last `history_minutes`, oldest first (`system` is the newest).
    pub samples: std::collections::VecDeque<SystemSample>,
    /// How much of `samples` to keep, in ms (0: the default ten minutes).
    pub history_ms: u64,
    /// The focused run's training process (its status file's), marked in the GPU process list.
    pub run_pid: Option<u32>,
    /// Other runs followed beside the focused one (`storyscore monitor A B`, `a`): listed, and
    /// their loss and P@5 overlaid.
    pub others: Vec<OtherRun>,
    /// The charts' view of `records`.
    series: RunSeries,
    /// Loss and validation against time (the system charts' axis) instead of the step (`t`).
    pub time_axis: bool,
}

/// A followed run beside the focused one.
#[derive(Debug, Default)]
pub struct OtherRun {
    pub dir: PathBuf,
    pub records: Vec<MetricsRecord>,
    pub observed: Option<Observed>,
    pub message: Option<String>,
    series: RunSeries,
}

/// What the charts draw of a run's records, kept as records arrive so a frame does not walk a
/// long run's history (100k steps) again.
#[derive(Debug, Default)]
struct RunSeries {
    /// `total` and each branch's loss.
    loss: BTreeMap<String, Curve>,
    p_at_5: Curve,
    mrr: Curve,
    /// The validation with the highest P@5.
    best: Option<MetricsRecord>,
}

/// One line of a chart: values against the step, and when each was recorded.
#[derive(Debug, Default)]
struct Curve {
    by_step: Vec<(f64, f64)>,
    at_ms: Vec<u64>,
}

impl Curve {
    fn push(&mut self, r: &MetricsRecord, y: f64) {
        self.by_step.push((r.step as f64, y));
        self.at_ms.push(r.unix_ms);
    }

    fn is_empty(&self) -> bool {
        self.by_step.is_empty()
    }

    /// The points against the step, or against seconds before `now_ms` (the time axis the
    /// system charts share).
    fn points(&self, now_ms: Option<u64>) -> std::borrow::Cow<'_, [(f64, f64)]> {
        match now_ms {
            None => std::borrow::Cow::Borrowed(&self.by_step),
            Some(now) => std::borrow::Cow::Owned(
                self.at_ms
                    .iter()
                    .zip(&self.by_step)
                    .map(|(&ms, &(_, y))| (-((now.saturating_sub(ms)) as f64) / 1000.0, y))
                    .collect(),
            ),
        }
    }
}

impl RunSeries {
    fn push(&mut self, r: &MetricsRecord) {
        let mut add = |name: &str, y: f64| match self.loss.get_mut(name) {
            Some(curve) => curve.push(r, y),
            None => {
                let mut curve = Curve::default();
                curve.push(r, y);
                self.loss.insert(name.to_string(), curve);
            }
        };
        if let Some(l) = r.loss {
            add("total", l);
        }
        for (branch, l) in &r.branch_losses {
            add(branch, *l);
        }
        if let Some(p) = r.p_at_5 {
            self.p_at_5.push(r, p);
            if self.best.as_ref().is_none_or(|b| p > b.p_at_5.unwrap_or(f64::MIN)) {
                self.best = Some(r.clone());
            }
        }
        if let Some(m) = r.mrr {
            self.mrr.push(r, m);
        }
    }
}

/// Appends `fresh` to a run's records and series; a shrunk file (a resumed run cut redone
/// steps) is re-read from its start, so the steps it repeats are dropped and the series rebuilt.
fn add_records(records: &mut Vec<MetricsRecord>, series: &mut RunSeries, fresh: Vec<MetricsRecord>) {
    if let Some(first) = fresh.first() {
        let before = records.len();
        records.retain(|r| r.step < first.step);
        if records.len() != before {
            *series = RunSeries::default();
            records.iter().for_each(|r| series.push(r));
        }
    }
    fresh.iter().for_each(|r| series.push(r));
    records.extend(fresh);
}

/// The last folder name of a run directory, for lists and legends.
pub fn run_name(dir: &std::path::Path) -> String {
    dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Up to `n` run directories under `root` (those holding `metrics.jsonl`), newest first, that
/// `tab` does not follow yet.
pub fn unfollowed_runs(root: &std::path::Path, tab: &TrainTab, n: usize) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else { return Vec::new() };
    let mut runs: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|d| !tab.follows(d))
        .filter_map(|d| {
            let modified = std::fs::metadata(d.join(crate::train::METRICS_FILE)).ok()?.modified().ok()?;
            Some((modified, d))
        })
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.0));
    runs.into_iter().take(n).map(|(_, d)| d).collect()
}

/// Alerts kept for the tab.
const ALERTS_KEPT: usize = 50;

impl TrainTab {
    pub fn new(run_dir: Option<PathBuf>) -> Self {
        let epochs = run_dir.as_ref().and_then(|d| {
            let text = std::fs::read_to_string(d.join(crate::train::CONFIG_FILE)).ok()?;
            toml::from_str::<toml::Table>(&text).ok()?.get("epochs")?.as_integer().map(|e| e as u64)
        });
        Self { run_dir, epochs, ..Self::default() }
    }

    pub fn tick(&mut self) -> bool {
        false
    }

    pub fn on_metrics(&mut self, fresh: Vec<MetricsRecord>) {
        add_records(&mut self.records, &mut self.series, fresh);
        self.error = None;
    }

    /// Shows a run started from the app, from its first step.
    pub fn attach(&mut self, run_dir: PathBuf) {
        *self = Self {
            run_dir: Some(run_dir),
            system: self.system.take(),
            samples: std::mem::take(&mut self.samples),
            history_ms: self.history_ms,
            others: std::mem::take(&mut self.others),
            time_axis: self.time_axis,
            run_state: Some("starting…".into()),
            ..Self::default()
        };
    }

    /// The run started here has ended (finished, stopped or failed).
    pub fn finished(&self) -> bool {
        self.error.is_some() || self.run_state.as_deref().is_some_and(|s| s.starts_with("finished"))
    }

    /// Follows a run started from this tab: its events become the same records the charts draw.
    pub fn on_training(&mut self, ev: TrainEvent) {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let epoch = self.records.last().map_or(0, |r| r.epoch);
        let record = |step, epoch| MetricsRecord {
            step,
            epoch,
            loss: None,
            branch_losses: BTreeMap::new(),
            lr: None,
            samples_per_s: None,
            step_s: None,
            p_at_5: None,
            mrr: None,
            unix_ms: now_ms,
        };
        match ev {
            TrainEvent::Started { step, total_steps, resumed } => {
                self.total_steps = Some(total_steps);
                let verb = if resumed { "resumed" } else { "running" };
                self.run_state = Some(format!("{verb}: step {step} of {total_steps}"));
            }
            TrainEvent::Note(note) => self.run_state = Some(note),
            TrainEvent::Step { step, epoch, loss, branch_losses, lr, samples_per_s } => {
                let r = MetricsRecord {
                    loss: Some(loss),
                    branch_losses,
                    lr: Some(lr),
                    samples_per_s: Some(samples_per_s),
                    ..record(step, epoch)
                };
                self.series.push(&r);
                self.records.push(r);
                self.run_state = Some(format!("running: step {step}"));
            }
            TrainEvent::Eval { step, epoch, p_at_5, mrr, .. } => {
                let r = MetricsRecord { p_at_5: Some(p_at_5), mrr: Some(mrr), ..record(step, epoch) };
                self.series.push(&r);
                self.records.push(r);
            }
            TrainEvent::Checkpoint { step, path } => {
                self.run_state = Some(format!("checkpoint at step {step}: {}", path.display()))
            }
            TrainEvent::Paused => self.run_state = Some("paused (p resumes)".into()),
            TrainEvent::Resumed => self.run_state = Some("running".into()),
            TrainEvent::Finished { step } => {
                self.run_state = Some(format!("finished at step {step} (epoch {epoch})"))
            }
            TrainEvent::Error(e) => {
                self.run_state = Some("stopped by an error".into());
                self.error = Some(e);
            }
            TrainEvent::Alert(a) => self.on_alerts(vec![a]),
        }
    }

    /// Whether `dir` is the focused run or one of the others.
    pub fn follows(&self, dir: &std::path::Path) -> bool {
        self.run_dir.as_deref() == Some(dir) || self.others.iter().any(|o| o.dir == dir)
    }

    /// Follows `dir` beside the focused run (or as it, when there is none).
    pub fn follow_more(&mut self, dir: PathBuf) {
        if self.run_dir.is_none() && self.records.is_empty() {
            self.run_dir = Some(dir);
        } else if !self.follows(&dir) {
            self.others.push(OtherRun { dir, ..OtherRun::default() });
        }
    }

    fn other(&mut self, dir: &std::path::Path) -> &mut OtherRun {
        match self.others.iter().position(|o| o.dir == dir) {
            Some(i) => &mut self.others[i],
            None => {
                self.others.push(OtherRun { dir: dir.to_path_buf(), ..OtherRun::default() });
                self.others.last_mut().expect("just pushed")
            }
        }
    }

    /// New records of a followed run.
    pub fn on_run_metrics(&mut self, dir: &std::path::Path, fresh: Vec<MetricsRecord>) {
        if self.run_dir.as_deref() == Some(dir) {
            return self.on_metrics(fresh);
        }
        let other = self.other(dir);
        add_records(&mut other.records, &mut other.series, fresh);
    }

    /// Alerts of a followed run; another run's are named.
    pub fn on_run_alerts(&mut self, dir: &std::path::Path, alerts: Vec<Alert>) {
        if self.run_dir.as_deref() == Some(dir) {
            return self.on_alerts(alerts);
        }
        let name = run_name(dir);
        self.on_alerts(
            alerts.into_iter().map(|a| Alert { message: format!("{name}: {}", a.message), ..a }).collect(),
        );
    }

    /// A followed run's state changed.
    pub fn on_followed_state(&mut self, dir: &std::path::Path, observed: Observed, message: Option<String>) {
        if self.run_dir.as_deref() == Some(dir) {
            return self.on_run_state(observed, message);
        }
        let other = self.other(dir);
        other.observed = Some(observed);
        other.message = message;
    }

    /// A system sample: the newest is shown as text, the window as charts.
    pub fn on_sample(&mut self, sample: SystemSample) {
        let window = if self.history_ms > 0 { self.history_ms } else { 600_000 };
        let oldest = sample.unix_ms.saturating_sub(window);
        while self.samples.front().is_some_and(|s| s.unix_ms < oldest) {
            self.samples.pop_front();
        }
        self.samples.push_back(sample.clone());
        self.system = Some(sample);
    }

    pub fn on_alerts(&mut self, alerts: Vec<Alert>) {
        self.alerts.extend(alerts);
        let extra = self.alerts.len().saturating_sub(ALERTS_KEPT);
        self.alerts.drain(..extra);
    }

    /// The followed run's state changed (running, paused, finished, crashed, …).
    pub fn on_run_state(&mut self, observed: Observed, message: Option<String>) {
        self.observed = Some(observed);
        if observed == Observed::Unknown {
            return; // a run written before status files: nothing to say
        }
        self.run_state = Some(match message {
            Some(m) => format!("{}: {m}", observed.name()),
            None => observed.name().to_string(),
        });
    }
}
