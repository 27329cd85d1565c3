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

/// Cross-validation: fold `k` of `n` (1-based) becomes the test split, whatever splits the
/// dataset had. Within each stratum (ordered as in [`assign_splits`]) items go to folds in turn,
/// so every fold keeps each label's share and no item is in two folds; of the other folds' items
/// every eighth goes to valid (checkpoint choice) and the rest to train.
pub fn assign_fold(data: &mut Dataset, k: usize, n: usize) {
    let mut strata: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, item) in data.items.iter().enumerate() {
        strata.entry(stratum(item)).or_default().push(i);
    }
    // Strata smaller than `n` would always land in the first folds; a running offset spreads them.
    let mut offset = 0;
    for members in strata.values_mut() {
        members.sort_by_cached_key(|&i| (hash_key(&data.items[i].id), data.items[i].id.clone()));
        let mut kept = 0;
        for (rank, &i) in members.iter().enumerate() {
            let fold = (rank + offset) % n.max(1) + 1;
            data.items[i].split = Some(if fold == k {
                Split::Test
            } else {
                kept += 1;
                if kept % 8 == 1 {
                    Split::Valid
                } else {
                    Split::Train
                }
            });
        }
        offset += members.len();
    }
}

/// A `--fold` that is not `K/N` with 1 ≤ K ≤ N and N ≥ 2.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("fold must be K/N with 1 ≤ K ≤ N and N ≥ 2, got {0:?}")]
pub struct BadFold(pub String);

/// Parses `K/N` (fold K of N, 1 ≤ K ≤ N, N ≥ 2).
pub fn parse_fold(s: &str) -> Result<(usize, usize), BadFold> {
    let bad = || BadFold(s.to_string());
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if n < 2 || k < 1 || k > n {
        return Err(bad());
    }
    Ok((k, n))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DatasetKind, Item, ItemContent};

    fn texts(n: usize) -> Dataset {
        let labels = ["joy", "fear", "anger"];
        let mut data = Dataset::new(DatasetKind::Isear, "isear.csv", labels.map(String::from).to_vec());
        for i in 0..n {
            let mut item = Item::new(format!("t{i}"), ItemContent::Text(format!("text {i}")));
            item.labels = vec![labels[i % 3].to_string()];
            data.items.push(item);
        }
        data
    }

    #[test]
    fn folds_partition_the_items_and_keep_label_shares() {
        let n = 5;
        let mut tested: BTreeMap<String, usize> = BTreeMap::new();
        for k in 1..=n {
            let mut data = texts(301);
            assign_fold(&mut data, k, n);
            let test: Vec<&Item> = data.items.iter().filter(|i| i.split == Some(Split::Test)).collect();
            assert!((58..=63).contains(&test.len()), "fold {k}: {} test items", test.len());
            for label in ["joy", "fear", "anger"] {
                let share = test.iter().filter(|i| i.labels[0] == label).count();
                assert!((19..=21).contains(&share), "fold {k}: {share} {label}");
            }
            let valid = data.items.iter().filter(|i| i.split == Some(Split::Valid)).count();
            assert!((28..=32).contains(&valid), "fold {k}: {valid} valid");
            for i in test {
                *tested.entry(i.id.clone()).or_default() += 1;
            }
        }
        assert_eq!(tested.len(), 301, "every item is tested once");
        assert!(tested.values().all(|&c| c == 1));
    }

    #[test]
    fn fold_strings_are_checked() {
        assert_eq!(parse_fold("2/5"), Ok((2, 5)));
        for bad in ["0/5", "6/5", "1/1", "2", "a/b", "2/5/1"] {
            assert!(parse_fold(bad).is_err(), "{bad}");
        }
    }
}
