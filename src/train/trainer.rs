//! The background trainer: a worker thread that owns the model, takes pause/resume/stop commands
//! and reports typed events. The CLI and the app's Train tab consume the same events.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender};
use serde::Serialize;
use tch::nn::{self, OptimizerConfig};
use tch::{Kind, Tensor};

use super::alerts::{append_alerts, free_bytes, Alert, AlertRules};
use super::config::TrainRequest;
use super::corpus::{BatchPlan, Corpus};
use super::feed::{spawn_feed, PreparedBatch};
use super::run_status::{write_status, RunLock, RunState, RunStatus};
use super::setup::{setup, Session};
use super::space_loss::space_loss;
use super::{MetricsRecord, RunError};
use crate::heap::HeapReuse;
use crate::model::triplet::{PairGroup, THREE_BRANCH_WEIGHTS};
use crate::model::Space;

/// What the trainer reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TrainEvent {
    /// Setup done; `step` is where training starts (> 0 after a resume).
    Started {
        step: u64,
        total_steps: u64,
        resumed: bool,
    },
    Note(String),
    Step {
        step: u64,
        epoch: u64,
        loss: f64,
        branch_losses: BTreeMap<String, f64>,
        lr: f64,
        samples_per_s: f64,
    },
    Eval {
        step: u64,
        epoch: u64,
        p_at_5: f64,
        mrr: f64,
        best: bool,
    },
    Checkpoint {
        step: u64,
        path: PathBuf,
    },
    Paused,
    Resumed,
    Finished {
        step: u64,
    },
    /// A rule of [`super::alerts`] fired (also appended to the run's `alerts.jsonl`).
    Alert(Alert),
    Error(String),
}

/// Commands the trainer obeys between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainCommand {
    Pause,
    Resume,
    Stop,
}

/// Handle of a running trainer.
pub struct Trainer {
    commands: Sender<TrainCommand>,
    events: Receiver<TrainEvent>,
    handle: Option<JoinHandle<()>>,
}

impl Trainer {
    /// Starts the worker thread; setup errors arrive as [`TrainEvent::Error`].
    pub fn spawn(request: TrainRequest) -> Result<Self, RunError> {
        let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded();
        let (ev_tx, ev_rx) = crossbeam_channel::unbounded();
        // Before the thread exists, so its first allocation already takes the main arena.
        let heap = HeapReuse::start();
        let handle = std::thread::Builder::new()
            .name("storyscore-trainer".into())
            .spawn(move || {
                let _heap = heap;
                let outcome = run(request, &cmd_rx, &ev_tx);
                let last = match outcome {
                    Ok(step) => TrainEvent::Finished { step },
                    Err(e) => TrainEvent::Error(e.to_string()),
                };
                let _ = ev_tx.send(last);
            })
            .map_err(|e| RunError::io(std::path::Path::new("trainer thread"), e))?;
        Ok(Self { commands: cmd_tx, events: ev_rx, handle: Some(handle) })
    }

    pub fn events(&self) -> &Receiver<TrainEvent> {
        &self.events
    }

    pub fn send(&self, command: TrainCommand) {
        let _ = self.commands.send(command);
    }

    /// A handle that sends commands from another thread (a signal handler's).
    pub fn commands(&self) -> Sender<TrainCommand> {
        self.commands.clone()
    }

    /// Waits for the worker to end (after `Finished` or `Error`).
    pub fn join(mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Trainer {
    fn drop(&mut self) {
        let _ = self.commands.send(TrainCommand::Stop);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Blocks while paused; returns false when told to stop (or when the handle is gone while paused).
fn obey(
    commands: &Receiver<TrainCommand>,
    events: &Sender<TrainEvent>,
    on_pause: &mut dyn FnMut(bool),
) -> bool {
    let mut paused = false;
    loop {
        let cmd = if paused {
            match commands.recv() {
                Ok(c) => c,
                Err(_) => return false,
            }
        } else {
            match commands.try_recv() {
                Ok(c) => c,
                Err(_) => return true,
            }
        };
        match cmd {
            TrainCommand::Stop => return false,
            TrainCommand::Pause if !paused => {
                paused = true;
                on_pause(true);
                let _ = events.send(TrainEvent::Paused);
            }
            TrainCommand::Resume if paused => {
                paused = false;
                on_pause(false);
                let _ = events.send(TrainEvent::Resumed);
            }
            _ => {}
        }
    }
}

/// What the run says of itself: `status.json` and its alerts.
struct Report<'a> {
    run_dir: &'a std::path::Path,
    status: RunStatus,
    rules: AlertRules,
    events: &'a Sender<TrainEvent>,
    /// NVML, for a run on CUDA: GPU idle and memory alerts come from the trainer, logged with
    /// the others.
    gpu: Option<crate::monitor::GpuProbe>,
    last_gpu: Option<Instant>,
}

/// How often a CUDA run samples its GPUs for the alerts.
const GPU_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

impl Report<'_> {
    fn state(&mut self, state: RunState, step: u64) {
        if state != RunState::Running {
            // Not training: an idle GPU from now on is not the loader's fault.
            let _ = self.rules.on_gpu(&crate::monitor::GpuStatus::Devices(Vec::new()), unix_ms(), false);
        }
        self.status.state = state;
        self.status.step = step;
        self.status.updated_unix_ms = unix_ms();
        // Best effort: a status that cannot be written must not stop the run (a full disk
        // stops it at its next checkpoint, with a clear error).
        if let Err(e) = write_status(self.run_dir, &self.status) {
            tracing::warn!("{e}");
        }
    }

    fn alerts(&mut self, alerts: Vec<Alert>) {
        if let Err(e) = append_alerts(self.run_dir, &alerts) {
            tracing::warn!("{e}");
        }
        for a in alerts {
            let _ = self.events.send(TrainEvent::Alert(a));
        }
    }

    fn record(&mut self, record: &MetricsRecord) {
        if record.loss.is_some_and(f64::is_finite) {
            self.status.step = record.step;
        }
        let fired = self.rules.on_record(record);
        self.alerts(fired);
    }

    /// Samples the GPUs when it is time (a CUDA run only).
    fn gpu(&mut self, training: bool) {
        let Some(probe) = &self.gpu else { return };
        if self.last_gpu.is_some_and(|t| t.elapsed() < GPU_EVERY) {
            return;
        }
        self.last_gpu = Some(Instant::now());
        let status = probe.sample();
        let fired = self.rules.on_gpu(&status, unix_ms(), training);
        self.alerts(fired);
    }

    fn disk(&mut self) {
        if let Some(free) = free_bytes(self.run_dir) {
            let fired = self.rules.on_disk(self.run_dir, free, unix_ms());
            self.alerts(fired);
        }
    }
}

/// Holds the run's lock for the whole run and says how it ended in `status.json`.
fn run(
    request: TrainRequest,
    commands: &Receiver<TrainCommand>,
    events: &Sender<TrainEvent>,
) -> Result<u64, RunError> {
    std::fs::create_dir_all(&request.run_dir).map_err(|e| RunError::io(&request.run_dir, e))?;
    let _lock = RunLock::acquire(&request.run_dir)?;
    let status = RunStatus {
        state: RunState::Running,
        pid: std::process::id(),
        step: 0,
        total_steps: 0,
        updated_unix_ms: unix_ms(),
        message: None,
    };
    let rules = AlertRules::new(request.alerts.clone());
    let on_cuda = request.config.device != "cpu" && tch::Cuda::is_available();
    let gpu = on_cuda.then(crate::monitor::GpuProbe::new);
    let mut report = Report { run_dir: &request.run_dir, status, rules, events, gpu, last_gpu: None };
    report.state(RunState::Running, 0);
    let outcome = train(&request, commands, events, &mut report);
    let (state, step, message) = match &outcome {
        Ok(step) if *step >= report.status.total_steps => (RunState::Finished, *step, None),
        Ok(step) => (RunState::Stopped, *step, None),
        Err(e) => (RunState::Failed, report.status.step, Some(e.to_string())),
    };
    report.status.message = message;
    report.state(state, step);
    outcome
}

fn train(
    request: &TrainRequest,
    commands: &Receiver<TrainCommand>,
    events: &Sender<TrainEvent>,
    report: &mut Report,
) -> Result<u64, RunError> {
    let note = |s: String| {
        let _ = events.send(TrainEvent::Note(s));
    };
    let mut s: Session = setup(request, &note)?;
    let cfg = s.config.clone();
    let half = (cfg.batch_size / 2).max(2);
    let three = cfg.space == Space::ThreeBranch;
    let per_epoch = s.data.train.steps_per_epoch(half);
    let total = cfg.max_steps.unwrap_or(u64::MAX).min(cfg.epochs.saturating_mul(per_epoch));
    report.status.total_steps = total;
    report.state(RunState::Running, s.output.start.step);
    report.disk();
    let _ = events.send(TrainEvent::Started {
        step: s.output.start.step,
        total_steps: total,
        resumed: s.output.resumed,
    });
    let mut opt = nn::Adam { wd: cfg.weight_decay, ..Default::default() }
        .build(s.model.var_store(), cfg.learning_rate)
        .map_err(RunError::from)?;
    let mut feed = spawn_feed(&s, half, three, s.output.start.step, total);
    let mut state = s.output.start.clone();
    let eval_every = if cfg.eval_every > 0 { cfg.eval_every } else { per_epoch };
    let ckpt_every = if cfg.checkpoint_every > 0 { cfg.checkpoint_every } else { per_epoch };
    while state.step < total {
        let step = state.step;
        let mut on_pause =
            |paused: bool| report.state(if paused { RunState::Paused } else { RunState::Running }, step);
        if !obey(commands, events, &mut on_pause) {
            break;
        }
        let started = Instant::now();
        let batch: PreparedBatch = feed.recv()?;
        // Dropout masks and drawn negatives depend on the step alone, so a resumed run redraws
        // exactly what the uninterrupted run would have.
        tch::manual_seed((cfg.seed ^ (state.step + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)) as i64);
        let computed = if cfg.space.is_metric_learning() {
            step_loss(&s, &batch, three, cfg.margin)
        } else if cfg.space == Space::Moods {
            super::mood_loss::mood_loss(&s, &batch)
        } else {
            space_loss(&s, &batch)
        };
        let (loss, branches) = match computed {
            Ok(done) => done,
            Err(e) => {
                let (error, non_finite) = step_failed(&s, state.step + 1, &e);
                if non_finite {
                    let step = state.step + 1;
                    report.record(&MetricsRecord {
                        step,
                        loss: Some(f64::NAN),
                        unix_ms: unix_ms(),
                        ..Default::default()
                    });
                }
                return Err(error);
            }
        };
        let value = loss.double_value(&[]);
        if !value.is_finite() || value > 1e6 {
            let step = state.step + 1;
            report.record(&MetricsRecord {
                step,
                loss: Some(value),
                unix_ms: unix_ms(),
                ..Default::default()
            });
            return Err(RunError::format(
                &s.output.run.metrics_path(),
                format!(
                    "loss became {value} at step {}; stopped, the last good checkpoint is kept (lower the learning rate)",
                    state.step + 1
                ),
            ));
        }
        opt.backward_step(&loss);
        state.step += 1;
        state.batch_in_epoch += 1;
        if state.batch_in_epoch >= per_epoch {
            state.epoch += 1;
            state.batch_in_epoch = 0;
        }
        let samples_per_s = (2 * half) as f64 / started.elapsed().as_secs_f64().max(1e-9);
        let record = MetricsRecord {
            step: state.step,
            epoch: state.epoch,
            loss: Some(value),
            branch_losses: branches.clone(),
            lr: Some(cfg.learning_rate),
            samples_per_s: Some(samples_per_s),
            step_s: Some(started.elapsed().as_secs_f64()),
            unix_ms: unix_ms(),
            ..Default::default()
        };
        s.output.log.append(&record)?;
        report.record(&record);
        report.gpu(true);
        let _ = events.send(TrainEvent::Step {
            step: state.step,
            epoch: state.epoch,
            loss: value,
            branch_losses: branches,
            lr: cfg.learning_rate,
            samples_per_s,
        });
        let last = state.step == total;
        if state.step.is_multiple_of(eval_every) || last {
            let scores = s.validate()?;
            let best = state.best_p_at_5.is_none_or(|b| scores.p_at_5 > b);
            if best {
                state.best_p_at_5 = Some(scores.p_at_5);
                state.best_step = Some(state.step);
                s.output.run.save_best(&state, &s.weights())?;
            }
            let record = MetricsRecord {
                step: state.step,
                epoch: state.epoch,
                p_at_5: Some(scores.p_at_5),
                mrr: Some(scores.mrr),
                unix_ms: unix_ms(),
                ..Default::default()
            };
            s.output.log.append(&record)?;
            report.record(&record);
            report.state(RunState::Running, state.step);
            report.disk();
            let (p_at_5, mrr) = (scores.p_at_5, scores.mrr);
            let _ = events.send(TrainEvent::Eval { step: state.step, epoch: state.epoch, p_at_5, mrr, best });
        }
        if state.step.is_multiple_of(ckpt_every) || last {
            let weights = s.weights();
            if !weights.iter().all(|(_, t)| t.isfinite().all().int64_value(&[]) != 0) {
                return Err(RunError::format(
                    &s.output.run.metrics_path(),
                    format!("weights became non-finite at step {}; stopped, the last good checkpoint is kept (lower the learning rate)", state.step),
                ));
            }
            let path = s.output.run.save_checkpoint(&state, &weights, cfg.keep_checkpoints)?;
            let _ = events.send(TrainEvent::Checkpoint { step: state.step, path });
        }
    }
    // Finished or stopped, a run with a best checkpoint is a usable model: it gets its prior.
    if cfg.space == Space::Moods && s.output.run.best_path().is_file() {
        let priors = super::calibrate::write_priors(&s)?;
        let shown = |prior: &[f64]| -> String {
            let moods = &s.model.config().moods;
            moods.iter().zip(prior).map(|(m, p)| format!("{m} {p:.3}")).collect::<Vec<_>>().join(", ")
        };
        note(format!("text prior over the training texts (best weights): {}", shown(&priors.text)));
        note(format!("song prior over the training clips (best weights): {}", shown(&priors.song)));
    }
    Ok(state.step)
}

/// One line for a failed step (libtorch's errors carry a backtrace after the first line), and
/// whether it failed on non-finite values.
fn step_failed(s: &Session, step: u64, e: &RunError) -> (RunError, bool) {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    let non_finite = first.contains("inf") || first.contains("nan");
    let hint = if non_finite { " (values became non-finite: lower the learning rate)" } else { "" };
    let error = RunError::format(
        &s.output.run.metrics_path(),
        format!("step {step} failed: {first}; stopped, the last good checkpoint is kept{hint}"),
    );
    (error, non_finite)
}

fn one_hot(indices: &[usize], n: usize) -> Tensor {
    let mut v = vec![0f32; indices.len() * n];
    for (r, &i) in indices.iter().enumerate() {
        v[r * n + i] = 1.0;
    }
    Tensor::from_slice(&v).view([indices.len() as i64, n as i64])
}

fn multi_hot(sets: &[&[usize]], n: usize) -> Tensor {
    let mut v = vec![0f32; sets.len() * n];
    for (r, set) in sets.iter().enumerate() {
        for &i in *set {
            v[r * n + i] = 1.0;
        }
    }
    Tensor::from_slice(&v).view([sets.len() as i64, n as i64])
}

fn rows(t: &Tensor, idx: &[i64]) -> Tensor {
    t.index_select(0, &Tensor::from_slice(idx).to_device(t.device()))
}

/// Forward pass and loss of one batch → (weighted loss, per-branch losses).
fn step_loss(
    s: &Session,
    batch: &PreparedBatch,
    three: bool,
    margin: f64,
) -> Result<(Tensor, BTreeMap<String, f64>), RunError> {
    let werr = RunError::Weights;
    let plan: &BatchPlan = &batch.plan;
    let corpus: &Corpus = &s.data.train;
    let device = s.model.device();
    let song = s.song_outputs(batch, true)?;
    let text_rows = |ts: &[usize]| -> Vec<i64> { ts.iter().map(|&t| corpus.texts[t].item as i64).collect() };
    let n = corpus.n_moods;
    let ts_texts: Vec<usize> = plan.text_song.iter().map(|p| p.0).collect();
    let ts_moods: Vec<usize> = ts_texts.iter().map(|&t| corpus.texts[t].mood).collect();
    // One encoder pass over all the step's texts (a fine-tuned encoder's batch); the heads still
    // see each group on its own.
    let n_ts = ts_texts.len() as i64;
    let mut text_items = text_rows(&ts_texts);
    if three {
        text_items.extend(text_rows(&plan.tag_text));
    }
    let features = s.data.texts.features(&s.model, &text_items, true)?;
    let text_c = s.model.embed_text_features(&features.narrow(0, 0, n_ts), true).map_err(werr)?;
    let song_c = song.narrow(0, plan.tag_song.len() as i64, plan.text_song.len() as i64);
    let labels_c = one_hot(&ts_moods, n).to_device(device);
    let text_song =
        PairGroup { anchor: &text_c, positive: &song_c, labels: &labels_c }.loss(margin).map_err(werr)?;
    let mut branches = BTreeMap::new();
    branches.insert("text_song".to_string(), text_song.double_value(&[]));
    if !three {
        return Ok((text_song, branches));
    }
    let tt_moods: Vec<usize> = plan.tag_text.iter().map(|&t| corpus.texts[t].mood).collect();
    let tag_a = s.model.embed_tags(&rows(&s.data.mood_vectors, &to_i64(&tt_moods)), true).map_err(werr)?;
    let text_a = s
        .model
        .embed_text_features(&features.narrow(0, n_ts, plan.tag_text.len() as i64), true)
        .map_err(werr)?;
    let labels_a = one_hot(&tt_moods, n).to_device(device);
    let tag_text =
        PairGroup { anchor: &tag_a, positive: &text_a, labels: &labels_a }.loss(margin).map_err(werr)?;
    let ts_anchor: Vec<usize> = plan.tag_song.iter().map(|p| p.1).collect();
    let tag_b = s.model.embed_tags(&rows(&s.data.mood_vectors, &to_i64(&ts_anchor)), true).map_err(werr)?;
    let song_b = song.narrow(0, 0, plan.tag_song.len() as i64);
    let sets: Vec<&[usize]> = plan.tag_song.iter().map(|p| corpus.songs[p.0].moods.as_slice()).collect();
    let labels_b = multi_hot(&sets, n).to_device(device);
    let tag_song =
        PairGroup { anchor: &tag_b, positive: &song_b, labels: &labels_b }.loss(margin).map_err(werr)?;
    branches.insert("tag_text".to_string(), tag_text.double_value(&[]));
    branches.insert("tag_song".to_string(), tag_song.double_value(&[]));
    let [w1, w2, w3] = THREE_BRANCH_WEIGHTS;
    let loss = (tag_text * w1 + tag_song * w2 + text_song * w3).to_kind(Kind::Float);
    Ok((loss, branches))
}

fn to_i64(v: &[usize]) -> Vec<i64> {
    v.iter().map(|&i| i as i64).collect()
}
