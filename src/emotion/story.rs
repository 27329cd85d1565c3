//! The story-mood space's tables (`data/story_moods.json`): the twelve moods a writer scores
//! with, the quadrant of each, AllMusic tag → mood and text emotion → moods.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::{EmotionError, Quadrant};

const STORY_MOODS_JSON: &str = include_str!("../../data/story_moods.json");

/// The parsed table; see `data/story_moods.json` for what each part means.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoryMoods {
    pub moods: Vec<String>,
    quadrants: BTreeMap<String, Quadrant>,
    tags: BTreeMap<String, String>,
    labels: BTreeMap<String, Vec<String>>,
}

impl StoryMoods {
    /// The table compiled in from `data/story_moods.json`.
    pub fn shipped() -> Result<&'static StoryMoods, EmotionError> {
        static SHIPPED: OnceLock<Result<StoryMoods, EmotionError>> = OnceLock::new();
        SHIPPED.get_or_init(|| Self::parse(STORY_MOODS_JSON)).as_ref().map_err(EmotionError::shipped_again)
    }

    fn parse(json: &str) -> Result<Self, EmotionError> {
        let bad = |message: String| EmotionError::Shipped { file: "story_moods.json", message };
        let t: StoryMoods = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let known = |m: &String| t.moods.contains(m);
        if let Some(m) = t.moods.iter().find(|m| !t.quadrants.contains_key(*m)) {
            return Err(bad(format!("mood {m:?} has no quadrant")));
        }
        if let Some((tag, m)) = t.tags.iter().find(|(_, m)| !known(m)) {
            return Err(bad(format!("tag {tag:?} maps to {m:?}, which is not a mood")));
        }
        if let Some((l, _)) = t.labels.iter().find(|(_, ms)| !ms.iter().all(known)) {
            return Err(bad(format!("label {l:?} maps to a word that is not a mood")));
        }
        Ok(t)
    }

    pub fn quadrant(&self, mood: &str) -> Option<Quadrant> {
        self.quadrants.get(mood).copied()
    }

    /// Moods of AllMusic tags (any case), in mood order, without duplicates.
    pub fn moods_of_tags<'a>(&self, tags: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let found: Vec<&String> =
            tags.into_iter().filter_map(|t| self.tags.get(t.trim().to_lowercase().as_str())).collect();
        self.moods.iter().filter(|m| found.contains(m)).cloned().collect()
    }

    /// The words that name the moods: each mood word and each AllMusic tag, with its mood.
    pub fn lexicon(&self) -> Vec<(&str, &str)> {
        let words = self.moods.iter().map(|m| (m.as_str(), m.as_str()));
        words.chain(self.tags.iter().map(|(t, m)| (t.as_str(), m.as_str()))).collect()
    }

    /// The moods of a text emotion; `Some(empty)` for `neutral`, `None` for a label not in the table.
    pub fn moods_of_label(&self, label: &str) -> Option<&[String]> {
        self.labels.get(label).map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emotion::MoodVocabulary;

    #[test]
    fn every_supported_text_emotion_reaches_a_mood_and_every_quadrant_is_reachable() {
        let t = StoryMoods::shipped().unwrap();
        for v in [
            MoodVocabulary::ISEAR,
            MoodVocabulary::ALM,
            MoodVocabulary::GOEMOTIONS_EKMAN,
            MoodVocabulary::GOEMOTIONS,
        ] {
            for w in v.words {
                let moods = t.moods_of_label(w).unwrap_or_else(|| panic!("{} label {w} missing", v.name));
                assert!(!moods.is_empty() || *w == "neutral", "{w}");
            }
        }
        for q in Quadrant::ALL {
            assert!(t.moods.iter().any(|m| t.quadrant(m) == Some(q)), "{q}");
        }
        assert_eq!(t.moods_of_tags(["Gentle", "Calm", "calm", "Greasy"]), ["tender", "calm"]);
        assert_eq!(t.moods_of_label("caring").unwrap(), ["tender", "calm"]);
        assert_eq!(t.quadrant("hopeful"), Some(Quadrant::Q4));
        assert_eq!(&t.moods[..7], MoodVocabulary::AUDIOSET.words, "the AudioSet moods come first");
    }

    #[test]
    fn malformed_tables_are_refused() {
        let bad = r#"{"moods":["a"],"quadrants":{},"tags":{},"labels":{}}"#;
        assert!(StoryMoods::parse(bad).unwrap_err().to_string().contains("no quadrant"));
    }
}
