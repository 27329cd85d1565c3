//! The 4Q audio emotion dataset: `meta.csv` (RFC 4180) beside `<id>.ogg` clips.
//!
//! Items are labelled with AudioSet moods from their AllMusic tags (the tag table of the shared
//! data README, matched case-insensitively on `moods_split`) and keep their Russell quadrant.
//! Audio is never decoded here: only the file's existence is checked.

use std::collections::HashSet;
use std::path::Path;

use super::{csv_rows, DataError, Dataset, DatasetKind, Item, ItemContent, RowIssue};
use crate::emotion::{MoodVocabulary, Quadrant};

/// AllMusic mood tag (lower case) → AudioSet mood.
pub const TAG_TO_MOOD: [(&str, &str); 10] = [
    ("happy", "happy"),
    ("exciting", "exciting"),
    ("humorous", "funny"),
    ("sad", "sad"),
    ("angry", "angry"),
    ("gentle", "tender"),
    ("tender", "tender"),
    ("menacing", "scary"),
    ("ominous", "scary"),
    ("spooky", "scary"),
];

/// AudioSet moods of a `moods_split` cell (`"; "`-separated tags), in `song_moods` order.
pub fn moods_of_tags(moods_split: &str) -> Vec<String> {
    let tags: Vec<String> = moods_split.split(';').map(|t| t.trim().to_lowercase()).collect();
    MoodVocabulary::AUDIOSET
        .words
        .iter()
        .filter(|mood| TAG_TO_MOOD.iter().any(|(tag, m)| m == *mood && tags.iter().any(|t| t == tag)))
        .map(|m| m.to_string())
        .collect()
}

/// Loads a 4Q folder (or its `meta.csv`). Rows with a bad quadrant, a duplicate id or no audio
/// file are skipped and reported.
pub fn load(path: &Path) -> Result<(Dataset, Vec<RowIssue>), DataError> {
    let meta = if path.is_dir() { path.join("meta.csv") } else { path.to_path_buf() };
    let dir = meta.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut reader = csv::Reader::from_path(&meta).map_err(|e| csv_rows::open_error(&meta, e))?;
    let headers = reader.headers().map_err(|e| DataError::line(&meta, 1, e.to_string()))?.clone();
    let col = |name: &str| csv_rows::column(&headers, &meta, name);
    let (id_col, quadrant_col, tags_col) = (col("id")?, col("quadrant")?, col("moods_split")?);
    let vocabulary = MoodVocabulary::AUDIOSET.words.iter().map(|w| w.to_string()).collect();
    let mut data = Dataset::new(DatasetKind::FourQ, &dir, vocabulary);
    let mut issues = Vec::new();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let Some((line, record)) = csv_rows::row(&meta, record, &mut issues) else { continue };
        let (Some(id), Some(quadrant), Some(tags)) =
            (record.get(id_col), record.get(quadrant_col), record.get(tags_col))
        else {
            issues.push(RowIssue::new(
                &meta,
                line,
                format!("{} fields, expected {}", record.len(), headers.len()),
            ));
            continue;
        };
        let Some(quadrant) = Quadrant::parse(quadrant) else {
            issues.push(RowIssue::new(
                &meta,
                line,
                format!("unknown quadrant {quadrant:?} (expected Q1..Q4)"),
            ));
            continue;
        };
        if id.is_empty() || id.contains(['/', '\\']) || !seen.insert(id.to_string()) {
            issues.push(RowIssue::new(&meta, line, format!("duplicate or invalid id {id:?}")));
            continue;
        }
        let audio = dir.join(format!("{id}.ogg"));
        if !audio.is_file() {
            issues.push(RowIssue::new(&meta, line, format!("audio file {} is missing", audio.display())));
            continue;
        }
        let mut item = Item::new(id, ItemContent::Audio(audio));
        item.labels = moods_of_tags(tags);
        item.tags = tags.split(';').map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect();
        item.quadrant = Some(quadrant);
        data.items.push(item);
    }
    Ok((data, issues))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_map_case_insensitively_in_song_mood_order() {
        assert_eq!(moods_of_tags("Ominous; Gentle; HAPPY; Fun"), ["happy", "scary", "tender"]);
        assert!(moods_of_tags("Circular; Greasy; Messy").is_empty());
        assert!(moods_of_tags("").is_empty());
    }
}
