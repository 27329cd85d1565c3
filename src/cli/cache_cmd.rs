use storyscore::cache::{Caches, Kind, Usage};

use super::Context;

#[derive(Debug, clap::Args)]
#[command(after_help = "Every cache is derived data: a cleared cache is recomputed when next needed. \
    The decoded-audio limit is `audio_cache_gb` in the config file (default 2; 0 turns it off).")]
pub struct Args {
    /// Remove the caches' contents: all of them, or one (audio, musicnn, text).
    #[arg(long, value_name = "CACHE", num_args = 0..=1, default_missing_value = "all")]
    clear: Option<String>,
    /// One JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let caches = Caches::new(&ctx.dirs.cache, &ctx.config);
    let kinds: Vec<Kind> = match args.clear.as_deref() {
        None | Some("all") => Kind::ALL.to_vec(),
        Some(name) => vec![name.parse()?],
    };
    let rows: Vec<Usage> = if args.clear.is_some() {
        kinds.iter().map(|&k| caches.clear(k)).collect::<Result<_, _>>()?
    } else {
        kinds.iter().map(|&k| caches.usage(k)).collect()
    };
    if args.json {
        let key = if args.clear.is_some() { "cleared" } else { "caches" };
        let out = serde_json::json!({ "cache_dir": caches.root(), key: rows });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("cache dir  {}", caches.root().display());
    let verb = if args.clear.is_some() { "cleared " } else { "" };
    for (kind, row) in kinds.iter().zip(&rows) {
        let limit = row.limit_bytes.map(|l| format!("of {}", size(l))).unwrap_or_default();
        println!(
            "{:<8} {verb}{:>6} files {:>8} {limit:<11} {}",
            row.name,
            row.files,
            size(row.bytes),
            kind.describe()
        );
        if args.clear.is_none() && row.limit_bytes.is_some_and(|l| row.bytes > l) {
            println!(
                "         over its limit: the least recently used go at the next write (or --clear {})",
                row.name
            );
        }
    }
    Ok(())
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.2} GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.0} MB", b as f64 / 1e6),
        b => format!("{:.0} KB", b as f64 / 1e3),
    }
}
