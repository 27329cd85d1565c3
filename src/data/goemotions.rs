//! GoEmotions: `{train,dev,test}.tsv` (`text<TAB>labels<TAB>id`) + `labels.txt`, with any label
//! list (the Ekman taxonomy or the original 27 emotions + neutral); rows may carry several
//! labels (`4,27`). `test.tsv` is optional (the original-label release here has none).

use std::collections::HashSet;
use std::path::Path;

use super::{DataError, Dataset, DatasetKind, Item, ItemContent, RowIssue, Split};

/// Loads the folder holding the three TSV files and `labels.txt`; splits come from the files.
pub fn load(dir: &Path) -> Result<(Dataset, Vec<RowIssue>), DataError> {
    let labels_path = dir.join("labels.txt");
    let labels_text = std::fs::read_to_string(&labels_path).map_err(|e| DataError::io(&labels_path, e))?;
    let vocabulary: Vec<String> =
        labels_text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
    if vocabulary.is_empty() {
        return Err(DataError::format(&labels_path, "no labels"));
    }
    let mut data = Dataset::new(DatasetKind::GoEmotions, dir, vocabulary);
    let mut issues = Vec::new();
    let mut seen = HashSet::new();
    for (file, split) in [("train.tsv", Split::Train), ("dev.tsv", Split::Valid), ("test.tsv", Split::Test)] {
        let path = dir.join(file);
        if split == Split::Test && !path.exists() {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
        for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
            let line_no = i + 1;
            let Ok(line) = std::str::from_utf8(raw) else {
                issues.push(RowIssue::new(&path, line_no, "not UTF-8"));
                continue;
            };
            let line = line.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            match parse_row(line, &data.vocabulary).map_err(|e| RowIssue::new(&path, line_no, e.to_string()))
            {
                Ok((text, labels, id)) => {
                    if !seen.insert(id.to_string()) {
                        issues.push(RowIssue::new(&path, line_no, format!("duplicate comment id {id:?}")));
                        continue;
                    }
                    let mut item = Item::new(id, ItemContent::Text(text.to_string()));
                    item.labels = labels;
                    item.split = Some(split);
                    data.items.push(item);
                }
                Err(issue) => issues.push(issue),
            }
        }
    }
    Ok((data, issues))
}

/// A row's text, labels and id, or what is wrong with it.
fn parse_row<'a>(
    line: &'a str,
    vocabulary: &[String],
) -> Result<(&'a str, Vec<String>, &'a str), RowProblem> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [text, labels, id] = fields[..] else {
        return Err(RowProblem::Fields(fields.len()));
    };
    if id.is_empty() {
        return Err(RowProblem::EmptyId);
    }
    let labels = labels
        .split(',')
        .map(|l| {
            l.trim()
                .parse::<usize>()
                .ok()
                .and_then(|i| vocabulary.get(i))
                .cloned()
                .ok_or_else(|| RowProblem::Label { label: l.to_string(), labels: vocabulary.len() })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((text, labels, id))
}

/// What is wrong with a GoEmotions row.
#[derive(Debug, thiserror::Error)]
enum RowProblem {
    #[error("{0} TAB-separated fields, expected 3 (text, labels, id)")]
    Fields(usize),
    #[error("empty comment id")]
    EmptyId,
    #[error("label {label:?} is not an index into labels.txt (0..{labels})")]
    Label { label: String, labels: usize },
}
