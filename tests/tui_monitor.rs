//! The Train tab attached to a run directory (`storyscore monitor RUN_DIR`): history on attach,
//! live updates as another writer appends, and system metrics.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crossbeam_channel::{unbounded, Receiver};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use storyscore::config::{Config, Dirs};
use storyscore::train::{MetricsLog, MetricsRecord};
use storyscore::tui::app::{App, Tab};
use storyscore::tui::event::Event;

fn record(step: u64, epoch: u64, with_val: bool) -> MetricsRecord {
    let loss = 1.0 / (1.0 + step as f64 * 0.1);
    let branch_losses: BTreeMap<String, f64> =
        [("tag_text", 0.3 * loss), ("tag_song", 0.3 * loss), ("text_song", 0.4 * loss)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
    MetricsRecord {
        step,
        epoch,
        loss: Some(loss),
        branch_losses,
        lr: Some(1e-4),
        samples_per_s: Some(40.0),
        p_at_5: with_val.then_some(0.3 + step as f64 * 0.01),
        mrr: with_val.then_some(0.5 + step as f64 * 0.01),
        unix_ms: 1_700_000_000_000 + step * 1000,
    }
}

fn monitor(run: &Path, home: &Path) -> (App, Receiver<Event>) {
    let dirs =
        Dirs { data: home.join("data"), config_file: home.join("config.toml"), cache: home.join("cache") };
    let config = Config { library: Vec::new(), theme: "mono".into(), ..Config::default() };
    let opts = storyscore::tui::options(dirs, config, Some(run.to_path_buf())).unwrap();
    let (tx, rx) = unbounded();
    (App::new(opts, tx), rx)
}

fn pump_until(app: &mut App, rx: &Receiver<Event>, done: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(app) {
        assert!(Instant::now() < deadline, "timed out; have {} records", app.train.records.len());
        if let Ok(ev) = rx.recv_timeout(Duration::from_millis(100)) {
            app.handle(ev);
        }
    }
}

fn render(app: &mut App) -> String {
    let mut term = Terminal::new(TestBackend::new(110, 30)).unwrap();
    term.draw(|f| storyscore::tui::ui::draw(f, app)).unwrap();
    term.backend().to_string()
}

#[test]
fn monitor_shows_history_then_follows_appends() {
    let home = tempfile::tempdir().unwrap();
    let run = home.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("config.toml"), "epochs = 10\n").unwrap();
    let mut log = MetricsLog::open(&run.join("metrics.jsonl"), None).unwrap();
    for step in 0..20 {
        log.append(&record(step, step / 5, step % 5 == 4)).unwrap();
    }

    let (mut app, rx) = monitor(&run, home.path());
    assert_eq!(app.tab, Tab::Train);
    app.apply(storyscore::tui::keymap::Action::SearchTab);
    assert_eq!(app.tab, Tab::Train, "the monitor is the Train tab alone");
    pump_until(&mut app, &rx, |a| a.train.records.len() == 20);
    app.train.system = None;
    let screen = render(&mut app);
    assert!(screen.contains("step 19 · epoch 3/10"), "{screen}");
    assert!(screen.contains("ETA"), "{screen}");
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]");
    s.bind(|| insta::assert_snapshot!("monitor_history", screen));

    for step in 20..25 {
        log.append(&record(step, 4, step == 24)).unwrap();
    }
    pump_until(&mut app, &rx, |a| a.train.records.len() == 25);
    pump_until(&mut app, &rx, |a| a.train.system.is_some());
    let screen = render(&mut app);
    assert!(screen.contains("step 24 · epoch 4/10"), "{screen}");
    assert!(screen.contains("CPU") && screen.contains("GPU"), "system panel: {screen}");

    drop(app);
    let (mut again, rx) = monitor(&run, home.path());
    pump_until(&mut again, &rx, |a| a.train.records.len() == 25);
    assert_eq!(
        again.train.records.first().map(|r| r.step),
        Some(0),
        "re-attaching replays the whole history"
    );
}

#[test]
fn monitor_waits_for_a_run_that_has_not_written_yet() {
    let home = tempfile::tempdir().unwrap();
    let (mut app, _rx) = monitor(home.path(), home.path());
    let screen = render(&mut app);
    assert!(screen.contains("Waiting for") && screen.contains("metrics.jsonl"), "{screen}");
}
