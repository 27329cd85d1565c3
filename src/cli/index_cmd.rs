//! `storyscore index [--model DIR] LIBRARY… [--out INDEX_DIR] [--json]`: embed a music library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use storyscore::index::{
    build_index, default_index_dir, DamagePolicy, IndexEvent, IndexOptions, IndexReport,
};
use storyscore::model::{EmotionModel, WindowMode};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model directory (model.toml + model.safetensors), run directory, or authors' .ckpt
    /// (default: the default model, the one the app uses).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Music folders (searched recursively for wav, flac, ogg, mp3, npy) or single files.
    #[arg(required = true, value_name = "LIBRARY")]
    libraries: Vec<PathBuf>,
    /// Index directory (default: under the data dir's indexes/, named after library and model).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Cut and embed each of a clip's 16 windows alone, as the paper's evaluation does, instead
    /// of letting overlapping windows share the trunk's first layers (about 3× slower).
    #[arg(long)]
    exact_windows: bool,
    /// What to do with a file that decodes only in part (cut short, damaged packets): index
    /// what decodes and warn, or skip it.
    #[arg(long, value_enum, default_value = "keep", value_name = "POLICY")]
    on_damaged: OnDamaged,
    /// When another storyscore process is writing this index, exit with a message instead of
    /// waiting for it to finish.
    #[arg(long)]
    no_wait: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum OnDamaged {
    Keep,
    Skip,
}

/// Skipped files listed one by one before the rest are only counted.
const SHOWN_SKIPPED: usize = 20;

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    if ctx.config.threads > 0 {
        tch::set_num_threads(ctx.config.threads as i32);
    }
    let device = ctx.config.tch_device();
    let model_dir = args.model.clone().unwrap_or_else(|| ctx.dirs.default_model());
    let model = EmotionModel::load(&model_dir, device)
        .with_context(|| format!("cannot load model {}", model_dir.display()))?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_index_dir(&ctx.dirs.indexes(), &args.libraries, model.id()));

    let windows = if args.exact_windows { WindowMode::Exact } else { WindowMode::Shared };
    let on_damaged = match args.on_damaged {
        OnDamaged::Keep => DamagePolicy::Keep,
        OnDamaged::Skip => DamagePolicy::Skip,
    };
    let options = IndexOptions { windows, on_damaged, wait: !args.no_wait, ..IndexOptions::default() };
    let show_bar = std::io::stderr().is_terminal() && !args.json;
    let (report, wall_s) = build_following(&model, &model_dir, &args.libraries, &out, options, show_bar)?;

    if args.json {
        let listed = |files: &[(PathBuf, String)]| -> Vec<serde_json::Value> {
            files.iter().map(|(p, why)| serde_json::json!({"path": p, "reason": why})).collect()
        };
        let value = serde_json::json!({
            "index": out,
            "model_id": model.id(),
            "clips": report.clips,
            "embedded": report.embedded,
            "reused": report.reused,
            "removed": report.removed,
            "skipped": listed(&report.skipped),
            "warnings": listed(&report.warnings),
            "wall_s": wall_s,
            "files_per_s": if wall_s > 0.0 { report.embedded as f64 / wall_s } else { 0.0 },
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_summary(&report, &out, wall_s);
    }
    Ok(())
}

/// Makes the default index of the configured library (a search before the app ever ran): the
/// progress bar and a one-line summary go to stderr, so a search's stdout stays its answer.
pub fn index_library_once(
    ctx: &Context,
    model_dir: &Path,
    libraries: &[PathBuf],
    out: &Path,
) -> anyhow::Result<()> {
    let shown: Vec<String> = libraries.iter().map(|p| p.display().to_string()).collect();
    eprintln!(
        "indexing {} with the default model, once (the app and later searches reuse it) …",
        shown.join(", ")
    );
    let model = EmotionModel::load(model_dir, ctx.config.tch_device())
        .with_context(|| format!("cannot load model {}", model_dir.display()))?;
    let show_bar = std::io::stderr().is_terminal();
    let (report, wall_s) =
        build_following(&model, model_dir, libraries, out, IndexOptions::default(), show_bar)?;
    let noun = if report.clips == 1 { "clip" } else { "clips" };
    let skipped =
        if report.skipped.is_empty() { String::new() } else { format!(", {} skipped", report.skipped.len()) };
    eprintln!("indexed {} {noun}{skipped} into {} in {wall_s:.1} s", report.clips, out.display());
    Ok(())
}

/// Runs the indexer with `options`, following its progress (a bar on stderr when `show_bar`,
/// and a line when another process holds the index) → its report and the seconds it took.
fn build_following(
    model: &EmotionModel,
    model_dir: &Path,
    libraries: &[PathBuf],
    out: &Path,
    options: IndexOptions,
    show_bar: bool,
) -> anyhow::Result<(IndexReport, f64)> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let followed = out.to_path_buf();
    let bar_thread = std::thread::spawn(move || follow(rx, show_bar, &followed));
    let options = IndexOptions { progress: Some(tx), ..options };
    let start = Instant::now();
    let result = build_index(model, model_dir, libraries, out, &options);
    // The follower ends when the last sender (in `options`) is gone.
    drop(options);
    let _ = bar_thread.join();
    Ok((result?, start.elapsed().as_secs_f64()))
}

fn print_summary(report: &IndexReport, out: &std::path::Path, wall_s: f64) {
    let noun = if report.clips == 1 { "clip" } else { "clips" };
    println!(
        "{} {noun} in {} (embedded {}, reused {}, removed {}) in {wall_s:.1} s",
        report.clips,
        out.display(),
        report.embedded,
        report.reused,
        report.removed
    );
    print_files("skipped", &report.skipped);
    print_files("warnings for", &report.warnings);
    if report.clips > 0 {
        println!("search it: storyscore search --index {} \"a passage of your story\"", shell_quoted(out));
    }
}

/// `path` as one shell word, quoted when it needs to be.
fn shell_quoted(path: &std::path::Path) -> String {
    let text = path.display().to_string();
    shlex::try_quote(&text).map(|q| q.into_owned()).unwrap_or(text)
}

/// `skipped 3 files:` and one line per file (path once, then the reason), the rest counted.
fn print_files(heading: &str, files: &[(PathBuf, String)]) {
    if files.is_empty() {
        return;
    }
    let noun = if files.len() == 1 { "file" } else { "files" };
    println!("{heading} {} {noun}:", files.len());
    for (path, why) in files.iter().take(SHOWN_SKIPPED) {
        println!("  {}: {why}", path.display());
    }
    if files.len() > SHOWN_SKIPPED {
        println!("  … and {} more", files.len() - SHOWN_SKIPPED);
    }
}

/// Drives a progress bar (on a terminal) from the indexer's events.
fn follow(rx: crossbeam_channel::Receiver<IndexEvent>, show_bar: bool, out: &std::path::Path) {
    let mut bar: Option<ProgressBar> = None;
    for event in rx {
        match event {
            IndexEvent::Waiting { holder } => {
                eprintln!("index {} is being written by {holder}; waiting for it to finish …", out.display());
            }
            IndexEvent::Planned { to_embed, .. } if show_bar && to_embed > 0 => {
                let b = ProgressBar::new(to_embed as u64);
                if let Ok(style) = ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} clips  {elapsed} (eta {eta})  {wide_msg}",
                ) {
                    b.set_style(style);
                }
                bar = Some(b);
            }
            IndexEvent::Embedded { path, done, .. } | IndexEvent::Skipped { path, done, .. } => {
                if let Some(b) = &bar {
                    b.set_position(done as u64);
                    b.set_message(
                        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                    );
                }
            }
            IndexEvent::Finished(_) => {
                if let Some(b) = bar.take() {
                    b.finish_and_clear();
                }
            }
            _ => {}
        }
    }
}
