//! `model.toml`: everything needed to rebuild a model besides its weights.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::audio_cnn::AudioCnnConfig;
use super::error::{ModelError, Result};
use super::space::Space;

/// Where a fine-tuned encoder's `config.json` is written inside a model directory.
pub const ENCODER_DIR: &str = "text_encoder";
use crate::emotion::{Mapping, MoodTables, MoodVocabulary, Quadrant, StoryMoods};

/// Name of the installed MiniLM under `<data>/models/`, the default text encoder.
pub const DEFAULT_ENCODER: &str = "all-MiniLM-L6-v2";

/// The log-mel front end the model was trained with (the original's settings by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FrontEndSettings {
    pub sample_rate: u32,
    pub n_fft: i64,
    pub hop: i64,
    pub n_mels: i64,
    /// Samples per chunk the CNN sees (5 s).
    pub chunk_samples: usize,
    /// Evenly spaced chunks averaged per clip at evaluation and indexing time.
    pub eval_chunks: usize,
}

impl Default for FrontEndSettings {
    fn default() -> Self {
        Self {
            sample_rate: 16_000,
            n_fft: 512,
            hop: 256,
            n_mels: 128,
            chunk_samples: 80_000,
            eval_chunks: 16,
        }
    }
}

/// The text branch's encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextSettings {
    /// Hugging Face model directory: a path (relative paths are tried against the model
    /// directory first) or a name under `<data>/models/`.
    pub encoder: String,
    /// Directory of `tokenizer.json`; empty means the encoder's directory.
    pub tokenizer: String,
    /// `cls` (the paper's first-token state) or `mean`.
    pub pooling: String,
    /// Whether the encoder was trained with the heads; its weights are then in `model.safetensors`
    /// (as `bert.*`) and the directory's weights are not read.
    pub fine_tuned: bool,
}

impl Default for TextSettings {
    fn default() -> Self {
        Self {
            encoder: DEFAULT_ENCODER.into(),
            tokenizer: String::new(),
            pooling: "cls".into(),
            fine_tuned: false,
        }
    }
}

/// Contents of `model.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Content hash of config and weights, written on save (informative; recomputed on load).
    #[serde(default)]
    pub id: String,
    pub space: Space,
    /// Output width of the metric-learning heads (edim).
    #[serde(default = "default_embed_dim")]
    pub embed_dim: i64,
    /// Hidden width of every head (2·ndim in the original).
    #[serde(default = "default_head_hidden")]
    pub head_hidden: i64,
    /// Width of the mood-word vectors fed to the tag branch and regressed in w2v.
    #[serde(default = "default_tag_dim")]
    pub tag_dim: i64,
    /// VA regression targets: 2 (valence, arousal) or 3 (plus dominance).
    #[serde(default = "default_va_dims")]
    pub va_dims: i64,
    #[serde(default)]
    pub audio: AudioCnnConfig,
    #[serde(default)]
    pub frontend: FrontEndSettings,
    #[serde(default)]
    pub text: TextSettings,
    /// Song mood vocabulary (the music side's labels; what results are explained with).
    pub moods: Vec<String>,
    /// Text label vocabulary (the text classifier's classes).
    pub text_labels: Vec<String>,
    /// Text label → song moods that match it (classification retrieval).
    pub label_mapping: BTreeMap<String, Vec<String>>,
    /// Word vector of each mood (tag-branch input, w2v targets and anchors).
    #[serde(default)]
    pub mood_vectors: BTreeMap<String, Vec<f32>>,
    /// (valence, arousal, dominance) of each mood, 0–1 (VA anchors).
    #[serde(default)]
    pub mood_va: BTreeMap<String, [f32; 3]>,
    /// Russell quadrant of each mood (moods space: an embedding ends with the quadrant sums).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mood_quadrants: BTreeMap<String, Quadrant>,
    /// Moods space: weight of quadrant agreement beside mood agreement in a match (the
    /// quadrant part of an embedding is scaled by its square root).
    #[serde(default = "default_quadrant_weight", skip_serializing_if = "is_default_quadrant_weight")]
    pub quadrant_weight: f64,
    /// Moods space: the text head's mean mood distribution over its training texts (moods order,
    /// neutral left out, summing to 1), written when training ends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text_mood_prior: Vec<f64>,
    /// Moods space: a text's mood probabilities are divided by `text_mood_prior` to this power
    /// (and renormalised, neutral's share kept) before matching, so moods its training texts
    /// rarely had (calm, peaceful, sad) are not drowned by the frequent ones. 0: off.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub prior_power: f64,
    /// Moods space: the song side's mean mood distribution over its training clips (moods
    /// order, summing to 1), written when training ends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub song_mood_prior: Vec<f64>,
    /// Moods space: a clip's mood probabilities are divided by `song_mood_prior` to this power
    /// (and renormalised) before matching, as a text's are by its own prior: a mood few
    /// training clips had (scary) is not outvoted by the frequent ones (angry, tense). 0: off.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub song_prior_power: f64,
    /// Moods space: share of a text's mood distribution that comes from the encoder alone
    /// (zero-shot): the softmax of its cosine similarity to each mood word, over
    /// `zero_shot_temperature`. The head knows the training texts' domains (comments,
    /// self-reports); the mood words carry over to prose it never saw. 0: off.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub zero_shot_weight: f64,
    /// Temperature of the zero-shot softmax (cosine units).
    #[serde(
        default = "default_zero_shot_temperature",
        skip_serializing_if = "is_default_zero_shot_temperature"
    )]
    pub zero_shot_temperature: f64,
    /// Moods space: heads per branch, each from its own random start; a side's mood
    /// distribution is their mean (an ensemble evens out what one start gets wrong).
    #[serde(default = "default_members", skip_serializing_if = "is_default_members")]
    pub members: usize,
}

impl ModelConfig {
    /// The `prior_power` values a model may have (0: off; 1: the prior divided out fully).
    pub const PRIOR_POWERS: std::ops::RangeInclusive<f64> = 0.0..=2.0;
    /// The `zero_shot_weight` values a model may have (0: off; 1: the mood words alone).
    pub const ZERO_SHOT_WEIGHTS: std::ops::RangeInclusive<f64> = 0.0..=1.0;
    /// The `zero_shot_temperature` values a model may have (above 0).
    pub const ZERO_SHOT_TEMPERATURES: std::ops::RangeInclusive<f64> = f64::MIN_POSITIVE..=10.0;
    /// The `members` values a model may have.
    pub const MEMBERS: std::ops::RangeInclusive<usize> = 1..=16;
}

pub(crate) fn default_members() -> usize {
    1
}

pub(crate) fn is_default_members(k: &usize) -> bool {
    *k == default_members()
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn default_zero_shot_temperature() -> f64 {
    0.2
}

fn is_default_zero_shot_temperature(t: &f64) -> bool {
    *t == default_zero_shot_temperature()
}

fn default_quadrant_weight() -> f64 {
    1.0
}

fn is_default_quadrant_weight(w: &f64) -> bool {
    *w == default_quadrant_weight()
}

fn default_embed_dim() -> i64 {
    64
}
fn default_head_hidden() -> i64 {
    128
}
fn default_tag_dim() -> i64 {
    50
}
fn default_va_dims() -> i64 {
    2
}

impl ModelConfig {
    /// The paper's setup for `space`: AudioSet moods, ISEAR labels, the manual mapping, MiniLM,
    /// and the shipped GloVe-50 vectors and NRC-VAD points of the moods.
    pub fn paper(space: Space) -> Result<Self> {
        Self::with_vocabularies(space, MoodVocabulary::AUDIOSET.words, MoodVocabulary::ISEAR.words, "manual")
    }

    /// A config over the given vocabularies; `mapping` names one of the paper's mappings
    /// (`manual`, `vad`, `w2v`) whose sets fill `label_mapping` for labels it knows.
    pub fn with_vocabularies(
        space: Space,
        moods: &[&str],
        text_labels: &[&str],
        mapping: &str,
    ) -> Result<Self> {
        let bad = |message: String| ModelError::Config { path: "model config".into(), message };
        let sets = Mapping::get(mapping).map_err(|e| bad(e.to_string()))?;
        let tables = MoodTables::shipped().map_err(|e| bad(e.to_string()))?;
        let label_mapping =
            text_labels.iter().filter_map(|l| sets.moods(l).map(|m| (l.to_string(), m.to_vec()))).collect();
        let mood_vectors =
            moods.iter().filter_map(|m| tables.vector(m).map(|v| (m.to_string(), v.to_vec()))).collect();
        let mood_va = moods.iter().filter_map(|m| tables.vad(m).map(|v| (m.to_string(), v))).collect();
        let cfg = Self {
            id: String::new(),
            space,
            embed_dim: default_embed_dim(),
            head_hidden: default_head_hidden(),
            tag_dim: tables.dim() as i64,
            va_dims: default_va_dims(),
            audio: AudioCnnConfig::default(),
            frontend: FrontEndSettings::default(),
            text: TextSettings::default(),
            moods: moods.iter().map(|m| m.to_string()).collect(),
            text_labels: text_labels.iter().map(|m| m.to_string()).collect(),
            label_mapping,
            mood_vectors,
            mood_va,
            mood_quadrants: BTreeMap::new(),
            quadrant_weight: default_quadrant_weight(),
            text_mood_prior: Vec::new(),
            prior_power: 0.0,
            song_mood_prior: Vec::new(),
            song_prior_power: 0.0,
            zero_shot_weight: 0.0,
            zero_shot_temperature: default_zero_shot_temperature(),
            members: default_members(),
        };
        cfg.validate(Path::new("model config"))?;
        Ok(cfg)
    }

    /// The moods space over `text_labels`: the story moods with their quadrants, each label's
    /// moods from `data/story_moods.json` (`neutral` maps to none; labels the table lacks are left
    /// out and train only through their valence–arousal).
    pub fn story(text_labels: &[&str]) -> Result<Self> {
        let bad = |message: String| ModelError::Config { path: "model config".into(), message };
        let story = StoryMoods::shipped().map_err(|e| bad(e.to_string()))?;
        let moods: Vec<&str> = story.moods.iter().map(String::as_str).collect();
        // Built as va (which needs the moods' points too), then given the quadrants it lacks.
        let mut cfg = Self::with_vocabularies(Space::Va, &moods, text_labels, "manual")?;
        cfg.space = Space::Moods;
        cfg.label_mapping = text_labels
            .iter()
            .filter_map(|l| story.moods_of_label(l).map(|m| (l.to_string(), m.to_vec())))
            .collect();
        cfg.mood_quadrants =
            moods.iter().filter_map(|m| story.quadrant(m).map(|q| (m.to_string(), q))).collect();
        cfg.validate(Path::new("model config"))?;
        Ok(cfg)
    }

    /// Reads and validates `model.toml`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ModelError::Read { path: path.into(), message: e.to_string() })?;
        let cfg: Self = toml::from_str(&text)
            .map_err(|e| ModelError::Config { path: path.into(), message: e.to_string() })?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self)
            .map_err(|e| ModelError::Config { path: "model.toml".into(), message: e.to_string() })
    }

    /// Sets the audio trunk; musicnn trunks bring their front end (96 bands, 3-s windows) and
    /// the feature columns their head sees.
    pub fn set_trunk(&mut self, trunk: super::TrunkKind, features: Option<super::musicnn::MusicnnFeatures>) {
        self.audio.trunk = trunk;
        if trunk.musicnn().is_some() {
            self.audio.n_mels = super::musicnn::N_MELS;
            self.frontend.n_mels = super::musicnn::N_MELS;
            self.frontend.chunk_samples = super::musicnn::WINDOW_SAMPLES;
            self.audio.musicnn_features = Some(features.unwrap_or_default());
        } else {
            self.audio.musicnn_features = None;
        }
    }

    /// Output width of the song and text heads.
    pub fn output_dims(&self) -> (i64, i64) {
        match self.space {
            Space::ThreeBranch | Space::TwoBranch => (self.embed_dim, self.embed_dim),
            Space::Va => (self.va_dims, self.va_dims),
            Space::W2v => (self.tag_dim, self.tag_dim),
            Space::Classify => (self.moods.len() as i64, self.text_labels.len() as i64),
            // The text side has one more class: neutral (no emotion).
            Space::Moods => (self.moods.len() as i64, self.moods.len() as i64 + 1),
        }
    }

    /// Checks the fields against each other; errors name `path` and the field.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let bad = |message: String| Err(ModelError::Config { path: path.into(), message });
        self.audio.validate(path)?;
        if self.audio.n_mels != self.frontend.n_mels {
            return bad(format!(
                "audio.n_mels {} differs from frontend.n_mels {}",
                self.audio.n_mels, self.frontend.n_mels
            ));
        }
        for (field, v) in
            [("embed_dim", self.embed_dim), ("head_hidden", self.head_hidden), ("tag_dim", self.tag_dim)]
        {
            if v <= 0 {
                return bad(format!("{field} must be positive, got {v}"));
            }
        }
        if !(2..=3).contains(&self.va_dims) {
            return bad(format!("va_dims must be 2 or 3, got {}", self.va_dims));
        }
        if self.text.pooling.parse::<crate::text::Pooling>().is_err() {
            return bad(format!("text.pooling must be cls or mean, got {:?}", self.text.pooling));
        }
        if self.moods.is_empty() {
            return bad("moods is empty".into());
        }
        if self.space == Space::Classify {
            for label in &self.text_labels {
                match self.label_mapping.get(label) {
                    Some(set) if !set.is_empty() => {
                        if let Some(m) = set.iter().find(|m| !self.moods.contains(m)) {
                            return bad(format!("label_mapping.{label} names {m:?}, which is not in moods"));
                        }
                    }
                    _ => return bad(format!("label_mapping has no moods for text label {label:?}")),
                }
            }
            if self.text_labels.is_empty() {
                return bad("text_labels is empty (the classify space needs them)".into());
            }
        }
        for (word, v) in &self.mood_vectors {
            if v.len() as i64 != self.tag_dim {
                return bad(format!(
                    "mood_vectors.{word} has {} values, tag_dim is {}",
                    v.len(),
                    self.tag_dim
                ));
            }
        }
        let needs = |table: &str, has: &dyn Fn(&str) -> bool| -> Result<()> {
            match self.moods.iter().find(|m| !has(m)) {
                Some(m) => {
                    bad(format!("{table} lacks mood {m:?} (the {} space needs every mood)", self.space))
                }
                None => Ok(()),
            }
        };
        if !(0.0..=100.0).contains(&self.quadrant_weight) {
            return bad(format!("quadrant_weight must be between 0 and 100, got {}", self.quadrant_weight));
        }
        for (field, power) in [("prior_power", self.prior_power), ("song_prior_power", self.song_prior_power)]
        {
            if !Self::PRIOR_POWERS.contains(&power) {
                return bad(format!("{field} must be between 0 and 2, got {power}"));
            }
        }
        if !Self::ZERO_SHOT_WEIGHTS.contains(&self.zero_shot_weight) {
            return bad(format!("zero_shot_weight must be between 0 and 1, got {}", self.zero_shot_weight));
        }
        if !Self::ZERO_SHOT_TEMPERATURES.contains(&self.zero_shot_temperature) {
            return bad(format!(
                "zero_shot_temperature must be above 0 and at most 10, got {}",
                self.zero_shot_temperature
            ));
        }
        if !Self::MEMBERS.contains(&self.members) {
            return bad(format!("members must be between 1 and 16, got {}", self.members));
        }
        if self.members > 1 && self.space != Space::Moods {
            return bad(format!(
                "members {} is for the moods space (the {} space has one head per branch)",
                self.members, self.space
            ));
        }
        if !self.audio.trunk.suits(self.space) {
            return bad(format!(
                "audio.trunk {} is for the moods space (its song heads' mood distributions are averaged)",
                self.audio.trunk
            ));
        }
        for (field, prior) in
            [("text_mood_prior", &self.text_mood_prior), ("song_mood_prior", &self.song_mood_prior)]
        {
            if prior.is_empty() {
                continue;
            }
            if prior.len() != self.moods.len() {
                return bad(format!("{field} has {} values, moods has {}", prior.len(), self.moods.len()));
            }
            if let Some(v) = prior.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
                return bad(format!("{field} values must be positive, got {v}"));
            }
        }
        if self.space == Space::Moods {
            if let Some((label, m)) = self
                .label_mapping
                .iter()
                .find_map(|(l, set)| set.iter().find(|m| !self.moods.contains(m)).map(|m| (l, m)))
            {
                return bad(format!("label_mapping.{label} names {m:?}, which is not in moods"));
            }
        }
        match self.space {
            Space::W2v => needs("mood_vectors", &|m| self.mood_vectors.contains_key(m)),
            Space::Va => needs("mood_va", &|m| self.mood_va.contains_key(m)),
            Space::Moods => needs("mood_quadrants", &|m| self.mood_quadrants.contains_key(m))
                .and_then(|()| needs("mood_va", &|m| self.mood_va.contains_key(m))),
            _ => Ok(()),
        }
    }

    /// Where the encoder's Hugging Face directory is: relative to `model_dir` when it exists
    /// there, else the path itself when it exists, else a name under `<data>/models/`.
    pub fn resolve_dir(&self, name: &str, model_dir: Option<&Path>) -> Result<PathBuf> {
        if let Some(p) = model_dir.map(|d| d.join(name)).filter(|p| p.is_dir()) {
            return Ok(p);
        }
        let as_path = PathBuf::from(name);
        if as_path.is_dir() {
            return Ok(as_path);
        }
        let dirs = crate::config::Dirs::resolve()
            .map_err(|e| ModelError::Text(format!("cannot locate encoder {name:?}: {e}")))?;
        let installed = dirs.data.join("models").join(name);
        if installed.is_dir() {
            return Ok(installed);
        }
        Err(ModelError::Text(format!(
            "encoder directory {name:?} not found (tried the model directory, the path, and {})",
            installed.display()
        )))
    }
}
