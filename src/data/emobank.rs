//! EmoBank: RFC 4180 CSV `id,split,V,A,D,text`, V/A/D on 1–5.

use std::collections::HashSet;
use std::path::Path;

use super::{csv_rows, DataError, Dataset, DatasetKind, Item, ItemContent, RowIssue, Split};
use crate::emotion::Quadrant;

/// EmoBank's 1–5 scale mapped onto storyscore's 0–1 VA scale: `(x − 1) / 4`.
pub fn normalise(x: f32) -> f32 {
    (x - 1.0) / 4.0
}

/// Loads `emobank.csv` (or the folder holding it). Items have no categorical labels; `va` holds
/// the normalised (V, A, D) and `quadrant` the Russell quadrant of that point.
pub fn load(path: &Path) -> Result<(Dataset, Vec<RowIssue>), DataError> {
    let path = if path.is_dir() { path.join("emobank.csv") } else { path.to_path_buf() };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&path)
        .map_err(|e| csv_rows::open_error(&path, e))?;
    let headers = reader.headers().map_err(|e| DataError::line(&path, 1, e.to_string()))?.clone();
    let col = |name: &str| csv_rows::column(&headers, &path, name);
    let cols = [col("id")?, col("split")?, col("V")?, col("A")?, col("D")?, col("text")?];
    let mut data = Dataset::new(DatasetKind::EmoBank, &path, Vec::new());
    let mut issues = Vec::new();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let Some((line, record)) = csv_rows::row(&path, record, &mut issues) else { continue };
        let field = |i: usize| record.get(cols[i]);
        let (Some(id), Some(split), Some(text)) = (field(0), field(1), field(5)) else {
            issues.push(RowIssue::new(
                &path,
                line,
                format!("{} fields, expected {}", record.len(), headers.len()),
            ));
            continue;
        };
        let Some(split) = Split::parse(split) else {
            issues.push(RowIssue::new(&path, line, format!("unknown split {split:?}")));
            continue;
        };
        let vad: Option<Vec<f32>> = (2..5)
            .map(|i| field(i).and_then(|x| x.trim().parse::<f32>().ok()).filter(|x| (1.0..=5.0).contains(x)))
            .collect();
        let Some(vad) = vad else {
            issues.push(RowIssue::new(&path, line, "V, A and D must be numbers from 1 to 5"));
            continue;
        };
        if !seen.insert(id.to_string()) {
            issues.push(RowIssue::new(&path, line, format!("duplicate id {id:?}")));
            continue;
        }
        let va = [normalise(vad[0]), normalise(vad[1]), normalise(vad[2])];
        let mut item = Item::new(id, ItemContent::Text(text.to_string()));
        item.va = Some(va);
        item.quadrant = Some(Quadrant::of_va(va[0], va[1]));
        item.split = Some(split);
        data.items.push(item);
    }
    Ok((data, issues))
}
