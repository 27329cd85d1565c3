//! `torch.save` zip archives (`<name>/data.pkl` + `<name>/data/<key>` storages), read as data.

use std::io::Read;
use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use super::error::{ModelError, Result};
use crate::formats::torch_pickle::{self as pickle, TensorRef, Value};

/// An opened archive: its decoded pickle and access to the storages.
pub struct TorchArchive {
    path: PathBuf,
    zip: zip::ZipArchive<std::fs::File>,
    prefix: String,
    /// The pickled object.
    pub root: Value,
}

impl std::fmt::Debug for TorchArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TorchArchive").field("path", &self.path).field("prefix", &self.prefix).finish()
    }
}

fn element_size(kind: Kind) -> usize {
    match kind {
        Kind::Double | Kind::Int64 => 8,
        Kind::Float | Kind::Int => 4,
        Kind::Half | Kind::BFloat16 | Kind::Int16 => 2,
        _ => 1,
    }
}

impl TorchArchive {
    pub fn open(path: &Path) -> Result<Self> {
        let err = |message: String| ModelError::Checkpoint { path: path.into(), message };
        let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
        let mut zip = zip::ZipArchive::new(file)
            .map_err(|e| err(format!("not a torch.save zip archive (truncated or corrupt?): {e}")))?;
        let pkl = (0..zip.len())
            .filter_map(|i| zip.name_for_index(i).map(str::to_string))
            .find(|n| n == "data.pkl" || n.ends_with("/data.pkl"))
            .ok_or_else(|| err("no data.pkl in the archive".into()))?;
        let prefix = pkl.strip_suffix("data.pkl").unwrap_or_default().to_string();
        if let Some(order) =
            read_entry(&mut zip, &format!("{prefix}byteorder")).ok().filter(|b| b != b"little")
        {
            return Err(err(format!("byte order {:?} is not supported", String::from_utf8_lossy(&order))));
        }
        let bytes = read_entry(&mut zip, &pkl).map_err(|e| err(format!("{pkl}: {e}")))?;
        let root = pickle::parse(&bytes).map_err(|e| err(format!("{pkl}: {e}")))?;
        Ok(Self { path: path.into(), zip, prefix, root })
    }

    /// Materialises a pickled tensor from its storage file (offset, size and stride applied).
    pub fn tensor(&mut self, t: &TensorRef) -> Result<Tensor> {
        let err = |message: String| ModelError::Checkpoint { path: self.path.clone(), message };
        let name = format!("{}data/{}", self.prefix, t.key);
        let bytes = read_entry(&mut self.zip, &name).map_err(|e| err(format!("{name}: {e}")))?;
        let numel = bytes.len() / element_size(t.kind);
        if bytes.len() % element_size(t.kind) != 0 || (numel as i64) < t.storage_numel {
            return Err(err(format!(
                "{name}: {} bytes do not hold {} {:?} values",
                bytes.len(),
                t.storage_numel,
                t.kind
            )));
        }
        let extent = t.size.iter().zip(&t.stride).map(|(&d, &s)| (d - 1).max(0) * s).sum::<i64>();
        let empty = t.size.contains(&0);
        if t.offset < 0 || (!empty && t.offset + extent >= t.storage_numel) {
            return Err(err(format!(
                "{name}: view (offset {}, size {:?}, stride {:?}) exceeds the storage of {}",
                t.offset, t.size, t.stride, t.storage_numel
            )));
        }
        let storage = Tensor::f_from_data_size(&bytes, &[numel as i64], t.kind)?;
        Ok(storage.f_as_strided(t.size.as_slice(), t.stride.as_slice(), t.offset)?.contiguous())
    }
}

fn read_entry(
    zip: &mut zip::ZipArchive<std::fs::File>,
    name: &str,
) -> std::result::Result<Vec<u8>, zip::result::ZipError> {
    let mut entry = zip.by_name(name)?;
    let mut out = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0).min(1 << 30));
    entry.read_to_end(&mut out)?;
    Ok(out)
}
