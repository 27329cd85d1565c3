//! Playback through cpal: a worker thread owns the output stream (cpal streams are not `Send`
//! everywhere). Controls take effect before they return, so a status read after them is
//! consistent; `status()` is lock-free. The audio callback never blocks: while a control holds
//! the track it plays one buffer of silence.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{Device, FromSample, SampleFormat, SizedSample, Stream, StreamConfig};
use crossbeam_channel::Sender;

use super::{resample, AudioError};

/// What the player is doing, readable at any time without blocking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaybackStatus {
    pub position_s: f64,
    pub duration_s: f64,
    pub playing: bool,
    pub volume: f32,
}

/// The clip being played, already at the device rate (mono; copied to every device channel).
#[derive(Default)]
struct Track {
    samples: Vec<f32>,
    pos: usize,
}

/// State shared by the commands, the audio callback and `status()`.
struct Shared {
    track: Mutex<Track>,
    position: AtomicU64,
    duration: AtomicU64,
    playing: AtomicBool,
    volume: AtomicU32,
    device_rate: u32,
}

/// An open output device and its worker thread. Dropping it stops playback.
pub struct Player {
    /// Dropping this sender ends the worker, which drops the stream.
    shutdown: Option<Sender<()>>,
    shared: Arc<Shared>,
    device: String,
    worker: Option<JoinHandle<()>>,
}

/// Output device ids of the default host, as [`Player::open`] accepts them (`null`, `default`, …).
pub fn list_output_devices() -> Vec<String> {
    let host = cpal::default_host();
    match host.output_devices() {
        Ok(devices) => devices.filter_map(|d| d.id().ok()).map(|id| id.id().to_string()).collect(),
        Err(_) => Vec::new(),
    }
}

impl Player {
    /// Opens the named output device (an id from [`list_output_devices`], e.g. `"null"`), or the
    /// default device when `name` is `None`.
    pub fn open(name: Option<&str>) -> Result<Self, AudioError> {
        let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
        let (shutdown, shutdown_rx) = crossbeam_channel::bounded::<()>(0);
        let wanted = name.map(str::to_string);
        let worker = std::thread::Builder::new()
            .name("storyscore-player".into())
            .spawn(move || match open_stream(wanted.as_deref()) {
                Ok((stream, shared, device)) => {
                    let _ = ready_tx.send(Ok((Arc::clone(&shared), device)));
                    // Hold the stream until the player is dropped.
                    let _ = shutdown_rx.recv();
                    drop(stream);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| AudioError::Stream {
                device: name.unwrap_or("default").into(),
                reason: e.to_string(),
            })?;
        let (shared, device) = ready_rx.recv().map_err(|_| AudioError::PlayerGone)??;
        Ok(Self { shutdown: Some(shutdown), shared, device, worker: Some(worker) })
    }

    /// The id of the device in use.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Plays mono `samples` recorded at `rate` Hz from `start_s` seconds, replacing what was
    /// playing. Resamples to the device rate on the calling thread (call it off the UI thread).
    pub fn play(&self, samples: Vec<f32>, rate: u32, start_s: f64) -> Result<(), AudioError> {
        let samples = resample(&samples, rate, self.shared.device_rate)
            .map_err(|e| AudioError::Stream { device: self.device.clone(), reason: e.to_string() })?;
        let mut track = self.lock();
        track.pos = self.frame_at(start_s, samples.len());
        track.samples = samples;
        self.shared.duration.store(track.samples.len() as u64, Ordering::Relaxed);
        self.publish(&track, track.pos < track.samples.len());
        Ok(())
    }

    pub fn pause(&self) {
        let track = self.lock();
        self.publish(&track, false);
    }

    /// Continues from the play head (no-op at the end of the clip).
    pub fn resume(&self) {
        let track = self.lock();
        self.publish(&track, track.pos < track.samples.len());
    }

    /// Stops and rewinds to the start.
    pub fn stop(&self) {
        let mut track = self.lock();
        track.pos = 0;
        self.publish(&track, false);
    }

    /// Moves the play head to `seconds` (clamped to the clip); playing or paused stays as it was.
    pub fn seek(&self, seconds: f64) {
        let mut track = self.lock();
        track.pos = self.frame_at(seconds, track.samples.len());
        let playing = self.shared.playing.load(Ordering::Relaxed) && track.pos < track.samples.len();
        self.publish(&track, playing);
    }

    /// Sets the gain, clamped to 0..=1; applies to the next audio buffer.
    pub fn set_volume(&self, volume: f32) {
        let v = if volume.is_nan() { 0.0 } else { volume.clamp(0.0, 1.0) };
        self.shared.volume.store(v.to_bits(), Ordering::Relaxed);
    }

    pub fn status(&self) -> PlaybackStatus {
        let rate = self.shared.device_rate as f64;
        PlaybackStatus {
            position_s: self.shared.position.load(Ordering::Relaxed) as f64 / rate,
            duration_s: self.shared.duration.load(Ordering::Relaxed) as f64 / rate,
            playing: self.shared.playing.load(Ordering::Relaxed),
            volume: f32::from_bits(self.shared.volume.load(Ordering::Relaxed)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Track> {
        self.shared.track.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn frame_at(&self, seconds: f64, len: usize) -> usize {
        ((seconds.max(0.0) * self.shared.device_rate as f64) as usize).min(len)
    }

    /// Updates the lock-free status while the track is held, so the callback sees both together.
    fn publish(&self, track: &Track, playing: bool) {
        self.shared.position.store(track.pos as u64, Ordering::Relaxed);
        self.shared.playing.store(playing, Ordering::Relaxed);
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.shutdown.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn find_device(name: Option<&str>) -> Result<(Device, String), AudioError> {
    let host = cpal::default_host();
    let Some(name) = name else {
        let device = host.default_output_device().ok_or_else(|| AudioError::NoOutputDevice {
            reason: format!("the {} audio host has no default output device", host.id().name()),
        })?;
        let id = device.id().map_or_else(|_| "default".to_string(), |id| id.id().to_string());
        return Ok((device, id));
    };
    let devices: Vec<Device> = host
        .output_devices()
        .map_err(|e| AudioError::NoOutputDevice { reason: format!("cannot list output devices: {e}") })?
        .collect();
    let ids: Vec<String> =
        devices.iter().map(|d| d.id().map_or_else(|_| String::new(), |id| id.id().to_string())).collect();
    match devices.into_iter().zip(&ids).find(|(_, id)| id.as_str() == name) {
        Some((device, id)) => Ok((device, id.clone())),
        None if ids.is_empty() => Err(AudioError::NoOutputDevice {
            reason: format!("{} lists no output devices", host.id().name()),
        }),
        None => Err(AudioError::DeviceNotFound { name: name.to_string(), available: ids.join(", ") }),
    }
}

fn open_stream(name: Option<&str>) -> Result<(Stream, Arc<Shared>, String), AudioError> {
    let (device, id) = find_device(name)?;
    let stream_err = |reason: String| AudioError::Stream { device: id.clone(), reason };
    let supported = device.default_output_config().map_err(|e| stream_err(e.to_string()))?;
    let format = supported.sample_format();
    let config: StreamConfig = supported.into();
    let shared = Arc::new(Shared {
        track: Mutex::new(Track::default()),
        position: AtomicU64::new(0),
        duration: AtomicU64::new(0),
        playing: AtomicBool::new(false),
        volume: AtomicU32::new(1f32.to_bits()),
        device_rate: config.sample_rate,
    });
    let stream = match format {
        SampleFormat::F32 => build::<f32>(&device, config, &shared),
        SampleFormat::I16 => build::<i16>(&device, config, &shared),
        SampleFormat::U16 => build::<u16>(&device, config, &shared),
        SampleFormat::I32 => build::<i32>(&device, config, &shared),
        SampleFormat::U8 => build::<u8>(&device, config, &shared),
        other => return Err(stream_err(format!("unsupported sample format {other}"))),
    }
    .map_err(|e| stream_err(e.to_string()))?;
    stream.play().map_err(|e| stream_err(e.to_string()))?;
    Ok((stream, shared, id))
}

fn build<T: SizedSample + FromSample<f32>>(
    device: &Device,
    config: StreamConfig,
    shared: &Arc<Shared>,
) -> Result<Stream, cpal::Error> {
    let channels = config.channels.max(1) as usize;
    let shared = Arc::clone(shared);
    device.build_output_stream(
        config,
        move |out: &mut [T], _: &cpal::OutputCallbackInfo| fill(out, channels, &shared),
        |e| tracing::warn!(error = %e, "audio output stream error"),
        None,
    )
}

/// The audio callback: never blocks; silence while a command holds the track.
fn fill<T: SizedSample + FromSample<f32>>(out: &mut [T], channels: usize, shared: &Shared) {
    let silence = T::from_sample(0.0f32);
    let Ok(mut track) = shared.track.try_lock() else {
        out.fill(silence);
        return;
    };
    if !shared.playing.load(Ordering::Relaxed) {
        out.fill(silence);
        return;
    }
    let volume = f32::from_bits(shared.volume.load(Ordering::Relaxed));
    for frame in out.chunks_mut(channels) {
        let value = match track.samples.get(track.pos).copied() {
            Some(s) => {
                track.pos += 1;
                T::from_sample(s * volume)
            }
            None => silence,
        };
        frame.fill(value);
    }
    shared.position.store(track.pos as u64, Ordering::Relaxed);
    if track.pos >= track.samples.len() {
        shared.playing.store(false, Ordering::Relaxed);
    }
}
