//! Building and updating a `ClipIndex` from music folders.
//!
//! Decoder threads decode, resample and cut each file into the segments of its 16 evaluation
//! windows ahead of the model, through a bounded channel, while the calling thread runs mel +
//! trunk on one clip at a time (overlapping windows share their segment's first layers:
//! `model::windows`); a clip's embedding is the mean of its 16 window embeddings, which are kept
//! too (search starts a preview at the best-fitting chunk).
//! Unchanged files (path, size, mtime, header hash) are reused unless their clip lacks chunk
//! embeddings (an index built before they were kept); files gone from the folders leave
//! the index; unreadable files are skipped and reported. The partial index is saved every few
//! clips, so an interrupted run resumes where it stopped.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Sender};
use tch::Kind;

use super::fingerprint::Fingerprint;
use super::lock::{remove_leftovers, WriterLock};
use super::store::{ClipIndex, ClipRecord, IndexError};
use crate::audio::{probe, read_excerpts_16k, MelFrontEnd, EVAL_CHUNKS, SAMPLE_RATE};
use crate::model::ModelError;
use crate::model::{EmotionModel, WindowMode, WindowPlan};

/// Decoded clips waiting for the model; each holds at most 16 × 80,000 samples (5 MB).
const QUEUE_CLIPS: usize = 4;

/// How an indexing run goes.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// Save the partial index after this many newly embedded clips (0: only at the end).
    pub checkpoint_every: usize,
    /// Also save when this much time passed since the last save.
    pub checkpoint_interval: Duration,
    /// Decoder threads (0: half the cores, at least one).
    pub decode_threads: usize,
    /// Set to stop early; the work done so far is saved.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Typed progress for the app or a progress bar.
    pub progress: Option<Sender<IndexEvent>>,
    /// How each clip's 16 windows are computed (shared by default; exact is the paper's).
    pub windows: WindowMode,
    /// What to do with a file that decodes only in part (cut short, damaged packets).
    pub on_damaged: DamagePolicy,
    /// When another process is writing the index: wait for it (true) or fail.
    pub wait: bool,
}

/// What becomes of a file that decodes only in part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DamagePolicy {
    /// Index what decodes, with a warning naming the file and the damage.
    #[default]
    Keep,
    /// Leave the file out (listed among the skipped).
    Skip,
}

impl Default for IndexOptions {
    fn default() -> Self {
        Self {
            checkpoint_every: 32,
            checkpoint_interval: Duration::from_secs(30),
            decode_threads: 0,
            cancel: None,
            progress: None,
            windows: WindowMode::Shared,
            on_damaged: DamagePolicy::Keep,
            wait: true,
        }
    }
}

/// Progress of an indexing run, in order: `Planned`, then `Embedded`/`Skipped` per file (a
/// damaged file kept has a `Warned` before its `Embedded`; `Checkpoint`s between), then
/// `Finished`.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexEvent {
    /// Another process is writing the index; this run waits for it (before `Planned`).
    Waiting {
        holder: String,
    },
    Planned {
        files: usize,
        reused: usize,
        to_embed: usize,
        removed: usize,
    },
    Embedded {
        path: PathBuf,
        done: usize,
        to_embed: usize,
    },
    Skipped {
        path: PathBuf,
        reason: String,
        done: usize,
        to_embed: usize,
    },
    Warned {
        path: PathBuf,
        warning: String,
    },
    Checkpoint {
        clips: usize,
    },
    Finished(IndexReport),
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexReport {
    /// Clips in the saved index.
    pub clips: usize,
    pub embedded: usize,
    pub reused: usize,
    /// Clips dropped because their file is gone, or now unreadable.
    pub removed: usize,
    /// Files skipped, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
    /// Files indexed in part (damaged), with what was wrong.
    pub warnings: Vec<(PathBuf, String)>,
    /// The run was cancelled before every file was embedded.
    pub cancelled: bool,
}

/// A file decoded and cut, ready for the model.
struct Prepared {
    fingerprint: Fingerprint,
    plan: WindowPlan,
    /// The samples of each segment of `plan`.
    segments: Vec<Vec<f32>>,
    duration_s: f64,
    tags: Vec<(String, String)>,
    /// What was wrong with the file, when it decoded only in part.
    damage: Option<String>,
}

/// Indexes every audio file under `libraries` with `model` into `out` (created or updated).
pub fn build_index(
    model: &EmotionModel,
    model_dir: &Path,
    libraries: &[PathBuf],
    out: &Path,
    options: &IndexOptions,
) -> Result<IndexReport, IndexError> {
    let send = |e: IndexEvent| {
        if let Some(tx) = &options.progress {
            let _ = tx.send(e);
        }
    };
    let _heap = crate::heap::HeapReuse::start();
    let mut report = IndexReport::default();
    let files = list_files(libraries, &mut report.skipped)?;
    // One writer at a time; a second waits and then builds on what the first saved.
    let _lock =
        WriterLock::acquire(out, options.wait, |holder| send(IndexEvent::Waiting { holder: holder.into() }))?;
    for leftover in remove_leftovers(out) {
        tracing::info!(path = %leftover.display(), "removed a temp file left by a killed run");
    }
    let dim = usize::try_from(model.embed_dim()).unwrap_or(0);
    let mut index = ClipIndex::open_or_new(out, model.id(), model.space(), dim)?;
    index.set_model_dir(model_dir);

    // Changed files keep their old row until the new embedding replaces it, so a cancelled or
    // interrupted run never loses a clip.
    let mut to_embed = Vec::new();
    let mut present: HashSet<PathBuf> = HashSet::new();
    let old_rows = rows_by_path(&index)?;
    for path in &files {
        match Fingerprint::of(path) {
            Ok(fp) => {
                present.insert(path.clone());
                let current = match old_rows.get(path) {
                    Some(&i) => fp.matches(&index.record(i)?) && index.has_chunks(i)?,
                    None => false,
                };
                if !current {
                    to_embed.push(fp);
                }
            }
            Err(e) => report
                .skipped
                .push((path.clone(), format!("cannot read: {}", crate::audio::brief(&e.to_string())))),
        }
    }
    // A clip leaves when its file is gone, or when it lies under one of these folders and is no
    // longer listed; clips of other folders stay, so runs on different folders add up.
    let roots: Vec<PathBuf> = libraries.iter().filter(|l| l.is_dir()).cloned().collect();
    let before = index.len();
    index.retain(|c| {
        present.contains(&c.path) || (c.path.exists() && !roots.iter().any(|r| c.path.starts_with(r)))
    })?;
    report.removed = before - index.len();
    let changed: HashSet<&Path> = to_embed.iter().map(|f| f.path.as_path()).collect();
    report.reused = 0;
    for record in index.records() {
        report.reused += usize::from(!changed.contains(record?.path.as_path()));
    }
    drop(changed);
    let mut rows = rows_by_path(&index)?;
    send(IndexEvent::Planned {
        files: files.len(),
        reused: report.reused,
        to_embed: to_embed.len(),
        removed: report.removed,
    });

    let total = to_embed.len();
    let threads = match options.decode_threads {
        0 => std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
        n => n,
    };
    let mel = model.front_end();
    let grid = model.window_grid(&mel);
    let window = model.window_samples();
    let cancelled = || options.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed));
    let mut since_save = 0usize;
    let mut last_save = Instant::now();
    let (work_tx, work_rx) = bounded::<Fingerprint>(total.max(1));
    for fp in to_embed {
        let _ = work_tx.send(fp);
    }
    drop(work_tx);
    let (done_tx, done_rx) = bounded::<Result<Prepared, (PathBuf, String)>>(QUEUE_CLIPS);
    std::thread::scope(|scope| -> Result<(), IndexError> {
        for _ in 0..threads {
            let (work_rx, done_tx) = (work_rx.clone(), done_tx.clone());
            scope.spawn(move || {
                while let Ok(fp) = work_rx.recv() {
                    let plan = |len| WindowPlan::with_window(window, len, EVAL_CHUNKS, grid, options.windows);
                    if done_tx.send(prepare(fp, plan, options.on_damaged)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        for (seen, prepared) in done_rx.iter().enumerate() {
            if cancelled() {
                report.cancelled = true;
                break;
            }
            let done = seen + 1;
            let outcome = prepared.and_then(|p| {
                let path = p.fingerprint.path.clone();
                embed(model, &mel, &p).map(|e| (p, e)).map_err(|e| (path, format!("model: {e}")))
            });
            match outcome {
                Ok((p, (embedding, chunks, sounds_like))) => {
                    let path = p.fingerprint.path.clone();
                    if let Some(damage) = &p.damage {
                        let warning = format!("{damage}; indexed what was there");
                        send(IndexEvent::Warned { path: path.clone(), warning: warning.clone() });
                        report.warnings.push((path.clone(), warning));
                    }
                    let record = ClipRecord {
                        path: p.fingerprint.path,
                        size: p.fingerprint.size,
                        mtime_ns: p.fingerprint.mtime_ns,
                        header_hash: p.fingerprint.header_hash,
                        duration_s: p.duration_s,
                        tags: p.tags,
                        model_id: model.id().to_string(),
                        chunk_starts_s: p
                            .plan
                            .starts
                            .iter()
                            .map(|&s| s as f64 / f64::from(SAMPLE_RATE))
                            .collect(),
                        sounds_like,
                    };
                    let row = rows.get(&record.path).copied();
                    let row = index.insert_with_chunks_at(row, record, &embedding, &chunks)?;
                    rows.insert(path.clone(), row);
                    report.embedded += 1;
                    since_save += 1;
                    send(IndexEvent::Embedded { path, done, to_embed: total });
                }
                Err((path, reason)) => {
                    // A file that no longer decodes must not keep an embedding of its old content.
                    if rows.contains_key(&path) {
                        index.retain(|c| c.path != path)?;
                        rows = rows_by_path(&index)?;
                        report.removed += 1;
                    }
                    send(IndexEvent::Skipped {
                        path: path.clone(),
                        reason: reason.clone(),
                        done,
                        to_embed: total,
                    });
                    report.skipped.push((path, reason));
                }
            }
            let due = options.checkpoint_every > 0 && since_save >= options.checkpoint_every
                || since_save > 0 && last_save.elapsed() >= options.checkpoint_interval;
            if due {
                index.save(out)?;
                send(IndexEvent::Checkpoint { clips: index.len() });
                since_save = 0;
                last_save = Instant::now();
            }
        }
        // Dropping the receiver stops the decoders at their next send.
        drop(done_rx);
        Ok(())
    })?;
    index.sort_by_path()?;
    index.save(out)?;
    report.clips = index.len();
    report.skipped.sort();
    report.warnings.sort();
    send(IndexEvent::Finished(report.clone()));
    Ok(report)
}

fn rows_by_path(index: &ClipIndex) -> Result<HashMap<PathBuf, usize>, IndexError> {
    index.records().enumerate().map(|(i, c)| Ok((c?.path, i))).collect()
}

/// Every audio file under the folders (or the files themselves), sorted, without duplicates.
fn list_files(
    libraries: &[PathBuf],
    skipped: &mut Vec<(PathBuf, String)>,
) -> Result<Vec<PathBuf>, IndexError> {
    let mut files = Vec::new();
    for lib in libraries {
        if lib.is_file() {
            files.push(lib.clone());
            continue;
        }
        if !lib.is_dir() {
            return Err(IndexError::Invalid {
                path: lib.clone(),
                message: "library folder not found (expected a folder of audio files)".into(),
            });
        }
        let mut issues = Vec::new();
        let found = crate::data::folder::audio_files(lib, &mut issues)
            .map_err(|e| IndexError::Invalid { path: lib.clone(), message: e.to_string() })?;
        files.extend(found);
        skipped.extend(issues.into_iter().map(|i| (i.path, i.message)));
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// Decode, resample and cut one file into its window segments (runs on a decoder thread). The
/// file is read as a stream and only the segments are kept, so a three-hour mix costs what a
/// three-minute song does.
fn prepare(
    fingerprint: Fingerprint,
    plan: impl Fn(usize) -> WindowPlan,
    on_damaged: DamagePolicy,
) -> Result<Prepared, (PathBuf, String)> {
    let path = fingerprint.path.clone();
    let ranges = |len: usize| plan(len).segments.iter().map(|s| s.start..s.start + s.len).collect();
    let excerpts = read_excerpts_16k(&path, ranges).map_err(|e| (path.clone(), e.reason()))?;
    if let (Some(damage), DamagePolicy::Skip) = (&excerpts.damage, on_damaged) {
        return Err((path, format!("{damage}; skipped (--on-damaged skip)")));
    }
    let duration_s = excerpts.len as f64 / f64::from(SAMPLE_RATE);
    let tags = probe(&path).map(|info| info.tags).unwrap_or_default();
    let plan = plan(excerpts.len);
    Ok(Prepared { fingerprint, plan, segments: excerpts.parts, duration_s, tags, damage: excerpts.damage })
}

/// The clip embedding, the mean over its 16 window embeddings, those window embeddings, and
/// (musicnn models) what the tagger hears. → (`[D]`, `[16 · D]`, tags)
type Embedded = (Vec<f32>, Vec<f32>, Vec<(String, f32)>);

fn embed(model: &EmotionModel, mel: &MelFrontEnd, clip: &Prepared) -> Result<Embedded, ModelError> {
    let (emb, sounds_like) = match model.musicnn() {
        Some(trunk) => {
            let rows = model.window_feature_rows(mel, &clip.plan, &clip.segments)?;
            let tags = crate::model::musicnn::top_tags(trunk.net(), &rows, SOUNDS_LIKE_TAGS);
            (tch::no_grad(|| model.embed_feature_rows(&rows, false))?, tags)
        }
        None => (model.embed_windows(mel, &clip.plan, &clip.segments)?, Vec::new()),
    };
    let emb = emb.to_kind(Kind::Float).to_device(tch::Device::Cpu);
    let mean = emb.f_mean_dim([0i64].as_slice(), false, Kind::Float)?;
    let chunks = Vec::<f32>::try_from(emb.reshape([-1]))?;
    Ok((Vec::<f32>::try_from(mean)?, chunks, sounds_like))
}

/// Tags kept per clip for "sounds like" (the first few are shown; `--json` carries them all).
const SOUNDS_LIKE_TAGS: usize = 10;

/// Default index folder under `root` (the data dir's `indexes/`) for these libraries and this
/// model: `<first library name>-<hash of the library paths>-<model id prefix>`, so another model or
/// library set never lands in the same index.
pub fn default_index_dir(root: &Path, libraries: &[PathBuf], model_id: &str) -> PathBuf {
    use sha1::{Digest, Sha1};
    let mut absolute: Vec<PathBuf> =
        libraries.iter().map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())).collect();
    absolute.sort();
    let mut hasher = Sha1::new();
    for p in &absolute {
        hasher.update(p.as_os_str().as_encoded_bytes());
        hasher.update([0]);
    }
    let hash: String = hasher.finalize().iter().take(4).map(|b| format!("{b:02x}")).collect();
    let name: String = absolute
        .first()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().chars().filter(|c| c.is_alphanumeric() || "-_.".contains(*c)).collect())
        .filter(|n: &String| !n.is_empty())
        .unwrap_or_else(|| "library".into());
    let model: String = model_id.chars().filter(char::is_ascii_alphanumeric).take(8).collect();
    root.join(format!("{name}-{hash}-{model}"))
}
