//! `ClipIndex`: the on-disk embedding store of a music library.
//!
//! A directory with
//! - `embeddings.npy`: float32 `[N, D]`, C order (unit-norm rows for cosine spaces), row i = clip i;
//! - `chunks.npy`: float32 `[N, 16, D]`, each clip's 16 evaluation-chunk embeddings as the model
//!   emits them (see [`super::chunks`]; absent in indexes built before chunks were kept);
//! - `clips.jsonl` + `clips.idx`: per clip (one line each, with the lines' byte offsets) its path,
//!   size, mtime, header hash, duration, tags, model id and the start (s) of each chunk (see
//!   `clip_file.rs`; indexes written before hold them in one `clips.json`);
//! - `index.toml`: model id, space, dimension and creation time.
//!
//! Embeddings live in one contiguous `Vec<f32>` read with one call; records are read by row when
//! asked for, so an opened index of N clips costs about `N·D·4 + N·8` bytes. Every file is written to a temp file and renamed
//! (`persist.rs`); the records and errors are in `records.rs`.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::chunks::ChunkTable;
use super::clip_file::ClipRecords;
pub use super::records::{
    ClipRecord, IndexError, IndexMeta, CLIPS_FILE, CLIP_LINES_FILE, CLIP_OFFSETS_FILE, EMBEDDINGS_FILE,
    META_FILE,
};
use super::topk::{self, Hit, Metric};
use crate::audio::EVAL_CHUNKS;
use crate::model::{Similarity, Space};

/// The embeddings of a library's clips in one model's space.
#[derive(Debug, Clone)]
pub struct ClipIndex {
    pub(super) meta: IndexMeta,
    pub(super) clips: ClipRecords,
    /// `[clips.len(), meta.dim]`, row-major.
    pub(super) embeddings: Vec<f32>,
    /// `[clips.len(), 16, meta.dim]`, read row by row from disk once saved.
    pub(super) chunks: ChunkTable,
}

impl ClipIndex {
    /// An empty index for `model_id`'s `space` of dimension `dim`.
    pub fn new(model_id: &str, space: Space, dim: usize) -> Self {
        let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let meta =
            IndexMeta { model_id: model_id.into(), space, dim, created, clips: 0, model_dir: PathBuf::new() };
        Self {
            meta,
            clips: ClipRecords::Loaded(Vec::new()),
            embeddings: Vec::new(),
            chunks: ChunkTable::missing(0, EVAL_CHUNKS, dim),
        }
    }

    pub fn meta(&self) -> &IndexMeta {
        &self.meta
    }

    pub fn model_id(&self) -> &str {
        &self.meta.model_id
    }

    pub fn space(&self) -> Space {
        self.meta.space
    }

    pub fn dim(&self) -> usize {
        self.meta.dim
    }

    pub fn len(&self) -> usize {
        self.clips.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clips.len() == 0
    }

    /// Clip `i`'s record; an opened index reads and parses that one line of `clips.jsonl`.
    pub fn record(&self, i: usize) -> Result<ClipRecord, IndexError> {
        self.clips.get(i)
    }

    /// Every clip's record in row order, read one at a time (none kept).
    pub fn records(&self) -> impl Iterator<Item = Result<ClipRecord, IndexError>> + '_ {
        self.clips.iter()
    }

    /// Reads every record into memory, as changing the index needs (inserting, removing, sorting
    /// do it themselves); indexes of the old `clips.json` layout are in memory already.
    pub fn load_records(&mut self) -> Result<(), IndexError> {
        self.clips.loaded().map(|_| ())
    }

    /// All embeddings, `[len, dim]` row-major.
    pub fn embeddings(&self) -> &[f32] {
        &self.embeddings
    }

    /// The stored embedding of clip `i`, `[dim]`.
    pub fn embedding(&self, i: usize) -> Option<&[f32]> {
        self.embeddings.get(i * self.meta.dim..(i + 1) * self.meta.dim)
    }

    /// Whether clip `i` has its chunk embeddings (and their start times).
    pub fn has_chunks(&self, i: usize) -> Result<bool, IndexError> {
        Ok(self.chunks.has(i) && !self.record(i)?.chunk_starts_s.is_empty())
    }

    /// Clip `i`'s 16 chunk embeddings as the model emitted them, `[16, dim]` row-major; `None`
    /// when the clip has none. Reads one row of `chunks.npy`, never the whole file.
    pub fn chunk_embeddings(&self, i: usize) -> Result<Option<Vec<f32>>, IndexError> {
        self.chunks_of(i, &self.record(i)?)
    }

    /// [`Self::chunk_embeddings`] for a caller holding clip `i`'s `record` already.
    pub fn chunks_of(&self, i: usize, record: &ClipRecord) -> Result<Option<Vec<f32>>, IndexError> {
        if record.chunk_starts_s.is_empty() || !self.chunks.has(i) {
            return Ok(None);
        }
        self.chunks.get(i)
    }

    /// Records the directory of the model the embeddings come from.
    pub fn set_model_dir(&mut self, dir: &Path) {
        self.meta.model_dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    }

    /// Orders clips (and their rows) by path, so a rebuilt index is laid out the same way.
    pub fn sort_by_path(&mut self) -> Result<(), IndexError> {
        let dim = self.meta.dim;
        let records = self.clips.loaded()?;
        let mut order: Vec<usize> = (0..records.len()).collect();
        order.sort_by(|&a, &b| records[a].path.cmp(&records[b].path));
        *records = order.iter().map(|&i| records[i].clone()).collect();
        self.embeddings =
            order.iter().flat_map(|&i| self.embeddings[i * dim..(i + 1) * dim].iter().copied()).collect();
        self.chunks.permute(&order);
        Ok(())
    }

    /// The row of the clip stored for `path`; an opened index reads its records sequentially.
    pub fn position(&self, path: &Path) -> Result<Option<usize>, IndexError> {
        for (i, record) in self.records().enumerate() {
            if record?.path == path {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// How rows are ranked in this index's space.
    pub fn metric(&self) -> Metric {
        metric_of(self.meta.space)
    }

    /// Adds a clip (normalising the embedding in cosine spaces), replacing one with the same path.
    pub fn insert(&mut self, clip: ClipRecord, embedding: &[f32]) -> Result<usize, IndexError> {
        let row = self.position(&clip.path)?;
        self.insert_at(row, clip, embedding)
    }

    /// [`Self::insert`] when the caller knows the clip's row (`None`: a new clip, appended), which
    /// saves the search by path. The clip keeps no chunk embeddings. Returns the row.
    pub fn insert_at(
        &mut self,
        row: Option<usize>,
        mut clip: ClipRecord,
        embedding: &[f32],
    ) -> Result<usize, IndexError> {
        clip.chunk_starts_s.clear();
        self.insert_clip(row, clip, embedding, None)
    }

    /// [`Self::insert_at`] with the clip's chunk embeddings, `[16, dim]` row-major as the model
    /// emits them; `clip.chunk_starts_s` must give the 16 chunk starts.
    pub fn insert_with_chunks_at(
        &mut self,
        row: Option<usize>,
        clip: ClipRecord,
        embedding: &[f32],
        chunks: &[f32],
    ) -> Result<usize, IndexError> {
        let want = self.chunks.row_values();
        if chunks.len() != want || clip.chunk_starts_s.len() != EVAL_CHUNKS {
            return Err(IndexError::ChunkShape {
                path: clip.path,
                got: chunks.len(),
                starts: clip.chunk_starts_s.len(),
                want,
            });
        }
        if chunks.iter().any(|x| !x.is_finite()) {
            return Err(IndexError::NonFinite { path: clip.path });
        }
        self.insert_clip(row, clip, embedding, Some(chunks))
    }

    fn insert_clip(
        &mut self,
        row: Option<usize>,
        clip: ClipRecord,
        embedding: &[f32],
        chunks: Option<&[f32]>,
    ) -> Result<usize, IndexError> {
        if clip.model_id != self.meta.model_id {
            return Err(IndexError::ModelMismatch {
                dir: clip.path.clone(),
                index_model: self.meta.model_id.clone(),
                model: clip.model_id,
            });
        }
        if embedding.len() != self.meta.dim {
            return Err(IndexError::EmbeddingDim {
                path: clip.path,
                got: embedding.len(),
                dim: self.meta.dim,
            });
        }
        if embedding.iter().any(|x| !x.is_finite()) {
            return Err(IndexError::NonFinite { path: clip.path });
        }
        let values = self.prepare(embedding);
        let records = self.clips.loaded()?;
        let at = match row.filter(|&i| records.get(i).is_some_and(|c| c.path == clip.path)) {
            Some(i) => {
                self.embeddings[i * self.meta.dim..(i + 1) * self.meta.dim].copy_from_slice(&values);
                records[i] = clip;
                self.chunks.set(i, chunks);
                i
            }
            None => {
                self.embeddings.extend_from_slice(&values);
                records.push(clip);
                self.chunks.push(chunks);
                records.len() - 1
            }
        };
        self.meta.clips = records.len();
        Ok(at)
    }

    /// Keeps only the clips for which `keep` is true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&ClipRecord) -> bool) -> Result<(), IndexError> {
        let dim = self.meta.dim;
        let records = self.clips.loaded()?;
        let flags: Vec<bool> = records.iter().map(&mut keep).collect();
        let mut write = 0;
        for (read, &kept) in flags.iter().enumerate() {
            if kept {
                if write != read {
                    records.swap(write, read);
                    self.embeddings.copy_within(read * dim..(read + 1) * dim, write * dim);
                }
                write += 1;
            }
        }
        records.truncate(write);
        self.embeddings.truncate(write * dim);
        self.chunks.retain(&flags);
        self.meta.clips = write;
        Ok(())
    }

    /// A query vector as this index compares it (unit-norm in cosine spaces).
    pub fn prepare(&self, v: &[f32]) -> Vec<f32> {
        match self.meta.space.similarity() {
            Similarity::Cosine => unit(v),
            Similarity::InnerProduct | Similarity::NegEuclidean => v.to_vec(),
        }
    }

    /// The `k` clips nearest to `query` (`[dim]`, as the model emits it), best first. Scores are
    /// cosine, inner product, or negative Euclidean distance depending on the space.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<Hit>, IndexError> {
        let q = self.prepare(query);
        let mut hits = topk::top_k(&self.embeddings, self.meta.dim, &q, k, self.metric())?;
        if self.metric() == Metric::NegSquaredEuclidean {
            hits.iter_mut().for_each(|h| h.score = -(-h.score).max(0.0).sqrt());
        }
        Ok(hits)
    }
}

/// The top-k metric that ranks a space's embeddings.
pub fn metric_of(space: Space) -> Metric {
    match space.similarity() {
        Similarity::Cosine | Similarity::InnerProduct => Metric::InnerProduct,
        Similarity::NegEuclidean => Metric::NegSquaredEuclidean,
    }
}

/// `v / max(‖v‖, 1e-8)`, the original's cosine convention.
pub fn unit(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-8);
    v.iter().map(|x| x / norm).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str, model: &str) -> ClipRecord {
        ClipRecord {
            path: path.into(),
            size: 10,
            mtime_ns: 1,
            header_hash: "ab".into(),
            duration_s: 3.5,
            tags: vec![("title".into(), format!("T {path}"))],
            model_id: model.into(),
            chunk_starts_s: Vec::new(),
            sounds_like: Vec::new(),
        }
    }

    #[test]
    fn round_trips_and_searches() {
        let dir = tempfile::tempdir().unwrap();
        let mut idx = ClipIndex::new("m1", Space::ThreeBranch, 3);
        idx.insert(record("a.ogg", "m1"), &[2.0, 0.0, 0.0]).unwrap();
        idx.insert(record("b.ogg", "m1"), &[0.0, 1.0, 0.0]).unwrap();
        idx.insert(record("c.ogg", "m1"), &[1.0, 1.0, 0.0]).unwrap();
        idx.save(dir.path()).unwrap();
        let back = ClipIndex::open(dir.path()).unwrap();
        assert_eq!(back.meta(), idx.meta());
        let records = |i: &ClipIndex| i.records().collect::<Result<Vec<_>, _>>().unwrap();
        assert_eq!(records(&back), records(&idx));
        assert_eq!(back.record(2).unwrap(), record("c.ogg", "m1"));
        assert_eq!(back.embeddings(), idx.embeddings());
        assert_eq!(back.embedding(0).unwrap(), &[1.0, 0.0, 0.0]);
        let hits = back.search(&[5.0, 0.1, 0.0], 2).unwrap();
        assert_eq!(hits.iter().map(|h| h.index).collect::<Vec<_>>(), vec![0, 2]);
        assert!((hits[0].score - 0.9998).abs() < 1e-3);
    }

    #[test]
    fn va_space_ranks_by_distance() {
        let mut idx = ClipIndex::new("m", Space::Va, 2);
        idx.insert(record("far", "m"), &[0.9, 0.9]).unwrap();
        idx.insert(record("near", "m"), &[0.2, 0.1]).unwrap();
        let hits = idx.search(&[0.2, 0.2], 2).unwrap();
        assert_eq!(hits[0].index, 1);
        assert!((hits[0].score + 0.1).abs() < 1e-6, "{hits:?}");
    }

    #[test]
    fn insert_replaces_and_retain_compacts() {
        let mut idx = ClipIndex::new("m", Space::Va, 2);
        for (i, p) in ["a", "b", "c"].iter().enumerate() {
            idx.insert(record(p, "m"), &[i as f32, 0.0]).unwrap();
        }
        idx.insert(record("b", "m"), &[9.0, 9.0]).unwrap();
        assert_eq!(idx.len(), 3);
        idx.retain(|c| c.path != Path::new("a")).unwrap();
        assert_eq!(idx.embeddings(), &[9.0, 9.0, 2.0, 0.0]);
        assert_eq!(idx.meta().clips, 2);
    }

    #[test]
    fn refuses_other_models_bad_dims_and_nan() {
        let mut idx = ClipIndex::new("m1", Space::TwoBranch, 2);
        let err = idx.insert(record("a", "m2"), &[1.0, 0.0]).unwrap_err().to_string();
        assert!(err.contains("m1") && err.contains("m2") && err.contains("cannot be mixed"), "{err}");
        assert!(matches!(idx.insert(record("a", "m1"), &[1.0]), Err(IndexError::EmbeddingDim { .. })));
        assert!(matches!(idx.insert(record("a", "m1"), &[f32::NAN, 0.0]), Err(IndexError::NonFinite { .. })));
        let dir = tempfile::tempdir().unwrap();
        idx.insert(record("a", "m1"), &[1.0, 0.0]).unwrap();
        idx.save(dir.path()).unwrap();
        let err = ClipIndex::open_or_new(dir.path(), "m9", Space::TwoBranch, 2).unwrap_err().to_string();
        assert!(err.contains("m1") && err.contains("m9"), "{err}");
    }

    #[test]
    fn chunk_rows_follow_their_clips() {
        let dir = tempfile::tempdir().unwrap();
        let mut idx = ClipIndex::new("m", Space::Va, 1);
        let with_starts = |p: &str| ClipRecord { chunk_starts_s: vec![0.5; EVAL_CHUNKS], ..record(p, "m") };
        let rows = |v: f32| vec![v; EVAL_CHUNKS];
        let err = idx.insert_with_chunks_at(None, record("a", "m"), &[1.0], &rows(1.0)).unwrap_err();
        assert!(err.to_string().contains("0 chunk starts"), "{err}");
        assert!(idx.insert_with_chunks_at(None, with_starts("a"), &[1.0], &[1.0]).is_err());
        idx.insert_with_chunks_at(None, with_starts("c"), &[3.0], &rows(3.0)).unwrap();
        idx.insert(with_starts("b"), &[2.0]).unwrap();
        idx.insert_with_chunks_at(None, with_starts("a"), &[1.0], &rows(1.0)).unwrap();
        idx.sort_by_path().unwrap();
        let has = |idx: &ClipIndex| (0..3).map(|i| idx.has_chunks(i).unwrap()).collect::<Vec<_>>();
        assert_eq!(has(&idx), [true, false, true]);
        assert!(idx.record(1).unwrap().chunk_starts_s.is_empty(), "a clip without chunks lists no starts");
        idx.save(dir.path()).unwrap();
        let mut back = ClipIndex::open(dir.path()).unwrap();
        assert_eq!(back.chunk_embeddings(0).unwrap(), Some(rows(1.0)));
        assert_eq!(back.chunk_embeddings(1).unwrap(), None);
        assert_eq!(has(&back), [true, false, true]);
        back.retain(|c| c.path != Path::new("a")).unwrap();
        assert_eq!(back.chunk_embeddings(1).unwrap(), Some(rows(3.0)));
        back.save(dir.path()).unwrap();
        assert_eq!(ClipIndex::open(dir.path()).unwrap().chunk_embeddings(1).unwrap(), Some(rows(3.0)));
    }
}
