//! What tells the indexer a file is unchanged: path, size, modification time and a hash of its
//! first 64 KiB (cheap to read, and it catches a rewrite that kept size and mtime).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha1::{Digest, Sha1};

use super::store::ClipRecord;

/// Bytes of the file start that go into the header hash.
const HEADER_BYTES: u64 = 64 * 1024;

/// The identity of a file's current contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub path: PathBuf,
    pub size: u64,
    pub mtime_ns: u64,
    pub header_hash: String,
}

impl Fingerprint {
    pub fn of(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let mut header = Vec::with_capacity(HEADER_BYTES as usize);
        std::fs::File::open(path)?.take(HEADER_BYTES).read_to_end(&mut header)?;
        let header_hash = Sha1::digest(&header).iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self { path: path.to_path_buf(), size: meta.len(), mtime_ns, header_hash })
    }

    /// Whether `clip` was indexed from exactly this file content.
    pub fn matches(&self, clip: &ClipRecord) -> bool {
        clip.path == self.path
            && clip.size == self.size
            && clip.mtime_ns == self.mtime_ns
            && clip.header_hash == self.header_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_with_content_not_with_reads() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.wav");
        std::fs::write(&p, b"RIFF1234").unwrap();
        let a = Fingerprint::of(&p).unwrap();
        assert_eq!(a, Fingerprint::of(&p).unwrap());
        assert_eq!(a.size, 8);
        assert_eq!(a.header_hash.len(), 40);
        std::fs::write(&p, b"RIFF5678").unwrap();
        assert_ne!(a.header_hash, Fingerprint::of(&p).unwrap().header_hash);
        assert!(Fingerprint::of(&dir.path().join("missing.wav")).is_err());
    }
}
