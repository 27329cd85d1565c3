//! The terminal app (`storyscore` with no command) and the training dashboard
//! (`storyscore monitor RUN_DIR`).
//!
//! State, events and rendering are separate: [`app::App`] holds the state and applies
//! [`event::Event`]s; [`ui::draw`] renders it. A single-threaded tokio runtime runs the loop: one
//! `select!` over crossterm's event stream, the workers' reports (they keep their own threads),
//! a tick and the quit signals, so the UI never blocks and redraws only when something happened.

pub mod app;
pub mod clipboard;
pub mod effect;
pub mod engine;
pub mod event;
pub mod keychord;
pub mod keymap;
pub mod playback;
pub mod status;
pub mod tabs;
pub mod terminal;
pub mod textbox;
pub mod theme;
pub mod ui;
pub mod workers;

use std::path::PathBuf;
use std::time::Duration;

use crossbeam_channel::{unbounded, Receiver};
use crossterm::event::EventStream;
use futures::StreamExt;

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
    // One thread drives the UI; workers keep their own threads and report over `tx`.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        // Signal handlers first, so a SIGTERM during start-up still restores the terminal.
        let signals = Signals::new()?;
        let mut term = terminal::enter()?;
        let result = event_loop(&mut term, opts, tx, rx, signals).await;
        terminal::restore();
        result
    })
}

/// One `select!` over terminal input, the workers' reports, a tick and the quit signals; each
/// event is applied to the app, the queue is drained, then the screen is drawn once.
async fn event_loop(
    term: &mut terminal::Term,
    opts: AppOptions,
    tx: EventSender,
    rx: Receiver<Event>,
    mut signals: Signals,
) -> Result<(), TuiError> {
    let mut app = App::new(opts, tx);
    term.draw(|f| ui::draw(f, &mut app))?;
    let mut reports = bridge(rx)?;
    let mut input = Some(EventStream::new());
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while !app.quit {
        let ev = tokio::select! {
            ev = reports.recv() => match ev { Some(ev) => ev, None => break },
            ev = next_input(&mut input) => match ev {
                Some(Ok(ev)) => Event::Input(ev),
                // The terminal is gone or unreadable: no more input, signals still quit.
                Some(Err(_)) | None => { input = None; continue }
            },
            _ = ticker.tick() => Event::Tick,
            () = signals.next() => Event::Terminate,
        };
        let mut redraw = app.handle(ev);
        if std::mem::take(&mut app.suspend) {
            // Stop reading before the shell takes the terminal, so no key is stolen from it.
            drop(input.take());
            terminal::suspend(term)?;
            input = Some(EventStream::new());
            term.draw(|f| ui::draw(f, &mut app))?;
            continue;
        }
        // Drain what queued up meanwhile (probe reports, key repeats) before one redraw.
        while let Ok(ev) = reports.try_recv() {
            redraw |= app.handle(ev);
        }
        if redraw && !app.quit {
            term.draw(|f| ui::draw(f, &mut app))?;
        }
    }
    Ok(())
}

/// The next terminal event; never ready while input is off (suspended or unreadable).
async fn next_input(input: &mut Option<EventStream>) -> Option<std::io::Result<crossterm::event::Event>> {
    match input {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}

/// Workers run on plain threads and send on a crossbeam channel (the tests drive the app from
/// it directly); one thread forwards it to the loop. It ends when the loop drops its receiver.
fn bridge(rx: Receiver<Event>) -> std::io::Result<tokio::sync::mpsc::UnboundedReceiver<Event>> {
    let (forward, reports) = tokio::sync::mpsc::unbounded_channel();
    std::thread::Builder::new().name("reports".into()).spawn(move || {
        while let Ok(ev) = rx.recv() {
            if forward.send(ev).is_err() {
                break;
            }
        }
    })?;
    Ok(reports)
}

/// SIGTERM, SIGHUP and SIGINT: a clean quit (the loop then restores the terminal).
struct Signals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.hup.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}
