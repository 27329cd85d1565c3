//! Alerts about a training run, computed from its metrics records, the system samples and the
//! free disk space. The rules are a pure state machine: feed it what happened, in order, and it
//! returns the alerts that start now. Each alert fires once when its condition begins and again
//! only after the condition has cleared, and each says what to do.

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{MetricsRecord, RunError};
pub use crate::config::AlertConfig;
use crate::monitor::{GpuStatus, SystemSample};

pub const ALERTS_FILE: &str = "alerts.jsonl";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    NonFinite,
    Diverging,
    Plateau,
    SlowStep,
    GpuIdle,
    GpuMemory,
    DiskFull,
    Crashed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Warning,
    Error,
}

/// One alert: what happened and what to do, in one line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub level: Level,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u64>,
    pub unix_ms: u64,
    pub message: String,
}

/// Smoothing of the loss for the divergence rule (an exponential moving average).
const LOSS_EMA: f64 = 0.1;
/// Steps whose times make the median of the slow-step rule.
const STEP_WINDOW: usize = 200;

/// The rules' state.
#[derive(Debug, Clone, Default)]
pub struct AlertRules {
    config: AlertConfig,
    active: BTreeSet<AlertKind>,
    ema: Option<f64>,
    min_ema: f64,
    above_for: u64,
    best_p_at_5: Option<f64>,
    evals_since_best: u64,
    step_times: VecDeque<f64>,
    idle_since_ms: Option<u64>,
}

impl AlertRules {
    pub fn new(config: AlertConfig) -> Self {
        Self { config, ..Default::default() }
    }

    /// Sets `kind` active when `on` and reports it if it was not; clears it otherwise.
    fn edge(&mut self, kind: AlertKind, on: bool, make: impl FnOnce() -> Alert) -> Option<Alert> {
        if !on {
            self.active.remove(&kind);
            return None;
        }
        self.active.insert(kind).then(make)
    }

    /// A line of `metrics.jsonl` (a step, an evaluation, or both).
    pub fn on_record(&mut self, r: &MetricsRecord) -> Vec<Alert> {
        let mut out = Vec::new();
        let at = |kind, level, message: String| Alert {
            kind,
            level,
            step: Some(r.step),
            unix_ms: r.unix_ms,
            message,
        };
        if let Some(loss) = r.loss {
            // The trainer stops at these values (the same test as its own).
            let blown = !loss.is_finite() || loss > 1e6;
            out.extend(self.edge(AlertKind::NonFinite, blown, || {
                at(
                    AlertKind::NonFinite,
                    Level::Error,
                    format!("loss became {loss} at step {}: the run stops; lower the learning rate and resume from the last checkpoint", r.step),
                )
            }));
            if !blown {
                let ema = self.ema.map_or(loss, |e| e + LOSS_EMA * (loss - e));
                self.min_ema = if self.ema.is_none() { ema } else { self.min_ema.min(ema) };
                self.ema = Some(ema);
                let high = self.min_ema > 0.0 && ema > self.config.diverge_factor * self.min_ema;
                self.above_for = if high { self.above_for + 1 } else { 0 };
                let (factor, steps, min) = (ema / self.min_ema, self.config.diverge_steps, self.min_ema);
                out.extend(self.edge(AlertKind::Diverging, self.above_for >= steps.max(1), || {
                    at(
                        AlertKind::Diverging,
                        Level::Warning,
                        format!("loss diverging: {ema:.4} is {factor:.1}× its minimum {min:.4} for {steps} steps; lower the learning rate, or stop and resume from the best checkpoint"),
                    )
                }));
            }
        }
        if let Some(step_s) = r.step_s {
            let mut sorted: Vec<f64> = self.step_times.iter().copied().collect();
            sorted.sort_by(f64::total_cmp);
            let median = (sorted.len() >= 10).then(|| sorted[sorted.len() / 2]);
            let slow = median.is_some_and(|m| {
                step_s >= self.config.slow_step_factor * m && step_s >= self.config.slow_step_min_s
            });
            out.extend(self.edge(AlertKind::SlowStep, slow, || {
                at(
                    AlertKind::SlowStep,
                    Level::Warning,
                    format!("step {} took {step_s:.1} s against a median of {:.2} s: a stalled loader, a slow disk or swapping; check RAM and the data folder's disk", r.step, median.unwrap_or(0.0)),
                )
            }));
            self.step_times.push_back(step_s);
            if self.step_times.len() > STEP_WINDOW {
                self.step_times.pop_front();
            }
        }
        if let Some(p) = r.p_at_5 {
            if self.best_p_at_5.is_none_or(|b| p > b) {
                self.best_p_at_5 = Some(p);
                self.evals_since_best = 0;
            } else {
                self.evals_since_best += 1;
            }
            let (k, best) = (self.config.plateau_evals, self.best_p_at_5.unwrap_or(p));
            out.extend(self.edge(AlertKind::Plateau, k > 0 && self.evals_since_best >= k, || {
                at(
                    AlertKind::Plateau,
                    Level::Warning,
                    format!("validation P@5 has not beaten its best ({best:.3}) for {k} evaluations: best.safetensors holds the best; stop the run, or lower the learning rate and resume"),
                )
            }));
        }
        out
    }

    /// A system sample; `training` is whether the run is taking steps (not paused, not ended).
    pub fn on_sample(&mut self, s: &SystemSample, training: bool) -> Vec<Alert> {
        self.on_gpu(&s.gpu, s.unix_ms, training)
    }

    /// A GPU reading at `unix_ms` (the trainer samples the GPUs itself while it trains).
    pub fn on_gpu(&mut self, gpu: &GpuStatus, unix_ms: u64, training: bool) -> Vec<Alert> {
        let mut out = Vec::new();
        let GpuStatus::Devices(gpus) = gpu else { return out };
        let busiest = gpus.iter().map(|g| g.utilization_pct as f64).fold(0.0, f64::max);
        let idle = training && !gpus.is_empty() && busiest < self.config.gpu_idle_pct;
        self.idle_since_ms = if idle { self.idle_since_ms.or(Some(unix_ms)) } else { None };
        let idle_s = self.idle_since_ms.map_or(0.0, |t| unix_ms.saturating_sub(t) as f64 / 1000.0);
        let at = |kind, message: String| Alert { kind, level: Level::Warning, step: None, unix_ms, message };
        let (idle_pct, idle_for) = (self.config.gpu_idle_pct, self.config.gpu_idle_s);
        out.extend(self.edge(AlertKind::GpuIdle, idle && idle_s >= idle_for, || {
            at(
                AlertKind::GpuIdle,
                format!("GPU idle (under {idle_pct:.0} %) for {idle_s:.0} s while training: the loader is the bottleneck or the run is on the CPU; check --device and the threads setting"),
            )
        }));
        let full = gpus.iter().find(|g| {
            g.memory_total_bytes > 0
                && g.memory_used_bytes as f64
                    >= self.config.gpu_memory_pct / 100.0 * g.memory_total_bytes as f64
        });
        let message = full.map(|g| {
            format!(
                "GPU {} memory at {:.0} % ({:.1} of {:.1} GB): close to out-of-memory; lower --batch-size or stop other processes on the card",
                g.index,
                100.0 * g.memory_used_bytes as f64 / g.memory_total_bytes as f64,
                g.memory_used_bytes as f64 / 1e9,
                g.memory_total_bytes as f64 / 1e9
            )
        });
        out.extend(self.edge(AlertKind::GpuMemory, message.is_some(), || {
            at(AlertKind::GpuMemory, message.unwrap_or_default())
        }));
        out
    }

    /// The free space of the disk holding the run directory.
    pub fn on_disk(&mut self, run_dir: &Path, free_bytes: u64, unix_ms: u64) -> Vec<Alert> {
        let low = (free_bytes as f64) < self.config.disk_free_gb * 1e9;
        self.edge(AlertKind::DiskFull, low, || Alert {
            kind: AlertKind::DiskFull,
            level: Level::Warning,
            step: None,
            unix_ms,
            message: format!(
                "{:.2} GB free on the disk of {}: checkpoints will soon fail to write; free space or move the run",
                free_bytes as f64 / 1e9,
                run_dir.display()
            ),
        })
        .into_iter()
        .collect()
    }

    /// The run's process is gone without saying it ended.
    pub fn on_crash(&mut self, step: Option<u64>, unix_ms: u64) -> Vec<Alert> {
        self.edge(AlertKind::Crashed, true, || Alert {
            kind: AlertKind::Crashed,
            level: Level::Error,
            step,
            unix_ms,
            message: "the training process is gone without a final record (killed, out of memory or the machine restarted): resume it with `storyscore train --resume`".into(),
        })
        .into_iter()
        .collect()
    }

    /// The alerts active now.
    pub fn active(&self) -> impl Iterator<Item = &AlertKind> {
        self.active.iter()
    }
}

/// Free bytes on the filesystem holding `path` (`None` when it cannot be asked).
pub fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: an all-zero statvfs is valid; statvfs only writes into it.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a valid out pointer for the call.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    (rc == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
}

/// Appends alerts to the run's `alerts.jsonl`.
pub fn append_alerts(run_dir: &Path, alerts: &[Alert]) -> Result<(), RunError> {
    use std::io::Write;
    if alerts.is_empty() {
        return Ok(());
    }
    let path: PathBuf = run_dir.join(ALERTS_FILE);
    let mut text = String::new();
    for a in alerts {
        text.push_str(&serde_json::to_string(a).map_err(|e| RunError::format(&path, e))?);
        text.push('\n');
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| RunError::io(&path, e))
}

/// Every complete alert of a run's `alerts.jsonl` (none when the file is missing).
pub fn read_alerts(run_dir: &Path) -> Vec<Alert> {
    std::fs::read_to_string(run_dir.join(ALERTS_FILE))
        .map(|t| t.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::GpuSample;

    fn step(step: u64, loss: f64, step_s: f64) -> MetricsRecord {
        MetricsRecord {
            step,
            loss: Some(loss),
            step_s: Some(step_s),
            unix_ms: step * 1000,
            ..Default::default()
        }
    }

    fn eval(step: u64, p: f64) -> MetricsRecord {
        MetricsRecord { step, p_at_5: Some(p), mrr: Some(p), unix_ms: step * 1000, ..Default::default() }
    }

    fn kinds(alerts: &[Alert]) -> Vec<AlertKind> {
        alerts.iter().map(|a| a.kind).collect()
    }

    #[test]
    fn a_calm_run_raises_nothing() {
        let mut rules = AlertRules::new(AlertConfig::default());
        let mut fired = Vec::new();
        for i in 1..=500 {
            fired.extend(rules.on_record(&step(i, 1.0 / (i as f64).sqrt() + 0.01 * (i % 7) as f64, 0.5)));
            if i % 50 == 0 {
                fired.extend(rules.on_record(&eval(i, 0.3 + i as f64 / 1000.0)));
            }
        }
        assert!(fired.is_empty(), "{fired:?}");
    }

    #[test]
    fn non_finite_loss_is_an_error_once() {
        let mut rules = AlertRules::new(AlertConfig::default());
        assert!(rules.on_record(&step(1, 0.7, 1.0)).is_empty());
        let fired = rules.on_record(&step(2, f64::NAN, 1.0));
        assert_eq!(kinds(&fired), [AlertKind::NonFinite]);
        assert_eq!(fired[0].level, Level::Error);
        assert!(fired[0].message.contains("lower the learning rate"), "{}", fired[0].message);
        assert!(rules.on_record(&step(3, f64::INFINITY, 1.0)).is_empty(), "still on: not again");
    }

    #[test]
    fn divergence_needs_n_steps_above_the_factor_and_rearms() {
        let config = AlertConfig { diverge_steps: 5, ..AlertConfig::default() };
        let mut rules = AlertRules::new(config);
        let mut n = 0;
        let mut feed = |rules: &mut AlertRules, loss: f64| {
            n += 1;
            rules.on_record(&step(n, loss, 1.0))
        };
        for _ in 0..20 {
            assert!(feed(&mut rules, 0.1).is_empty());
        }
        // The smoothed loss needs a few steps to pass 3× its minimum, then five more steps.
        let mut at = None;
        for i in 0..40 {
            if !feed(&mut rules, 10.0).is_empty() {
                at = Some(i);
                break;
            }
        }
        let at = at.expect("divergence reported");
        assert!((4..30).contains(&at), "{at}");
        for _ in 0..100 {
            let _ = feed(&mut rules, 0.05);
        }
        let again = (0..60).any(|_| kinds(&feed(&mut rules, 50.0)) == [AlertKind::Diverging]);
        assert!(again, "re-armed after the loss came back down");
    }

    #[test]
    fn plateau_after_k_evaluations_without_a_new_best() {
        let mut rules = AlertRules::new(AlertConfig { plateau_evals: 3, ..AlertConfig::default() });
        let ps = [0.30, 0.35, 0.34, 0.33, 0.35];
        let fired: Vec<Vec<AlertKind>> =
            ps.iter().enumerate().map(|(i, &p)| kinds(&rules.on_record(&eval(i as u64, p)))).collect();
        assert_eq!(fired, [vec![], vec![], vec![], vec![], vec![AlertKind::Plateau]]);
        assert!(rules.on_record(&eval(9, 0.36)).is_empty(), "a new best clears it");
        assert_eq!(rules.active().count(), 0);
    }

    #[test]
    fn a_stalled_step_against_the_median() {
        let mut rules = AlertRules::new(AlertConfig::default());
        for i in 1..=30 {
            assert!(rules.on_record(&step(i, 0.5, 0.8)).is_empty());
        }
        assert!(rules.on_record(&step(31, 0.5, 3.9)).is_empty(), "under the 5-s floor");
        let fired = rules.on_record(&step(32, 0.5, 45.0));
        assert_eq!(kinds(&fired), [AlertKind::SlowStep]);
        assert!(fired[0].message.contains("45.0 s"), "{}", fired[0].message);
    }

    fn sample(at_s: u64, util: u32, used_gb: u64) -> SystemSample {
        SystemSample {
            unix_ms: at_s * 1000,
            cpu_per_core: vec![50.0],
            cpu_total: 50.0,
            ram_used_bytes: 1,
            ram_total_bytes: 2,
            process_rss_bytes: 1,
            gpu: GpuStatus::Devices(vec![GpuSample {
                index: 0,
                name: "H200".into(),
                utilization_pct: util,
                memory_used_bytes: used_gb << 30,
                memory_total_bytes: 100 << 30,
                temperature_c: Some(60),
                power_watts: Some(300.0),
                power_limit_watts: Some(700.0),
                processes: Vec::new(),
            }]),
        }
    }

    #[test]
    fn gpu_idle_while_training_and_memory_nearly_full() {
        let mut rules = AlertRules::new(AlertConfig::default());
        for t in 0..60 {
            assert!(rules.on_sample(&sample(t, 1, 10), true).is_empty(), "t={t}");
        }
        assert_eq!(kinds(&rules.on_sample(&sample(60, 1, 10), true)), [AlertKind::GpuIdle]);
        assert!(rules.on_sample(&sample(61, 1, 10), false).is_empty(), "paused: not idle");
        assert_eq!(kinds(&rules.on_sample(&sample(62, 90, 97), true)), [AlertKind::GpuMemory]);
        let none = SystemSample { gpu: GpuStatus::Unavailable("no driver".into()), ..sample(63, 0, 0) };
        assert!(rules.on_sample(&none, true).is_empty(), "no GPU: no GPU alerts");
    }

    #[test]
    fn low_disk_and_a_crash_fire_once() {
        let mut rules = AlertRules::new(AlertConfig::default());
        let dir = Path::new("/runs/a");
        assert!(rules.on_disk(dir, 50_000_000_000, 0).is_empty());
        let fired = rules.on_disk(dir, 300_000_000, 1);
        assert_eq!(kinds(&fired), [AlertKind::DiskFull]);
        assert!(fired[0].message.contains("0.30 GB free") && fired[0].message.contains("/runs/a"));
        assert!(rules.on_disk(dir, 200_000_000, 2).is_empty());
        assert_eq!(kinds(&rules.on_crash(Some(7), 3)), [AlertKind::Crashed]);
        assert!(rules.on_crash(Some(7), 4).is_empty());
    }

    #[test]
    fn alerts_round_trip_through_the_run_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut rules = AlertRules::new(AlertConfig::default());
        let fired = rules.on_record(&step(3, f64::NAN, 1.0));
        append_alerts(dir.path(), &fired).unwrap();
        append_alerts(dir.path(), &rules.on_crash(Some(3), 9)).unwrap();
        let back = read_alerts(dir.path());
        assert_eq!(kinds(&back), [AlertKind::NonFinite, AlertKind::Crashed]);
        assert_eq!(back[0], fired[0]);
        assert!(free_bytes(dir.path()).is_some_and(|b| b > 0));
    }
}
