//! The paper's mappings from text emotions to song moods (`data/mappings.json`).
//!
//! The JSON holds facts of the original code: three retrieval success sets (`manual`, `vad`,
//! `w2v`; a retrieved song is a hit when its mood is in the set of the query's emotion) and two
//! single-valued training mappers (`w2v`, `va`) that pick the positive song mood of a text.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::EmotionError;

const MAPPINGS_JSON: &str = include_str!("../../data/mappings.json");

#[derive(Debug, Deserialize)]
struct MappingsFile {
    retrieval_success_sets: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    train_positive_song_mood: BTreeMap<String, BTreeMap<String, String>>,
}

/// A retrieval success set: text emotion → song moods that count as a hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub name: String,
    sets: BTreeMap<String, Vec<String>>,
}

/// A training mapper: text emotion → the one song mood its positives are drawn from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainMapper {
    pub name: String,
    positives: BTreeMap<String, String>,
}

struct Loaded {
    mappings: Vec<Mapping>,
    mappers: Vec<TrainMapper>,
}

fn loaded() -> Result<&'static Loaded, EmotionError> {
    static LOADED: OnceLock<Result<Loaded, EmotionError>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let file: MappingsFile = serde_json::from_str(MAPPINGS_JSON)
                .map_err(|e| EmotionError::Shipped { file: "mappings.json", message: e.to_string() })?;
            let mappings =
                file.retrieval_success_sets.into_iter().map(|(name, sets)| Mapping { name, sets }).collect();
            let mappers = file
                .train_positive_song_mood
                .into_iter()
                .map(|(name, positives)| TrainMapper { name, positives })
                .collect();
            Ok(Loaded { mappings, mappers })
        })
        .as_ref()
        .map_err(EmotionError::shipped_again)
}

impl Mapping {
    /// The names the evaluation accepts; `manual` is the paper's headline mapping.
    pub const NAMES: [&'static str; 3] = ["manual", "vad", "w2v"];

    /// One of `manual`, `vad` (alias `va`) or `w2v`.
    pub fn get(name: &str) -> Result<&'static Mapping, EmotionError> {
        let wanted = if name.eq_ignore_ascii_case("va") { "vad" } else { name };
        loaded()?
            .mappings
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| EmotionError::UnknownMapping(name.to_string()))
    }

    /// Song moods that count as a hit for a text labelled `text_label`; `None` for a label the
    /// mapping does not cover (e.g. GoEmotions' `neutral`).
    pub fn moods(&self, text_label: &str) -> Option<&[String]> {
        self.sets.get(text_label).map(Vec::as_slice)
    }

    /// Whether a song of mood `song_mood` is a hit for a text labelled `text_label`.
    pub fn hits(&self, text_label: &str, song_mood: &str) -> bool {
        self.moods(text_label).is_some_and(|m| m.iter().any(|x| x == song_mood))
    }

    /// The text emotions the mapping covers, sorted.
    pub fn text_labels(&self) -> impl Iterator<Item = &str> {
        self.sets.keys().map(String::as_str)
    }
}

impl TrainMapper {
    /// `w2v` (the released data loader's) or `va`.
    pub fn get(name: &str) -> Result<&'static TrainMapper, EmotionError> {
        let wanted = if name.eq_ignore_ascii_case("vad") { "va" } else { name };
        loaded()?
            .mappers
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| EmotionError::UnknownMapping(name.to_string()))
    }

    /// The song mood whose songs are positives for a text labelled `text_label`.
    pub fn positive(&self, text_label: &str) -> Option<&str> {
        self.positives.get(text_label).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emotion::MoodVocabulary;

    #[test]
    fn manual_mapping_matches_the_paper_table() {
        let manual = Mapping::get("manual").unwrap();
        assert!(manual.hits("joy", "funny"));
        assert!(manual.hits("disgust", "scary"));
        assert!(!manual.hits("fear", "angry"));
        assert!(!manual.hits("neutral", "happy"));
        assert_eq!(manual.text_labels().count(), 11);
        for label in MoodVocabulary::ISEAR.words.iter().chain(MoodVocabulary::ALM.words) {
            for name in Mapping::NAMES {
                let moods = Mapping::get(name).unwrap().moods(label).unwrap();
                assert!(moods.iter().all(|m| MoodVocabulary::AUDIOSET.contains(m)), "{name} {label}");
            }
        }
    }

    #[test]
    fn training_mappers_are_first_elements_of_their_sets() {
        let va = TrainMapper::get("va").unwrap();
        let vad = Mapping::get("va").unwrap();
        for label in vad.text_labels() {
            assert_eq!(Some(vad.moods(label).unwrap()[0].as_str()), va.positive(label));
        }
        assert_eq!(TrainMapper::get("w2v").unwrap().positive("joy"), Some("tender"));
        assert!(matches!(Mapping::get("cosine"), Err(EmotionError::UnknownMapping(_))));
    }
}
