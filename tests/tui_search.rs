//! The Search and Map tabs on a real index: on start the app indexes a 3-track Wesnoth library
//! with a freshly initialised default model (saved in a temp data dir), then a typed story is
//! searched, explained and mapped, and a two-paragraph story gets a soundtrack. Results are
//! structural, not about mood quality. One test: the model and index are the costly part.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::{unbounded, Receiver};
use crossterm::event::{Event as Term, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use storyscore::config::{Config, Dirs};
use storyscore::model::{EmotionModel, ModelConfig, Space};
use storyscore::tui::app::App;
use storyscore::tui::event::Event;
use storyscore::tui::tabs::map::UmapState;
use storyscore::tui::tabs::search::IndexState;

/// Short tracks of the built-in library, quick to decode.
const TRACKS: [&str; 3] = ["victory.ogg", "defeat.ogg", "defeat2.ogg"];

struct Harness {
    app: App,
    rx: Receiver<Event>,
    home: tempfile::TempDir,
}

impl Harness {
    /// A data dir holding a fresh three-branch default model, and a library of three tracks.
    fn new() -> Option<Self> {
        let wesnoth = common::wesnoth_music()?;
        common::minilm_dir()?;
        let home = tempfile::tempdir().unwrap();
        let dirs = Dirs {
            data: home.path().join("data"),
            config_file: home.path().join("config/config.toml"),
            cache: home.path().join("cache"),
        };
        tch::manual_seed(11);
        let mut model =
            EmotionModel::new(ModelConfig::paper(Space::ThreeBranch).unwrap(), tch::Device::Cpu).unwrap();
        model.save(&dirs.data.join("models/default-model")).unwrap();
        let lib = home.path().join("music");
        std::fs::create_dir(&lib).unwrap();
        for t in TRACKS {
            std::fs::copy(wesnoth.join(t), lib.join(t)).unwrap();
        }
        let config =
            Config { library: vec![lib], theme: "mono".into(), device: "cpu".into(), ..Config::default() };
        let opts = storyscore::tui::options(dirs, config, None).unwrap();
        let (tx, rx) = unbounded();
        Some(Self { app: App::new(opts, tx), rx, home })
    }

    fn pump_until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(300);
        while !done(&self.app) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}; status {:?}", self.app.status);
            if let Ok(ev) = self.rx.recv_timeout(Duration::from_millis(100)) {
                self.app.handle(ev);
            }
        }
    }

    fn key(&mut self, code: KeyCode) {
        self.app.handle(Event::Input(Term::Key(KeyEvent::new(code, KeyModifiers::NONE))));
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn render(&mut self, width: u16, height: u16) -> String {
        let mut term = Terminal::new(TestBackend::new(width, height)).unwrap();
        term.draw(|f| storyscore::tui::ui::draw(f, &mut self.app)).unwrap();
        term.backend().to_string()
    }
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]");
    // Scores of a fresh model: the layout is what is checked, not the numbers.
    s.add_filter(r"-?\d\.\d{2,3}\b", "[n]");
    s
}

#[test]
fn first_launch_indexes_then_search_explains_and_map_marks_the_results() {
    let Some(mut h) = Harness::new() else { return };
    h.key(KeyCode::Char('3'));
    let mut seen_progress = false;
    let deadline = Instant::now() + Duration::from_secs(300);
    while !(matches!(h.app.search.index, IndexState::Ready { .. }) && h.app.map.data.is_some()) {
        assert!(Instant::now() < deadline, "no index: {:?}; status {:?}", h.app.search.index, h.app.status);
        if let Ok(ev) = h.rx.recv_timeout(Duration::from_millis(100)) {
            h.app.handle(ev);
        }
        if let IndexState::Indexing { total, .. } = h.app.search.index {
            assert_eq!(total, 3);
            seen_progress |= h.render(100, 20).contains("indexing the built-in library");
        }
    }
    assert!(seen_progress, "indexing progress was shown");
    let IndexState::Ready { clips, space, .. } = &h.app.search.index else { unreachable!() };
    assert_eq!((*clips, *space), (3, Space::ThreeBranch));
    assert!(h.home.path().join("data/indexes/default/index.toml").is_file());

    h.key(KeyCode::Char('/'));
    h.type_text("The old soldier wept quietly over the grave of his friend.");
    h.key(KeyCode::Enter);
    assert!(h.app.search.pending.is_some());
    h.pump_until("results", |app| app.search.hits.is_some());
    let hits = h.app.search.hits.clone().unwrap();
    let ranked = &hits.results.results;
    assert_eq!(ranked.len(), 3);
    assert_eq!(ranked.iter().map(|r| r.rank).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score), "{ranked:?}");
    assert!(ranked.iter().all(|r| r.moods.len() == 3 && TRACKS.iter().any(|t| r.path.ends_with(t))));
    assert_eq!(hits.results.query_moods.len(), 3);
    assert_eq!(hits.rows.len(), 3);
    assert!(hits.query_point.is_some());
    let screen = h.render(120, 30);
    for r in ranked {
        assert!(screen.contains(&r.title), "{screen}");
    }
    assert!(screen.contains("the story reads as"), "{screen}");
    settings().bind(|| insta::assert_snapshot!("search_results", screen));
    assert_eq!(h.app.search.selected_clip(), Some(ranked[0].path.clone()));

    h.key(KeyCode::Char('4'));
    let screen = h.render(100, 30);
    assert!(screen.contains("3 clips") && screen.contains("query"), "{screen}");
    assert!(screen.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)), "braille points:\n{screen}");
    let anchors = h.app.map.data.as_ref().unwrap().moods.clone();
    // Every anchor is labelled in full: close labels are nudged apart, not overdrawn.
    for a in &anchors {
        assert!(screen.contains(&format!("◆{a}")), "{a}:\n{screen}");
    }
    settings().bind(|| insta::assert_snapshot!("map_results", screen));

    // UMAP runs in the background: the map says so, then shows the layout; u goes back to PCA.
    h.key(KeyCode::Char('u'));
    assert!(h.render(100, 30).contains("PCA; UMAP computing"));
    h.pump_until("the UMAP layout", |app| matches!(app.map.umap, UmapState::Ready(_)));
    let screen = h.render(100, 30);
    assert!(screen.contains("(UMAP)") && screen.contains("UMAP1") && screen.contains("query"), "{screen}");
    for a in &anchors {
        assert!(screen.contains(&format!("◆{a}")), "{a}:\n{screen}");
    }
    // No snapshot here: UMAP's layout of three clips moves with the last bit of the embeddings,
    // which differs between CPUs. What must hold: every result is marked and the layout is new.
    for rank in ['1', '2', '3'] {
        assert!(screen.lines().skip(2).any(|l| marks(l, rank)), "rank {rank}:\n{screen}");
    }
    assert!(screen.contains("✱query"), "{screen}");
    h.key(KeyCode::Char('u'));
    assert!(h.render(100, 30).contains("(PCA)"));
    h.key(KeyCode::Char('+'));
    h.key(KeyCode::Enter);
    let (_, status) = h.app.status.clone().unwrap();
    let selected: PathBuf = h.app.map.selected_path().unwrap();
    assert!(status.starts_with(&selected.display().to_string()), "{status}");

    // Soundtrack mode: one clip per passage, on a timeline. Switching with results on screen runs
    // the story again in the new mode.
    h.key(KeyCode::Char('3'));
    h.key(KeyCode::Char('s'));
    assert!(h.app.search.soundtrack);
    assert!(h.app.search.pending.is_some(), "the shown story is run again as a soundtrack");
    h.pump_until("the story's soundtrack", |app| app.search.story.is_some());
    assert_eq!(h.app.search.story.as_ref().unwrap().passages.len(), 1);
    assert!(h.app.search.hits.is_none());
    h.key(KeyCode::Char('/'));
    h.app.handle(Event::Input(Term::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL))));
    h.type_text("The village woke to sunshine and laughter.");
    h.app.handle(Event::Input(Term::Paste("\n\nThen the dragon came, and the houses burned.".into())));
    h.key(KeyCode::Enter);
    h.pump_until("the soundtrack", |app| app.search.pending.is_none());
    let story = h.app.search.story.clone().unwrap();
    assert_eq!(story.passages.len(), 2, "{story:?}");
    assert_ne!(story.passages[0].clip, story.passages[1].clip, "no clip is used twice");
    let screen = h.render(120, 30);
    assert!(screen.contains('█') && screen.contains("dragon"), "{screen}");
}

/// Whether `line` holds `digit` on its own: a rank mark, not part of a number or an axis name.
fn marks(line: &str, digit: char) -> bool {
    let chars: Vec<char> = line.chars().collect();
    let part = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric() || *c == '.' || *c == '-');
    (0..chars.len()).any(|i| {
        chars[i] == digit && !part(i.checked_sub(1).and_then(|j| chars.get(j))) && !part(chars.get(i + 1))
    })
}
