//! Drawing the Map tab. Points are binned per braille dot before drawing, so 100k clips cost
//! what the screen costs; labels are placed in cell space so they never overlap.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as Segment, Points};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use super::map::{MapTab, View};
use super::map_labels::{place_labels, LabelBox};
use crate::tui::theme::Theme;

impl MapTab {
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
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
            LabelBox { col: 0, row: plot.height.saturating_sub(1), width: width(&bottom_caption) },
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
                for ((text, style, _), b) in labels.iter().zip(&boxes) {
                    let [x, y] = cells.point(b.col, b.row);
                    ctx.print(x, y, Span::styled(text.clone(), *style));
                }
                ctx.print(view.x[0], view.y[1], Span::styled(top_caption.clone(), theme.muted()));
                ctx.print(view.x[0], view.y[0], Span::styled(bottom_caption.clone(), theme.muted()));
            });
        frame.render_widget(canvas, plot);
        let mut spans = vec![Span::styled(" ", theme.muted())];
        for (m, c) in data.moods.iter().zip(&colours) {
            spans.push(Span::styled(format!("⣿ {m}  "), Style::default().fg(*c)));
        }
        frame.render_widget(Line::from(spans), legend);
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

    /// A point that prints in cell (`col`, `row`): a quarter into the cell, inside the bounds.
    fn point(&self, col: u16, row: u16) -> [f64; 2] {
        let (sx, sy) = self.scale();
        let x = (self.view.x[0] + (f64::from(col) + 0.25) * sx).min(self.view.x[1]);
        let y = (self.view.y[1] - (f64::from(row) + 0.25) * sy).max(self.view.y[0]);
        [x, y]
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
    fn cells_round_trip_as_ratatui_prints_labels() {
        let cells = Cells { view: View { x: [-2.0, 3.0], y: [1.0, 4.0] }, width: 37, height: 11 };
        for col in 0..37 {
            for row in 0..11 {
                let p = cells.point(col, row);
                assert!(cells.contains(p));
                assert_eq!(cells.cell(p), (col, row));
            }
        }
    }
}
