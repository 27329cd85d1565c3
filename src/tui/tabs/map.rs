//! Map tab: the emotion space of the current index as a braille scatter. Clips are coloured by
//! their closest mood, the mood anchors are labelled, the query and its results are marked.
//! Points are binned per braille dot before drawing, so 100k clips cost what the screen costs.

use std::sync::Arc;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as Segment, Points};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use super::StatusMsg;
use crate::tui::app::Level;
use crate::tui::keymap::Action;
use crate::tui::projection::MapData;
use crate::tui::theme::Theme;

/// Zoom factor per key press, and the share of the view one pan step moves.
const ZOOM_STEP: f64 = 1.5;
const PAN_STEP: f64 = 0.1;

#[derive(Debug)]
pub struct MapTab {
    pub data: Option<Arc<MapData>>,
    /// Why there is nothing to map (until the engine has projected an index).
    pub waiting: String,
    pub zoom: f64,
    /// Centre of the view in the plane; `None` is the centre of the data.
    pub center: Option<[f64; 2]>,
    pub selected: Option<usize>,
    pub query: Option<[f64; 2]>,
    /// Index rows of the current results, best first.
    pub results: Vec<usize>,
}

/// The visible rectangle of the plane: `[x0, x1]`, `[y0, y1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub x: [f64; 2],
    pub y: [f64; 2],
}

impl MapTab {
    pub fn new(waiting: String) -> Self {
        Self {
            data: None,
            waiting,
            zoom: 1.0,
            center: None,
            selected: None,
            query: None,
            results: Vec::new(),
        }
    }

    pub fn set_data(&mut self, data: Arc<MapData>) {
        self.data = Some(data);
        self.selected = None;
        self.center = None;
        self.zoom = 1.0;
    }

    /// The whole data (points and anchors) with a margin; a unit square without data.
    fn extent(&self) -> View {
        let Some(d) = &self.data else { return View { x: [-1.0, 1.0], y: [-1.0, 1.0] } };
        let (mut x, mut y) = ([f64::INFINITY, f64::NEG_INFINITY], [f64::INFINITY, f64::NEG_INFINITY]);
        for p in d.points.iter().chain(&d.anchor_points).chain(&self.query) {
            x = [x[0].min(p[0]), x[1].max(p[0])];
            y = [y[0].min(p[1]), y[1].max(p[1])];
        }
        let pad = |r: [f64; 2]| {
            if !r[0].is_finite() {
                return [-1.0, 1.0];
            }
            let m = ((r[1] - r[0]) * 0.08).max(1e-3);
            [r[0] - m, r[1] + m]
        };
        View { x: pad(x), y: pad(y) }
    }

    pub fn view(&self) -> View {
        let full = self.extent();
        let mid = |r: [f64; 2]| (r[0] + r[1]) / 2.0;
        let [cx, cy] = self.center.unwrap_or([mid(full.x), mid(full.y)]);
        let (hx, hy) = ((full.x[1] - full.x[0]) / 2.0 / self.zoom, (full.y[1] - full.y[0]) / 2.0 / self.zoom);
        View { x: [cx - hx, cx + hx], y: [cy - hy, cy + hy] }
    }

    fn pan(&mut self, dx: f64, dy: f64) {
        let v = self.view();
        let c = [(v.x[0] + v.x[1]) / 2.0, (v.y[0] + v.y[1]) / 2.0];
        self.center = Some([c[0] + dx * (v.x[1] - v.x[0]), c[1] + dy * (v.y[1] - v.y[0])]);
    }

    /// The clip nearest to the centre of the view.
    pub fn nearest_to_center(&self) -> Option<usize> {
        let d = self.data.as_ref()?;
        let v = self.view();
        let c = [(v.x[0] + v.x[1]) / 2.0, (v.y[0] + v.y[1]) / 2.0];
        // Distances in screen proportions, so a wide view does not favour vertical neighbours.
        let (sx, sy) = ((v.x[1] - v.x[0]).max(1e-12), (v.y[1] - v.y[0]).max(1e-12));
        let dist = |p: &[f64; 2]| ((p[0] - c[0]) / sx).powi(2) + ((p[1] - c[1]) / sy).powi(2);
        d.points.iter().enumerate().min_by(|a, b| dist(a.1).total_cmp(&dist(b.1))).map(|(i, _)| i)
    }

    /// The selected clip's path and closest moods, for the status line.
    pub fn describe(&self, i: usize) -> Option<String> {
        let d = self.data.as_ref()?;
        let moods = d.clip_moods(i, 3).iter().map(|(m, s)| format!("{m} {s:.2}")).collect::<Vec<_>>();
        Some(format!("{} — {}", d.paths.get(i)?.display(), moods.join(", ")))
    }

    pub fn selected_path(&self) -> Option<std::path::PathBuf> {
        self.data.as_ref()?.paths.get(self.selected?).cloned()
    }

    pub fn apply(&mut self, action: Action) -> StatusMsg {
        let n = self.data.as_ref().map_or(0, |d| d.len());
        match action {
            Action::ZoomIn => self.zoom = (self.zoom * ZOOM_STEP).min(1e6),
            Action::ZoomOut => self.zoom = (self.zoom / ZOOM_STEP).max(0.25),
            Action::PanLeft => self.pan(-PAN_STEP, 0.0),
            Action::PanRight => self.pan(PAN_STEP, 0.0),
            Action::PanUp => self.pan(0.0, PAN_STEP),
            Action::PanDown => self.pan(0.0, -PAN_STEP),
            Action::ResetView => {
                self.zoom = 1.0;
                self.center = None;
            }
            Action::NextPoint | Action::PrevPoint if n > 0 => {
                let i = match (self.selected, action == Action::NextPoint) {
                    (None, _) => 0,
                    (Some(i), true) => (i + 1) % n,
                    (Some(i), false) => (i + n - 1) % n,
                };
                self.selected = Some(i);
                self.center = self.data.as_ref().and_then(|d| d.points.get(i).copied());
                return self.describe(i).map(|t| (Level::Info, t));
            }
            Action::Play => {
                self.selected = self.nearest_to_center();
                return match self.selected {
                    Some(i) => self.describe(i).map(|t| (Level::Info, t)),
                    None => Some((Level::Warning, "no clips on the map yet".into())),
                };
            }
            _ => {}
        }
        None
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let Some(data) = &self.data else {
            let block = Block::bordered().title(" Emotion space ").title_style(theme.title());
            frame.render_widget(
                Paragraph::new(self.waiting.as_str()).wrap(Wrap { trim: false }).block(block),
                area,
            );
            return;
        };
        let method = if data.space == crate::model::Space::Va { "valence–arousal" } else { "PCA" };
        let title = format!(
            " Emotion space: {} clips, {} ({method}), zoom {:.1}× ",
            data.len(),
            data.space,
            self.zoom
        );
        let block = Block::bordered().title(title).title_style(theme.title());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [plot, legend] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(inner);
        let view = self.view();
        let bins = bin_points(data, view, plot.width, plot.height);
        let colours: Vec<_> = data.moods.iter().map(|m| theme.mood(m)).collect();
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
                for (name, p) in data.moods.iter().zip(&data.anchor_points) {
                    let style = Style::default().fg(theme.mood(name)).add_modifier(Modifier::BOLD);
                    ctx.print(p[0], p[1], Span::styled(format!("◆{name}"), style));
                }
                for (rank, &row) in self.results.iter().enumerate().take(9).rev() {
                    if let Some(p) = data.points.get(row) {
                        ctx.print(p[0], p[1], Span::styled(format!("{}", rank + 1), theme.selection()));
                    }
                }
                if let Some(q) = self.query {
                    ctx.print(q[0], q[1], Span::styled("✱query", theme.query().add_modifier(Modifier::BOLD)));
                }
                if let Some(p) = self.selected.and_then(|i| data.points.get(i)) {
                    ctx.print(p[0], p[1], Span::styled("◉", theme.selection()));
                }
                let [xn, yn] = &data.axis_names;
                ctx.print(
                    view.x[0],
                    view.y[1],
                    Span::styled(format!("↑ {yn} {:.2}", view.y[1]), theme.muted()),
                );
                ctx.print(
                    view.x[0],
                    view.y[0],
                    Span::styled(format!("{:.2} {xn} →", view.x[0]), theme.muted()),
                );
            });
        frame.render_widget(canvas, plot);
        let mut spans = vec![Span::styled(" ", theme.muted())];
        for (m, c) in data.moods.iter().zip(&colours) {
            spans.push(Span::styled(format!("⣿ {m}  "), Style::default().fg(*c)));
        }
        frame.render_widget(Line::from(spans), legend);
    }
}

/// The clips inside `view` reduced to one point per braille dot of a `width`×`height` cell
/// canvas, grouped by closest mood (the last clip drawn in a dot gives it its colour).
pub fn bin_points(data: &MapData, view: View, width: u16, height: u16) -> Vec<Vec<(f64, f64)>> {
    let (gw, gh) = (usize::from(width) * 2, usize::from(height) * 4);
    let mut grid = vec![0u16; gw * gh];
    let (sx, sy) = (view.x[1] - view.x[0], view.y[1] - view.y[0]);
    if gw == 0 || gh == 0 || sx <= 0.0 || sy <= 0.0 {
        return Vec::new();
    }
    for (p, &mood) in data.points.iter().zip(&data.closest) {
        let (fx, fy) = ((p[0] - view.x[0]) / sx, (p[1] - view.y[0]) / sy);
        if !(0.0..1.0).contains(&fx) || !(0.0..1.0).contains(&fy) {
            continue;
        }
        let (gx, gy) = ((fx * gw as f64) as usize, (fy * gh as f64) as usize);
        grid[gy * gw + gx] = mood.saturating_add(1);
    }
    let mut bins = vec![Vec::new(); data.moods.len().max(1)];
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
    use crate::model::Space;

    fn data(n: usize) -> MapData {
        let mut emb = Vec::new();
        for i in 0..n {
            emb.extend([(i % 100) as f32 / 100.0, (i / 100) as f32 / (n / 100).max(1) as f32]);
        }
        let paths = (0..n).map(|i| format!("clip{i}.ogg").into()).collect();
        MapData::build(Space::Va, paths, emb, 2, vec!["happy".into(), "sad".into()], &[0.9, 0.9, 0.1, 0.1])
    }

    #[test]
    fn binning_keeps_at_most_one_point_per_dot() {
        let d = data(100_000);
        let view = View { x: [0.0, 1.0], y: [0.0, 1.0] };
        let bins = bin_points(&d, view, 40, 10);
        let total: usize = bins.iter().map(Vec::len).sum();
        assert!(total <= 80 * 40 && total > 3000, "{total}");
        assert!(bins.iter().all(|b| !b.is_empty()), "both moods appear");
        assert!(bin_points(&d, view, 0, 10).is_empty());
    }

    #[test]
    fn zoom_pan_and_nearest_selection() {
        let mut map = MapTab::new(String::new());
        map.set_data(Arc::new(data(400)));
        let full = map.view();
        map.apply(Action::ZoomIn);
        let zoomed = map.view();
        assert!((full.x[1] - full.x[0]) / (zoomed.x[1] - zoomed.x[0]) - ZOOM_STEP < 1e-9);
        map.apply(Action::PanRight);
        assert!(map.view().x[0] > zoomed.x[0]);
        map.apply(Action::ResetView);
        assert_eq!(map.view(), full);
        map.apply(Action::NextPoint);
        map.apply(Action::NextPoint);
        assert_eq!(map.selected, Some(1));
        assert_eq!(map.nearest_to_center(), Some(1), "n centres the view on the selected clip");
        let msg = map.apply(Action::Play).unwrap().1;
        assert!(msg.starts_with("clip1.ogg — "), "{msg}");
    }
}
