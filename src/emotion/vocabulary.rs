//! The mood vocabularies of the datasets the paper (and storyscore) uses.

use super::EmotionError;

/// A named, ordered set of emotion words; the order is the one of the original code's arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoodVocabulary {
    pub name: &'static str,
    pub words: &'static [&'static str],
}

impl MoodVocabulary {
    /// AudioSet music moods in the original code's `song_moods` order.
    pub const AUDIOSET: Self =
        Self { name: "audioset", words: &["angry", "exciting", "funny", "happy", "sad", "scary", "tender"] };
    /// ISEAR's seven emotions (`Field1`), in `text_isear_moods` order.
    pub const ISEAR: Self =
        Self { name: "isear", words: &["anger", "disgust", "fear", "guilt", "joy", "sadness", "shame"] };
    /// Alm's fairy-tale emotions as used by the paper.
    pub const ALM: Self = Self { name: "alm", words: &["anger", "fearful", "happy", "sad", "surprised"] };
    /// GoEmotions mapped to Ekman's six plus neutral, in `labels.txt` order.
    pub const GOEMOTIONS_EKMAN: Self = Self {
        name: "goemotions",
        words: &["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"],
    };
    /// GoEmotions' original 27 emotions plus neutral, in `labels.txt` order.
    pub const GOEMOTIONS: Self = Self {
        name: "goemotions-original",
        words: &[
            "admiration",
            "amusement",
            "anger",
            "annoyance",
            "approval",
            "caring",
            "confusion",
            "curiosity",
            "desire",
            "disappointment",
            "disapproval",
            "disgust",
            "embarrassment",
            "excitement",
            "fear",
            "gratitude",
            "grief",
            "joy",
            "love",
            "nervousness",
            "optimism",
            "pride",
            "realization",
            "relief",
            "remorse",
            "sadness",
            "surprise",
            "neutral",
        ],
    };
    /// The story-mood space: the seven AudioSet moods, then calm, hopeful, melancholic,
    /// peaceful and tense (`data/story_moods.json`).
    pub const STORY: Self = Self {
        name: "story",
        words: &[
            "angry",
            "exciting",
            "funny",
            "happy",
            "sad",
            "scary",
            "tender",
            "calm",
            "hopeful",
            "melancholic",
            "peaceful",
            "tense",
        ],
    };
    /// Russell quadrants as labelled by 4Q and EMOPIA.
    pub const QUADRANTS: Self = Self { name: "4q", words: &["Q1", "Q2", "Q3", "Q4"] };

    pub const ALL: [Self; 7] = [
        Self::AUDIOSET,
        Self::ISEAR,
        Self::ALM,
        Self::GOEMOTIONS_EKMAN,
        Self::GOEMOTIONS,
        Self::STORY,
        Self::QUADRANTS,
    ];

    /// Looks a vocabulary up by its `name`.
    pub fn by_name(name: &str) -> Result<Self, EmotionError> {
        Self::ALL
            .into_iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| EmotionError::UnknownVocabulary(name.to_string()))
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Position of `word` (exact match), as used for one-hot and multi-hot vectors.
    pub fn index(&self, word: &str) -> Option<usize> {
        self.words.iter().position(|w| *w == word)
    }

    pub fn contains(&self, word: &str) -> bool {
        self.index(word).is_some()
    }
}

/// Every emotion word of the AudioSet, ISEAR, Alm, GoEmotions (both) and story vocabularies,
/// sorted and without duplicates: the words the shipped mood tables cover.
pub fn all_mood_words() -> Vec<&'static str> {
    let mut words: Vec<&'static str> = [
        MoodVocabulary::AUDIOSET,
        MoodVocabulary::ISEAR,
        MoodVocabulary::ALM,
        MoodVocabulary::GOEMOTIONS_EKMAN,
        MoodVocabulary::GOEMOTIONS,
        MoodVocabulary::STORY,
    ]
    .iter()
    .flat_map(|v| v.words.iter().copied())
    .collect();
    words.sort_unstable();
    words.dedup();
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mood_words_are_the_union_of_the_vocabularies() {
        let words = all_mood_words();
        assert_eq!(words.len(), 44);
        assert!(words.contains(&"surprise") && words.contains(&"surprised") && words.contains(&"neutral"));
        assert!(!words.contains(&"Q1"));
    }

    #[test]
    fn lookup_by_name_and_index() {
        assert_eq!(MoodVocabulary::by_name("AudioSet").unwrap(), MoodVocabulary::AUDIOSET);
        assert_eq!(MoodVocabulary::AUDIOSET.index("tender"), Some(6));
        assert!(MoodVocabulary::by_name("plutchik").is_err());
    }
}
