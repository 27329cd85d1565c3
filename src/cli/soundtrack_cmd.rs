//! `storyscore soundtrack [--index DIR] [--json] [--m3u OUT] FILE`: a clip for every passage.

use std::path::PathBuf;

use anyhow::Context as _;
use storyscore::config::write_atomic;
use storyscore::index::{clock, soundtrack, Soundtrack};
use storyscore::text::StoryText;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Index directory written by `storyscore index` (default: the index the app searches, of
    /// the library in config.toml; built when missing, rebuilt after a default model update).
    #[arg(long)]
    index: Option<PathBuf>,
    /// Print JSON: {"passages": [{"start", "text", "moods", "quadrant" (moods space), "clip",
    /// "score", "preview_start_s", "sounds_like", "stands_out"}, ...]} (docs/json.md).
    #[arg(long)]
    json: bool,
    /// Also write the clips as an M3U playlist, in story order.
    #[arg(long, value_name = "OUT")]
    m3u: Option<PathBuf>,
    /// The story, a UTF-8 text file; `-` reads stdin. Blank lines separate passages.
    file: PathBuf,
}

/// Characters of a passage shown in the timeline table.
const SHOWN_CHARS: usize = 48;

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    if ctx.config.threads > 0 {
        tch::set_num_threads(ctx.config.threads as i32);
    }
    let story = if args.file.as_os_str() == "-" {
        StoryText::from_reader(std::io::stdin().lock(), "stdin")?
    } else {
        StoryText::from_file(&args.file)?
    };
    let searcher = ctx.searcher(args.index)?;
    let track = soundtrack(&searcher, &story)?;
    for notice in &track.notices {
        eprintln!("note: {notice}");
    }
    if let Some(path) = &args.m3u {
        write_atomic(path, track.m3u().as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&track)?);
    } else {
        print!("{}", timeline(&track));
    }
    Ok(())
}

fn timeline(track: &Soundtrack) -> String {
    if track.passages.is_empty() {
        return "no passages matched: the index has no clips\n".into();
    }
    let mut out = format!(
        "{:>3}  {:>6}  {:<SHOWN_CHARS$}  {:>6}  {:>5}  clip (passage moods)\n",
        "#", "start", "passage", "score", "from"
    );
    for (i, p) in track.passages.iter().enumerate() {
        let mut text: String = p.text.chars().take(SHOWN_CHARS).collect();
        if p.text.chars().count() > SHOWN_CHARS {
            text.pop();
            text.push('…');
        }
        let mut moods = p.moods.iter().map(|(m, s)| format!("{m} {s:.2}")).collect::<Vec<_>>().join(", ");
        if let Some(q) = &p.quadrant {
            moods.push_str(&format!("; leaning {}", q.quadrant));
        }
        out.push_str(&format!(
            "{:>3}  {:>6}  {:<SHOWN_CHARS$}  {:>6.3}  {:>5}  {} ({moods})\n",
            i + 1,
            p.start,
            text,
            p.score,
            clock(p.preview_start_s),
            p.title
        ));
        if let Some(heard) = storyscore::index::sounds_like_text(&p.sounds_like) {
            out.push_str(&format!("{:>17}sounds like: {heard}\n", ""));
        }
        if let Some(apart) = storyscore::index::stands_out_text(&p.stands_out) {
            out.push_str(&format!("{:>17}stands out here: {apart}\n", ""));
        }
    }
    out
}
