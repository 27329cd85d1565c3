//! The system monitor samples this real machine on its background thread.

use std::time::Duration;

use storyscore::monitor::{Collector, CollectorConfig, GpuStatus, SystemProbe};

#[test]
fn collector_sends_samples_with_sane_values_and_stops() {
    let config = CollectorConfig { interval: Duration::from_millis(50), history_len: 3 };
    let (collector, rx) = Collector::spawn(config).expect("collector starts");
    let mut samples = Vec::new();
    for _ in 0..5 {
        samples.push(rx.recv_timeout(Duration::from_secs(10)).expect("a sample arrives"));
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    for s in &samples {
        assert!((0.0..=100.0).contains(&s.cpu_total), "cpu total {}", s.cpu_total);
        assert!(s.cpu_per_core.len() >= cores.min(1), "per-core values present");
        assert!(s.cpu_per_core.iter().all(|c| (0.0..=100.0).contains(c)));
        assert!(s.ram_total_bytes > 0 && s.ram_used_bytes <= s.ram_total_bytes);
        assert!(s.process_rss_bytes > 0, "this process has a resident set");
    }
    assert!(samples.windows(2).all(|w| w[0].unix_ms <= w[1].unix_ms));
    let history = collector.history();
    assert!(!history.is_empty() && history.len() <= 3, "history bounded to 3, has {}", history.len());
    collector.stop();
    // After stop the sender is gone: the channel drains and then disconnects.
    while rx.recv_timeout(Duration::from_secs(5)).is_ok() {}
    assert!(rx.is_empty());
}

#[test]
fn gpu_is_reported_or_explained() {
    let sample = SystemProbe::new().sample();
    match sample.gpu {
        GpuStatus::Unavailable(reason) => {
            assert!(!reason.trim().is_empty(), "a reason is given");
            eprintln!("skipping the NVML device checks: {reason}");
        }
        GpuStatus::Devices(devices) => {
            assert!(!devices.is_empty());
            for d in devices {
                assert!(d.utilization_pct <= 100);
                assert!(d.memory_used_bytes <= d.memory_total_bytes);
                if let (Some(w), Some(limit)) = (d.power_watts, d.power_limit_watts) {
                    assert!(w >= 0.0 && limit > 0.0, "{w} W of {limit} W");
                }
                for p in &d.processes {
                    assert!(p.pid > 0);
                    assert!(p.memory_bytes.is_none_or(|b| b <= d.memory_total_bytes), "{p:?}");
                }
            }
        }
    }
}

#[test]
fn too_short_interval_is_rejected() {
    let config = CollectorConfig { interval: Duration::from_millis(1), history_len: 10 };
    assert!(Collector::spawn(config).is_err());
}
