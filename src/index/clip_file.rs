//! The clip records of an index: `clips.jsonl` (one [`ClipRecord`] per line, row order) and
//! `clips.idx` (the byte offset of each line, N + 1 little-endian u64).
//!
//! Opening an index for search reads only `clips.idx` (8 bytes per clip); a record is parsed when
//! its row is asked for, so a search of a million clips never holds a million records. Indexes
//! written before kept every record in one `clips.json`; they open the old way (all records in
//! memory) and the next save writes the line layout. An index being changed (the indexer) loads
//! every record first.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::records::{ClipRecord, IndexError, CLIP_LINES_FILE, CLIP_OFFSETS_FILE};
use crate::audio::EVAL_CHUNKS;
use crate::config::Staged;

/// Every clip's record, in row order: in memory, or parsed from `clips.jsonl` row by row.
#[derive(Debug, Clone)]
pub(super) enum ClipRecords {
    Loaded(Vec<ClipRecord>),
    OnDisk(Arc<ClipLines>),
}

/// An opened `clips.jsonl` with its line offsets.
#[derive(Debug)]
pub(super) struct ClipLines {
    path: PathBuf,
    file: File,
    /// `[len + 1]`: line i is bytes `offsets[i]..offsets[i + 1]`, newline included.
    offsets: Vec<u64>,
    /// The index's model; every record must name it.
    model_id: String,
}

/// Reads a file from a position through `pread`, so readers of one `File` never share a cursor.
struct ReadAt<'a> {
    file: &'a File,
    pos: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl ClipLines {
    /// Opens `dir`'s `clips.jsonl` for `clips` records of `model_id`, reading only `clips.idx`
    /// and checking that it describes the lines file whole.
    pub(super) fn open(dir: &Path, clips: usize, model_id: &str) -> Result<Self, IndexError> {
        let (path, idx_path) = (dir.join(CLIP_LINES_FILE), dir.join(CLIP_OFFSETS_FILE));
        let read_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| IndexError::Read { path, source }
        };
        let bytes = std::fs::read(&idx_path).map_err(read_err(&idx_path))?;
        let bad_idx = |message: String| IndexError::Invalid { path: idx_path.clone(), message };
        if bytes.len() != (clips + 1) * 8 {
            return Err(bad_idx(format!(
                "{} bytes, expected {} ({} offsets for {clips} clips); rebuild the index with `storyscore index`",
                bytes.len(),
                (clips + 1) * 8,
                clips + 1
            )));
        }
        let offsets: Vec<u64> = bytes
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect();
        drop(bytes);
        if offsets.first() != Some(&0) {
            return Err(bad_idx(format!("first offset is {:?}, expected 0", offsets.first())));
        }
        if let Some(i) = offsets.windows(2).position(|w| w[1] <= w[0]) {
            return Err(bad_idx(format!("offsets of rows {i} and {} do not increase", i + 1)));
        }
        let file = File::open(&path).map_err(read_err(&path))?;
        let size = file.metadata().map_err(read_err(&path))?.len();
        let end = offsets.last().copied().unwrap_or(0);
        if size != end {
            return Err(IndexError::Invalid {
                path,
                message: format!("{size} bytes but {CLIP_OFFSETS_FILE} ends its lines at {end} (truncated?)"),
            });
        }
        Ok(Self { path, file, offsets, model_id: model_id.to_string() })
    }

    pub(super) fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Row `i`'s record, read and parsed alone.
    pub(super) fn get(&self, i: usize) -> Result<ClipRecord, IndexError> {
        let (Some(&start), Some(&end)) = (self.offsets.get(i), self.offsets.get(i + 1)) else {
            return Err(IndexError::NoClip { row: i, len: self.len() });
        };
        let mut line = vec![0u8; (end - start) as usize];
        self.file
            .read_exact_at(&mut line, start)
            .map_err(|source| IndexError::Read { path: self.path.clone(), source })?;
        self.parse(i, &line)
    }

    /// Line `i` (with its newline) as a record of this index.
    fn parse(&self, i: usize, line: &[u8]) -> Result<ClipRecord, IndexError> {
        let invalid = |message: String| IndexError::Invalid {
            path: self.path.clone(),
            message: format!("line {} (row {i}): {message}", i + 1),
        };
        let Some(json) = line.strip_suffix(b"\n") else {
            return Err(invalid(format!("does not end where {CLIP_OFFSETS_FILE} says")));
        };
        let record: ClipRecord = serde_json::from_slice(json).map_err(|e| invalid(e.to_string()))?;
        check(&record, &self.model_id, &self.path)?;
        Ok(record)
    }

    /// Every record in row order, read sequentially (nothing kept).
    fn iter(&self) -> impl Iterator<Item = Result<ClipRecord, IndexError>> + '_ {
        let mut reader = BufReader::with_capacity(1 << 16, ReadAt { file: &self.file, pos: 0 });
        let mut line = Vec::new();
        (0..self.len()).map(move |i| {
            line.clear();
            reader
                .read_until(b'\n', &mut line)
                .map_err(|source| IndexError::Read { path: self.path.clone(), source })?;
            if line.len() as u64 != self.offsets[i + 1] - self.offsets[i] {
                return Err(IndexError::Invalid {
                    path: self.path.clone(),
                    message: format!("line {} is not where {CLIP_OFFSETS_FILE} says", i + 1),
                });
            }
            self.parse(i, &line)
        })
    }
}

/// Whether `record` belongs to an index of `model_id` and lists a whole set of chunk starts.
pub(super) fn check(record: &ClipRecord, model_id: &str, file: &Path) -> Result<(), IndexError> {
    let invalid = |message: String| Err(IndexError::Invalid { path: file.to_path_buf(), message });
    if record.model_id != model_id {
        return invalid(format!(
            "clip {} was embedded by model {:?} but the index is for {model_id:?}; \
             embeddings of different models cannot be mixed (rebuild the index)",
            record.path.display(),
            record.model_id,
        ));
    }
    if ![0, EVAL_CHUNKS].contains(&record.chunk_starts_s.len()) {
        return invalid(format!(
            "clip {} lists {} chunk starts, expected {EVAL_CHUNKS}",
            record.path.display(),
            record.chunk_starts_s.len()
        ));
    }
    Ok(())
}

impl ClipRecords {
    pub(super) fn len(&self) -> usize {
        match self {
            Self::Loaded(v) => v.len(),
            Self::OnDisk(lines) => lines.len(),
        }
    }

    /// Row `i`'s record (a copy, or parsed from its line).
    pub(super) fn get(&self, i: usize) -> Result<ClipRecord, IndexError> {
        match self {
            Self::Loaded(v) => v.get(i).cloned().ok_or(IndexError::NoClip { row: i, len: v.len() }),
            Self::OnDisk(lines) => lines.get(i),
        }
    }

    /// Every record in row order, one at a time.
    pub(super) fn iter(&self) -> Box<dyn Iterator<Item = Result<ClipRecord, IndexError>> + '_> {
        match self {
            Self::Loaded(v) => Box::new(v.iter().cloned().map(Ok)),
            Self::OnDisk(lines) => Box::new(lines.iter()),
        }
    }

    /// The records in memory, read from disk first if they are not (an index about to change).
    pub(super) fn loaded(&mut self) -> Result<&mut Vec<ClipRecord>, IndexError> {
        if let Self::OnDisk(lines) = self {
            *self = Self::Loaded(lines.iter().collect::<Result<_, _>>()?);
        }
        let Self::Loaded(v) = self else {
            return Err(IndexError::NoClip { row: 0, len: 0 });
        };
        Ok(v)
    }

    /// Stages `clips.jsonl` and `clips.idx` of `dir` (renamed into place on commit).
    pub(super) fn stage(&self, staged: &mut Staged, dir: &Path) -> Result<(), IndexError> {
        let path = dir.join(CLIP_LINES_FILE);
        let werr = |path: &Path| {
            let path = path.to_path_buf();
            move |source| IndexError::Write { path, source }
        };
        let mut offsets = Vec::with_capacity(self.len() + 1);
        let mut at = 0u64;
        offsets.push(at);
        staged
            .write(&path, |out| {
                for record in self.iter() {
                    let mut line = serde_json::to_vec(&record.map_err(std::io::Error::other)?)?;
                    line.push(b'\n');
                    out.write_all(&line)?;
                    at += line.len() as u64;
                    offsets.push(at);
                }
                Ok(())
            })
            .map_err(werr(&path))?;
        let idx_path = dir.join(CLIP_OFFSETS_FILE);
        let bytes: Vec<u8> = offsets.iter().flat_map(|o| o.to_le_bytes()).collect();
        staged.write(&idx_path, |out| out.write_all(&bytes)).map_err(werr(&idx_path))
    }
}
