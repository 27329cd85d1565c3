//! Opening an audio file: its extension, a file that exists and is not empty, and the
//! container probe. Shared by whole-file decoding, streaming and duration probes.

use std::fs::File;
use std::path::Path;

use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::AudioError;

/// File extensions the front end decodes (lower case).
pub const AUDIO_EXTENSIONS: &[&str] = &["wav", "wave", "flac", "ogg", "oga", "mp3", "npy"];

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
