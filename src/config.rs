//! Configuration file and directories.
//!
//! Directories follow the XDG layout through `directories::ProjectDirs`, with overrides:
//! `STORYSCORE_DATA` (data dir: models, vectors, indexes), `STORYSCORE_CONFIG` (config file path),
//! `STORYSCORE_CACHE` (cache dir: logs, mel cache).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where Debian's `wesnoth-1.16-music` installs its tracks: the built-in default library.
pub const DEFAULT_LIBRARY: &str = "/usr/share/games/wesnoth/1.16/data/core/music";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no home directory found; set STORYSCORE_DATA and STORYSCORE_CONFIG")]
    NoHome,
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

/// The directories storyscore reads and writes.
#[derive(Debug, Clone)]
pub struct Dirs {
    pub data: PathBuf,
    pub config_file: PathBuf,
    pub cache: PathBuf,
}

impl Dirs {
    pub fn resolve() -> Result<Self, ConfigError> {
        let proj = directories::ProjectDirs::from("", "", "storyscore");
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let data = env("STORYSCORE_DATA")
            .or_else(|| proj.as_ref().map(|p| p.data_dir().to_path_buf()))
            .ok_or(ConfigError::NoHome)?;
        let config_file = env("STORYSCORE_CONFIG")
            .or_else(|| proj.as_ref().map(|p| p.config_dir().join("config.toml")))
            .ok_or(ConfigError::NoHome)?;
        let cache = env("STORYSCORE_CACHE")
            .or_else(|| proj.as_ref().map(|p| p.cache_dir().to_path_buf()))
            .ok_or(ConfigError::NoHome)?;
        Ok(Self { data, config_file, cache })
    }

    /// all-MiniLM-L6-v2 as installed by scripts/setup (Hugging Face layout).
    pub fn minilm(&self) -> PathBuf {
        self.data.join("models/all-MiniLM-L6-v2")
    }

    /// The musicnn taggers converted by scripts/setup (`MSD_musicnn.safetensors`, `MTT_…`).
    pub fn musicnn(&self) -> PathBuf {
        self.data.join("models/musicnn")
    }

    /// GloVe 6B 50-d as installed by scripts/setup (`vectors.npy` + `vocab.txt`).
    pub fn glove(&self) -> PathBuf {
        self.data.join("vectors/glove-6b-50d")
    }

    /// The default model: a copy in the data dir wins, else the one shipped in the repository's
    /// `data/default-model` (trained by `scripts/train-default`).
    pub fn default_model(&self) -> PathBuf {
        let installed = self.data.join("models/default-model");
        if installed.join("model.toml").exists() {
            return installed;
        }
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/default-model")
    }

    /// Index of the built-in library made with the default model (built on first launch).
    pub fn default_index(&self) -> PathBuf {
        self.indexes().join("default")
    }

    /// Default place for library indexes.
    pub fn indexes(&self) -> PathBuf {
        self.data.join("indexes")
    }

    /// Directory for the config file's siblings (themes, keys).
    pub fn config_dir(&self) -> PathBuf {
        self.config_file.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    pub fn log_file(&self) -> PathBuf {
        self.cache.join("storyscore.log")
    }
}

/// Thresholds of the training alerts (`[alerts]` in the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertConfig {
    /// Loss (smoothed) above this many times its running minimum…
    pub diverge_factor: f64,
    /// …for this many steps in a row.
    pub diverge_steps: u64,
    /// Validation P@5 without a new best for this many evaluations.
    pub plateau_evals: u64,
    /// A step taking this many times the median step time…
    pub slow_step_factor: f64,
    /// …and at least this many seconds.
    pub slow_step_min_s: f64,
    /// GPU utilisation under this percentage while training…
    pub gpu_idle_pct: f64,
    /// …for this many seconds.
    pub gpu_idle_s: f64,
    /// GPU memory above this percentage of the card's.
    pub gpu_memory_pct: f64,
    /// Free space on the run directory's disk under this many GB.
    pub disk_free_gb: f64,
}

impl Default for AlertConfig {
    fn default() -> Self {
        Self {
            diverge_factor: 3.0,
            diverge_steps: 50,
            plateau_evals: 5,
            slow_step_factor: 5.0,
            slow_step_min_s: 5.0,
            gpu_idle_pct: 5.0,
            gpu_idle_s: 60.0,
            gpu_memory_pct: 95.0,
            disk_free_gb: 1.0,
        }
    }
}

/// The TOML config file. Every field has a default; a missing file means all defaults.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Music folders shown in the app and indexed by default.
    pub library: Vec<PathBuf>,
    /// Colour theme: a name from `themes/` (dark, light, mono) or a path to a theme file.
    pub theme: String,
    /// Audio output device name (as listed by `storyscore devices`); empty means the system default.
    pub audio_device: String,
    /// Playback volume, 0.0 to 1.0.
    pub volume: f32,
    /// Threads for libtorch and the parallel loaders; 0 means all cores.
    pub threads: usize,
    /// `cpu`, `cuda` or `auto` (CUDA when libtorch sees a GPU).
    pub device: String,
    /// Size limit of the decoded-audio cache in GB (least recently used clips are removed past
    /// it); 0 turns the limit off. `storyscore cache` shows what each cache holds.
    pub audio_cache_gb: f64,
    /// Minutes of system samples the Train tab charts.
    pub history_minutes: u64,
    /// When the training dashboard and `storyscore monitor` raise alerts.
    pub alerts: AlertConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            library: vec![PathBuf::from(DEFAULT_LIBRARY)],
            theme: "dark".into(),
            audio_device: String::new(),
            volume: 0.8,
            threads: 0,
            device: "auto".into(),
            audio_cache_gb: 2.0,
            history_minutes: 10,
            alerts: AlertConfig::default(),
        }
    }
}

impl Config {
    /// Loads the config file; a missing file yields the defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(ConfigError::Read { path: path.into(), source }),
        };
        toml::from_str(&text)
            .map_err(|e| ConfigError::Parse { path: path.into(), message: one_line(&text, &e) })
    }

    /// The documented default file, as written by `storyscore config --init`.
    pub fn default_toml() -> String {
        let mut out =
            String::from("# storyscore configuration. Every key is optional; shown with its default.\n");
        out.push_str(&toml::to_string_pretty(&Self::default()).unwrap_or_default());
        out
    }

    /// The decoded-audio cache's limit in bytes (`None`: no limit).
    pub fn audio_cache_limit(&self) -> Option<u64> {
        (self.audio_cache_gb > 0.0).then_some((self.audio_cache_gb * 1e9) as u64)
    }

    /// The libtorch device this config asks for, falling back to CPU without a GPU.
    pub fn tch_device(&self) -> tch::Device {
        match self.device.as_str() {
            "cpu" => tch::Device::Cpu,
            _ => tch::Device::cuda_if_available(),
        }
    }
}

/// A TOML error as one line: where it is and what is wrong ("line 1, column 18: invalid type:
/// string \"lots\", expected f64"), without the caret diagram.
fn one_line(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().lines().next().unwrap_or_default().trim();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_string(),
    }
}

/// Writes `bytes` to `path` atomically: a temp file in the same folder, fsync, then rename. On
/// failure (a full disk) the temp file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// Streams `write`'s output to a temp file beside `path` (`.NAME.PID.tmp`), fsyncs it and
/// renames it into place. On any failure (a full disk, a file-size limit) the temp file is
/// removed and `path` is left as it was.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut staged = Staged::default();
    staged.write(path, write)?;
    staged.commit().map_err(|(_, e)| e)
}

/// Files written to temp files beside their targets and renamed into place together once all
/// are written (and files to remove, removed then), so a set of files (an index) is replaced
/// whole or not at all. Temp files not committed are removed on drop.
#[derive(Debug, Default)]
pub struct Staged {
    /// (temp file, target) in the order they are carried out; no temp file: remove the target.
    files: Vec<(Option<PathBuf>, PathBuf)>,
}

impl Staged {
    /// Writes the next file's new content; on failure its temp file is removed at once.
    pub fn write(
        &mut self,
        path: &Path,
        write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let written = std::fs::File::create(&tmp).and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            write(&mut out)?;
            let file = out.into_inner().map_err(std::io::IntoInnerError::into_error)?;
            file.sync_all()
        });
        match written {
            Ok(()) => {
                self.files.push((Some(tmp), path.to_path_buf()));
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    /// Removes `path` on commit (a file the new set no longer has; missing is fine).
    pub fn remove(&mut self, path: &Path) {
        self.files.push((None, path.to_path_buf()));
    }

    /// Renames every staged file into place and removes those to remove, in order. → the
    /// target that failed, and why.
    pub fn commit(mut self) -> Result<(), (PathBuf, std::io::Error)> {
        for (tmp, path) in std::mem::take(&mut self.files) {
            let done = match &tmp {
                Some(tmp) => std::fs::rename(tmp, &path),
                None => std::fs::remove_file(&path).or_else(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => Ok(()),
                    _ => Err(e),
                }),
            };
            if let Err(e) = done {
                if let Some(tmp) = tmp {
                    let _ = std::fs::remove_file(tmp);
                }
                return Err((path, e));
            }
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for tmp in self.files.iter().filter_map(|(tmp, _)| tmp.as_ref()) {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// A short key for a file's current version (path, size, modification second), naming its entry
/// in the on-disk caches of decoded audio and frozen features.
pub fn file_cache_key(path: &Path) -> String {
    use sha1::{Digest, Sha1};
    let meta = std::fs::metadata(path).ok();
    // Canonical, so `../shared/x.ogg` and `/work/shared/x.ogg` share their entries.
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut h = Sha1::new();
    h.update(canonical.to_string_lossy().as_bytes());
    h.update(meta.as_ref().map_or(0, |m| m.len()).to_le_bytes());
    let mtime =
        meta.and_then(|m| m.modified().ok()).and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    h.update(mtime.map_or(0, |d| d.as_secs()).to_le_bytes());
    h.finalize().iter().take(10).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_file_round_trips() {
        let parsed: Config = toml::from_str(&Config::default_toml()).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn unknown_key_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "colour = 'red'\n").unwrap();
        let err = Config::load(&p).unwrap_err().to_string();
        assert!(err.contains("config.toml") && err.contains("colour"), "{err}");
    }

    #[test]
    fn missing_file_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Config::load(&dir.path().join("none.toml")).unwrap(), Config::default());
    }

    #[test]
    fn atomic_write_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
