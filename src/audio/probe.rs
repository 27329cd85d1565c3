//! Fast file inspection: duration, rate, channels, codec and tags from the container headers,
//! without decoding the stream (used to list large libraries).

use std::io::Read;
use std::path::Path;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::formats::{FormatReader, TrackType};
use symphonia::core::meta::{MetadataRevision, StandardTag, Tag};

use super::open::{extension, open_format, open_nonempty};
use super::{AudioError, AUDIO_EXTENSIONS, SAMPLE_RATE};

/// What a file holds, as its headers say.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipInfo {
    pub duration_s: f64,
    pub sample_rate: u32,
    pub channels: u16,
    /// Short codec name, e.g. `vorbis`, `flac`, `mp3`, `pcm_s16le`, `npy_f32`.
    pub codec: String,
    /// Tags in file order: well-known ones under plain names (`title`, `artist`, `album`,
    /// `genre`, `date`, `comment`, …), others under their raw key.
    pub tags: Vec<(String, String)>,
}

/// Reads a file's headers. Falls back to counting decoded frames only when the container
/// states neither a frame count nor a duration.
pub fn probe(path: &Path) -> Result<ClipInfo, AudioError> {
    let ext = extension(path).unwrap_or_default();
    if !AUDIO_EXTENSIONS.contains(&ext.as_str()) {
        return Err(AudioError::UnsupportedExtension { path: path.to_path_buf(), ext });
    }
    let file = open_nonempty(path)?;
    if ext == "npy" {
        return probe_npy(path, file);
    }
    let mut format = open_format(path, &ext, file)?;
    let pb = || path.to_path_buf();
    let track = format.default_track(TrackType::Audio).ok_or_else(|| AudioError::NoAudio { path: pb() })?;
    let params = track.codec_params.as_ref().and_then(|p| p.audio()).cloned().ok_or_else(|| {
        AudioError::UnsupportedCodec { path: pb(), codec: "unknown (no codec parameters)".into() }
    })?;
    let sample_rate = params
        .sample_rate
        .ok_or_else(|| AudioError::Corrupt { path: pb(), reason: "no sample rate in the header".into() })?;
    let channels = params.channels.as_ref().map_or(0, |c| c.count()) as u16;
    let codec = symphonia::default::get_codecs()
        .get_audio_decoder(params.codec)
        .map_or_else(|| format!("{:?}", params.codec), |d| d.codec.info.short_name.to_string());
    let from_duration = match (track.duration, track.time_base) {
        (Some(d), Some(tb)) => Some(d.get() as f64 * tb.numer.get() as f64 / tb.denom.get() as f64),
        _ => None,
    };
    let track_id = track.id;
    let duration_s = match track.num_frames {
        Some(n) => n as f64 / sample_rate as f64,
        None => match from_duration {
            Some(d) => d,
            None => count_frames(path, format.as_mut(), track_id, &params)? as f64 / sample_rate as f64,
        },
    };
    let tags = collect_tags(format.as_mut());
    Ok(ClipInfo { duration_s, sample_rate, channels, codec, tags })
}

/// Decodes the stream just to count frames (containers such as raw MP3 without a Xing header).
fn count_frames(
    path: &Path,
    format: &mut dyn FormatReader,
    track_id: u32,
    params: &symphonia::core::codecs::audio::AudioCodecParameters,
) -> Result<u64, AudioError> {
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| AudioError::UnsupportedCodec { path: path.to_path_buf(), codec: e.to_string() })?;
    let mut frames = 0u64;
    while let Ok(Some(packet)) = format.next_packet() {
        if packet.track_id == track_id {
            if let Ok(buf) = decoder.decode(&packet) {
                frames += buf.frames() as u64;
            }
        }
    }
    Ok(frames)
}

fn collect_tags(format: &mut dyn FormatReader) -> Vec<(String, String)> {
    let mut metadata = format.metadata();
    let mut tags = Vec::new();
    let mut push = |rev: &MetadataRevision| {
        let per_track = rev.per_track.iter().flat_map(|t| t.metadata.tags.iter());
        tags.extend(rev.media.tags.iter().chain(per_track).map(tag_pair));
    };
    // Older revisions (e.g. an ID3 tag found while probing) first, then the container's own.
    while let Some(rev) = metadata.pop() {
        push(&rev);
    }
    if let Some(rev) = metadata.current() {
        push(rev);
    }
    tags
}

fn tag_pair(tag: &Tag) -> (String, String) {
    let name = match &tag.std {
        Some(StandardTag::TrackTitle(_)) => "title",
        Some(StandardTag::Artist(_)) => "artist",
        Some(StandardTag::Album(_)) => "album",
        Some(StandardTag::AlbumArtist(_)) => "album_artist",
        Some(StandardTag::Genre(_)) => "genre",
        Some(StandardTag::Comment(_)) => "comment",
        Some(StandardTag::Composer(_)) => "composer",
        Some(StandardTag::RecordingDate(_)) | Some(StandardTag::ReleaseDate(_)) => "date",
        _ => tag.raw.key.as_str(),
    };
    (name.to_string(), tag.raw.value.to_string())
}

/// Reads only the `.npy` header: the waveform length is the 1-d shape.
fn probe_npy(path: &Path, mut file: std::fs::File) -> Result<ClipInfo, AudioError> {
    let bad = |reason: &str| AudioError::BadNpy { path: path.to_path_buf(), reason: reason.to_string() };
    let mut head = [0u8; 12];
    file.read_exact(&mut head[..10]).map_err(|_| bad("file too short for an .npy header"))?;
    if &head[..6] != b"\x93NUMPY" {
        return Err(bad("missing the \\x93NUMPY magic"));
    }
    let (len, _) = match head[6] {
        1 => (u16::from_le_bytes([head[8], head[9]]) as usize, 10),
        2 | 3 => {
            file.read_exact(&mut head[10..12]).map_err(|_| bad("truncated header"))?;
            (u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize, 12)
        }
        v => return Err(bad(&format!("unknown .npy format version {v}"))),
    };
    if len > 1 << 20 {
        return Err(bad("header longer than 1 MiB"));
    }
    let mut header = vec![0u8; len];
    file.read_exact(&mut header).map_err(|_| bad("truncated header"))?;
    let header = String::from_utf8_lossy(&header);
    let descr = dict_value(&header, "descr").ok_or_else(|| bad("header has no 'descr'"))?;
    if !matches!(descr.trim_matches(|c| c == '\'' || c == '"'), "<f4" | "|f4" | "=f4") {
        return Err(bad(&format!("dtype {descr} is not float32 ('<f4')")));
    }
    let shape = dict_value(&header, "shape").ok_or_else(|| bad("header has no 'shape'"))?;
    let dims: Vec<&str> = shape.trim_matches(|c| c == '(' || c == ')').split(',').map(str::trim).collect();
    let n: u64 = match dims.as_slice() {
        [n] | [n, ""] => n.parse().map_err(|_| bad(&format!("bad shape {shape}")))?,
        _ => return Err(bad(&format!("expected a 1-d array, found shape {shape}"))),
    };
    Ok(ClipInfo {
        duration_s: n as f64 / SAMPLE_RATE as f64,
        sample_rate: SAMPLE_RATE,
        channels: 1,
        codec: "npy_f32".into(),
        tags: Vec::new(),
    })
}

/// The raw text of `'key': value` in a Python dict literal (a tuple value keeps its parentheses).
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') { rest.find(')')? + 1 } else { rest.find([',', '}'])? };
    Some(rest[..end].trim())
}
