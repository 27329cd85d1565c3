//! System monitor of the Train tab: a background thread sampling CPU, RAM, process RSS and GPUs.
//!
//! The collector owns its probes, sends each [`SystemSample`] on a channel (dropping samples a slow
//! reader has not taken rather than blocking) and keeps a bounded [`History`] the UI can snapshot.

mod gpu;
mod history;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender};
use serde::Serialize;
use sysinfo::{
    CpuRefreshKind, MemoryRefreshKind, Pid, ProcessRefreshKind, ProcessesToUpdate, RefreshKind, System,
};

pub use gpu::{GpuProbe, GpuProcess, GpuSample, GpuStatus};
pub use history::History;

/// One reading of the machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemSample {
    /// Milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// Usage of every core, 0–100 %.
    pub cpu_per_core: Vec<f32>,
    /// Usage of all cores together, 0–100 %.
    pub cpu_total: f32,
    pub ram_used_bytes: u64,
    pub ram_total_bytes: u64,
    /// Resident set size of this process.
    pub process_rss_bytes: u64,
    pub gpu: GpuStatus,
}

/// How often to sample and how much to keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CollectorConfig {
    pub interval: Duration,
    pub history_len: usize,
}

impl Default for CollectorConfig {
    fn default() -> Self {
        // Ten minutes of one-second samples: enough for the dashboard's sparklines.
        Self { interval: Duration::from_secs(1), history_len: 600 }
    }
}

/// Errors starting the collector.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("monitor interval must be at least 10 ms, got {0:?}")]
    Interval(Duration),
    #[error("cannot start the monitor thread: {0}")]
    Spawn(std::io::Error),
}

/// Samples CPU, memory and GPU into samples; usable alone (see [`SystemProbe::sample`]).
pub struct SystemProbe {
    system: System,
    pid: Option<Pid>,
    gpu: GpuProbe,
}

impl SystemProbe {
    pub fn new() -> Self {
        let kind = RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing().with_cpu_usage())
            .with_memory(MemoryRefreshKind::nothing().with_ram());
        Self {
            system: System::new_with_specifics(kind),
            pid: sysinfo::get_current_pid().ok(),
            gpu: GpuProbe::new(),
        }
    }

    /// Takes one sample. CPU usage is measured since the previous call (the first reads 0).
    pub fn sample(&mut self) -> SystemSample {
        self.system.refresh_cpu_usage();
        self.system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        let mut process_rss_bytes = 0;
        if let Some(pid) = self.pid {
            self.system.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                true,
                ProcessRefreshKind::nothing().with_memory(),
            );
            process_rss_bytes = self.system.process(pid).map_or(0, |p| p.memory());
        }
        SystemSample {
            unix_ms: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
            cpu_per_core: self.system.cpus().iter().map(|c| c.cpu_usage().clamp(0.0, 100.0)).collect(),
            cpu_total: self.system.global_cpu_usage().clamp(0.0, 100.0),
            ram_used_bytes: self.system.used_memory(),
            ram_total_bytes: self.system.total_memory(),
            process_rss_bytes,
            gpu: self.gpu.sample(),
        }
    }
}

impl Default for SystemProbe {
    fn default() -> Self {
        Self::new()
    }
}

/// Handle of the running collector thread; dropping it stops the thread.
pub struct Collector {
    cancel: Arc<AtomicBool>,
    history: Arc<Mutex<History<SystemSample>>>,
    handle: Option<JoinHandle<()>>,
}

impl Collector {
    /// Starts sampling on a named thread; samples arrive on the returned receiver.
    pub fn spawn(config: CollectorConfig) -> Result<(Self, Receiver<SystemSample>), MonitorError> {
        if config.interval < Duration::from_millis(10) {
            return Err(MonitorError::Interval(config.interval));
        }
        let (tx, rx) = crossbeam_channel::bounded(64);
        let cancel = Arc::new(AtomicBool::new(false));
        let history = Arc::new(Mutex::new(History::new(config.history_len)));
        let handle = std::thread::Builder::new()
            .name("storyscore-monitor".into())
            .spawn({
                let (cancel, history) = (cancel.clone(), history.clone());
                move || collect(config.interval, &cancel, &history, &tx)
            })
            .map_err(MonitorError::Spawn)?;
        Ok((Self { cancel, history, handle: Some(handle) }, rx))
    }

    /// The samples kept so far, oldest first.
    pub fn history(&self) -> Vec<SystemSample> {
        self.history.lock().map(|h| h.to_vec()).unwrap_or_default()
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.cancel.store(true, Ordering::SeqCst);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
            let _ = handle.join();
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn collect(
    interval: Duration,
    cancel: &AtomicBool,
    history: &Mutex<History<SystemSample>>,
    tx: &Sender<SystemSample>,
) {
    let mut probe = SystemProbe::new();
    // sysinfo needs two CPU readings a minimum interval apart before usage means anything.
    probe.sample();
    std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
    while !cancel.load(Ordering::SeqCst) {
        let started = Instant::now();
        let sample = probe.sample();
        if let Ok(mut h) = history.lock() {
            h.push(sample.clone());
        }
        // A full channel means the reader is behind: it still has the history.
        let _ = tx.try_send(sample);
        let deadline = started + interval;
        while !cancel.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            std::thread::park_timeout(deadline - now);
        }
    }
}
