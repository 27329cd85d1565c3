//! `storyscore search [--index DIR] [--top K] [--json] [--per-sentence] [--like FILE] TEXT`.

use std::path::PathBuf;

use storyscore::index::{clock, QueryMode, SearchResults};
use storyscore::model::Space;
use storyscore::text::StoryText;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Index directory written by `storyscore index` (default: the index the app searches, of
    /// the library in config.toml; built when missing, rebuilt after a default model update).
    #[arg(long)]
    index: Option<PathBuf>,
    /// How many clips to list.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    top: u32,
    /// Print JSON: {"query", "space", "query_moods", "query_quadrant" (moods space: the quadrant
    /// the text leans to), "results": [{"rank", "score", "path", "moods", "preview_start_s",
    /// "sounds_like" (musicnn models: tag probabilities), "stands_out" (moods the clip has more of
    /// than the library's average clip, and how many times)}, ...], "notices"} (docs/json.md).
    #[arg(long)]
    json: bool,
    /// Average the embeddings of the sentences instead of embedding the passage as a whole.
    #[arg(long)]
    per_sentence: bool,
    /// Music to music: rank clips by their fit to this audio file instead of a text.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["text", "per_sentence"])]
    like: Option<PathBuf>,
    /// The story or sentence; `-` reads stdin.
    #[arg(required_unless_present = "like")]
    text: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    if ctx.config.threads > 0 {
        tch::set_num_threads(ctx.config.threads as i32);
    }
    let k = args.top as usize;
    // Read and check the text before loading anything heavy.
    let story = args.text.as_deref().map(StoryText::from_arg).transpose()?;
    let searcher = ctx.searcher(args.index)?;
    let results = match (&args.like, story) {
        (Some(file), _) => searcher.like(file, k)?,
        (None, Some(story)) => {
            let mode = if args.per_sentence { QueryMode::PerSentence } else { QueryMode::Whole };
            searcher.search_with(story.as_str(), k, mode)?
        }
        (None, None) => anyhow::bail!("give a TEXT to search for, or --like FILE"),
    };
    for notice in &results.notices {
        eprintln!("note: {notice}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        print!("{}", table(&results));
    }
    Ok(())
}

fn moods_text(moods: &[(String, f32)]) -> String {
    moods.iter().map(|(m, s)| format!("{m} {s:.2}")).collect::<Vec<_>>().join(", ")
}

/// The human-readable answer: the query's moods, then rank, score, preview start, title and moods
/// per clip.
fn table(r: &SearchResults) -> String {
    let score_name = match r.space {
        Space::Va => "−dist",
        Space::Classify | Space::Moods => "fit",
        _ => "cosine",
    };
    let query: String = r.query.chars().take(70).collect();
    let ellipsis = if r.query.chars().count() > 70 { "…" } else { "" };
    let mut out = format!("query \"{query}{ellipsis}\" ({} space)\n", r.space);
    out.push_str(&format!("  reads as: {}\n", moods_text(&r.query_moods)));
    if let Some(q) = &r.query_quadrant {
        out.push_str(&format!("  leaning:  {}\n", q.text()));
    }
    out.push('\n');
    if r.results.is_empty() {
        out.push_str("the index has no clips\n");
        return out;
    }
    let title_width = r.results.iter().map(|h| h.title.chars().count()).max().unwrap_or(5).clamp(5, 40);
    out.push_str(&format!(
        "{:>3}  {:>7}  {:>5}  {:<title_width$}  moods\n",
        "#", score_name, "from", "title"
    ));
    for h in &r.results {
        let title: String = h.title.chars().take(title_width).collect();
        out.push_str(&format!(
            "{:>3}  {:>7.3}  {:>5}  {:<title_width$}  {}\n     {}\n",
            h.rank,
            h.score,
            clock(h.preview_start_s),
            title,
            moods_text(&h.moods),
            h.path.display()
        ));
        if let Some(heard) = storyscore::index::sounds_like_text(&h.sounds_like) {
            out.push_str(&format!("     sounds like: {heard}\n"));
        }
        if let Some(apart) = storyscore::index::stands_out_text(&h.stands_out) {
            out.push_str(&format!("     stands out here: {apart}\n"));
        }
    }
    out
}
