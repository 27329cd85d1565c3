//! Drawing the whole frame: tab bar, the current tab, status line, command bar, popups.

use ratatui::layout::{Alignment, Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::tui::app::{App, Tab};
use crate::tui::keymap::Context;
use crate::tui::status::Level;
use crate::tui::tabs::dataset::format_duration;

/// Below this the layout cannot show a tab usefully.
pub const MIN_WIDTH: u16 = 50;
pub const MIN_HEIGHT: u16 = 12;

pub fn draw(frame: &mut Frame, app: &mut App) {
    let area = frame.area();
    frame.render_widget(Block::default().style(app.theme.base()), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg =
            format!("terminal too small\n{}×{} (need {MIN_WIDTH}×{MIN_HEIGHT})", area.width, area.height);
        frame.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        app.tab_hits.clear();
        return;
    }
    let [tabs_area, body, status_area, bar_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tabs(frame, tabs_area, app);
    let theme = app.theme.clone();
    let focus = app.focus;
    app.current_tab().draw(frame, body, &theme, focus);
    draw_status(frame, status_area, app);
    draw_bar(frame, bar_area, app);
    if app.help {
        draw_help(frame, area, app);
    }
    if let Some(p) = &app.popup {
        let popup = centered(area, 80, 70);
        frame.render_widget(Clear, popup);
        let block = Block::bordered().title(format!(" {} ", p.title)).title_style(theme.title());
        let text =
            Paragraph::new(p.text.as_str()).wrap(Wrap { trim: false }).scroll((p.scroll, 0)).block(block);
        frame.render_widget(text, popup);
    }
}

fn draw_tabs(frame: &mut Frame, area: Rect, app: &mut App) {
    let theme = &app.theme;
    let mut spans = vec![Span::styled(" storyscore ", theme.title())];
    let mut x = area.x + 12;
    app.tab_hits.clear();
    let tabs: &[Tab] = if app.monitor_only { &[Tab::Train] } else { &Tab::ALL };
    for (i, tab) in tabs.iter().enumerate() {
        let label = if app.monitor_only {
            format!(" {} ", tab.title())
        } else {
            format!(" {} {} ", i + 1, tab.title())
        };
        let width = label.chars().count() as u16;
        let style = if *tab == app.tab { theme.selection() } else { theme.base() };
        app.tab_hits.push((Rect::new(x, area.y, width, 1), *tab));
        spans.push(Span::styled(label, style));
        spans.push(Span::raw("│"));
        x += width + 1;
    }
    frame.render_widget(Line::from(spans), area);
}

fn draw_status(frame: &mut Frame, area: Rect, app: &App) {
    if let Some(now) = &app.now_playing {
        let s = now.status;
        let name = now.path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let icon = if s.playing { "▶" } else { "■" };
        let text = format!(
            "{icon} {name} {}/{} vol {:.0}% ",
            format_duration(s.position_s),
            format_duration(s.duration_s),
            s.volume * 100.0
        );
        frame.render_widget(Paragraph::new(text).style(app.theme.accent()).alignment(Alignment::Right), area);
    }
    let Some((level, text)) = &app.status else { return };
    let style = match level {
        Level::Info => app.theme.ok(),
        Level::Warning => app.theme.warning(),
        Level::Error => app.theme.error(),
    };
    frame.render_widget(Paragraph::new(Line::styled(text.as_str(), style)), area);
}

/// The command bar: the same table the help popup shows, filtered to the current context.
fn draw_bar(frame: &mut Frame, area: Rect, app: &App) {
    let key_style = app.theme.accent().add_modifier(Modifier::BOLD);
    let mut spans = Vec::new();
    for (key, what) in app.keymap.bar(app.context()) {
        spans.push(Span::styled(key, key_style));
        spans.push(Span::styled(format!(" {what}  "), app.theme.muted()));
    }
    frame.render_widget(Line::from(spans), area);
}

fn draw_help(frame: &mut Frame, area: Rect, app: &App) {
    let popup = centered(area, 70, 85);
    frame.render_widget(Clear, popup);
    let theme = &app.theme;
    let mut contexts = vec![Context::Global, app.tab_context(), Context::Input];
    if app.tab == Tab::Train && !app.monitor_only {
        contexts.push(Context::RunForm);
    }
    contexts.push(Context::Popup);
    let mut rows = Vec::new();
    for ctx in contexts {
        rows.push(Row::new(vec![Span::styled(ctx.title(), theme.title()), Span::raw("")]));
        for (keys, what) in app.keymap.help_rows(ctx) {
            rows.push(Row::new(vec![Span::styled(keys, theme.accent()), Span::raw(what)]));
        }
    }
    let table = Table::new(rows, [Constraint::Length(20), Constraint::Min(10)])
        .block(Block::bordered().title(" Keys (esc closes) ").title_style(theme.title()))
        .style(Style::default());
    frame.render_widget(table, popup);
}

/// A rectangle of `pct_w`×`pct_h` percent in the middle of `area`.
fn centered(area: Rect, pct_w: u16, pct_h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Percentage(pct_h)]).flex(Flex::Center).areas(area);
    let [h] = Layout::horizontal([Constraint::Percentage(pct_w)]).flex(Flex::Center).areas(v);
    h
}
