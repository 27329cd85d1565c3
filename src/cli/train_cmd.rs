//! `storyscore train`: trains one space in a run directory, printing the trainer's events.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context as _;
use storyscore::model::Space;
use storyscore::train::{Naming, TrainCommand, TrainConfig, TrainEvent, TrainRequest, Trainer};

use super::Context;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "The run directory gets status.json (running, paused, finished, stopped, failed) and \
    alerts.jsonl (thresholds: [alerts] in the config); follow it with `storyscore monitor DIR` \
    (or --json). Ctrl-C stops after the current step (continue with --resume); a second Ctrl-C \
    quits at once. One trainer per run directory."
)]
pub struct Args {
    /// Emotion space: three-branch, two-branch, va, w2v, classify (the paper's five) or moods
    /// (twelve story moods with their quadrants; beyond the paper).
    #[arg(long, default_value = "three-branch")]
    space: Space,
    /// Text dataset as KIND:PATH (isear, goemotions, emobank, ttm); several join with +
    /// (isear:A+goemotions:B+emobank:C).
    #[arg(long)]
    text: String,
    /// Music dataset as KIND:PATH (4q, ttm, folder).
    #[arg(long)]
    music: String,
    /// Run directory (config.toml, metrics.jsonl, checkpoints/, best.safetensors).
    #[arg(long)]
    run_dir: PathBuf,
    /// Passes over the training texts.
    #[arg(long, default_value_t = 200)]
    epochs: u64,
    /// Stop after this many steps in total.
    #[arg(long)]
    steps: Option<u64>,
    /// Continue the run in --run-dir from its last checkpoint.
    #[arg(long)]
    resume: bool,
    /// cpu or cuda (falls back to CPU with a note when no GPU is usable).
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "cuda"])]
    device: String,
    /// Keep the text encoder frozen and cache its outputs (the default).
    #[arg(long, conflicts_with = "fine_tune_text")]
    freeze_text: bool,
    /// Train the text encoder with the heads (slow without a GPU).
    #[arg(long)]
    fine_tune_text: bool,
    /// Validate every N steps (default: once per epoch).
    #[arg(long, default_value_t = 0)]
    eval_every: u64,
    /// Write a checkpoint every N steps (default: once per epoch).
    #[arg(long, default_value_t = 0)]
    checkpoint_every: u64,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-4)]
    lr: f64,
    /// Text → song-mood mapper pairing training positives: w2v (the original loader's) or va.
    #[arg(long, default_value = "w2v")]
    train_mapper: String,
    /// Text pooling: mean (MiniLM's own sentence embedding) or cls (the paper's first token).
    #[arg(long, default_value = "mean", value_parser = ["mean", "cls"])]
    pooling: String,
    /// Audio trunk: cnn (the paper's; seconds per step on a CPU), mel-stats (per-band
    /// statistics of the log-mel; trains in minutes on a CPU), musicnn / musicnn-msd /
    /// musicnn-mtt (the pretrained taggers, frozen; their features are computed once per clip
    /// and cached), or musicnn-both (both taggers, a song head on each, their mood
    /// distributions averaged; --space moods)
    #[arg(long, default_value = "cnn")]
    audio_trunk: storyscore::model::TrunkKind,
    /// With a musicnn trunk, what the song head sees: penultimate (200), tags (50),
    /// penultimate-tags, pooled (1506) or all
    #[arg(long)]
    musicnn_features: Option<storyscore::model::musicnn::MusicnnFeatures>,
    /// Cross-validation: hold out fold K of N (texts and clips, stratified, no item in two folds)
    /// as the test split, e.g. 2/5; `scripts/cv` runs every fold and averages `eval`
    #[arg(long, value_name = "K/N", value_parser = |s: &str| storyscore::data::parse_fold(s).map(|_| s.to_string()))]
    fold: Option<String>,
    /// Moods space: draw training texts label-balanced (each first label, and the unlabelled
    /// rated texts as one group, equally often) instead of uniformly
    #[arg(long)]
    balance_labels: bool,
    /// Draw each part of a joined --text (isear:A+goemotions:B) with total weight proportional to
    /// its size to this power: 1 every text alike, 0 every dataset alike (0 to 1)
    #[arg(long, default_value_t = 1.0, value_name = "P")]
    dataset_power: f64,
    /// Moods space: share of training text draws given to the mood lexicon (the mood words and
    /// AllMusic tags of data/story_moods.json), 0 to 0.9; none by default
    #[arg(long, default_value_t = 0.0)]
    lexicon_share: f64,
    /// Moods space: the quadrant a labelled text learns: the NRC-VAD quadrant of its labels
    /// (nrc), or that of their moods (moods: love → tender → Q4), or a soft split by how far
    /// their mean NRC-VAD point is from each midline (soft)
    #[arg(long, default_value = "nrc", value_parser = ["nrc", "moods", "soft"])]
    text_quadrants: String,
    /// Moods space: a rated text's (EmoBank's) valence–arousal target: its rating as it is
    /// (raw), or stretched about the ratings' mean to the spread of the labelled texts' NRC-VAD
    /// points (stretched; annotators rate sentences in a narrow band)
    #[arg(long, default_value = storyscore::train::DEFAULT_RATINGS.as_str(), value_parser = ["raw", "stretched"])]
    ratings: String,
    /// Moods space: match with a text's mood probabilities divided by the text head's mean over
    /// its training texts to this power (0: as the head reads them; 1: fully rebalanced), so
    /// rare moods (calm, peaceful, sad) are not drowned by frequent ones
    #[arg(long, default_value_t = storyscore::train::DEFAULT_PRIOR_POWER)]
    prior_power: f64,
    /// Moods space: match with a clip's mood probabilities divided by the song side's mean over
    /// its training clips to this power (0: off), so a mood few clips had (scary) is not
    /// outvoted by the frequent ones
    #[arg(long, default_value_t = storyscore::train::DEFAULT_SONG_PRIOR_POWER)]
    song_prior_power: f64,
    /// Moods space: share of a text's mood distribution taken from the encoder alone, by its
    /// similarity to each mood word (0 to 1; carries the mood words to prose unlike the training
    /// texts)
    #[arg(long, default_value_t = storyscore::train::DEFAULT_ZERO_SHOT_WEIGHT)]
    zero_shot_weight: f64,
    /// Moods space: temperature of that similarity's softmax (above 0, at most 10)
    #[arg(long, default_value_t = storyscore::train::DEFAULT_ZERO_SHOT_TEMPERATURE)]
    zero_shot_temperature: f64,
    /// Moods space: train K heads per branch, each from its own random start, and match with
    /// their mean mood distribution (1 to 16)
    #[arg(long, default_value_t = 1, value_name = "K")]
    members: usize,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, default_value_t = 2021)]
    seed: u64,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    if args.device == "cuda" && !tch::Cuda::is_available() {
        eprintln!("note: --device cuda asked for, but libtorch sees no GPU; training on CPU");
    }
    let mut config =
        TrainConfig::new(args.space, &args.text, &args.music, ctx.dirs.minilm(), ctx.dirs.glove());
    config.epochs = args.epochs;
    config.max_steps = args.steps;
    config.device = args.device.clone();
    config.freeze_text = !args.fine_tune_text;
    config.eval_every = args.eval_every;
    config.checkpoint_every = args.checkpoint_every;
    config.learning_rate = args.lr;
    config.train_mapper = args.train_mapper.clone();
    config.text_pooling = args.pooling.clone();
    config.audio_trunk = args.audio_trunk;
    config.musicnn_features = args.musicnn_features;
    config.fold = args.fold.clone();
    config.balance_labels = args.balance_labels;
    config.dataset_power = args.dataset_power;
    config.lexicon_share = args.lexicon_share;
    config.text_quadrants = args.text_quadrants.parse().map_err(anyhow::Error::msg)?;
    config.ratings = args.ratings.parse().map_err(anyhow::Error::msg)?;
    config.prior_power = args.prior_power;
    config.song_prior_power = args.song_prior_power;
    config.zero_shot_weight = args.zero_shot_weight;
    config.zero_shot_temperature = args.zero_shot_temperature;
    config.members = args.members;
    config.batch_size = args.batch_size;
    config.seed = args.seed;
    config.check(Naming::Flags)?;
    let request = TrainRequest {
        run_dir: args.run_dir.clone(),
        config,
        resume: args.resume,
        alerts: ctx.config.alerts.clone(),
    };
    let trainer = Trainer::spawn(request).context("starting the trainer")?;
    stop_on_signals(trainer.commands())?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} steps {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let say = |line: String| match &bar {
        Some(b) => b.println(line),
        None => eprintln!("{line}"),
    };
    let mut failure = None;
    let mut total = 0;
    for event in trainer.events().iter() {
        match event {
            TrainEvent::Started { step, total_steps, resumed } => {
                total = total_steps;
                if let Some(b) = &bar {
                    b.set_length(total_steps);
                    b.set_position(step);
                }
                say(format!(
                    "{} at step {step} of {total_steps}",
                    if resumed { "resuming" } else { "starting" }
                ));
            }
            TrainEvent::Note(n) => say(n),
            TrainEvent::Step { step, epoch, loss, branch_losses, samples_per_s, .. } => {
                let branches: Vec<String> =
                    branch_losses.iter().map(|(k, v)| format!("{k} {v:.4}")).collect();
                let line = format!("loss {loss:.4} ({}) {samples_per_s:.1} samples/s", branches.join(", "));
                match &bar {
                    Some(b) => {
                        b.set_position(step);
                        b.set_message(line);
                    }
                    None => eprintln!("step {step} epoch {epoch} {line}"),
                }
            }
            TrainEvent::Eval { step, p_at_5, mrr, best, .. } => say(format!(
                "valid step {step}: P@5 {p_at_5:.4} MRR {mrr:.4}{}",
                if best { " (best)" } else { "" }
            )),
            TrainEvent::Checkpoint { step, path } => {
                say(format!("checkpoint step {step}: {}", path.display()))
            }
            TrainEvent::Alert(a) => say(format!("alert: {}", a.message)),
            TrainEvent::Paused => say("paused".into()),
            TrainEvent::Resumed => say("resumed".into()),
            TrainEvent::Finished { step } if step < total => {
                say(format!(
                    "stopped at step {step} of {total}; continue with --resume (run directory {})",
                    args.run_dir.display()
                ));
                break;
            }
            TrainEvent::Finished { step } => {
                say(format!("finished at step {step}; run directory {}", args.run_dir.display()));
                break;
            }
            TrainEvent::Error(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    trainer.join();
    match failure {
        Some(e) => anyhow::bail!("training stopped: {e}"),
        None => Ok(()),
    }
}

/// Ctrl-C or SIGTERM stops the run after its current step (a checkpoint-consistent end whose
/// status says "stopped"); a second one ends the process at once.
fn stop_on_signals(commands: crossbeam_channel::Sender<TrainCommand>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let pressed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(sig, 130, pressed.clone())?;
    }
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new().name("train-signals".into()).spawn(move || {
        if signals.forever().next().is_some() {
            pressed.store(true, std::sync::atomic::Ordering::SeqCst);
            eprintln!("stopping after this step (again to quit at once)");
            let _ = commands.send(TrainCommand::Stop);
        }
    })?;
    Ok(())
}
