//! The audio trunk a model was built with: the paper's CNN, per-band mel statistics, or a frozen
//! musicnn tagger, behind one type.

use tch::nn::{self, ModuleT};
use tch::Tensor;

use super::audio_cnn::{AudioCnn, AudioCnnConfig, TrunkKind};
use super::error::{expect_rank, ModelError, Result};
use super::mel_stats::MelStats;
use super::musicnn::MusicnnTrunk;

/// The audio trunk a model was built with.
#[derive(Debug)]
pub enum AudioTrunk {
    Cnn(Box<AudioCnn>),
    MelStats(MelStats),
    Musicnn(Box<MusicnnTrunk>),
}

impl AudioTrunk {
    /// Builds the trunk `config.trunk` names under `p` (musicnn's weights come from the data dir).
    pub fn new(p: &nn::Path, config: AudioCnnConfig) -> Result<Self> {
        Ok(match config.trunk {
            TrunkKind::Cnn => Self::Cnn(Box::new(AudioCnn::new(p, config))),
            TrunkKind::MelStats => Self::MelStats(MelStats::new(p, config.n_mels)),
            TrunkKind::MusicnnMsd | TrunkKind::MusicnnMtt | TrunkKind::MusicnnBoth => {
                let features = config.musicnn_features.unwrap_or_default();
                Self::Musicnn(Box::new(MusicnnTrunk::new(p, config.trunk.musicnn_models(), features)?))
            }
        })
    }

    /// The frozen pretrained trunk, if this is one.
    pub fn musicnn(&self) -> Option<&MusicnnTrunk> {
        match self {
            Self::Musicnn(m) => Some(m),
            _ => None,
        }
    }

    /// Checks a log-mel batch `[B, n_mels, T]` before it reaches libtorch (which would panic).
    pub fn check_input(&self, mel: &Tensor, config: &AudioCnnConfig) -> Result<()> {
        let expected = format!("[batch, {}, frames ≥ {}]", config.n_mels, config.min_frames());
        let size = expect_rank(mel, 3, "log-mel batch", &expected)?;
        if size[0] < 1 || size[1] != config.n_mels || size[2] < config.min_frames() {
            return Err(ModelError::Shape { what: "log-mel batch".into(), expected, got: size });
        }
        Ok(())
    }
}

impl AudioTrunk {
    /// Frames a window's start must be a multiple of, within a segment.
    pub fn window_grid(&self) -> i64 {
        match self {
            Self::Cnn(cnn) => cnn.window_grid(),
            Self::MelStats(_) | Self::Musicnn(_) => 1,
        }
    }

    /// Trunk outputs of the windows of segments `mel` [S, n_mels, T] (eval mode), `offsets[s]`
    /// in frames on [`Self::window_grid`], each `frames` long → [Σ windows, out_dim].
    pub fn forward_windows(&self, mel: &Tensor, offsets: &[Vec<i64>], frames: i64) -> Tensor {
        match self {
            Self::Cnn(cnn) => cnn.forward_windows(mel, offsets, frames),
            Self::MelStats(stats) => {
                stats.forward_t(&super::windows::slice_windows(mel, offsets, 1, frames), false)
            }
            Self::Musicnn(_) => {
                self.forward_t(&super::windows::slice_windows(mel, offsets, 1, frames), false)
            }
        }
    }
}

impl ModuleT for AudioTrunk {
    /// [B, n_mels, T] → [B, parts · config.out_dim()] (the blocks side by side)
    fn forward_t(&self, mel: &Tensor, train: bool) -> Tensor {
        match self {
            Self::Cnn(cnn) => cnn.forward_t(mel, train),
            Self::MelStats(stats) => stats.forward_t(mel, train),
            Self::Musicnn(m) => m.from_rows(&m.feature_rows(mel), train),
        }
    }
}
