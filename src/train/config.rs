//! The full training configuration, stored as `config.toml` in the run directory.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::{Space, TrunkKind};

/// Everything that defines a training run; defaults are the paper's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub space: Space,
    /// Text dataset as `KIND:PATH`.
    pub text: String,
    /// Music dataset as `KIND:PATH`.
    pub music: String,
    /// Stop after this many epochs (passes over the text training items).
    pub epochs: u64,
    /// Stop after this many optimiser steps in total (overrides `epochs` when smaller).
    pub max_steps: Option<u64>,
    /// `cpu` or `cuda`.
    pub device: String,
    /// Keep the text encoder frozen (and its outputs cached); false fine-tunes it.
    pub freeze_text: bool,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    /// Cosine triplet margin.
    pub margin: f64,
    /// Audio chunk length at 16 kHz.
    pub chunk_samples: usize,
    /// Chunks averaged per clip in validation and evaluation.
    pub eval_chunks: usize,
    /// Validate every this many steps (0: once per epoch).
    pub eval_every: u64,
    /// Write a checkpoint every this many steps (0: once per epoch).
    pub checkpoint_every: u64,
    /// How many step checkpoints to keep.
    pub keep_checkpoints: usize,
    /// Audio decoding threads feeding the trainer.
    pub loader_threads: usize,
    /// Batches decoded ahead of the step.
    pub prefetch_batches: usize,
    pub seed: u64,
    /// Sentence encoder directory (MiniLM or DistilBERT, Hugging Face layout).
    pub text_encoder: PathBuf,
    /// Word vectors of the mood words (`vectors.npy` + `vocab.txt` directory).
    pub word_vectors: PathBuf,
    /// Text → song-mood mapper used to pair training positives (`w2v` or `va`).
    pub train_mapper: String,
    /// How the text encoder's tokens become one vector: `mean` (what MiniLM was trained for)
    /// or `cls` (the paper's DistilBERT first token).
    #[serde(default = "default_pooling")]
    pub text_pooling: String,
    /// The audio trunk: the paper's CNN, the per-band log-mel statistics or a frozen musicnn.
    #[serde(default)]
    pub audio_trunk: TrunkKind,
    /// Cross-validation fold `K/N`: fold K of the text and music data is the test split (see
    /// `data::assign_fold`); unset, the datasets' own splits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold: Option<String>,
    /// What the song head sees of a musicnn trunk (default: its penultimate layer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub musicnn_features: Option<crate::model::musicnn::MusicnnFeatures>,
    /// Moods space: draw training texts so that every first label (and the unlabelled rated
    /// texts as one group) is equally likely, instead of every text.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub balance_labels: bool,
    /// Each part of a joined text dataset is drawn with total weight ∝ its size to this power
    /// (1: every text alike; 0: every dataset alike).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub dataset_power: f64,
    /// Moods space: share of the training text draws that go to the mood lexicon (a hundred
    /// words among tens of thousands of texts would otherwise hardly be seen).
    #[serde(default = "default_lexicon_share", skip_serializing_if = "is_default_lexicon_share")]
    pub lexicon_share: f64,
    /// Moods space: where a text's quadrant target comes from.
    #[serde(default, skip_serializing_if = "TextQuadrants::is_default")]
    pub text_quadrants: TextQuadrants,
    /// Moods space: the power of the text prior matching divides by (model.toml's
    /// `prior_power`; the prior itself is measured when training ends or stops).
    #[serde(default = "default_prior_power")]
    pub prior_power: f64,
    /// Moods space: the power of the song prior matching divides by (model.toml's
    /// `song_prior_power`; the prior is measured with the text one). Runs stored before it
    /// existed read 0 (off).
    #[serde(default)]
    pub song_prior_power: f64,
    /// Moods space: the zero-shot share of a text's mood distribution in matching (model.toml's
    /// `zero_shot_weight`, written with the prior).
    #[serde(default = "default_zero_shot_weight")]
    pub zero_shot_weight: f64,
    /// Moods space: the zero-shot softmax's temperature (model.toml's `zero_shot_temperature`).
    #[serde(default = "default_zero_shot_temperature")]
    pub zero_shot_temperature: f64,
    /// Moods space: heads per branch, an ensemble (model.toml's `members`).
    #[serde(
        default = "crate::model::config::default_members",
        skip_serializing_if = "crate::model::config::is_default_members"
    )]
    pub members: usize,
}

/// Chosen by 5-fold cross-validation (docs/evaluation.md, "The text prior's power").
pub const DEFAULT_PRIOR_POWER: f64 = 0.5;

fn default_prior_power() -> f64 {
    DEFAULT_PRIOR_POWER
}

/// Chosen by 5-fold cross-validation (docs/evaluation.md, "The song prior").
pub const DEFAULT_SONG_PRIOR_POWER: f64 = 0.0;

/// Chosen by 5-fold cross-validation (docs/evaluation.md, "Zero-shot mood words").
pub const DEFAULT_ZERO_SHOT_WEIGHT: f64 = 0.5;
/// Chosen with [`DEFAULT_ZERO_SHOT_WEIGHT`].
pub const DEFAULT_ZERO_SHOT_TEMPERATURE: f64 = 0.2;

fn default_zero_shot_weight() -> f64 {
    DEFAULT_ZERO_SHOT_WEIGHT
}

fn default_zero_shot_temperature() -> f64 {
    DEFAULT_ZERO_SHOT_TEMPERATURE
}

/// Moods space: the quadrant a labelled text learns. `Nrc`: the NRC-VAD quadrant its labels
/// agree on (the quadrant view's ground truth; it puts love, optimism and even "tender" in Q1,
/// their arousal being just over 0.5). `Moods`: the quadrant its labels' moods agree on
/// (love → tender → Q4), consistent with the mood target. `Soft`: a distribution over the
/// quadrants from the labels' mean NRC-VAD point, each axis a logistic of its distance from 0.5
/// (scale [`SOFT_QUADRANT_SCALE`]), so a label just over the arousal midline (love 0.519) is
/// taught as nearly Q1 and Q4 alike while clear ones stay clear.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextQuadrants {
    #[default]
    Nrc,
    Moods,
    Soft,
}

/// Scale of `--text-quadrants soft`'s logistic (valence/arousal units; fixed, not tuned).
pub const SOFT_QUADRANT_SCALE: f32 = 0.1;

impl TextQuadrants {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// A `--text-quadrants` value that is neither `nrc` nor `moods`.
#[derive(Debug, thiserror::Error)]
#[error("expected nrc, moods or soft, got {0:?}")]
pub struct UnknownTextQuadrants(String);

impl std::str::FromStr for TextQuadrants {
    type Err = UnknownTextQuadrants;
    fn from_str(s: &str) -> Result<Self, UnknownTextQuadrants> {
        match s {
            "nrc" => Ok(Self::Nrc),
            "moods" => Ok(Self::Moods),
            "soft" => Ok(Self::Soft),
            _ => Err(UnknownTextQuadrants(s.to_string())),
        }
    }
}

/// None: drawing the mood lexicon was not cross-validated (docs/evaluation.md).
fn default_lexicon_share() -> f64 {
    0.0
}

fn is_default_lexicon_share(share: &f64) -> bool {
    *share == default_lexicon_share()
}

/// `dataset_power`'s default: every text drawn alike.
fn one() -> f64 {
    1.0
}

fn is_one(v: &f64) -> bool {
    *v == 1.0
}

fn default_pooling() -> String {
    "mean".into()
}

impl TrainConfig {
    /// A config with the paper's defaults for the given data.
    pub fn new(space: Space, text: &str, music: &str, text_encoder: PathBuf, word_vectors: PathBuf) -> Self {
        Self {
            space,
            text: text.into(),
            music: music.into(),
            epochs: 200,
            max_steps: None,
            device: "cpu".into(),
            freeze_text: true,
            batch_size: 32,
            learning_rate: 1e-4,
            weight_decay: 1e-4,
            margin: 0.2,
            chunk_samples: 80_000,
            eval_chunks: 16,
            eval_every: 0,
            checkpoint_every: 0,
            keep_checkpoints: 3,
            loader_threads: 2,
            prefetch_batches: 4,
            seed: 2021,
            text_encoder,
            word_vectors,
            train_mapper: "w2v".into(),
            text_pooling: default_pooling(),
            audio_trunk: TrunkKind::Cnn,
            musicnn_features: None,
            fold: None,
            balance_labels: false,
            dataset_power: 1.0,
            lexicon_share: default_lexicon_share(),
            text_quadrants: TextQuadrants::default(),
            prior_power: DEFAULT_PRIOR_POWER,
            song_prior_power: DEFAULT_SONG_PRIOR_POWER,
            zero_shot_weight: DEFAULT_ZERO_SHOT_WEIGHT,
            zero_shot_temperature: DEFAULT_ZERO_SHOT_TEMPERATURE,
            members: crate::model::config::default_members(),
        }
    }

    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(self)
    }

    /// The one home of the config's ranges and combinations, for a new run (named as the
    /// `train` flags that set them) and for a stored `config.toml` read back by `--resume`
    /// (named as its keys).
    pub fn check(&self, naming: Naming) -> Result<(), ConfigProblem> {
        use crate::model::ModelConfig;
        let name = |key: &str| match naming {
            Naming::Flags => format!("--{}", key.replace('_', "-")),
            Naming::Keys => key.to_string(),
        };
        let moods_space = match naming {
            Naming::Flags => "--space moods",
            Naming::Keys => "space = \"moods\"",
        };
        let problem = |text: String| Err(ConfigProblem(text));
        if self.batch_size < 4 {
            return problem(format!(
                "{} must be at least 4 (two groups of at least 2), got {}",
                name("batch_size"),
                self.batch_size
            ));
        }
        if self.musicnn_features.is_some() && self.audio_trunk.musicnn().is_none() {
            return problem(format!(
                "{} needs {} musicnn, musicnn-msd, musicnn-mtt or musicnn-both",
                name("musicnn_features"),
                name("audio_trunk")
            ));
        }
        if !self.audio_trunk.suits(self.space) {
            return problem(format!("{} {} is for {moods_space}", name("audio_trunk"), self.audio_trunk));
        }
        if self.balance_labels && self.space != Space::Moods {
            return problem(format!("{} is for {moods_space}", name("balance_labels")));
        }
        if !(0.0..=1.0).contains(&self.dataset_power) {
            return problem(format!(
                "{} must be between 0 and 1, got {}",
                name("dataset_power"),
                self.dataset_power
            ));
        }
        if self.dataset_power != 1.0 && self.balance_labels {
            return problem(format!(
                "{} and {} each set the text draws; give one",
                name("dataset_power"),
                name("balance_labels")
            ));
        }
        if !LEXICON_SHARES.contains(&self.lexicon_share) {
            return problem(format!(
                "{} must be between 0 and 0.9, got {}",
                name("lexicon_share"),
                self.lexicon_share
            ));
        }
        for (key, power) in [("prior_power", self.prior_power), ("song_prior_power", self.song_prior_power)] {
            if !ModelConfig::PRIOR_POWERS.contains(&power) {
                return problem(format!("{} must be between 0 and 2, got {power}", name(key)));
            }
        }
        if !ModelConfig::ZERO_SHOT_WEIGHTS.contains(&self.zero_shot_weight) {
            return problem(format!(
                "{} must be between 0 and 1, got {}",
                name("zero_shot_weight"),
                self.zero_shot_weight
            ));
        }
        if !ModelConfig::ZERO_SHOT_TEMPERATURES.contains(&self.zero_shot_temperature) {
            return problem(format!(
                "{} must be above 0 and at most 10, got {}",
                name("zero_shot_temperature"),
                self.zero_shot_temperature
            ));
        }
        if !ModelConfig::MEMBERS.contains(&self.members) {
            return problem(format!("{} must be between 1 and 16, got {}", name("members"), self.members));
        }
        if self.members > 1 && self.space != Space::Moods {
            return problem(format!("{} is for {moods_space}", name("members")));
        }
        Ok(())
    }
}

/// How [`TrainConfig::check`] names a field: as the `train` flag or as the `config.toml` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    Flags,
    Keys,
}

/// A config value out of its range, or two that conflict; the text names the field.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigProblem(String);

/// Above 0.9 the lexicon's hundred words would crowd out the training texts.
const LEXICON_SHARES: std::ops::RangeInclusive<f64> = 0.0..=0.9;

/// How to start: a new run, or resuming the run in `run_dir`.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    pub run_dir: std::path::PathBuf,
    pub config: TrainConfig,
    pub resume: bool,
    /// Thresholds of the alerts the run raises.
    pub alerts: super::alerts::AlertConfig,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trips_through_toml() {
        let c = TrainConfig::new(Space::Va, "isear:a", "4q:b", "enc".into(), "vec".into());
        let back: TrainConfig = toml::from_str(&c.to_toml().unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn check_names_the_flag_or_the_key_at_fault() {
        let mut c = TrainConfig::new(Space::Moods, "isear:a", "4q:b", "enc".into(), "vec".into());
        assert!(c.check(Naming::Flags).is_ok());
        c.dataset_power = 2.0;
        assert_eq!(
            c.check(Naming::Flags).unwrap_err().to_string(),
            "--dataset-power must be between 0 and 1, got 2"
        );
        assert_eq!(
            c.check(Naming::Keys).unwrap_err().to_string(),
            "dataset_power must be between 0 and 1, got 2"
        );
        c.dataset_power = 0.5;
        c.balance_labels = true;
        assert_eq!(
            c.check(Naming::Keys).unwrap_err().to_string(),
            "dataset_power and balance_labels each set the text draws; give one"
        );
        c.balance_labels = false;
        c.lexicon_share = -0.1;
        assert!(c.check(Naming::Keys).unwrap_err().to_string().starts_with("lexicon_share must be"));
        c.lexicon_share = 0.0;
        c.space = Space::Va;
        c.members = 3;
        assert_eq!(c.check(Naming::Flags).unwrap_err().to_string(), "--members is for --space moods");
    }
}
