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
    /// Moods space: how a rated text's valence–arousal (EmoBank) is taught. Runs stored
    /// before it existed read `raw`.
    #[serde(default)]
    pub ratings: Ratings,
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

/// Moods space: a rated text's valence–arousal target. `Raw`: its rating as it is (EmoBank's
/// 1–5 ratings on 0–1). `Stretched`: each axis stretched about the rated texts' mean until its
/// spread is that of the labelled texts' NRC-VAD points, and clipped to 0–1. Annotators rate
/// whole sentences within a narrow band (EmoBank's arousal: sd 0.065), far narrower than the
/// word norms the labelled texts are taught with (sd about 0.2), so a raw rating asks little
/// more than "read it as neutral"; stretched, a calm sentence teaches calm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ratings {
    #[default]
    Raw,
    Stretched,
}

/// Chosen by 5-fold cross-validation (docs/evaluation.md, "Stretched ratings").
pub const DEFAULT_RATINGS: Ratings = Ratings::Stretched;

impl Ratings {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Stretched => "stretched",
        }
    }
}

impl std::str::FromStr for Ratings {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "raw" => Ok(Self::Raw),
            "stretched" => Ok(Self::Stretched),
            _ => Err(format!("expected raw or stretched, got {s:?}")),
        }
    }
}

/// How [`Ratings::Stretched`] maps one axis of a rating: `mean + (r − mean) × factor`, clipped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatingStretch {
    pub mean: [f32; 2],
    pub factor: [f32; 2],
}

impl RatingStretch {
    /// From the rated texts' (valence, arousal) and the labelled texts' mean NRC-VAD points;
    /// `None` when either side has fewer than two texts or no spread.
    pub fn measure(rated: &[[f32; 2]], labelled: &[[f32; 2]]) -> Option<Self> {
        let stats = |xs: &[[f32; 2]], k: usize| {
            let n = xs.len() as f32;
            let mean = xs.iter().map(|x| x[k]).sum::<f32>() / n;
            (mean, (xs.iter().map(|x| (x[k] - mean).powi(2)).sum::<f32>() / n).sqrt())
        };
        if rated.len() < 2 || labelled.len() < 2 {
            return None;
        }
        let (mut mean, mut factor) = ([0f32; 2], [0f32; 2]);
        for k in 0..2 {
            let (m, sd) = stats(rated, k);
            let (_, target) = stats(labelled, k);
            if sd <= f32::EPSILON || target <= f32::EPSILON {
                return None;
            }
            (mean[k], factor[k]) = (m, target / sd);
        }
        Some(Self { mean, factor })
    }

    pub fn apply(&self, va: [f32; 2]) -> [f32; 2] {
        [0, 1].map(|k| (self.mean[k] + (va[k] - self.mean[k]) * self.factor[k]).clamp(0.0, 1.0))
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
            ratings: DEFAULT_RATINGS,
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
    fn new_runs_stretch_ratings_and_runs_stored_before_read_raw() {
        let c = TrainConfig::new(Space::Moods, "emobank:a", "4q:b", "enc".into(), "vec".into());
        assert_eq!(c.ratings, Ratings::Stretched);
        let stored: String = c
            .to_toml()
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("ratings"))
            .map(|l| format!("{l}\n"))
            .collect();
        let old: TrainConfig = toml::from_str(&stored).unwrap();
        assert_eq!(old.ratings, Ratings::Raw, "a config.toml without the key is an older run's");
        assert_eq!("raw".parse::<Ratings>(), Ok(Ratings::Raw));
        assert!("wide".parse::<Ratings>().unwrap_err().contains("raw or stretched"));
    }

    #[test]
    fn ratings_are_stretched_to_the_labels_spread_about_their_own_mean() {
        // Ratings with sd 0.1 about 0.5 on both axes; labels with sd 0.4 (valence), 0.2 (arousal).
        let rated = [[0.4, 0.4], [0.6, 0.6]];
        let labelled = [[0.1, 0.3], [0.9, 0.7]];
        let r = RatingStretch::measure(&rated, &labelled).unwrap();
        assert!((r.factor[0] - 4.0).abs() < 1e-5 && (r.factor[1] - 2.0).abs() < 1e-5, "{r:?}");
        let near = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).abs() < 1e-5 && (a[1] - b[1]).abs() < 1e-5;
        assert!(near(r.apply([0.5, 0.5]), [0.5, 0.5]), "the mean stays");
        assert!(near(r.apply([0.55, 0.45]), [0.7, 0.4]));
        assert!(near(r.apply([0.9, 0.1]), [1.0, 0.0]), "clipped to 0–1");
        assert_eq!(RatingStretch::measure(&rated[..1], &labelled), None);
        assert_eq!(RatingStretch::measure(&[[0.5, 0.5], [0.5, 0.5]], &labelled), None, "no spread");
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
