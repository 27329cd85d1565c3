//! ISEAR in its original `isear.csv` export: `|`-separated, no quoting, no final newline.

use std::collections::HashSet;
use std::path::Path;

use super::{DataError, Dataset, DatasetKind, Item, ItemContent, RowIssue};
use crate::emotion::MoodVocabulary;

/// Column positions fixed by the export's header (checked on load).
const LABEL_COL: usize = 36;
const ID_COL: usize = 39;
const TEXT_COL: usize = 40;
/// The header has 42 names, and every line ends with `|`.
const MIN_FIELDS: usize = 43;

/// Loads `isear.csv`. Rows that are malformed, duplicated, carry an unknown label or hold a
/// placeholder instead of a situation (`[ No response.]`, `NO RESPONSE.`, …) are skipped and
/// reported. Texts are cleaned (`á` line-break artefacts → spaces, runs of spaces collapsed);
/// the raw text stays in `Item::raw_text`.
pub fn load(path: &Path) -> Result<(Dataset, Vec<RowIssue>), DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let mut lines = bytes.split(|b| *b == b'\n');
    let header = lines.next().map(std::str::from_utf8).and_then(Result::ok).unwrap_or("");
    let names: Vec<&str> = header.trim_end_matches('\r').split('|').collect();
    let expected = [(LABEL_COL, "Field1"), (ID_COL, "MYKEY"), (TEXT_COL, "SIT")];
    if expected.iter().any(|(i, n)| names.get(*i) != Some(n)) {
        return Err(DataError::line(
            path,
            1,
            "not an ISEAR export: expected Field1, MYKEY and SIT at columns 37, 40 and 41",
        ));
    }
    let vocab = MoodVocabulary::ISEAR;
    let mut data =
        Dataset::new(DatasetKind::Isear, path, vocab.words.iter().map(|w| w.to_string()).collect());
    let mut issues = Vec::new();
    let mut seen = HashSet::new();
    for (i, raw_line) in lines.enumerate() {
        let line_no = i + 2;
        let Ok(line) = std::str::from_utf8(raw_line) else {
            issues.push(RowIssue::new(path, line_no, "not UTF-8"));
            continue;
        };
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('|').collect();
        if fields.len() < MIN_FIELDS {
            issues.push(RowIssue::new(
                path,
                line_no,
                format!("{} fields, expected at least {MIN_FIELDS}", fields.len()),
            ));
            continue;
        }
        let label = fields[LABEL_COL];
        if !vocab.contains(label) {
            issues.push(RowIssue::new(path, line_no, format!("unknown emotion {label:?}")));
            continue;
        }
        let id = fields[ID_COL];
        if id.is_empty() || !seen.insert(id.to_string()) {
            issues.push(RowIssue::new(path, line_no, format!("duplicate or empty MYKEY {id:?}")));
            continue;
        }
        let raw = fields[TEXT_COL..fields.len() - 2].join("|");
        let text = clean_text(&raw);
        if is_placeholder(&text) {
            issues.push(RowIssue::new(path, line_no, format!("placeholder, not a situation: {text:?}")));
            continue;
        }
        let mut item = Item::new(id, ItemContent::Text(text));
        item.labels.push(label.to_string());
        item.raw_text = Some(raw);
        data.items.push(item);
    }
    Ok((data, issues))
}

/// `á` stands in for the survey's line breaks, often mid-sentence.
pub fn clean_text(raw: &str) -> String {
    raw.replace('á', " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The survey's stock non-answers (`[ No response.]`, `NO RESPONSE.`, `Doesn't apply.`,
/// `[ Same as in anger.]`, …), compared after lower-casing and dropping punctuation. Bracketed
/// texts are not all placeholders: many hold a real, general situation.
pub fn is_placeholder(text: &str) -> bool {
    let kept: String =
        text.to_lowercase().chars().filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '\'').collect();
    let norm = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    NON_ANSWERS.contains(&norm.as_str())
}

const NON_ANSWERS: [&str; 24] = [
    "",
    "no response",
    "no description",
    "never experienced",
    "do not know",
    "doesn't apply",
    "not applicable",
    "not applicable to myself",
    "nothing",
    "none",
    "can't think of any",
    "can not think of anything",
    "can not think of anything just now",
    "can not think of any situation",
    "can not remember",
    "cannot recall any incident when i felt shame",
    "do not remember any incident",
    "do not remember any situation of that kind",
    "never felt the emotion",
    "i have never felt this emotion",
    "i have not felt this emotion in my life",
    "same as in anger",
    "the same as in anger",
    "the same as in shame",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_and_placeholders() {
        assert_eq!(clean_text("met and á especially  when "), "met and especially when");
        assert!(
            is_placeholder("[ No response.]")
                && is_placeholder("NO RESPONSE.")
                && is_placeholder("Doesn't apply.")
        );
        assert!(is_placeholder("[ The same as in shame.]") && is_placeholder("[ Never experienced.]"));
        assert!(!is_placeholder("When my dog died.") && !is_placeholder("[ In an aeroplane.]"));
    }
}
