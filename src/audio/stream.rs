//! Decoding a file as a stream of mono blocks at its own rate, and reading only the 16 kHz
//! ranges a caller needs (the indexer's 16 windows), so memory is bounded by what is used, not
//! by the file's length.
//!
//! A stream that ends early or holds damaged packets is kept up to what decodes; [`PcmStream::damage`]
//! says what was wrong ("header says 3.00 s, 0.15 s decodable").

use std::fs::File;
use std::io::BufReader;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatReader, TrackType};

use super::open::{extension, io_error, open_format, open_nonempty, AUDIO_EXTENSIONS};
use super::resample::{resampled_len, StreamResampler};
use super::{brief, AudioError, SAMPLE_RATE};

/// WAV frames read per block.
const WAV_BLOCK: usize = 8192;
/// A stream shorter than its header by more than this (and 1 %) is reported as damaged; less is
/// codec padding.
const MISSING_TOLERANCE_S: f64 = 0.1;

/// A file's audio, block by block.
pub struct PcmStream {
    path: PathBuf,
    source: Source,
    sample_rate: u32,
    channels: u16,
    declared_frames: Option<u64>,
    frames: u64,
    /// The first fault met, and how many frames had decoded by then.
    fault: Option<(String, u64)>,
    done: bool,
}

enum Source {
    Wav {
        reader: hound::WavReader<BufReader<File>>,
        float: bool,
        scale: f32,
    },
    Symphonia {
        format: Box<dyn FormatReader>,
        decoder: Box<dyn AudioDecoder>,
        track_id: u32,
        scratch: Vec<f32>,
    },
    Npy {
        samples: Vec<f32>,
    },
}

impl PcmStream {
    /// Opens `path` (wav, flac, ogg, mp3, npy) and reads its header.
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        let ext = extension(path).unwrap_or_default();
        if !AUDIO_EXTENSIONS.contains(&ext.as_str()) {
            return Err(AudioError::UnsupportedExtension { path: path.to_path_buf(), ext });
        }
        let file = open_nonempty(path)?;
        match ext.as_str() {
            "npy" => open_npy(path, file),
            "wav" | "wave" => match open_wav(path, file)? {
                Some(s) => Ok(s),
                None => open_symphonia(path, &ext, open_nonempty(path)?),
            },
            _ => open_symphonia(path, &ext, file),
        }
    }

    /// The stream's rate (0 until the first block when the header does not say).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub fn channels(&self) -> u16 {
        self.channels
    }

    /// Frames per channel the header declares, when it does.
    pub fn declared_frames(&self) -> Option<u64> {
        self.declared_frames
    }

    /// Frames decoded so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Whether a read error or damaged packet was met.
    pub fn faulted(&self) -> bool {
        self.fault.is_some()
    }

    /// Appends the next block of mono samples (channel average, unclamped) to `out`; `false` at
    /// the end. A damaged packet is skipped and noted; an error that ends the stream ends it
    /// here, noted too. Nothing decodable at all is an error.
    pub fn next_block(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        if self.done {
            return Ok(false);
        }
        let before = out.len();
        let more = match &mut self.source {
            Source::Npy { samples } => {
                out.append(samples);
                false
            }
            Source::Wav { reader, float, scale } => {
                let channels = self.channels.max(1) as usize;
                let limit = WAV_BLOCK * channels;
                let mut interleaved = Vec::with_capacity(limit);
                let failed = if *float {
                    read_until_error(reader.samples::<f32>().take(limit), |x| x, &mut interleaved)
                } else {
                    let scale = *scale;
                    read_until_error(
                        reader.samples::<i32>().take(limit),
                        |x| x as f32 * scale,
                        &mut interleaved,
                    )
                };
                out.extend(downmix(&interleaved, channels));
                if failed {
                    let at = self.frames + (interleaved.len() / channels) as u64;
                    self.fault.get_or_insert(("data ends early".into(), at));
                }
                !failed && interleaved.len() == limit
            }
            Source::Symphonia { format, decoder, track_id, scratch } => loop {
                let packet = match format.next_packet() {
                    Ok(Some(p)) => p,
                    Ok(None) | Err(SymError::ResetRequired) => break false,
                    Err(e) => {
                        self.fault.get_or_insert((e.to_string(), self.frames));
                        break false;
                    }
                };
                if packet.track_id != *track_id {
                    continue;
                }
                match decoder.decode(&packet) {
                    Ok(buf) => {
                        let n_ch = buf.spec().channels().count().max(1);
                        self.sample_rate = buf.spec().rate();
                        self.channels = n_ch as u16;
                        buf.copy_to_vec_interleaved(&mut *scratch);
                        out.extend(downmix(scratch, n_ch));
                        if out.len() > before {
                            break true;
                        }
                    }
                    // A damaged packet: note it and go on, as players do.
                    Err(SymError::DecodeError(msg)) => {
                        self.fault.get_or_insert((format!("damaged packet ({msg})"), self.frames));
                    }
                    Err(SymError::IoError(e)) => {
                        self.fault.get_or_insert((e.to_string(), self.frames));
                    }
                    Err(e) => {
                        self.fault.get_or_insert((e.to_string(), self.frames));
                        break false;
                    }
                }
            },
        };
        self.frames += (out.len() - before) as u64;
        if !more {
            self.done = true;
            if self.frames == 0 {
                let path = self.path.clone();
                return Err(match self.fault.take() {
                    Some((reason, _)) => AudioError::Corrupt { path, reason },
                    None => AudioError::NoAudio { path },
                });
            }
            if self.sample_rate == 0 {
                let reason = "no sample rate in the stream".into();
                return Err(AudioError::Corrupt { path: self.path.clone(), reason });
            }
        }
        Ok(out.len() > before || more)
    }

    /// What was wrong with the stream, once read to its end: fewer frames than the header
    /// declares, a read error, or damaged packets. `None` for a sound file.
    pub fn damage(&self) -> Option<String> {
        let rate = f64::from(self.sample_rate.max(1));
        let got = self.frames as f64 / rate;
        let short = self.declared_frames.map(|d| d as f64 / rate).filter(|&declared| {
            let missing = declared - got;
            missing > MISSING_TOLERANCE_S && missing > 0.01 * declared
        });
        // A fault with frames after it is damage in the middle; one at the end cut the stream.
        let mid = self.fault.as_ref().filter(|(_, at)| *at + 1 < self.frames);
        let from = |(reason, at): &(String, u64)| {
            format!("damaged audio from {:.2} s ({})", *at as f64 / rate, brief(reason))
        };
        match (mid, short, &self.fault) {
            (Some(fault), Some(declared), _) => {
                Some(format!("{}; {got:.2} of {declared:.2} s decodable", from(fault)))
            }
            (Some(fault), None, _) => Some(from(fault)),
            (None, Some(declared), _) => Some(format!("header says {declared:.2} s, {got:.2} s decodable")),
            (None, None, Some((reason, _))) => {
                Some(format!("stream ends early at {got:.2} s ({})", brief(reason)))
            }
            (None, None, None) => None,
        }
    }

    /// Logs the damage of a stream read to its end, once, for the file's final reading.
    pub(crate) fn log_damage(&self) -> Option<String> {
        let damage = self.damage();
        if let Some(damage) = &damage {
            tracing::warn!(path = %self.path.display(), %damage, "damaged audio; keeping what decodes");
        }
        damage
    }
}

/// Appends converted samples to `out` until the first read error; reports whether one happened.
fn read_until_error<S>(
    samples: impl Iterator<Item = hound::Result<S>>,
    convert: impl Fn(S) -> f32,
    out: &mut Vec<f32>,
) -> bool {
    for s in samples {
        match s {
            Ok(v) => out.push(convert(v)),
            Err(_) => return true,
        }
    }
    false
}

/// Averages interleaved frames; an incomplete last frame is dropped.
pub(crate) fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    let inv = 1.0 / channels as f32;
    interleaved.chunks_exact(channels).map(|f| f.iter().sum::<f32>() * inv).collect()
}

/// A 1-d float32 waveform at 16 kHz (the original authors' `audio/<id>.npy`); read whole, as
/// such files hold one clip.
fn open_npy(path: &Path, file: File) -> Result<PcmStream, AudioError> {
    let bad = |reason: String| AudioError::BadNpy { path: path.to_path_buf(), reason };
    let array = ArrayD::<f32>::read_npy(BufReader::new(file)).map_err(|e| bad(e.to_string()))?;
    if array.ndim() != 1 {
        return Err(bad(format!("expected a 1-d array, found shape {:?}", array.shape())));
    }
    let samples: Vec<f32> = array.into_iter().collect();
    Ok(PcmStream {
        path: path.to_path_buf(),
        sample_rate: SAMPLE_RATE,
        channels: 1,
        declared_frames: Some(samples.len() as u64),
        source: Source::Npy { samples },
        frames: 0,
        fault: None,
        done: false,
    })
}

/// Integer or float PCM WAV via hound. `Ok(None)` when hound does not support the WAV's codec
/// (symphonia then tries, e.g. for ADPCM).
fn open_wav(path: &Path, file: File) -> Result<Option<PcmStream>, AudioError> {
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
    let float = spec.sample_format == hound::SampleFormat::Float;
    let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
    Ok(Some(PcmStream {
        path: path.to_path_buf(),
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        declared_frames: Some(u64::from(reader.duration())),
        source: Source::Wav { reader, float, scale },
        frames: 0,
        fault: None,
        done: false,
    }))
}

fn open_symphonia(path: &Path, ext: &str, file: File) -> Result<PcmStream, AudioError> {
    let pb = || path.to_path_buf();
    let format = open_format(path, ext, file)?;
    let track = format.default_track(TrackType::Audio).ok_or_else(|| AudioError::NoAudio { path: pb() })?;
    let track_id = track.id;
    let declared_frames = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| AudioError::UnsupportedCodec {
            path: pb(),
            codec: "unknown (no codec parameters)".into(),
        })?
        .clone();
    let decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| AudioError::UnsupportedCodec {
            path: pb(),
            codec: format!("{:?} ({e})", params.codec),
        })?;
    Ok(PcmStream {
        path: pb(),
        sample_rate: params.sample_rate.unwrap_or(0),
        channels: params.channels.as_ref().map_or(0, |c| c.count()) as u16,
        declared_frames,
        source: Source::Symphonia { format, decoder, track_id, scratch: Vec::new() },
        frames: 0,
        fault: None,
        done: false,
    })
}

/// The 16 kHz samples of a file in the ranges a caller asks for, given the file's length.
#[derive(Debug, Clone, PartialEq)]
pub struct Excerpts {
    /// Length of the whole file at 16 kHz.
    pub len: usize,
    /// One buffer per range, the samples past the end zero.
    pub parts: Vec<Vec<f32>>,
    /// What was wrong with the file ([`PcmStream::damage`]), if anything.
    pub damage: Option<String>,
}

/// Decodes `path` as a stream, resamples it to 16 kHz as [`super::load_mono_16k`] would, and keeps
/// only `ranges(len)` of it. When the header's length is missing or wrong (a damaged file) the
/// file is read twice: once to count, once to keep.
pub fn read_excerpts_16k(
    path: &Path,
    ranges: impl Fn(usize) -> Vec<Range<usize>>,
) -> Result<Excerpts, AudioError> {
    let mut stream = PcmStream::open(path)?;
    let rate = stream.sample_rate();
    let expected = stream.declared_frames().filter(|_| rate > 0).map(|f| resampled_len(f, rate, SAMPLE_RATE));
    let len = match expected {
        Some(n) => {
            let first = keep_ranges(&mut stream, &ranges(n as usize))?;
            if first.len as u64 == n {
                stream.log_damage();
                return Ok(first);
            }
            first.len
        }
        None => keep_ranges(&mut stream, &[])?.len,
    };
    let mut again = PcmStream::open(path)?;
    let excerpts = keep_ranges(&mut again, &ranges(len))?;
    again.log_damage();
    Ok(excerpts)
}

/// Reads `stream` to its end through the resampler, copying what falls in `ranges`.
fn keep_ranges(stream: &mut PcmStream, ranges: &[Range<usize>]) -> Result<Excerpts, AudioError> {
    let mut parts: Vec<Vec<f32>> = ranges.iter().map(|r| vec![0.0; r.len()]).collect();
    let mut pos = 0usize;
    let mut keep = |block: &[f32]| {
        let span = pos..pos + block.len();
        for (range, part) in ranges.iter().zip(parts.iter_mut()) {
            let (lo, hi) = (range.start.max(span.start), range.end.min(span.end));
            if lo < hi {
                part[lo - range.start..hi - range.start]
                    .copy_from_slice(&block[lo - span.start..hi - span.start]);
            }
        }
        pos = span.end;
    };
    let mut block = Vec::new();
    let mut resampler: Option<StreamResampler> = None;
    let resample_err = |path: &Path, source| AudioError::Resample { path: path.to_path_buf(), source };
    loop {
        block.clear();
        let more = stream.next_block(&mut block)?;
        if !block.is_empty() {
            let r = match &mut resampler {
                Some(r) => r,
                None => resampler.insert(
                    StreamResampler::new(stream.sample_rate(), SAMPLE_RATE)
                        .map_err(|e| resample_err(&stream.path, e))?,
                ),
            };
            r.push(&block, &mut keep).map_err(|e| resample_err(&stream.path, e))?;
        }
        if !more {
            break;
        }
    }
    if let Some(r) = resampler {
        r.finish(&mut keep).map_err(|e| resample_err(&stream.path, e))?;
    }
    Ok(Excerpts { len: pos, parts, damage: stream.damage() })
}
