//! The one dataset model every loader produces.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::emotion::Quadrant;

use super::DatasetKind;

/// Which part of a dataset an item belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Valid,
    Test,
}

impl Split {
    pub const ALL: [Self; 3] = [Self::Train, Self::Valid, Self::Test];

    /// Parses the names datasets use: `train`, `valid`/`dev`/`val`/`validation`, `test`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "train" => Some(Self::Train),
            "valid" | "dev" | "val" | "validation" => Some(Self::Valid),
            "test" => Some(Self::Test),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Valid => "valid",
            Self::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text or music.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Text,
    Music,
}

/// What an item holds: a text, a whole audio file, or a stretch of one (seconds).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemContent {
    Text(String),
    Audio(PathBuf),
    AudioSlice { path: PathBuf, start_s: f64, len_s: f64 },
}

impl ItemContent {
    pub fn modality(&self) -> Modality {
        match self {
            Self::Text(_) => Modality::Text,
            Self::Audio(_) | Self::AudioSlice { .. } => Modality::Music,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn audio_path(&self) -> Option<&std::path::Path> {
        match self {
            Self::Audio(p) | Self::AudioSlice { path: p, .. } => Some(p),
            Self::Text(_) => None,
        }
    }
}

/// One text or clip with its labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub id: String,
    pub content: ItemContent,
    /// Labels in the dataset's own vocabulary (`Dataset::vocabulary`); empty when unlabelled.
    pub labels: Vec<String>,
    /// Valence, arousal, dominance on 0–1, when the dataset rates them.
    pub va: Option<[f32; 3]>,
    pub split: Option<Split>,
    /// Russell quadrant, when the dataset gives one (4Q).
    pub quadrant: Option<Quadrant>,
    /// The text exactly as in the file, when the loader cleaned it for `content` (ISEAR).
    pub raw_text: Option<String>,
    /// Free-form mood tags as the dataset gives them (4Q's AllMusic moods), lower case.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Item {
    pub fn new(id: impl Into<String>, content: ItemContent) -> Self {
        Self {
            id: id.into(),
            content,
            labels: Vec::new(),
            va: None,
            split: None,
            quadrant: None,
            raw_text: None,
            tags: Vec::new(),
        }
    }
}

/// A loaded dataset: its kind, where it came from, its label vocabulary and its items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dataset {
    pub kind: DatasetKind,
    pub source: PathBuf,
    /// Every label an item may carry, in the dataset's canonical order.
    pub vocabulary: Vec<String>,
    pub items: Vec<Item>,
    /// Joined specs (`isear:A+goemotions:B`, and the mood lexicon training appends): the index
    /// of each part's first item.
    #[serde(skip)]
    pub parts: Vec<usize>,
}

impl Dataset {
    pub fn new(kind: DatasetKind, source: impl Into<PathBuf>, vocabulary: Vec<String>) -> Self {
        Self { kind, source: source.into(), vocabulary, items: Vec::new(), parts: Vec::new() }
    }

    /// Which part item `i` came from: the number of parts starting at or before it (items of
    /// one part share it).
    pub fn part_of(&self, i: usize) -> usize {
        self.parts.partition_point(|&start| start <= i)
    }

    /// Text or audio, from the kind (a `ttm` layout yields one dataset of each).
    pub fn modality(&self) -> Modality {
        self.items.first().map_or(self.kind.modality(), |i| i.content.modality())
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Items of one split.
    pub fn split(&self, split: Split) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(move |i| i.split == Some(split))
    }

    /// Whether any item has a split assigned (by the dataset itself or by `assign_splits`).
    pub fn has_splits(&self) -> bool {
        self.items.iter().any(|i| i.split.is_some())
    }
}
