//! The one key-map table: every binding is (key, action, context, description).
//!
//! The command bar, the help popup and key dispatch all read this table, so help is never out
//! of date. Users override keys in `keys.toml` in the config dir: `[keys]` maps an action name
//! to one key or a list of keys, e.g. `quit = ["q", "ctrl-q"]`.

use std::path::{Path, PathBuf};

use crossterm::event::KeyEvent;

pub use super::keychord::KeyChord;

/// Where a binding applies. `Global` bindings apply in every tab unless a tab binds the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Global,
    /// A text box has focus: only these bindings act, other keys are typed.
    Input,
    Dataset,
    Train,
    Search,
    Map,
    /// The Train tab's run form: like a text box, only these bindings act, other keys are typed.
    RunForm,
    /// The help or a text pop-up is open.
    Popup,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Input => "Text box",
            Context::Dataset => "Dataset",
            Context::Train => "Train",
            Context::Search => "Search",
            Context::Map => "Map",
            Context::RunForm => "Run form",
            Context::Popup => "Pop-ups",
        }
    }
}

macro_rules! actions {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// What a key does. The names are the keys of `keys.toml`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Action { $($variant),* }

        impl Action {
            pub const ALL: &[Action] = &[$(Action::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name),* }
            }

            pub fn from_name(name: &str) -> Option<Action> {
                match name { $($name => Some(Action::$variant),)* _ => None }
            }
        }
    };
}

actions! {
    Quit => "quit", Help => "help", NextTab => "next_tab", PrevTab => "prev_tab",
    DatasetTab => "dataset_tab", TrainTab => "train_tab", SearchTab => "search_tab", MapTab => "map_tab",
    FocusSearch => "focus_search", LeaveInput => "leave_input", Submit => "submit", Newline => "newline",
    HistoryPrev => "history_prev", HistoryNext => "history_next",
    Up => "up", Down => "down", PageUp => "page_up", PageDown => "page_down", Top => "top", Bottom => "bottom",
    NextSource => "next_source", PrevSource => "prev_source", Filter => "filter",
    Play => "play", Stop => "stop", VolumeUp => "volume_up", VolumeDown => "volume_down",
    SeekBack => "seek_back", SeekForward => "seek_forward", CopyPath => "copy_path", ExportM3u => "export_m3u",
    ToggleSoundtrack => "toggle_soundtrack", StartRun => "start_run", PauseRun => "pause_run",
    StopRun => "stop_run", AttachRuns => "attach_runs", TimeAxis => "time_axis", ZoomIn => "zoom_in", ZoomOut => "zoom_out", PanLeft => "pan_left",
    PanRight => "pan_right", PanUp => "pan_up", PanDown => "pan_down", NextPoint => "next_point",
    PrevPoint => "prev_point", ResetView => "reset_view", PrevChoice => "prev_choice",
    NextChoice => "next_choice", CycleProjection => "cycle_projection", Close => "close",
    DeleteBack => "delete_back", DeleteForward => "delete_forward", CursorLeft => "cursor_left",
    CursorRight => "cursor_right", LineStart => "line_start", LineEnd => "line_end", Suspend => "suspend",
    DeleteToStart => "delete_to_start",
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Binding {
    pub keys: Vec<KeyChord>,
    pub action: Action,
    pub context: Context,
    pub description: &'static str,
    /// Shown in the command bar (the rest only in help).
    pub in_bar: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyMapError {
    #[error("cannot read key file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid key file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("key file {path}: unknown action `{action}` (known: {known})")]
    UnknownAction { path: PathBuf, action: String, known: String },
    #[error("key file {path}: action `{action}`: cannot read key `{key}`")]
    BadKey { path: PathBuf, action: String, key: String },
}

#[derive(Debug, Clone)]
pub struct KeyMap {
    pub bindings: Vec<Binding>,
}

impl KeyMap {
    pub fn defaults() -> Self {
        use Action as A;
        use Context as C;
        let rows: &[(&str, Action, Context, &str, bool)] = &[
            ("q ctrl-c", A::Quit, C::Global, "quit", true),
            ("?", A::Help, C::Global, "help", true),
            ("tab", A::NextTab, C::Global, "next tab", false),
            ("shift-tab", A::PrevTab, C::Global, "previous tab", false),
            ("1", A::DatasetTab, C::Global, "Dataset tab", false),
            ("2", A::TrainTab, C::Global, "Train tab", false),
            ("3", A::SearchTab, C::Global, "Search tab", false),
            ("4", A::MapTab, C::Global, "Map tab", false),
            ("/", A::FocusSearch, C::Global, "search", true),
            ("esc", A::LeaveInput, C::Input, "leave the text box", true),
            ("enter", A::Submit, C::Input, "run the search / apply (then enter plays)", true),
            ("alt-enter ctrl-j", A::Newline, C::Input, "new line", true),
            ("ctrl-p", A::HistoryPrev, C::Input, "older query", false),
            ("ctrl-n", A::HistoryNext, C::Input, "newer query", false),
            ("ctrl-c", A::Quit, C::Input, "quit", false),
            ("up k", A::Up, C::Global, "move up", false),
            ("down j", A::Down, C::Global, "move down", false),
            ("pgup", A::PageUp, C::Global, "page up", false),
            ("pgdn", A::PageDown, C::Global, "page down", false),
            ("home g", A::Top, C::Global, "first item", false),
            ("end G", A::Bottom, C::Global, "last item", false),
            ("]", A::NextSource, C::Dataset, "next library / dataset", true),
            ("[", A::PrevSource, C::Dataset, "previous library / dataset", false),
            ("f", A::Filter, C::Dataset, "filter items", true),
            ("enter", A::Play, C::Dataset, "play clip / read text", true),
            ("space", A::Stop, C::Dataset, "stop", true),
            ("+ =", A::VolumeUp, C::Dataset, "volume up", false),
            ("-", A::VolumeDown, C::Dataset, "volume down", false),
            ("left", A::SeekBack, C::Dataset, "seek −5 s", false),
            ("right", A::SeekForward, C::Dataset, "seek +5 s", false),
            ("y", A::CopyPath, C::Dataset, "copy path", true),
            ("e", A::ExportM3u, C::Dataset, "export M3U", true),
            ("enter space", A::Play, C::Search, "play preview", true),
            ("s", A::ToggleSoundtrack, C::Search, "query / soundtrack mode", true),
            ("y", A::CopyPath, C::Search, "copy path", false),
            ("n", A::StartRun, C::Train, "new run…", true),
            ("p space", A::PauseRun, C::Train, "pause / resume", true),
            ("x", A::StopRun, C::Train, "stop run", true),
            ("a", A::AttachRuns, C::Train, "follow the latest runs in DATA/runs", false),
            ("t", A::TimeAxis, C::Train, "loss and P@5 against step / time", false),
            ("+ =", A::ZoomIn, C::Map, "zoom in", true),
            ("-", A::ZoomOut, C::Map, "zoom out", true),
            ("left h", A::PanLeft, C::Map, "pan left", false),
            ("right l", A::PanRight, C::Map, "pan right", false),
            ("up k", A::PanUp, C::Map, "pan up", false),
            ("down j", A::PanDown, C::Map, "pan down", false),
            ("n", A::NextPoint, C::Map, "select next clip", true),
            ("N", A::PrevPoint, C::Map, "select previous clip", false),
            ("0", A::ResetView, C::Map, "reset view", false),
            ("u", A::CycleProjection, C::Map, "PCA / UMAP", true),
            ("enter", A::Play, C::Map, "play selected clip", true),
            ("space", A::Stop, C::Map, "stop", false),
            ("enter", A::Submit, C::RunForm, "start the run", true),
            ("esc", A::LeaveInput, C::RunForm, "cancel", true),
            ("down tab", A::Down, C::RunForm, "next field", true),
            ("up shift-tab", A::Up, C::RunForm, "previous field", true),
            ("left", A::PrevChoice, C::RunForm, "previous choice / cursor left", true),
            ("right", A::NextChoice, C::RunForm, "next choice / cursor right", true),
            ("pgup", A::HistoryPrev, C::RunForm, "older recent dataset", false),
            ("pgdn", A::HistoryNext, C::RunForm, "newer recent dataset", false),
            ("ctrl-c", A::Quit, C::RunForm, "quit", false),
            ("backspace", A::DeleteBack, C::Input, "delete before the cursor", false),
            ("delete", A::DeleteForward, C::Input, "delete at the cursor", false),
            ("left", A::CursorLeft, C::Input, "cursor left", false),
            ("right", A::CursorRight, C::Input, "cursor right", false),
            ("home ctrl-a", A::LineStart, C::Input, "start of the line", false),
            ("end ctrl-e", A::LineEnd, C::Input, "end of the line", false),
            ("ctrl-u", A::DeleteToStart, C::Input, "delete to the start of the line", false),
            ("backspace", A::DeleteBack, C::RunForm, "delete before the cursor", false),
            ("delete", A::DeleteForward, C::RunForm, "delete at the cursor", false),
            ("esc q ? enter", A::Close, C::Popup, "close (other keys close a text too)", false),
            ("up k", A::Up, C::Popup, "scroll up", false),
            ("down j", A::Down, C::Popup, "scroll down", false),
            ("ctrl-c", A::Quit, C::Popup, "quit", false),
            ("ctrl-z", A::Suspend, C::Global, "suspend (fg resumes)", false),
            ("ctrl-z", A::Suspend, C::Input, "suspend (fg resumes)", false),
            ("ctrl-z", A::Suspend, C::RunForm, "suspend (fg resumes)", false),
            ("ctrl-z", A::Suspend, C::Popup, "suspend (fg resumes)", false),
        ];
        let bindings = rows
            .iter()
            .map(|&(keys, action, context, description, in_bar)| Binding {
                keys: keys.split(' ').filter_map(KeyChord::parse).collect(),
                action,
                context,
                description,
                in_bar,
            })
            .collect();
        Self { bindings }
    }

    /// Defaults with `keys.toml` from `config_dir` merged over them (a missing file is fine).
    pub fn load(config_dir: &Path) -> Result<Self, KeyMapError> {
        let path = config_dir.join("keys.toml");
        let mut map = Self::defaults();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(map),
            Err(source) => return Err(KeyMapError::Read { path, source }),
        };
        map.merge_toml(&text, &path)?;
        Ok(map)
    }

    fn merge_toml(&mut self, text: &str, path: &Path) -> Result<(), KeyMapError> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Keys {
            One(String),
            Many(Vec<String>),
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            #[serde(default)]
            keys: std::collections::BTreeMap<String, Keys>,
        }
        let file: File = toml::from_str(text)
            .map_err(|e| KeyMapError::Parse { path: path.into(), message: e.to_string() })?;
        for (name, keys) in file.keys {
            let action = Action::from_name(&name).ok_or_else(|| KeyMapError::UnknownAction {
                path: path.into(),
                action: name.clone(),
                known: Action::ALL.iter().map(|a| a.name()).collect::<Vec<_>>().join(", "),
            })?;
            let texts = match keys {
                Keys::One(k) => vec![k],
                Keys::Many(ks) => ks,
            };
            let chords = texts
                .iter()
                .map(|k| {
                    KeyChord::parse(k).ok_or_else(|| KeyMapError::BadKey {
                        path: path.into(),
                        action: name.clone(),
                        key: k.clone(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            for b in self.bindings.iter_mut().filter(|b| b.action == action) {
                b.keys = chords.clone();
            }
        }
        Ok(())
    }

    /// The action for `key` in `context`: the context's own bindings first, then global ones
    /// (a focused text box gets no global fallback: its keys are typed).
    pub fn lookup(&self, context: Context, key: &KeyEvent) -> Option<Action> {
        let chord = KeyChord::from_event(key);
        let find = |ctx: Context| {
            self.bindings.iter().find(|b| b.context == ctx && b.keys.contains(&chord)).map(|b| b.action)
        };
        match context {
            Context::Input | Context::RunForm | Context::Popup => find(context),
            ctx => find(ctx).or_else(|| find(Context::Global)),
        }
    }

    /// Rows for the command bar in `context`: its own then the global ones marked for the bar.
    pub fn bar(&self, context: Context) -> Vec<(String, &'static str)> {
        let order: &[Context] = match context {
            Context::Input => &[Context::Input],
            Context::RunForm => &[Context::RunForm],
            Context::Popup => &[Context::Popup],
            ctx => &[ctx, Context::Global],
        };
        order
            .iter()
            .flat_map(|ctx| self.bindings.iter().filter(move |b| b.context == *ctx && b.in_bar))
            .filter_map(|b| b.keys.first().map(|k| (k.to_string(), b.description)))
            .collect()
    }

    /// Every binding of `context`, keys joined, for the help popup.
    pub fn help_rows(&self, context: Context) -> Vec<(String, &'static str)> {
        self.bindings
            .iter()
            .filter(|b| b.context == context)
            .map(|b| (b.keys.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "), b.description))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn parses_and_prints_chords() {
        for text in ["q", "ctrl-c", "shift-tab", "pgdn", "+", "-", "alt-enter", "f5", "space", "G"] {
            let chord = KeyChord::parse(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(KeyChord::parse(&chord.to_string().replace('↑', "up")), Some(chord), "{text}");
        }
        assert_eq!(KeyChord::parse("ctrl-"), None);
        assert_eq!(KeyChord::parse("nonsense"), None);
    }

    #[test]
    fn context_bindings_win_over_global_ones() {
        let map = KeyMap::defaults();
        let plus = key(KeyCode::Char('+'), KeyModifiers::SHIFT);
        assert_eq!(map.lookup(Context::Map, &plus), Some(Action::ZoomIn));
        assert_eq!(map.lookup(Context::Dataset, &plus), Some(Action::VolumeUp));
        let q = key(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(map.lookup(Context::Train, &q), Some(Action::Quit));
        assert_eq!(map.lookup(Context::Input, &q), None, "q is typed in a text box");
        let bt = key(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(map.lookup(Context::Dataset, &bt), Some(Action::PrevTab));
    }

    #[test]
    fn keys_file_overrides_and_errors_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keys.toml"), "[keys]\nquit = [\"ctrl-q\"]\nhelp = \"f1\"\n").unwrap();
        let map = KeyMap::load(dir.path()).unwrap();
        let q = key(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(map.lookup(Context::Dataset, &q), None);
        let cq = key(KeyCode::Char('q'), KeyModifiers::CONTROL);
        assert_eq!(map.lookup(Context::Dataset, &cq), Some(Action::Quit));
        assert!(map.help_rows(Context::Global).iter().any(|(k, d)| k == "f1" && *d == "help"));

        std::fs::write(dir.path().join("keys.toml"), "[keys]\nfly = \"x\"\n").unwrap();
        let err = KeyMap::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("keys.toml") && err.contains("fly"), "{err}");
        std::fs::write(dir.path().join("keys.toml"), "[keys]\nquit = \"ctrl-nope\"\n").unwrap();
        let err = KeyMap::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("quit") && err.contains("ctrl-nope"), "{err}");
    }

    #[test]
    fn every_key_comes_from_the_table_editing_and_pop_ups_included() {
        let map = KeyMap::defaults();
        let k = |code| key(code, KeyModifiers::NONE);
        assert_eq!(map.lookup(Context::Input, &k(KeyCode::Backspace)), Some(Action::DeleteBack));
        assert_eq!(map.lookup(Context::Input, &k(KeyCode::Home)), Some(Action::LineStart));
        assert_eq!(map.lookup(Context::RunForm, &k(KeyCode::Delete)), Some(Action::DeleteForward));
        assert_eq!(map.lookup(Context::Popup, &k(KeyCode::Esc)), Some(Action::Close));
        assert_eq!(map.lookup(Context::Popup, &k(KeyCode::Char('j'))), Some(Action::Down));
        assert_eq!(map.lookup(Context::Popup, &k(KeyCode::Char('1'))), None, "no tab switch under a pop-up");
        let ctrl_z = key(KeyCode::Char('z'), KeyModifiers::CONTROL);
        for ctx in [Context::Global, Context::Map, Context::Input, Context::RunForm, Context::Popup] {
            assert_eq!(map.lookup(ctx, &ctrl_z), Some(Action::Suspend), "{ctx:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keys.toml"), "[keys]\ncursor_left = \"ctrl-b\"\n").unwrap();
        let map = KeyMap::load(dir.path()).unwrap();
        assert_eq!(
            map.lookup(Context::Input, &key(KeyCode::Char('b'), KeyModifiers::CONTROL)),
            Some(Action::CursorLeft)
        );
        assert_eq!(map.lookup(Context::Input, &k(KeyCode::Left)), None);
    }
}
