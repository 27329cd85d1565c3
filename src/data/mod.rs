//! Datasets: ISEAR, GoEmotions, EmoBank, 4Q, the original authors' layout, music folders and
//! manifests, all loaded into one `Dataset` model, plus deterministic splits.
//!
//! Every loader skips malformed rows and returns them as `RowIssue`s (file and line), so a
//! single bad row never stops a load; only an unreadable or unrecognisable file is an error.

mod csv_rows;
mod dataset;
pub mod emobank;
mod error;
pub mod folder;
pub mod fourq;
pub mod goemotions;
pub mod isear;
mod spec;
mod splits;
mod summary;
pub mod ttm;

pub use dataset::{Dataset, Item, ItemContent, Modality, Split};
pub use error::{DataError, RowIssue};
pub use spec::{load_joined, split_joined, DatasetKind, DatasetSpec, Loaded};
pub use splits::{
    apply_splits, assign_fold, assign_splits, parse_fold, read_splits, split_map, write_splits,
};
pub use summary::{DatasetSummary, Durations, Example, Spread};

/// Loads a spec; datasets without their own split get the deterministic one.
fn load_spec(spec: &DatasetSpec) -> Result<Loaded, DataError> {
    let path = spec.path.as_path();
    if !path.exists() {
        return Err(DataError::Missing(spec.path.clone()));
    }
    let (mut datasets, issues) = match spec.kind {
        DatasetKind::Isear => one(isear::load(path)?),
        DatasetKind::GoEmotions => one(goemotions::load(path)?),
        DatasetKind::EmoBank => one(emobank::load(path)?),
        DatasetKind::FourQ => one(fourq::load(path)?),
        DatasetKind::Ttm => ttm::load(path)?,
        DatasetKind::Folder => one(folder::load_folder(path)?),
        DatasetKind::Manifest => one(folder::load_manifest(path)?),
        DatasetKind::Library => one(folder::load_library(path)?),
    };
    if spec.kind != DatasetKind::Library {
        for data in &mut datasets {
            assign_splits(data, false);
        }
    }
    Ok(Loaded { datasets, issues })
}

fn one((data, issues): (Dataset, Vec<RowIssue>)) -> (Vec<Dataset>, Vec<RowIssue>) {
    (vec![data], issues)
}
