//! Deterministic stratified train/valid/test splits, and `splits.json` for run directories.
//!
//! Items are grouped by stratum (quadrant and first label). Within a stratum they are ordered by
//! `sha1("storyscore-split:" + id)`; the first `round(n / 10)` go to test, the next
//! `round(n / 10)` to valid and the rest (about 80 %) to train. The same items always get the
//! same split, on any machine, and every label keeps its share in each split.

use std::collections::BTreeMap;
use std::path::Path;

use sha1::{Digest, Sha1};

use super::{DataError, Dataset, Split};

fn stratum(item: &super::Item) -> String {
    let quadrant = item.quadrant.map_or("", |q| q.as_str());
    format!("{quadrant}/{}", item.labels.first().map_or("", String::as_str))
}

fn hash_key(id: &str) -> [u8; 20] {
    Sha1::digest(format!("storyscore-split:{id}").as_bytes()).into()
}

/// Assigns splits to every item, unless the dataset already has its own (or `force`).
pub fn assign_splits(data: &mut Dataset, force: bool) {
    if data.has_splits() && !force {
        return;
    }
    let mut strata: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, item) in data.items.iter().enumerate() {
        strata.entry(stratum(item)).or_default().push(i);
    }
    for members in strata.values_mut() {
        members.sort_by_cached_key(|&i| (hash_key(&data.items[i].id), data.items[i].id.clone()));
        let tenth = (members.len() as f64 / 10.0).round() as usize;
        for (rank, &i) in members.iter().enumerate() {
            data.items[i].split = Some(if rank < tenth {
                Split::Test
            } else if rank < 2 * tenth {
                Split::Valid
            } else {
                Split::Train
            });
        }
    }
}

/// id → split of every item that has one.
pub fn split_map(data: &Dataset) -> BTreeMap<String, Split> {
    data.items.iter().filter_map(|i| i.split.map(|s| (i.id.clone(), s))).collect()
}

/// Writes `splits.json`: `{"<id>": "train" | "valid" | "test", …}`.
pub fn write_splits(path: &Path, data: &Dataset) -> Result<(), DataError> {
    let json = serde_json::to_string_pretty(&split_map(data))
        .map_err(|e| DataError::format(path, format!("cannot encode splits: {e}")))?;
    std::fs::write(path, json + "\n").map_err(|e| DataError::io(path, e))
}

/// Reads a `splits.json` written by `write_splits`.
pub fn read_splits(path: &Path) -> Result<BTreeMap<String, Split>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| DataError::format(path, format!("invalid splits file: {e}")))
}

/// Sets each item's split from `splits`; returns how many items the map did not cover (they
/// keep no split).
pub fn apply_splits(data: &mut Dataset, splits: &BTreeMap<String, Split>) -> usize {
    let mut uncovered = 0;
    for item in &mut data.items {
        item.split = splits.get(&item.id).copied();
        uncovered += usize::from(item.split.is_none());
    }
    uncovered
}
