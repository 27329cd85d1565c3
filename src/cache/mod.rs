//! The caches under the cache dir: decoded audio, musicnn features and frozen text features.
//! Each is derived data (safe to delete, recomputed on a miss); the decoded audio is the large
//! one and is kept under a size limit from the config (least recently used entries go first).

pub mod pcm;

use std::path::{Path, PathBuf};

pub use pcm::PcmCache;

use crate::audio::AudioError;
use crate::config::{Config, ConfigError, Dirs};

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A clip that cannot be decoded (its own error names the file).
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("unknown cache {0:?} (expected audio, musicnn or text)")]
    Unknown(String),
}

impl CacheError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }
}

/// One kind of cache, each in its own folder under the cache dir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Clips decoded to 16-kHz mono int16 (`pcm16/`).
    Audio,
    /// Frozen musicnn feature rows per clip (`musicnn/`).
    Musicnn,
    /// Frozen text-encoder features per corpus (`text-features/`).
    Text,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Audio, Kind::Musicnn, Kind::Text];

    /// The name `storyscore cache --clear NAME` takes.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Audio => "audio",
            Kind::Musicnn => "musicnn",
            Kind::Text => "text",
        }
    }

    pub fn folder(self) -> &'static str {
        match self {
            Kind::Audio => "pcm16",
            Kind::Musicnn => "musicnn",
            Kind::Text => "text-features",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Kind::Audio => "decoded clips (16 kHz mono)",
            Kind::Musicnn => "musicnn feature rows per clip",
            Kind::Text => "frozen text-encoder features",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = CacheError;
    fn from_str(s: &str) -> Result<Self, CacheError> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s || k.folder() == s)
            .ok_or_else(|| CacheError::Unknown(s.into()))
    }
}

/// What one cache holds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Usage {
    pub name: &'static str,
    pub path: PathBuf,
    pub files: u64,
    pub bytes: u64,
    /// The size limit, for the caches that have one.
    pub limit_bytes: Option<u64>,
}

/// The caches under one root, with the limit the config sets.
#[derive(Debug, Clone)]
pub struct Caches {
    root: PathBuf,
    audio_limit: Option<u64>,
}

impl Caches {
    pub fn new(root: &Path, config: &Config) -> Self {
        Self { root: root.into(), audio_limit: config.audio_cache_limit() }
    }

    /// The caches of the resolved directories and config file (for library code that runs
    /// without the CLI's context, e.g. a training worker).
    pub fn resolve() -> Result<Self, ConfigError> {
        let dirs = Dirs::resolve()?;
        let config = Config::load(&dirs.config_file)?;
        Ok(Self::new(&dirs.cache, &config))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dir(&self, kind: Kind) -> PathBuf {
        self.root.join(kind.folder())
    }

    /// The folder of frozen text-encoder features.
    pub fn text_features(&self) -> PathBuf {
        self.dir(Kind::Text)
    }

    /// The decoded-audio cache, bounded by the config's `audio_cache_gb`.
    pub fn audio(&self) -> PcmCache {
        PcmCache::new(&self.dir(Kind::Audio), self.audio_limit)
    }

    pub fn usage(&self, kind: Kind) -> Usage {
        let path = self.dir(kind);
        let (files, bytes) = folder_size(&path);
        let limit_bytes = if kind == Kind::Audio { self.audio_limit } else { None };
        Usage { name: kind.name(), path, files, bytes, limit_bytes }
    }

    /// Removes one cache's folder; returns what it held. A missing folder is already clear.
    pub fn clear(&self, kind: Kind) -> Result<Usage, CacheError> {
        let usage = self.usage(kind);
        match std::fs::remove_dir_all(&usage.path) {
            Ok(()) => Ok(usage),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(usage),
            Err(e) => Err(CacheError::io(&usage.path, e)),
        }
    }
}

/// Files and bytes under `dir`, recursively; unreadable entries count as nothing.
fn folder_size(dir: &Path) -> (u64, u64) {
    let Ok(entries) = std::fs::read_dir(dir) else { return (0, 0) };
    let mut total = (0, 0);
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            let (f, b) = folder_size(&entry.path());
            total = (total.0 + f, total.1 + b);
        } else {
            total = (total.0 + 1, total.1 + meta.len());
        }
    }
    total
}
