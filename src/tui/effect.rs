//! What a tab asks the app to do. Tabs own their state and change it themselves; anything that
//! reaches outside a tab (the player, the clipboard, a worker, the run being trained, the
//! status line) comes back as an [`Effect`] that the app carries out.

use std::path::PathBuf;
use std::sync::Arc;

use crate::data::Modality;
use crate::map::MapData;
use crate::model::{Space, TrunkKind};
use crate::tui::playback::PlayRequest;
use crate::tui::status::Level;

/// A whole text shown over the app (Enter on a text item).
#[derive(Debug, Clone)]
pub struct TextPopup {
    pub title: String,
    pub text: String,
    pub scroll: u16,
}

#[derive(Debug)]
pub enum Effect {
    Status(Level, String),
    /// Play a clip from `start_s`, saying "loading LABEL…".
    Play {
        path: PathBuf,
        start_s: f64,
        label: String,
    },
    /// Stop, seek or change the volume.
    Audio(PlayRequest),
    /// Copy a clip's path to the clipboard (OSC 52); `None`: nothing is selected.
    CopyPath(Option<PathBuf>),
    Popup(TextPopup),
    /// Write the listed clips (path, seconds, title) as `storyscore-NAME.m3u`.
    ExportM3u {
        name: String,
        clips: Vec<(PathBuf, Option<f64>, String)>,
    },
    /// Send a search to the engine (the search box then gives up the keys).
    Search(crate::tui::engine::EngineRequest),
    /// Lay the map out with UMAP on a worker.
    Umap(Arc<MapData>),
    /// The Train tab wants its run form.
    OpenRunForm,
    /// Read these run-form datasets in the background.
    CheckDatasets(Vec<(Modality, String)>),
    StartRun(RunSettings),
    /// The run form closed without starting a run.
    CloseForm,
    PauseRun,
    StopRun,
    /// Follow the newest run directories not followed yet.
    AttachRuns,
}

/// The status line for a message, if any.
pub fn status(msg: crate::tui::status::StatusMsg) -> Vec<Effect> {
    msg.map(|(level, text)| Effect::Status(level, text)).into_iter().collect()
}

/// Play a clip (from a start), or say nothing is selected.
pub fn play(clip: Option<(PathBuf, f64)>) -> Vec<Effect> {
    match clip {
        Some((path, start_s)) => {
            let label = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            vec![Effect::Play { path, start_s, label }]
        }
        None => vec![Effect::Status(Level::Warning, "no clip selected".into())],
    }
}

/// What the run form decides; everything else keeps the paper's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    pub space: Space,
    pub trunk: TrunkKind,
    pub steps: u64,
    pub learning_rate: f64,
    /// `cpu` or `cuda`.
    pub device: String,
    /// `KIND:PATH` of the text and music datasets.
    pub text: String,
    pub music: String,
}
