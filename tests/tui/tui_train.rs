//! The Train tab's run form (`n`): defaults, editing, validation and cancel. A real run started
//! from the form is driven through the binary in `terminal_train.rs`.

use crate::common;

use std::path::Path;

use crossbeam_channel::{unbounded, Receiver};
use crossterm::event::{Event as Term, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use storyscore::config::{Config, Dirs};
use storyscore::model::{Space, TrunkKind};
use storyscore::tui::app::{App, Focus, Tab};
use storyscore::tui::event::Event;
use storyscore::tui::tabs::train::form::Field;

fn app(home: &Path) -> (App, Receiver<Event>) {
    let dirs = Dirs {
        data: home.join("data"),
        config_file: home.join("config/config.toml"),
        cache: home.join("cache"),
    };
    let config = Config { library: Vec::new(), theme: "mono".into(), ..Config::default() };
    let opts = storyscore::tui::options(dirs, config, None).unwrap();
    let (tx, rx) = unbounded();
    (App::new(opts, tx), rx)
}

fn key(app: &mut App, code: KeyCode) {
    app.handle(Event::Input(Term::Key(KeyEvent::new(code, KeyModifiers::NONE))));
}

fn typed(app: &mut App, text: &str) {
    text.chars().for_each(|c| key(app, KeyCode::Char(c)));
}

fn render(app: &mut App, width: u16, height: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(width, height)).unwrap();
    term.draw(|f| storyscore::tui::ui::draw(f, app)).unwrap();
    term.backend().to_string()
}

/// Replaces a typed field's whole text (select it, erase, type).
fn set_field(app: &mut App, field: Field, text: &str) {
    let form = app.train.form.as_mut().expect("form open");
    form.field = field;
    let n = match field {
        Field::Text => form.text.text.chars().count(),
        Field::Music => form.music.text.chars().count(),
        Field::Steps => form.steps.text.chars().count(),
        _ => form.learning_rate.text.chars().count(),
    };
    (0..n).for_each(|_| key(app, KeyCode::Backspace));
    typed(app, text);
}

#[test]
fn n_opens_the_form_with_the_minute_long_defaults_and_esc_cancels() {
    let home = tempfile::tempdir().unwrap();
    let (mut app, _rx) = app(home.path());
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.focus, Focus::RunForm);
    let form = app.train.form.as_ref().expect("n opens the form");
    assert_eq!((form.space, form.trunk), (Space::Classify, TrunkKind::MelStats));
    assert_eq!((form.steps.text.as_str(), form.learning_rate.text.as_str()), ("300", "1e-3"));
    if common::shared("data/isear/isear.csv").is_some() {
        assert!(form.text.text.starts_with("isear:") && form.text.text.ends_with("isear/isear.csv"));
        assert!(form.music.text.starts_with("4q:") && form.music.text.ends_with("data/4q"));
    }
    // Fixed dataset text so the snapshot does not depend on where the checkout lives.
    set_field(&mut app, Field::Text, "isear:/data/isear/isear.csv");
    set_field(&mut app, Field::Music, "4q:/data/4q");
    app.train.form.as_mut().unwrap().field = Field::Space;
    let screen = render(&mut app, 110, 30);
    assert!(screen.contains("next field") && screen.contains("cancel"), "the bar shows the form's keys");
    insta::assert_snapshot!("train_form", screen);

    // Keys typed into the form do not act globally: q is not quit, 3 is not a tab switch.
    key(&mut app, KeyCode::Char('q'));
    key(&mut app, KeyCode::Char('3'));
    assert!(!app.quit && app.tab == Tab::Train);
    key(&mut app, KeyCode::Right);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Left);
    let form = app.train.form.as_ref().unwrap();
    // Right of classify is moods; left from the first trunk (mel-stats) wraps to the last of cnn,
    // musicnn-msd, musicnn-mtt, musicnn-both.
    assert_eq!((form.space, form.trunk), (Space::Moods, TrunkKind::MusicnnBoth));
    key(&mut app, KeyCode::Esc);
    assert!(app.train.form.is_none() && app.focus == Focus::Normal);
    key(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
}

#[test]
fn bad_values_keep_the_form_open_and_say_which_field() {
    let home = tempfile::tempdir().unwrap();
    let (mut app, _rx) = app(home.path());
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Char('n'));
    set_field(&mut app, Field::Steps, "ten");
    key(&mut app, KeyCode::Enter);
    let form = app.train.form.as_ref().expect("still open");
    assert!(form.error.as_deref().is_some_and(|e| e.starts_with("steps:")), "{:?}", form.error);
    assert!(render(&mut app, 110, 30).contains("steps: expected a whole number"));
    set_field(&mut app, Field::Steps, "10");
    set_field(&mut app, Field::Music, "4q:/no/such/folder");
    key(&mut app, KeyCode::Enter);
    let err = app.train.form.as_ref().unwrap().error.clone().unwrap_or_default();
    assert!(err.starts_with("music data:") && err.contains("/no/such/folder"), "{err}");
    // Two taggers' averaged mood distributions are the moods space's.
    let form = app.train.form.as_mut().unwrap();
    form.trunk = TrunkKind::MusicnnBoth;
    let err = form.settings().err().unwrap_or_default();
    assert_eq!(err, "audio trunk: musicnn-both is for the moods space");
    assert!(app.train.run_dir.is_none(), "no run started");
}

#[test]
fn clicking_another_tab_abandons_the_form() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let home = tempfile::tempdir().unwrap();
    let (mut app, _rx) = app(home.path());
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Char('n'));
    render(&mut app, 110, 30);
    let (rect, _) = *app.tab_hits.iter().find(|(_, t)| *t == Tab::Search).expect("tab bar drawn");
    let click = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: rect.x,
        row: rect.y,
        modifiers: KeyModifiers::NONE,
    };
    app.handle(Event::Input(Term::Mouse(click)));
    assert_eq!((app.tab, app.focus), (Tab::Search, Focus::Normal));
    assert!(app.train.form.is_none());
}

/// The dataset fields are read in the background as you type: a missing path or unknown kind is
/// marked at once, a real dataset shows how many items it holds, and Enter refuses a bad one.
/// A started run's datasets are remembered and offered first next time (pgup/pgdn recall).
#[test]
fn dataset_fields_are_checked_as_you_type_and_remembered() {
    let home = tempfile::tempdir().unwrap();
    let (mut app, rx) = app(home.path());
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Char('n'));
    set_field(&mut app, Field::Text, "isear:/nowhere/isear.csv");
    let screen = render(&mut app, 110, 30);
    assert!(screen.contains("✗ /nowhere/isear.csv does not exist"), "{screen}");
    set_field(&mut app, Field::Text, "poems:/tmp");
    let screen = render(&mut app, 110, 30);
    assert!(screen.contains("✗") && screen.contains("poems"), "{screen}");
    key(&mut app, KeyCode::Enter);
    let error = app.train.form.as_ref().unwrap().error.clone().unwrap_or_default();
    assert!(error.starts_with("text data:"), "{error}");

    let Some(isear) = common::shared("data/isear/isear.csv") else { return };
    let spec = format!("isear:{}", isear.display());
    set_field(&mut app, Field::Text, &spec);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !matches!(
        app.train.form.as_ref().unwrap().checks.get(&spec),
        Some(storyscore::tui::tabs::train::form::Check::Good(_))
    ) {
        assert!(std::time::Instant::now() < deadline, "no check result");
        if let Ok(ev) = rx.recv_timeout(std::time::Duration::from_millis(100)) {
            app.handle(ev);
        }
    }
    let screen = render(&mut app, 110, 30);
    assert!(screen.contains("✓ 6428 texts (isear), 113 rows skipped"), "{screen}");

    // Remembered entries come back first and are recalled with pgup/pgdn.
    let recent_file = home.path().join("data/recent-datasets.json");
    let mut recent = storyscore::tui::tabs::train::form::Recent::default();
    recent.remember("isear:/old/a.csv", "4q:/old/q", &recent_file);
    recent.remember(&spec, "4q:/new/q", &recent_file);
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('n'));
    let form = app.train.form.as_ref().unwrap();
    assert_eq!((form.text.text.as_str(), form.music.text.as_str()), (spec.as_str(), "4q:/new/q"));
    app.train.form.as_mut().unwrap().field = Field::Music;
    key(&mut app, KeyCode::PageUp);
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.train.form.as_ref().unwrap().music.text, "4q:/old/q");
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.train.form.as_ref().unwrap().music.text, "4q:/new/q");
}
