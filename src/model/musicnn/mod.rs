//! musicnn (Pons & Serra 2019): pretrained music taggers used as a frozen audio trunk.
//!
//! `scripts/setup` converts the TensorFlow checkpoints of the `musicnn==0.1.0` wheel into
//! `<data>/models/musicnn/{MSD,MTT}_musicnn.safetensors` under the TF variable names and layouts;
//! [`Musicnn`] runs the graph of the package's `models.py` on tch, BatchNorm folded.

mod cache;
mod graph;
mod trunk;

use std::path::{Path, PathBuf};

pub use cache::FeatureCache;
pub use graph::{Musicnn, MusicnnOutputs, FEATURE_DIM, N_MELS, PATCH_FRAMES};
pub use trunk::MusicnnTrunk;

/// Samples in one musicnn window: 186 hops, so a centred log-mel of it has [`PATCH_FRAMES`]
/// frames (2.98 s).
pub const WINDOW_SAMPLES: usize = (PATCH_FRAMES as usize - 1) * 256;

use super::error::{ModelError, Result};

/// Which pretrained tagger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MusicnnModel {
    /// Million Song Dataset, 50 last.fm tags (happy, sad, Mellow, chill, beautiful, party…).
    #[default]
    Msd,
    /// MagnaTagATune, 50 tags (slow, fast, soft, quiet, loud, new age…).
    Mtt,
}

impl MusicnnModel {
    /// The checkpoint's name in the wheel.
    pub fn name(self) -> &'static str {
        match self {
            Self::Msd => "MSD_musicnn",
            Self::Mtt => "MTT_musicnn",
        }
    }

    /// The converted weights under the data dir.
    pub fn weights_path(self) -> Result<PathBuf> {
        let dirs = crate::config::Dirs::resolve()
            .map_err(|e| ModelError::Read { path: "musicnn".into(), message: e.to_string() })?;
        Ok(dirs.musicnn().join(format!("{}.safetensors", self.name())))
    }
}

/// What the song head sees of musicnn's outputs for a window (chosen by cross-validation,
/// docs/evaluation.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MusicnnFeatures {
    /// The 200-d penultimate layer.
    #[default]
    Penultimate,
    /// The 50 tag probabilities.
    Tags,
    /// Penultimate and tags (250).
    PenultimateTags,
    /// Max and mean over time of the front and mid end (1506).
    Pooled,
    /// Everything: penultimate, tags, pooled (1756).
    All,
}

impl MusicnnFeatures {
    pub const ALL: [Self; 5] =
        [Self::Penultimate, Self::Tags, Self::PenultimateTags, Self::Pooled, Self::All];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Penultimate => "penultimate",
            Self::Tags => "tags",
            Self::PenultimateTags => "penultimate-tags",
            Self::Pooled => "pooled",
            Self::All => "all",
        }
    }

    /// Column ranges of the full feature row ([`MusicnnOutputs::feature_row`]: penultimate 200,
    /// tags 50, max-pool 753, mean-pool 753).
    pub fn columns(self) -> std::ops::Range<i64> {
        match self {
            Self::Penultimate => 0..200,
            Self::Tags => 200..250,
            Self::PenultimateTags => 0..250,
            Self::Pooled => 250..FEATURE_DIM,
            Self::All => 0..FEATURE_DIM,
        }
    }

    pub fn dim(self) -> i64 {
        let r = self.columns();
        r.end - r.start
    }
}

impl std::str::FromStr for MusicnnFeatures {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|f| f.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|f| f.as_str()).collect();
            format!("unknown musicnn features {s:?} (expected {})", names.join(", "))
        })
    }
}

/// The one-line error for absent converted weights.
pub(crate) fn missing(path: &Path) -> ModelError {
    ModelError::Read {
        path: path.into(),
        message: "musicnn weights are not installed; run scripts/setup to convert them".into(),
    }
}

/// The `k` most probable tags of feature rows `[W, FEATURE_DIM]`, probabilities averaged over
/// the windows, best first.
pub fn top_tags(net: &Musicnn, rows: &tch::Tensor, k: usize) -> Vec<(String, f32)> {
    let tags = MusicnnFeatures::Tags.columns();
    let mean = rows
        .narrow(1, tags.start, tags.end - tags.start)
        .mean_dim([0i64].as_slice(), false, tch::Kind::Float)
        .to_device(tch::Device::Cpu);
    let probs = Vec::<f32>::try_from(mean).unwrap_or_default();
    let mut scored: Vec<(String, f32)> = net.labels().iter().cloned().zip(probs).collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(k);
    scored
}
