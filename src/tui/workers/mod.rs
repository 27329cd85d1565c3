//! Background work for the app: walking library folders, probing clip durations, laying out
//! the map, following training runs ([`runs`]). Each job runs on its own named thread and
//! reports through [`WorkerEvent`]s; the search engine has its own module (`tui::engine`).

pub mod runs;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::map::{MapData, UmapLayout};

use crate::tui::event::{report, EventSender, WorkerEvent};

/// Lists the audio files under `root` (recursively, sorted), then probes each one's duration.
pub fn spawn_library_scan(tx: EventSender, source: usize, root: PathBuf) {
    let spawned = std::thread::Builder::new().name(format!("library-scan-{source}")).spawn(move || {
        let result = list_audio_files(&root);
        let paths = result.as_ref().ok().cloned().unwrap_or_default();
        report(&tx, WorkerEvent::LibraryListed { source, result });
        for (item, path) in paths.iter().enumerate() {
            let result = crate::audio::probe(path).map(|info| info.duration_s).map_err(|e| e.to_string());
            report(&tx, WorkerEvent::ClipProbed { source, item, result });
        }
        report(&tx, WorkerEvent::ProbeDone { source });
    });
    if let Err(e) = spawned {
        tracing::error!("cannot start the library scan thread: {e}");
    }
}

/// Audio files under `root`, depth-first, sorted by path.
pub fn list_audio_files(root: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot read folder {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if crate::audio::is_audio_file(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Computes the UMAP layout of `data` on its own thread; the result arrives as
/// `WorkerEvent::Umap`.
pub fn spawn_umap(tx: EventSender, data: Arc<MapData>) {
    let spawned = std::thread::Builder::new().name("umap".into()).spawn(move || {
        let result = UmapLayout::fit(&data).map(Arc::new).map_err(|e| e.to_string());
        report(&tx, WorkerEvent::Umap { data, result });
    });
    if let Err(e) = spawned {
        tracing::error!("cannot start the UMAP thread: {e}");
    }
}
