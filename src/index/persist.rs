//! Reading and writing a [`ClipIndex`] directory: every file goes to a temp file that is renamed
//! into place, the metadata last. Opening reads the embeddings and the clip records' line offsets,
//! never the records themselves (but for the old `clips.json` layout, read whole).

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;
use std::sync::Arc;

use ndarray::{Array2, ArrayView2};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};

use super::chunks::{ChunkTable, CHUNKS_FILE};
use super::clip_file::{check, ClipLines, ClipRecords};
use super::records::{
    ClipsFile, IndexError, IndexMeta, CLIPS_FILE, CLIP_LINES_FILE, CLIP_OFFSETS_FILE, EMBEDDINGS_FILE,
    META_FILE,
};
use super::store::{ClipIndex, ClipRecord};
use crate::audio::EVAL_CHUNKS;
use crate::config::Staged;
use crate::model::Space;

impl ClipIndex {
    /// Whether `dir` holds an index (its metadata file; [`Self::open`] checks the rest).
    pub fn exists(dir: &Path) -> bool {
        dir.join(META_FILE).is_file()
    }

    /// Opens the index in `dir`, checking that its files agree.
    pub fn open(dir: &Path) -> Result<Self, IndexError> {
        let meta_path = dir.join(META_FILE);
        if !Self::exists(dir) {
            return Err(IndexError::Missing { dir: dir.to_path_buf() });
        }
        let text = std::fs::read_to_string(&meta_path)
            .map_err(|source| IndexError::Read { path: meta_path.clone(), source })?;
        let meta: IndexMeta = toml::from_str(&text)
            .map_err(|e| IndexError::Invalid { path: meta_path.clone(), message: e.to_string() })?;
        if meta.dim == 0 {
            return Err(IndexError::Invalid { path: meta_path, message: "dim must be positive".into() });
        }
        if meta.clips > usize::MAX / 8 - 1 {
            return Err(IndexError::Invalid { path: meta_path, message: format!("{} clips", meta.clips) });
        }
        let clips = if dir.join(CLIP_OFFSETS_FILE).exists() {
            ClipRecords::OnDisk(Arc::new(ClipLines::open(dir, meta.clips, &meta.model_id)?))
        } else {
            ClipRecords::Loaded(read_clips_json(dir, &meta)?)
        };
        let embeddings = read_embeddings(&dir.join(EMBEDDINGS_FILE), clips.len(), meta.dim)?;
        // Without chunks.npy (an index from before chunks were kept) no clip has chunk data.
        let chunks = ChunkTable::open(&dir.join(CHUNKS_FILE), clips.len(), EVAL_CHUNKS, meta.dim)?;
        Ok(Self { meta, clips, embeddings, chunks })
    }

    /// Opens `dir` if it holds an index for `model_id`; an empty new index when there is none.
    pub fn open_or_new(dir: &Path, model_id: &str, space: Space, dim: usize) -> Result<Self, IndexError> {
        if !dir.join(META_FILE).exists() {
            return Ok(Self::new(model_id, space, dim));
        }
        let mut index = Self::open(dir)?;
        if index.meta.model_id != model_id || index.meta.space != space || index.meta.dim != dim {
            return Err(IndexError::ModelMismatch {
                dir: dir.to_path_buf(),
                index_model: format!("{} ({}, {}-d)", index.meta.model_id, index.meta.space, index.meta.dim),
                model: format!("{model_id} ({space}, {dim}-d)"),
            });
        }
        index.load_records()?;
        Ok(index)
    }

    /// Writes the three files. Embeddings and clips go first, the metadata last, so a reader never
    /// sees metadata describing files that are not there yet.
    pub fn save(&self, dir: &Path) -> Result<(), IndexError> {
        std::fs::create_dir_all(dir)
            .map_err(|source| IndexError::Write { path: dir.to_path_buf(), source })?;
        // Every file is written first and renamed into place only once all are: a full disk
        // mid-save leaves the previous index whole.
        let mut staged = Staged::default();
        stage_embeddings(&mut staged, &dir.join(EMBEDDINGS_FILE), &self.embeddings, self.meta.dim)?;
        self.chunks.stage(&mut staged, &dir.join(CHUNKS_FILE))?;
        self.clips.stage(&mut staged, dir)?;
        let meta_path = dir.join(META_FILE);
        let text = toml::to_string_pretty(&self.meta)
            .map_err(|e| IndexError::Invalid { path: meta_path.clone(), message: e.to_string() })?;
        staged
            .write(&meta_path, |out| out.write_all(text.as_bytes()))
            .map_err(|source| IndexError::Write { path: meta_path, source })?;
        // The old layout's records, superseded by clips.jsonl.
        staged.remove(&dir.join(CLIPS_FILE));
        staged.commit().map_err(|(path, source)| IndexError::Write { path, source })
    }
}

/// Every record of the old layout's `clips.json`, checked against the metadata.
fn read_clips_json(dir: &Path, meta: &IndexMeta) -> Result<Vec<ClipRecord>, IndexError> {
    let path = dir.join(CLIPS_FILE);
    let file = File::open(&path).map_err(|source| IndexError::Read { path: path.clone(), source })?;
    let ClipsFile { mut clips } = serde_json::from_reader(BufReader::new(file))
        .map_err(|e| IndexError::Invalid { path: path.clone(), message: e.to_string() })?;
    for c in &clips {
        check(c, &meta.model_id, &path)?;
    }
    if meta.clips != clips.len() {
        return Err(IndexError::Invalid {
            path: dir.join(META_FILE),
            message: format!("says {} clips but {CLIPS_FILE} lists {}", meta.clips, clips.len()),
        });
    }
    if !dir.join(CHUNKS_FILE).exists() {
        // Without chunks.npy no clip has chunk data.
        clips.iter_mut().for_each(|c| c.chunk_starts_s.clear());
    }
    Ok(clips)
}

fn read_embeddings(path: &Path, rows: usize, dim: usize) -> Result<Vec<f32>, IndexError> {
    let invalid = |message: String| IndexError::Invalid { path: path.to_path_buf(), message };
    let file = File::open(path).map_err(|source| IndexError::Read { path: path.to_path_buf(), source })?;
    let array = Array2::<f32>::read_npy(BufReader::new(file))
        .map_err(|e| invalid(format!("not a 2-d float32 .npy array: {e}")))?;
    if array.dim() != (rows, dim) {
        return Err(invalid(format!("shape {:?}, expected [{rows}, {dim}] (clips × dim)", array.shape())));
    }
    let array = if array.is_standard_layout() { array } else { array.as_standard_layout().into_owned() };
    let (data, offset) = array.into_raw_vec_and_offset();
    if offset.unwrap_or(0) != 0 {
        return Err(invalid("unexpected array layout".into()));
    }
    Ok(data)
}

/// Streams the matrix to a temp file beside `path`, renamed into place on commit.
fn stage_embeddings(staged: &mut Staged, path: &Path, data: &[f32], dim: usize) -> Result<(), IndexError> {
    let view = ArrayView2::from_shape((data.len() / dim, dim), data)
        .map_err(|e| IndexError::Invalid { path: path.to_path_buf(), message: e.to_string() })?;
    staged
        .write(path, |out| view.write_npy(out).map_err(std::io::Error::other))
        .map_err(|source| IndexError::Write { path: path.to_path_buf(), source })
}

/// Deletes the index in `dir` (its files, not the directory or anything else in it), under the
/// writer lock so no indexing run is cut short; waits for one that is running.
pub fn remove_index(dir: &Path) -> Result<(), IndexError> {
    let _lock = super::lock::WriterLock::acquire(dir, true, |_| {})?;
    for file in [META_FILE, CLIPS_FILE, CLIP_LINES_FILE, CLIP_OFFSETS_FILE, EMBEDDINGS_FILE, CHUNKS_FILE] {
        let path = dir.join(file);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(IndexError::Write { path, source: e });
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_index_deletes_the_index_files_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["index.toml", "clips.jsonl", "clips.idx", "embeddings.npy", "chunks.npy", "notes.txt"] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        remove_index(dir.path()).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [super::super::lock::LOCK_FILE, "notes.txt"]);
        remove_index(dir.path()).unwrap();
    }
}
