//! The one-line status every tab shows: its level and the message tabs hand back to the app.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// What a tab's action has to say, if anything.
pub type StatusMsg = Option<(Level, String)>;
