//! The moods space's text prior: the text head's mean mood distribution over its training
//! texts. Matching divides a text's mood probabilities by it (to `prior_power`), so the moods
//! the training texts seldom had are not outvoted by the frequent ones; it is measured with the
//! best weights when training ends or stops, and written into the run's `model.toml`.

use std::collections::BTreeSet;

use tch::Kind;

use super::setup::{restore, Session, LEXICON_PREFIX};
use super::RunError;
use crate::model::ModelConfig;

/// Texts per forward pass.
const CHUNK: usize = 4096;

/// Mean mood probabilities (neutral left out, renormalised to sum to 1) of the model's text
/// head over the run's training texts (the mood lexicon left out).
pub fn text_mood_prior(s: &Session) -> Result<Vec<f64>, RunError> {
    let items: BTreeSet<usize> = s
        .data
        .train
        .texts
        .iter()
        .map(|t| t.item)
        .filter(|&i| !s.data.text.items[i].id.starts_with(LEXICON_PREFIX))
        .collect();
    let rows: Vec<i64> = items.into_iter().map(|i| i as i64).collect();
    let m = s.model.config().moods.len() as i64;
    let mut sum = vec![0f64; m as usize];
    for chunk in rows.chunks(CHUNK) {
        let features = s.data.texts.features(&s.model, chunk, false)?;
        let logits = tch::no_grad(|| s.model.text_outputs(&features, false)).map_err(RunError::Weights)?;
        let moods = logits.softmax(-1, Kind::Float).narrow(1, 0, m).sum_dim_intlist(
            [0i64].as_slice(),
            false,
            Kind::Double,
        );
        let moods: Vec<f64> = Vec::try_from(moods.to_device(tch::Device::Cpu)).map_err(RunError::from)?;
        sum.iter_mut().zip(moods).for_each(|(a, b)| *a += b);
    }
    let total: f64 = sum.iter().sum();
    if rows.is_empty() || !(total.is_finite() && total > 0.0) {
        return Err(RunError::format(
            &s.output.run.metrics_path(),
            "no training text to measure the text prior on",
        ));
    }
    Ok(sum.iter().map(|v| (v / total).max(1e-6)).collect())
}

/// Loads the run's best weights and writes the text prior measured with them, and the run's
/// matching settings (`prior_power`, the zero-shot share and temperature), into its
/// `model.toml`: checkpoints are chosen without them, as cross-validation chose them.
pub fn write_text_prior(s: &Session) -> Result<Vec<f64>, RunError> {
    restore(&s.model, &s.output.run.best_path())?;
    let prior = text_mood_prior(s)?;
    let path = s.output.run.root().join(crate::model::model_dir::CONFIG_FILE);
    let mut config = ModelConfig::load(&path).map_err(RunError::from)?;
    config.text_mood_prior = prior.clone();
    config.prior_power = s.config.prior_power;
    config.zero_shot_weight = s.config.zero_shot_weight;
    config.zero_shot_temperature = s.config.zero_shot_temperature;
    config.validate(&path).map_err(RunError::from)?;
    let text = config.to_toml().map_err(|e| RunError::format(&path, e))?;
    crate::config::write_atomic(&path, text.as_bytes()).map_err(|e| RunError::io(&path, e))?;
    Ok(prior)
}
