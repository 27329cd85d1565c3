//! Music on disk: a folder with one sub-folder per mood, a CSV manifest, or an unlabelled
//! library. Files are only listed, never decoded, so 100k-file libraries index quickly.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use super::{csv_rows, DataError, Dataset, DatasetKind, Item, ItemContent, RowIssue, Split};

/// File extensions treated as audio (`.npy`: raw 16 kHz samples, as in the original layout).
pub const AUDIO_EXTENSIONS: [&str; 5] = ["wav", "flac", "ogg", "mp3", "npy"];

pub fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

/// Every audio file under `root`, sorted. Symbolic links are followed, but a directory is
/// entered once (by canonical path), so link cycles end. Unreadable entries become issues.
pub fn audio_files(root: &Path, issues: &mut Vec<RowIssue>) -> Result<Vec<PathBuf>, DataError> {
    let meta = std::fs::metadata(root).map_err(|e| DataError::io(root, e))?;
    if !meta.is_dir() {
        return Err(DataError::format(root, "not a directory"));
    }
    let mut visited = HashSet::new();
    let mut stack = vec![root.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        match std::fs::canonicalize(&dir) {
            Ok(canonical) => {
                if !visited.insert(canonical) {
                    continue;
                }
            }
            Err(e) => {
                issues.push(RowIssue::new(&dir, 0, format!("cannot resolve: {e}")));
                continue;
            }
        }
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                issues.push(RowIssue::new(&dir, 0, format!("cannot list: {e}")));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            // `metadata` follows symbolic links; a dangling link is reported and skipped.
            match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => stack.push(path),
                Ok(m) if m.is_file() && is_audio(&path) => files.push(path),
                Ok(_) => {}
                Err(e) => issues.push(RowIssue::new(&path, 0, format!("unreadable entry: {e}"))),
            }
        }
    }
    files.sort();
    Ok(files)
}

fn relative_id(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).to_string_lossy().into_owned()
}

/// `folder`: the first path component under `root` is the mood; files directly in `root` are
/// unlabelled.
pub fn load_folder(root: &Path) -> Result<(Dataset, Vec<RowIssue>), DataError> {
    let mut issues = Vec::new();
    let files = audio_files(root, &mut issues)?;
    let mut data = Dataset::new(DatasetKind::Folder, root, Vec::new());
    let mut vocabulary = BTreeSet::new();
    for path in files {
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let mut item = Item::new(relative_id(root, &path), ItemContent::Audio(path.clone()));
        if rel.components().count() > 1 {
            if let Some(mood) = rel.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned())
            {
                vocabulary.insert(mood.clone());
                item.labels.push(mood);
            }
        }
        data.items.push(item);
    }
    data.vocabulary = vocabulary.into_iter().collect();
    Ok((data, issues))
}

/// `library`: every audio file, unlabelled.
pub fn load_library(root: &Path) -> Result<(Dataset, Vec<RowIssue>), DataError> {
    let mut issues = Vec::new();
    let files = audio_files(root, &mut issues)?;
    let mut data = Dataset::new(DatasetKind::Library, root, Vec::new());
    data.items = files.into_iter().map(|p| Item::new(relative_id(root, &p), ItemContent::Audio(p))).collect();
    Ok((data, issues))
}

/// `manifest`: a CSV with columns `path`, `moods` (`;`-separated), and optionally `split`,
/// `start_s` and `len_s` (a stretch of the file, in seconds). Relative paths resolve against
/// the manifest's folder; rows whose file is missing are reported and skipped.
pub fn load_manifest(path: &Path) -> Result<(Dataset, Vec<RowIssue>), DataError> {
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| csv_rows::open_error(path, e))?;
    let headers = reader.headers().map_err(|e| DataError::line(path, 1, e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let path_col = csv_rows::column(&headers, path, "path")?;
    let moods_col = csv_rows::column(&headers, path, "moods")?;
    let (split_col, start_col, len_col) = (col("split"), col("start_s"), col("len_s"));
    let mut data = Dataset::new(DatasetKind::Manifest, path, Vec::new());
    let mut vocabulary = BTreeSet::new();
    let mut issues = Vec::new();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let Some((line, record)) = csv_rows::row(path, record, &mut issues) else { continue };
        let Some(file) = record.get(path_col).map(str::trim).filter(|f| !f.is_empty()) else {
            issues.push(RowIssue::new(path, line, "empty path"));
            continue;
        };
        let audio = base.join(file);
        if !audio.is_file() {
            issues.push(RowIssue::new(path, line, format!("audio file {} is missing", audio.display())));
            continue;
        }
        let split = match split_col.and_then(|c| record.get(c)).map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match Split::parse(s) {
                Some(split) => Some(split),
                None => {
                    issues.push(RowIssue::new(path, line, format!("unknown split {s:?}")));
                    continue;
                }
            },
        };
        let seconds =
            |c: Option<usize>| c.and_then(|c| record.get(c)).map(str::trim).filter(|s| !s.is_empty());
        let content = match (seconds(start_col), seconds(len_col)) {
            (None, None) => ItemContent::Audio(audio),
            (Some(s), Some(l)) => match (s.parse::<f64>(), l.parse::<f64>()) {
                (Ok(start_s), Ok(len_s)) if start_s >= 0.0 && len_s > 0.0 => {
                    ItemContent::AudioSlice { path: audio, start_s, len_s }
                }
                _ => {
                    issues.push(RowIssue::new(path, line, format!("bad start_s/len_s {s:?}/{l:?}")));
                    continue;
                }
            },
            _ => {
                issues.push(RowIssue::new(path, line, "start_s and len_s go together"));
                continue;
            }
        };
        if !seen.insert(file.to_string()) {
            issues.push(RowIssue::new(path, line, format!("duplicate path {file:?}")));
            continue;
        }
        let mut item = Item::new(file, content);
        item.labels = record
            .get(moods_col)
            .unwrap_or("")
            .split(';')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect();
        vocabulary.extend(item.labels.iter().cloned());
        item.split = split;
        data.items.push(item);
    }
    data.vocabulary = vocabulary.into_iter().collect();
    Ok((data, issues))
}
