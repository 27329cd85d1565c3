//! Drawing the Map tab. Points are binned per braille dot before drawing, so 100k clips cost
//! what the screen costs; labels are placed in cell space so they never overlap.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as Segment, Points};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use super::labels::{place_labels, LabelBox};
use super::{MapTab, View};
use crate::tui::theme::Theme;

impl MapTab {
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let (Some(data), Some(plane)) = (&self.data, self.plane()) else {
            let block = Block::bordered().title(" Emotion space ").title_style(theme.title());
            frame.render_widget(
                Paragraph::new(self.waiting.as_str()).wrap(Wrap { trim: false }).block(block),
                area,
            );
            return;
        };
        let title = format!(
            " Emotion space: {} clips, {} ({}), zoom {:.1}× ",
            data.len(),
            data.space,
            plane.method,
            self.zoom
        );
        let block = Block::bordered().title(title).title_style(theme.title());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [plot, legend] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(inner);
        let view = self.view();
        let bins = bin_points(plane.points, &data.closest, data.moods.len(), view, plot.width, plot.height);
        let colours: Vec<_> = data.moods.iter().map(|m| theme.mood(m)).collect();
        let cells = Cells { view, width: plot.width, height: plot.height };
        let [xn, yn] = &plane.axes;
        let top_caption = format!("↑ {yn} {:.2}", view.y[1]);
        let bottom_caption = format!("{:.2} {xn} →", view.x[0]);
        let captions = [
            LabelBox { col: 0, row: 0, width: width(&top_caption) },
            LabelBox { col: 0, row: plot.height.saturating_sub(2), width: width(&bottom_caption) },
        ];
        // Anchor labels inside the view, then the query, each nudged off the ones before it.
        let mut labels: Vec<(String, Style, [f64; 2])> = data
            .moods
            .iter()
            .zip(plane.anchors)
            .filter(|(_, p)| cells.contains(**p))
            .map(|(name, p)| {
                (format!("◆{name}"), Style::default().fg(theme.mood(name)).add_modifier(Modifier::BOLD), *p)
            })
            .collect();
        if let Some(q) = plane.query.filter(|q| cells.contains(*q)) {
            labels.push(("✱query".into(), theme.query().add_modifier(Modifier::BOLD), q));
        }
        let wanted: Vec<(u16, u16, u16)> = labels
            .iter()
            .map(|(text, _, p)| {
                let (c, r) = cells.cell(*p);
                (c, r, width(text))
            })
            .collect();
        let boxes = place_labels(&captions, &wanted, plot.width, plot.height);
        let canvas =
            Canvas::default().marker(Marker::Braille).x_bounds(view.x).y_bounds(view.y).paint(|ctx| {
                let axis = theme.muted().fg.unwrap_or_default();
                ctx.draw(&Segment::new(view.x[0], view.y[0], view.x[1], view.y[0], axis));
                ctx.draw(&Segment::new(view.x[0], view.y[0], view.x[0], view.y[1], axis));
                for (mood, coords) in bins.iter().enumerate() {
                    let color = colours.get(mood).copied().unwrap_or_default();
                    ctx.draw(&Points { coords, color });
                }
                ctx.layer();
                let (cx, cy) = ((view.x[0] + view.x[1]) / 2.0, (view.y[0] + view.y[1]) / 2.0);
                ctx.print(cx, cy, Span::styled("+", theme.muted()));
                for (rank, &row) in self.results.iter().enumerate().take(9).rev() {
                    if let Some(p) = plane.points.get(row).filter(|p| p[0].is_finite() && p[1].is_finite()) {
                        ctx.print(p[0], p[1], Span::styled(format!("{}", rank + 1), theme.selection()));
                    }
                }
                if let Some(p) = self.selected.and_then(|i| plane.points.get(i)) {
                    ctx.print(p[0], p[1], Span::styled("◉", theme.selection()));
                }
            });
        frame.render_widget(canvas, plot);
        // Labels and captions go straight into their cells: printed through the canvas, a label
        // on the edge row lands a row off whenever the float mapping rounds down.
        let buf = frame.buffer_mut();
        for ((text, style, _), b) in labels.iter().zip(&boxes) {
            put(buf, plot, b.col, b.row, text, *style);
        }
        put(buf, plot, 0, 0, &top_caption, theme.muted());
        // Just above the x axis, which stays whole.
        put(buf, plot, 0, plot.height.saturating_sub(2), &bottom_caption, theme.muted());
        let mut spans = vec![Span::styled(" ", theme.muted())];
        for (m, c) in data.moods.iter().zip(&colours) {
            spans.push(Span::styled(format!("⣿ {m}  "), Style::default().fg(*c)));
        }
        frame.render_widget(Line::from(spans), legend);
    }
}

/// Writes `text` into cell (`col`, `row`) of `area`, clipped at its right edge.
fn put(buf: &mut Buffer, area: Rect, col: u16, row: u16, text: &str, style: Style) {
    if col < area.width && row < area.height {
        buf.set_stringn(area.x + col, area.y + row, text, usize::from(area.width - col), style);
    }
}

fn width(text: &str) -> u16 {
    u16::try_from(Span::raw(text).width()).unwrap_or(u16::MAX)
}

/// The mapping between the plane and the canvas's character cells, as ratatui's Canvas prints
/// labels: column `⌊(x − x0)·(W − 1)/(x1 − x0)⌋`, row `⌊(y1 − y)·(H − 1)/(y1 − y0)⌋`.
struct Cells {
    view: View,
    width: u16,
    height: u16,
}

impl Cells {
    fn contains(&self, p: [f64; 2]) -> bool {
        (self.view.x[0]..=self.view.x[1]).contains(&p[0]) && (self.view.y[0]..=self.view.y[1]).contains(&p[1])
    }

    fn scale(&self) -> (f64, f64) {
        let (w, h) = (f64::from(self.width.max(2) - 1), f64::from(self.height.max(2) - 1));
        ((self.view.x[1] - self.view.x[0]) / w, (self.view.y[1] - self.view.y[0]) / h)
    }

    fn cell(&self, p: [f64; 2]) -> (u16, u16) {
        let (sx, sy) = self.scale();
        (((p[0] - self.view.x[0]) / sx) as u16, ((self.view.y[1] - p[1]) / sy) as u16)
    }
}

/// The points inside `view` reduced to one point per braille dot of a `width`×`height` cell
/// canvas, grouped by closest mood (`closest[i]` indexes `moods` moods; the last clip drawn in a
/// dot gives it its colour). Points that are not finite (not laid out) are skipped.
pub fn bin_points(
    points: &[[f64; 2]],
    closest: &[u16],
    moods: usize,
    view: View,
    width: u16,
    height: u16,
) -> Vec<Vec<(f64, f64)>> {
    let (gw, gh) = (usize::from(width) * 2, usize::from(height) * 4);
    let (sx, sy) = (view.x[1] - view.x[0], view.y[1] - view.y[0]);
    if gw == 0 || gh == 0 || sx <= 0.0 || sy <= 0.0 {
        return Vec::new();
    }
    let mut grid = vec![0u16; gw * gh];
    for (p, &mood) in points.iter().zip(closest) {
        let (fx, fy) = ((p[0] - view.x[0]) / sx, (p[1] - view.y[0]) / sy);
        // NaN fails both range checks.
        if !(0.0..1.0).contains(&fx) || !(0.0..1.0).contains(&fy) {
            continue;
        }
        let (gx, gy) = ((fx * gw as f64) as usize, (fy * gh as f64) as usize);
        grid[gy * gw + gx] = mood.saturating_add(1);
    }
    let mut bins = vec![Vec::new(); moods.max(1)];
    for (i, &cell) in grid.iter().enumerate() {
        if cell == 0 {
            continue;
        }
        let (gx, gy) = (i % gw, i / gw);
        let x = view.x[0] + (gx as f64 + 0.5) * sx / gw as f64;
        let y = view.y[0] + (gy as f64 + 0.5) * sy / gh as f64;
        let mood = usize::from(cell - 1).min(bins.len() - 1);
        bins[mood].push((x, y));
    }
    bins
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::tabs::map::tests::grid;

    #[test]
    fn binning_keeps_at_most_one_point_per_dot() {
        let d = grid(100_000);
        let view = View { x: [0.0, 1.0], y: [0.0, 1.0] };
        let bins = bin_points(&d.points, &d.closest, 2, view, 40, 10);
        let total: usize = bins.iter().map(Vec::len).sum();
        assert!(total <= 80 * 40 && total > 3000, "{total}");
        assert!(bins.iter().all(|b| !b.is_empty()), "both moods appear");
        assert!(bin_points(&d.points, &d.closest, 2, view, 0, 10).is_empty());
        let nan = [[f64::NAN, 0.5]];
        assert!(bin_points(&nan, &[0], 2, view, 40, 10).iter().all(Vec::is_empty));
    }

    #[test]
    fn captions_keep_their_rows_at_any_zoom_and_size() {
        use ratatui::backend::TestBackend;
        use ratatui::Terminal;
        let mut map = MapTab::new(String::new());
        map.set_data(std::sync::Arc::new(grid(300)));
        let theme = Theme::shipped("dark").unwrap();
        for height in 8..40u16 {
            for step in 0..12 {
                map.zoom = 1.0 + f64::from(step) * 0.37;
                let mut term = Terminal::new(TestBackend::new(60, height)).unwrap();
                term.draw(|f| map.render(f, f.area(), &theme)).unwrap();
                let buf = term.backend().buffer();
                let row = |y: u16| (0..60).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>();
                // Border, then the plot; its last row (the x axis) sits above the legend and the
                // border, and the x caption just above the axis.
                assert!(row(1).contains("↑ arousal"), "h {height} zoom {}: {}", map.zoom, row(1));
                assert!(
                    row(height - 4).contains("valence →"),
                    "h {height} zoom {}: {}",
                    map.zoom,
                    row(height - 4)
                );
                assert!(
                    row(height - 3).chars().filter(|c| ('\u{2800}'..='\u{28ff}').contains(c)).count() >= 50
                );
            }
        }
    }
}
