//! The terminal app's speed: a Map tab frame with 100k clips on a `TestBackend` (160×50), the
//! time from `App::new` to the first frame, and the latency from a key to its redrawn frame.
//!
//! `cargo bench --bench tui` runs criterion. With `-- --json [--frames N]` it instead prints
//! `{"bench":"tui_frame","frame_ms":…,"first_frame_ms":…,"key_to_frame_ms":…}` (medians: Map frame
//! with 100k points, `App::new` to first frame, key to redrawn Map frame) for `scripts/bench`.

use std::sync::Arc;
use std::time::Instant;

use criterion::Criterion;
use crossterm::event::{Event as Term, KeyCode, KeyEvent, KeyModifiers};
use rand::{Rng, SeedableRng};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use storyscore::config::{Config, Dirs};
use storyscore::model::Space;
use storyscore::tui::app::{App, Tab};
use storyscore::tui::event::Event;
use storyscore::tui::projection::MapData;
use storyscore::tui::tabs::map::MapTab;
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
    term.draw(|f| map.draw(f, f.area(), theme)).expect("TestBackend draws");
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

fn criterion_benches(c: &mut Criterion, data: &Arc<MapData>) {
    let theme = Theme::shipped("dark").expect("shipped theme");
    let mut term = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).expect("TestBackend");
    let map = map_tab(data);
    let mut group = c.benchmark_group("tui");
    group.bench_function("map_frame_100k", |b| b.iter(|| render_map(&mut term, &map, &theme)));

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
