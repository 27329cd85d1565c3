//! The Train tab's run form (`n`): space, audio trunk, steps, learning rate, device and the two
//! datasets of a run started from the app. Choices cycle with left/right, the number and dataset
//! fields are typed; Enter validates and starts, Esc cancels.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::run::RunSettings;
use crate::data::{split_joined, DatasetSpec, Modality};
use crate::model::{Space, TrunkKind};
use crate::tui::textbox::TextBox;
use crate::tui::theme::Theme;

/// What a fresh form proposes: the best model on the development data, about a minute on a CPU.
pub const DEFAULT_SPACE: Space = Space::Classify;
pub const DEFAULT_TRUNK: TrunkKind = TrunkKind::MelStats;
pub const DEFAULT_STEPS: u64 = 300;
pub const DEFAULT_LEARNING_RATE: &str = "1e-3";

const TRUNKS: [TrunkKind; 5] = [
    TrunkKind::MelStats,
    TrunkKind::Cnn,
    TrunkKind::MusicnnMsd,
    TrunkKind::MusicnnMtt,
    TrunkKind::MusicnnBoth,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Space,
    Trunk,
    Steps,
    LearningRate,
    Device,
    Text,
    Music,
}

impl Field {
    pub const ALL: [Field; 7] = [
        Field::Space,
        Field::Trunk,
        Field::Steps,
        Field::LearningRate,
        Field::Device,
        Field::Text,
        Field::Music,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Space => "space",
            Field::Trunk => "audio trunk",
            Field::Steps => "steps",
            Field::LearningRate => "learning rate",
            Field::Device => "device",
            Field::Text => "text data",
            Field::Music => "music data",
        }
    }
}

fn trunk_name(t: TrunkKind) -> &'static str {
    t.as_str()
}

/// What is known of a dataset field's `KIND:PATH`: being read in the background, read (how many
/// items), or why it cannot be.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Pending,
    Good(String),
    Bad(String),
}

/// Why `spec` cannot be a dataset, found without reading it (unknown kind, missing path).
fn quick_check(spec: &str) -> Option<String> {
    for part in split_joined(spec) {
        let parsed: DatasetSpec = match part.parse() {
            Ok(p) => p,
            Err(e) => return Some(e.to_string()),
        };
        if !parsed.path.exists() {
            return Some(format!("{} does not exist", parsed.path.display()));
        }
    }
    None
}

/// The datasets of runs started from the app, newest first (`recent-datasets.json` in the data dir).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Recent {
    pub text: Vec<String>,
    pub music: Vec<String>,
}

/// Entries kept per field.
const RECENT_KEPT: usize = 8;

impl Recent {
    /// The remembered entries; a missing or unreadable file remembers nothing.
    pub fn load(path: &Path) -> Self {
        std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
    }

    /// Puts a started run's datasets first and saves (atomically; best effort).
    pub fn remember(&mut self, text: &str, music: &str, path: &Path) {
        for (list, entry) in [(&mut self.text, text), (&mut self.music, music)] {
            list.retain(|e| e != entry);
            list.insert(0, entry.to_string());
            list.truncate(RECENT_KEPT);
        }
        if let Ok(json) = serde_json::to_string_pretty(self) {
            if let Err(e) = crate::config::write_atomic(path, json.as_bytes()) {
                tracing::warn!("{}: {e}", path.display());
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunForm {
    pub field: Field,
    pub space: Space,
    pub trunk: TrunkKind,
    pub steps: TextBox,
    pub learning_rate: TextBox,
    pub cuda: bool,
    /// Whether libtorch sees a CUDA device (the choice is shown but refused otherwise).
    pub cuda_available: bool,
    pub text: TextBox,
    pub music: TextBox,
    /// Why the last Enter did not start a run, or why the datasets are not filled in.
    pub error: Option<String>,
    /// What is known of each `KIND:PATH` typed so far.
    pub checks: HashMap<String, Check>,
    pub recent: Recent,
    /// Which recent entry each dataset field shows (`None`: what was typed).
    recent_at: [Option<usize>; 2],
}

impl RunForm {
    /// A form with the defaults; the datasets are the last run's (`recent`), else `datasets`, the
    /// `KIND:PATH` pair to propose, or why there is none.
    pub fn new(datasets: Result<(String, String), String>, cuda_available: bool, recent: Recent) -> Self {
        let filled = |s: &str| {
            let mut t = TextBox::default();
            t.insert(s);
            t
        };
        let last = recent.text.first().zip(recent.music.first());
        let (text, music, error) = match (last, datasets) {
            (Some((t, m)), _) => (filled(t), filled(m), None),
            (None, Ok((t, m))) => (filled(&t), filled(&m), None),
            (None, Err(why)) => (TextBox::default(), TextBox::default(), Some(why)),
        };
        Self {
            field: Field::Space,
            space: DEFAULT_SPACE,
            trunk: DEFAULT_TRUNK,
            steps: filled(&DEFAULT_STEPS.to_string()),
            learning_rate: filled(DEFAULT_LEARNING_RATE),
            cuda: false,
            cuda_available,
            text,
            music,
            error,
            checks: HashMap::new(),
            recent,
            recent_at: [None; 2],
        }
    }

    /// The dataset fields' specs not checked yet, to read in the background; specs that fail
    /// without reading (unknown kind, missing path) are marked bad at once.
    pub fn unchecked(&mut self) -> Vec<(Modality, String)> {
        let mut out = Vec::new();
        for (tb, modality) in [(&self.text, Modality::Text), (&self.music, Modality::Music)] {
            let spec = tb.text.trim().to_string();
            if spec.is_empty() || self.checks.contains_key(&spec) {
                continue;
            }
            match quick_check(&spec) {
                Some(bad) => {
                    self.checks.insert(spec, Check::Bad(bad));
                }
                None => {
                    self.checks.insert(spec.clone(), Check::Pending);
                    out.push((modality, spec));
                }
            }
        }
        out
    }

    /// The background read of `spec` ended.
    pub fn on_checked(&mut self, spec: String, result: Result<String, String>) {
        self.checks.insert(spec, result.map_or_else(Check::Bad, Check::Good));
    }

    /// PgUp/PgDn on a dataset field: an older or newer recently used entry.
    pub fn recall(&mut self, older: bool) {
        let (slot, list, tb) = match self.field {
            Field::Text => (0, &self.recent.text, &mut self.text),
            Field::Music => (1, &self.recent.music, &mut self.music),
            _ => return,
        };
        if list.is_empty() {
            return;
        }
        let next = match (self.recent_at[slot], older) {
            (None, true) => Some(0),
            (None, false) => return,
            (Some(i), true) => Some((i + 1).min(list.len() - 1)),
            (Some(0), false) => Some(0),
            (Some(i), false) => Some(i - 1),
        };
        self.recent_at[slot] = next;
        if let Some(entry) = next.and_then(|i| list.get(i)) {
            tb.clear();
            tb.insert(entry);
        }
    }

    /// Moves to the next (or previous) field, wrapping around.
    pub fn move_field(&mut self, forward: bool) {
        let n = Field::ALL.len();
        let i = Field::ALL.iter().position(|f| *f == self.field).unwrap_or(0);
        self.field = Field::ALL[if forward { (i + 1) % n } else { (i + n - 1) % n }];
    }

    /// Left/right: the next choice of a choice field, the cursor of a typed one.
    pub fn cycle(&mut self, forward: bool) {
        let step = |i: usize, n: usize| if forward { (i + 1) % n } else { (i + n - 1) % n };
        match self.field {
            Field::Space => {
                let i = Space::ALL.iter().position(|s| *s == self.space).unwrap_or(0);
                self.space = Space::ALL[step(i, Space::ALL.len())];
            }
            Field::Trunk => {
                let i = TRUNKS.iter().position(|t| *t == self.trunk).unwrap_or(0);
                self.trunk = TRUNKS[step(i, TRUNKS.len())];
            }
            Field::Device => self.cuda = !self.cuda,
            _ => match self.text_field() {
                Some(tb) if forward => tb.right(),
                Some(tb) => tb.left(),
                None => {}
            },
        }
    }

    fn text_field(&mut self) -> Option<&mut TextBox> {
        match self.field {
            Field::Steps => Some(&mut self.steps),
            Field::LearningRate => Some(&mut self.learning_rate),
            Field::Text => Some(&mut self.text),
            Field::Music => Some(&mut self.music),
            Field::Space | Field::Trunk | Field::Device => None,
        }
    }

    /// Text typed or pasted into the current field (ignored on choice fields; one line only).
    pub fn insert(&mut self, s: &str) {
        if let Some(tb) = self.text_field() {
            tb.insert(&s.replace(['\r', '\n'], ""));
            self.error = None; // the last Enter's complaint is about what was there before
        }
    }

    pub fn backspace(&mut self) {
        if let Some(tb) = self.text_field() {
            tb.backspace();
        }
    }

    pub fn delete(&mut self) {
        if let Some(tb) = self.text_field() {
            tb.delete();
        }
    }

    /// The run the form describes, or what is wrong with it (naming the field).
    pub fn settings(&self) -> Result<RunSettings, String> {
        let steps = match self.steps.text.trim().parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("steps: expected a whole number above 0, got {:?}", self.steps.text)),
        };
        let learning_rate = match self.learning_rate.text.trim().parse::<f64>() {
            Ok(lr) if lr.is_finite() && lr > 0.0 => lr,
            _ => {
                return Err(format!(
                    "learning rate: expected a positive number such as 1e-3, got {:?}",
                    self.learning_rate.text
                ))
            }
        };
        if !self.trunk.suits(self.space) {
            return Err(format!("audio trunk: {} is for the moods space", self.trunk));
        }
        if self.cuda && !self.cuda_available {
            return Err("device: libtorch sees no CUDA device here; choose cpu".into());
        }
        let dataset = |field: Field, tb: &TextBox| {
            let spec = tb.text.trim();
            match spec.split_once(':') {
                Some((kind, path)) if !kind.is_empty() && std::path::Path::new(path).exists() => {
                    Ok(spec.to_string())
                }
                Some((_, path)) if !path.is_empty() => {
                    Err(format!("{}: {path} does not exist", field.label()))
                }
                _ => Err(format!(
                    "{}: expected KIND:PATH (e.g. isear:/data/isear.csv), got {spec:?}",
                    field.label()
                )),
            }
        };
        for (field, tb) in [(Field::Text, &self.text), (Field::Music, &self.music)] {
            if let Some(Check::Bad(why)) = self.checks.get(tb.text.trim()) {
                return Err(format!("{}: {why}", field.label()));
            }
        }
        Ok(RunSettings {
            space: self.space,
            trunk: self.trunk,
            steps,
            learning_rate,
            device: if self.cuda { "cuda" } else { "cpu" }.into(),
            text: dataset(Field::Text, &self.text)?,
            music: dataset(Field::Music, &self.music)?,
        })
    }

    fn value(&self, field: Field) -> String {
        match field {
            Field::Space => format!("‹ {} ›", self.space),
            Field::Trunk => format!("‹ {} ›", trunk_name(self.trunk)),
            Field::Device if self.cuda && !self.cuda_available => "‹ cuda (unavailable here) ›".into(),
            Field::Device if self.cuda => "‹ cuda ›".into(),
            Field::Device if !self.cuda_available => "‹ cpu › (cuda unavailable)".into(),
            Field::Device => "‹ cpu ›".into(),
            Field::Steps => self.steps.text.clone(),
            Field::LearningRate => self.learning_rate.text.clone(),
            Field::Text => self.text.text.clone(),
            Field::Music => self.music.text.clone(),
        }
    }

    /// The form as a popup over `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let height = (Field::ALL.len() as u16 + 8).min(area.height);
        let width = area.width.saturating_sub(4).clamp(20, 100).min(area.width);
        let [v] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
        let [popup] = Layout::horizontal([Constraint::Length(width)]).flex(Flex::Center).areas(v);
        frame.render_widget(Clear, popup);
        let block = Block::bordered()
            .title(" New training run (enter starts, esc cancels) ")
            .title_style(theme.title());
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        let label_w = 15u16;
        let rows = Layout::vertical(
            Field::ALL
                .iter()
                .map(|_| Constraint::Length(1))
                .chain([Constraint::Length(2), Constraint::Min(0)]),
        )
        .split(inner);
        for (i, field) in Field::ALL.iter().enumerate() {
            let row = rows[i];
            let focused = *field == self.field;
            let label_style = if focused { theme.selection() } else { theme.muted() };
            let label =
                Span::styled(format!("{:>w$} ", field.label(), w = usize::from(label_w) - 1), label_style);
            let [l, value] = Layout::horizontal([Constraint::Length(label_w), Constraint::Min(1)]).areas(row);
            frame.render_widget(Line::from(label), l);
            let tb = match field {
                Field::Steps => Some(&self.steps),
                Field::LearningRate => Some(&self.learning_rate),
                Field::Text => Some(&self.text),
                Field::Music => Some(&self.music),
                _ => None,
            };
            match tb {
                Some(tb) => tb.draw(frame, value, Block::default(), focused),
                None => {
                    let style = if focused { theme.accent() } else { theme.base() };
                    frame.render_widget(Line::styled(self.value(*field), style), value);
                }
            }
        }
        let note = match &self.error {
            Some(e) => Line::styled(e.as_str(), theme.error()),
            None => Line::styled(
                "↑↓ field · ←→ choose · type to edit · pgup/pgdn recent data · runs go to DATA/runs/<time>"
                    .to_string(),
                theme.muted(),
            ),
        };
        let checks: Vec<Line> = [(Field::Text, &self.text), (Field::Music, &self.music)]
            .into_iter()
            .map(|(field, tb)| {
                let (mark, text, style) = match self.checks.get(tb.text.trim()) {
                    Some(Check::Good(what)) => ("✓", what.clone(), theme.ok()),
                    Some(Check::Bad(why)) => ("✗", why.clone(), theme.error()),
                    Some(Check::Pending) => ("…", "reading".to_string(), theme.muted()),
                    None => (" ", String::new(), theme.muted()),
                };
                Line::styled(
                    format!("{:>w$} {mark} {text}", field.label(), w = usize::from(label_w) - 1),
                    style,
                )
            })
            .collect();
        frame.render_widget(Paragraph::new(checks), rows[Field::ALL.len()]);
        let last = rows[Field::ALL.len() + 1];
        frame.render_widget(Paragraph::new(note).wrap(Wrap { trim: true }), last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> (tempfile::TempDir, RunForm) {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("isear.csv");
        std::fs::write(&csv, "x").unwrap();
        let datasets = (format!("isear:{}", csv.display()), format!("4q:{}", dir.path().display()));
        (dir, RunForm::new(Ok(datasets), false, Recent::default()))
    }

    #[test]
    fn defaults_are_the_minute_long_classify_run() {
        let (_dir, f) = form();
        let s = f.settings().unwrap();
        assert_eq!(
            (s.space, s.trunk, s.steps, s.learning_rate),
            (Space::Classify, TrunkKind::MelStats, 300, 1e-3)
        );
        assert_eq!(s.device, "cpu");
        assert!(s.text.starts_with("isear:") && s.music.starts_with("4q:"));
    }

    #[test]
    fn choices_cycle_and_typed_fields_edit() {
        let (_dir, mut f) = form();
        f.cycle(true);
        assert_eq!(f.space, Space::Moods, "right of classify is moods");
        f.cycle(true);
        assert_eq!(f.space, Space::ThreeBranch, "moods is last: right wraps to the first space");
        f.cycle(false);
        f.cycle(false);
        f.cycle(false);
        assert_eq!(f.space, Space::W2v);
        f.insert("typed");
        assert_eq!(f.space, Space::W2v, "typing on a choice field does nothing");
        f.move_field(true);
        f.cycle(true);
        assert_eq!(f.trunk, TrunkKind::Cnn);
        f.move_field(true);
        f.backspace();
        f.backspace();
        f.insert("5\n0");
        assert_eq!(f.settings().unwrap().steps, 350);
        f.move_field(false);
        f.move_field(false);
        f.move_field(false);
        assert_eq!(f.field, Field::Music, "up from the first field wraps to the last");
    }

    #[test]
    fn bad_values_are_refused_naming_the_field() {
        let (_dir, mut f) = form();
        f.field = Field::LearningRate;
        f.insert("x");
        assert!(f.settings().unwrap_err().starts_with("learning rate:"));
        f.backspace();
        f.field = Field::Device;
        f.cycle(true);
        assert!(f.settings().unwrap_err().contains("no CUDA device"));
        f.cycle(true);
        f.field = Field::Music;
        f.insert("-missing");
        assert!(f.settings().unwrap_err().contains("does not exist"));
        let empty = RunForm::new(Err("no shared data".into()), false, Recent::default());
        assert_eq!(empty.error.as_deref(), Some("no shared data"));
        assert!(empty.settings().unwrap_err().starts_with("text data: expected KIND:PATH"));
        f.field = Field::Steps;
        f.steps.clear();
        f.insert("0");
        assert!(f.settings().unwrap_err().starts_with("steps:"));
    }
}
