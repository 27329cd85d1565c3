//! GPU sampling through NVML; without an NVIDIA driver it reports why instead of failing.

use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use nvml_wrapper::enums::device::UsedGpuMemory;
use nvml_wrapper::Nvml;
use serde::Serialize;

/// One GPU at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GpuSample {
    pub index: u32,
    pub name: String,
    /// Percent of the last sample period a kernel was running.
    pub utilization_pct: u32,
    pub memory_used_bytes: u64,
    pub memory_total_bytes: u64,
    pub temperature_c: Option<u32>,
    pub power_watts: Option<f32>,
    /// The power limit the driver enforces.
    pub power_limit_watts: Option<f32>,
    /// Processes with a compute context on this GPU (NVML's running-process list).
    pub processes: Vec<GpuProcess>,
}

/// A process holding memory on a GPU.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GpuProcess {
    pub pid: u32,
    /// `None` where the driver does not say (Windows WDDM).
    pub memory_bytes: Option<u64>,
}

/// What the GPU side of a sample holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum GpuStatus {
    /// No usable NVIDIA GPU; the reason is shown to the user as is.
    Unavailable(String),
    Devices(Vec<GpuSample>),
}

/// Holds the NVML handle for the lifetime of the collector (initialising it is slow).
pub struct GpuProbe {
    nvml: Result<Nvml, String>,
}

impl GpuProbe {
    pub fn new() -> Self {
        let nvml = Nvml::init().map_err(|e| format!("NVIDIA driver not available (NVML: {e})"));
        Self { nvml }
    }

    pub fn sample(&self) -> GpuStatus {
        let nvml = match &self.nvml {
            Ok(n) => n,
            Err(reason) => return GpuStatus::Unavailable(reason.clone()),
        };
        let count = match nvml.device_count() {
            Ok(0) => return GpuStatus::Unavailable("NVML reports no GPU".into()),
            Ok(c) => c,
            Err(e) => return GpuStatus::Unavailable(format!("NVML device count failed: {e}")),
        };
        let mut devices = Vec::with_capacity(count as usize);
        for index in 0..count {
            let device = match nvml.device_by_index(index) {
                Ok(d) => d,
                Err(e) => return GpuStatus::Unavailable(format!("NVML cannot open GPU {index}: {e}")),
            };
            let memory = device.memory_info().ok();
            devices.push(GpuSample {
                index,
                name: device.name().unwrap_or_else(|_| format!("GPU {index}")),
                utilization_pct: device.utilization_rates().map(|u| u.gpu).unwrap_or(0),
                memory_used_bytes: memory.as_ref().map_or(0, |m| m.used),
                memory_total_bytes: memory.as_ref().map_or(0, |m| m.total),
                temperature_c: device.temperature(TemperatureSensor::Gpu).ok(),
                power_watts: device.power_usage().ok().map(|mw| mw as f32 / 1000.0),
                power_limit_watts: device.enforced_power_limit().ok().map(|mw| mw as f32 / 1000.0),
                processes: device
                    .running_compute_processes()
                    .map(|ps| {
                        ps.into_iter()
                            .map(|p| GpuProcess {
                                pid: p.pid,
                                memory_bytes: match p.used_gpu_memory {
                                    UsedGpuMemory::Used(b) => Some(b),
                                    UsedGpuMemory::Unavailable => None,
                                },
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
        GpuStatus::Devices(devices)
    }
}

impl Default for GpuProbe {
    fn default() -> Self {
        Self::new()
    }
}
