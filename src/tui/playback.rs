//! The app's side of audio: a worker thread that owns the [`Player`], decodes clips off the UI
//! thread, and reports what is playing (or why nothing can be) as [`PlayerEvent`]s.

use std::path::PathBuf;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::audio::{PlaybackStatus, Player};

/// What the UI asks of the audio worker.
#[derive(Debug)]
pub enum PlayRequest {
    Play { path: PathBuf, start_s: f64 },
    Stop,
    SeekBy(f64),
    Volume(f32),
}

/// What the audio worker reports.
#[derive(Debug)]
pub enum PlayerEvent {
    /// The player's state changed (position, volume, stop).
    Playing(NowPlaying),
    /// Playback is impossible or failed: no output device, undecodable clip, …
    Failed(String),
}

/// What is playing, for the status line.
#[derive(Debug, Clone, PartialEq)]
pub struct NowPlaying {
    pub path: PathBuf,
    pub status: PlaybackStatus,
}

/// Handle to the audio worker; requests never block the UI.
pub struct Audio {
    requests: Sender<PlayRequest>,
}

impl Audio {
    /// Starts the worker. The output device (`""` = system default) opens on the first request.
    pub fn spawn(report: impl Fn(PlayerEvent) + Send + 'static, device: String, volume: f32) -> Self {
        let (requests, rx) = crossbeam_channel::unbounded();
        let spawned = std::thread::Builder::new()
            .name("audio".into())
            .spawn(move || worker(&rx, &report, &device, volume));
        if let Err(e) = spawned {
            tracing::error!("cannot start the audio thread: {e}");
        }
        Self { requests }
    }

    pub fn send(&self, req: PlayRequest) {
        let _ = self.requests.send(req);
    }
}

fn worker(rx: &Receiver<PlayRequest>, report: &dyn Fn(PlayerEvent), device: &str, mut volume: f32) {
    let mut player: Option<Player> = None;
    let mut current: Option<PathBuf> = None;
    let mut last: Option<NowPlaying> = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(250)) {
            Ok(req) => {
                if player.is_none() {
                    match Player::open(Some(device).filter(|d| !d.is_empty())) {
                        Ok(p) => {
                            p.set_volume(volume);
                            player = Some(p);
                        }
                        Err(e) => {
                            report(PlayerEvent::Failed(e.to_string()));
                            continue;
                        }
                    }
                }
                let Some(p) = &player else { continue };
                let result = match req {
                    PlayRequest::Play { path, start_s } => match crate::audio::decode(&path) {
                        Ok(d) => {
                            current = Some(path);
                            p.play(d.samples_mono, d.sample_rate, start_s)
                        }
                        Err(e) => Err(e),
                    },
                    PlayRequest::Stop => {
                        p.stop();
                        Ok(())
                    }
                    PlayRequest::SeekBy(delta) => {
                        p.seek(p.status().position_s + delta);
                        Ok(())
                    }
                    PlayRequest::Volume(delta) => {
                        volume = (volume + delta).clamp(0.0, 1.0);
                        p.set_volume(volume);
                        Ok(())
                    }
                };
                if let Err(e) = result {
                    report(PlayerEvent::Failed(e.to_string()));
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
        }
        if let (Some(p), Some(path)) = (&player, &current) {
            let now = NowPlaying { path: path.clone(), status: p.status() };
            if last.as_ref() != Some(&now) {
                last = Some(now.clone());
                report(PlayerEvent::Playing(now));
            }
        }
    }
}
