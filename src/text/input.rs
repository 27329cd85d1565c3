//! Query and story text as users give it: validated, from an argument, a file or stdin.

use std::io::Read;
use std::path::Path;

use super::passages::{has_words, split_paragraphs, split_sentences, Passage};

/// Largest story accepted, in bytes; the encoder reads only its first few hundred tokens per
/// passage anyway, and this keeps a mistaken `cat /dev/urandom |` from exhausting memory.
pub const MAX_STORY_BYTES: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{origin}: the text is empty")]
    Empty { origin: String },
    #[error("{origin}: the text has no words (only whitespace, punctuation, symbols or emoji)")]
    NoWords { origin: String },
    #[error("{origin}: invalid UTF-8 at byte offset {offset}")]
    InvalidUtf8 { origin: String, offset: usize },
    #[error("{origin}: larger than {limit} bytes")]
    TooLarge { origin: String, limit: usize },
    #[error("cannot read {origin}: {source}")]
    Io { origin: String, source: std::io::Error },
}

/// A query or story with at least one word (a letter or digit in any script).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryText {
    text: String,
}

impl StoryText {
    /// Validates `text`; `origin` names where it came from in errors ("argument", a path, "stdin").
    pub fn new(text: impl Into<String>, origin: &str) -> Result<Self, InputError> {
        let text = text.into();
        if text.trim().is_empty() {
            return Err(InputError::Empty { origin: origin.into() });
        }
        if !has_words(&text) {
            return Err(InputError::NoWords { origin: origin.into() });
        }
        Ok(Self { text })
    }

    /// Decodes UTF-8 bytes, naming the offset of the first invalid byte.
    pub fn from_bytes(bytes: Vec<u8>, origin: &str) -> Result<Self, InputError> {
        match String::from_utf8(bytes) {
            Ok(text) => Self::new(text, origin),
            Err(e) => {
                Err(InputError::InvalidUtf8 { origin: origin.into(), offset: e.utf8_error().valid_up_to() })
            }
        }
    }

    /// Reads everything from `reader` (up to [`MAX_STORY_BYTES`]).
    pub fn from_reader(reader: impl Read, origin: &str) -> Result<Self, InputError> {
        let mut bytes = Vec::new();
        let limit = MAX_STORY_BYTES as u64 + 1;
        reader
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(|source| InputError::Io { origin: origin.into(), source })?;
        if bytes.len() > MAX_STORY_BYTES {
            return Err(InputError::TooLarge { origin: origin.into(), limit: MAX_STORY_BYTES });
        }
        Self::from_bytes(bytes, origin)
    }

    pub fn from_file(path: &Path) -> Result<Self, InputError> {
        let origin = path.display().to_string();
        let file =
            std::fs::File::open(path).map_err(|source| InputError::Io { origin: origin.clone(), source })?;
        Self::from_reader(file, &origin)
    }

    /// A command-line TEXT argument: `-` reads stdin, anything else is the text itself.
    pub fn from_arg(arg: &str) -> Result<Self, InputError> {
        if arg == "-" {
            Self::from_reader(std::io::stdin().lock(), "stdin")
        } else {
            Self::new(arg, "argument")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn into_string(self) -> String {
        self.text
    }

    /// The text's sentences, see [`split_sentences`].
    pub fn sentences(&self) -> Vec<Passage> {
        split_sentences(&self.text)
    }

    /// The text's paragraphs, see [`split_paragraphs`].
    pub fn paragraphs(&self) -> Vec<Passage> {
        split_paragraphs(&self.text)
    }
}

impl AsRef<str> for StoryText {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for StoryText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}
