//! The moods space's priors: the text head's mean mood distribution over its training texts,
//! and the song side's over its training clips. Matching divides each side's mood probabilities
//! by its own (to `prior_power`, `song_prior_power`), so the moods its training data seldom had
//! are not outvoted by the frequent ones; both are measured with the best weights when training
//! ends or stops, and written into the run's `model.toml`.

use std::collections::BTreeSet;
use std::path::Path;

use tch::Kind;

use super::setup::{restore, Session, LEXICON_PREFIX};
use super::RunError;
use crate::features::clips::clip_embeddings;
use crate::model::{ModelConfig, WindowMode};

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
    distribution(s, &sum, "no training text to measure the text prior on")
}

/// Mean mood probabilities of the model's song side over the run's training clips (each clip
/// the mean of its evaluation windows, as evaluation and the index embed it), summing to 1.
pub fn song_mood_prior(s: &Session) -> Result<Vec<f64>, RunError> {
    let music = &s.data.music;
    let clips: Vec<&Path> =
        s.data.train.songs.iter().filter_map(|song| music.items[song.item].content.audio_path()).collect();
    let embeddings = clip_embeddings(
        &s.model,
        &s.data.front,
        &s.data.pcm,
        &clips,
        s.config.eval_chunks,
        WindowMode::Exact,
        &|_, _| {},
    )?;
    let m = s.model.config().moods.len() as i64;
    let mean = embeddings.narrow(1, 0, m).mean_dim([0i64].as_slice(), false, Kind::Double);
    let mean: Vec<f64> = Vec::try_from(mean).map_err(RunError::from)?;
    distribution(s, &mean, "no training clip to measure the song prior on")
}

/// `mass` as shares with each at least 1e-6 (a prior divides), summing to 1; `empty` is the
/// error when there is no mass (no training item, or non-finite outputs).
fn distribution(s: &Session, mass: &[f64], empty: &str) -> Result<Vec<f64>, RunError> {
    let total: f64 = mass.iter().sum();
    if !(total.is_finite() && total > 0.0) {
        return Err(RunError::format(&s.output.run.metrics_path(), empty));
    }
    let floored: Vec<f64> = mass.iter().map(|v| (v / total).max(1e-6)).collect();
    let sum: f64 = floored.iter().sum();
    Ok(floored.iter().map(|v| v / sum).collect())
}

/// The priors a run measured: the text side's and the song side's, moods order.
pub struct Priors {
    pub text: Vec<f64>,
    pub song: Vec<f64>,
}

/// Loads the run's best weights and writes the priors measured with them, and the run's
/// matching settings (`prior_power`, `song_prior_power`, the zero-shot share and temperature),
/// into its `model.toml`: checkpoints are chosen without them, as cross-validation chose them.
pub fn write_priors(s: &Session) -> Result<Priors, RunError> {
    restore(&s.model, &s.output.run.best_path())?;
    let priors = Priors { text: text_mood_prior(s)?, song: song_mood_prior(s)? };
    let path = s.output.run.root().join(crate::model::model_dir::CONFIG_FILE);
    let mut config = ModelConfig::load(&path).map_err(RunError::from)?;
    config.text_mood_prior = priors.text.clone();
    config.prior_power = s.config.prior_power;
    config.song_mood_prior = priors.song.clone();
    config.song_prior_power = s.config.song_prior_power;
    config.zero_shot_weight = s.config.zero_shot_weight;
    config.zero_shot_temperature = s.config.zero_shot_temperature;
    config.validate(&path).map_err(RunError::from)?;
    let text = config.to_toml().map_err(|e| RunError::format(&path, e))?;
    crate::config::write_atomic(&path, text.as_bytes()).map_err(|e| RunError::io(&path, e))?;
    Ok(priors)
}
