//! Train tab: a run's live loss per branch, validation P@5/MRR, throughput and ETA, and the
//! machine's CPU/RAM/GPU, following a run directory another process writes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Wrap};
use ratatui::Frame;

use super::dataset::format_duration;
use crate::monitor::{GpuStatus, SystemSample};
use crate::train::{MetricsRecord, TrainEvent};
use crate::tui::theme::Theme;

#[derive(Debug, Default)]
pub struct TrainTab {
    pub run_dir: Option<PathBuf>,
    pub records: Vec<MetricsRecord>,
    pub system: Option<SystemSample>,
    pub error: Option<String>,
    /// Planned epochs, from the run's config.toml (for the ETA).
    pub epochs: Option<u64>,
    /// State of a run started here (`n`): running, paused, finished, and its latest note.
    pub run_state: Option<String>,
    /// Steps planned for the run started here (for the ETA).
    pub total_steps: Option<u64>,
    /// The run form, while it is open.
    pub form: Option<super::run_form::RunForm>,
}

impl TrainTab {
    pub fn new(run_dir: Option<PathBuf>) -> Self {
        let epochs = run_dir.as_ref().and_then(|d| {
            let text = std::fs::read_to_string(d.join(crate::train::CONFIG_FILE)).ok()?;
            toml::from_str::<toml::Table>(&text).ok()?.get("epochs")?.as_integer().map(|e| e as u64)
        });
        Self { run_dir, epochs, ..Self::default() }
    }

    pub fn tick(&mut self) -> bool {
        false
    }

    pub fn on_metrics(&mut self, fresh: Vec<MetricsRecord>) {
        // A shrunk file is re-read from the start: drop steps we will see again.
        if let Some(first) = fresh.first() {
            self.records.retain(|r| r.step < first.step);
        }
        self.records.extend(fresh);
        self.error = None;
    }

    /// Shows a run started from the app, from its first step.
    pub fn attach(&mut self, run_dir: PathBuf) {
        *self = Self {
            run_dir: Some(run_dir),
            system: self.system.take(),
            run_state: Some("starting…".into()),
            ..Self::default()
        };
    }

    /// The run started here has ended (finished, stopped or failed).
    pub fn finished(&self) -> bool {
        self.error.is_some() || self.run_state.as_deref().is_some_and(|s| s.starts_with("finished"))
    }

    /// Follows a run started from this tab: its events become the same records the charts draw.
    pub fn on_training(&mut self, ev: TrainEvent) {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let epoch = self.records.last().map_or(0, |r| r.epoch);
        let record = |step, epoch| MetricsRecord {
            step,
            epoch,
            loss: None,
            branch_losses: BTreeMap::new(),
            lr: None,
            samples_per_s: None,
            p_at_5: None,
            mrr: None,
            unix_ms: now_ms,
        };
        match ev {
            TrainEvent::Started { step, total_steps, resumed } => {
                self.total_steps = Some(total_steps);
                let verb = if resumed { "resumed" } else { "running" };
                self.run_state = Some(format!("{verb}: step {step} of {total_steps}"));
            }
            TrainEvent::Note(note) => self.run_state = Some(note),
            TrainEvent::Step { step, epoch, loss, branch_losses, lr, samples_per_s } => {
                self.records.push(MetricsRecord {
                    loss: Some(loss),
                    branch_losses,
                    lr: Some(lr),
                    samples_per_s: Some(samples_per_s),
                    ..record(step, epoch)
                });
                self.run_state = Some(format!("running: step {step}"));
            }
            TrainEvent::Eval { step, epoch, p_at_5, mrr, .. } => self.records.push(MetricsRecord {
                p_at_5: Some(p_at_5),
                mrr: Some(mrr),
                ..record(step, epoch)
            }),
            TrainEvent::Checkpoint { step, path } => {
                self.run_state = Some(format!("checkpoint at step {step}: {}", path.display()))
            }
            TrainEvent::Paused => self.run_state = Some("paused (p resumes)".into()),
            TrainEvent::Resumed => self.run_state = Some("running".into()),
            TrainEvent::Finished { step } => {
                self.run_state = Some(format!("finished at step {step} (epoch {epoch})"))
            }
            TrainEvent::Error(e) => {
                self.run_state = Some("stopped by an error".into());
                self.error = Some(e);
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let [head, charts, sys] =
            Layout::vertical([Constraint::Length(4), Constraint::Min(6), Constraint::Length(5)]).areas(area);
        self.draw_head(frame, head, theme);
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
        if let Some(e) = &self.error {
            lines.push(Line::styled(e.as_str(), theme.error()));
        }
        frame.render_widget(Paragraph::new(lines).block(block), area);
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

    fn draw_loss(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for r in &self.records {
            if let Some(l) = r.loss {
                series.entry("total".into()).or_default().push((r.step as f64, l));
            }
            for (branch, l) in &r.branch_losses {
                series.entry(branch.clone()).or_default().push((r.step as f64, *l));
            }
        }
        let palette =
            [theme.accent, theme.mood("happy"), theme.mood("sad"), theme.mood("angry"), theme.mood("tender")];
        let named: Vec<Series> = series
            .into_iter()
            .enumerate()
            .map(|(i, (n, pts))| (n, palette[i % palette.len()], pts))
            .collect();
        chart(frame, area, theme, " Loss per branch ", &named);
    }

    fn draw_validation(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let p5: Vec<(f64, f64)> =
            self.records.iter().filter_map(|r| Some((r.step as f64, r.p_at_5?))).collect();
        let mrr: Vec<(f64, f64)> =
            self.records.iter().filter_map(|r| Some((r.step as f64, r.mrr?))).collect();
        if p5.is_empty() && mrr.is_empty() {
            let block = Block::bordered().title(" Validation ").title_style(theme.title());
            frame.render_widget(Paragraph::new("no validation yet").style(theme.muted()).block(block), area);
            return;
        }
        let named = vec![
            ("P@5".to_string(), theme.mood("happy"), p5),
            ("MRR".to_string(), theme.mood("exciting"), mrr),
        ];
        chart(frame, area, theme, " Validation ", &named);
    }

    fn draw_system(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
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
            GpuStatus::Devices(gpus) => lines.extend(gpus.iter().map(|g| {
                Line::from(format!(
                    "GPU{} {} · util {}% · mem {:.1}/{:.1} GiB · {} · {}",
                    g.index,
                    g.name,
                    g.utilization_pct,
                    gib(g.memory_used_bytes),
                    gib(g.memory_total_bytes),
                    g.temperature_c.map_or("temp n/a".into(), |t| format!("{t} °C")),
                    g.power_watts.map_or("power n/a".into(), |w| format!("{w:.0} W")),
                ))
            })),
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }).block(block), area);
    }
}

/// A named, coloured line of (step, value) points.
type Series = (String, Color, Vec<(f64, f64)>);

/// A braille line chart of named series with axes fitted to the data.
fn chart(frame: &mut Frame, area: Rect, theme: &Theme, title: &str, named: &[Series]) {
    let pts = named.iter().flat_map(|(_, _, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts.filter(|(x, y)| x.is_finite() && y.is_finite()) {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    let pad = ((y1 - y0) * 0.05).max(1e-6);
    let datasets = named
        .iter()
        .map(|(n, c, p)| {
            Dataset::default()
                .name(n.clone())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(*c))
                .data(p)
        })
        .collect();
    let label = |v: f64| format!("{v:.3}");
    let chart = Chart::new(datasets)
        .block(Block::bordered().title(title.to_string()).title_style(theme.title()))
        .x_axis(
            Axis::default()
                .style(theme.muted())
                .bounds([x0, x1.max(x0 + 1.0)])
                .labels([format!("{x0:.0}"), format!("step {x1:.0}")]),
        )
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
