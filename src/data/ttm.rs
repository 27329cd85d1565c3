//! The original authors' `./data` layout (text2music-emotion-embedding): numpy arrays and
//! pickles, read as data only.
//!
//! Texts: `text_isear_corpus.npy` (object array of str), `text_isear_binaries.npy` (one-hot over
//! `text_isear_moods.npy`), `text_isear_{train,valid,test}_ix.npy`, optional `text_isear_vads.npy`.
//! Songs: `song_{split}_fn.npy` (`"<ix>---audio/<id>.npy"`), `song_{split}_binaries.npy` over
//! `song_moods.npy`, optional `song_{split}_vads.npy`.

use std::collections::BTreeMap;
use std::path::Path;

use super::{DataError, Dataset, DatasetKind, Item, ItemContent, RowIssue, Split};
use crate::emotion::WordVectors;
use crate::formats::{npy, pickle};

const SPLITS: [Split; 3] = [Split::Train, Split::Valid, Split::Test];

/// Loads the texts and the songs of a layout folder: `[texts, songs]`.
pub fn load(dir: &Path) -> Result<(Vec<Dataset>, Vec<RowIssue>), DataError> {
    let mut issues = Vec::new();
    let texts = load_texts(dir, &mut issues)?;
    let songs = load_songs(dir, &mut issues)?;
    Ok((vec![texts, songs], issues))
}

fn load_texts(dir: &Path, issues: &mut Vec<RowIssue>) -> Result<Dataset, DataError> {
    let corpus_path = dir.join("text_isear_corpus.npy");
    let corpus = npy::read(&corpus_path)?.into_strings(&corpus_path)?;
    let moods_path = dir.join("text_isear_moods.npy");
    let moods = npy::read(&moods_path)?.into_strings(&moods_path)?;
    let binaries = matrix(&dir.join("text_isear_binaries.npy"), corpus.len(), moods.len())?;
    let vads = optional_matrix(&dir.join("text_isear_vads.npy"), corpus.len(), 3)?;
    let mut splits = vec![None; corpus.len()];
    for split in SPLITS {
        let path = dir.join(format!("text_isear_{}_ix.npy", split.as_str()));
        for ix in npy::read(&path)?.into_i64(&path)? {
            match usize::try_from(ix).ok().and_then(|i| splits.get_mut(i)) {
                Some(slot) => *slot = Some(split),
                None => issues.push(RowIssue::new(
                    &path,
                    0,
                    format!("index {ix} outside the corpus of {}", corpus.len()),
                )),
            }
        }
    }
    let mut data = Dataset::new(DatasetKind::Ttm, dir, moods.clone());
    for (i, text) in corpus.into_iter().enumerate() {
        let mut item = Item::new(i.to_string(), ItemContent::Text(text));
        item.labels = labels_of(&binaries[i * moods.len()..(i + 1) * moods.len()], &moods);
        item.va = vads.as_ref().map(|v| [v[i * 3], v[i * 3 + 1], v[i * 3 + 2]]);
        item.split = splits[i];
        data.items.push(item);
    }
    Ok(data)
}

fn load_songs(dir: &Path, issues: &mut Vec<RowIssue>) -> Result<Dataset, DataError> {
    let moods_path = dir.join("song_moods.npy");
    let moods = npy::read(&moods_path)?.into_strings(&moods_path)?;
    let mut data = Dataset::new(DatasetKind::Ttm, dir, moods.clone());
    for split in SPLITS {
        let fn_path = dir.join(format!("song_{}_fn.npy", split.as_str()));
        let names = npy::read(&fn_path)?.into_strings(&fn_path)?;
        let binaries =
            matrix(&dir.join(format!("song_{}_binaries.npy", split.as_str())), names.len(), moods.len())?;
        let vads = optional_matrix(&dir.join(format!("song_{}_vads.npy", split.as_str())), names.len(), 3)?;
        for (i, name) in names.iter().enumerate() {
            let Some((ix, rel)) = name.split_once("---") else {
                issues.push(RowIssue::new(
                    &fn_path,
                    0,
                    format!("element {i} {name:?} is not \"<ix>---<path>\""),
                ));
                continue;
            };
            let row = match ix.parse::<usize>() {
                Ok(r) if r < names.len() => r,
                _ => {
                    issues.push(RowIssue::new(
                        &fn_path,
                        0,
                        format!("element {i} {name:?}: bad index {ix:?}"),
                    ));
                    continue;
                }
            };
            let audio = dir.join(rel);
            if !audio.is_file() {
                issues.push(RowIssue::new(&fn_path, 0, format!("audio file {} is missing", audio.display())));
                continue;
            }
            let id = Path::new(rel).file_stem().map_or(rel.to_string(), |s| s.to_string_lossy().into_owned());
            let mut item = Item::new(id, ItemContent::Audio(audio));
            item.labels = labels_of(&binaries[row * moods.len()..(row + 1) * moods.len()], &moods);
            item.va = vads.as_ref().map(|v| [v[row * 3], v[row * 3 + 1], v[row * 3 + 2]]);
            item.split = Some(split);
            data.items.push(item);
        }
    }
    Ok(data)
}

/// Multi-hot row → the moods set in it.
fn labels_of(row: &[f32], moods: &[String]) -> Vec<String> {
    row.iter().zip(moods).filter(|(x, _)| **x > 0.5).map(|(_, m)| m.clone()).collect()
}

/// A float matrix of `rows × cols`, returned in C order.
fn matrix(path: &Path, rows: usize, cols: usize) -> Result<Vec<f32>, DataError> {
    let array = npy::read(path)?;
    if array.header.shape != [rows, cols] {
        let msg = format!("shape {:?}, expected [{rows}, {cols}]", array.header.shape);
        return Err(DataError::format(path, msg));
    }
    let fortran = array.header.fortran_order;
    let values = array.into_f32(path)?;
    if !fortran {
        return Ok(values);
    }
    let mut c_order = vec![0.0; values.len()];
    for (k, x) in values.into_iter().enumerate() {
        c_order[(k % rows) * cols + k / rows] = x;
    }
    Ok(c_order)
}

fn optional_matrix(path: &Path, rows: usize, cols: usize) -> Result<Option<Vec<f32>>, DataError> {
    if path.exists() {
        matrix(path, rows, cols).map(Some)
    } else {
        Ok(None)
    }
}

/// `text_isear_tag_to_ix.pkl`: emotion → train row indices.
pub fn read_tag_to_ix(path: &Path) -> Result<BTreeMap<String, Vec<i64>>, DataError> {
    let value = pickle::read_value(path)?;
    pickle::dict_entries(&value, path)?
        .into_iter()
        .map(|(k, v)| {
            let ix = pickle::numbers(v, path, k)?;
            Ok((k.to_string(), ix.into_iter().map(|x| x as i64).collect()))
        })
        .collect()
}

/// `song_tag_to_ids.pkl`: mood → train entries `"<ix>---audio/<id>.npy"`.
pub fn read_song_tag_to_ids(path: &Path) -> Result<BTreeMap<String, Vec<String>>, DataError> {
    let value = pickle::read_value(path)?;
    pickle::dict_entries(&value, path)?
        .into_iter()
        .map(|(k, v)| {
            let serde_pickle::Value::List(items) = v else {
                return Err(DataError::format(path, format!("value of {k:?} is not a list")));
            };
            let names = items
                .iter()
                .map(|x| match x {
                    serde_pickle::Value::String(s) => Ok(s.clone()),
                    other => {
                        Err(DataError::format(path, format!("entry of {k:?} is not a string: {other:?}")))
                    }
                })
                .collect::<Result<_, _>>()?;
            Ok((k.to_string(), names))
        })
        .collect()
}

/// `tag_to_vad.pkl`: word → (v, a, d).
pub fn read_tag_to_vad(path: &Path) -> Result<BTreeMap<String, [f32; 3]>, DataError> {
    let value = pickle::read_value(path)?;
    pickle::dict_entries(&value, path)?
        .into_iter()
        .map(|(k, v)| match pickle::numbers(v, path, k)?[..] {
            [a, b, c] => Ok((k.to_string(), [a, b, c])),
            _ => Err(DataError::format(path, format!("value of {k:?} is not a (v, a, d) triple"))),
        })
        .collect()
}

/// `w2v.pkl`: word → numpy float vector, as `WordVectors`.
pub fn read_w2v_pickle(path: &Path) -> Result<WordVectors, DataError> {
    let value = pickle::read_value(path)?;
    let mut pairs = Vec::new();
    for (word, state) in pickle::dict_entries(&value, path)? {
        let array = pickle::PickledArray::from_state(state, path)?;
        pairs.push((word.to_string(), array.to_f32(path)?));
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    WordVectors::from_pairs(pairs.iter().map(|(w, v)| (w.as_str(), v.as_slice())))
        .ok_or_else(|| DataError::format(path, "vectors are empty or of different lengths"))
}
