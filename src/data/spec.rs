//! `KIND:PATH` dataset specifications, as given on the command line.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::Serialize;

use super::{DataError, Dataset, Modality, RowIssue};

/// The dataset formats storyscore reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetKind {
    Isear,
    GoEmotions,
    EmoBank,
    FourQ,
    Ttm,
    Folder,
    Manifest,
    Library,
}

impl DatasetKind {
    pub const NAMES: [&'static str; 8] =
        ["isear", "goemotions", "emobank", "4q", "ttm", "folder", "manifest", "library"];
    const ALL: [Self; 8] = [
        Self::Isear,
        Self::GoEmotions,
        Self::EmoBank,
        Self::FourQ,
        Self::Ttm,
        Self::Folder,
        Self::Manifest,
        Self::Library,
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|k| *k == self).unwrap_or(0)]
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::NAMES.iter().position(|n| n.eq_ignore_ascii_case(name)).map(|i| Self::ALL[i])
    }

    /// The modality of the kind's main dataset (`ttm` holds texts and songs; texts come first).
    pub fn modality(self) -> Modality {
        match self {
            Self::Isear | Self::GoEmotions | Self::EmoBank | Self::Ttm => Modality::Text,
            Self::FourQ | Self::Folder | Self::Manifest | Self::Library => Modality::Music,
        }
    }

    /// Whether the format brings its own train/valid/test split.
    pub fn has_own_splits(self) -> bool {
        matches!(self, Self::GoEmotions | Self::EmoBank | Self::Ttm)
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A dataset on disk: `KIND:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetSpec {
    pub kind: DatasetKind,
    pub path: PathBuf,
}

impl FromStr for DatasetSpec {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, path) = s.split_once(':').ok_or_else(|| DataError::BadSpec(s.to_string()))?;
        if path.is_empty() {
            return Err(DataError::BadSpec(s.to_string()));
        }
        let kind = DatasetKind::parse(kind)
            .ok_or_else(|| DataError::UnknownKind { spec: s.to_string(), kind: kind.to_string() })?;
        Ok(Self { kind, path: PathBuf::from(path) })
    }
}

impl fmt::Display for DatasetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.path.display())
    }
}

/// Datasets read from one spec, with the rows that were skipped.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub datasets: Vec<Dataset>,
    pub issues: Vec<RowIssue>,
}

impl DatasetSpec {
    /// Every dataset the spec holds (two for `ttm`: texts, then songs).
    pub fn load_all(&self) -> Result<Loaded, DataError> {
        super::load_spec(self)
    }

    /// The one dataset of `modality` the spec holds, or an error saying the kind has none.
    pub fn load(&self, modality: Modality) -> Result<(Dataset, Vec<RowIssue>), DataError> {
        let Loaded { datasets, issues } = self.load_all()?;
        let found = datasets.into_iter().find(|d| d.modality() == modality);
        let what = if modality == Modality::Text { "texts" } else { "music" };
        found
            .map(|d| (d, issues))
            .ok_or_else(|| DataError::format(&self.path, format!("a {} dataset holds no {what}", self.kind)))
    }
}

/// Splits `A+B+…` where each part is a `KIND:PATH` (a `+` inside a path stays in it).
pub fn split_joined(specs: &str) -> Vec<&str> {
    let starts_spec = |rest: &str| DatasetKind::NAMES.iter().any(|k| rest.starts_with(&format!("{k}:")));
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, _) in specs.match_indices('+') {
        if i >= start && starts_spec(&specs[i + 1..]) {
            parts.push(&specs[start..i]);
            start = i + 1;
        }
    }
    parts.push(&specs[start..]);
    parts
}

/// Loads one spec or several joined by `+` (`isear:A+goemotions:B+emobank:C`) as one dataset of
/// `modality`: the vocabularies' union (in order of appearance) and every item with the split its
/// own dataset gave it. An id seen before is prefixed with its kind (`emobank:<id>`).
pub fn load_joined(specs: &str, modality: Modality) -> Result<(Dataset, Vec<RowIssue>), DataError> {
    let mut merged: Option<Dataset> = None;
    let mut issues = Vec::new();
    for part in split_joined(specs) {
        let spec: DatasetSpec = part.parse()?;
        let (data, part_issues) = spec.load(modality)?;
        issues.extend(part_issues);
        let Some(into) = merged.as_mut() else {
            let mut data = data;
            data.parts = vec![0];
            merged = Some(data);
            continue;
        };
        into.parts.push(into.items.len());
        for word in data.vocabulary {
            if !into.vocabulary.contains(&word) {
                into.vocabulary.push(word);
            }
        }
        let mut seen: std::collections::HashSet<String> = into.items.iter().map(|i| i.id.clone()).collect();
        for mut item in data.items {
            if !seen.insert(item.id.clone()) {
                item.id = format!("{}:{}", spec.kind, item.id);
                seen.insert(item.id.clone());
            }
            into.items.push(item);
        }
    }
    merged.map(|d| (d, issues)).ok_or_else(|| DataError::BadSpec(specs.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_reject_unknown_kinds() {
        let spec: DatasetSpec = "4q:/data/4q".parse().unwrap();
        assert_eq!((spec.kind, spec.path.to_str()), (DatasetKind::FourQ, Some("/data/4q")));
        assert_eq!(spec.to_string(), "4q:/data/4q");
        let err = "audioset:/x".parse::<DatasetSpec>().unwrap_err().to_string();
        assert!(
            err.contains("unknown dataset kind \"audioset\"") && err.contains("isear, goemotions"),
            "{err}"
        );
        assert!(matches!("isear".parse::<DatasetSpec>(), Err(DataError::BadSpec(_))));
        assert!(matches!("isear:".parse::<DatasetSpec>(), Err(DataError::BadSpec(_))));
        for name in DatasetKind::NAMES {
            assert_eq!(DatasetKind::parse(name).unwrap().name(), name);
        }
    }

    #[test]
    fn joined_specs_split_only_before_a_kind() {
        assert_eq!(split_joined("isear:/a+b/i.csv+goemotions:/g"), ["isear:/a+b/i.csv", "goemotions:/g"]);
        assert_eq!(split_joined("4q:/x"), ["4q:/x"]);
    }
}
