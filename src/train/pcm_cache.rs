//! Decoded clips cached on disk as raw 16-kHz mono int16, so a random 5-s chunk is one seek and
//! one read instead of decoding the whole file at every step.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng;

use super::RunError;
use crate::audio::{load_mono_16k, CHUNK_SAMPLES};

/// Cache of decoded clips under one folder.
#[derive(Debug, Clone)]
pub struct PcmCache {
    dir: PathBuf,
}

impl PcmCache {
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.into() }
    }

    fn entry(&self, clip: &Path) -> PathBuf {
        self.dir.join(format!("{}.pcm16", crate::config::file_cache_key(clip)))
    }

    /// The cache file of `clip`, decoding it first when needed.
    pub fn ensure(&self, clip: &Path) -> Result<PathBuf, RunError> {
        let entry = self.entry(clip);
        if entry.exists() {
            return Ok(entry);
        }
        let samples = load_mono_16k(clip).map_err(|e| RunError::format(clip, e))?;
        let bytes: Vec<u8> = samples
            .iter()
            .flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes())
            .collect();
        // Loader threads may decode the same clip at once: each writes its own temp file.
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let tmp =
            self.dir.join(format!(".{}-{}.tmp", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)));
        std::fs::create_dir_all(&self.dir).map_err(|e| RunError::io(&self.dir, e))?;
        std::fs::write(&tmp, &bytes).map_err(|e| RunError::io(&tmp, e))?;
        std::fs::rename(&tmp, &entry).map_err(|e| RunError::io(&entry, e))?;
        Ok(entry)
    }

    /// One random 5-s chunk (zero-padded when the clip is shorter).
    pub fn random_chunk(&self, clip: &Path, rng: &mut impl Rng) -> Result<Vec<f32>, RunError> {
        let entry = self.ensure(clip)?;
        let mut file = File::open(&entry).map_err(|e| RunError::io(&entry, e))?;
        let len = file.metadata().map_err(|e| RunError::io(&entry, e))?.len() as usize / 2;
        let start = if len > CHUNK_SAMPLES { rng.random_range(0..=len - CHUNK_SAMPLES) } else { 0 };
        file.seek(SeekFrom::Start(2 * start as u64)).map_err(|e| RunError::io(&entry, e))?;
        let mut bytes = vec![0u8; 2 * CHUNK_SAMPLES.min(len)];
        file.read_exact(&mut bytes).map_err(|e| RunError::io(&entry, e))?;
        let mut chunk = decode_pcm16(&bytes);
        chunk.resize(CHUNK_SAMPLES, 0.0);
        Ok(chunk)
    }

    /// The whole decoded clip (16 kHz mono).
    pub fn samples(&self, clip: &Path) -> Result<Vec<f32>, RunError> {
        let entry = self.ensure(clip)?;
        let bytes = std::fs::read(&entry).map_err(|e| RunError::io(&entry, e))?;
        Ok(decode_pcm16(&bytes))
    }
}

fn decode_pcm16(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32767.0).collect()
}
