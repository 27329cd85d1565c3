//! Loader threads that draw each step's batch plan and read its audio chunks ahead of the step.
//!
//! Worker `w` of `n` prepares steps `start + w, start + w + n, …`; each plan and chunk is drawn
//! from a generator seeded by the step, so a resumed run sees exactly the batches it would have.

use std::path::PathBuf;
use std::sync::Arc;

use crossbeam_channel::Receiver;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::corpus::{BatchPlan, Corpus};
use super::setup::Session;
use super::RunError;
use crate::cache::PcmCache;
use tch::Tensor;

/// A step's plan with its audio: `plan.songs().len()` chunks of 80 000 samples, concatenated;
/// with a frozen trunk, no audio but the window each clip's cached row is taken from.
#[derive(Debug)]
pub struct PreparedBatch {
    pub plan: BatchPlan,
    pub audio: Vec<f32>,
    pub windows: Vec<usize>,
}

/// The ordered stream of prepared batches.
pub struct Feed {
    workers: Vec<Receiver<Result<PreparedBatch, RunError>>>,
    next: usize,
}

impl Feed {
    /// The next step's batch, in step order.
    pub fn recv(&mut self) -> Result<PreparedBatch, RunError> {
        let rx = &self.workers[self.next % self.workers.len()];
        self.next += 1;
        rx.recv().map_err(|_| RunError::Format {
            path: PathBuf::from("audio loader"),
            message: "a loader thread ended early".into(),
        })?
    }
}

/// Starts the loader threads for steps `start..total` (step numbers are 1-based in plans).
pub fn spawn_feed(s: &Session, half: usize, three_branch: bool, start: u64, total: u64) -> Feed {
    let n = s.config.loader_threads.max(1);
    let ahead = s.config.prefetch_batches.max(1).div_ceil(n).max(1);
    let corpus: Arc<Corpus> = Arc::new(s.data.train.clone());
    let paths: Arc<Vec<PathBuf>> = Arc::new(
        s.data
            .train
            .songs
            .iter()
            .map(|song| {
                s.data.music.items[song.item].content.audio_path().map(PathBuf::from).unwrap_or_default()
            })
            .collect(),
    );
    // With cached rows the loader only draws which window of each clip a step sees.
    let windows = s.data.song_rows.as_ref().map(|_| s.config.eval_chunks.max(1));
    let workers = (0..n)
        .map(|w| {
            let (tx, rx) = crossbeam_channel::bounded(ahead);
            let (corpus, paths, cache, seed) =
                (corpus.clone(), paths.clone(), s.data.pcm.clone(), s.config.seed);
            std::thread::Builder::new()
                .name(format!("storyscore-loader-{w}"))
                .spawn(move || {
                    let mut step = start + w as u64;
                    while step < total {
                        let batch =
                            prepare(&corpus, &paths, &cache, windows, seed, step + 1, half, three_branch);
                        let failed = batch.is_err();
                        if tx.send(batch).is_err() || failed {
                            return;
                        }
                        step += n as u64;
                    }
                })
                .map(|_| rx)
                .unwrap_or_else(|e| {
                    let (tx, rx) = crossbeam_channel::bounded(1);
                    let _ = tx.send(Err(RunError::io(std::path::Path::new("loader thread"), e)));
                    rx
                })
        })
        .collect();
    Feed { workers, next: 0 }
}

#[allow(clippy::too_many_arguments)]
fn prepare(
    corpus: &Corpus,
    paths: &[PathBuf],
    cache: &PcmCache,
    windows: Option<usize>,
    seed: u64,
    step: u64,
    half: usize,
    three_branch: bool,
) -> Result<PreparedBatch, RunError> {
    let plan = BatchPlan::draw(corpus, seed, step, half, three_branch).ok_or_else(|| RunError::Format {
        path: PathBuf::from("training data"),
        message: "no text of the train split maps to a mood that any training clip has".into(),
    })?;
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(step.wrapping_mul(0x2545_F491_4F6C_DD1D)));
    if let Some(count) = windows {
        let windows = plan.songs().iter().map(|_| rng.random_range(0..count)).collect();
        return Ok(PreparedBatch { plan, audio: Vec::new(), windows });
    }
    let mut audio = Vec::with_capacity(plan.songs().len() * crate::audio::CHUNK_SAMPLES);
    for song in plan.songs() {
        audio.extend(cache.random_chunk(&paths[song], &mut rng)?);
    }
    Ok(PreparedBatch { plan, audio, windows: Vec::new() })
}

impl Session {
    /// Raw song-head outputs of a step's clips (`embed`: in the space, as
    /// [`crate::model::EmotionModel::embed_audio_mel`]).
    pub fn song_outputs(&self, batch: &PreparedBatch, embed: bool) -> Result<Tensor, RunError> {
        let out = crate::model::Heads::combine(self.song_member_outputs(batch)?);
        Ok(if embed { self.model.song_in_space(out) } else { out })
    }

    /// Each song-head member's raw outputs of a step's clips: from the cached rows of a frozen
    /// trunk, else from the batch's audio through the log-mel.
    pub fn song_member_outputs(&self, batch: &PreparedBatch) -> Result<Vec<Tensor>, RunError> {
        let werr = RunError::Weights;
        let device = self.model.device();
        if let Some(rows) = &self.data.song_rows {
            let picked: Vec<Tensor> = batch
                .plan
                .songs()
                .iter()
                .zip(&batch.windows)
                .map(|(&song, &w)| rows[song].get(w as i64))
                .collect();
            let picked = Tensor::stack(&picked, 0).to_device(device);
            return self.model.audio_member_outputs_from_rows(&picked, true).map_err(werr);
        }
        let wave =
            Tensor::from_slice(&batch.audio).view([batch.plan.songs().len() as i64, -1]).to_device(device);
        let mel = self
            .data
            .front
            .log_mel(&wave)
            .map_err(|e| RunError::format(&self.output.run.config_path(), e))?;
        self.model.audio_member_outputs(&mel, true).map_err(werr)
    }
}
