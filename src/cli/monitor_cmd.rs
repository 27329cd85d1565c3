//! `storyscore monitor RUN_DIR…`: the training dashboard alone, following a run directory that
//! another process writes (training runs headless; the dashboard survives SSH disconnects), or
//! with `--json` / `--once` its headless twin for scripts and plain SSH pipes.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use storyscore::monitor::{Collector, CollectorConfig};
use storyscore::train::follow::RunFollower;
use storyscore::train::run_status::Observed;
use storyscore::train::MetricsRecord;

use super::Context;

#[derive(Debug, clap::Args)]
#[command(after_help = "With --json or --once the exit code is 1 when a followed run has crashed \
    (its process is gone without a final record). --json ends when every followed run has ended.")]
pub struct Args {
    /// Run directories written by `storyscore train --run-dir` (the dashboard focuses the first,
    /// lists them all and overlays their loss and P@5).
    #[arg(required = true)]
    pub run_dirs: Vec<PathBuf>,
    /// One JSON object per line for each event (step, eval, state, alert, sample) instead of the
    /// dashboard; a run's history comes first.
    #[arg(long)]
    pub json: bool,
    /// Print each run's current state (a JSON object per run with --json) and exit.
    #[arg(long)]
    pub once: bool,
    /// Seconds between system samples in the --json stream (0: none).
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub sample_every: u64,
}

const POLL: Duration = Duration::from_millis(500);

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    for dir in &args.run_dirs {
        if !dir.is_dir() {
            anyhow::bail!("run directory {} does not exist", dir.display());
        }
    }
    if !args.json && !args.once {
        storyscore::tui::run_monitor(ctx.dirs.clone(), ctx.config.clone(), args.run_dirs.clone())?;
        return Ok(());
    }
    let mut runs: Vec<RunFollower> =
        args.run_dirs.iter().map(|d| RunFollower::new(d, ctx.config.alerts.clone())).collect();
    let mut out = std::io::stdout().lock();
    if args.once {
        for run in &mut runs {
            let update = run.poll()?;
            let summary = summary(run, update.alerts.len());
            let line = if args.json { summary.to_string() } else { table_line(&summary) };
            if writeln!(out, "{line}").is_err() {
                return Ok(());
            }
        }
        return crashed(&runs);
    }
    let collector = match args.sample_every {
        0 => None,
        secs => {
            let config = CollectorConfig { interval: Duration::from_secs(secs), history_len: 1 };
            Some(Collector::spawn(config)?)
        }
    };
    let mut next_poll = Instant::now();
    loop {
        let mut lines = Vec::new();
        if let Some((_, samples)) = &collector {
            while let Ok(sample) = samples.try_recv() {
                lines.push(tagged("", "sample", &sample));
            }
        }
        if Instant::now() >= next_poll {
            next_poll += POLL;
            for run in &mut runs {
                let dir = run.dir().display().to_string();
                let update = run.poll()?;
                lines.extend(update.records.iter().map(|r| tagged(&dir, record_kind(r), r)));
                lines.extend(update.alerts.iter().map(|a| tagged(&dir, "alert", a)));
                if let Some((state, status)) = &update.state {
                    lines.push(json!({"run": dir, "event": "state", "state": state, "status": status}));
                }
            }
        }
        for line in lines {
            if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                return Ok(()); // the reader went away (`| head`, a closed SSH pipe)
            }
        }
        if runs.iter().all(|r| r.state().is_some_and(ended)) {
            return crashed(&runs);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn ended(state: Observed) -> bool {
    matches!(state, Observed::Finished | Observed::Stopped | Observed::Failed | Observed::Crashed)
}

fn crashed(runs: &[RunFollower]) -> anyhow::Result<()> {
    let dead: Vec<String> = runs
        .iter()
        .filter(|r| r.state() == Some(Observed::Crashed))
        .map(|r| r.dir().display().to_string())
        .collect();
    if dead.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("crashed (process gone without a final record): {}", dead.join(", "))
    }
}

fn record_kind(r: &MetricsRecord) -> &'static str {
    if r.p_at_5.is_some() {
        "eval"
    } else {
        "step"
    }
}

/// `value`'s fields with `run` and `event` added.
fn tagged(run: &str, event: &str, value: &impl serde::Serialize) -> Value {
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        if !run.is_empty() {
            map.insert("run".into(), run.into());
        }
        map.insert("event".into(), event.into());
    }
    v
}

/// A run's state now: step, best validation, last loss and alerts.
fn summary(run: &RunFollower, alerts: usize) -> Value {
    let records = run.records();
    let best = records
        .iter()
        .filter(|r| r.p_at_5.is_some())
        .max_by(|a, b| a.p_at_5.unwrap_or(0.0).total_cmp(&b.p_at_5.unwrap_or(0.0)));
    let status = storyscore::train::run_status::read_status(run.dir());
    json!({
        "run": run.dir(),
        "state": run.state().unwrap_or(Observed::Unknown),
        "step": records.last().map(|r| r.step),
        "total_steps": status.as_ref().map(|s| s.total_steps),
        "loss": records.iter().rev().find_map(|r| r.loss),
        "best_p_at_5": best.and_then(|r| r.p_at_5),
        "best_mrr": best.and_then(|r| r.mrr),
        "best_step": best.map(|r| r.step),
        "alerts": alerts,
        "message": status.and_then(|s| s.message),
    })
}

fn table_line(s: &Value) -> String {
    let num = |k: &str, digits: usize| s[k].as_f64().map_or("–".into(), |v| format!("{v:.digits$}"));
    let mut line = format!(
        "{}  {}  step {}/{}  loss {}  best P@5 {} (MRR {}, step {})  alerts {}",
        s["run"].as_str().unwrap_or(""),
        s["state"].as_str().unwrap_or(""),
        num("step", 0),
        num("total_steps", 0),
        num("loss", 4),
        num("best_p_at_5", 3),
        num("best_mrr", 3),
        num("best_step", 0),
        s["alerts"]
    );
    if let Some(m) = s["message"].as_str() {
        line.push_str(&format!("  — {m}"));
    }
    line
}
