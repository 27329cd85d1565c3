use std::path::PathBuf;

use anyhow::Context as _;
use storyscore::config::{write_atomic, Config};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write the documented default config file (refuses to overwrite an existing one).
    #[arg(long)]
    init: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let file: &PathBuf = &ctx.dirs.config_file;
    if args.init {
        if file.exists() {
            anyhow::bail!("{} already exists; edit it or remove it first", file.display());
        }
        write_atomic(file, Config::default_toml().as_bytes())
            .with_context(|| format!("cannot write {}", file.display()))?;
        println!("wrote {}", file.display());
        return Ok(());
    }
    println!(
        "config file  {}{}",
        file.display(),
        if file.exists() { "" } else { "  (not present: defaults)" }
    );
    println!("data dir     {}", ctx.dirs.data.display());
    println!("cache dir    {}", ctx.dirs.cache.display());
    println!("log file     {}", ctx.dirs.log_file().display());
    println!();
    print!("{}", toml::to_string_pretty(&ctx.config)?);
    Ok(())
}
