//! Snapshots of each tab rendered on a `TestBackend`, driven by real events on real data.

use crate::common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::{unbounded, Receiver};
use crossterm::event::{Event as Term, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use storyscore::config::{Config, Dirs};
use storyscore::tui::app::{App, Tab};
use storyscore::tui::event::Event;

struct Harness {
    app: App,
    rx: Receiver<Event>,
    _home: tempfile::TempDir,
}

impl Harness {
    fn new(library: Vec<PathBuf>) -> Self {
        Self::with_device(library, "")
    }

    fn with_device(library: Vec<PathBuf>, audio_device: &str) -> Self {
        let home = tempfile::tempdir().unwrap();
        let dirs = Dirs {
            data: home.path().join("data"),
            config_file: home.path().join("config/config.toml"),
            cache: home.path().join("cache"),
        };
        let config =
            Config { library, theme: "mono".into(), audio_device: audio_device.into(), ..Config::default() };
        let opts = storyscore::tui::options(dirs, config, None).unwrap();
        let (tx, rx) = unbounded();
        Self { app: App::new(opts, tx), rx, _home: home }
    }

    /// Feeds worker events to the app until `done` holds (or fails after a generous timeout).
    fn pump_until(&mut self, done: impl Fn(&App) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done(&self.app) {
            assert!(Instant::now() < deadline, "workers did not finish in time");
            if let Ok(ev) = self.rx.recv_timeout(Duration::from_millis(100)) {
                self.app.handle(ev);
            }
        }
    }

    fn key(&mut self, code: KeyCode) {
        self.app.handle(Event::Input(Term::Key(KeyEvent::new(code, KeyModifiers::NONE))));
    }

    fn render(&mut self, width: u16, height: u16) -> String {
        let mut term = Terminal::new(TestBackend::new(width, height)).unwrap();
        term.draw(|f| storyscore::tui::ui::draw(f, &mut self.app)).unwrap();
        term.backend().to_string()
    }
}

fn probed(app: &App) -> bool {
    use storyscore::tui::tabs::dataset::SourceState;
    app.dataset.sources.iter().all(|s| matches!(s.state, SourceState::Ready | SourceState::Failed(_)))
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]");
    s
}

#[test]
fn dataset_tab_lists_the_wesnoth_library_with_durations() {
    let Some(lib) = common::wesnoth_music() else { return };
    let mut h = Harness::new(vec![lib]);
    h.pump_until(probed);
    let src = &h.app.dataset.sources[0];
    assert_eq!(src.items.len(), 41, "the built-in library has 41 tracks");
    assert!(src
        .items
        .iter()
        .all(|i| matches!(i.duration, storyscore::tui::tabs::dataset::Probe::Seconds(s) if s > 1.0)));
    h.key(KeyCode::Down);
    h.key(KeyCode::Down);
    settings().bind(|| insta::assert_snapshot!("dataset_wesnoth", h.render(120, 40)));
}

#[test]
fn dataset_filter_narrows_the_table() {
    let Some(lib) = common::wesnoth_music() else { return };
    let mut h = Harness::new(vec![lib]);
    h.pump_until(probed);
    h.key(KeyCode::Char('f'));
    for c in "battle".chars() {
        h.key(KeyCode::Char(c));
    }
    h.key(KeyCode::Enter);
    let visible = h.app.dataset.visible.len();
    assert!(visible > 0 && visible < 41, "{visible} rows match 'battle'");
    settings().bind(|| insta::assert_snapshot!("dataset_filtered", h.render(100, 24)));
}

#[test]
fn missing_library_folder_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(vec![dir.path().join("no-such-folder")]);
    h.pump_until(probed);
    let screen = h.render(100, 20);
    assert!(screen.contains("cannot read folder"), "{screen}");
    assert!(screen.contains("no-such-folder"), "{screen}");
}

#[test]
fn number_keys_switch_tabs_and_each_tab_explains_its_state() {
    let mut h = Harness::new(Vec::new());
    for (key, tab, name) in [('2', Tab::Train, "train"), ('3', Tab::Search, "search"), ('4', Tab::Map, "map")]
    {
        h.key(KeyCode::Char(key));
        assert_eq!(h.app.tab, tab);
        settings().bind(|| insta::assert_snapshot!(format!("tab_{name}_empty"), h.render(100, 24)));
    }
    h.key(KeyCode::Char('1'));
    assert_eq!(h.app.tab, Tab::Dataset);
}

#[test]
fn help_popup_lists_the_key_map_and_closes_with_esc() {
    let mut h = Harness::new(Vec::new());
    h.key(KeyCode::Char('?'));
    let screen = h.render(100, 40);
    for row in h.app.keymap.help_rows(storyscore::tui::keymap::Context::Dataset) {
        assert!(screen.contains(row.1), "help lacks {:?}\n{screen}", row.1);
    }
    settings().bind(|| insta::assert_snapshot!("help_dataset", screen));
    h.key(KeyCode::Esc);
    assert!(!h.app.help);
}

#[test]
fn tiny_terminals_get_a_message_not_a_panic() {
    let mut h = Harness::new(Vec::new());
    for (w, h_) in [(20, 5), (1, 1), (49, 30), (200, 11)] {
        let screen = h.render(w, h_);
        assert!(screen.contains("too") || w < 4, "{w}×{h_}: {screen}");
    }
    assert!(h.render(50, 12).contains("Dataset"));
}

#[test]
fn slash_focuses_search_and_typed_q_does_not_quit() {
    let mut h = Harness::new(Vec::new());
    let hint = "press / to type a story";
    h.key(KeyCode::Char('3'));
    assert!(h.render(100, 24).contains(hint), "the empty, unfocused story box says how to type");
    h.key(KeyCode::Char('/'));
    assert!(!h.render(100, 24).contains(hint), "the hint gives way to the cursor");
    for c in "quiet sorrow".chars() {
        h.key(KeyCode::Char(c));
    }
    assert!(!h.app.quit);
    assert_eq!(h.app.search.input.text, "quiet sorrow");
    h.app.handle(Event::Input(Term::Paste(" at dawn".into())));
    assert_eq!(h.app.search.input.text, "quiet sorrow at dawn");
    // An unbound ctrl-chord types nothing; ctrl-u deletes to the start of the line, as in a shell.
    let ctrl = |c| Event::Input(Term::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)));
    h.app.handle(ctrl('w'));
    assert_eq!(h.app.search.input.text, "quiet sorrow at dawn");
    h.app.handle(ctrl('a'));
    h.key(KeyCode::Char('a'));
    assert_eq!(h.app.search.input.text, "aquiet sorrow at dawn");
    h.app.handle(ctrl('e'));
    h.app.handle(ctrl('u'));
    assert_eq!(h.app.search.input.text, "");
    h.key(KeyCode::Esc);
    h.key(KeyCode::Char('q'));
    assert!(h.app.quit);
}

#[test]
fn enter_plays_the_selected_clip_on_the_null_device_and_keys_control_it() {
    let Some(lib) = common::wesnoth_music() else { return };
    let mut h = Harness::with_device(vec![lib], "null");
    h.pump_until(probed);
    // defeat.ogg: 8 s, quick to decode.
    let row =
        h.app.dataset.visible.iter().position(|&i| h.app.dataset.sources[0].items[i].title == "defeat.ogg");
    h.app.dataset.table.select(row);
    h.key(KeyCode::Enter);
    h.pump_until(|a| a.now_playing.as_ref().is_some_and(|n| n.status.playing && n.status.duration_s > 7.0));
    let vol = h.app.now_playing.as_ref().unwrap().status.volume;
    h.key(KeyCode::Char('-'));
    h.pump_until(|a| a.now_playing.as_ref().is_some_and(|n| n.status.volume < vol - 0.05));
    h.key(KeyCode::Right);
    h.pump_until(|a| a.now_playing.as_ref().is_some_and(|n| n.status.position_s >= 5.0));
    h.key(KeyCode::Char(' '));
    h.pump_until(|a| a.now_playing.as_ref().is_some_and(|n| !n.status.playing));
    assert!(h.render(120, 30).contains("defeat.ogg"));
}

#[test]
fn missing_output_device_is_explained_and_the_path_can_still_be_exported() {
    let Some(lib) = common::wesnoth_music() else { return };
    let mut h = Harness::with_device(vec![lib], "no-such-device");
    h.pump_until(probed);
    h.key(KeyCode::Enter);
    h.pump_until(|a| a.status.as_ref().is_some_and(|(_, t)| t.contains("no-such-device")));
    let screen = h.render(160, 30);
    assert!(screen.contains("y copies the path"), "{screen}");
    let out = tempfile::tempdir().unwrap();
    let playlist = out.path().join("picked.m3u");
    let clips = h.app.dataset.visible_clips();
    storyscore::tui::clipboard::write_m3u(&playlist, &clips).unwrap();
    let text = std::fs::read_to_string(&playlist).unwrap();
    assert_eq!(text.lines().filter(|l| l.ends_with(".ogg") && l.starts_with('/')).count(), 41);
}
