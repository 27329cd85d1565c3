//! `storyscore monitor RUN_DIR`: the training dashboard alone, following a run directory that
//! another process writes (training runs headless; the dashboard survives SSH disconnects).

use std::path::PathBuf;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run directory written by `storyscore train --run-dir` (holds metrics.jsonl).
    pub run_dir: PathBuf,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    if !args.run_dir.is_dir() {
        anyhow::bail!("run directory {} does not exist", args.run_dir.display());
    }
    storyscore::tui::run_monitor(ctx.dirs.clone(), ctx.config.clone(), args.run_dir)?;
    Ok(())
}
