//! Typed errors of the audio front end. Every file error names the file.

use std::path::PathBuf;

/// Why a file could not be decoded, probed or played.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("audio file not found: {path}")]
    NotFound { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is empty (0 bytes)")]
    EmptyFile { path: PathBuf },
    #[error("{path}: unsupported file type {ext:?} (expected one of: wav, flac, ogg, oga, mp3, npy)")]
    UnsupportedExtension { path: PathBuf, ext: String },
    #[error("{path}: not a recognised {ext} audio file ({reason}); is it mislabelled?")]
    Unrecognised { path: PathBuf, ext: String, reason: String },
    #[error("{path}: unsupported codec {codec}")]
    UnsupportedCodec { path: PathBuf, codec: String },
    #[error("{path}: corrupt or truncated audio: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: contains no audio samples")]
    NoAudio { path: PathBuf },
    #[error("{path}: invalid .npy waveform (need float32, 1-d, 16 kHz mono): {reason}")]
    BadNpy { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Resample { path: PathBuf, source: ResampleError },
    #[error("no audio output device: {reason}; set audio_device in the config or use --device")]
    NoOutputDevice { reason: String },
    #[error("audio output device {name:?} not found (available: {available})")]
    DeviceNotFound { name: String, available: String },
    #[error("audio output stream on {device:?}: {reason}")]
    Stream { device: String, reason: String },
    #[error("audio player thread has stopped")]
    PlayerGone,
    #[error("mel front end: {0}")]
    Tensor(#[from] tch::TchError),
}

/// Resampling failed (invalid rates, or rubato refused the buffers).
#[derive(Debug, thiserror::Error)]
#[error("resampling {from} Hz → {to} Hz failed: {reason}")]
pub struct ResampleError {
    pub from: u32,
    pub to: u32,
    pub reason: String,
}
