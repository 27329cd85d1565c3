//! Command-line interface: every action of the app has a scriptable twin here.
//!
//! Each command lives in its own file with an `Args` struct and a `run` function.

mod cache_cmd;
mod config_cmd;
mod data_cmd;
mod eval_cmd;
mod import_cmd;
mod index_cmd;
mod monitor_cmd;
mod probe_cmd;
mod search_cmd;
mod soundtrack_cmd;
mod train_cmd;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use storyscore::config::{Config, Dirs};

#[derive(Debug, Parser)]
#[command(
    name = "storyscore",
    version,
    about = "Find music that matches the emotion of a story",
    long_about = "Find music that matches the emotion of a story.\n\n\
        With no command, opens the terminal app on the configured music library \
        (default: the built-in Wesnoth soundtrack installed by scripts/setup).",
    after_help = "Exit codes: 0 ok, 2 usage error, 1 any other error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what each cache holds (decoded audio, musicnn and text features), or clear them.
    Cache(cache_cmd::Args),
    /// Show or create the configuration file and the directories in use.
    Config(config_cmd::Args),
    /// Inspect datasets (`data stats KIND:PATH`).
    #[command(subcommand_required = true)]
    Data(data_cmd::Args),
    /// Evaluate models on a test split beside the random and label-prior baselines (the
    /// progress of clip features not yet cached goes to stderr).
    Eval(eval_cmd::Args),
    /// Convert an authors' Lightning checkpoint (.ckpt) into a model directory.
    Import(import_cmd::Args),
    /// Embed the audio files of music folders into an index (incremental).
    Index(index_cmd::Args),
    /// Follow a training run directory in the dashboard (the Train tab alone).
    Monitor(monitor_cmd::Args),
    /// How well an audio trunk's features predict 4Q quadrant, valence and arousal (linear probe).
    Probe(probe_cmd::Args),
    /// Rank the clips of an index by how well their mood fits a text (or another clip).
    Search(search_cmd::Args),
    /// Pick a clip for every passage of a story, following its emotional arc.
    Soundtrack(soundtrack_cmd::Args),
    /// Train an emotion space into a run directory.
    Train(Box<train_cmd::Args>),
}

/// What every command gets: the resolved directories and the loaded config.
pub struct Context {
    pub dirs: Dirs,
    pub config: Config,
}

impl Context {
    pub fn load() -> anyhow::Result<Self> {
        let dirs = Dirs::resolve()?;
        let config = Config::load(&dirs.config_file)?;
        Ok(Self { dirs, config })
    }

    /// The searcher of the index a command searches: `--index` when given, else the one the app
    /// searches (the configured library's, kept up to date each time the app opens). That one
    /// is made first when it does not exist yet, and made again when the default model has
    /// changed since (a new release's model), as the app does at launch.
    pub fn searcher(&self, given: Option<PathBuf>) -> anyhow::Result<storyscore::index::Searcher> {
        use storyscore::index::{SearchError, Searcher};
        use storyscore::tui::engine::Plan;
        let device = self.config.tch_device();
        let open = |dir: &std::path::Path| {
            Searcher::open(dir, device).with_context(|| format!("cannot open index {}", dir.display()))
        };
        if let Some(dir) = given {
            return open(&dir);
        }
        let dir = self.dirs.default_index();
        let exists = storyscore::index::ClipIndex::exists(&dir);
        if exists {
            match Searcher::open(&dir, device) {
                Err(SearchError::ModelChanged { .. }) => {}
                other => return other.with_context(|| format!("cannot open index {}", dir.display())),
            }
        }
        match Plan::of(&self.dirs, &self.config) {
            Plan::Index { model_dir, libraries, index_dir } => {
                if exists {
                    eprintln!("the default index was made by an earlier default model: making it again");
                    storyscore::index::remove_index(&index_dir)?;
                }
                index_cmd::index_library_once(self, &model_dir, &libraries, &index_dir)?;
                open(&index_dir)
            }
            Plan::Open { index_dir } => open(&index_dir),
            Plan::Unavailable(why) => {
                let why = why
                    .chars()
                    .next()
                    .map_or(String::new(), |c| c.to_lowercase().chain(why.chars().skip(1)).collect());
                anyhow::bail!("no --index given and no default index at {}: {why}", dir.display())
            }
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Context::load()?;
    match cli.command {
        None => {
            // C libraries (ALSA, libtorch) write to fd 2 directly; keep that off the app's screen.
            let _stderr = storyscore::logging::StderrToLog::capture(&ctx.dirs.log_file());
            Ok(storyscore::tui::run(ctx.dirs, ctx.config)?)
        }
        Some(Command::Cache(args)) => cache_cmd::run(&ctx, args),
        Some(Command::Config(args)) => config_cmd::run(&ctx, args),
        Some(Command::Data(args)) => data_cmd::run(&ctx, args),
        Some(Command::Eval(args)) => eval_cmd::run(&ctx, args),
        Some(Command::Import(args)) => import_cmd::run(&ctx, args),
        Some(Command::Index(args)) => index_cmd::run(&ctx, args),
        Some(Command::Probe(args)) => probe_cmd::run(&ctx, args),
        Some(Command::Search(args)) => search_cmd::run(&ctx, args),
        Some(Command::Soundtrack(args)) => soundtrack_cmd::run(&ctx, args),
        Some(Command::Monitor(args)) => {
            let _stderr = storyscore::logging::StderrToLog::capture(&ctx.dirs.log_file());
            monitor_cmd::run(&ctx, args)
        }
        Some(Command::Train(args)) => train_cmd::run(&ctx, *args),
    }
}
