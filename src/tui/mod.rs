//! The terminal app (`storyscore` with no command) and the training dashboard
//! (`storyscore monitor RUN_DIR`).
//!
//! State, events and rendering are separate: [`app::App`] holds the state and applies
//! [`event::Event`]s; [`ui::draw`] renders it; workers report over one channel, so the UI thread
//! never blocks and redraws only when something happened.

pub mod app;
pub mod clipboard;
pub mod engine;
pub mod event;
pub mod keychord;
pub mod keymap;
pub mod playback;
pub mod projection;
pub mod tabs;
pub mod terminal;
pub mod textbox;
pub mod theme;
pub mod ui;
pub mod umap;
pub mod workers;

use std::path::PathBuf;
use std::time::Duration;

use crossbeam_channel::{unbounded, Receiver};

use crate::config::{Config, Dirs};
use app::{App, AppOptions};
use event::{Event, EventSender};

/// How often live views (playback position, metrics) refresh without other events.
const TICK: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error(transparent)]
    Keys(#[from] keymap::KeyMapError),
    #[error(transparent)]
    Theme(#[from] theme::ThemeError),
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

/// Opens the app on the configured library; returns when the user quits.
pub fn run(dirs: Dirs, config: Config) -> Result<(), TuiError> {
    run_with(dirs, config, None)
}

/// The Train tab alone, attached to run directories other processes write (the first is the
/// focused run; the others are listed and overlaid).
pub fn run_monitor(dirs: Dirs, config: Config, run_dirs: Vec<PathBuf>) -> Result<(), TuiError> {
    let mut dirs_iter = run_dirs.into_iter();
    let first = dirs_iter.next();
    let mut opts = options(dirs, config, first)?;
    opts.more_runs = dirs_iter.collect();
    run_opts(opts)
}

/// Loads key map and theme (errors surface before the terminal is touched), then runs the loop.
pub fn options(dirs: Dirs, config: Config, monitor: Option<PathBuf>) -> Result<AppOptions, TuiError> {
    let keymap = keymap::KeyMap::load(&dirs.config_dir())?;
    let theme = theme::Theme::load(&config.theme, &dirs.config_dir())?;
    Ok(AppOptions { dirs, config, keymap, theme, monitor, more_runs: Vec::new() })
}

fn run_with(dirs: Dirs, config: Config, monitor: Option<PathBuf>) -> Result<(), TuiError> {
    run_opts(options(dirs, config, monitor)?)
}

fn run_opts(opts: AppOptions) -> Result<(), TuiError> {
    let (tx, rx) = unbounded();
    terminal::install_panic_hook();
    spawn_signal_watcher(tx.clone())?;
    let mut term = terminal::enter()?;
    let result = event_loop(&mut term, opts, tx, rx);
    terminal::restore();
    result
}

fn event_loop(
    term: &mut terminal::Term,
    opts: AppOptions,
    tx: EventSender,
    rx: Receiver<Event>,
) -> Result<(), TuiError> {
    let mut app = App::new(opts, tx.clone());
    term.draw(|f| ui::draw(f, &mut app))?;
    let input = InputReader::spawn(tx)?;
    let ticker = crossbeam_channel::tick(TICK);
    while !app.quit {
        let ev = crossbeam_channel::select! {
            recv(rx) -> ev => match ev { Ok(ev) => ev, Err(_) => break },
            recv(ticker) -> _ => Event::Tick,
        };
        if is_suspend(&ev) {
            input.pause(true);
            terminal::suspend(term)?;
            input.pause(false);
            term.draw(|f| ui::draw(f, &mut app))?;
            continue;
        }
        let mut redraw = app.handle(ev);
        // Drain what queued up meanwhile (probe reports, key repeats) before one redraw.
        while let Ok(ev) = rx.try_recv() {
            redraw |= app.handle(ev);
        }
        if redraw && !app.quit {
            term.draw(|f| ui::draw(f, &mut app))?;
        }
    }
    input.stop();
    Ok(())
}

fn is_suspend(ev: &Event) -> bool {
    use crossterm::event::{Event as Term, KeyCode, KeyModifiers};
    matches!(ev, Event::Input(Term::Key(k)) if k.code == KeyCode::Char('z') && k.modifiers.contains(KeyModifiers::CONTROL))
}

/// Turns SIGTERM/SIGHUP/SIGINT into a clean quit (the loop then restores the terminal).
fn spawn_signal_watcher(tx: EventSender) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT])?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        if signals.forever().next().is_some() {
            let _ = tx.send(Event::Terminate);
        }
    })?;
    Ok(())
}

/// Reads terminal input on its own thread; pausable so a suspended app does not steal keys.
struct InputReader {
    paused: std::sync::Arc<std::sync::atomic::AtomicBool>,
    stopped: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl InputReader {
    fn spawn(tx: EventSender) -> std::io::Result<Self> {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let paused = Arc::new(AtomicBool::new(false));
        let stopped = Arc::new(AtomicBool::new(false));
        let (p, s) = (paused.clone(), stopped.clone());
        std::thread::Builder::new().name("input".into()).spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if p.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                match crossterm::event::poll(Duration::from_millis(50)) {
                    Ok(true) => match crossterm::event::read() {
                        Ok(ev) => {
                            if tx.send(Event::Input(ev)).is_err() {
                                break;
                            }
                        }
                        Err(_) => break,
                    },
                    Ok(false) => {}
                    Err(_) => break,
                }
            }
        })?;
        Ok(Self { paused, stopped })
    }

    fn pause(&self, on: bool) {
        self.paused.store(on, std::sync::atomic::Ordering::Relaxed);
        if on {
            // Let a read in progress finish before the terminal changes hands.
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn stop(&self) {
        self.stopped.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
