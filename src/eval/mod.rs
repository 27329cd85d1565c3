//! Evaluation: the paper's metrics, baselines and the table `storyscore eval` prints.

pub use crate::features::clips as embed;
pub use crate::metrics;
pub mod probe;
pub mod protocol;
pub mod runner;
pub mod table;

use std::path::Path;

pub use protocol::{EvalSet, View};
pub use runner::{baseline_rows, model_rows, EvalError, EvalOptions};
pub use table::{render, EvalReport, EvalRow};

use crate::data::{apply_splits, Dataset};

/// The evaluation set of a model directory: a run directory's own `splits.json` (so its training
/// items never leak into the test split), the datasets' deterministic splits otherwise.
pub fn eval_set_for(
    model_dir: &Path,
    text: &Dataset,
    music: &Dataset,
    all: bool,
) -> Result<EvalSet, EvalError> {
    let splits_path = model_dir.join(crate::train::SPLITS_FILE);
    let set = if splits_path.is_file() && !all {
        let splits = crate::train::read_splits(&splits_path)?;
        let (mut text, mut music) = (text.clone(), music.clone());
        apply_splits(&mut text, &splits.text);
        apply_splits(&mut music, &splits.music);
        EvalSet::new(&text, &music, all)
    } else {
        EvalSet::new(text, music, all)
    };
    Ok(set?)
}
