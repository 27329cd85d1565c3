//! musicnn feature rows of each clip's windows, cached on disk: the trunk is frozen, so a clip's
//! rows are computed once and every later run, evaluation and cross-validation fold reads them.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use sha1::{Digest, Sha1};
use tch::{Kind, Tensor};

use super::MusicnnTrunk;
use crate::model::error::{ModelError, Result};

/// Bumped whenever the front end, the windows or the row layout change.
const LAYOUT_VERSION: &str = "musicnn-rows-v1";

/// Rows `[windows, row_dim]` per clip, under `<root>/musicnn/<model>[+<model>]-<key>/`.
#[derive(Debug, Clone)]
pub struct FeatureCache {
    dir: PathBuf,
    width: i64,
}

impl FeatureCache {
    /// The cache of a trunk's rows (its taggers' side by side) for windows described by
    /// `windows` (count, mode…), under `root`. The folder's key changes with the weights, the
    /// layout version and `windows`.
    pub fn new(root: &Path, trunk: &MusicnnTrunk, windows: &str) -> Self {
        let mut h = Sha1::new();
        h.update(LAYOUT_VERSION.as_bytes());
        for net in trunk.nets() {
            h.update(net.weights_id().as_bytes());
        }
        h.update(windows.as_bytes());
        let key: String = h.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect();
        let dir = root.join("musicnn").join(format!("{}-{key}", trunk.names().join("+")));
        Self { dir, width: trunk.row_dim() }
    }

    fn entry(&self, clip: &Path) -> PathBuf {
        self.dir.join(format!("{}.npy", crate::config::file_cache_key(clip)))
    }

    /// Whether `clip`'s rows are cached (then [`FeatureCache::rows`] reads rather than computes).
    pub fn has(&self, clip: &Path) -> bool {
        self.entry(clip).is_file()
    }

    /// The rows of `clip`: read from the cache, or computed by `compute` and stored. An unreadable
    /// entry (a killed writer, a damaged disk) is computed again.
    pub fn rows(&self, clip: &Path, compute: impl FnOnce() -> Result<Tensor>) -> Result<Tensor> {
        let entry = self.entry(clip);
        if let Some(rows) = read(&entry, self.width) {
            return Ok(rows);
        }
        let rows = compute()?.to_kind(Kind::Float).to_device(tch::Device::Cpu).contiguous();
        let size = rows.size();
        if size.len() != 2 || size[1] != self.width {
            let expected = format!("[windows, {}]", self.width);
            return Err(ModelError::Shape { what: "musicnn feature rows".into(), expected, got: size });
        }
        let values = Vec::<f32>::try_from(rows.view([-1]))?;
        let array = Array2::from_shape_vec((size[0] as usize, size[1] as usize), values)
            .map_err(|e| write_err(&entry, e))?;
        let mut bytes = Vec::new();
        array.write_npy(&mut bytes).map_err(|e| write_err(&entry, e))?;
        // A full disk or a read-only cache costs speed, not the run: the rows are still returned.
        if let Err(e) = crate::config::write_atomic(&entry, &bytes) {
            tracing::warn!("musicnn feature cache {}: {e}", entry.display());
        }
        Ok(rows)
    }
}

fn read(entry: &Path, width: i64) -> Option<Tensor> {
    let file = std::fs::File::open(entry).ok()?;
    let array = Array2::<f32>::read_npy(file).ok()?;
    let (r, c) = array.dim();
    (c as i64 == width).then(|| {
        let values: Vec<f32> = array.into_iter().collect();
        Tensor::from_slice(&values).view([r as i64, c as i64])
    })
}

fn write_err(entry: &Path, e: impl std::fmt::Display) -> ModelError {
    ModelError::Write { path: entry.into(), message: e.to_string() }
}
