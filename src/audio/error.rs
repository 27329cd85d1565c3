//! Typed errors of the audio front end. Every file error reads `PATH: REASON` on one line, and
//! [`AudioError::reason`] gives the reason alone (for lists that already show the path).

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a file could not be decoded, probed or played.
#[derive(Debug)]
pub enum AudioError {
    NotFound { path: PathBuf },
    Io { path: PathBuf, source: std::io::Error },
    EmptyFile { path: PathBuf },
    UnsupportedExtension { path: PathBuf, ext: String },
    Unrecognised { path: PathBuf, ext: String, reason: String },
    UnsupportedCodec { path: PathBuf, codec: String },
    Corrupt { path: PathBuf, reason: String },
    NoAudio { path: PathBuf },
    BadNpy { path: PathBuf, reason: String },
    Resample { path: PathBuf, source: ResampleError },
    NoOutputDevice { reason: String },
    DeviceNotFound { name: String, available: String },
    Stream { device: String, reason: String },
    PlayerGone,
    Tensor(tch::TchError),
}

impl AudioError {
    /// The file the error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        use AudioError::*;
        match self {
            NotFound { path }
            | Io { path, .. }
            | EmptyFile { path }
            | UnsupportedExtension { path, .. }
            | Unrecognised { path, .. }
            | UnsupportedCodec { path, .. }
            | Corrupt { path, .. }
            | NoAudio { path }
            | BadNpy { path, .. }
            | Resample { path, .. } => Some(path),
            NoOutputDevice { .. } | DeviceNotFound { .. } | Stream { .. } | PlayerGone | Tensor(_) => None,
        }
    }

    /// What went wrong, in one line, without the path.
    pub fn reason(&self) -> String {
        use AudioError::*;
        match self {
            NotFound { .. } => "file not found".into(),
            Io { source, .. } => format!("cannot read: {}", brief(&source.to_string())),
            EmptyFile { .. } => "empty file (0 bytes)".into(),
            UnsupportedExtension { ext, .. } => {
                format!("unsupported file type {ext:?} (expected one of: wav, flac, ogg, oga, mp3, npy)")
            }
            Unrecognised { ext, reason, .. } => {
                format!("not a recognised {ext} audio file ({}); is it mislabelled?", brief(reason))
            }
            UnsupportedCodec { codec, .. } => format!("unsupported codec {}", brief(codec)),
            Corrupt { reason, .. } => format!("corrupt or truncated audio: {}", brief(reason)),
            NoAudio { .. } => "contains no audio samples".into(),
            BadNpy { reason, .. } => {
                format!("invalid .npy waveform (need float32, 1-d, 16 kHz mono): {}", brief(reason))
            }
            Resample { source, .. } => brief(&source.to_string()),
            NoOutputDevice { reason } => {
                format!("no audio output device: {reason}; set audio_device in the config or use --device")
            }
            DeviceNotFound { name, available } => {
                format!("audio output device {name:?} not found (available: {available})")
            }
            Stream { device, reason } => format!("audio output stream on {device:?}: {}", brief(reason)),
            PlayerGone => "audio player thread has stopped".into(),
            Tensor(e) => format!("mel front end: {}", brief(&e.to_string())),
        }
    }
}

impl fmt::Display for AudioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path() {
            Some(path) => write!(f, "{}: {}", path.display(), self.reason()),
            None => f.write_str(&self.reason()),
        }
    }
}

impl std::error::Error for AudioError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AudioError::Io { source, .. } => Some(source),
            AudioError::Resample { source, .. } => Some(source),
            AudioError::Tensor(e) => Some(e),
            _ => None,
        }
    }
}

impl From<tch::TchError> for AudioError {
    fn from(e: tch::TchError) -> Self {
        AudioError::Tensor(e)
    }
}

/// A parser's message cut to a few words on one line: its first line, without the caret
/// diagrams some parsers append (`--> 1:2 | …`), and without library prefixes that say nothing
/// to a user.
pub fn brief(message: &str) -> String {
    let first = message.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let first = first.split(" --> ").next().unwrap_or(first);
    let first = first.strip_prefix("unsupported feature: ").unwrap_or(first);
    let first = first.strip_prefix("core (probe): ").unwrap_or(first);
    let words: Vec<&str> = first.split_whitespace().collect();
    let mut out = words.join(" ");
    while out.ends_with(':') || out.ends_with(',') {
        out.pop();
    }
    const MAX: usize = 160;
    if out.chars().count() > MAX {
        out = out.chars().take(MAX - 1).collect::<String>() + "…";
    }
    out
}

/// Resampling failed (invalid rates, or rubato refused the buffers).
#[derive(Debug, thiserror::Error)]
#[error("resampling {from} Hz → {to} Hz failed: {reason}")]
pub struct ResampleError {
    pub from: u32,
    pub to: u32,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brief_keeps_the_first_line_without_the_caret_diagram() {
        let pest = "error parsing metadata dict: syntax error:  --> 1:2\n  |\n1 | {garbage}\n  |  ^---\n  |\n  = expected value";
        assert_eq!(brief(pest), "error parsing metadata dict: syntax error");
        assert_eq!(
            brief("unsupported feature: core (probe): no suitable format reader found"),
            "no suitable format reader found"
        );
    }

    #[test]
    fn file_errors_name_the_path_once_on_one_line() {
        let e = AudioError::BadNpy { path: "a/bad.npy".into(), reason: "x\ny".into() };
        let text = e.to_string();
        assert_eq!(text.matches("bad.npy").count(), 1, "{text}");
        assert!(!text.contains('\n'), "{text}");
        assert!(e.reason().starts_with("invalid .npy"));
    }
}
