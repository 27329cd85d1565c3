//! `storyscore data stats KIND:PATH [--json]`: what a dataset holds.

use std::fmt::Write as _;

use storyscore::data::{DatasetSpec, DatasetSummary, RowIssue};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DataCommand {
    /// Summarise a dataset: labels, splits, text lengths, examples and skipped rows.
    Stats(StatsArgs),
}

#[derive(Debug, clap::Args)]
struct StatsArgs {
    /// The dataset as KIND:PATH; KIND is isear, goemotions, emobank, 4q, ttm, folder, manifest or library.
    #[arg(value_parser = parse_spec)]
    spec: DatasetSpec,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
    /// Also read every audio file's duration from its headers (no decoding).
    #[arg(long)]
    durations: bool,
}

fn parse_spec(s: &str) -> Result<DatasetSpec, String> {
    s.parse().map_err(|e: storyscore::data::DataError| e.to_string())
}

/// Issues listed in full before the rest are only counted.
const SHOWN_ISSUES: usize = 5;
const BAR_WIDTH: usize = 30;

pub fn run(_ctx: &Context, args: Args) -> anyhow::Result<()> {
    let DataCommand::Stats(args) = args.command;
    let loaded = args.spec.load_all()?;
    let summaries: Vec<DatasetSummary> = loaded
        .datasets
        .iter()
        .map(|d| if args.durations { d.summary().with_probed_durations(d) } else { d.summary() })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json(&summaries, &loaded.issues)?)?);
    } else {
        print!("{}", table(&args.spec, &summaries, &loaded.issues));
    }
    Ok(())
}

/// The first dataset's summary at the top level (`kind`, `items`, `labels`, `splits`, …), every
/// dataset under `datasets` (a `ttm` layout has texts and songs), and the skipped rows.
fn json(summaries: &[DatasetSummary], issues: &[RowIssue]) -> anyhow::Result<serde_json::Value> {
    let mut top = match summaries.first() {
        Some(s) => serde_json::to_value(s)?,
        None => serde_json::json!({}),
    };
    if let Some(obj) = top.as_object_mut() {
        obj.insert("datasets".into(), serde_json::to_value(summaries)?);
        obj.insert("skipped_rows".into(), issues.len().into());
        let shown: Vec<String> = issues.iter().take(SHOWN_ISSUES).map(ToString::to_string).collect();
        obj.insert("issues".into(), shown.into());
    }
    Ok(top)
}

fn table(spec: &DatasetSpec, summaries: &[DatasetSummary], issues: &[RowIssue]) -> String {
    let mut out = String::new();
    for s in summaries {
        let _ = writeln!(out, "{spec}  {} items ({:?})", s.items, s.modality);
        section(&mut out, "labels", &s.labels);
        if s.unlabelled > 0 {
            let _ = writeln!(out, "  {:<12} {:>7}", "(none)", s.unlabelled);
        }
        if !s.quadrants.is_empty() {
            section(&mut out, "quadrants", &s.quadrants);
        }
        let splits: Vec<String> = s.splits.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "splits  {}", splits.join("  "));
        if let Some(w) = &s.text_words {
            let _ = writeln!(out, "text length (words)  min {}  median {}  max {}", w.min, w.median, w.max);
        }
        if let Some(d) = &s.durations {
            let _ = writeln!(
                out,
                "duration  total {:.1} h  min {:.1} s  median {:.1} s  max {:.1} s  ({} unreadable)",
                d.total_s / 3600.0,
                d.spread_s.min,
                d.spread_s.median,
                d.spread_s.max,
                d.failed
            );
        }
        let _ = writeln!(out, "examples");
        for e in &s.examples {
            let text: String = e.content.chars().take(90).collect();
            let _ = writeln!(out, "  {} [{}] {text}", e.id, e.labels.join(", "));
        }
        out.push('\n');
    }
    if !issues.is_empty() {
        let _ = writeln!(out, "skipped rows: {}", issues.len());
        for issue in issues.iter().take(SHOWN_ISSUES) {
            let _ = writeln!(out, "  {issue}");
        }
        if issues.len() > SHOWN_ISSUES {
            let _ = writeln!(out, "  … and {} more", issues.len() - SHOWN_ISSUES);
        }
    }
    out
}

fn section(out: &mut String, title: &str, counts: &std::collections::BTreeMap<String, usize>) {
    let _ = writeln!(out, "{title}");
    let max = counts.values().copied().max().unwrap_or(0).max(1);
    for (label, n) in counts {
        let bar = "█".repeat((n * BAR_WIDTH).div_ceil(max));
        let _ = writeln!(out, "  {label:<12} {n:>7}  {bar}");
    }
}
