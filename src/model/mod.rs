//! Models of the five emotion spaces: the audio CNN, the projection heads, the losses and
//! negative sampling, model directories, and the authors' Lightning checkpoints.

pub mod audio_cnn;
pub mod error;
pub mod head;
pub mod mel_stats;
pub mod musicnn;
pub mod trunk;
pub mod weights;

pub use audio_cnn::{AudioCnn, AudioCnnConfig, TrunkKind};
pub use error::{ModelError, Result};
pub use head::{Head, Heads};
pub use mel_stats::MelStats;
pub use trunk::AudioTrunk;
pub mod losses;
pub mod space;
pub mod triplet;

pub use space::{Similarity, Space};
pub use triplet::{sample_negatives, three_branch_loss, triplet_loss, two_branch_loss, PairGroup};
pub mod config;
pub mod emotion_model;
pub mod lightning;
pub mod model_dir;
pub mod torch_archive;
pub mod windows;

pub use config::{FrontEndSettings, ModelConfig, TextSettings};
pub use emotion_model::{EmotionModel, QuadrantShare};
pub use windows::{SegmentMels, WindowMode, WindowPlan};
