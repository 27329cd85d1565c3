//! The terminal app's speed: a Map tab frame with 100k clips on a `TestBackend` (160×50), the
//! time from `App::new` to the first frame, the latency from a key to its redrawn frame, and a
//! Train tab frame following three runs of 100k steps with ten minutes of 1-s samples of 8 GPUs.
//!
//! `cargo bench --bench tui` runs criterion. With `-- --json [--frames N]` it instead prints
//! `{"bench":"tui_frame","frame_ms":…,"first_frame_ms":…,"key_to_frame_ms":…,"train_frame_ms":…}`
//! (medians: Map frame with 100k points, `App::new` to first frame, key to redrawn Map frame,
//! Train tab frame) for `scripts/bench`.

use std::sync::Arc;
use std::time::Instant;

use criterion::Criterion;
use crossterm::event::{Event as Term, KeyCode, KeyEvent, KeyModifiers};
use rand::{Rng, SeedableRng};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use storyscore::config::{Config, Dirs};
use storyscore::map::projection::MapData;
use storyscore::model::Space;
use storyscore::monitor::{GpuSample, GpuStatus, SystemSample};
use storyscore::train::MetricsRecord;
use storyscore::tui::app::{App, Tab};
use storyscore::tui::event::Event;
use storyscore::tui::tabs::map::MapTab;
use storyscore::tui::tabs::train::TrainTab;
use storyscore::tui::theme::Theme;

const CLIPS: usize = 100_000;
const DIM: usize = 64;
const MOODS: [&str; 7] = ["angry", "exciting", "funny", "happy", "sad", "scary", "tender"];
const SIZE: (u16, u16) = (160, 50);

/// 100k clips scattered around seven mood anchors in a 64-d cosine space, projected by PCA.
fn map_data() -> Arc<MapData> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let anchors: Vec<f32> = (0..MOODS.len() * DIM).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    let mut emb = Vec::with_capacity(CLIPS * DIM);
    for i in 0..CLIPS {
        let a = &anchors[(i % MOODS.len()) * DIM..][..DIM];
        emb.extend(a.iter().map(|x| x + rng.random_range(-0.6f32..0.6)));
    }
    let paths = (0..CLIPS).map(|i| format!("/music/clip{i:06}.ogg").into()).collect();
    let moods = MOODS.iter().map(|m| m.to_string()).collect();
    Arc::new(MapData::build(Space::ThreeBranch, paths, emb, DIM, moods, &anchors))
}

fn map_tab(data: &Arc<MapData>) -> MapTab {
    let mut map = MapTab::new(String::new());
    map.set_data(data.clone());
    map.query = Some(data.anchor_points[3]);
    map.results = (0..10).collect();
    map
}

fn render_map(term: &mut Terminal<TestBackend>, map: &MapTab, theme: &Theme) {
    term.draw(|f| map.render(f, f.area(), theme)).expect("TestBackend draws");
}

/// An app on an empty data dir (no library, so no indexing), as `storyscore` would start.
fn app(home: &tempfile::TempDir) -> App {
    let dirs = Dirs {
        data: home.path().join("data"),
        config_file: home.path().join("config/config.toml"),
        cache: home.path().join("cache"),
    };
    let config = Config { library: Vec::new(), ..Config::default() };
    let opts = storyscore::tui::options(dirs, config, None).expect("default key map and theme");
    let (tx, _rx) = crossbeam_channel::unbounded();
    App::new(opts, tx)
}

const STEPS: u64 = 100_000;
const GPUS: u32 = 8;

/// A run's records: a step with three branch losses every step, a validation every 1000.
fn run_records(seed: u64) -> Vec<MetricsRecord> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(STEPS as usize + 100);
    for step in 1..=STEPS {
        let loss = 1.0 / (1.0 + step as f64 / 5000.0) + rng.random_range(0.0..0.05);
        let branch_losses = [("tag_song", 0.3), ("tag_text", 0.3), ("text_song", 0.4)]
            .into_iter()
            .map(|(k, w)| (k.to_string(), w * loss))
            .collect();
        out.push(MetricsRecord {
            step,
            epoch: step / 1000,
            loss: Some(loss),
            branch_losses,
            lr: Some(1e-3),
            samples_per_s: Some(40.0),
            step_s: Some(0.8),
            unix_ms: 1_700_000_000_000 + step * 800,
            ..Default::default()
        });
        if step % 1000 == 0 {
            let p = 0.3 + 0.4 * step as f64 / STEPS as f64;
            out.push(MetricsRecord { step, p_at_5: Some(p), mrr: Some(p + 0.1), ..Default::default() });
        }
    }
    out
}

/// The Train tab following three runs of 100k steps, with ten minutes of 1-s samples of 8 GPUs.
fn train_tab() -> TrainTab {
    let mut tab = TrainTab::new(Some("/runs/a".into()));
    tab.history_ms = 600_000;
    tab.on_metrics(run_records(1));
    for (i, name) in ["/runs/b", "/runs/c"].iter().enumerate() {
        tab.on_run_metrics(std::path::Path::new(name), run_records(2 + i as u64));
    }
    for t in 0..600u64 {
        let gpus = (0..GPUS)
            .map(|index| GpuSample {
                index,
                name: "NVIDIA H200".into(),
                utilization_pct: ((t + u64::from(index) * 7) % 100) as u32,
                memory_used_bytes: (40 + u64::from(index)) << 30,
                memory_total_bytes: 140 << 30,
                temperature_c: Some(50 + index),
                power_watts: Some(400.0),
                power_limit_watts: Some(700.0),
                processes: Vec::new(),
            })
            .collect();
        tab.on_sample(SystemSample {
            unix_ms: 1_700_000_000_000 + t * 1000,
            cpu_per_core: vec![50.0; 16],
            cpu_total: 50.0,
            ram_used_bytes: 60 << 30,
            ram_total_bytes: 128 << 30,
            process_rss_bytes: 4 << 30,
            gpu: GpuStatus::Devices(gpus),
        });
    }
    tab
}

fn render_train(term: &mut Terminal<TestBackend>, tab: &TrainTab, theme: &Theme) {
    term.draw(|f| tab.render(f, f.area(), theme)).expect("TestBackend draws");
}

fn criterion_benches(c: &mut Criterion, data: &Arc<MapData>) {
    let theme = Theme::shipped("dark").expect("shipped theme");
    let mut term = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).expect("TestBackend");
    let map = map_tab(data);
    let mut group = c.benchmark_group("tui");
    group.bench_function("map_frame_100k", |b| b.iter(|| render_map(&mut term, &map, &theme)));
    let train = train_tab();
    group.bench_function("train_frame_3x100k_8gpu", |b| b.iter(|| render_train(&mut term, &train, &theme)));

    let home = tempfile::tempdir().expect("temp dir");
    group.sample_size(20).measurement_time(std::time::Duration::from_secs(2));
    group.bench_function("first_frame", |b| {
        b.iter(|| {
            let mut app = app(&home);
            term.draw(|f| storyscore::tui::ui::draw(f, &mut app)).expect("draws");
        })
    });

    let mut app = app(&home);
    app.map.set_data(data.clone());
    app.switch_tab(Tab::Map);
    let keys = [KeyCode::Char('+'), KeyCode::Char('-')];
    let mut n = 0usize;
    group.bench_function("key_to_frame_map_100k", |b| {
        b.iter(|| {
            n += 1;
            let key = KeyEvent::new(keys[n % 2], KeyModifiers::NONE);
            if app.handle(Event::Input(Term::Key(key))) {
                term.draw(|f| storyscore::tui::ui::draw(f, &mut app)).expect("draws");
            }
        })
    });
    group.finish();
}

/// Median milliseconds of `frames` calls of `f` (after one untimed call).
fn median_ms(frames: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..frames.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn json_mode(args: &[String], data: &Arc<MapData>) -> Result<(), String> {
    let frames = match args.iter().position(|a| a == "--frames") {
        Some(i) => args.get(i + 1).and_then(|v| v.parse::<usize>().ok()).ok_or("--frames needs a number")?,
        None => 50,
    };
    let theme = Theme::shipped("dark").map_err(|e| e.to_string())?;
    let mut term = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).map_err(|e| e.to_string())?;
    let map = map_tab(data);
    let frame_ms = median_ms(frames, || render_map(&mut term, &map, &theme));
    let train = train_tab();
    let train_frame_ms = median_ms(frames, || render_train(&mut term, &train, &theme));

    let home = tempfile::tempdir().map_err(|e| e.to_string())?;
    let first_frame_ms = median_ms(frames.min(10), || {
        let mut app = app(&home);
        term.draw(|f| storyscore::tui::ui::draw(f, &mut app)).expect("TestBackend draws");
    });

    let mut app = app(&home);
    app.map.set_data(data.clone());
    app.switch_tab(Tab::Map);
    let keys = [KeyCode::Char('+'), KeyCode::Char('-')];
    let mut n = 0usize;
    let key_to_frame_ms = median_ms(frames, || {
        n += 1;
        if app.handle(Event::Input(Term::Key(KeyEvent::new(keys[n % 2], KeyModifiers::NONE)))) {
            term.draw(|f| storyscore::tui::ui::draw(f, &mut app)).expect("TestBackend draws");
        }
    });
    let line = serde_json::json!({
        "bench": "tui_frame",
        "frame_ms": frame_ms,
        "first_frame_ms": first_frame_ms,
        "key_to_frame_ms": key_to_frame_ms,
        "train_frame_ms": train_frame_ms,
        "points": CLIPS,
        "frames": frames.max(1),
        "size": [SIZE.0, SIZE.1],
    });
    println!("{line}");
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data = map_data();
    if args.iter().any(|a| a == "--json") {
        if let Err(e) = json_mode(&args, &data) {
            eprintln!("tui bench: {e}");
            std::process::exit(2);
        }
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c, &data);
    c.final_summary();
}
