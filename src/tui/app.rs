//! App state and event dispatch. What tab actions do lives in `app/actions.rs`, rendering in
//! `ui.rs`; work happens in workers.

mod actions;

use std::path::PathBuf;

use crossterm::event::{
    Event as Term, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};
use ratatui::layout::Rect;

use crate::config::{Config, Dirs};
pub use crate::tui::effect::TextPopup;
use crate::tui::engine::{Engine, Plan};
use crate::tui::event::{report, Event, EventSender, WorkerEvent};
use crate::tui::keymap::{Action, Context, KeyMap};
use crate::tui::playback::{Audio, NowPlaying, PlayerEvent};
pub use crate::tui::status::{Focus, Level};
use crate::tui::tabs::dataset::{DatasetTab, Source};
use crate::tui::tabs::TabView;
use crate::tui::tabs::{map::MapTab, search::SearchTab, train::run::TrainRun, train::TrainTab};
use crate::tui::theme::Theme;
use crate::tui::workers;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Dataset,
    Train,
    Search,
    Map,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Dataset, Tab::Train, Tab::Search, Tab::Map];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Dataset => "Dataset",
            Tab::Train => "Train",
            Tab::Search => "Search",
            Tab::Map => "Map",
        }
    }
}

/// What the app starts with.
pub struct AppOptions {
    pub dirs: Dirs,
    pub config: Config,
    pub keymap: KeyMap,
    pub theme: Theme,
    /// `storyscore monitor RUN_DIR`: only the Train tab, attached to this run.
    pub monitor: Option<PathBuf>,
    /// More runs the Train tab follows beside it (`storyscore monitor A B …`).
    pub more_runs: Vec<PathBuf>,
}

pub struct App {
    pub tab: Tab,
    pub focus: Focus,
    pub help: bool,
    pub popup: Option<TextPopup>,
    pub status: Option<(Level, String)>,
    pub quit: bool,
    /// Set by the suspend key; the event loop hands the terminal to the shell and clears it.
    pub suspend: bool,
    /// Run directories sent here are followed by the Train tab's worker (`a` attaches).
    pub follow: crossbeam_channel::Sender<PathBuf>,
    pub monitor_only: bool,
    pub keymap: KeyMap,
    pub theme: Theme,
    pub dirs: Dirs,
    pub config: Config,
    pub dataset: DatasetTab,
    pub train: TrainTab,
    pub search: SearchTab,
    pub map: MapTab,
    /// Screen cells of the tab titles, recorded while drawing, for mouse clicks.
    pub tab_hits: Vec<(Rect, Tab)>,
    pub now_playing: Option<NowPlaying>,
    audio: Audio,
    /// The search engine worker (absent in `monitor` mode and when there is nothing to search).
    engine: Option<Engine>,
    /// A training run started from the Train tab.
    run: Option<TrainRun>,
    tx: EventSender,
}

impl App {
    /// Builds the state and starts the background workers; returns at once.
    pub fn new(opts: AppOptions, tx: EventSender) -> Self {
        let sources: Vec<Source> = opts.config.library.iter().cloned().map(Source::library).collect();
        for (i, s) in sources.iter().enumerate() {
            workers::spawn_library_scan(tx.clone(), i, s.path.clone());
        }
        let to_app = tx.clone();
        let audio = Audio::spawn(
            move |ev| {
                report(
                    &to_app,
                    match ev {
                        PlayerEvent::Playing(now) => WorkerEvent::Playing(now),
                        PlayerEvent::Failed(why) => WorkerEvent::PlaybackFailed(why),
                    },
                )
            },
            opts.config.audio_device.clone(),
            opts.config.volume,
        );
        let plan = if opts.monitor.is_some() {
            Plan::Unavailable("the monitor shows training only".into())
        } else {
            Plan::of(&opts.dirs, &opts.config)
        };
        let search = SearchTab::new(&plan);
        let map = MapTab::new(match &plan {
            Plan::Unavailable(why) => why.clone(),
            _ => "The map appears once the index is ready (see the Search tab).".into(),
        });
        let engine = match plan {
            Plan::Unavailable(_) => None,
            plan => {
                let to_app = tx.clone();
                let report = move |ev| report(&to_app, WorkerEvent::Engine(ev));
                Some(Engine::spawn(report, plan, opts.config.tch_device()))
            }
        };
        let mut train = TrainTab::new(opts.monitor.clone());
        train.history_ms = opts.config.history_minutes * 60_000;
        let followed: Vec<PathBuf> = opts.monitor.iter().chain(&opts.more_runs).cloned().collect();
        let follow = crate::tui::workers::runs::spawn(tx.clone(), followed, opts.config.alerts.clone());
        Self {
            tab: if opts.monitor.is_some() { Tab::Train } else { Tab::Dataset },
            focus: Focus::Normal,
            help: false,
            popup: None,
            status: None,
            quit: false,
            suspend: false,
            monitor_only: opts.monitor.is_some(),
            follow,
            keymap: opts.keymap,
            theme: opts.theme,
            dirs: opts.dirs,
            config: opts.config,
            dataset: DatasetTab::new(sources),
            train,
            search,
            map,
            tab_hits: Vec::new(),
            now_playing: None,
            audio,
            engine,
            run: None,
            tx,
        }
    }

    /// The key context the app is in (decides which bindings apply).
    pub fn context(&self) -> Context {
        match self.focus {
            Focus::Normal => self.tab_view().context(),
            Focus::SearchBox | Focus::FilterBox => Context::Input,
            Focus::RunForm => Context::RunForm,
        }
    }

    pub fn tab_context(&self) -> Context {
        self.tab_view().context()
    }

    pub fn set_status(&mut self, level: Level, text: impl Into<String>) {
        self.status = Some((level, text.into()));
    }

    /// The tab on screen, behind the tab contract.
    pub fn tab_view(&self) -> &dyn TabView {
        match self.tab {
            Tab::Dataset => &self.dataset,
            Tab::Train => &self.train,
            Tab::Search => &self.search,
            Tab::Map => &self.map,
        }
    }

    /// The tab on screen, to act on.
    pub fn current_tab(&mut self) -> &mut dyn TabView {
        match self.tab {
            Tab::Dataset => &mut self.dataset,
            Tab::Train => &mut self.train,
            Tab::Search => &mut self.search,
            Tab::Map => &mut self.map,
        }
    }

    /// Every tab, for what reaches all of them (ticks, worker reports).
    fn tabs(&mut self) -> [&mut dyn TabView; 4] {
        [&mut self.dataset, &mut self.train, &mut self.search, &mut self.map]
    }

    /// Applies one event; returns whether the screen needs redrawing.
    pub fn handle(&mut self, ev: Event) -> bool {
        match ev {
            Event::Input(Term::Key(key)) if key.kind != KeyEventKind::Release => self.on_key(key),
            Event::Input(Term::Key(_)) => return false,
            Event::Input(Term::Paste(text)) => self.on_paste(&text),
            Event::Input(Term::Mouse(m)) => match m.kind {
                MouseEventKind::Down(MouseButton::Left) => {
                    let hit = self.tab_hits.iter().find(|(r, _)| r.contains((m.column, m.row).into()));
                    if let Some(&(_, tab)) = hit {
                        self.switch_tab(tab);
                    }
                }
                MouseEventKind::ScrollDown => self.apply(Action::Down),
                MouseEventKind::ScrollUp => self.apply(Action::Up),
                _ => return false,
            },
            Event::Input(_) => {}
            Event::Tick => return self.tabs().into_iter().fold(false, |redraw, tab| tab.tick() | redraw),
            Event::Terminate => self.quit = true,
            Event::Worker(w) => self.on_worker(w),
        }
        true
    }

    fn on_key(&mut self, key: KeyEvent) {
        if self.help {
            match self.keymap.lookup(Context::Popup, &key) {
                Some(Action::Close) => self.help = false,
                Some(Action::Quit) => self.quit = true,
                Some(Action::Suspend) => self.suspend = true,
                _ => {}
            }
            return;
        }
        if let Some(p) = &mut self.popup {
            match self.keymap.lookup(Context::Popup, &key) {
                Some(Action::Up) => p.scroll = p.scroll.saturating_sub(1),
                Some(Action::Down) => p.scroll = p.scroll.saturating_add(1),
                Some(Action::Quit) => self.quit = true,
                Some(Action::Suspend) => self.suspend = true,
                _ => self.popup = None,
            }
            return;
        }
        match self.keymap.lookup(self.context(), &key) {
            Some(action) => self.apply(action),
            None if self.focus != Focus::Normal => self.type_key(key),
            None => {}
        }
    }

    /// A key no binding claims, typed into the focused text box. An unbound ctrl- or alt-chord
    /// types nothing (ctrl-w must not insert a "w"); AltGr, reported as both, still types.
    fn type_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        if ctrl != alt {
            return;
        }
        if let KeyCode::Char(c) = key.code {
            self.type_text(c.encode_utf8(&mut [0; 4]));
        }
    }

    /// Text for the focused box (a paste with nothing focused goes to the search box).
    fn on_paste(&mut self, text: &str) {
        if self.focus == Focus::Normal {
            self.switch_tab(Tab::Search);
            self.focus = Focus::SearchBox;
        }
        self.type_text(text);
    }

    fn type_text(&mut self, text: &str) {
        if let Some(tab) = self.focused_tab() {
            let effects = tab.on_text(text);
            self.run_effects(effects);
        }
    }

    /// The tab whose text box has the keys.
    fn focused_tab(&mut self) -> Option<&mut dyn TabView> {
        match self.focus {
            Focus::Normal => None,
            Focus::SearchBox => Some(&mut self.search),
            Focus::FilterBox => Some(&mut self.dataset),
            Focus::RunForm => Some(&mut self.train),
        }
    }

    pub fn switch_tab(&mut self, tab: Tab) {
        if !self.monitor_only {
            // A click on another tab abandons an open run form.
            if self.focus == Focus::RunForm {
                let effects = self.train.on_action(Action::LeaveInput);
                self.run_effects(effects);
            }
            self.tab = tab;
            self.focus = Focus::Normal;
        }
    }

    fn cycle_tab(&mut self, forward: bool) {
        let i = Tab::ALL.iter().position(|t| *t == self.tab).unwrap_or(0);
        let n = Tab::ALL.len();
        self.switch_tab(Tab::ALL[if forward { (i + 1) % n } else { (i + n - 1) % n }]);
    }

    /// Applies an action from the key map (or the mouse).
    pub fn apply(&mut self, action: Action) {
        use Action as A;
        match action {
            A::Quit => self.quit = true,
            A::Suspend => self.suspend = true,
            A::LeaveInput if self.focus != Focus::RunForm => self.focus = Focus::Normal,
            A::Submit if self.focus == Focus::FilterBox => self.focus = Focus::Normal,
            _ if self.focus != Focus::Normal => {
                if let Some(tab) = self.focused_tab() {
                    let effects = tab.on_action(action);
                    self.run_effects(effects);
                }
            }
            A::Help => self.help = true,
            A::NextTab => self.cycle_tab(true),
            A::PrevTab => self.cycle_tab(false),
            A::DatasetTab => self.switch_tab(Tab::Dataset),
            A::TrainTab => self.switch_tab(Tab::Train),
            A::SearchTab => self.switch_tab(Tab::Search),
            A::MapTab => self.switch_tab(Tab::Map),
            A::FocusSearch if !self.monitor_only => {
                self.switch_tab(Tab::Search);
                self.focus = Focus::SearchBox;
            }
            A::Filter => self.focus = Focus::FilterBox,
            _ => {
                let effects = self.current_tab().on_action(action);
                self.run_effects(effects);
            }
        }
    }

    /// A worker's report: the player's own here, every other one to the tabs that show it.
    fn on_worker(&mut self, ev: WorkerEvent) {
        match ev {
            WorkerEvent::Playing(now) => self.now_playing = Some(now),
            WorkerEvent::PlaybackFailed(why) => {
                self.set_status(Level::Error, format!("{why} — y copies the path, e writes an M3U"))
            }
            ev => {
                let effects: Vec<_> = self.tabs().into_iter().flat_map(|tab| tab.on_event(&ev)).collect();
                self.run_effects(effects);
            }
        }
    }
}
