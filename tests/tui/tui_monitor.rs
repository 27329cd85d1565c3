//! The Train tab attached to a run directory (`storyscore monitor RUN_DIR`): history on attach,
//! live updates as another writer appends, and system metrics.

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
        step_s: Some(0.8),
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
    app.train.samples.clear();
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

/// A run whose status says running but whose process is gone reads as crashed, and the alerts
/// its trainer logged (and the crash) show as a coloured line and as the status line.
#[test]
fn monitor_shows_a_crashed_run_and_its_alerts() {
    use storyscore::train::alerts::{append_alerts, AlertRules};
    use storyscore::train::run_status::{write_status, RunState, RunStatus};
    let home = tempfile::tempdir().unwrap();
    let run = home.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    let mut log = MetricsLog::open(&run.join("metrics.jsonl"), None).unwrap();
    for step in 0..8 {
        log.append(&record(step, 0, false)).unwrap();
    }
    let mut rules = AlertRules::new(Default::default());
    let stalled = MetricsRecord { step: 8, step_s: Some(60.0), ..record(8, 0, false) };
    log.append(&stalled).unwrap();
    for r in (0..8).map(|s| record(s, 0, false)).chain((0..4).map(|s| record(s, 0, false))) {
        assert!(rules.on_record(&r).is_empty());
    }
    append_alerts(&run, &rules.on_record(&stalled)).unwrap();
    let status = RunStatus {
        state: RunState::Running,
        pid: 999_999,
        step: 8,
        total_steps: 100,
        updated_unix_ms: 1_700_000_008_000,
        message: None,
    };
    write_status(&run, &status).unwrap();

    let (mut app, rx) = monitor(&run, home.path());
    pump_until(&mut app, &rx, |a| a.train.alerts.len() == 2 && a.train.records.len() == 9);
    let screen = render(&mut app);
    assert!(screen.contains("— crashed"), "{screen}");
    assert!(screen.contains("⚠ the training process is gone"), "{screen}");
    assert!(screen.contains("(+1 earlier, in alerts.jsonl)"), "{screen}");
    assert!(screen.contains("training: the training process is gone"), "status line: {screen}");
    assert_eq!(app.train.alerts[0].kind, storyscore::train::alerts::AlertKind::SlowStep);
}

/// The System pane charts the history window: CPU, RAM and each GPU against time.
#[test]
fn train_tab_charts_the_system_history() {
    use storyscore::monitor::{GpuProcess, GpuSample, GpuStatus, SystemSample};
    let home = tempfile::tempdir().unwrap();
    let (mut app, _rx) = monitor(home.path(), home.path());
    assert_eq!(app.train.history_ms, 10 * 60_000, "history_minutes defaults to 10");
    let sample = |t: u64, util: u32| SystemSample {
        unix_ms: 1_700_000_000_000 + t * 1000,
        cpu_per_core: vec![40.0, 60.0],
        cpu_total: 50.0 + (t % 10) as f32,
        ram_used_bytes: 6 << 30,
        ram_total_bytes: 24 << 30,
        process_rss_bytes: 1 << 30,
        gpu: GpuStatus::Devices(vec![GpuSample {
            index: 0,
            name: "H200".into(),
            utilization_pct: util,
            memory_used_bytes: 70 << 30,
            memory_total_bytes: 140 << 30,
            temperature_c: Some(55),
            power_watts: Some(420.0),
            power_limit_watts: Some(700.0),
            processes: vec![
                GpuProcess { pid: std::process::id(), memory_bytes: Some(12 << 30) },
                GpuProcess { pid: 1, memory_bytes: None },
            ],
        }]),
    };
    for t in 0..900 {
        app.train.on_sample(sample(t, (t % 100) as u32));
    }
    assert_eq!(app.train.samples.len(), 601, "ten minutes of 1-s samples kept");
    let screen = render(&mut app);
    assert!(screen.contains(" Last 10 min "), "{screen}");
    assert!(screen.contains("-600 s") && screen.contains("now"), "{screen}");
    assert!(screen.contains("GPU0 H200 · util 99%"), "{screen}");
    assert!(app
        .train
        .samples
        .iter()
        .all(|s| matches!(&s.gpu, GpuStatus::Devices(d) if d[0].power_limit_watts == Some(700.0))));
    let ours = format!("pid {} 12.0 GiB (this run)", std::process::id());
    assert!(screen.contains(&ours) && screen.contains("pid 1 ?"), "per-process GPU memory: {screen}");
    assert!(screen.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)), "braille lines: {screen}");
}

/// Several runs: a list with state and best validation, their loss and P@5 overlaid, the latest
/// alert named after its run, and `a` following the runs of DATA/runs.
#[test]
fn several_runs_are_listed_overlaid_and_attached() {
    use storyscore::train::alerts::append_alerts;
    use storyscore::train::alerts::AlertRules;
    let home = tempfile::tempdir().unwrap();
    let (a, b) = (home.path().join("run-a"), home.path().join("run-b"));
    for (dir, scale) in [(&a, 1.0), (&b, 1.5)] {
        std::fs::create_dir_all(dir).unwrap();
        let mut log = MetricsLog::open(&dir.join("metrics.jsonl"), None).unwrap();
        for step in 0..20 {
            let mut r = record(step, step / 5, step % 5 == 4);
            r.loss = r.loss.map(|l| l * scale);
            r.p_at_5 = r.p_at_5.map(|p| p / scale);
            log.append(&r).unwrap();
        }
    }
    let mut rules =
        AlertRules::new(storyscore::config::AlertConfig { plateau_evals: 1, ..Default::default() });
    let fired: Vec<_> = [0.5, 0.4]
        .iter()
        .flat_map(|&p| rules.on_record(&MetricsRecord { p_at_5: Some(p), ..record(30, 6, true) }))
        .collect();
    append_alerts(&b, &fired).unwrap();

    let dirs = Dirs {
        data: home.path().join("data"),
        config_file: home.path().join("config.toml"),
        cache: home.path().join("cache"),
    };
    let config = Config { library: Vec::new(), theme: "mono".into(), ..Config::default() };
    let mut opts = storyscore::tui::options(dirs, config, Some(a.clone())).unwrap();
    opts.more_runs = vec![b.clone()];
    let (tx, rx) = unbounded();
    let mut app = App::new(opts, tx);
    pump_until(&mut app, &rx, |app| {
        app.train.records.len() == 20 && app.train.others.first().is_some_and(|o| o.records.len() == 20)
    });
    pump_until(&mut app, &rx, |app| !app.train.alerts.is_empty());
    // Ten minutes of a machine without a GPU driver, made here so the snapshot is stable.
    app.train.samples.clear();
    for t in 0..600u64 {
        app.train.on_sample(storyscore::monitor::SystemSample {
            unix_ms: 1_700_000_000_000 + t * 1000,
            cpu_per_core: vec![80.0, 60.0],
            cpu_total: 70.0 + (t % 60) as f32 / 3.0,
            ram_used_bytes: (8 << 30) + (t << 22),
            ram_total_bytes: 24 << 30,
            process_rss_bytes: 300 << 20,
            gpu: storyscore::monitor::GpuStatus::Unavailable("NVIDIA driver not available".into()),
        });
    }
    let screen = render(&mut app);
    assert!(
        screen.contains(" Last 10 min ") && screen.contains("GPU: NVIDIA driver not available"),
        "{screen}"
    );
    assert!(screen.contains("■ run-a") && screen.contains("■ run-b"), "{screen}");
    assert!(screen.contains("best P@5 0.490 MRR 0.690 at step 19"), "{screen}");
    assert!(screen.contains("⚠ run-b: validation P@5 has not beaten"), "{screen}");
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]");
    s.bind(|| insta::assert_snapshot!("monitor_two_runs", screen));

    // `t` puts loss and P@5 on the time axis the system charts use (seconds before now).
    app.train.samples.clear();
    app.apply(storyscore::tui::keymap::Action::TimeAxis);
    let screen = render(&mut app);
    assert!(screen.contains("-19 s") && screen.contains("0 s") && !screen.contains("step 19│"), "{screen}");
    app.apply(storyscore::tui::keymap::Action::TimeAxis);

    // `a` follows the newest runs under DATA/runs that are not followed yet.
    let c = home.path().join("data/runs/run-c");
    std::fs::create_dir_all(&c).unwrap();
    let mut log = MetricsLog::open(&c.join("metrics.jsonl"), None).unwrap();
    log.append(&record(0, 0, false)).unwrap();
    app.apply(storyscore::tui::keymap::Action::AttachRuns);
    pump_until(&mut app, &rx, |app| app.train.others.iter().any(|o| o.dir == c && o.records.len() == 1));
    app.apply(storyscore::tui::keymap::Action::AttachRuns);
    assert_eq!(app.train.others.len(), 2, "nothing new to follow the second time");
}
