//! Decoding audio files to mono f32 samples.
//!
//! WAV goes through hound (symphonia when hound does not know the WAV codec), FLAC / Ogg Vorbis /
//! MP3 through symphonia, and `.npy` is read as the original authors' layout: a 1-d float32
//! waveform at 16 kHz. Channels are averaged. Samples are **not clamped**: float decoders return
//! values slightly outside ±1 on loud masters (up to about 1.13 on 4Q), which the mel front end
//! handles as they are.

use std::fs::File;
use std::path::Path;

use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::stream::PcmStream;
use super::{resample, AudioError, SAMPLE_RATE};

/// File extensions the front end decodes (lower case).
pub const AUDIO_EXTENSIONS: &[&str] = &["wav", "wave", "flac", "ogg", "oga", "mp3", "npy"];

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

pub(crate) fn extension(path: &Path) -> Option<String> {
    path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase)
}

/// Opens `path`, turning "missing" and "0 bytes" into their own errors.
pub(crate) fn open_nonempty(path: &Path) -> Result<File, AudioError> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let len = file.metadata().map_err(|e| io_error(path, e))?.len();
    if len == 0 {
        return Err(AudioError::EmptyFile { path: path.to_path_buf() });
    }
    Ok(file)
}

pub(crate) fn io_error(path: &Path, e: std::io::Error) -> AudioError {
    match e.kind() {
        std::io::ErrorKind::NotFound => AudioError::NotFound { path: path.to_path_buf() },
        _ => AudioError::Io { path: path.to_path_buf(), source: e },
    }
}

/// Opens a symphonia format reader, mapping "not this format" to [`AudioError::Unrecognised`].
pub(crate) fn open_format(path: &Path, ext: &str, file: File) -> Result<Box<dyn FormatReader>, AudioError> {
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(ext);
    symphonia::default::get_probe()
        .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
        .map_err(|e| match e {
            SymError::IoError(io) if io.kind() != std::io::ErrorKind::UnexpectedEof => io_error(path, io),
            e => AudioError::Unrecognised {
                path: path.to_path_buf(),
                ext: ext.to_string(),
                reason: e.to_string(),
            },
        })
}
