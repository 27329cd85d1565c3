//! Owning the real terminal: raw mode, alternate screen, mouse and bracketed paste on entry;
//! everything undone on exit, on panic, on SIGTERM/SIGHUP/SIGINT, and around ctrl-z.

use std::io::{self, Stdout, Write};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Puts the terminal in app mode. Pair with [`restore`] (the guard in `tui::run` does).
pub fn enter() -> io::Result<Term> {
    terminal::enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture, EnableBracketedPaste, cursor::Hide)?;
    fresh()
}

/// A cleared screen and a terminal whose first draw paints every cell. Not `Terminal::clear`:
/// that asks the terminal for the cursor position, and after a resume from ctrl-z the answer may
/// not be readable in time.
fn fresh() -> io::Result<Term> {
    execute!(io::stdout(), terminal::Clear(terminal::ClearType::All))?;
    Terminal::new(CrosstermBackend::new(io::stdout()))
}

/// Gives the terminal back: safe to call more than once and from a panic hook.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(out, DisableBracketedPaste, DisableMouseCapture, LeaveAlternateScreen, cursor::Show);
    let _ = terminal::disable_raw_mode();
    let _ = out.flush();
}

/// Restores the terminal before the default panic message prints, so it is readable.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// ctrl-z: give the terminal back, stop the process, and take it again on `fg`.
pub fn suspend(term: &mut Term) -> io::Result<()> {
    restore();
    signal_hook::low_level::raise(signal_hook::consts::SIGTSTP)?;
    // Execution continues here after SIGCONT.
    terminal::enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture, EnableBracketedPaste, cursor::Hide)?;
    *term = fresh()?;
    Ok(())
}
