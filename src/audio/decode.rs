//! Decoding audio files to mono f32 samples.
//!
//! WAV goes through hound (symphonia when hound does not know the WAV codec), FLAC / Ogg Vorbis /
//! MP3 through symphonia, and `.npy` is read as the original authors' layout: a 1-d float32
//! waveform at 16 kHz. Channels are averaged. Samples are **not clamped**: float decoders return
//! values slightly outside ±1 on loud masters (up to about 1.13 on 4Q), which the mel front end
//! handles as they are.

use std::path::Path;

use super::open::{extension, AUDIO_EXTENSIONS};
use super::stream::PcmStream;
use super::{resample, AudioError, SAMPLE_RATE};

/// A decoded file: mono samples at the file's own rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Channel average, unclamped.
    pub samples_mono: Vec<f32>,
    pub sample_rate: u32,
    /// Channels in the file (before the downmix).
    pub channels: u16,
    /// The stream ended early or had broken packets; `samples_mono` holds what decoded.
    pub truncated: bool,
    /// What was wrong, in words ("header says 3.00 s, 0.15 s decodable"), when it was.
    pub damage: Option<String>,
}

/// Whether `path` has one of [`AUDIO_EXTENSIONS`] (case-insensitive).
pub fn is_audio_file(path: &Path) -> bool {
    extension(path).is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.as_str()))
}

/// Decodes and downmixes, then resamples to 16 kHz (skipped when the file already is 16 kHz).
pub fn load_mono_16k(path: &Path) -> Result<Vec<f32>, AudioError> {
    let decoded = decode(path)?;
    resample(&decoded.samples_mono, decoded.sample_rate, SAMPLE_RATE)
        .map_err(|source| AudioError::Resample { path: path.to_path_buf(), source })
}

/// Decodes a whole file to mono f32 at its own sample rate.
pub fn decode(path: &Path) -> Result<Decoded, AudioError> {
    let mut stream = PcmStream::open(path)?;
    let mut samples_mono = Vec::with_capacity(stream.declared_frames().unwrap_or(0).min(1 << 24) as usize);
    while stream.next_block(&mut samples_mono)? {}
    let damage = stream.log_damage();
    Ok(Decoded {
        samples_mono,
        sample_rate: stream.sample_rate(),
        channels: stream.channels(),
        truncated: stream.faulted() || damage.is_some(),
        damage,
    })
}
