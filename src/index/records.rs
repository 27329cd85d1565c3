//! What an index records beside its embeddings: file names, the metadata (`index.toml`), one
//! record per clip (`clips.jsonl` + `clips.idx`, or `clips.json` in indexes written before), and
//! the errors of reading and writing an index.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::topk;
use crate::audio::EVAL_CHUNKS;
use crate::model::Space;

pub const EMBEDDINGS_FILE: &str = "embeddings.npy";
/// One JSON object `{"clips": [...]}`: the layout before `clips.jsonl`, still read.
pub const CLIPS_FILE: &str = "clips.json";
/// One clip record per line, in row order.
pub const CLIP_LINES_FILE: &str = "clips.jsonl";
/// Byte offsets of the lines of `clips.jsonl`: N + 1 little-endian u64, the last one its size.
pub const CLIP_OFFSETS_FILE: &str = "clips.idx";
pub const META_FILE: &str = "index.toml";

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("no index at {dir}: {META_FILE} is missing (build one with `storyscore index --model DIR LIBRARY --out {dir}`)")]
    Missing { dir: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(
        "index {dir} holds embeddings of model {index_model:?}, not {model:?}; \
         embeddings of different models cannot be mixed: use another --out directory or delete {dir}"
    )]
    ModelMismatch { dir: PathBuf, index_model: String, model: String },
    #[error("clip {path}: embedding has {got} values, the index dimension is {dim}")]
    EmbeddingDim { path: PathBuf, got: usize, dim: usize },
    #[error("clip {path}: {got} chunk values and {starts} chunk starts, expected {want} values ({EVAL_CHUNKS} chunks × dim) and {EVAL_CHUNKS} starts")]
    ChunkShape { path: PathBuf, got: usize, starts: usize, want: usize },
    #[error("no clip at row {row}: the index has {len}")]
    NoClip { row: usize, len: usize },
    #[error("clip {path}: embedding contains NaN or infinity")]
    NonFinite { path: PathBuf },
    #[error("index search: {0}")]
    TopK(#[from] topk::TopKError),
    /// A file of the index that is not a valid `.npy` (the message names it).
    #[error(transparent)]
    Npy(#[from] crate::formats::FormatError),
    #[error("index {dir} is being written by {holder}; try again when it is done (or leave out --no-wait to wait)")]
    Locked { dir: PathBuf, holder: String },
}

/// `index.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexMeta {
    /// Identifies the model (weights) that produced the embeddings.
    pub model_id: String,
    pub space: Space,
    pub dim: usize,
    /// Seconds since the Unix epoch.
    pub created: u64,
    pub clips: usize,
    /// Where the model was loaded from when the index was last built (search reopens it).
    #[serde(default)]
    pub model_dir: PathBuf,
}

/// What an index's tagger hears in each clip (its most probable tags), by path.
pub type SoundsLikeMap = std::collections::HashMap<std::path::PathBuf, Vec<(String, f32)>>;

/// One clip of the library, with what is needed to tell whether its file changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipRecord {
    pub path: PathBuf,
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: u64,
    /// SHA-1 (hex) of the file's first 64 KiB.
    pub header_hash: String,
    pub duration_s: f64,
    /// Tags as the file states them (`title`, `artist`, …), in file order.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    pub model_id: String,
    /// Start of each evaluation chunk in seconds, in chunk order (empty: no chunk embeddings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chunk_starts_s: Vec<f64>,
    /// What a pretrained tagger hears (musicnn models): its most probable tags with their
    /// probabilities, averaged over the windows, best first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sounds_like: Vec<(String, f32)>,
}

impl ClipRecord {
    /// The title tag, else the file name.
    pub fn title(&self) -> String {
        self.tags
            .iter()
            .find(|(k, v)| k == "title" && !v.trim().is_empty())
            .map(|(_, v)| v.clone())
            .or_else(|| self.path.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| self.path.display().to_string())
    }
}

/// Tells apart clips of one list of results whose titles are the same (a library can hold
/// "Frantic" twice, as two files): each such title is followed by its file name, "Frantic
/// [frantic-old.ogg]". A clip listed twice keeps its title.
pub fn distinct_titles<'a>(items: impl IntoIterator<Item = (&'a mut String, &'a Path)>) {
    let items: Vec<(&mut String, &Path)> = items.into_iter().collect();
    let mut files: std::collections::HashMap<&str, std::collections::HashSet<&Path>> = Default::default();
    for (title, path) in &items {
        files.entry(title.as_str()).or_default().insert(path);
    }
    let repeated: std::collections::HashSet<String> =
        files.into_iter().filter(|(_, paths)| paths.len() > 1).map(|(t, _)| t.to_string()).collect();
    for (title, path) in items {
        if let Some(name) = path.file_name().filter(|_| repeated.contains(title.as_str())) {
            *title = format!("{title} [{}]", name.to_string_lossy());
        }
    }
}

/// `clips.json`.
#[derive(Serialize, Deserialize)]
pub(super) struct ClipsFile {
    pub(super) clips: Vec<ClipRecord>,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn titles_two_files_share_are_told_apart_by_file_name() {
        let paths = [Path::new("/m/frantic.ogg"), Path::new("/m/love.ogg"), Path::new("/m/frantic-old.ogg")];
        let mut titles: Vec<String> = ["Frantic", "Love Theme", "Frantic"].map(String::from).to_vec();
        super::distinct_titles(titles.iter_mut().zip(paths));
        assert_eq!(titles, ["Frantic [frantic.ogg]", "Love Theme", "Frantic [frantic-old.ogg]"]);
        // The same clip twice (a soundtrack may repeat one) is one clip: its title stays.
        let mut titles: Vec<String> = ["Frantic", "Frantic"].map(String::from).to_vec();
        super::distinct_titles(titles.iter_mut().zip([paths[0], paths[0]]));
        assert_eq!(titles, ["Frantic", "Frantic"]);
    }
}
