//! The search engine worker. On start it makes sure the configured library is indexed with the
//! default model (first launch, new or changed files, or an index another model made), reporting
//! the indexer's progress; then it answers story queries and soundtrack requests, and projects the
//! index once for the Map tab. It owns the model: the UI never waits for it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use tch::{Device, Kind};

use crate::config::{Config, Dirs};
use crate::index::{build_index, ClipIndex, IndexError, IndexEvent, IndexOptions, SearchResults, Searcher};
use crate::index::{soundtrack, SoundsLikeMap, Soundtrack};
use crate::map::projection::MapData;
use crate::model::EmotionModel;
use crate::text::StoryText;

/// Clips listed per query.
pub const RESULTS: usize = 20;

/// What the engine will do, decided from files alone (so the first frame already says it).
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Index (or update) `libraries` with the model in `model_dir`, then search `index_dir`.
    Index { model_dir: PathBuf, libraries: Vec<PathBuf>, index_dir: PathBuf },
    /// Search an existing index with the model its `index.toml` names.
    Open { index_dir: PathBuf },
    /// Nothing to search; the text says which command creates what is missing.
    Unavailable(String),
}

impl Plan {
    pub fn of(dirs: &Dirs, config: &Config) -> Self {
        let index_dir = dirs.default_index();
        let has_index = ClipIndex::exists(&index_dir);
        let libraries: Vec<PathBuf> = config.library.iter().filter(|p| p.is_dir()).cloned().collect();
        if libraries.is_empty() {
            if has_index {
                return Plan::Open { index_dir };
            }
            return Plan::Unavailable(format!(
                "No music library to index: `library` in {} lists no existing folder. Add one there, \
                 or run `storyscore index LIBRARY… --out {}` (it indexes with the default model).",
                dirs.config_file.display(),
                index_dir.display()
            ));
        }
        let model_dir = dirs.default_model();
        if model_dir.join("model.toml").is_file() {
            return Plan::Index { model_dir, libraries, index_dir };
        }
        if has_index {
            return Plan::Open { index_dir };
        }
        Plan::Unavailable(format!(
            "No default model at {} and no index at {}. Train one with `scripts/train-default` (or \
             `storyscore train … --run-dir RUN`), then run `storyscore index --model RUN {} --out {}`.",
            model_dir.display(),
            index_dir.display(),
            libraries.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" "),
            index_dir.display()
        ))
    }
}

/// What the UI asks of the engine. Requests made while indexing wait for it to finish.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineRequest {
    Search(String),
    Soundtrack(String),
}

/// What the engine reports.
#[derive(Debug, Clone)]
pub enum EngineEvent {
    /// A step before searching is possible (loading the model, checking the index).
    Preparing(String),
    Indexing {
        done: usize,
        total: usize,
        reused: usize,
        /// Files indexed in part so far (damaged; named in the log).
        damaged: usize,
    },
    Ready {
        index_dir: PathBuf,
        clips: usize,
        space: crate::model::Space,
        skipped: usize,
        damaged: usize,
    },
    Unavailable(String),
    Projected(Arc<MapData>),
    /// What a pretrained tagger hears in each indexed clip (musicnn indexes only), by path.
    SoundsLike(Arc<SoundsLikeMap>),
    Results(Box<Hits>),
    Soundtrack(Soundtrack),
    Failed(String),
}

/// Ranked clips for a query, with where they lie on the map.
#[derive(Debug, Clone)]
pub struct Hits {
    pub results: SearchResults,
    /// The query's point in the map's plane.
    pub query_point: Option<[f64; 2]>,
    /// Index rows of the results, in rank order.
    pub rows: Vec<usize>,
    /// The query's vector in the space (`[dim]`), to place it on a UMAP layout.
    pub query_vector: Vec<f32>,
}

/// How long quitting waits for the engine to put libtorch down (one clip's embedding at most).
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// Handle to the engine thread; dropping it cancels an indexing run in progress and waits briefly
/// for the thread to leave libtorch, so the process does not exit under a running kernel.
pub struct Engine {
    requests: Option<Sender<EngineRequest>>,
    cancel: Arc<AtomicBool>,
    finished: Receiver<()>,
}

impl Engine {
    /// Starts the engine thread; it reports through `report`.
    pub fn spawn(send: impl Fn(EngineEvent) + Send + Sync + 'static, plan: Plan, device: Device) -> Self {
        let (requests, rx) = crossbeam_channel::unbounded();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let (done, finished) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new().name("search-engine".into()).spawn(move || {
            let _done = done;
            match open(&plan, device, &flag, &send) {
                Ok(Some(searcher)) => serve(&searcher, &rx, &send),
                Ok(None) => {}
                Err(why) => send(EngineEvent::Unavailable(why)),
            }
        });
        if let Err(e) = spawned {
            tracing::error!("cannot start the search engine thread: {e}");
        }
        Self { requests: Some(requests), cancel, finished }
    }

    pub fn send(&self, request: EngineRequest) {
        if let Some(r) = &self.requests {
            let _ = r.send(request);
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        self.requests = None;
        // The thread drops its end of `finished` on exit, which ends this wait early.
        let _ = self.finished.recv_timeout(SHUTDOWN_WAIT);
    }
}

/// Follows the plan up to a searcher; `None` when cancelled.
fn open(
    plan: &Plan,
    device: Device,
    cancel: &Arc<AtomicBool>,
    send: &(dyn Fn(EngineEvent) + Sync),
) -> Result<Option<Searcher>, String> {
    match plan {
        Plan::Unavailable(why) => Err(why.clone()),
        Plan::Open { index_dir } => {
            send(EngineEvent::Preparing(format!("opening the index {} …", index_dir.display())));
            Searcher::open(index_dir, device).map(Some).map_err(|e| e.to_string())
        }
        Plan::Index { model_dir, libraries, index_dir } => {
            send(EngineEvent::Preparing(format!("loading the model {} …", model_dir.display())));
            let model = EmotionModel::load(model_dir, device).map_err(|e| format!("model: {e}"))?;
            let report = index_library(&model, model_dir, libraries, index_dir, cancel, send)?;
            if report.cancelled {
                return Ok(None);
            }
            let index = ClipIndex::open(index_dir).map_err(|e| e.to_string())?;
            let searcher = Searcher::with_model(index_dir, index, model).map_err(|e| e.to_string())?;
            send(EngineEvent::Ready {
                index_dir: index_dir.clone(),
                clips: report.clips,
                space: searcher.index().space(),
                skipped: report.skipped.len(),
                damaged: report.warnings.len(),
            });
            Ok(Some(searcher))
        }
    }
}

/// Runs the incremental indexer, forwarding its progress; an index made by another model is
/// rebuilt (it is the app's own index of the library, and its embeddings cannot be mixed).
fn index_library(
    model: &EmotionModel,
    model_dir: &Path,
    libraries: &[PathBuf],
    index_dir: &Path,
    cancel: &Arc<AtomicBool>,
    send: &(dyn Fn(EngineEvent) + Sync),
) -> Result<crate::index::IndexReport, String> {
    let run = || {
        let (progress, events) = crossbeam_channel::unbounded();
        let options =
            IndexOptions { cancel: Some(cancel.clone()), progress: Some(progress), ..Default::default() };
        std::thread::scope(|scope| {
            scope.spawn(|| forward_progress(&events, send));
            let result = build_index(model, model_dir, libraries, index_dir, &options);
            drop(options);
            result
        })
    };
    match run() {
        Err(IndexError::ModelMismatch { .. }) => {
            send(EngineEvent::Preparing(format!(
                "the index {} was made by another model: rebuilding it",
                index_dir.display()
            )));
            crate::index::remove_index(index_dir).map_err(|e| e.to_string())?;
            run().map_err(|e| e.to_string())
        }
        other => other.map_err(|e| e.to_string()),
    }
}

fn forward_progress(events: &Receiver<IndexEvent>, send: &(dyn Fn(EngineEvent) + Sync)) {
    let (mut reused, mut damaged) = (0, 0);
    for ev in events.iter() {
        match ev {
            IndexEvent::Planned { reused: r, to_embed, .. } => {
                reused = r;
                send(EngineEvent::Indexing { done: 0, total: to_embed, reused, damaged });
            }
            IndexEvent::Embedded { done, to_embed, .. } => {
                send(EngineEvent::Indexing { done, total: to_embed, reused, damaged });
            }
            IndexEvent::Skipped { path, reason, done, to_embed } => {
                tracing::warn!(path = %path.display(), %reason, "skipped while indexing");
                send(EngineEvent::Indexing { done, total: to_embed, reused, damaged });
            }
            // The decoder has logged the file and its damage.
            IndexEvent::Warned { .. } => damaged += 1,
            IndexEvent::Waiting { holder } => {
                send(EngineEvent::Preparing(format!("the index is being written by {holder}; waiting …")));
            }
            IndexEvent::Checkpoint { .. } | IndexEvent::Finished(_) => {}
        }
    }
}

/// Projects the index for the map, then answers requests until the app goes away.
fn serve(searcher: &Searcher, rx: &Receiver<EngineRequest>, send: &(dyn Fn(EngineEvent) + Sync)) {
    if let Some(heard) = sounds_like(searcher) {
        send(EngineEvent::SoundsLike(Arc::new(heard)));
    }
    let map = match project(searcher) {
        Ok(m) => Some(Arc::new(m)),
        Err(e) => {
            send(EngineEvent::Failed(format!("map: {e}")));
            None
        }
    };
    if let Some(m) = &map {
        send(EngineEvent::Projected(m.clone()));
    }
    for request in rx.iter() {
        let outcome = match request {
            EngineRequest::Search(text) => {
                query(searcher, map.as_deref(), &text).map(|h| EngineEvent::Results(Box::new(h)))
            }
            EngineRequest::Soundtrack(text) => StoryText::new(text, "story")
                .map_err(|e| e.to_string())
                .and_then(|story| soundtrack(searcher, &story).map_err(|e| e.to_string()))
                .map(EngineEvent::Soundtrack),
        };
        send(outcome.unwrap_or_else(EngineEvent::Failed));
    }
}

/// Each clip's tagger tags, when the index has them (one pass over its records; none is made for
/// an index whose first record has no tags).
fn sounds_like(searcher: &Searcher) -> Option<SoundsLikeMap> {
    let mut records = searcher.index().records();
    let first = records.next()?.ok()?;
    if first.sounds_like.is_empty() {
        return None;
    }
    let mut out = std::collections::HashMap::new();
    out.insert(first.path, first.sounds_like);
    for record in records.flatten() {
        out.insert(record.path, record.sounds_like);
    }
    Some(out)
}

fn query(searcher: &Searcher, map: Option<&MapData>, text: &str) -> Result<Hits, String> {
    let story = StoryText::new(text, "query").map_err(|e| e.to_string())?;
    let vector = searcher.embed_text(&story, Default::default()).map_err(|e| e.to_string())?;
    let mut results =
        searcher.search_vector(&vector.vector, RESULTS, story.as_str()).map_err(|e| e.to_string())?;
    results.notices = vector.notices;
    let rows = results.results.iter().map(|h| h.row).collect();
    let query_point = map.map(|m| m.projection.project(&vector.vector));
    Ok(Hits { results, query_point, rows, query_vector: vector.vector })
}

/// The index's clips and the model's mood anchors in the plane.
pub fn project(searcher: &Searcher) -> Result<MapData, String> {
    let index = searcher.index();
    let (moods, anchors) = searcher.model().mood_anchors().map_err(|e| e.to_string())?;
    let anchors = anchors.to_kind(Kind::Float).to_device(Device::Cpu).reshape([-1]);
    let anchor_rows = Vec::<f32>::try_from(anchors).map_err(|e| e.to_string())?;
    let paths =
        index.records().map(|c| c.map(|c| c.path)).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    Ok(MapData::build(index.space(), paths, index.embeddings().to_vec(), index.dim(), moods, &anchor_rows))
}
