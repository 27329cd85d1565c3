//! What `storyscore data stats` shows: counts per label and split, text lengths, examples.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use super::{Dataset, ItemContent, Modality};

/// Minimum, median and maximum of a distribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
        Some(Self { min: values[0], median, max: values[n - 1] })
    }
}

/// Audio durations, when probed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Durations {
    pub total_s: f64,
    pub spread_s: Spread,
    pub probed: usize,
    pub failed: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    pub id: String,
    pub labels: Vec<String>,
    pub content: String,
}

/// Summary of one dataset. JSON keys: `kind`, `modality`, `items`, `labels`, `unlabelled`,
/// `splits`, `quadrants`, `text_words`, `durations`, `examples`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetSummary {
    pub kind: String,
    pub modality: Modality,
    pub items: usize,
    /// Count per label (multi-label items count once per label), every vocabulary word listed.
    pub labels: BTreeMap<String, usize>,
    pub unlabelled: usize,
    /// Count per split; `none` for items without one.
    pub splits: BTreeMap<String, usize>,
    pub quadrants: BTreeMap<String, usize>,
    /// Words per text (whitespace-separated).
    pub text_words: Option<Spread>,
    pub durations: Option<Durations>,
    pub examples: Vec<Example>,
}

impl Dataset {
    /// Counts and examples; durations stay `None` (see `DatasetSummary::with_durations`).
    pub fn summary(&self) -> DatasetSummary {
        let mut labels: BTreeMap<String, usize> = self.vocabulary.iter().map(|w| (w.clone(), 0)).collect();
        let mut splits = BTreeMap::new();
        let mut quadrants = BTreeMap::new();
        let mut unlabelled = 0;
        for item in &self.items {
            for l in &item.labels {
                *labels.entry(l.clone()).or_default() += 1;
            }
            unlabelled += usize::from(item.labels.is_empty());
            *splits.entry(item.split.map_or("none", |s| s.as_str()).to_string()).or_default() += 1;
            if let Some(q) = item.quadrant {
                *quadrants.entry(q.to_string()).or_default() += 1;
            }
        }
        let words =
            self.items.iter().filter_map(|i| i.content.text()).map(|t| t.split_whitespace().count() as f64);
        DatasetSummary {
            kind: self.kind.to_string(),
            modality: self.modality(),
            items: self.items.len(),
            labels,
            unlabelled,
            splits,
            quadrants,
            text_words: Spread::of(words.collect()),
            durations: None,
            examples: self.examples(3),
        }
    }

    /// Up to `n` items, spread evenly over the dataset.
    fn examples(&self, n: usize) -> Vec<Example> {
        let step = (self.items.len() / n.max(1)).max(1);
        self.items
            .iter()
            .step_by(step)
            .take(n)
            .map(|item| Example {
                id: item.id.clone(),
                labels: item.labels.clone(),
                content: match &item.content {
                    ItemContent::Text(t) => t.clone(),
                    ItemContent::Audio(p) => p.display().to_string(),
                    ItemContent::AudioSlice { path, start_s, len_s } => {
                        format!("{} [{start_s:.1} s + {len_s:.1} s]", path.display())
                    }
                },
            })
            .collect()
    }
}

impl DatasetSummary {
    /// Adds durations measured by `probe` (seconds per audio item; `None` when a file fails),
    /// run over the items in parallel.
    pub fn with_durations(
        mut self,
        data: &Dataset,
        probe: impl Fn(&ItemContent) -> Option<f64> + Sync,
    ) -> Self {
        let measured: Vec<Option<f64>> = data
            .items
            .par_iter()
            .filter(|i| i.content.modality() == Modality::Music)
            .map(|i| probe(&i.content))
            .collect();
        let failed = measured.iter().filter(|m| m.is_none()).count();
        let seconds: Vec<f64> = measured.into_iter().flatten().collect();
        let probed = seconds.len();
        let total_s = seconds.iter().sum();
        self.durations = Spread::of(seconds).map(|spread_s| Durations { total_s, spread_s, probed, failed });
        self
    }

    /// Adds durations read from the files' headers by `audio::probe` (no decoding); a slice
    /// counts its own length.
    pub fn with_probed_durations(self, data: &Dataset) -> Self {
        self.with_durations(data, |content| match content {
            ItemContent::AudioSlice { len_s, .. } => Some(*len_s),
            other => other.audio_path().and_then(|p| crate::audio::probe(p).ok()).map(|info| info.duration_s),
        })
    }
}
