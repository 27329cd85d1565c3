//! Decoding many files in parallel (rayon), keeping the good ones and listing the bad ones.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{load_mono_16k, AudioError};

/// The outcome of [`decode_many`]: 16-kHz mono clips in input order, and the files that failed.
#[derive(Debug, Default)]
pub struct BatchDecode {
    pub clips: Vec<(PathBuf, Vec<f32>)>,
    pub failed: Vec<(PathBuf, AudioError)>,
}

/// Loads every path with [`load_mono_16k`] on the rayon pool; one bad file never stops the rest.
pub fn decode_many<P: AsRef<Path> + Sync>(paths: &[P]) -> BatchDecode {
    let results: Vec<(PathBuf, Result<Vec<f32>, AudioError>)> =
        paths.par_iter().map(|p| (p.as_ref().to_path_buf(), load_mono_16k(p.as_ref()))).collect();
    let mut out = BatchDecode::default();
    for (path, result) in results {
        match result {
            Ok(samples) => out.clips.push((path, samples)),
            Err(e) => out.failed.push((path, e)),
        }
    }
    out
}
