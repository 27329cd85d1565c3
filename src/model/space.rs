//! The five emotion embedding spaces of the paper and how each one compares embeddings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::Tensor;

/// Which embedding space a model maps text and music into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Space {
    /// Text, music and mood-word branches with a weighted triplet loss (64-d, cosine).
    ThreeBranch,
    /// Text and music branches, triplet loss text→song only (64-d, cosine).
    TwoBranch,
    /// Regression to the valence–arousal point of the label (Euclidean).
    Va,
    /// Regression to the word vector of the label (cosine).
    W2v,
    /// Classifiers over each side's labels; retrieval through a label mapping (inner product of
    /// probability vectors over the song moods).
    Classify,
    /// Beyond the paper: both sides predict a distribution over the twelve story moods (the
    /// AudioSet moods plus calm, hopeful, melancholic, peaceful, tense); an embedding is those
    /// probabilities followed by the four quadrant probabilities they sum to, and retrieval is
    /// the inner product (mood agreement plus quadrant agreement).
    Moods,
}

/// How embeddings of a space are compared; larger is more similar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Similarity {
    /// Cosine of the angle.
    Cosine,
    /// Inner product (of probability vectors).
    InnerProduct,
    /// Negative Euclidean distance.
    NegEuclidean,
}

impl Space {
    pub const ALL: [Space; 6] =
        [Self::ThreeBranch, Self::TwoBranch, Self::Va, Self::W2v, Self::Classify, Self::Moods];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ThreeBranch => "three-branch",
            Self::TwoBranch => "two-branch",
            Self::Va => "va",
            Self::W2v => "w2v",
            Self::Classify => "classify",
            Self::Moods => "moods",
        }
    }

    pub fn similarity(self) -> Similarity {
        match self {
            Self::ThreeBranch | Self::TwoBranch | Self::W2v => Similarity::Cosine,
            Self::Va => Similarity::NegEuclidean,
            Self::Classify | Self::Moods => Similarity::InnerProduct,
        }
    }

    /// Whether embeddings are probabilities (compared as they are, never unit-normalised).
    pub fn is_probability(self) -> bool {
        matches!(self, Self::Classify | Self::Moods)
    }

    /// Whether the space has the mood-word (tag) branch.
    pub fn has_tag_branch(self) -> bool {
        self == Self::ThreeBranch
    }

    /// Whether the space is trained with the triplet loss.
    pub fn is_metric_learning(self) -> bool {
        matches!(self, Self::ThreeBranch | Self::TwoBranch)
    }
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Space {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|sp| sp.as_str() == s).ok_or_else(|| {
            format!("unknown space {s:?} (expected three-branch, two-branch, va, w2v, classify or moods)")
        })
    }
}

impl Similarity {
    /// Scores of every query against every item: `query` [Q, D], `items` [N, D] → [Q, N].
    pub fn scores(self, query: &Tensor, items: &Tensor) -> Tensor {
        match self {
            Self::Cosine => unit_rows(query).matmul(&unit_rows(items).tr()),
            Self::InnerProduct => query.matmul(&items.tr()),
            Self::NegEuclidean => -Tensor::cdist(query, items, 2.0, None::<i64>),
        }
    }
}

/// Rows divided by their norm, the norm clamped at 1e-8 as in the original's cosine.
pub fn unit_rows(xs: &Tensor) -> Tensor {
    xs / xs.norm_scalaropt_dim(2.0, [-1i64].as_slice(), true).clamp_min(1e-8)
}
