//! The Train tab's drawing: the run head, loss and validation charts, the followed runs and the
//! machine's history.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Wrap};
use ratatui::Frame;

use super::{run_name, RunSeries, TrainTab};
use crate::monitor::{GpuStatus, SystemSample};
use crate::train::alerts::Level as AlertLevel;
use crate::train::run_status::Observed;
use crate::train::MetricsRecord;
use crate::tui::tabs::dataset::format_duration;
use crate::tui::theme::Theme;

impl TrainTab {
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        // The latest alert takes two more rows (its advice wraps).
        let head_rows = 4 + 2 * u16::from(!self.alerts.is_empty());
        let sys_rows = if self.samples.len() >= 2 { 9 } else { 5 };
        let list_rows = if self.others.is_empty() { 0 } else { 3 + self.others.len() as u16 };
        let [head, list, charts, sys] = Layout::vertical([
            Constraint::Length(head_rows),
            Constraint::Length(list_rows),
            Constraint::Min(6),
            Constraint::Length(sys_rows),
        ])
        .areas(area);
        self.draw_head(frame, head, theme);
        if !self.others.is_empty() {
            self.draw_runs(frame, list, theme);
        }
        if self.records.is_empty() {
            let text = match &self.run_dir {
                Some(d) => format!("Waiting for {} …", d.join(crate::train::METRICS_FILE).display()),
                None => hint(),
            };
            let block = Block::bordered().title(" Loss ").title_style(theme.title());
            frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }).block(block), charts);
        } else {
            let [loss, val] =
                Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(charts);
            self.draw_loss(frame, loss, theme);
            self.draw_validation(frame, val, theme);
        }
        self.draw_system(frame, sys, theme);
        if let Some(form) = &self.form {
            form.draw(frame, area, theme);
        }
    }

    fn draw_head(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::bordered().title(" Training ").title_style(theme.title());
        let mut lines = Vec::new();
        match &self.run_dir {
            None => lines.push(Line::from("No training run attached (n opens the run form).")),
            Some(d) => {
                let state = self.run_state.as_deref().map_or(String::new(), |s| format!(" — {s}"));
                lines.push(Line::from(format!("run {}{state}", d.display())))
            }
        }
        if let Some(last) = self.records.last() {
            let total = self.total_steps.map_or(String::new(), |t| format!("/{t}"));
            let mut l = format!("step {}{total} · epoch {}", last.step, last.epoch);
            if let Some(e) = self.epochs {
                l.push_str(&format!("/{e}"));
            }
            if let Some(loss) = self.records.iter().rev().find_map(|r| r.loss) {
                l.push_str(&format!(" · loss {loss:.4}"));
            }
            if let Some(t) = last.samples_per_s {
                l.push_str(&format!(" · {t:.1} samples/s"));
            }
            if let Some(eta) = self.eta_s() {
                l.push_str(&format!(" · ETA {}", format_duration(eta)));
            }
            lines.push(Line::from(l));
        }
        if let Some(a) = self.alerts.last() {
            let style = if a.level == AlertLevel::Error { theme.error() } else { theme.warning() };
            let more = match self.alerts.len() {
                1 => String::new(),
                n => format!(" (+{} earlier, in alerts.jsonl)", n - 1),
            };
            lines.push(Line::styled(format!("⚠ {}{more}", a.message), style));
        }
        if let Some(e) = &self.error {
            lines.push(Line::styled(e.as_str(), theme.error()));
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }).block(block), area);
    }

    /// Remaining time from the mean step (run started here) or epoch (followed run) duration.
    fn eta_s(&self) -> Option<f64> {
        let (first, last) = (self.records.first()?, self.records.last()?);
        if let Some(total) = self.total_steps {
            let done = last.step.saturating_sub(first.step) as f64;
            if done < 1.0 || last.unix_ms <= first.unix_ms {
                return None;
            }
            let per_step = (last.unix_ms - first.unix_ms) as f64 / 1000.0 / done;
            return Some(per_step * total.saturating_sub(last.step) as f64);
        }
        let total = self.epochs?;
        let done_epochs = last.epoch.saturating_sub(first.epoch) as f64;
        if done_epochs < 1.0 || last.unix_ms <= first.unix_ms {
            return None;
        }
        let per_epoch = (last.unix_ms - first.unix_ms) as f64 / 1000.0 / done_epochs;
        Some(per_epoch * total.saturating_sub(last.epoch) as f64)
    }

    /// With the time axis on (`t`), the moment the charts count back from: the newest system
    /// sample, else the newest record.
    fn axis_now(&self) -> Option<u64> {
        if !self.time_axis {
            return None;
        }
        let newest_record = self.records.last().map(|r| r.unix_ms);
        self.samples.back().map(|s| s.unix_ms).or(newest_record).or(Some(0))
    }

    fn draw_loss(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let now = self.axis_now();
        let palette =
            [theme.accent, theme.mood("happy"), theme.mood("sad"), theme.mood("angry"), theme.mood("tender")];
        let mut owned: Vec<SeriesCow> = self
            .series
            .loss
            .iter()
            .enumerate()
            .map(|(i, (n, curve))| (n.clone(), palette[i % palette.len()], curve.points(now)))
            .collect();
        for (i, other) in self.others.iter().enumerate() {
            if let Some(curve) = other.series.loss.get("total") {
                owned.push((
                    format!("{} loss", run_name(&other.dir)),
                    run_colour(theme, i + 1),
                    curve.points(now),
                ));
            }
        }
        let named: Vec<SeriesRef> = owned.iter().map(|(n, c, p)| (n.clone(), *c, p.as_ref())).collect();
        chart(frame, area, theme, " Loss per branch ", &named, now.is_some());
    }

    fn draw_validation(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        if self.series.p_at_5.is_empty() && self.series.mrr.is_empty() {
            let block = Block::bordered().title(" Validation ").title_style(theme.title());
            frame.render_widget(Paragraph::new("no validation yet").style(theme.muted()).block(block), area);
            return;
        }
        let now = self.axis_now();
        let mut owned = vec![
            ("P@5".to_string(), theme.mood("happy"), self.series.p_at_5.points(now)),
            ("MRR".to_string(), theme.mood("exciting"), self.series.mrr.points(now)),
        ];
        for (i, other) in self.others.iter().enumerate() {
            owned.push((
                format!("{} P@5", run_name(&other.dir)),
                run_colour(theme, i + 1),
                other.series.p_at_5.points(now),
            ));
        }
        let named: Vec<SeriesRef> = owned.iter().map(|(n, c, p)| (n.clone(), *c, p.as_ref())).collect();
        chart(frame, area, theme, " Validation ", &named, now.is_some());
    }

    fn draw_system(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let area = if self.samples.len() >= 2 {
            let [text, history] =
                Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(area);
            self.draw_history(frame, history, theme);
            text
        } else {
            area
        };
        let block = Block::bordered().title(" System ").title_style(theme.title());
        let Some(s) = &self.system else {
            frame.render_widget(Paragraph::new("sampling…").style(theme.muted()).block(block), area);
            return;
        };
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        let mut lines = vec![Line::from(format!(
            "CPU {:.0}% ({} cores) · RAM {:.1}/{:.1} GiB · app RSS {:.0} MiB",
            s.cpu_total,
            s.cpu_per_core.len(),
            gib(s.ram_used_bytes),
            gib(s.ram_total_bytes),
            s.process_rss_bytes as f64 / (1u64 << 20) as f64
        ))];
        match &s.gpu {
            GpuStatus::Unavailable(why) => lines.push(Line::styled(format!("GPU: {why}"), theme.muted())),
            GpuStatus::Devices(gpus) => {
                // Runs started here train in this process; a followed run names its pid.
                let ours = [Some(std::process::id()), self.run_pid];
                for g in gpus {
                    lines.push(Line::from(format!(
                        "GPU{} {} · util {}% · mem {:.1}/{:.1} GiB · {} · {}",
                        g.index,
                        g.name,
                        g.utilization_pct,
                        gib(g.memory_used_bytes),
                        gib(g.memory_total_bytes),
                        g.temperature_c.map_or("temp n/a".into(), |t| format!("{t} °C")),
                        g.power_watts.map_or("power n/a".into(), |w| format!("{w:.0} W")),
                    )));
                    if !g.processes.is_empty() {
                        let procs: Vec<String> = g
                            .processes
                            .iter()
                            .map(|p| {
                                let mem = p.memory_bytes.map_or("?".into(), |b| format!("{:.1} GiB", gib(b)));
                                let mark = if ours.contains(&Some(p.pid)) { " (this run)" } else { "" };
                                format!("pid {} {mem}{mark}", p.pid)
                            })
                            .collect();
                        lines.push(Line::styled(format!("  {}", procs.join(" · ")), theme.muted()));
                    }
                }
            }
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }).block(block), area);
    }
}

/// The colour of the `i`-th followed run (0: the focused run).
fn run_colour(theme: &Theme, i: usize) -> Color {
    let palette =
        [theme.accent, theme.mood("angry"), theme.mood("tender"), theme.mood("scary"), theme.mood("funny")];
    palette[i % palette.len()]
}

impl TrainTab {
    /// The followed runs, one line each: state, step, best validation.
    fn draw_runs(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let line = |i: usize,
                    dir: &std::path::Path,
                    state: Option<Observed>,
                    records: &[MetricsRecord],
                    series: &RunSeries| {
            let step = records.last().map_or("–".into(), |r| r.step.to_string());
            let best = series.best.as_ref().map_or("no validation yet".into(), |b| {
                format!(
                    "best P@5 {:.3} MRR {:.3} at step {}",
                    b.p_at_5.unwrap_or(0.0),
                    b.mrr.unwrap_or(0.0),
                    b.step
                )
            });
            let state = state.map_or("…", Observed::name);
            let text = format!("■ {:<24} {state:<9} step {step:<8} {best}", run_name(dir));
            let style = match state {
                "crashed" | "failed" => theme.error(),
                _ => Style::default().fg(run_colour(theme, i)),
            };
            Line::styled(text, style)
        };
        let mut lines = Vec::new();
        if let Some(dir) = &self.run_dir {
            lines.push(line(0, dir, self.observed, &self.records, &self.series));
        }
        for (i, o) in self.others.iter().enumerate() {
            lines.push(line(i + 1, &o.dir, o.observed, &o.records, &o.series));
        }
        let block = Block::bordered().title(" Runs (a follows more) ").title_style(theme.title());
        frame.render_widget(Paragraph::new(lines).block(block), area);
    }
}

impl TrainTab {
    /// CPU, RAM and each GPU's utilisation, memory, temperature and power over the history
    /// window, in percent (°C for temperatures, % of the enforced limit for power) against
    /// seconds before the newest sample.
    fn draw_history(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let Some(newest) = self.samples.back().map(|s| s.unix_ms) else { return };
        let ago = |s: &SystemSample| -((newest - s.unix_ms.min(newest)) as f64) / 1000.0;
        let pct = |used: u64, total: u64| if total == 0 { 0.0 } else { 100.0 * used as f64 / total as f64 };
        let mut named: Vec<Series> = vec![
            (
                "CPU %".into(),
                theme.accent,
                self.samples.iter().map(|s| (ago(s), s.cpu_total as f64)).collect(),
            ),
            (
                "RAM %".into(),
                theme.mood("sad"),
                self.samples.iter().map(|s| (ago(s), pct(s.ram_used_bytes, s.ram_total_bytes))).collect(),
            ),
        ];
        let gpus = newest_gpu(&self.samples).unwrap_or(0);
        let palette =
            [theme.mood("happy"), theme.mood("angry"), theme.mood("tender"), theme.mood("exciting")];
        for g in 0..gpus {
            let per = |f: &dyn Fn(&crate::monitor::GpuSample) -> Option<f64>| -> Vec<(f64, f64)> {
                self.samples
                    .iter()
                    .filter_map(|s| match &s.gpu {
                        GpuStatus::Devices(d) => d.get(g).and_then(f).map(|v| (ago(s), v)),
                        GpuStatus::Unavailable(_) => None,
                    })
                    .collect()
            };
            let c = palette[g % palette.len()];
            named.push((format!("GPU{g} util %"), c, per(&|d| Some(d.utilization_pct as f64))));
            named.push((
                format!("GPU{g} mem %"),
                c,
                per(&|d| Some(pct(d.memory_used_bytes, d.memory_total_bytes))),
            ));
            named.push((format!("GPU{g} °C"), c, per(&|d| d.temperature_c.map(f64::from))));
            let power = |d: &crate::monitor::GpuSample| {
                let (w, limit) = (d.power_watts?, d.power_limit_watts.filter(|l| *l > 0.0)?);
                Some(100.0 * f64::from(w / limit))
            };
            named.push((format!("GPU{g} power %"), c, per(&power)));
        }
        let minutes = self.history_ms.max(60_000) / 60_000;
        let refs: Vec<SeriesRef> = named.iter().map(|(n, c, p)| (n.clone(), *c, p.as_slice())).collect();
        time_chart(frame, area, theme, &format!(" Last {minutes} min "), &refs);
    }
}

/// GPUs in the newest sample that has any.
fn newest_gpu(samples: &std::collections::VecDeque<SystemSample>) -> Option<usize> {
    samples.iter().rev().find_map(|s| match &s.gpu {
        GpuStatus::Devices(d) => Some(d.len()),
        GpuStatus::Unavailable(_) => None,
    })
}

/// A braille chart of percentages (0–100) against seconds before now.
fn time_chart(frame: &mut Frame, area: Rect, theme: &Theme, title: &str, named: &[SeriesRef]) {
    let x0 = named.iter().flat_map(|(_, _, p)| p.iter().map(|p| p.0)).fold(0.0, f64::min).min(-1.0);
    let thinned = thin_all(named, area.width);
    let datasets = lines(&thinned);
    let chart = Chart::new(datasets)
        .block(Block::bordered().title(title.to_string()).title_style(theme.title()))
        .x_axis(
            Axis::default()
                .style(theme.muted())
                .bounds([x0, 0.0])
                .labels([format!("{x0:.0} s"), "now".into()]),
        )
        .y_axis(Axis::default().style(theme.muted()).bounds([0.0, 100.0]).labels(["0", "100"]));
    frame.render_widget(chart, area);
}

/// Series cut to what a chart `width` cells wide can show: a long run's 100k steps would cost a
/// frame far more than the few hundred braille columns they land on.
fn thin_all(named: &[SeriesRef], width: u16) -> Vec<Series> {
    let buckets = 2 * usize::from(width.max(1)); // two braille dots per cell
    named.iter().map(|(n, c, p)| (n.clone(), *c, thin(p, buckets))).collect()
}

/// About `2 × buckets` points of `points` (ordered by x): each bucket of consecutive points keeps
/// its lowest and highest, in order, so spikes survive; the first and last points stay too (the
/// x axis's ends).
fn thin(points: &[(f64, f64)], buckets: usize) -> Vec<(f64, f64)> {
    if points.len() <= 2 * buckets {
        return points.to_vec();
    }
    let per = points.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(2 * buckets);
    for chunk in points.chunks(per) {
        let lo = chunk.iter().enumerate().min_by(|a, b| a.1 .1.total_cmp(&b.1 .1));
        let hi = chunk.iter().enumerate().max_by(|a, b| a.1 .1.total_cmp(&b.1 .1));
        if let (Some((i, &l)), Some((j, &h))) = (lo, hi) {
            if i == j {
                out.push(l);
            } else if i < j {
                out.extend([l, h]);
            } else {
                out.extend([h, l]);
            }
        }
    }
    if let (Some(&first), Some(&last)) = (points.first(), points.last()) {
        if out.first() != Some(&first) {
            out.insert(0, first);
        }
        if out.last() != Some(&last) {
            out.push(last);
        }
    }
    out
}

/// The braille line datasets of named series.
fn lines(named: &[Series]) -> Vec<Dataset<'_>> {
    named
        .iter()
        .map(|(n, c, p)| {
            Dataset::default()
                .name(n.clone())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(*c))
                .data(p)
        })
        .collect()
}

/// A named, coloured line of points on the step axis (borrowed) or the time axis (computed).
type SeriesCow<'a> = (String, Color, std::borrow::Cow<'a, [(f64, f64)]>);

/// A named, coloured line of points borrowed from a run's series.
type SeriesRef<'a> = (String, Color, &'a [(f64, f64)]);

/// A named, coloured line of (step, value) points.
type Series = (String, Color, Vec<(f64, f64)>);

/// A braille line chart of named series with axes fitted to the data.
fn chart(frame: &mut Frame, area: Rect, theme: &Theme, title: &str, named: &[SeriesRef], time: bool) {
    // Thinning keeps each bucket's extremes, so the bounds of the thinned series are the same.
    let thinned = thin_all(named, area.width);
    let pts = thinned.iter().flat_map(|(_, _, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts.filter(|(x, y)| x.is_finite() && y.is_finite()) {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    let pad = ((y1 - y0) * 0.05).max(1e-6);
    let datasets = lines(&thinned);
    let label = |v: f64| format!("{v:.3}");
    let chart = Chart::new(datasets)
        .block(Block::bordered().title(title.to_string()).title_style(theme.title()))
        .x_axis(Axis::default().style(theme.muted()).bounds([x0, x1.max(x0 + 1.0)]).labels(if time {
            [format!("{x0:.0} s"), format!("{x1:.0} s")]
        } else {
            [format!("{x0:.0}"), format!("step {x1:.0}")]
        }))
        .y_axis(
            Axis::default().style(theme.muted()).bounds([y0 - pad, y1 + pad]).labels([label(y0), label(y1)]),
        );
    frame.render_widget(chart, area);
}

fn hint() -> String {
    "n opens the run form (space, audio trunk, steps, learning rate, device, data); or train headless with `storyscore train --space three-branch --text KIND:PATH --music KIND:PATH \
     --run-dir DIR`, then follow it with `storyscore monitor DIR`"
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_short_series_and_the_spikes_of_long_ones() {
        let short: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, i as f64)).collect();
        assert_eq!(thin(&short, 10), short);
        let mut long: Vec<(f64, f64)> = (0..100_000).map(|i| (i as f64, (i % 7) as f64)).collect();
        long[54_321].1 = 99.0;
        let t = thin(&long, 160);
        assert!(t.len() <= 322, "{}", t.len());
        assert_eq!((t[0], t[t.len() - 1]), (long[0], long[99_999]), "the axis ends stay");
        assert!(t.windows(2).all(|w| w[0].0 < w[1].0), "x stays ordered");
        assert!(t.contains(&(54_321.0, 99.0)), "the spike survives");
        assert_eq!(t.iter().map(|p| p.1).fold(f64::MAX, f64::min), 0.0);
    }
}
