//! Playback on the real ALSA `null` PCM (present on headless Linux; `aplay -L` lists it).
use crate::common;

use std::time::{Duration, Instant};

use storyscore::audio::{decode, list_output_devices, AudioError, Player};

fn wait_for(what: &str, player: &Player, cond: impl Fn(&storyscore::audio::PlaybackStatus) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond(&player.status()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {:?}", player.status());
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn null_device_plays_a_real_clip() {
    let Some(path) = common::shared("data/4q/MT0013621344.ogg") else { return };
    let clip = decode(&path).unwrap();
    let half_second: Vec<f32> = clip.samples_mono[16_000..24_000].to_vec();

    assert!(list_output_devices().iter().any(|d| d == "null"), "{:?}", list_output_devices());
    let player = Player::open(Some("null")).expect("ALSA null device opens");
    assert_eq!(player.device(), "null");
    let idle = player.status();
    assert!(!idle.playing && idle.position_s == 0.0 && idle.duration_s == 0.0, "{idle:?}");

    player.play(half_second.clone(), clip.sample_rate, 0.0).unwrap();
    wait_for("the clip to load", &player, |s| s.duration_s > 0.0);
    assert!((player.status().duration_s - 0.5).abs() < 0.01, "{:?}", player.status());
    wait_for("the position to advance", &player, |s| s.position_s > 0.0);
    wait_for("the end of the clip", &player, |s| !s.playing);
    let end = player.status();
    assert!((end.position_s - end.duration_s).abs() < 1e-9, "{end:?}");

    player.set_volume(0.25);
    assert_eq!(player.status().volume, 0.25);
    player.set_volume(7.0);
    assert_eq!(player.status().volume, 1.0);

    // Controls take effect before they return.
    player.play(half_second, clip.sample_rate, 0.2).unwrap();
    let started = player.status();
    assert!(started.position_s >= 0.2 && started.duration_s > 0.49, "{started:?}");
    player.pause();
    let paused = player.status();
    assert!(!paused.playing, "{paused:?}");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(player.status(), paused, "a paused player holds its position");
    player.seek(0.1);
    let sought = player.status();
    assert!(!sought.playing && (sought.position_s - 0.1).abs() < 1e-3, "{sought:?}");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(player.status(), sought, "seeking while paused does not start playback");
    player.resume();
    wait_for("playback past the seek point", &player, |s| s.position_s > 0.1 + 1e-3);
    player.stop();
    let stopped = player.status();
    assert!(!stopped.playing && stopped.position_s == 0.0, "{stopped:?}");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(player.status(), stopped);
}

#[test]
fn unknown_device_names_the_alternatives() {
    let err = match Player::open(Some("no-such-device-xyz")) {
        Err(e) => e,
        Ok(_) => panic!("opened a device that does not exist"),
    };
    match &err {
        AudioError::DeviceNotFound { name, available } => {
            assert_eq!(name, "no-such-device-xyz");
            assert!(available.contains("null"), "{available}");
        }
        AudioError::NoOutputDevice { .. } => assert!(err.to_string().contains("audio_device")),
        other => panic!("unexpected error {other:?}"),
    }
}
