//! The app state tabs may read: the one-line status (its level and the message tabs hand back)
//! and which text box has the keys.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// What a tab's action has to say, if anything.
pub type StatusMsg = Option<(Level, String)>;

/// Which text box (if any) receives typed keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Normal,
    SearchBox,
    FilterBox,
    /// The Train tab's run form is open.
    RunForm,
}
