//! Dataset tab: the configured libraries on the left; on the right their items as a
//! filterable table (title, duration probed in the background, mood labels) and a summary.

mod view;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, List, ListItem, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use crate::tui::event::WorkerEvent;
use crate::tui::textbox::TextBox;
use crate::tui::theme::Theme;

/// A clip's duration as far as the background probe got.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    Pending,
    Seconds(f64),
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Item {
    pub title: String,
    pub path: Option<PathBuf>,
    pub duration: Probe,
    pub labels: Vec<String>,
    /// The whole text, for text datasets.
    pub text: Option<String>,
}

impl Item {
    pub fn clip(root: &Path, path: PathBuf) -> Self {
        let title = path.strip_prefix(root).unwrap_or(&path).display().to_string();
        Self { title, path: Some(path), duration: Probe::Pending, labels: Vec::new(), text: None }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SourceState {
    Listing,
    Probing,
    Ready,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    /// The folder or dataset path.
    pub path: PathBuf,
    pub state: SourceState,
    pub items: Vec<Item>,
}

impl Source {
    pub fn library(path: PathBuf) -> Self {
        let name =
            path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into());
        Self { name, path, state: SourceState::Listing, items: Vec::new() }
    }
}

#[derive(Debug, Default)]
pub struct DatasetTab {
    pub sources: Vec<Source>,
    pub source: usize,
    pub table: TableState,
    pub filter: TextBox,
    /// Indices into the current source's items that pass the filter.
    pub visible: Vec<usize>,
    /// What the index's tagger hears in each clip, by path (musicnn indexes).
    pub sounds_like: Option<std::sync::Arc<crate::index::SoundsLikeMap>>,
}

impl DatasetTab {
    pub fn new(sources: Vec<Source>) -> Self {
        let mut tab = Self { sources, ..Self::default() };
        tab.refilter();
        tab
    }

    pub fn current(&self) -> Option<&Source> {
        self.sources.get(self.source)
    }

    pub fn selected_item(&self) -> Option<&Item> {
        let i = *self.visible.get(self.table.selected()?)?;
        self.current()?.items.get(i)
    }

    /// Recomputes the visible rows after the items or the filter changed, keeping the selection
    /// on the same item when it is still visible.
    pub fn refilter(&mut self) {
        let keep = self.table.selected().and_then(|r| self.visible.get(r).copied());
        let needle = self.filter.text.trim().to_lowercase();
        self.visible = match self.sources.get(self.source) {
            Some(src) => src
                .items
                .iter()
                .enumerate()
                .filter(|(_, it)| {
                    needle.is_empty()
                        || it.title.to_lowercase().contains(&needle)
                        || it.labels.iter().any(|l| l.to_lowercase().contains(&needle))
                })
                .map(|(i, _)| i)
                .collect(),
            None => Vec::new(),
        };
        let row = keep.and_then(|k| self.visible.iter().position(|&i| i == k));
        let row = row.or(if self.visible.is_empty() { None } else { Some(0) });
        self.table.select(row);
    }

    /// Applies a library-scan report from the background worker.
    pub fn on_scan(&mut self, ev: &WorkerEvent) {
        match *ev {
            WorkerEvent::LibraryListed { source, ref result } => {
                if let Some(src) = self.sources.get_mut(source) {
                    match result {
                        Ok(paths) => {
                            let root = src.path.clone();
                            src.items = paths.iter().map(|p| Item::clip(&root, p.clone())).collect();
                            src.state = SourceState::Probing;
                        }
                        Err(e) => src.state = SourceState::Failed(e.clone()),
                    }
                    if source == self.source {
                        self.refilter();
                    }
                }
            }
            WorkerEvent::ClipProbed { source, item, ref result } => {
                if let Some(it) = self.sources.get_mut(source).and_then(|s| s.items.get_mut(item)) {
                    it.duration = match result {
                        Ok(s) => Probe::Seconds(*s),
                        Err(e) => Probe::Failed(e.clone()),
                    };
                }
            }
            WorkerEvent::ProbeDone { source } => {
                if let Some(src) = self.sources.get_mut(source) {
                    if src.state == SourceState::Probing {
                        src.state = SourceState::Ready;
                    }
                }
            }
            _ => {}
        }
    }

    pub fn switch_source(&mut self, forward: bool) {
        let n = self.sources.len();
        if n > 1 {
            self.source = if forward { (self.source + 1) % n } else { (self.source + n - 1) % n };
            self.table = TableState::default();
            self.refilter();
        }
    }

    pub fn move_selection(&mut self, delta: isize) {
        if self.visible.is_empty() {
            return;
        }
        let last = self.visible.len() as isize - 1;
        let row = self.table.selected().unwrap_or(0) as isize;
        self.table.select(Some((row + delta).clamp(0, last) as usize));
    }

    /// Paths of the visible clips with their durations, for the M3U export.
    pub fn visible_clips(&self) -> Vec<(&Path, Option<f64>, &str)> {
        let Some(src) = self.current() else { return Vec::new() };
        self.visible
            .iter()
            .filter_map(|&i| src.items.get(i))
            .filter_map(|it| {
                let secs = match it.duration {
                    Probe::Seconds(s) => Some(s),
                    _ => None,
                };
                it.path.as_deref().map(|p| (p, secs, it.title.as_str()))
            })
            .collect()
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, filter_focused: bool) {
        let [left, right] = Layout::horizontal([Constraint::Length(26), Constraint::Min(20)]).areas(area);
        self.draw_sources(frame, left, theme);
        let show_filter = filter_focused || !self.filter.text.is_empty();
        let [filter_area, table_area, summary_area] = Layout::vertical([
            Constraint::Length(if show_filter { 3 } else { 0 }),
            Constraint::Min(3),
            Constraint::Length(6),
        ])
        .areas(right);
        if show_filter {
            let block = Block::bordered().title(" filter ").border_style(theme.accent());
            self.filter.draw(frame, filter_area, block, filter_focused);
        }
        self.draw_table(frame, table_area, theme);
        self.draw_summary(frame, summary_area, theme);
    }

    fn draw_sources(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let items: Vec<ListItem> = self
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let state = match &s.state {
                    SourceState::Listing => "listing…".to_string(),
                    SourceState::Probing => format!("{} items, probing…", s.items.len()),
                    SourceState::Ready => format!("{} items", s.items.len()),
                    SourceState::Failed(_) => "unreadable".to_string(),
                };
                let style = if i == self.source { theme.selection() } else { theme.base() };
                ListItem::new(vec![
                    Line::styled(format!("♫ {}", s.name), style),
                    Line::styled(format!("  {state}"), theme.muted()),
                ])
            })
            .collect();
        let block = Block::bordered().title(" Libraries ").title_style(theme.title());
        if items.is_empty() {
            let hint = "No library configured. Add folders to `library` in the config file \
                        (`storyscore config --init`).";
            frame.render_widget(Paragraph::new(hint).wrap(Wrap { trim: true }).block(block), area);
        } else {
            frame.render_widget(List::new(items).block(block), area);
        }
    }

    fn draw_table(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let title = match self.current() {
            Some(s) => format!(" {} ({} of {}) ", s.path.display(), self.visible.len(), s.items.len()),
            None => " Items ".into(),
        };
        let block = Block::bordered().title(title).title_style(theme.title());
        let Some(src) = self.sources.get(self.source) else {
            frame.render_widget(block, area);
            return;
        };
        if let SourceState::Failed(why) = &src.state {
            let p = Paragraph::new(why.as_str()).style(theme.error()).wrap(Wrap { trim: true }).block(block);
            frame.render_widget(p, area);
            return;
        }
        // Only the library folders the index covers have tags; dataset sources show none.
        let heard = self
            .sounds_like
            .as_deref()
            .filter(|h| src.items.iter().any(|it| it.path.as_ref().is_some_and(|p| h.contains_key(p))));
        let rows = self.visible.iter().filter_map(|&i| src.items.get(i)).map(|it| {
            let (dur, style) = match &it.duration {
                Probe::Pending => ("…".to_string(), theme.muted()),
                Probe::Seconds(s) => (format_duration(*s), theme.base()),
                Probe::Failed(_) => ("error".to_string(), theme.error()),
            };
            let labels: Vec<Span> = it
                .labels
                .iter()
                .map(|l| Span::styled(format!("{l} "), Style::default().fg(theme.mood(l))))
                .collect();
            let mut cells = vec![
                Cell::from(it.title.clone()),
                Cell::from(dur).style(style),
                Cell::from(Line::from(labels)),
            ];
            if let Some(heard) = heard {
                let tags = it.path.as_ref().and_then(|p| heard.get(p)).map(Vec::as_slice).unwrap_or_default();
                let text = crate::index::sounds_like_text(tags).unwrap_or_default();
                cells.push(Cell::from(Span::styled(text, theme.muted())));
            }
            Row::new(cells)
        });
        let mut widths = vec![Constraint::Min(20), Constraint::Length(8), Constraint::Length(22)];
        let mut names = vec!["title", "duration", "labels"];
        if heard.is_some() {
            widths.push(Constraint::Percentage(35));
            names.push("sounds like");
        }
        let header = Row::new(names).style(theme.muted());
        let table = Table::new(rows, widths)
            .header(header)
            .block(block)
            .row_highlight_style(theme.selection())
            .highlight_symbol("▶ ");
        frame.render_stateful_widget(table, area, &mut self.table);
    }

    fn draw_summary(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::bordered().title(" Summary ").title_style(theme.title());
        let Some(src) = self.current() else {
            frame.render_widget(block, area);
            return;
        };
        let lines = summary_lines(src, theme);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }).block(block), area);
    }
}

fn summary_lines<'a>(src: &'a Source, theme: &Theme) -> Vec<Line<'a>> {
    let clips = src.items.iter().filter(|i| i.path.is_some()).count();
    let texts: Vec<usize> =
        src.items.iter().filter_map(|i| i.text.as_ref().map(|t| t.chars().count())).collect();
    let probed: Vec<f64> = src
        .items
        .iter()
        .filter_map(|i| match i.duration {
            Probe::Seconds(s) => Some(s),
            _ => None,
        })
        .collect();
    let failed = src.items.iter().filter(|i| matches!(i.duration, Probe::Failed(_))).count();
    let mut lines = Vec::new();
    if clips > 0 {
        let mut l = format!("{clips} clips · total {}", format_duration(probed.iter().sum()));
        if probed.len() + failed < clips {
            l.push_str(&format!(" (probed {}/{clips})", probed.len() + failed));
        }
        if failed > 0 {
            l.push_str(&format!(" · {failed} unreadable"));
        }
        if let (Some(lo), Some(hi)) =
            (probed.iter().copied().reduce(f64::min), probed.iter().copied().reduce(f64::max))
        {
            l.push_str(&format!(" · shortest {} · longest {}", format_duration(lo), format_duration(hi)));
        }
        lines.push(Line::from(l));
    }
    if !texts.is_empty() {
        let mean = texts.iter().sum::<usize>() as f64 / texts.len() as f64;
        let max = texts.iter().max().copied().unwrap_or(0);
        lines.push(Line::from(format!("{} texts · mean {mean:.0} chars · longest {max} chars", texts.len())));
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for l in src.items.iter().flat_map(|i| i.labels.iter()) {
        *counts.entry(l.as_str()).or_default() += 1;
    }
    if counts.is_empty() {
        lines.push(Line::styled("no mood labels (a plain music folder)", theme.muted()));
    } else {
        let spans: Vec<Span> = counts
            .iter()
            .map(|(l, n)| Span::styled(format!("{l} {n}  "), Style::default().fg(theme.mood(l))))
            .collect();
        lines.push(Line::from(spans));
    }
    lines
}

/// `m:ss` below an hour, `h:mm:ss` above.
pub fn format_duration(secs: f64) -> String {
    let total = secs.max(0.0).round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}
