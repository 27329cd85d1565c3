//! Per-chunk embeddings of an index: `chunks.npy`, float32 `[N, C, D]` in C order (C = the 16
//! evaluation chunks, raw model outputs), row i = clip i.
//!
//! A search reads only the rows of its hits, seeking past the `.npy` header, so opening an index
//! never loads this file (it is C times the size of `embeddings.npy`). An index being rebuilt keeps
//! new rows in memory and copies untouched ones from the old file when it saves.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::records::IndexError;
use crate::config::Staged;

pub const CHUNKS_FILE: &str = "chunks.npy";

const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// Where one clip's chunk rows are.
#[derive(Debug, Clone)]
enum Slot {
    /// No chunk data (indexed before chunks were kept, or inserted without them).
    Missing,
    /// Row `r` of the opened `chunks.npy`.
    File(u64),
    /// `[C·D]` in memory.
    Memory(Box<[f32]>),
}

/// An opened `chunks.npy`.
#[derive(Debug)]
struct NpyRows {
    path: PathBuf,
    file: File,
    /// Byte offset of row 0 (the header length).
    data_offset: u64,
}

/// The chunk embeddings of every clip of an index, in clip order.
#[derive(Debug, Clone)]
pub struct ChunkTable {
    /// Chunks per clip (C) and values per chunk (D).
    per_clip: usize,
    dim: usize,
    /// Clips in the table.
    len: usize,
    /// One per clip; empty means clip i is row i of `file` (or has no data without a file), which
    /// keeps an opened, unchanged index from paying anything per clip.
    slots: Vec<Slot>,
    file: Option<Arc<NpyRows>>,
}

impl ChunkTable {
    /// A table of `len` clips without chunk data.
    pub fn missing(len: usize, per_clip: usize, dim: usize) -> Self {
        Self { per_clip, dim, len, slots: Vec::new(), file: None }
    }

    /// Values per clip: `C·D`.
    pub fn row_values(&self) -> usize {
        self.per_clip * self.dim
    }

    /// Whether the table reads from a `chunks.npy`.
    pub fn is_on_disk(&self) -> bool {
        self.file.is_some()
    }

    /// Opens `path` for a `[clips, per_clip, dim]` table, reading only its header; a table without
    /// chunk data when the file does not exist.
    pub fn open(path: &Path, clips: usize, per_clip: usize, dim: usize) -> Result<Self, IndexError> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::missing(clips, per_clip, dim))
            }
            Err(source) => return Err(IndexError::Read { path: path.to_path_buf(), source }),
        };
        let invalid = |message: String| IndexError::Invalid { path: path.to_path_buf(), message };
        let (shape, data_offset) = read_header(&file, path)?;
        if shape != [clips, per_clip, dim] {
            return Err(invalid(format!(
                "shape {shape:?}, expected [{clips}, {per_clip}, {dim}] (clips × chunks × dim); \
                 rebuild the index with `storyscore index`"
            )));
        }
        let want = data_offset + (clips * per_clip * dim * 4) as u64;
        let size =
            file.metadata().map_err(|source| IndexError::Read { path: path.to_path_buf(), source })?.len();
        if size != want {
            return Err(invalid(format!("{size} bytes, expected {want} for its shape (truncated?)")));
        }
        let file = Arc::new(NpyRows { path: path.to_path_buf(), file, data_offset });
        Ok(Self { per_clip, dim, len: clips, slots: Vec::new(), file: Some(file) })
    }

    /// Whether clip `i` has chunk data.
    pub fn has(&self, i: usize) -> bool {
        match self.slots.get(i) {
            Some(slot) => !matches!(slot, Slot::Missing),
            None => self.slots.is_empty() && i < self.len && self.file.is_some(),
        }
    }

    /// Clip `i`'s chunk embeddings, `[C, D]` row-major; `None` without chunk data. Reads only
    /// this clip's row from disk.
    pub fn get(&self, i: usize) -> Result<Option<Vec<f32>>, IndexError> {
        let row = match self.slots.get(i) {
            Some(Slot::Missing) => return Ok(None),
            Some(Slot::Memory(values)) => return Ok(Some(values.to_vec())),
            Some(Slot::File(r)) => *r,
            None if self.slots.is_empty() && i < self.len => i as u64,
            None => return Ok(None),
        };
        let Some(npy) = &self.file else { return Ok(None) };
        let mut bytes = vec![0u8; self.row_values() * 4];
        let offset = npy.data_offset + row * bytes.len() as u64;
        npy.file
            .read_exact_at(&mut bytes, offset)
            .map_err(|source| IndexError::Read { path: npy.path.clone(), source })?;
        Ok(Some(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()))
    }

    /// Gives every clip an explicit slot before the table changes.
    fn materialize(&mut self) {
        if self.slots.is_empty() && self.len > 0 {
            let has_file = self.file.is_some();
            self.slots =
                (0..self.len as u64).map(|r| if has_file { Slot::File(r) } else { Slot::Missing }).collect();
        }
    }

    /// Appends a clip (`values`: `[C·D]`, or `None` without chunk data).
    pub fn push(&mut self, values: Option<&[f32]>) {
        if values.is_some() || !self.slots.is_empty() || self.file.is_some() {
            self.materialize();
            self.slots.push(slot(values));
        }
        self.len += 1;
    }

    /// Replaces clip `i`'s chunk data.
    pub fn set(&mut self, i: usize, values: Option<&[f32]>) {
        if i >= self.len || (values.is_none() && !self.has(i)) {
            return;
        }
        self.materialize();
        self.slots[i] = slot(values);
    }

    /// Keeps the clips whose `keep` flag is true, in order.
    pub fn retain(&mut self, keep: &[bool]) {
        if self.file.is_some() {
            self.materialize();
        }
        if !self.slots.is_empty() {
            let mut flags = keep.iter();
            self.slots.retain(|_| flags.next().copied().unwrap_or(false));
        }
        self.len = keep.iter().take(self.len).filter(|&&k| k).count();
    }

    /// Reorders the clips: new clip j is old clip `order[j]`.
    pub fn permute(&mut self, order: &[usize]) {
        self.materialize();
        if !self.slots.is_empty() {
            self.slots = order.iter().map(|&i| self.slots[i].clone()).collect();
        }
    }

    /// Writes the table to `path` (temp file, then rename), zeros for clips without data; removes
    /// `path` instead when no clip has data, so no stale file outlives the clips it described.
    pub fn save(&self, path: &Path) -> Result<(), IndexError> {
        let mut staged = Staged::default();
        self.stage(&mut staged, path)?;
        staged.commit().map_err(|(path, source)| IndexError::Write { path, source })
    }

    /// Stages what [`Self::save`] does: the table's new file for `path`, or its removal.
    pub fn stage(&self, staged: &mut Staged, path: &Path) -> Result<(), IndexError> {
        if !(0..self.len).any(|i| self.has(i)) {
            staged.remove(path);
            return Ok(());
        }
        staged
            .write(path, |out| {
                out.write_all(&header(&[self.len, self.per_clip, self.dim]))?;
                let zeros = vec![0f32; self.row_values()];
                for i in 0..self.len {
                    let values = self.get(i).map_err(std::io::Error::other)?;
                    for v in values.as_deref().unwrap_or(&zeros) {
                        out.write_all(&v.to_le_bytes())?;
                    }
                }
                Ok(())
            })
            .map_err(|source| IndexError::Write { path: path.to_path_buf(), source })
    }
}

fn slot(values: Option<&[f32]>) -> Slot {
    values.map_or(Slot::Missing, |v| Slot::Memory(v.into()))
}

/// A version 1.0 `.npy` header for a little-endian float32 C-order array, padded to 64 bytes.
fn header(shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let mut dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", dims.join(", "));
    let unpadded = NPY_MAGIC.len() + 4 + dict.len() + 1;
    dict.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    dict.push('\n');
    let mut out = NPY_MAGIC.to_vec();
    out.extend([1, 0]);
    out.extend((dict.len() as u16).to_le_bytes());
    out.extend(dict.as_bytes());
    out
}

/// Reads the `.npy` header of a little-endian float32 C-order array. → (shape, data offset)
fn read_header(mut file: &File, path: &Path) -> Result<(Vec<usize>, u64), IndexError> {
    let (header, offset) = crate::formats::npy::read_header(&mut file, path)?;
    let invalid = |message: String| IndexError::Invalid { path: path.to_path_buf(), message };
    if header.descr != "<f4" {
        return Err(invalid(format!("dtype {:?}, expected little-endian float32 (\"<f4\")", header.descr)));
    }
    if header.fortran_order {
        return Err(invalid("Fortran-order array, expected C order".into()));
    }
    Ok((header.shape, offset as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_padded_and_parses_back() {
        let h = header(&[3, 16, 64]);
        assert_eq!(h.len() % 64, 0);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.npy");
        std::fs::write(&p, &h).unwrap();
        let (shape, offset) = read_header(&File::open(&p).unwrap(), &p).unwrap();
        assert_eq!((shape, offset), (vec![3, 16, 64], h.len() as u64));
    }

    #[test]
    fn edits_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CHUNKS_FILE);
        let mut t = ChunkTable::missing(0, 2, 2);
        t.push(Some(&[1.0, 2.0, 3.0, 4.0]));
        t.push(None);
        t.push(Some(&[5.0, 6.0, 7.0, 8.0]));
        t.save(&p).unwrap();
        let mut back = ChunkTable::open(&p, 3, 2, 2).unwrap();
        assert_eq!(back.get(2).unwrap(), Some(vec![5.0, 6.0, 7.0, 8.0]));
        assert!(ChunkTable::open(&p, 4, 2, 2).is_err());
        back.retain(&[false, true, true]);
        back.permute(&[1, 0]);
        back.set(1, Some(&[9.0; 4]));
        back.save(&p).unwrap();
        let again = ChunkTable::open(&p, 2, 2, 2).unwrap();
        assert_eq!(again.get(0).unwrap(), Some(vec![5.0, 6.0, 7.0, 8.0]));
        assert_eq!(again.get(1).unwrap(), Some(vec![9.0; 4]));
        let mut none = ChunkTable::open(&p, 2, 2, 2).unwrap();
        none.set(0, None);
        none.set(1, None);
        none.save(&p).unwrap();
        assert!(!p.exists(), "a table without data leaves no file");
    }

    #[test]
    fn an_opened_table_reads_rows_from_disk_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CHUNKS_FILE);
        let mut t = ChunkTable::missing(0, 1, 2);
        t.push(Some(&[1.0, 2.0]));
        t.push(Some(&[3.0, 4.0]));
        t.save(&p).unwrap();
        let opened = ChunkTable::open(&p, 2, 1, 2).unwrap();
        assert!(opened.slots.is_empty(), "opening costs nothing per clip");
        // Rewrite row 1 in place: the table reads what is on disk now, not a copy made at open.
        let offset = opened.file.as_ref().unwrap().data_offset + 8;
        let bytes: Vec<u8> = [7.0f32, 8.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::OpenOptions::new().write(true).open(&p).unwrap().write_all_at(&bytes, offset).unwrap();
        assert_eq!(opened.get(1).unwrap(), Some(vec![7.0, 8.0]));
        assert_eq!(opened.get(0).unwrap(), Some(vec![1.0, 2.0]));
        assert_eq!(opened.get(2).unwrap(), None);
        std::fs::write(&p, b"not numpy").unwrap();
        let err = ChunkTable::open(&p, 2, 1, 2).unwrap_err().to_string();
        assert!(err.contains(CHUNKS_FILE) && err.contains("magic"), "{err}");
    }
}
