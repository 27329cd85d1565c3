//! Whether a text looks like English: the encoders we ship (MiniLM, the paper's BERT) were
//! trained on English, and a sentence in another language gets an arbitrary reading.

use super::error::Result;
use super::tokenizer::TextTokenizer;

/// Frequent English function words; almost every English sentence of a few words has one.
const ENGLISH_WORDS: [&str; 72] = [
    "a", "about", "after", "all", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could",
    "did", "do", "for", "from", "had", "has", "have", "he", "her", "him", "his", "how", "i", "if", "in",
    "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "one", "or", "our", "out", "she", "so",
    "than", "that", "the", "their", "them", "then", "there", "they", "this", "to", "up", "us", "was", "we",
    "were", "what", "when", "which", "who", "will", "with", "would", "you", "your", "just", "very",
];

/// Words a text must have before its language is judged (a word or two could be anything).
const MIN_WORDS: usize = 4;

/// Letters a text must have before its script is judged.
const MIN_LETTERS: usize = 12;

/// Share of words the encoder's vocabulary splits into pieces above which a text without any
/// English function word is taken for another language (GoEmotions comments: median 0, 99th
/// percentile 0.5 — but those have function words; German, French, Spanish sentences 0.43–0.60).
const MAX_SPLIT_SHARE: f64 = 0.35;

/// False when most of a text's letters (at least [`MIN_LETTERS`]) are outside the Latin script,
/// or when it has at least [`MIN_WORDS`] words, none of them a frequent English one, and the
/// encoder's vocabulary splits more than [`MAX_SPLIT_SHARE`] of them (an English fragment such as
/// "Silent snow, falling slowly, endless night" has no function word but splits none).
pub fn looks_english(text: &str, tokenizer: &TextTokenizer) -> Result<bool> {
    Ok(match by_words(text) {
        Judged::Other => false,
        Judged::English => true,
        Judged::Unsure => tokenizer.split_word_share(text)?.is_none_or(|share| share <= MAX_SPLIT_SHARE),
    })
}

#[derive(Debug, PartialEq)]
enum Judged {
    English,
    Other,
    /// Words enough and none a function word: the tokenizer decides.
    Unsure,
}

/// The tokenizer-free part of [`looks_english`]: script, then function words.
fn by_words(text: &str) -> Judged {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let latin = text.chars().filter(|c| c.is_alphabetic() && is_latin(*c)).count();
    // Scripts without spaces between words (Japanese, Chinese) are judged by their letters.
    if letters >= MIN_LETTERS && 2 * latin < letters {
        return Judged::Other;
    }
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphabetic() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.len() < MIN_WORDS || words.iter().any(|w| ENGLISH_WORDS.contains(&w.trim_matches('\''))) {
        Judged::English
    } else {
        Judged::Unsure
    }
}

/// Basic Latin, Latin-1 and Latin Extended letters.
fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic() || ('\u{00C0}'..='\u{024F}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_words_and_script_tell_english_from_others() {
        for text in [
            "She kissed him softly as the sun set over the quiet lake.",
            "We won the championship! Everyone was cheering all night.",
            "Footsteps crept closer in the dark hallway.",
            "table",
            "1234 5678",
            "",
            "Nobody came to his birthday.",
            "Gandalf and Frodo walked to Mordor with Samwise.",
        ] {
            assert_eq!(by_words(text), Judged::English, "{text}");
        }
        for text in [
            "Der Zug fährt um acht Uhr ab.",
            "Das Wetter ist heute schön.",
            "Il pleut depuis ce matin.",
            "El perro corre por el parque.",
            "Он долго смотрел на море и молчал.",
            "彼は静かな湖のほとりで彼女にキスをした。その夜は長かった。",
        ] {
            assert_ne!(by_words(text), Judged::English, "{text}");
        }
    }
}
