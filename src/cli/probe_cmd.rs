//! `storyscore probe`: how well an audio trunk's features predict 4Q quadrant, valence sign and
//! arousal sign (a cross-validated linear probe beside the majority class).

use std::path::PathBuf;

use anyhow::Context as _;
use storyscore::cache::Caches;
use storyscore::data::{DatasetSpec, Modality};
use storyscore::eval::probe::{clip_features, probe, ProbeRow};
use storyscore::model::musicnn::MusicnnFeatures;
use storyscore::model::{EmotionModel, ModelConfig, Space, TrunkKind};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Music dataset with quadrants as KIND:PATH (4q).
    #[arg(long)]
    music: String,
    /// Trunk to probe, untrained (mel-stats, musicnn, musicnn-msd, musicnn-mtt, musicnn-both;
    /// a cnn is only meaningful trained: give --model)
    #[arg(long, conflicts_with = "model")]
    trunk: Option<TrunkKind>,
    /// With a musicnn trunk, which of its features (penultimate, tags, penultimate-tags, pooled, all)
    #[arg(long)]
    musicnn_features: Option<MusicnnFeatures>,
    /// Probe the trunk of this trained model instead. Its clips must not overlap the test folds
    /// (a run trained with `--fold K/N` is probed on fold K alone).
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(2..=20))]
    folds: u16,
    /// Evaluation windows per clip.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=64))]
    chunks: u16,
    #[arg(long, default_value_t = 2021)]
    seed: i64,
    /// Print {"rows": [{"target", "probe": [per fold], "majority": [per fold]}]}.
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let spec: DatasetSpec = args.music.parse()?;
    let (music, _) = spec.load(Modality::Music).with_context(|| format!("loading {}", args.music))?;
    let (model, only_fold) = match &args.model {
        Some(dir) => {
            let model = EmotionModel::load(dir, tch::Device::Cpu)
                .with_context(|| format!("loading model {}", dir.display()))?;
            (model, trained_fold(dir)?)
        }
        None => {
            let trunk = args.trunk.context("give --trunk or --model")?;
            if trunk == TrunkKind::Cnn {
                anyhow::bail!("an untrained CNN's features are random: probe a trained one with --model");
            }
            // Only the trunk is probed; a two-tagger trunk belongs to the moods space.
            let mut config = match trunk.parts() {
                1 => ModelConfig::paper(Space::Classify)?,
                _ => ModelConfig::story(&[])?,
            };
            config.set_trunk(trunk, args.musicnn_features);
            (EmotionModel::new(config, tch::Device::Cpu)?, None)
        }
    };
    let pcm = Caches::new(&ctx.dirs.cache, &ctx.config).audio();
    let (items, features) = clip_features(&model, &music, &pcm, usize::from(args.chunks))?;
    let folds = usize::from(args.folds);
    let mut rows = probe(&music, &items, &features, folds, args.seed);
    if let Some((k, n)) = only_fold {
        anyhow::ensure!(n == folds, "the model was trained for fold {k}/{n}; pass --folds {n}");
        for row in &mut rows {
            row.probe = vec![row.probe[k - 1]];
            row.majority = vec![row.majority[k - 1]];
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "clips": items.len(), "features": features.size()[1], "rows": rows })
        );
    } else {
        print!("{}", table(&rows, items.len(), features.size()[1]));
    }
    Ok(())
}

/// The fold a run directory was trained for, from its config.toml.
fn trained_fold(dir: &std::path::Path) -> anyhow::Result<Option<(usize, usize)>> {
    let path = dir.join(storyscore::train::CONFIG_FILE);
    if !path.is_file() {
        anyhow::bail!("{}: not a training run (its clips could overlap the test folds)", dir.display());
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let config: storyscore::train::TrainConfig =
        toml::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    let fold =
        config.fold.as_deref().map(storyscore::data::parse_fold).transpose().map_err(anyhow::Error::msg)?;
    fold.map(Some)
        .context(format!("{}: trained without --fold, so its clips overlap every test fold", dir.display()))
}

fn stats(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (mean, var.sqrt())
}

fn table(rows: &[ProbeRow], clips: usize, dim: i64) -> String {
    let mut out = format!("linear probe on {clips} clips ({dim} features), accuracy mean ± sd over folds\n");
    out.push_str(&format!("{:<14} {:>15} {:>15} {:>8}\n", "target", "probe", "majority", "gain"));
    for r in rows {
        let (p, ps) = stats(&r.probe);
        let (m, ms) = stats(&r.majority);
        out.push_str(&format!(
            "{:<14} {:>15} {:>15} {:>+8.3}\n",
            r.target.as_str(),
            format!("{p:.3} ± {ps:.3}"),
            format!("{m:.3} ± {ms:.3}"),
            p - m
        ));
    }
    out
}
