//! Decoded clips cached on disk as raw 16-kHz mono int16, so a random 5-s chunk is one seek and
//! one read instead of decoding the whole file at every step. The folder is kept under a size
//! limit: reading an entry marks it used (its modification time), and when a new entry takes the
//! folder past the limit the least recently used entries are removed.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rand::Rng;

use super::CacheError;
use crate::audio::{load_mono_16k, CHUNK_SAMPLES};

const EXT: &str = "pcm16";

/// An entry read within this long of its last mark is not marked again (one metadata write per
/// clip per minute, not one per training step).
const MARK_EVERY: Duration = Duration::from_secs(60);

/// Cache of decoded clips under one folder.
#[derive(Debug, Clone)]
pub struct PcmCache {
    dir: PathBuf,
    limit: Option<u64>,
    /// Bytes in the folder as of this process's last look (`None` before the first), shared by
    /// the clones that loader threads hold; other processes' writes show at the next sweep.
    known: Arc<Mutex<Option<u64>>>,
}

impl PcmCache {
    /// The cache in `dir`, holding at most `limit` bytes (`None`: no limit).
    pub fn new(dir: &Path, limit: Option<u64>) -> Self {
        Self { dir: dir.into(), limit, known: Arc::default() }
    }

    fn entry(&self, clip: &Path) -> PathBuf {
        self.dir.join(format!("{}.{EXT}", crate::config::file_cache_key(clip)))
    }

    /// The open cache file of `clip`, decoding it first when needed.
    fn open(&self, clip: &Path) -> Result<(File, PathBuf), CacheError> {
        let entry = self.entry(clip);
        match File::open(&entry) {
            Ok(file) => {
                mark_used(&file);
                return Ok((file, entry));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(CacheError::io(&entry, e)),
        }
        self.store(clip, &entry)?;
        let file = File::open(&entry).map_err(|e| CacheError::io(&entry, e))?;
        Ok((file, entry))
    }

    fn store(&self, clip: &Path, entry: &Path) -> Result<(), CacheError> {
        let samples = load_mono_16k(clip)?;
        let bytes: Vec<u8> = samples
            .iter()
            .flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes())
            .collect();
        // Loader threads may decode the same clip at once: each writes its own temp file.
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let tmp =
            self.dir.join(format!(".{}-{}.tmp", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)));
        std::fs::create_dir_all(&self.dir).map_err(|e| CacheError::io(&self.dir, e))?;
        if let Err(e) = std::fs::write(&tmp, &bytes) {
            let _ = std::fs::remove_file(&tmp);
            return Err(CacheError::io(&tmp, e));
        }
        std::fs::rename(&tmp, entry).map_err(|e| CacheError::io(entry, e))?;
        self.added(bytes.len() as u64, entry);
        Ok(())
    }

    /// Accounts for a new entry and evicts when the folder is past its limit.
    fn added(&self, bytes: u64, newest: &Path) {
        let Some(limit) = self.limit else { return };
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let total = match *known {
            Some(total) => total + bytes,
            None => usize::MAX as u64, // first write of this process: look
        };
        *known = Some(if total > limit { self.evict(limit, newest) } else { total });
    }

    /// Removes the least recently used entries until the folder holds at most `limit` bytes,
    /// never `keep` (the entry just written). Returns the bytes left.
    fn evict(&self, limit: u64, keep: &Path) -> u64 {
        let mut entries: Vec<(SystemTime, u64, PathBuf)> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == EXT))
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                Some((meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), meta.len(), e.path()))
            })
            .collect();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        if total <= limit {
            return total;
        }
        entries.sort();
        let (mut removed, mut freed) = (0, 0);
        for (_, len, path) in entries {
            if total <= limit {
                break;
            }
            // Gone already (another process evicted it) counts as removed.
            if path != keep
                && std::fs::remove_file(&path)
                    .map_or_else(|e| e.kind() == std::io::ErrorKind::NotFound, |_| true)
            {
                total -= len;
                removed += 1;
                freed += len;
            }
        }
        tracing::info!(
            "decoded-audio cache {} past its limit of {} MB: removed {removed} least recently used entries ({} MB)",
            self.dir.display(),
            limit / 1_000_000,
            freed / 1_000_000
        );
        total
    }

    /// One random 5-s chunk (zero-padded when the clip is shorter).
    pub fn random_chunk(&self, clip: &Path, rng: &mut impl Rng) -> Result<Vec<f32>, CacheError> {
        let (mut file, entry) = self.open(clip)?;
        let len = file.metadata().map_err(|e| CacheError::io(&entry, e))?.len() as usize / 2;
        let start = if len > CHUNK_SAMPLES { rng.random_range(0..=len - CHUNK_SAMPLES) } else { 0 };
        file.seek(SeekFrom::Start(2 * start as u64)).map_err(|e| CacheError::io(&entry, e))?;
        let mut bytes = vec![0u8; 2 * CHUNK_SAMPLES.min(len)];
        file.read_exact(&mut bytes).map_err(|e| CacheError::io(&entry, e))?;
        let mut chunk = decode_pcm16(&bytes);
        chunk.resize(CHUNK_SAMPLES, 0.0);
        Ok(chunk)
    }

    /// The whole decoded clip (16 kHz mono).
    pub fn samples(&self, clip: &Path) -> Result<Vec<f32>, CacheError> {
        let (mut file, entry) = self.open(clip)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| CacheError::io(&entry, e))?;
        Ok(decode_pcm16(&bytes))
    }
}

/// Marks an entry as just used; best effort (a read-only cache still serves reads).
fn mark_used(file: &File) {
    let now = SystemTime::now();
    let stale = file
        .metadata()
        .and_then(|m| m.modified())
        .map_or(true, |t| now.duration_since(t).is_ok_and(|age| age >= MARK_EVERY));
    if stale {
        let _ = file.set_modified(now);
    }
}

fn decode_pcm16(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32767.0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real 16-kHz mono WAV of `seconds` (a sine), written with hound.
    fn wav(dir: &Path, name: &str, seconds: f32) -> PathBuf {
        let path = dir.join(name);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..(seconds * 16_000.0) as usize {
            w.write_sample(((i as f32 * 0.05).sin() * 8000.0) as i16).unwrap();
        }
        w.finalize().unwrap();
        path
    }

    fn age(path: &Path, secs: u64) {
        let f = File::options().append(true).open(path).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(secs)).unwrap();
    }

    #[test]
    fn evicts_least_recently_used_entries_past_the_limit() {
        let tmp = tempfile::tempdir().unwrap();
        let clips: Vec<PathBuf> = (0..4).map(|i| wav(tmp.path(), &format!("{i}.wav"), 1.0)).collect();
        let dir = tmp.path().join("pcm16");
        // Each entry is 32 000 bytes; room for three.
        let cache = PcmCache::new(&dir, Some(100_000));
        for (i, clip) in clips[..3].iter().enumerate() {
            cache.samples(clip).unwrap();
            age(&cache.entry(clip), 1000 - 100 * i as u64);
        }
        // Reading clip 0 again makes clip 1 the least recently used.
        assert_eq!(cache.samples(&clips[0]).unwrap().len(), 16_000);
        cache.samples(&clips[3]).unwrap();
        let left: Vec<bool> = clips.iter().map(|c| cache.entry(c).exists()).collect();
        assert_eq!(left, [true, false, true, true]);
        // A fresh process (no known size) looks at the folder before trusting its count.
        let smaller = PcmCache::new(&dir, Some(70_000));
        smaller.samples(&clips[1]).unwrap();
        let total: u64 = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
        assert!(total <= 70_000, "{total}");
        assert!(smaller.entry(&clips[1]).exists(), "the entry just written stays");
    }

    #[test]
    fn an_evicted_entry_is_decoded_again() {
        let tmp = tempfile::tempdir().unwrap();
        let clip = wav(tmp.path(), "a.wav", 6.0);
        let cache = PcmCache::new(&tmp.path().join("pcm16"), None);
        let first = cache.samples(&clip).unwrap();
        std::fs::remove_file(cache.entry(&clip)).unwrap();
        let chunk = cache.random_chunk(&clip, &mut rand::rng()).unwrap();
        assert_eq!(chunk.len(), CHUNK_SAMPLES);
        assert_eq!(cache.samples(&clip).unwrap(), first);
    }
}
