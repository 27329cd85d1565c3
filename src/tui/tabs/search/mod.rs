//! Search tab: a multi-line story box with history, the ranked clips for it with their moods, or
//! in soundtrack mode one clip per passage on a timeline. Work happens in the engine worker.

mod view;

use std::path::PathBuf;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use super::StatusMsg;
use crate::index::{clock, Soundtrack};
use crate::model::Space;
use crate::tui::engine::{EngineEvent, EngineRequest, Hits, Plan};
use crate::tui::keymap::Action;
use crate::tui::status::Level;
use crate::tui::textbox::TextBox;
use crate::tui::theme::Theme;

/// What the tab can search with.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexState {
    /// Nothing to search; says which command creates what is missing.
    Unavailable(String),
    Preparing(String),
    /// The built-in library is being indexed: `done` of `total` new or changed clips.
    Indexing {
        done: usize,
        total: usize,
        reused: usize,
        damaged: usize,
    },
    Ready {
        index_dir: PathBuf,
        clips: usize,
        space: Space,
        skipped: usize,
        damaged: usize,
    },
}

#[derive(Debug)]
pub struct SearchTab {
    pub input: TextBox,
    /// Whole-story mode: one clip per passage instead of one ranking.
    pub soundtrack: bool,
    pub index: IndexState,
    pub hits: Option<Hits>,
    pub story: Option<Soundtrack>,
    /// A request sent and not answered yet.
    pub pending: Option<String>,
    pub table: TableState,
}

impl SearchTab {
    pub fn new(plan: &Plan) -> Self {
        let index = match plan {
            Plan::Unavailable(why) => IndexState::Unavailable(why.clone()),
            Plan::Index { index_dir, .. } | Plan::Open { index_dir } => {
                IndexState::Preparing(format!("starting the search engine for {} …", index_dir.display()))
            }
        };
        Self {
            input: TextBox::default(),
            soundtrack: false,
            index,
            hits: None,
            story: None,
            pending: None,
            table: TableState::default(),
        }
    }

    pub fn tick(&mut self) -> bool {
        false
    }

    /// The request for the typed story, or why there is none.
    pub fn submit(&mut self) -> Result<EngineRequest, (Level, String)> {
        let text = self.input.commit();
        if text.is_empty() {
            return Err((Level::Warning, "type a sentence or a story first".into()));
        }
        if let IndexState::Unavailable(why) = &self.index {
            return Err((Level::Warning, why.clone()));
        }
        self.pending = Some(text.clone());
        Ok(if self.soundtrack { EngineRequest::Soundtrack(text) } else { EngineRequest::Search(text) })
    }

    /// Switches between one ranking and one clip per passage. Results on screen are for the other
    /// mode then, so the story they answer is run again in the new one.
    pub fn toggle_mode(&mut self) -> (Option<EngineRequest>, String) {
        self.soundtrack = !self.soundtrack;
        let mode = if self.soundtrack { "soundtrack (one clip per passage)" } else { "query" };
        let shown = self.hits.is_some() || self.story.is_some();
        if shown && !self.input.is_empty() {
            if let Ok(request) = self.submit() {
                return (Some(request), format!("search mode: {mode} — running the story again"));
            }
        }
        (None, format!("search mode: {mode} — enter in the box runs it"))
    }

    /// Applies an engine report (the map's projection is the Map tab's).
    pub fn on_engine(&mut self, ev: EngineEvent) -> StatusMsg {
        match ev {
            EngineEvent::Preparing(what) => self.index = IndexState::Preparing(what),
            EngineEvent::Indexing { done, total, reused, damaged } => {
                self.index = IndexState::Indexing { done, total, reused, damaged }
            }
            EngineEvent::Ready { index_dir, clips, space, skipped, damaged } => {
                self.index = IndexState::Ready { index_dir, clips, space, skipped, damaged };
                return Some((Level::Info, format!("index ready: {clips} clips")));
            }
            EngineEvent::Unavailable(why) => {
                self.pending = None;
                self.index = IndexState::Unavailable(why.clone());
                return Some((Level::Error, why));
            }
            EngineEvent::Results(hits) => {
                self.pending = None;
                self.table.select((!hits.results.results.is_empty()).then_some(0));
                let notice = hits.results.notices.first().cloned();
                self.hits = Some(*hits);
                self.story = None;
                return notice.map(|n| (Level::Warning, n));
            }
            EngineEvent::Soundtrack(story) => {
                self.pending = None;
                self.table.select((!story.passages.is_empty()).then_some(0));
                let notice = story.notices.first().cloned();
                self.story = Some(story);
                self.hits = None;
                return notice.map(|n| (Level::Warning, n));
            }
            EngineEvent::Failed(why) => {
                self.pending = None;
                return Some((Level::Error, why));
            }
            EngineEvent::Projected(_) | EngineEvent::SoundsLike(_) => {}
        }
        None
    }

    /// The clip under the selection (a result, or a passage's clip).
    pub fn selected_clip(&self) -> Option<PathBuf> {
        let i = self.table.selected()?;
        match (&self.hits, &self.story) {
            (Some(h), _) => h.results.results.get(i).map(|r| r.path.clone()),
            (_, Some(s)) => s.passages.get(i).map(|p| p.clip.clone()),
            _ => None,
        }
    }

    /// The clip under the selection with where its preview starts (s): the chunk that fits the
    /// query (or the passage) best.
    pub fn selected_preview(&self) -> Option<(PathBuf, f64)> {
        let i = self.table.selected()?;
        match (&self.hits, &self.story) {
            (Some(h), _) => h.results.results.get(i).map(|r| (r.path.clone(), r.preview_start_s)),
            (_, Some(s)) => s.passages.get(i).map(|p| (p.clip.clone(), p.preview_start_s)),
            _ => None,
        }
    }

    fn rows(&self) -> usize {
        match (&self.hits, &self.story) {
            (Some(h), _) => h.results.results.len(),
            (_, Some(s)) => s.passages.len(),
            _ => 0,
        }
    }

    pub fn apply(&mut self, action: Action) -> StatusMsg {
        let step = |tab: &mut Self, by: isize| {
            let n = tab.rows();
            if n > 0 {
                let at = tab.table.selected().unwrap_or(0) as isize + by;
                tab.table.select(Some(at.clamp(0, n as isize - 1) as usize));
            }
        };
        match action {
            Action::Up => step(self, -1),
            Action::Down => step(self, 1),
            Action::PageUp => step(self, -10),
            Action::PageDown => step(self, 10),
            Action::Top => step(self, isize::MIN / 2),
            Action::Bottom => step(self, isize::MAX / 2),
            _ => {}
        }
        None
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let [input_area, info_area, results_area] =
            Layout::vertical([Constraint::Length(6), Constraint::Length(2), Constraint::Min(3)]).areas(area);
        let mode = if self.soundtrack { "story → soundtrack" } else { "story" };
        let border = if focused { theme.accent() } else { theme.muted() };
        let block =
            Block::bordered().title(format!(" {mode} ")).title_style(theme.title()).border_style(border);
        let inner = block.inner(input_area);
        self.input.draw(frame, input_area, block, focused);
        if !focused && self.input.is_empty() {
            // Letters are commands until the box has the keys (s, y, q …), so say how to type.
            let hint = "press / to type a story (or paste one), then enter";
            frame.render_widget(Paragraph::new(Line::styled(hint, theme.muted())), inner);
        }
        frame.render_widget(Paragraph::new(self.info_lines(theme)), info_area);
        let block = Block::bordered().title(" Results ").title_style(theme.title());
        if let Some(story) = &self.story {
            draw_soundtrack(frame, results_area, block, story, &mut self.table, theme);
        } else if let Some(hits) = &self.hits {
            // What sets the selected clip apart from the rest of the library, under the table.
            let selected = self.table.selected().and_then(|i| hits.results.results.get(i));
            let block = match selected.and_then(|h| Some((h, crate::index::stands_out_text(&h.stands_out)?)))
            {
                Some((h, text)) => block.title_bottom(Line::styled(
                    format!(" {} stands out here: {text} ", h.title),
                    theme.muted(),
                )),
                None => block,
            };
            draw_hits(frame, results_area, block, hits, &mut self.table, theme);
        } else {
            let text = match &self.index {
                IndexState::Unavailable(why) => why.clone(),
                IndexState::Ready { .. } if self.pending.is_some() => "searching …".into(),
                IndexState::Ready { .. } => {
                    "Press / and type a story above, then enter: the clips whose mood fits it best appear \
                     here (s switches to one clip per passage)."
                        .into()
                }
                _ => "The library is being prepared; a story typed now is searched when it is ready.".into(),
            };
            frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }).block(block), results_area);
        }
    }

    /// The index state, and the query's closest moods.
    fn info_lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let state = match &self.index {
            IndexState::Unavailable(_) => Line::styled(" no index", theme.warning()),
            IndexState::Preparing(what) => Line::styled(format!(" {what}"), theme.muted()),
            IndexState::Indexing { done, total, reused, damaged } => Line::styled(
                format!(
                    " indexing the built-in library: {done}/{total} (reused {reused}){}",
                    file_faults(0, *damaged)
                ),
                theme.accent(),
            ),
            IndexState::Ready { index_dir, clips, space, skipped, damaged } => Line::styled(
                format!(
                    " {clips} clips, {space} space — {}{}",
                    index_dir.display(),
                    file_faults(*skipped, *damaged)
                ),
                theme.muted(),
            ),
        };
        let mut lines = vec![state];
        if let Some(p) = &self.pending {
            let head: String = p.chars().take(60).collect();
            lines.push(Line::styled(format!(" running: {head}…"), theme.accent()));
        } else if let Some(h) = &self.hits {
            let mut spans = vec![Span::styled(" the story reads as ", theme.muted())];
            spans.extend(mood_spans(&h.results.query_moods, theme));
            if let Some(q) = &h.results.query_quadrant {
                spans.push(Span::styled(format!("· leaning {}", q.text()), theme.muted()));
            }
            lines.push(Line::from(spans));
        }
        lines
    }
}

fn mood_spans(moods: &[(String, f32)], theme: &Theme) -> Vec<Span<'static>> {
    moods
        .iter()
        .flat_map(|(m, s)| {
            [Span::styled(m.clone(), Style::default().fg(theme.mood(m))), Span::raw(format!(" {s:.2}  "))]
        })
        .collect()
}

fn draw_hits(
    frame: &mut Frame,
    area: Rect,
    block: Block,
    hits: &Hits,
    state: &mut TableState,
    theme: &Theme,
) {
    // A musicnn index also says what each clip sounds like, in a column of its own.
    let heard = hits.results.results.iter().any(|h| !h.sounds_like.is_empty());
    let rows = hits.results.results.iter().map(|h| {
        let mut cells = vec![
            Cell::from(format!("{:>2}", h.rank)),
            Cell::from(format!("{:>6.3}", h.score)),
            Cell::from(format!("{:>5}", clock(h.preview_start_s))),
            Cell::from(h.title.clone()),
            Cell::from(Line::from(mood_spans(&h.moods, theme))),
        ];
        if heard {
            let text = crate::index::sounds_like_text(&h.sounds_like).unwrap_or_default();
            cells.push(Cell::from(Span::styled(text, theme.muted())));
        }
        Row::new(cells)
    });
    let mut names = vec!["  #", " score", " from", "clip", "closest moods"];
    let mut widths = vec![
        Constraint::Length(3),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Percentage(42),
        Constraint::Min(20),
    ];
    if heard {
        names.push("sounds like");
        widths[3] = Constraint::Percentage(30);
        widths.push(Constraint::Percentage(25));
    }
    let header = Row::new(names).style(theme.title());
    let table = Table::new(rows, widths).header(header).block(block).row_highlight_style(theme.selection());
    frame.render_stateful_widget(table, area, state);
}

fn draw_soundtrack(
    frame: &mut Frame,
    area: Rect,
    block: Block,
    story: &Soundtrack,
    state: &mut TableState,
    theme: &Theme,
) {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [timeline, list] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(inner);
    frame.render_widget(Paragraph::new(timeline_lines(story, timeline.width, theme)), timeline);
    let rows = story.passages.iter().enumerate().map(|(i, p)| {
        let text: String = p.text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(48).collect();
        Row::new(vec![
            Cell::from(format!("{:>2}", i + 1)),
            Cell::from(text),
            Cell::from(p.title.clone()),
            Cell::from(format!("{:>6.3}", p.score)),
            Cell::from(Line::from(mood_spans(&p.moods, theme))),
        ])
    });
    let header = Row::new([" #", "passage", "clip", " score", "passage moods"]).style(theme.title());
    let table = Table::new(
        rows,
        [
            Constraint::Length(3),
            Constraint::Percentage(35),
            Constraint::Percentage(25),
            Constraint::Length(7),
            Constraint::Min(10),
        ],
    )
    .header(header)
    .row_highlight_style(theme.selection());
    frame.render_stateful_widget(table, list, state);
}

/// The story as a bar: one segment per passage, as long as its text, coloured by its top mood.
fn timeline_lines(story: &Soundtrack, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let total: usize = story.passages.iter().map(|p| p.text.chars().count().max(1)).sum();
    let width = usize::from(width).max(1);
    let (mut bar, mut numbers) = (Vec::new(), Vec::new());
    let mut used = 0;
    for (i, p) in story.passages.iter().enumerate() {
        let end = if i + 1 == story.passages.len() {
            width
        } else {
            (used + p.text.chars().count().max(1) * width / total.max(1)).clamp(used + 1, width)
        };
        let cells = end.saturating_sub(used);
        if cells == 0 {
            continue;
        }
        let colour = p.moods.first().map_or(theme.accent().fg.unwrap_or_default(), |(m, _)| theme.mood(m));
        bar.push(Span::styled("█".repeat(cells), Style::default().fg(colour)));
        let label = format!("{:<w$}", i + 1, w = cells);
        numbers.push(Span::styled(
            label.chars().take(cells).collect::<String>(),
            theme.muted().add_modifier(Modifier::BOLD),
        ));
        used = end;
    }
    vec![Line::from(bar), Line::from(numbers)]
}

/// " (2 unreadable files skipped, 1 damaged file indexed in part; see the log)", or nothing.
fn file_faults(skipped: usize, damaged: usize) -> String {
    let plural = |n: usize| if n == 1 { "file" } else { "files" };
    let mut parts = Vec::new();
    if skipped > 0 {
        parts.push(format!("{skipped} unreadable {} skipped", plural(skipped)));
    }
    if damaged > 0 {
        parts.push(format!("{damaged} damaged {} indexed in part", plural(damaged)));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!(" ({}; see the log)", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{SearchHit, SearchResults, SoundtrackPassage};

    fn hit(rank: usize, path: &str, preview_start_s: f64) -> SearchHit {
        SearchHit {
            rank,
            row: rank,
            score: 0.5,
            path: path.into(),
            title: path.into(),
            moods: Vec::new(),
            preview_start_s,
            preview_score: Some(0.5),
            sounds_like: Vec::new(),
            stands_out: Vec::new(),
        }
    }

    #[test]
    fn the_selected_clip_says_what_stands_out_in_the_library() {
        let mut tab = SearchTab::new(&Plan::Unavailable("no index".into()));
        let mut frantic = hit(1, "Frantic", 0.0);
        frantic.stands_out = vec![("angry".into(), 4.5), ("tense".into(), 2.9)];
        let results = SearchResults {
            query: "q".into(),
            space: Space::Moods,
            query_moods: Vec::new(),
            query_quadrant: None,
            results: vec![frantic, hit(2, "Knolls", 0.0)],
            notices: Vec::new(),
        };
        let hits = Hits { results, query_point: None, rows: vec![0, 1], query_vector: Vec::new() };
        tab.on_engine(EngineEvent::Results(Box::new(hits)));
        let theme = crate::tui::theme::Theme::shipped("mono").unwrap();
        let screen = |tab: &mut SearchTab| {
            let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 20)).unwrap();
            term.draw(|f| tab.render(f, f.area(), &theme, false)).unwrap();
            let buffer = term.backend().buffer().clone();
            buffer.content().iter().map(|c| c.symbol()).collect::<String>()
        };
        assert!(screen(&mut tab).contains("Frantic stands out here: angry ×4.5, tense ×2.9"));
        // A clip with nothing above the library's average says nothing.
        tab.apply(Action::Down);
        assert!(!screen(&mut tab).contains("stands out"));
    }

    #[test]
    fn the_selected_result_plays_from_its_best_chunk() {
        let mut tab = SearchTab::new(&Plan::Unavailable("no index".into()));
        assert_eq!(tab.selected_preview(), None);
        let results = SearchResults {
            query: "q".into(),
            space: Space::ThreeBranch,
            query_moods: Vec::new(),
            query_quadrant: None,
            results: vec![hit(1, "a.ogg", 12.5), hit(2, "b.ogg", 0.0)],
            notices: Vec::new(),
        };
        let hits = Hits { results, query_point: None, rows: vec![0, 1], query_vector: Vec::new() };
        tab.on_engine(EngineEvent::Results(Box::new(hits)));
        assert_eq!(tab.selected_preview(), Some(("a.ogg".into(), 12.5)));
        tab.apply(Action::Down);
        assert_eq!(tab.selected_preview(), Some(("b.ogg".into(), 0.0)));

        let passage = SoundtrackPassage {
            start: 0,
            text: "t".into(),
            moods: Vec::new(),
            quadrant: None,
            clip: "c.ogg".into(),
            title: "c".into(),
            score: 0.1,
            duration_s: 30.0,
            preview_start_s: 7.25,
            sounds_like: Vec::new(),
            stands_out: Vec::new(),
        };
        tab.on_engine(EngineEvent::Soundtrack(Soundtrack { passages: vec![passage], notices: Vec::new() }));
        assert_eq!(tab.selected_preview(), Some(("c.ogg".into(), 7.25)));
    }
}
