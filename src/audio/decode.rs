//! Decoding audio files to mono f32 samples.
//!
//! WAV goes through hound (symphonia when hound does not know the WAV codec), FLAC / Ogg Vorbis /
//! MP3 through symphonia, and `.npy` is read as the original authors' layout: a 1-d float32
//! waveform at 16 kHz. Channels are averaged. Samples are **not clamped**: float decoders return
//! values slightly outside ±1 on loud masters (up to about 1.13 on 4Q), which the mel front end
//! handles as they are.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

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
    /// The stream ended early (cut file or a broken packet); `samples_mono` holds what came before.
    pub truncated: bool,
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
    let ext = extension(path).unwrap_or_default();
    if !AUDIO_EXTENSIONS.contains(&ext.as_str()) {
        return Err(AudioError::UnsupportedExtension { path: path.to_path_buf(), ext });
    }
    let file = open_nonempty(path)?;
    let decoded = match ext.as_str() {
        "npy" => decode_npy(path, file)?,
        "wav" | "wave" => match decode_wav(path, file)? {
            Some(d) => d,
            None => decode_symphonia(path, &ext, open_nonempty(path)?)?,
        },
        _ => decode_symphonia(path, &ext, file)?,
    };
    if decoded.samples_mono.is_empty() {
        return Err(AudioError::NoAudio { path: path.to_path_buf() });
    }
    Ok(decoded)
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

/// A 1-d float32 waveform at 16 kHz (the original authors' `audio/<id>.npy`).
fn decode_npy(path: &Path, file: File) -> Result<Decoded, AudioError> {
    let bad = |reason: String| AudioError::BadNpy { path: path.to_path_buf(), reason };
    let array = ArrayD::<f32>::read_npy(BufReader::new(file)).map_err(|e| bad(e.to_string()))?;
    if array.ndim() != 1 {
        return Err(bad(format!("expected a 1-d array, found shape {:?}", array.shape())));
    }
    Ok(Decoded {
        samples_mono: array.into_iter().collect(),
        sample_rate: SAMPLE_RATE,
        channels: 1,
        truncated: false,
    })
}

/// Integer or float PCM WAV via hound. `Ok(None)` when hound does not support the WAV's codec
/// (symphonia then tries, e.g. for ADPCM).
fn decode_wav(path: &Path, file: File) -> Result<Option<Decoded>, AudioError> {
    let reader = match hound::WavReader::new(BufReader::new(file)) {
        Ok(r) => r,
        Err(hound::Error::Unsupported) => return Ok(None),
        Err(hound::Error::IoError(e)) if e.kind() != std::io::ErrorKind::UnexpectedEof => {
            return Err(io_error(path, e))
        }
        Err(e) => {
            return Err(AudioError::Unrecognised {
                path: path.to_path_buf(),
                ext: "wav".into(),
                reason: e.to_string(),
            })
        }
    };
    let spec = reader.spec();
    if spec.channels == 0 || spec.sample_rate == 0 {
        return Err(AudioError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("header has {} channels at {} Hz", spec.channels, spec.sample_rate),
        });
    }
    let (interleaved, truncated) = match spec.sample_format {
        hound::SampleFormat::Float => read_until_error(reader.into_samples::<f32>(), |x| x),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            read_until_error(reader.into_samples::<i32>(), |x| x as f32 * scale)
        }
    };
    if truncated {
        tracing::warn!(path = %path.display(), "WAV data ends early; keeping the decoded part");
    }
    let channels = spec.channels;
    Ok(Some(Decoded {
        samples_mono: downmix(&interleaved, channels as usize),
        sample_rate: spec.sample_rate,
        channels,
        truncated,
    }))
}

/// Collects samples until the first read error; reports whether one happened.
fn read_until_error<S, I>(samples: I, convert: impl Fn(S) -> f32) -> (Vec<f32>, bool)
where
    I: Iterator<Item = hound::Result<S>>,
{
    let mut out = Vec::new();
    for s in samples {
        match s {
            Ok(v) => out.push(convert(v)),
            Err(_) => return (out, true),
        }
    }
    (out, false)
}

/// Averages interleaved frames; an incomplete last frame is dropped.
fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    let inv = 1.0 / channels as f32;
    interleaved.chunks_exact(channels).map(|f| f.iter().sum::<f32>() * inv).collect()
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

fn decode_symphonia(path: &Path, ext: &str, file: File) -> Result<Decoded, AudioError> {
    let pb = || path.to_path_buf();
    let mut format = open_format(path, ext, file)?;
    let track = format.default_track(TrackType::Audio).ok_or_else(|| AudioError::NoAudio { path: pb() })?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| AudioError::UnsupportedCodec {
            path: pb(),
            codec: "unknown (no codec parameters)".into(),
        })?
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| AudioError::UnsupportedCodec {
            path: pb(),
            codec: format!("{:?} ({e})", params.codec),
        })?;

    let mut mono = Vec::with_capacity(track.num_frames.unwrap_or(0).min(1 << 28) as usize);
    let mut scratch: Vec<f32> = Vec::new();
    let mut rate = params.sample_rate.unwrap_or(0);
    let mut channels = params.channels.as_ref().map_or(0, |c| c.count()) as u16;
    let mut failure: Option<String> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) | Err(SymError::ResetRequired) => break,
            Err(e) => {
                failure = Some(e.to_string());
                break;
            }
        };
        if packet.track_id != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buf) => {
                let n_ch = buf.spec().channels().count().max(1);
                rate = buf.spec().rate();
                channels = n_ch as u16;
                buf.copy_to_vec_interleaved(&mut scratch);
                mono.extend(downmix(&scratch, n_ch));
            }
            // A damaged packet: note it and go on, as players do.
            Err(SymError::DecodeError(msg)) => failure = failure.or(Some(format!("bad packet: {msg}"))),
            Err(SymError::IoError(e)) => failure = failure.or(Some(e.to_string())),
            Err(e) => {
                failure = Some(e.to_string());
                break;
            }
        }
    }
    if let Some(reason) = &failure {
        if mono.is_empty() {
            return Err(AudioError::Corrupt { path: pb(), reason: reason.clone() });
        }
        tracing::warn!(path = %path.display(), %reason, "stream damaged; keeping the decoded part");
    }
    if mono.is_empty() {
        return Err(AudioError::NoAudio { path: pb() });
    }
    if rate == 0 {
        return Err(AudioError::Corrupt { path: pb(), reason: "no sample rate in the stream".into() });
    }
    Ok(Decoded { samples_mono: mono, sample_rate: rate, channels, truncated: failure.is_some() })
}
