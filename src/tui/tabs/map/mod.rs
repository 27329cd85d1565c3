//! Map tab: the emotion space of the current index as a braille scatter. Clips are coloured by
//! their closest mood, the mood anchors are labelled, the query and its results are marked.
//! The plane is the linear projection (PCA, or valence–arousal for the VA space) or a UMAP
//! layout computed in the background (`u` cycles). Drawing lives in `draw.rs`, keys in `view.rs`.

mod draw;
mod labels;
mod view;

use std::sync::Arc;

use super::StatusMsg;
use crate::map::projection::MapData;
use crate::map::umap::UmapLayout;
use crate::model::Space;
use crate::tui::keymap::Action;
use crate::tui::status::Level;

/// Zoom factor per key press, and the share of the view one pan step moves.
const ZOOM_STEP: f64 = 1.5;
const PAN_STEP: f64 = 0.1;

/// Which plane the map shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaneKind {
    /// PCA, or the valence–arousal plane for the VA space.
    Linear,
    Umap,
}

#[derive(Debug, Clone)]
pub enum UmapState {
    Idle,
    Computing,
    Ready(Arc<UmapLayout>),
    Failed(String),
}

#[derive(Debug)]
pub struct MapTab {
    pub data: Option<Arc<MapData>>,
    /// Why there is nothing to map (until the engine has projected an index).
    pub waiting: String,
    pub zoom: f64,
    /// Centre of the view in the plane; `None` is the centre of the data.
    pub center: Option<[f64; 2]>,
    pub selected: Option<usize>,
    /// The query's point in the linear plane.
    pub query: Option<[f64; 2]>,
    /// The query's vector in the space (placed on a UMAP layout).
    pub query_vector: Option<Vec<f32>>,
    /// Index rows of the current results, best first.
    pub results: Vec<usize>,
    pub plane: PlaneKind,
    pub umap: UmapState,
}

/// The visible rectangle of the plane: `[x0, x1]`, `[y0, y1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub x: [f64; 2],
    pub y: [f64; 2],
}

/// What the current plane holds: one point per clip (NaN when not laid out), the anchors, the
/// query, and the name of the method and its axes.
pub struct Plane<'a> {
    pub points: &'a [[f64; 2]],
    pub anchors: &'a [[f64; 2]],
    pub query: Option<[f64; 2]>,
    pub method: String,
    pub axes: [String; 2],
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
            query_vector: None,
            results: Vec::new(),
            plane: PlaneKind::Linear,
            umap: UmapState::Idle,
        }
    }

    /// New data (a new index): a UMAP of the old one no longer applies.
    pub fn set_data(&mut self, data: Arc<MapData>) {
        self.data = Some(data);
        self.selected = None;
        self.center = None;
        self.zoom = 1.0;
        self.umap = UmapState::Idle;
    }

    /// Switches between the linear plane and UMAP; returns the data to lay out when a UMAP
    /// computation must start (the caller runs it on a worker).
    pub fn cycle_projection(&mut self) -> (Option<Arc<MapData>>, StatusMsg) {
        if self.data.is_none() {
            return (None, Some((Level::Warning, "no clips on the map yet".into())));
        }
        self.center = None;
        self.zoom = 1.0;
        self.plane = match self.plane {
            PlaneKind::Linear => PlaneKind::Umap,
            PlaneKind::Umap => PlaneKind::Linear,
        };
        match self.umap_job() {
            Some(data) => {
                let n = data.len().min(crate::map::umap::MAX_POINTS);
                let msg = format!("computing the UMAP of {n} clips in the background…");
                (Some(data), Some((Level::Info, msg)))
            }
            None => (None, None),
        }
    }

    /// The data to lay out when UMAP is wanted and not yet computed (marks it computing).
    pub fn umap_job(&mut self) -> Option<Arc<MapData>> {
        let data = self.data.clone()?;
        if self.plane != PlaneKind::Umap || !matches!(self.umap, UmapState::Idle) {
            return None;
        }
        self.umap = UmapState::Computing;
        Some(data)
    }

    /// A finished UMAP computation; results for data no longer shown are dropped.
    pub fn set_umap(&mut self, data: &Arc<MapData>, result: Result<Arc<UmapLayout>, String>) -> StatusMsg {
        if !self.data.as_ref().is_some_and(|d| Arc::ptr_eq(d, data)) {
            return None;
        }
        self.umap = match result {
            Ok(layout) => UmapState::Ready(layout),
            Err(why) => UmapState::Failed(why.clone()),
        };
        self.center = None;
        match &self.umap {
            UmapState::Failed(why) => Some((Level::Error, why.clone())),
            _ => Some((Level::Info, "UMAP ready".into())),
        }
    }

    /// The plane on screen: UMAP once it is ready, else the linear projection.
    pub fn plane(&self) -> Option<Plane<'_>> {
        let data = self.data.as_ref()?;
        let linear = if data.space == Space::Va { "valence–arousal" } else { "PCA" };
        match (&self.umap, self.plane) {
            (UmapState::Ready(u), PlaneKind::Umap) => Some(Plane {
                points: &u.points,
                anchors: &u.anchor_points,
                query: self.query_vector.as_ref().map(|v| u.place(v)),
                method: if u.subsampled() {
                    format!("UMAP of {} evenly spaced", u.laid_out)
                } else {
                    "UMAP".into()
                },
                axes: ["UMAP1".into(), "UMAP2".into()],
            }),
            (state, plane) => Some(Plane {
                points: &data.points,
                anchors: &data.anchor_points,
                query: self.query,
                method: match (state, plane) {
                    (UmapState::Computing, PlaneKind::Umap) => format!("{linear}; UMAP computing…"),
                    (UmapState::Failed(_), PlaneKind::Umap) => format!("{linear}; UMAP failed"),
                    _ => linear.into(),
                },
                axes: data.axis_names.clone(),
            }),
        }
    }

    /// The whole data (points and anchors) with a margin; a unit square without data.
    fn extent(&self) -> View {
        let Some(plane) = self.plane() else { return View { x: [-1.0, 1.0], y: [-1.0, 1.0] } };
        let (mut x, mut y) = ([f64::INFINITY, f64::NEG_INFINITY], [f64::INFINITY, f64::NEG_INFINITY]);
        // f64::min/max skip NaN, so clips left out of a subsampled UMAP do not count.
        for p in plane.points.iter().chain(plane.anchors).chain(&plane.query) {
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

    /// Clip `i`'s point on the current plane (`None` when it is not laid out).
    fn point(&self, i: usize) -> Option<[f64; 2]> {
        self.plane()?.points.get(i).copied().filter(|p| p[0].is_finite() && p[1].is_finite())
    }

    /// The clip nearest to the centre of the view.
    pub fn nearest_to_center(&self) -> Option<usize> {
        let plane = self.plane()?;
        let v = self.view();
        let c = [(v.x[0] + v.x[1]) / 2.0, (v.y[0] + v.y[1]) / 2.0];
        // Distances in screen proportions, so a wide view does not favour vertical neighbours.
        let (sx, sy) = ((v.x[1] - v.x[0]).max(1e-12), (v.y[1] - v.y[0]).max(1e-12));
        let dist = |p: &[f64; 2]| ((p[0] - c[0]) / sx).powi(2) + ((p[1] - c[1]) / sy).powi(2);
        plane
            .points
            .iter()
            .enumerate()
            .filter(|(_, p)| p[0].is_finite() && p[1].is_finite())
            .min_by(|a, b| dist(a.1).total_cmp(&dist(b.1)))
            .map(|(i, _)| i)
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
                let forward = action == Action::NextPoint;
                let mut i = self.selected;
                // Clips left out of a subsampled UMAP are stepped over.
                for _ in 0..n {
                    let next = match (i, forward) {
                        (None, _) => 0,
                        (Some(i), true) => (i + 1) % n,
                        (Some(i), false) => (i + n - 1) % n,
                    };
                    i = Some(next);
                    if self.point(next).is_some() {
                        break;
                    }
                }
                let i = i?;
                self.selected = Some(i);
                self.center = self.point(i);
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
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn grid(n: usize) -> MapData {
        let mut emb = Vec::new();
        for i in 0..n {
            emb.extend([(i % 100) as f32 / 100.0, (i / 100) as f32 / (n / 100).max(1) as f32]);
        }
        let paths = (0..n).map(|i| format!("clip{i}.ogg").into()).collect();
        MapData::build(Space::Va, paths, emb, 2, vec!["happy".into(), "sad".into()], &[0.9, 0.9, 0.1, 0.1])
    }

    #[test]
    fn zoom_pan_and_nearest_selection() {
        let mut map = MapTab::new(String::new());
        map.set_data(Arc::new(grid(400)));
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

    #[test]
    fn projection_cycles_to_umap_once_computed_and_stale_results_are_dropped() {
        let mut map = MapTab::new(String::new());
        let data = Arc::new(grid(400));
        map.set_data(data.clone());
        let (job, msg) = map.cycle_projection();
        assert!(job.is_some() && matches!(map.umap, UmapState::Computing), "{msg:?}");
        assert!(map.plane().unwrap().method.contains("UMAP computing"));
        let other = Arc::new(grid(10));
        assert_eq!(map.set_umap(&other, Err("old".into())), None, "results for other data are dropped");
        let layout = UmapLayout::fit(&data).unwrap();
        map.set_umap(&data, Ok(Arc::new(layout)));
        assert_eq!(map.plane().unwrap().method, "UMAP");
        map.apply(Action::NextPoint);
        assert_eq!(map.center, map.point(0));
        let (job, _) = map.cycle_projection();
        assert!(job.is_none());
        assert_eq!(map.plane().unwrap().method, "valence–arousal");
        let (job, _) = map.cycle_projection();
        assert!(job.is_none(), "a computed layout is reused");
    }
}
